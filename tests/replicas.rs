//! Two replicas on one PostgreSQL database (two runtimes, each with its own pool and caches, as
//! two `keygate serve` processes have): a change made through one is seen by the other within
//! about a second, through the invalidation bus, not when the other's caches expire (5 s for
//! rows, 60 s for signing keys). PostgreSQL only: SQLite is a single node.

mod binary;
mod support;

use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keygate_runtime::RuntimeConfig;
use keygate_runtime::keys::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::{Auth, Client, Reply, databases, runtime_sealing_with};

/// How long a replica may take to see another's change: well under every cache's TTL.
const DEADLINE: Duration = Duration::from_secs(2);
const FORM: &str = "application/x-www-form-urlencoded";
const PASSWORD: &str = "correct horse battery";

/// Runs `check` with two replicas `(a, b)` of one fresh PostgreSQL database; nothing without
/// `TEST_DATABASE_URL`.
async fn replicas<F>(check: F)
where
    F: AsyncFn(&Client<'_>, &Client<'_>),
{
    for db in databases().await.into_iter().filter(|db| db.backend == "postgres") {
        let config = || RuntimeConfig { bcrypt_cost: 4, ..RuntimeConfig::default() };
        let master = [7u8; 32];
        let (rt_a, rt_b) =
            (runtime_sealing_with(&db, config(), &master).await, runtime_sealing_with(&db, config(), &master).await);
        let app_a = test::init_service(keygate::server::app(rt_a.clone())).await;
        let app_b = test::init_service(keygate::server::app(rt_b.clone())).await;
        check(&Client::new(&app_a, "postgres A", rt_a), &Client::new(&app_b, "postgres B", rt_b)).await;
    }
}

