//! client_credentials tokens (RFC 6749 §4.4, RFC 9068) and introspection (RFC 7662) over HTTP,
//! with every failure answered in RFC 6749 §5.2 form.

mod support;

use actix_web::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keygate_runtime::jose::{Algorithm, Jwks, decode_header, sign_jwt, verify_jwt};
use serde_json::{Value, json};
use support::{Auth, Client, Reply, each_backend};

const ISSUER: &str = "http://127.0.0.1:8080/acme";
const FORM: &str = "application/x-www-form-urlencoded";

struct App {
    id: String,
    secret: String,
}

async fn register(client: &Client<'_>, tenant: &str, body: Value) -> App {
    let reply = client.post(&format!("/admin/tenants/{tenant}/clients"), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    App { id: reply.str("id"), secret: reply.str("client_secret") }
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

async fn form(client: &Client<'_>, path: &str, body: &str, authorization: Option<&str>) -> Reply {
    let auth = match authorization {
        Some(value) => Auth::Header(value),
        None => Auth::None,
    };
    client.raw(Method::POST, path, FORM, body, auth).await
}

fn assert_oauth_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.json);
    assert_eq!(reply.json["error"], code, "{}", reply.json);
    assert!(reply.json["error_description"].is_string());
    assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");
}

async fn jwks(client: &Client<'_>, tenant: &str) -> Jwks {
    let reply = client.json(Method::GET, &format!("/{tenant}/.well-known/jwks.json"), None, Auth::None).await;
    serde_json::from_value(reply.json).unwrap()
}

#[actix_web::test]
async fn a_machine_client_gets_a_jwt_a_resource_server_can_verify_offline() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let app = register(
            client,
            "acme",
            json!({ "name": "billing", "grant_types": ["client_credentials"], "scopes": ["read", "write"] }),
        )
        .await;

        let reply = form(
            client,
            "/acme/oauth2/token",
            "grant_type=client_credentials&scope=read",
            Some(&basic(&app.id, &app.secret)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "[{}] {}", client.backend, reply.json);
        assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store", "RFC 6749 §5.1");
        assert_eq!(reply.json["token_type"], "Bearer");
        assert_eq!(reply.json["expires_in"], 3600);
        assert_eq!(reply.json["scope"], "read");

        // RFC 9068: a JWT with typ at+jwt, verifiable with the published keys alone.
        let token = reply.str("access_token");
        assert_eq!(decode_header(&token).unwrap().typ.as_deref(), Some("at+jwt"));
        let claims = verify_jwt(&token, &jwks(client, "acme").await.keys).expect("verifies with the JWKS");
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["sub"], app.id.as_str());
        assert_eq!(claims["client_id"], app.id.as_str());
        assert_eq!(claims["aud"], ISSUER, "default audience without a resource indicator");
        assert_eq!(claims["scope"], "read");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
        assert!(claims["jti"].is_string());

        // client_secret_post works too; no scope asked means every allowed scope; RFC 8707 resource.
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&resource=https%3A%2F%2Fapi.example.com",
            app.id, app.secret
        );
        let reply = form(client, "/acme/oauth2/token", &body, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert_eq!(reply.json["scope"], "read write");
        let claims = verify_jwt(&reply.str("access_token"), &jwks(client, "acme").await.keys).unwrap();
        assert_eq!(claims["aud"], "https://api.example.com");

        // Introspection by an authenticated client: active, with the token's claims.
        let body = format!("token={token}");
        let reply = form(client, "/acme/oauth2/introspect", &body, Some(&basic(&app.id, &app.secret))).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json["active"], true, "{}", reply.json);
        assert_eq!(reply.json["client_id"], app.id.as_str());
        assert_eq!(reply.json["scope"], "read");
        assert_eq!(reply.json["token_type"], "Bearer");
    })
    .await;
}

