//! Who may call the admin API, as `schema.yaml`'s `auth:` rules declare: a denial for every
//! kind of rule (role, owner, tenant, superadmin, anonymous), with access tokens and API keys.

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use support::{Auth, Client, each_backend};

const PASSWORD: &str = support::USER_PASSWORD;

/// A user of `tenant` with `roles`, signed in through the account API: (id, access token).
async fn user(client: &Client<'_>, tenant: &str, name: &str, roles: &[&str]) -> (String, String) {
    client.signed_in_user(tenant, name, roles).await
}

async fn as_(client: &Client<'_>, method: Method, path: &str, body: Option<Value>, token: &str) -> StatusCode {
    client.json(method, path, body.as_ref(), Auth::Bearer(token)).await.status
}

#[actix_web::test]
async fn roles_owners_and_tenants_decide_who_may_call_each_op() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        client.tenant("globex").await;
        let (_, org_admin) = user(client, "acme", "olga", &["org_admin"]).await;
        let (_, viewer) = user(client, "acme", "vic", &["viewer"]).await;
        let (ann, plain) = user(client, "acme", "ann", &[]).await;
        let (bob, _) = user(client, "acme", "bob", &[]).await;
        let (_, foreign_admin) = user(client, "globex", "gus", &["org_admin"]).await;
        let users = "/admin/tenants/acme/users";

        // Anonymous: 401 with a challenge; a made-up token: 401.
        let anonymous = client.json(Method::GET, users, None, Auth::None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers.get("www-authenticate").is_some());
        assert_eq!(as_(client, Method::GET, users, None, "not-a-token").await, StatusCode::UNAUTHORIZED);

        // Roles: list users is org_admin/operator/viewer; creating one is org_admin only.
        assert_eq!(as_(client, Method::GET, users, None, &org_admin).await, StatusCode::OK);
        assert_eq!(as_(client, Method::GET, users, None, &viewer).await, StatusCode::OK);
        assert_eq!(as_(client, Method::GET, users, None, &plain).await, StatusCode::FORBIDDEN);
        let new_user = json!({ "username": "cy", "email": "cy@example.com", "password": PASSWORD });
        assert_eq!(as_(client, Method::POST, users, Some(new_user.clone()), &viewer).await, StatusCode::FORBIDDEN);
        assert_eq!(as_(client, Method::POST, users, Some(new_user), &org_admin).await, StatusCode::CREATED);
        // Clients: org_admin writes, viewers read, plain users neither.
        let clients = "/admin/tenants/acme/clients";
        assert_eq!(
            as_(client, Method::POST, clients, Some(json!({ "name": "x" })), &viewer).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(as_(client, Method::GET, clients, None, &viewer).await, StatusCode::OK);
        assert_eq!(as_(client, Method::GET, clients, None, &plain).await, StatusCode::FORBIDDEN);

        // Owner: a user reads their own row, and another's is a 404 as if it did not exist.
        assert_eq!(as_(client, Method::GET, &format!("{users}/{ann}"), None, &plain).await, StatusCode::OK);
        assert_eq!(as_(client, Method::GET, &format!("{users}/{bob}"), None, &plain).await, StatusCode::NOT_FOUND);
        // …and may not update it through the admin API (roles live there).
        let promote = json!({ "roles": ["org_admin"] });
        assert_eq!(
            as_(client, Method::PATCH, &format!("{users}/{ann}"), Some(promote), &plain).await,
            StatusCode::FORBIDDEN
        );

        // API keys: owners manage their own, and only their own.
        let keys = "/admin/tenants/acme/api_keys";
        let own = client
            .json(Method::POST, keys, Some(&json!({ "user_id": ann, "label": "mine" })), Auth::Bearer(&plain))
            .await;
        assert_eq!(own.status, StatusCode::CREATED, "{}", own.json);
        let theirs = json!({ "user_id": bob, "label": "not mine" });
        assert_eq!(as_(client, Method::POST, keys, Some(theirs.clone()), &plain).await, StatusCode::FORBIDDEN);
        assert_eq!(as_(client, Method::POST, keys, Some(theirs), &org_admin).await, StatusCode::CREATED);
        let listed = client.json(Method::GET, keys, None, Auth::Bearer(&plain)).await;
        let owners: Vec<&str> =
            listed.json["items"].as_array().unwrap().iter().map(|k| k["user_id"].as_str().unwrap()).collect();
        assert_eq!(owners, [ann.as_str()], "a listing shows only the caller's own keys");
        let all = client.json(Method::GET, keys, None, Auth::Bearer(&org_admin)).await;
        assert_eq!(all.json["items"].as_array().unwrap().len(), 2);

        // An API key carries its user's roles: ann's key can read ann, not list users.
        let key = own.str("key");
        assert_eq!(as_(client, Method::GET, &format!("{users}/{ann}"), None, &key).await, StatusCode::OK);
        assert_eq!(as_(client, Method::GET, users, None, &key).await, StatusCode::FORBIDDEN);
        let with_header = TestRequest::get().uri(users).insert_header(("x-api-key", key.as_str()));
        assert_eq!(client.send(with_header).await.status, StatusCode::FORBIDDEN);

        // Another tenant's org_admin is nobody here.
        assert_eq!(as_(client, Method::GET, users, None, &foreign_admin).await, StatusCode::FORBIDDEN);
        // Tenants themselves are for the admin credential and superadmins only.
        assert_eq!(as_(client, Method::GET, "/admin/tenants", None, &org_admin).await, StatusCode::FORBIDDEN);
        assert_eq!(
            as_(client, Method::POST, "/admin/tenants", Some(json!({ "slug": "evil", "name": "Evil" })), &org_admin)
                .await,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

#[actix_web::test]
async fn superadmins_of_the_default_tenant_span_tenants_and_nobody_else_does() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("default").await;
        client.tenant("acme").await;
        let (_, superadmin) = user(client, "default", "root", &["superadmin"]).await;
        let (_, impostor) = user(client, "acme", "mallory", &["superadmin"]).await;
        assert_eq!(as_(client, Method::GET, "/admin/tenants", None, &superadmin).await, StatusCode::OK);
        assert_eq!(as_(client, Method::GET, "/admin/tenants/acme/users", None, &superadmin).await, StatusCode::OK);
        let created = as_(
            client,
            Method::POST,
            "/admin/tenants",
            Some(json!({ "slug": "initech", "name": "Initech" })),
            &superadmin,
        )
        .await;
        assert_eq!(created, StatusCode::CREATED);
        // The role means nothing outside the default tenant.
        assert_eq!(as_(client, Method::GET, "/admin/tenants", None, &impostor).await, StatusCode::FORBIDDEN);
        assert_eq!(as_(client, Method::GET, "/admin/tenants/acme/users", None, &impostor).await, StatusCode::FORBIDDEN);
    })
    .await;
}

