//! Per-tenant signing keys over HTTP: the JWKS, rotation, retention, and sealing at rest.

mod support;

use actix_web::http::{Method, StatusCode};
use keygate_runtime::jose::{Algorithm, SigningKey, sign_jwt, verify_jwt};
use keygate_runtime::keys::{Activation, signing_key};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::{Auth, Client, each_backend};

async fn jwks(client: &Client<'_>, tenant: &str) -> Vec<keygate_runtime::jose::Jwk> {
    let reply = client.json(Method::GET, &format!("/{tenant}/.well-known/jwks.json"), None, Auth::None).await;
    assert_eq!(reply.status, StatusCode::OK, "[{}] jwks: {}", client.backend, reply.json);
    assert_eq!(reply.headers.get("content-type").unwrap(), "application/jwk-set+json");
    assert_eq!(reply.headers.get("access-control-allow-origin").unwrap(), "*", "browser apps may fetch it");
    serde_json::from_value::<keygate_runtime::jose::Jwks>(reply.json).unwrap().keys
}

#[actix_web::test]
async fn each_tenant_publishes_its_own_public_keys() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        client.tenant("umbrella").await;
        let first = jwks(client, "acme").await;
        assert_eq!(first.len(), 3, "a key per algorithm is created on first use");
        assert!(first.iter().any(|k| k.alg.as_deref() == Some("RS256")), "RS256, as OpenID Connect requires");
        for key in &first {
            assert_eq!(key.kid.as_deref(), Some(key.thumbprint().as_str()), "kid is the RFC 7638 thumbprint");
        }
        let raw = client.json(Method::GET, "/acme/.well-known/jwks.json", None, Auth::None).await.json;
        for key in raw["keys"].as_array().unwrap() {
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(key.get(private).is_none(), "`{private}` is never published");
            }
        }
        assert_eq!(jwks(client, "acme").await, first, "the key is stable");
        let other = jwks(client, "umbrella").await;
        assert_ne!(other[0].kid, first[0].kid, "tenants do not share keys");
        let missing = client.json(Method::GET, "/nobody/.well-known/jwks.json", None, Auth::None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        // Private halves are stored sealed, not as PKCS#8.
        let sealed = client.scalar("SELECT sealed_private_key FROM keygate_signing_keys").await.unwrap();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(
            SigningKey::from_pkcs8(Algorithm::RS256, bytes).is_err(),
            "stored key is not usable without the master key"
        );
    })
    .await;
}

#[actix_web::test]
async fn rotation_keeps_old_tokens_verifiable_until_retention_ends() {
    each_backend(async |client: &Client<'_>| {
        let tenant = client.tenant("acme").await;
        let tenant_id: uuid::Uuid = tenant.str("id").parse().unwrap();
        let before = jwks(client, "acme").await;

        // A token signed with the key in use before the rotation.
        let old_key = client.rt.keys().active(client.rt.db(), tenant_id, Algorithm::RS256).await.unwrap();
        let token = sign_jwt(&old_key, "at+jwt", &json!({ "sub": "ann" })).unwrap();

        let path = "/admin/tenants/acme/signing-keys/rotate";
        let denied = client.json(Method::POST, path, Some(&json!({})), Auth::None).await;
        assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
        let bad = client.json(Method::POST, path, Some(&json!({ "alg": "HS256" })), Auth::Admin).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.error_fields(), ["alg"]);
        let now = json!({ "alg": "RS256", "immediately": true });
        let rotated = client.json(Method::POST, path, Some(&now), Auth::Admin).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
        let new_kid = rotated.json["kid"].as_str().unwrap().to_owned();
        assert!(before.iter().all(|k| k.kid.as_deref() != Some(new_kid.as_str())));

        let after = jwks(client, "acme").await;
        assert_eq!(after.len(), before.len() + 1, "old and new key are both published");
        assert_eq!(verify_jwt(&token, &after).unwrap()["sub"], "ann", "a token signed before rotation verifies");
        let new_key = client.rt.keys().active(client.rt.db(), tenant_id, Algorithm::RS256).await.unwrap();
        assert_eq!(new_key.kid(), new_kid, "new tokens are signed with the new key");

        // Another algorithm gets its own key alongside.
        let es = client.json(Method::POST, path, Some(&json!({ "alg": "ES256" })), Auth::Admin).await;
        assert_eq!(es.status, StatusCode::OK);
        let algs: Vec<Value> = jwks(client, "acme").await.iter().map(|k| json!(k.alg)).collect();
        assert!(algs.contains(&json!("ES256")) && algs.contains(&json!("RS256")));

        // Once the retention has passed, the retired key leaves the JWKS and its tokens stop verifying.
        let (db, zero) = (client.rt.db(), chrono::Duration::zero());
        client.rt.keys().rotate(db, tenant_id, Algorithm::RS256, zero, Activation::Immediate).await.unwrap();
        let keys = jwks(client, "acme").await;
        assert!(keys.iter().all(|k| k.kid.as_deref() != Some(new_kid.as_str())), "retired without retention: gone");
        assert!(keys.iter().any(|k| k.kid.as_deref() == Some(old_key.kid())), "the first key is within its retention");
    })
    .await;
}

