//! Dynamic client registration (RFC 7591) as standard relying parties use it: the tenant's
//! registration policy, what discovery advertises under it, and scopes treated as sets and
//! granted by one rule (RFC 6749 §3.3) at every endpoint — over real loopback HTTP.

mod oidc;
mod support;

use oidc::browser::{Browser, sign_in};
use serde_json::{Value, json};
use support::{ADMIN_TOKEN, LiveServer, databases};

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const PASSWORD: &str = "correct horse battery";
/// A PKCE pair: CHALLENGE is BASE64URL(SHA-256(VERIFIER)) (RFC 7636 §4.2).
const VERIFIER: &str = "keygate-registration-test-verifier-0123456789";
const CHALLENGE: &str = "5dw4vhGIbGY43iyKDAUDuLG__zogMN1_1JAbpx2cumw";

/// One JSON call: (status, body).
async fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut request = awc::Client::default().request(awc::http::Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some(token) = token {
        request = request.insert_header(("authorization", format!("Bearer {token}")));
    }
    let mut response = match body {
        Some(body) => request.send_json(&body).await.unwrap(),
        None => request.send().await.unwrap(),
    };
    let bytes = response.body().await.unwrap();
    (response.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The tenant `acme` with user alice, whose registration is `open`; returns the tenant's id.
async fn open_tenant(server: &LiveServer) -> String {
    let admin = |path: &str| format!("{}/admin{path}", server.base);
    let (status, tenant) =
        call("POST", &admin("/tenants"), Some(ADMIN_TOKEN), Some(json!({ "slug": "acme", "name": "Acme" }))).await;
    assert_eq!(status, 201, "{tenant}");
    let user = json!({ "username": "alice", "email": "alice@example.com", "password": PASSWORD });
    assert_eq!(call("POST", &admin("/tenants/acme/users"), Some(ADMIN_TOKEN), Some(user)).await.0, 201);
    let id = tenant["id"].as_str().unwrap().to_owned();
    set_tenant(server, &id, json!({ "registration": "open" })).await;
    id
}

/// PATCHes the tenant and expects 200.
async fn set_tenant(server: &LiveServer, id: &str, body: Value) -> Value {
    let (status, tenant) =
        call("PATCH", &format!("{}/admin/tenants/{id}", server.base), Some(ADMIN_TOKEN), Some(body.clone())).await;
    assert_eq!(status, 200, "{body}: {tenant}");
    tenant
}

async fn discovery(server: &LiveServer) -> Value {
    call("GET", &format!("{}/acme/.well-known/openid-configuration", server.base), None, None).await.1
}

async fn register(server: &LiveServer, metadata: Value) -> (u16, Value) {
    call("POST", &format!("{}/acme/oauth2/register", server.base), None, Some(metadata)).await
}

/// A token request authenticated with `client_secret_basic`.
async fn token(server: &LiveServer, id: &str, secret: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let mut response = awc::Client::default()
        .post(format!("{}/acme/oauth2/token", server.base))
        .insert_header(("authorization", format!("Basic {basic}")))
        .send_form(&fields)
        .await
        .unwrap();
    let bytes = response.body().await.unwrap();
    (response.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn authorize_url(server: &LiveServer, client_id: &str, scope: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "s1")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{}/acme/oauth2/authorize?{query}", server.base)
}

/// Runs `check` against a live server per backend.
async fn each_live_backend<F: AsyncFn(&LiveServer)>(check: F) {
    for db in databases().await {
        let server = LiveServer::start(&db).await;
        check(&server).await;
        server.stop().await;
    }
}

#[actix_web::test]
async fn a_standard_registration_gets_a_working_confidential_client() {
    each_live_backend(async |server: &LiveServer| {
        open_tenant(server).await;
        // What a spec-strict RP library sends (no `scope`: OIDC Dynamic Client Registration has none).
        let (status, registered) = register(
            server,
            json!({
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            }),
        )
        .await;
        assert_eq!(status, 201, "{registered}");
        assert_eq!(registered["grant_types"], json!(["authorization_code", "refresh_token", "client_credentials"]));
        assert_eq!(registered["scope"], "openid profile email", "the tenant's default scopes");
        let id = registered["client_id"].as_str().unwrap().to_owned();
        let secret = registered["client_secret"].as_str().unwrap().to_owned();

        // client_credentials works; the scope granted is the requested subset, as a set.
        let (status, body) = token(server, &id, &secret, &[("grant_type", "client_credentials")]).await;
        assert_eq!((status, body["scope"].as_str()), (200, Some("openid profile email")), "{body}");
        let (status, body) =
            token(server, &id, &secret, &[("grant_type", "client_credentials"), ("scope", "email email admin")]).await;
        assert_eq!((status, body["scope"].as_str()), (200, Some("email")), "{body}");
        let (status, body) =
            token(server, &id, &secret, &[("grant_type", "client_credentials"), ("scope", "admin")]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");

        // The standard scopes work at the authorization endpoint; repeats and unknown ones drop.
        let browser = Browser::new();
        let url = authorize_url(server, &id, "openid email profile email offline_access");
        let back = sign_in(&browser, &url, "alice", PASSWORD).await;
        assert_eq!(back.status, 303, "{}", back.body);
        let params = back.redirect_params();
        assert!(back.location.as_deref().unwrap().starts_with(REDIRECT), "{params:?}");
        let code = params.get("code").unwrap_or_else(|| panic!("a code, not {params:?}"));
        let (status, tokens) = token(
            server,
            &id,
            &secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["scope"], "openid email profile");
        assert!(tokens["id_token"].is_string());

        // Refresh: a scope is a set, a subset is granted, nothing held is invalid_scope.
        let mut refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        for (requested, granted) in
            [("openid openid", "openid"), ("email admin", "email"), ("", "openid email profile")]
        {
            let (status, body) = token(
                server,
                &id,
                &secret,
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", requested)],
            )
            .await;
            assert_eq!((status, body["scope"].as_str()), (200, Some(granted)), "{requested}: {body}");
            refresh = body["refresh_token"].as_str().unwrap().to_owned();
        }
        for requested in ["admin", "open\"id"] {
            let (status, body) = token(
                server,
                &id,
                &secret,
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", requested)],
            )
            .await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{requested}: {body}");
        }
    })
    .await;
}

#[actix_web::test]
async fn the_tenant_policy_decides_what_registration_allows_and_discovery_advertises() {
    each_live_backend(async |server: &LiveServer| {
        let tenant = open_tenant(server).await;
        let doc = discovery(server).await;
        assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token", "client_credentials"]));
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
        );
        assert_eq!(doc["scopes_supported"], json!(["openid", "profile", "email"]));

        // Narrowed: discovery follows at once (it is cached per tenant, with the settings).
        let stored = set_tenant(
            server,
            &tenant,
            json!({
                "registration_grant_types": ["authorization_code", "refresh_token", "refresh_token"],
                "registration_auth_methods": ["client_secret_basic", "none"],
                "registration_scopes": ["openid", "profile", "api:read"],
            }),
        )
        .await;
        assert_eq!(stored["registration_grant_types"], json!(["authorization_code", "refresh_token"]), "a set");
        let doc = discovery(server).await;
        assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
        assert_eq!(doc["token_endpoint_auth_methods_supported"], json!(["client_secret_basic", "none"]));
        assert_eq!(doc["revocation_endpoint_auth_methods_supported"], json!(["client_secret_basic", "none"]));
        assert_eq!(doc["introspection_endpoint_auth_methods_supported"], json!(["client_secret_basic"]));
        assert_eq!(doc["scopes_supported"], json!(["openid", "profile", "api:read"]));
        let rfc8414 = format!("{}/.well-known/oauth-authorization-server/acme", server.base);
        assert_eq!(call("GET", &rfc8414, None, None).await.1, doc);

        // Outside the policy: refused, naming what the tenant allows (RFC 7591 §3.2.2).
        let base = json!({ "redirect_uris": [REDIRECT] });
        for (extra, allowed) in [
            (json!({ "grant_types": ["client_credentials"] }), "authorization_code, refresh_token"),
            (json!({ "token_endpoint_auth_method": "client_secret_post" }), "client_secret_basic, none"),
            (json!({ "scope": "openid email" }), "openid profile api:read"),
        ] {
            let mut metadata = base.clone();
            metadata.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            let (status, body) = register(server, metadata).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{extra}: {body}");
            let description = body["error_description"].as_str().unwrap();
            assert!(description.contains("registration policy") && description.contains(allowed), "{description}");
        }
        let (status, body) = register(server, json!({ "redirect_uris": [REDIRECT], "scope": "openid \"x\"" })).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
        // Within it: registered as asked; without `scope`, every scope the policy allows.
        let (status, body) =
            register(server, json!({ "redirect_uris": [REDIRECT], "scope": "api:read openid api:read" })).await;
        assert_eq!((status, body["scope"].as_str()), (201, Some("api:read openid")), "{body}");
        let (status, body) = register(server, base.clone()).await;
        assert_eq!((status, body["scope"].as_str()), (201, Some("openid profile api:read")), "{body}");

        // Policy values are checked where they are stored: 422 naming the field.
        for (field, bad) in [
            ("registration_grant_types", json!(["password"])),
            ("registration_grant_types", json!([])),
            ("registration_auth_methods", json!(["client_secret_jwt"])),
            ("registration_scopes", json!(["two words"])),
        ] {
            let url = format!("{}/admin/tenants/{tenant}", server.base);
            let (status, body) = call("PATCH", &url, Some(ADMIN_TOKEN), Some(json!({ field: bad }))).await;
            assert_eq!(status, 422, "{field}: {bad}: {body}");
            assert!(body.to_string().contains(field), "{body}");
        }
        let (status, body) = call(
            "POST",
            &format!("{}/admin/tenants", server.base),
            Some(ADMIN_TOKEN),
            Some(json!({ "slug": "other", "name": "Other", "registration_auth_methods": ["tls_client_auth"] })),
        )
        .await;
        assert_eq!(status, 422, "{body}");

        // Closed: no registration endpoint, and the server's own capabilities are advertised.
        set_tenant(server, &tenant, json!({ "registration": "closed" })).await;
        let doc = discovery(server).await;
        assert!(doc.get("registration_endpoint").is_none(), "{doc}");
        assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token", "client_credentials"]));
        // Null restores the defaults.
        set_tenant(
            server,
            &tenant,
            json!({
                "registration": "open", "registration_grant_types": null,
                "registration_auth_methods": null, "registration_scopes": null
            }),
        )
        .await;
        let doc = discovery(server).await;
        assert!(doc["registration_endpoint"].is_string());
        assert_eq!(doc["scopes_supported"], json!(["openid", "profile", "email"]));
        let (status, body) = register(server, json!({ "grant_types": ["client_credentials"] })).await;
        assert_eq!((status, body["response_types"].clone()), (201, json!([])), "{body}");
        let (status, body) =
            register(server, json!({ "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none" }))
                .await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    })
    .await;
}