#[actix_web::test]
async fn client_authentication_failures_are_rfc_6749_errors() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let app = register(
            client,
            "acme",
            json!({ "name": "svc", "grant_types": ["client_credentials"], "scopes": ["read"] }),
        )
        .await;
        let path = "/acme/oauth2/token";
        let grant = "grant_type=client_credentials";

        let reply = form(client, path, grant, Some(&basic(&app.id, "kgs_wrong"))).await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        assert!(reply.headers.get("www-authenticate").unwrap().to_str().unwrap().starts_with("Basic"));
        let unknown = uuid::Uuid::new_v4().to_string();
        assert_oauth_error(
            &form(client, path, grant, Some(&basic(&unknown, &app.secret))).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );
        assert_oauth_error(
            &form(client, path, grant, Some(&basic("not-a-uuid", "x"))).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );
        // A peer hands out tokens for a client_id without a secret; Keygate does not.
        let body = format!("{grant}&client_id={}", app.id);
        assert_oauth_error(&form(client, path, &body, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
        assert_oauth_error(&form(client, path, grant, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
        // Two methods at once (RFC 6749 §2.3.1).
        let body = format!("{grant}&client_secret={}", app.secret);
        assert_oauth_error(
            &form(client, path, &body, Some(&basic(&app.id, &app.secret))).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );

        // An inactive client cannot authenticate.
        let inactive = register(
            client,
            "acme",
            json!({ "name": "off", "grant_types": ["client_credentials"], "is_active": false }),
        )
        .await;
        assert_oauth_error(
            &form(client, path, grant, Some(&basic(&inactive.id, &inactive.secret))).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );

        // A client of another tenant is unknown here, never stamped with this tenant's identity.
        client.tenant("umbrella").await;
        let reply = form(client, "/umbrella/oauth2/token", grant, Some(&basic(&app.id, &app.secret))).await;
        assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
    })
    .await;
}

#[actix_web::test]
async fn grants_scopes_and_malformed_requests_are_refused_precisely() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let app = register(
            client,
            "acme",
            json!({ "name": "svc", "grant_types": ["client_credentials"], "scopes": ["read"] }),
        )
        .await;
        let web = register(client, "acme", json!({ "name": "web", "grant_types": ["authorization_code"] })).await;
        let auth = basic(&app.id, &app.secret);
        let path = "/acme/oauth2/token";

        assert_oauth_error(
            &form(client, path, "grant_type=client_credentials", Some(&basic(&web.id, &web.secret))).await,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
        );
        assert_oauth_error(
            &form(client, path, "grant_type=password&username=a&password=b", Some(&auth)).await,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        );
        assert_oauth_error(
            &form(client, path, "scope=read", Some(&auth)).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        // RFC 6749 §3.3: a scope is a set; what the client holds of it is granted, and `scope` says
        // so; a request for nothing it holds, or not a scope at all, is invalid_scope.
        for (requested, granted) in [("read read", "read"), ("admin read", "read")] {
            let body = format!("grant_type=client_credentials&scope={}", requested.replace(' ', "+"));
            let reply = form(client, path, &body, Some(&auth)).await;
            assert_eq!(reply.status, StatusCode::OK, "{requested}: {}", reply.json);
            assert_eq!(reply.json["scope"], granted, "{requested}");
        }
        for requested in ["admin", "read+%22x%22", "read%09x"] {
            assert_oauth_error(
                &form(client, path, &format!("grant_type=client_credentials&scope={requested}"), Some(&auth)).await,
                StatusCode::BAD_REQUEST,
                "invalid_scope",
            );
        }
        assert_oauth_error(
            &form(client, path, "grant_type=client_credentials&resource=not-a-uri", Some(&auth)).await,
            StatusCode::BAD_REQUEST,
            "invalid_target",
        );
        assert_oauth_error(
            &form(client, path, "grant_type=client_credentials&grant_type=client_credentials", Some(&auth)).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        let reply = client
            .raw(Method::POST, path, "application/json", r#"{"grant_type":"client_credentials"}"#, Auth::Header(&auth))
            .await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let reply = client.raw(Method::POST, path, FORM, "%%%=&&&", Auth::Header(&auth)).await;
        assert!(reply.status.is_client_error(), "malformed form: {}", reply.status);
        assert_eq!(client.json(Method::GET, path, None, Auth::None).await.status, StatusCode::METHOD_NOT_ALLOWED);
    })
    .await;
}

#[actix_web::test]
async fn introspection_needs_a_client_and_reports_only_live_tokens_of_its_tenant() {
    each_backend(async |client: &Client<'_>| {
        let acme = client.tenant("acme").await;
        client.tenant("umbrella").await;
        let app = register(client, "acme", json!({ "name": "svc", "grant_types": ["client_credentials"] })).await;
        let other = register(client, "umbrella", json!({ "name": "svc", "grant_types": ["client_credentials"] })).await;
        let auth = basic(&app.id, &app.secret);
        let issued = form(client, "/acme/oauth2/token", "grant_type=client_credentials", Some(&auth)).await;
        let token = issued.str("access_token");
        let introspect = async |tenant: &str, token: &str, auth: Option<&str>| {
            form(client, &format!("/{tenant}/oauth2/introspect"), &format!("token={token}"), auth).await
        };

        // A peer lets anyone introspect; Keygate needs client authentication.
        assert_oauth_error(&introspect("acme", &token, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
        assert_eq!(introspect("acme", &token, Some(&auth)).await.json["active"], true);

        // Another tenant's client sees the token as inactive there.
        let other_auth = basic(&other.id, &other.secret);
        assert_eq!(introspect("umbrella", &token, Some(&other_auth)).await.json, json!({ "active": false }));

        // Garbage and expired tokens are inactive, not errors.
        for garbage in ["nonsense", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
            let reply = introspect("acme", garbage, Some(&auth)).await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.json, json!({ "active": false }), "{garbage}");
        }
        let tenant_id: uuid::Uuid = acme.str("id").parse().unwrap();
        let key = client.rt.keys().active(client.rt.db(), tenant_id, Algorithm::RS256).await.unwrap();
        let expired = sign_jwt(
            &key,
            "at+jwt",
            &json!({ "iss": ISSUER, "sub": app.id, "exp": 1_000_000_000, "iat": 999_999_000 }),
        )
        .unwrap();
        assert_eq!(introspect("acme", &expired, Some(&auth)).await.json, json!({ "active": false }));

        // Revoked through the admin API: inactive from the next request on.
        let revoked = client
            .raw(
                Method::POST,
                "/admin/tenants/acme/revoked_tokens/revoke",
                FORM,
                &format!("token={token}"),
                Auth::Admin,
            )
            .await;
        assert_eq!(revoked.status, StatusCode::OK);
        assert_eq!(introspect("acme", &token, Some(&auth)).await.json, json!({ "active": false }));
    })
    .await;
}

#[actix_web::test]
async fn revocation_is_for_the_owning_client_and_takes_effect_immediately() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let owner = register(client, "acme", json!({ "name": "owner", "grant_types": ["client_credentials"] })).await;
        let stranger =
            register(client, "acme", json!({ "name": "stranger", "grant_types": ["client_credentials"] })).await;
        let owner_auth = basic(&owner.id, &owner.secret);
        let token = form(client, "/acme/oauth2/token", "grant_type=client_credentials", Some(&owner_auth))
            .await
            .str("access_token");
        let body = format!("token={token}&token_type_hint=access_token");
        let is_active = async || {
            form(client, "/acme/oauth2/introspect", &format!("token={token}"), Some(&owner_auth)).await.json["active"]
                == true
        };

        // A peer lets anyone revoke; Keygate needs client authentication...
        assert_oauth_error(
            &form(client, "/acme/oauth2/revoke", &body, None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );
        // ...and the token must have been issued to the client asking.
        let reply = form(client, "/acme/oauth2/revoke", &body, Some(&basic(&stranger.id, &stranger.secret))).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");
        assert!(is_active().await, "a refused revocation changes nothing");

        // A peer answers `revoked` while introspection still says active; here it is inactive at once.
        let reply = form(client, "/acme/oauth2/revoke", &body, Some(&owner_auth)).await;
        assert_eq!(reply.status, StatusCode::OK, "[{}] {}", client.backend, reply.json);
        assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");
        assert!(!is_active().await, "revoked tokens are inactive");
        let again = form(client, "/acme/oauth2/revoke", &body, Some(&owner_auth)).await;
        assert_eq!(again.status, StatusCode::OK, "revoking twice is fine");
        assert_eq!(client.scalar("SELECT CAST(COUNT(*) AS TEXT) FROM revoked_tokens").await.as_deref(), Some("1"));
        assert!(
            client.scalar("SELECT CAST(expires_at AS TEXT) FROM revoked_tokens").await.is_some(),
            "kept until the token expires"
        );

        // Unknown tokens are a 200 (RFC 7009 §2.2); a missing one is a malformed request.
        assert_eq!(
            form(client, "/acme/oauth2/revoke", "token=not-a-token", Some(&owner_auth)).await.status,
            StatusCode::OK
        );
        assert_oauth_error(
            &form(client, "/acme/oauth2/revoke", "token_type_hint=access_token", Some(&owner_auth)).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    })
    .await;
}

