//! Who may give which roles (issue 9 §4): every caller × every way roles change (and every way
//! to take over a user who holds one) × every role × the caller's own tenant and the `default`
//! tenant. A grant that is allowed answers 2xx and
//! takes effect; one that is not answers 403 and changes nothing (the row is read back).
//!
//! The rule (`runtime/src/account/grants.rs`): the admin credential and superadmins grant any
//! role; a user grants only roles they hold, never `superadmin`, and none to themselves;
//! services grant none.

mod support;

use std::fmt;

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Auth, Client, each_backend};

const ROLES: [&str; 4] = ["superadmin", "org_admin", "operator", "viewer"];
const TENANTS: [&str; 2] = ["acme", "default"];
/// What the matrix's org_admin holds: it may grant these two, not `viewer`.
const ORG_ADMIN_HOLDS: [&str; 2] = ["org_admin", "operator"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    AdminCredential,
    Superadmin,
    OrgAdmin,
    Operator,
    Viewer,
    PlainUser,
    ServiceKey,
}

const CALLERS: [Who; 7] =
    [Who::AdminCredential, Who::Superadmin, Who::OrgAdmin, Who::Operator, Who::Viewer, Who::PlainUser, Who::ServiceKey];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    CreateUser,
    UpdateOtherUser,
    UpdateSelf,
    CreateGroup,
    UpdateGroupRoles,
    JoinGroup,
    /// Not a grant, but a takeover: renaming (or re-passwording) a user who holds the role.
    UpdateHolder,
    /// Likewise: an API key for a user who holds the role acts as them.
    KeyForHolder,
}

const WAYS: [Way; 8] = [
    Way::CreateUser,
    Way::UpdateOtherUser,
    Way::UpdateSelf,
    Way::CreateGroup,
    Way::UpdateGroupRoles,
    Way::JoinGroup,
    Way::UpdateHolder,
    Way::KeyForHolder,
];

/// The expectations table: whether `who` may grant `role` (in their own tenant, or any tenant
/// for the admin credential and superadmins), and so act on a user who holds it. Operators, viewers, plain users and services may
/// not write users, groups or memberships at all; an org_admin grants what it holds, except to
/// itself, where adding a role it holds changes nothing and so is allowed.
fn may(who: Who, role: &str) -> bool {
    match who {
        Who::AdminCredential | Who::Superadmin => true,
        Who::OrgAdmin => ORG_ADMIN_HOLDS.contains(&role),
        Who::Operator | Who::Viewer | Who::PlainUser | Who::ServiceKey => false,
    }
}

/// One caller in one tenant: its credential, its own user row and the roles on it.
struct Caller {
    who: Who,
    credential: Option<String>,
    own: Option<(String, String, Vec<String>)>,
}

impl Caller {
    fn auth(&self) -> Auth<'_> {
        self.credential.as_deref().map_or(Auth::Admin, Auth::Bearer)
    }
}

/// The callers acting in `tenant`; the superadmin is always a user of `default`.
async fn callers(client: &Client<'_>, tenant: &str, superadmin: &(String, String)) -> Vec<Caller> {
    let mut callers = Vec::new();
    for who in CALLERS {
        let name = format!("{who:?}-{tenant}").to_lowercase();
        let held: &[&str] = match who {
            Who::OrgAdmin => &ORG_ADMIN_HOLDS,
            Who::Operator => &["operator"],
            Who::Viewer => &["viewer"],
            _ => &[],
        };
        let caller = match who {
            Who::AdminCredential => Caller { who, credential: None, own: None },
            Who::Superadmin => Caller {
                who,
                credential: Some(superadmin.1.clone()),
                own: Some(("default".into(), superadmin.0.clone(), vec!["superadmin".into()])),
            },
            Who::ServiceKey => {
                let service = client.post(&format!("/admin/tenants/{tenant}/services"), &json!({ "name": name })).await;
                let body = json!({ "service_id": service.str("id"), "label": "matrix" });
                let key = client.post(&format!("/admin/tenants/{tenant}/service_keys"), &body).await;
                assert_eq!(key.status, StatusCode::CREATED, "{}", key.json);
                Caller { who, credential: Some(key.str("key")), own: None }
            }
            _ => {
                let (id, token) = client.signed_in_user(tenant, &name, held).await;
                let roles = held.iter().map(|r| r.to_string()).collect();
                Caller { who, credential: Some(token), own: Some((tenant.to_owned(), id, roles)) }
            }
        };
        callers.push(caller);
    }
    callers
}