/// The `kid` of an access token the tenant issues over HTTP now (client_credentials, RS256).
async fn signing_kid(client: &Client<'_>) -> String {
    use base64::Engine;
    let body = json!({ "name": "svc", "grant_types": ["client_credentials"] });
    let created = client.post("/admin/tenants/acme/clients", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let pair = format!("{}:{}", created.str("id"), created.str("client_secret"));
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
    let form = "application/x-www-form-urlencoded";
    let grant = "grant_type=client_credentials";
    let reply = client.raw(Method::POST, "/acme/oauth2/token", form, grant, Auth::Header(&basic)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let token = reply.str("access_token");
    keygate_runtime::jose::decode_header(&token).unwrap().kid.unwrap()
}

/// A planned rotation publishes the new key first and signs with it only once every relying
/// party's cached key set (the JWKS's `max-age`) has expired, so none meets a `kid` it lacks;
/// the switch happens at `activates_at` in a process that cached the old key, with no write.
/// `immediately` signs with the new key at once.
#[actix_web::test]
async fn a_rotated_key_is_published_before_it_signs() {
    each_backend(async |client: &Client<'_>| {
        let tenant = client.tenant("acme").await;
        let tenant_id: uuid::Uuid = tenant.str("id").parse().unwrap();
        let reply = client.json(Method::GET, "/acme/.well-known/jwks.json", None, Auth::None).await;
        let cache_control = reply.headers.get("cache-control").unwrap().to_str().unwrap().to_owned();
        let max_age: i64 = cache_control.split("max-age=").nth(1).unwrap().parse().unwrap();
        let old_kid = signing_kid(client).await;

        let path = "/admin/tenants/acme/signing-keys/rotate";
        let rotated = client.json(Method::POST, path, Some(&json!({ "alg": "RS256" })), Auth::Admin).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
        let new_kid = rotated.str("kid");
        let activates_at: chrono::DateTime<chrono::Utc> = rotated.str("activates_at").parse().unwrap();
        let lead = activates_at - chrono::Utc::now();
        assert!(lead > chrono::Duration::seconds(max_age), "signs after cached key sets expire: {lead} vs {max_age} s");
        assert!(jwks(client, "acme").await.iter().any(|k| k.kid.as_deref() == Some(new_kid.as_str())), "published now");
        assert_eq!(signing_kid(client).await, old_kid, "[{}] the old key still signs", client.backend);

        // Time passes: the new key's start is a second away; the process reads the rows again
        // once, then switches at that instant on its own.
        signing_key::Entity::update_many()
            .col_expr(
                signing_key::Column::ActivatesAt,
                Expr::value(Some(chrono::Utc::now() + chrono::Duration::seconds(1))),
            )
            .filter(signing_key::Column::Kid.eq(new_kid.as_str()))
            .exec(client.rt.db())
            .await
            .unwrap();
        client.rt.keys().forget_tenant(tenant_id);
        assert_eq!(signing_kid(client).await, old_kid, "not yet");
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        assert_eq!(signing_kid(client).await, new_kid, "[{}] the new key signs from its start", client.backend);
        assert!(jwks(client, "acme").await.iter().any(|k| k.kid.as_deref() == Some(old_kid.as_str())), "retained");

        let now = json!({ "alg": "RS256", "immediately": true });
        let urgent = client.json(Method::POST, path, Some(&now), Auth::Admin).await;
        assert_eq!(urgent.status, StatusCode::OK, "{}", urgent.json);
        assert_eq!(signing_kid(client).await, urgent.str("kid"), "an immediate rotation signs at once");
    })
    .await;
}

/// The algorithms the tenant's discovery document says its tokens are signed with.
async fn advertised(client: &Client<'_>, tenant: &str) -> Vec<String> {
    let path = format!("/{tenant}/.well-known/openid-configuration");
    let doc = client.json(Method::GET, &path, None, Auth::None).await.json;
    let mut algs = Vec::new();
    for member in ["id_token_signing_alg_values_supported", "access_token_signing_alg_values_supported"] {
        for alg in doc[member].as_array().unwrap_or_else(|| panic!("{member} in {doc}")) {
            let alg = alg.as_str().unwrap().to_owned();
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
    }
    algs
}

/// The `kid` of the key the JWKS publishes for `alg`, failing unless there is exactly one active.
fn only_key_for(keys: &[keygate_runtime::jose::Jwk], alg: &str, backend: &str) -> String {
    let found: Vec<_> = keys.iter().filter(|k| k.alg.as_deref() == Some(alg)).collect();
    assert_eq!(found.len(), 1, "[{backend}] one {alg} key in the JWKS: {keys:?}");
    found[0].kid.clone().unwrap()
}

#[actix_web::test]
async fn a_fresh_tenant_publishes_a_key_for_every_algorithm_it_advertises() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let algs = advertised(client, "acme").await;
        assert!(algs.len() >= 3, "RS256, ES256 and EdDSA are advertised: {algs:?}");
        // Concurrent first requests create one key per algorithm, not one per request.
        let requests = (0..8).map(|_| jwks(client, "acme"));
        let first = futures_util::future::join_all(requests).await;
        let keys = &first[0];
        assert!(first.iter().all(|set| set == keys), "[{}] every request sees the same keys", client.backend);
        for alg in &algs {
            only_key_for(keys, alg, client.backend);
        }
        assert_eq!(keys.len(), algs.len(), "nothing else: {keys:?}");
        let stored = client.scalar("SELECT CAST(COUNT(*) AS TEXT) FROM keygate_signing_keys").await;
        assert_eq!(stored.as_deref(), Some("3"), "[{}] one stored key per algorithm", client.backend);
    })
    .await;
}