#[actix_web::test]
async fn each_client_can_have_its_access_tokens_signed_with_its_own_algorithm() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        for alg in ["RS256", "ES256", "EdDSA"] {
            let app = register(
                client,
                "acme",
                json!({ "name": alg, "grant_types": ["client_credentials"], "access_token_signed_response_alg": alg }),
            )
            .await;
            let reply =
                form(client, "/acme/oauth2/token", "grant_type=client_credentials", Some(&basic(&app.id, &app.secret)))
                    .await;
            let token = reply.str("access_token");
            assert_eq!(decode_header(&token).unwrap().alg, alg);
            let keys = jwks(client, "acme").await.keys;
            assert!(verify_jwt(&token, &keys).is_ok(), "[{}] {alg} token verifies with the JWKS", client.backend);
        }
        let bad = client
            .post("/admin/tenants/acme/clients", &json!({ "name": "x", "access_token_signed_response_alg": "HS256" }))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "HS256 is not offered");
    })
    .await;
}

#[actix_web::test]
async fn concurrent_first_uses_of_an_algorithm_create_one_key() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let app = register(
            client,
            "acme",
            json!({ "name": "burst", "grant_types": ["client_credentials"], "access_token_signed_response_alg": "ES256" }),
        )
        .await;
        let auth = basic(&app.id, &app.secret);
        let requests = (0..16).map(|_| form(client, "/acme/oauth2/token", "grant_type=client_credentials", Some(&auth)));
        let replies = futures_util::future::join_all(requests).await;
        assert!(replies.iter().all(|r| r.status == StatusCode::OK), "[{}] all issued", client.backend);
        let count = client.scalar("SELECT CAST(COUNT(*) AS TEXT) FROM keygate_signing_keys WHERE alg = 'ES256'").await;
        assert_eq!(count.as_deref(), Some("1"), "one key, however many requests raced to create it");
    })
    .await;
}