/// One cell of the matrix.
struct Case<'a> {
    tenant: &'a str,
    who: Who,
    way: Way,
    role: &'a str,
}

impl fmt::Display for Case<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<16} {:<16} role {:<10} in {:<8}",
            format!("{:?}", self.who),
            format!("{:?}", self.way),
            self.role,
            self.tenant
        )
    }
}

/// What happened.
struct Outcome {
    status: StatusCode,
    /// Whether the role was in place before the request (only ever on the caller's own row).
    before: bool,
    /// Whether it was in place afterwards, read back with the admin credential.
    after: bool,
}

/// Tries `case`; `None` when the caller has no row of its own to update.
async fn attempt(client: &Client<'_>, case: &Case<'_>, caller: &Caller, n: usize) -> Option<Outcome> {
    let Case { tenant, way, role, .. } = *case;
    let base = format!("/admin/tenants/{tenant}");
    let name = format!("t{n}");
    let send = |method: Method, path: String, body: Value| async move {
        client.json(method, &path, Some(&body), caller.auth()).await.status
    };
    Some(match way {
        Way::CreateUser => {
            let body = json!({ "username": name, "email": format!("{name}@example.com"), "password": support::USER_PASSWORD, "roles": [role] });
            let status = send(Method::POST, format!("{base}/users"), body).await;
            let found = client.get(&format!("{base}/users?username={name}")).await;
            let granted = found.json["items"].as_array().unwrap().iter().any(|u| has(&u["roles"], role));
            Outcome { status, before: false, after: granted }
        }
        Way::UpdateOtherUser => {
            let (id, _) = client.signed_in_user(tenant, &name, &[]).await;
            let status = send(Method::PATCH, format!("{base}/users/{id}"), json!({ "roles": [role] })).await;
            Outcome {
                status,
                before: false,
                after: has(&client.get(&format!("{base}/users/{id}")).await.json["roles"], role),
            }
        }
        Way::UpdateSelf => {
            let (own_tenant, id, held) = caller.own.as_ref()?;
            let before = held.iter().any(|r| r == role);
            let mut roles = held.clone();
            if !before {
                roles.push(role.to_owned());
            }
            let path = format!("/admin/tenants/{own_tenant}/users/{id}");
            let status = send(Method::PATCH, path.clone(), json!({ "roles": roles })).await;
            let after = has(&client.get(&path).await.json["roles"], role);
            // Put the row back as it was, so later cases see the caller unchanged.
            client.patch(&path, &json!({ "roles": held })).await;
            Outcome { status, before, after }
        }
        Way::CreateGroup => {
            let status = send(Method::POST, format!("{base}/groups"), json!({ "name": name, "roles": [role] })).await;
            let found = client.get(&format!("{base}/groups?name={name}")).await;
            let after = found.json["items"].as_array().unwrap().iter().any(|g| has(&g["roles"], role));
            Outcome { status, before: false, after }
        }
        Way::UpdateGroupRoles => {
            let group = client.post(&format!("{base}/groups"), &json!({ "name": name })).await.str("id");
            let status = send(Method::PATCH, format!("{base}/groups/{group}"), json!({ "roles": [role] })).await;
            let after = has(&client.get(&format!("{base}/groups/{group}")).await.json["roles"], role);
            Outcome { status, before: false, after }
        }
        Way::JoinGroup => {
            let group =
                client.post(&format!("{base}/groups"), &json!({ "name": name, "roles": [role] })).await.str("id");
            let (user, _) = client.signed_in_user(tenant, &name, &[]).await;
            let body = json!({ "group_id": group, "user_id": user });
            let status = send(Method::POST, format!("{base}/group_members"), body).await;
            let members = client.get(&format!("{base}/group_members?group_id={group}")).await;
            Outcome { status, before: false, after: !members.json["items"].as_array().unwrap().is_empty() }
        }
        Way::UpdateHolder => {
            let (id, _) = client.signed_in_user(tenant, &name, &[role]).await;
            let status = send(Method::PATCH, format!("{base}/users/{id}"), json!({ "name": "taken over" })).await;
            let after = client.get(&format!("{base}/users/{id}")).await.json["name"] == "taken over";
            Outcome { status, before: false, after }
        }
        Way::KeyForHolder => {
            let (id, _) = client.signed_in_user(tenant, &name, &[role]).await;
            let status = send(Method::POST, format!("{base}/api_keys"), json!({ "user_id": id, "label": "k" })).await;
            let keys = client.get(&format!("{base}/api_keys?user_id={id}")).await;
            Outcome { status, before: false, after: !keys.json["items"].as_array().unwrap().is_empty() }
        }
    })
}

