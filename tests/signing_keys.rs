//! Per-tenant signing keys over HTTP: the JWKS, rotation, retention, and sealing at rest.

mod support;

use actix_web::http::{Method, StatusCode};
use keygate_runtime::jose::{Algorithm, SigningKey, sign_jwt, verify_jwt};
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
        assert_eq!(first.len(), 1, "a key is created on first use");
        assert_eq!(first[0].alg.as_deref(), Some("RS256"), "RS256 by default, as OpenID Connect requires");
        assert_eq!(first[0].kid.as_deref(), Some(first[0].thumbprint().as_str()), "kid is the RFC 7638 thumbprint");
        let raw = client.json(Method::GET, "/acme/.well-known/jwks.json", None, Auth::None).await.json;
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(raw["keys"][0].get(private).is_none(), "`{private}` is never published");
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
        let rotated = client.json(Method::POST, path, Some(&json!({ "alg": "RS256" })), Auth::Admin).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.json);
        let new_kid = rotated.json["kid"].as_str().unwrap().to_owned();
        assert_ne!(Some(new_kid.as_str()), before[0].kid.as_deref());

        let after = jwks(client, "acme").await;
        assert_eq!(after.len(), 2, "old and new key are both published");
        assert_eq!(verify_jwt(&token, &after).unwrap()["sub"], "ann", "a token signed before rotation verifies");
        let new_key = client.rt.keys().active(client.rt.db(), tenant_id, Algorithm::RS256).await.unwrap();
        assert_eq!(new_key.kid(), new_kid, "new tokens are signed with the new key");

        // Another algorithm gets its own key alongside.
        let es = client.json(Method::POST, path, Some(&json!({ "alg": "ES256" })), Auth::Admin).await;
        assert_eq!(es.status, StatusCode::OK);
        let algs: Vec<Value> = jwks(client, "acme").await.iter().map(|k| json!(k.alg)).collect();
        assert!(algs.contains(&json!("ES256")) && algs.contains(&json!("RS256")));

        // Once the retention has passed, the retired key leaves the JWKS and its tokens stop verifying.
        client.rt.keys().rotate(client.rt.db(), tenant_id, Algorithm::RS256, chrono::Duration::zero()).await.unwrap();
        let keys = jwks(client, "acme").await;
        assert!(keys.iter().all(|k| k.kid.as_deref() != Some(new_kid.as_str())), "retired without retention: gone");
        assert!(keys.iter().any(|k| k.kid == before[0].kid), "the first key is still within its retention");
    })
    .await;
}