#[actix_web::test]
async fn metadata_lists_exactly_what_is_implemented() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let reply = client.json(Method::GET, "/.well-known/oauth-authorization-server/acme", None, Auth::None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        let doc = reply.json;
        // RFC 8414 §3.3: the issuer in the document is the one the URL was built from.
        assert_eq!(doc["issuer"], ISSUER);
        assert_eq!(doc["token_endpoint"], format!("{ISSUER}/oauth2/token"));
        assert_eq!(doc["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
        assert_eq!(doc["introspection_endpoint"], format!("{ISSUER}/oauth2/introspect"));
        assert_eq!(doc["revocation_endpoint"], format!("{ISSUER}/oauth2/revoke"));
        assert_eq!(doc["authorization_endpoint"], format!("{ISSUER}/oauth2/authorize"));
        assert_eq!(doc["userinfo_endpoint"], format!("{ISSUER}/oauth2/userinfo"));
        assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token", "client_credentials"]));
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]), "no `plain`");
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
        );
        assert_eq!(
            doc["introspection_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "private_key_jwt"])
        );
        // OIDC Discovery §4: the same document at the issuer's openid-configuration URL.
        let oidc = client.json(Method::GET, "/acme/.well-known/openid-configuration", None, Auth::None).await;
        assert_eq!(oidc.json, doc);

        // Every advertised URL answers (paths relative to the in-process server).
        let relative = |url: &Value| url.as_str().unwrap().trim_start_matches("http://127.0.0.1:8080").to_owned();
        assert_eq!(
            client.json(Method::GET, &relative(&doc["jwks_uri"]), None, Auth::None).await.status,
            StatusCode::OK
        );
        for endpoint in ["authorization_endpoint", "userinfo_endpoint"] {
            let reply = client.json(Method::GET, &relative(&doc[endpoint]), None, Auth::None).await;
            assert!(reply.status.is_client_error(), "{endpoint} is mounted and refuses an empty request");
        }
        for endpoint in ["token_endpoint", "introspection_endpoint", "revocation_endpoint"] {
            let reply = client.raw(Method::POST, &relative(&doc[endpoint]), FORM, "", Auth::None).await;
            assert!(reply.status.is_client_error(), "{endpoint}: {}", reply.status);
            assert!(
                reply.json["error"].is_string(),
                "{endpoint} is mounted and answers in RFC 6749 form: {}",
                reply.json
            );
        }
        let missing =
            client.json(Method::GET, "/.well-known/oauth-authorization-server/nobody", None, Auth::None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[actix_web::test]
async fn browser_apps_get_cors_only_from_origins_their_tenant_registered() {
    use actix_web::test::TestRequest;
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        client.tenant("globex").await;
        let spa = register(
            client,
            "acme",
            json!({ "name": "spa", "grant_types": ["client_credentials"], "allowed_cors_origins": ["https://spa.example"] }),
        )
        .await;
        // Another tenant's registration opens nothing at acme.
        register(client, "globex", json!({ "name": "x", "allowed_cors_origins": ["https://evil.example"] })).await;

        let preflight = |origin: &'static str, path: &'static str| {
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri(path)
                .insert_header(("origin", origin))
                .insert_header(("access-control-request-method", "POST"))
        };
        let allowed = client.send(preflight("https://spa.example", "/acme/oauth2/token")).await;
        assert_eq!(allowed.status, StatusCode::NO_CONTENT);
        assert_eq!(allowed.headers.get("access-control-allow-origin").unwrap(), "https://spa.example");
        assert_eq!(allowed.headers.get("access-control-allow-methods").unwrap(), "POST");
        assert!(allowed.headers.get("access-control-allow-headers").unwrap().to_str().unwrap().contains("Authorization"));
        assert!(allowed.headers.get("access-control-allow-credentials").is_none(), "never with cookies");
        let userinfo = client.send(preflight("https://spa.example", "/acme/oauth2/userinfo")).await;
        assert_eq!(userinfo.headers.get("access-control-allow-methods").unwrap(), "GET, POST");
        for (origin, path) in [
            ("https://evil.example", "/acme/oauth2/token"),
            ("https://spa.example", "/globex/oauth2/token"),
            ("https://spa.example.evil", "/acme/oauth2/revoke"),
        ] {
            let refused = client.send(preflight(origin, path)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{origin} at {path}");
            assert!(refused.headers.get("access-control-allow-origin").is_none());
        }

        // The actual request: the registered origin is echoed; others get no CORS header.
        let token = |origin: &'static str| {
            TestRequest::default()
                .method(Method::POST)
                .uri("/acme/oauth2/token")
                .insert_header(("origin", origin))
                .insert_header(("content-type", FORM))
                .insert_header(("authorization", basic(&spa.id, &spa.secret)))
                .set_payload("grant_type=client_credentials")
        };
        let reply = client.send(token("https://spa.example")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert_eq!(reply.headers.get("access-control-allow-origin").unwrap(), "https://spa.example");
        assert!(reply.headers.get_all("vary").any(|v| v == "Origin"));
        let reply = client.send(token("https://evil.example")).await;
        assert!(reply.headers.get("access-control-allow-origin").is_none());
        // Errors carry the header too, so the app can read them.
        let reply = client
            .send(
                TestRequest::default()
                    .method(Method::POST)
                    .uri("/acme/oauth2/token")
                    .insert_header(("origin", "https://spa.example"))
                    .insert_header(("content-type", FORM))
                    .set_payload("grant_type=client_credentials"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.headers.get("access-control-allow-origin").unwrap(), "https://spa.example");

        // Public documents: any origin.
        for path in ["/acme/.well-known/jwks.json", "/acme/.well-known/openid-configuration"] {
            let reply =
                client.send(TestRequest::get().uri(path).insert_header(("origin", "https://anyone.example"))).await;
            assert_eq!(reply.headers.get("access-control-allow-origin").unwrap(), "*", "{path}");
        }
    })
    .await;
}

#[actix_web::test]
async fn private_key_jwt_clients_authenticate_with_signed_single_use_assertions() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let key = keygate_runtime::jose::SigningKey::generate(Algorithm::ES256).unwrap();
        // Clients often register bare keys: no `kid`, no `alg`.
        let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
        jwk.as_object_mut().unwrap().retain(|k, _| !matches!(k.as_str(), "kid" | "alg"));
        let reply = client
            .post(
                "/admin/tenants/acme/clients",
                &json!({
                    "name": "signer", "grant_types": ["client_credentials"],
                    "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": [jwk] }
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        assert!(reply.json.get("client_secret").is_none_or(Value::is_null), "no secret for private_key_jwt");
        let id = reply.str("id");
        let now = chrono::Utc::now().timestamp();
        let assertion = |key: &keygate_runtime::jose::SigningKey, aud: &str, exp: i64| {
            let claims = json!({
                "iss": id, "sub": id, "aud": aud, "iat": now, "exp": exp,
                "jti": uuid::Uuid::new_v4().to_string(),
            });
            sign_jwt(key, "JWT", &claims).unwrap()
        };
        let body = |assertion: &str| {
            format!(
                "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
                "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
            )
        };
        let token_endpoint = format!("{ISSUER}/oauth2/token");
        let good = assertion(&key, &token_endpoint, now + 60);
        let reply = form(client, "/acme/oauth2/token", &body(&good), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert_eq!(decode_header(reply.json["access_token"].as_str().unwrap()).unwrap().typ.as_deref(), Some("at+jwt"));
        // The issuer is an accepted audience too (OIDC Core §9).
        let reply = form(client, "/acme/oauth2/token", &body(&assertion(&key, ISSUER, now + 60)), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);

        let stranger = keygate_runtime::jose::SigningKey::generate(Algorithm::ES256).unwrap();
        for (why, bad) in [
            ("replayed", good.clone()),
            ("another audience", assertion(&key, "https://elsewhere.example/token", now + 60)),
            ("expired", assertion(&key, &token_endpoint, now - keygate_runtime::jose::CLOCK_SKEW - 5)),
            ("valid for too long", assertion(&key, &token_endpoint, now + 86_400)),
            ("signed by an unregistered key", assertion(&stranger, &token_endpoint, now + 60)),
            ("not a JWT", "not.a.jwt".to_owned()),
        ] {
            let reply = form(client, "/acme/oauth2/token", &body(&bad), None).await;
            assert_oauth_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
            assert!(reply.headers.contains_key("www-authenticate"), "{why}");
        }
        let wrong_type = format!("grant_type=client_credentials&client_assertion_type=jwt&client_assertion={good}");
        assert_oauth_error(
            &form(client, "/acme/oauth2/token", &wrong_type, None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );

        // Registration refuses private keys and a private_key_jwt client without keys.
        let private = json!({ "keys": [{ "kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "secret" }] });
        for body in [
            json!({ "name": "leaky", "token_endpoint_auth_method": "private_key_jwt", "jwks": private }),
            json!({ "name": "keyless", "token_endpoint_auth_method": "private_key_jwt" }),
            json!({ "name": "not-a-set", "jwks": { "kty": "EC" } }),
        ] {
            let reply = client.post("/admin/tenants/acme/clients", &body).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.json);
            assert_eq!(reply.error_fields(), ["jwks"]);
        }
    })
    .await;
}

#[actix_web::test]
async fn each_tenant_sets_its_default_algorithm_and_token_lifetime() {
    each_backend(async |client: &Client<'_>| {
        let tenant = client.tenant("acme").await.str("id");
        let app = register(client, "acme", json!({ "name": "svc", "grant_types": ["client_credentials"] })).await;
        let auth = basic(&app.id, &app.secret);
        let issue = async || {
            let reply = form(client, "/acme/oauth2/token", "grant_type=client_credentials", Some(&auth)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
            reply.json["access_token"].as_str().unwrap().to_owned()
        };
        let token = issue().await;
        assert_eq!(decode_header(&token).unwrap().alg, "RS256", "the server default");

        let reply = client
            .patch(
                &format!("/admin/tenants/{tenant}"),
                &json!({ "default_signing_alg": "ES256", "access_token_lifetime": 120 }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        let token = issue().await;
        assert_eq!(decode_header(&token).unwrap().alg, "ES256");
        let claims = verify_jwt(&token, &jwks(client, "acme").await.keys).unwrap();
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);

        // Out-of-range settings are refused, naming the field.
        for body in [json!({ "access_token_lifetime": 5 }), json!({ "refresh_token_lifetime": 999_999_999 })] {
            let reply = client.patch(&format!("/admin/tenants/{tenant}"), &body).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
    })
    .await;
}

/// `auth: client` endpoints authenticate the client in the route, before the handler reads the
/// request: without a client every one of them is `invalid_client`, whatever else is missing,
/// and a public client (identified by `client_id` alone) may use the token and revocation
/// endpoints but not introspection, which serves confidential clients only.
#[actix_web::test]
async fn client_endpoints_authenticate_the_client_before_anything_else() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let spa = json!({ "name": "spa", "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"] });
        let public = client.post("/admin/tenants/acme/clients", &spa).await;
        assert_eq!(public.status, StatusCode::CREATED, "{}", public.json);
        for endpoint in ["token", "introspect", "revoke"] {
            let path = format!("/acme/oauth2/{endpoint}");
            // No grant_type or token either: the missing client is what is reported.
            assert_oauth_error(&form(client, &path, "", None).await, StatusCode::UNAUTHORIZED, "invalid_client");
            let unknown = format!("client_id={}", uuid::Uuid::new_v4());
            assert_oauth_error(&form(client, &path, &unknown, None).await, StatusCode::UNAUTHORIZED, "invalid_client");
        }
        let named = |rest: &str| format!("client_id={}&{rest}", public.str("id"));
        let introspect = form(client, "/acme/oauth2/introspect", &named("token=x"), None).await;
        assert_oauth_error(&introspect, StatusCode::UNAUTHORIZED, "invalid_client");
        let revoke = form(client, "/acme/oauth2/revoke", &named("token=x"), None).await;
        assert_eq!(revoke.status, StatusCode::OK, "a public client revokes its tokens: {}", revoke.json);
        // Past client authentication, the grant's own checks answer.
        let token = form(client, "/acme/oauth2/token", &named("grant_type=password"), None).await;
        assert_oauth_error(&token, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    })
    .await;
}