fn has(roles: &Value, role: &str) -> bool {
    roles.as_array().is_some_and(|roles| roles.iter().any(|r| r == role))
}

#[actix_web::test]
async fn exactly_the_callers_who_hold_a_role_may_grant_it_and_only_superadmins_grant_superadmin() {
    each_backend(async |client: &Client<'_>| {
        for tenant in TENANTS {
            client.tenant(tenant).await;
        }
        let superadmin = client.signed_in_user("default", "root", &["superadmin"]).await;
        let mut wrong = Vec::new();
        let mut n = 0;
        for tenant in TENANTS {
            for caller in callers(client, tenant, &superadmin).await {
                for way in WAYS {
                    for role in ROLES {
                        n += 1;
                        let case = Case { tenant, who: caller.who, way, role };
                        let Some(Outcome { status, before, after }) = attempt(client, &case, &caller, n).await else {
                            continue;
                        };
                        let allowed = may(caller.who, role);
                        let ok = if allowed {
                            status.is_success() && after
                        } else {
                            status == StatusCode::FORBIDDEN && after == before
                        };
                        if !ok {
                            let expected = if allowed { "2xx, role in place" } else { "403, unchanged" };
                            let got = match (before, after) {
                                (false, true) => "granted",
                                (true, true) => "already held",
                                (_, false) => "not in place",
                            };
                            wrong.push(format!("{case}: expected {expected}; got {status}, {got}"));
                        }
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "[{}] {} of {n} cases wrong:\n{}", client.backend, wrong.len(), wrong.join("\n"));
    })
    .await;
}

/// The reported escalation: an org_admin of `default` tries every way to become a superadmin,
/// and still cannot read another tenant's users.
#[actix_web::test]
async fn an_org_admin_of_the_default_tenant_cannot_make_itself_a_superadmin() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("default").await;
        client.tenant("acme").await;
        client.signed_in_user("acme", "victim", &[]).await;
        let (olga, token) = client.signed_in_user("default", "olga", &["org_admin"]).await;
        let users = "/admin/tenants/default/users";
        let as_olga = |method: Method, path: String, body: Value| {
            let token = token.clone();
            async move { client.json(method, &path, Some(&body), Auth::Bearer(&token)).await }
        };

        // A new superadmin, her own roles, a group that grants it, joining one that does.
        let body = json!({ "username": "sock", "email": "sock@example.com", "password": support::USER_PASSWORD, "roles": ["superadmin"] });
        let created = as_olga(Method::POST, users.into(), body).await;
        assert_eq!(created.status, StatusCode::FORBIDDEN, "{}", created.json);
        assert!(created.json["detail"].as_str().unwrap().contains("superadmin"), "{}", created.json);
        let raised = as_olga(Method::PATCH, format!("{users}/{olga}"), json!({ "roles": ["org_admin", "superadmin"] })).await;
        assert_eq!(raised.status, StatusCode::FORBIDDEN, "{}", raised.json);
        let group = json!({ "name": "roots", "roles": ["superadmin"] });
        assert_eq!(as_olga(Method::POST, "/admin/tenants/default/groups".into(), group).await.status, StatusCode::FORBIDDEN);
        let roots = client.post("/admin/tenants/default/groups", &json!({ "name": "roots", "roles": ["superadmin"] })).await;
        let join = json!({ "group_id": roots.str("id"), "user_id": olga });
        assert_eq!(as_olga(Method::POST, "/admin/tenants/default/group_members".into(), join).await.status, StatusCode::FORBIDDEN);
        // An org_admin group she may create, but she may not join it herself.
        let admins = as_olga(Method::POST, "/admin/tenants/default/groups".into(), json!({ "name": "admins", "roles": ["org_admin"] })).await;
        assert_eq!(admins.status, StatusCode::CREATED, "{}", admins.json);
        let join = json!({ "group_id": admins.str("id"), "user_id": olga });
        assert_eq!(as_olga(Method::POST, "/admin/tenants/default/group_members".into(), join).await.status, StatusCode::FORBIDDEN);

        // Nor may she take over an existing superadmin: set their password, or make their key.
        let (root, _) = client.signed_in_user("default", "root", &["superadmin"]).await;
        let reset = as_olga(Method::PATCH, format!("{users}/{root}"), json!({ "password": "olga owns root now" })).await;
        assert_eq!(reset.status, StatusCode::FORBIDDEN, "{}", reset.json);
        let root_login = json!({ "username": "root", "password": "olga owns root now" });
        let login = client.json(Method::POST, "/default/auth/login", Some(&root_login), Auth::None).await;
        assert_eq!(login.status, StatusCode::UNAUTHORIZED, "{}", login.json);
        let key = json!({ "user_id": root, "label": "mine now" });
        let key = as_olga(Method::POST, "/admin/tenants/default/api_keys".into(), key).await;
        assert_eq!(key.status, StatusCode::FORBIDDEN, "{}", key.json);
        let keys = client.get(&format!("/admin/tenants/default/api_keys?user_id={root}")).await;
        assert!(keys.json["items"].as_array().unwrap().is_empty(), "{}", keys.json);

        // Nothing changed: she is an org_admin of `default` and nobody in acme.
        let row = client.get(&format!("{users}/{olga}")).await;
        assert_eq!(row.json["roles"], json!(["org_admin"]));
        assert!(client.get(&format!("{users}?username=sock")).await.json["items"].as_array().unwrap().is_empty());
        let members = client.get(&format!("/admin/tenants/default/group_members?user_id={olga}")).await;
        assert!(members.json["items"].as_array().unwrap().is_empty(), "{}", members.json);
        let foreign = client.json(Method::GET, "/admin/tenants/acme/users", None, Auth::Bearer(&token)).await;
        assert_eq!(foreign.status, StatusCode::FORBIDDEN);
        assert_eq!(client.json(Method::GET, "/admin/tenants", None, Auth::Bearer(&token)).await.status, StatusCode::FORBIDDEN);
    })
    .await;
}