#[actix_web::test]
async fn rotating_one_algorithm_keeps_a_key_for_every_other() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let algs = advertised(client, "acme").await;
        let before = jwks(client, "acme").await;
        let rotated = client
            .json(
                Method::POST,
                "/admin/tenants/acme/signing-keys/rotate",
                Some(&json!({ "alg": "ES256" })),
                Auth::Admin,
            )
            .await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
        let after = jwks(client, "acme").await;
        // The retired ES256 key is still published, beside the new one.
        let old_es256 = only_key_for(&before, "ES256", client.backend);
        assert!(after.iter().any(|k| k.kid.as_deref() == Some(old_es256.as_str())), "the old key stays published");
        let es256: Vec<_> = after.iter().filter(|k| k.alg.as_deref() == Some("ES256")).collect();
        assert_eq!(es256.len(), 2, "old and new ES256 keys");
        assert!(es256.iter().any(|k| k.kid.as_deref() == rotated.json["kid"].as_str()));
        // Every other algorithm keeps its one key, unchanged.
        for alg in algs.iter().filter(|a| *a != "ES256") {
            assert_eq!(only_key_for(&after, alg, client.backend), only_key_for(&before, alg, client.backend));
        }
        let active = client
            .scalar("SELECT CAST(COUNT(*) AS TEXT) FROM keygate_signing_keys WHERE alg = 'ES256' AND active")
            .await;
        assert_eq!(active.as_deref(), Some("1"), "[{}] one active ES256 key", client.backend);
    })
    .await;
}

/// `auth: admin` means on endpoints what it means on ops: the admin credential or a superadmin
/// (a `superadmin` of the `default` tenant), nobody else, whatever their roles in the tenant.
#[actix_web::test]
async fn key_rotation_admits_the_admin_credential_and_superadmins_only() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("default").await;
        client.tenant("acme").await;
        let (_, superadmin) = client.signed_in_user("default", "root", &["superadmin"]).await;
        let (_, org_admin) = client.signed_in_user("acme", "olga", &["org_admin"]).await;
        let (_, impostor) = client.signed_in_user("acme", "mallory", &["superadmin"]).await;
        let path = "/admin/tenants/acme/signing-keys/rotate";
        let body = json!({ "alg": "ES256" });
        let rotate = async |auth: Auth<'_>| client.json(Method::POST, path, Some(&body), auth).await;

        let by_superadmin = rotate(Auth::Bearer(&superadmin)).await;
        assert_eq!(by_superadmin.status, StatusCode::OK, "[{}] superadmin: {}", client.backend, by_superadmin.json);
        assert!(jwks(client, "acme").await.iter().any(|k| k.kid.as_deref() == by_superadmin.json["kid"].as_str()));
        assert_eq!(rotate(Auth::Admin).await.status, StatusCode::OK, "the admin credential");
        for (who, token) in [("an org_admin of the tenant", &org_admin), ("a superadmin of another tenant", &impostor)]
        {
            let refused = rotate(Auth::Bearer(token)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "[{}] {who}: {}", client.backend, refused.json);
            assert_eq!(refused.headers.get("content-type").unwrap(), "application/problem+json");
        }
        let anonymous = rotate(Auth::None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers.get("www-authenticate").is_some(), "a 401 carries a challenge");
        assert_eq!(rotate(Auth::Bearer("kga_wrong")).await.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}