#[actix_web::test]
async fn groups_give_their_members_roles_and_a_groups_claim() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (dana, token) = user(client, "acme", "dana", &[]).await;
        let users = "/admin/tenants/acme/users";
        assert_eq!(as_(client, Method::GET, users, None, &token).await, StatusCode::FORBIDDEN);
        let group =
            client.post("/admin/tenants/acme/groups", &json!({ "name": "support", "roles": ["operator"] })).await;
        assert_eq!(group.status, StatusCode::CREATED, "{}", group.json);
        let member = client
            .post("/admin/tenants/acme/group_members", &json!({ "group_id": group.str("id"), "user_id": dana }))
            .await;
        assert_eq!(member.status, StatusCode::CREATED, "{}", member.json);
        // Takes effect on the next request, with the same token.
        assert_eq!(as_(client, Method::GET, users, None, &token).await, StatusCode::OK);
        // New tokens carry the roles and groups.
        let login = client
            .json(
                Method::POST,
                "/acme/auth/login",
                Some(&json!({ "username": "dana", "password": PASSWORD })),
                Auth::None,
            )
            .await;
        let claims = keygate_runtime::jose::unverified_claims(&login.str("access_token")).unwrap();
        assert_eq!(claims["roles"], json!(["operator"]));
        assert_eq!(claims["groups"], json!(["support"]));
        // Leaving the group takes the role away.
        client.delete(&format!("/admin/tenants/acme/group_members/{}", member.str("id"))).await;
        assert_eq!(as_(client, Method::GET, users, None, &token).await, StatusCode::FORBIDDEN);
    })
    .await;
}

#[actix_web::test]
async fn service_keys_authenticate_their_service_for_what_services_may_do() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        client.tenant("globex").await;
        let service = client.post("/admin/tenants/acme/services", &json!({ "name": "sync" })).await;
        let key = client
            .post("/admin/tenants/acme/service_keys", &json!({ "service_id": service.str("id"), "label": "prod" }))
            .await;
        assert_eq!(key.status, StatusCode::CREATED, "{}", key.json);
        let raw = key.str("key");
        // Services may read users (`service` in the rule), not write them, and not elsewhere.
        assert_eq!(as_(client, Method::GET, "/admin/tenants/acme/users", None, &raw).await, StatusCode::OK);
        let body = json!({ "username": "x", "email": "x@example.com", "password": PASSWORD });
        assert_eq!(
            as_(client, Method::POST, "/admin/tenants/acme/users", Some(body), &raw).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(as_(client, Method::GET, "/admin/tenants/globex/users", None, &raw).await, StatusCode::FORBIDDEN);
        // A deactivated service's keys stop working.
        let reply = client
            .patch(&format!("/admin/tenants/acme/services/{}", service.str("id")), &json!({ "is_active": false }))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(as_(client, Method::GET, "/admin/tenants/acme/users", None, &raw).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}