/// Whether `probe` holds within [`DEADLINE`], asking every 50 ms.
async fn eventually(probe: impl AsyncFn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if probe().await {
            return true;
        }
        if start.elapsed() > DEADLINE {
            return false;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `client_credentials` client of `acme`, as its `Authorization: Basic` header value, and its id.
async fn machine_client(a: &Client<'_>) -> (String, String) {
    let body = json!({ "name": "svc", "grant_types": ["client_credentials"] });
    let reply = a.post("/admin/tenants/acme/clients", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let basic = format!("Basic {}", STANDARD.encode(format!("{}:{}", reply.str("id"), reply.str("client_secret"))));
    (basic, reply.str("id"))
}

async fn form(client: &Client<'_>, path: &str, body: &str, authorization: &str) -> Reply {
    client.raw(Method::POST, path, FORM, body, Auth::Header(authorization)).await
}

async fn access_token(client: &Client<'_>, authorization: &str) -> Reply {
    form(client, "/acme/oauth2/token", "grant_type=client_credentials", authorization).await
}

async fn kids(client: &Client<'_>) -> Vec<String> {
    let reply = client.json(Method::GET, "/acme/.well-known/jwks.json", None, Auth::None).await;
    assert_eq!(reply.status, StatusCode::OK, "[{}] {}", client.backend, reply.json);
    reply.json["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn a_key_rotated_at_one_replica_is_published_and_trusted_by_the_other_at_once() {
    replicas(async |a: &Client<'_>, b: &Client<'_>| {
        a.tenant("acme").await;
        let (auth, _) = machine_client(a).await;
        // B has the tenant's keys cached: it published them and verified a token with them.
        let before = kids(b).await;
        let token = access_token(a, &auth).await.str("access_token");
        let introspected = form(b, "/acme/oauth2/introspect", &format!("token={token}"), &auth).await;
        assert_eq!(introspected.json["active"], true, "{}", introspected.json);

        let path = "/admin/tenants/acme/signing-keys/rotate";
        let now = json!({ "alg": "RS256", "immediately": true });
        let rotated = a.json(Method::POST, path, Some(&now), Auth::Admin).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
        let kid = rotated.str("kid");
        assert!(!before.contains(&kid));
        assert!(eventually(async || kids(b).await.contains(&kid)).await, "B's JWKS lists the key A rotated in");

        let token = access_token(a, &auth).await.str("access_token");
        assert_eq!(keygate_runtime::jose::decode_header(&token).unwrap().kid.as_deref(), Some(kid.as_str()));
        let introspected = form(b, "/acme/oauth2/introspect", &format!("token={token}"), &auth).await;
        assert_eq!(introspected.json["active"], true, "B trusts A's token signed with the new key");
    })
    .await;
}

/// The `kid` of the access token `client` issues now.
async fn signing_kid(client: &Client<'_>, authorization: &str) -> String {
    let reply = access_token(client, authorization).await;
    assert_eq!(reply.status, StatusCode::OK, "[{}] {}", client.backend, reply.json);
    keygate_runtime::jose::decode_header(&reply.str("access_token")).unwrap().kid.unwrap()
}

/// A planned rotation switches both replicas at `activates_at` with no write and no message
/// between them: which key signs is computed from the rows and the clock, so replicas that
/// cached the same rows switch at the same instant, and each trusts the other's tokens.
#[actix_web::test]
async fn a_planned_rotation_switches_every_replica_at_its_start() {
    replicas(async |a: &Client<'_>, b: &Client<'_>| {
        let tenant_id: uuid::Uuid = a.tenant("acme").await.str("id").parse().unwrap();
        let (auth, _) = machine_client(a).await;
        let old_kid = signing_kid(a, &auth).await;
        assert_eq!(signing_kid(b, &auth).await, old_kid);

        let path = "/admin/tenants/acme/signing-keys/rotate";
        let rotated = a.json(Method::POST, path, Some(&json!({ "alg": "RS256" })), Auth::Admin).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
        let new_kid = rotated.str("kid");
        assert!(eventually(async || kids(b).await.contains(&new_kid)).await, "B publishes the planned key");
        assert_eq!(signing_kid(b, &auth).await, old_kid, "B does not sign with it before its start");

        // Time passes: the key's start is a second away, and both replicas have read the rows
        // again (as they would at the start they cached); from here on nothing is written.
        let start = chrono::Utc::now() + chrono::Duration::seconds(1);
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::ActivatesAt, Expr::value(Some(start)))
            .filter(signing_key::Column::Kid.eq(new_kid.as_str()))
            .exec(a.rt.db())
            .await
            .unwrap();
        for replica in [a, b] {
            replica.rt.keys().forget_tenant(tenant_id);
            assert_eq!(signing_kid(replica, &auth).await, old_kid, "[{}] not yet", replica.backend);
        }
        actix_web::rt::time::sleep(Duration::from_millis(1_100)).await;
        for (issuer, verifier) in [(a, b), (b, a)] {
            let reply = access_token(issuer, &auth).await;
            let token = reply.str("access_token");
            let kid = keygate_runtime::jose::decode_header(&token).unwrap().kid.unwrap();
            assert_eq!(kid, new_kid, "[{}] signs with the new key from its start", issuer.backend);
            let introspected = form(verifier, "/acme/oauth2/introspect", &format!("token={token}"), &auth).await;
            assert_eq!(introspected.json["active"], true, "[{}] trusts the other's token", verifier.backend);
        }
    })
    .await;
}

#[actix_web::test]
async fn a_client_deactivated_at_one_replica_is_refused_by_the_other_at_once() {
    replicas(async |a: &Client<'_>, b: &Client<'_>| {
        a.tenant("acme").await;
        let (auth, id) = machine_client(a).await;
        // B has the client cached.
        assert_eq!(access_token(b, &auth).await.status, StatusCode::OK);
        let patched = a.patch(&format!("/admin/tenants/acme/clients/{id}"), &json!({ "is_active": false })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
        assert!(
            eventually(async || access_token(b, &auth).await.status == StatusCode::UNAUTHORIZED).await,
            "B refuses the client A deactivated"
        );
    })
    .await;
}

#[actix_web::test]
async fn role_and_account_changes_at_one_replica_apply_at_the_other_at_once() {
    replicas(async |a: &Client<'_>, b: &Client<'_>| {
        a.tenant("acme").await;
        let body = json!({ "username": "dana", "email": "dana@example.com", "password": PASSWORD, "roles": [] });
        let dana = a.post("/admin/tenants/acme/users", &body).await.str("id");
        let login = json!({ "username": "dana", "password": PASSWORD });
        let token = b.json(Method::POST, "/acme/auth/login", Some(&login), Auth::None).await.str("access_token");
        let users = async || b.json(Method::GET, "/admin/tenants/acme/users", None, Auth::Bearer(&token)).await.status;
        // B has dana's account and (empty) roles cached.
        assert_eq!(users().await, StatusCode::FORBIDDEN);

        let group = a.post("/admin/tenants/acme/groups", &json!({ "name": "support", "roles": ["operator"] })).await;
        let member = json!({ "group_id": group.str("id"), "user_id": dana });
        let member = a.post("/admin/tenants/acme/group_members", &member).await;
        assert_eq!(member.status, StatusCode::CREATED, "{}", member.json);
        assert!(eventually(async || users().await == StatusCode::OK).await, "joining a group at A grants at B");

        a.delete(&format!("/admin/tenants/acme/group_members/{}", member.str("id"))).await;
        assert!(eventually(async || users().await == StatusCode::FORBIDDEN).await, "leaving at A revokes at B");

        let user = format!("/admin/tenants/acme/users/{dana}");
        assert_eq!(a.patch(&user, &json!({ "roles": ["operator"] })).await.status, StatusCode::OK);
        assert!(eventually(async || users().await == StatusCode::OK).await, "a role given at A applies at B");

        assert_eq!(a.patch(&user, &json!({ "is_active": false })).await.status, StatusCode::OK);
        assert!(
            eventually(async || users().await == StatusCode::UNAUTHORIZED).await,
            "an account disabled at A is refused at B"
        );
    })
    .await;
}

#[actix_web::test]
async fn a_renamed_tenant_is_renamed_at_the_other_replica_at_once() {
    replicas(async |a: &Client<'_>, b: &Client<'_>| {
        let tenant = a.tenant("acme").await.str("id");
        let issuer = async |slug: &str| -> Value {
            let path = format!("/{slug}/.well-known/openid-configuration");
            b.json(Method::GET, &path, None, Auth::None).await.json["issuer"].clone()
        };
        // B has the slug resolved and the discovery document built.
        assert!(issuer("acme").await.as_str().is_some_and(|i| i.ends_with("/acme")));
        let renamed = a.patch(&format!("/admin/tenants/{tenant}"), &json!({ "slug": "globex" })).await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
        assert!(eventually(async || issuer("acme").await.is_null()).await, "B no longer serves the old name");
        assert!(issuer("globex").await.as_str().is_some_and(|i| i.ends_with("/globex")));
    })
    .await;
}

#[actix_web::test]
async fn a_key_rotated_with_the_cli_is_served_by_running_replicas_at_once() {
    for db in databases().await.into_iter().filter(|db| db.backend == "postgres") {
        let master = [9u8; 32];
        let config = RuntimeConfig { bcrypt_cost: 4, ..RuntimeConfig::default() };
        let rt = runtime_sealing_with(&db, config, &master).await;
        let app = test::init_service(keygate::server::app(rt.clone())).await;
        let server = Client::new(&app, "postgres", rt);
        server.tenant("acme").await;
        let before = kids(&server).await;
        let dir = tempfile::tempdir().unwrap();
        let master = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(master);
        let output = binary::keygate(dir.path())
            .args(["keys", "rotate", "--tenant", "acme", "--alg", "ES256"])
            .env("KEYGATE_DATABASE_URL", &db.url)
            .env("KEYGATE_MASTER_KEY", master)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stderr).contains("at once"), "it says when servers see it");
        let kid = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert!(!before.contains(&kid));
        assert!(eventually(async || kids(&server).await.contains(&kid)).await, "the running server publishes it");
    }
}