/// A role held through a group may be granted to others, but not written onto one's own row.
#[actix_web::test]
async fn a_role_held_through_a_group_is_not_copied_onto_ones_own_account() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (olga, token) = client.signed_in_user("acme", "olga", &["org_admin"]).await;
        let ops = client.post("/admin/tenants/acme/groups", &json!({ "name": "ops", "roles": ["operator"] })).await;
        let joined = client
            .post("/admin/tenants/acme/group_members", &json!({ "group_id": ops.str("id"), "user_id": olga }))
            .await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.json);
        let path = format!("/admin/tenants/acme/users/{olga}");
        let raise = json!({ "roles": ["org_admin", "operator"] });
        let raised = client.json(Method::PATCH, &path, Some(&raise), Auth::Bearer(&token)).await;
        assert_eq!(raised.status, StatusCode::FORBIDDEN, "{}", raised.json);
        assert_eq!(client.get(&path).await.json["roles"], json!(["org_admin"]));
        // Dropping a role of one's own grants nothing; granting a held role to another is fine.
        let (bob, _) = client.signed_in_user("acme", "bob", &[]).await;
        let given = json!({ "roles": ["operator"] });
        let reply = client
            .json(Method::PATCH, &format!("/admin/tenants/acme/users/{bob}"), Some(&given), Auth::Bearer(&token))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    })
    .await;
}
