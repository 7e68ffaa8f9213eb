//! Dynamic client registration (RFC 7591) as standard relying parties use it: the tenant's
//! registration policy, what discovery advertises under it, scopes treated as sets and
//! granted by one rule (RFC 6749 §3.3) at every endpoint, and the CORS origins of browser apps
//! that register themselves (`allowed_cors_origins`, and its default for public clients) — over
//! real loopback HTTP.

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

/// A CORS preflight (Fetch standard) for a `POST` to the tenant's token endpoint from a page at
/// `origin`: (status, the `Access-Control-Allow-Origin` answered).
async fn preflight(server: &LiveServer, origin: &str) -> (u16, Option<String>) {
    let response = awc::Client::default()
        .request(awc::http::Method::OPTIONS, format!("{}/acme/oauth2/token", server.base))
        .insert_header(("origin", origin))
        .insert_header(("access-control-request-method", "POST"))
        .insert_header(("access-control-request-headers", "content-type"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), allowed_origin(response.headers()))
}

fn allowed_origin(headers: &awc::http::header::HeaderMap) -> Option<String> {
    headers.get("access-control-allow-origin").map(|value| value.to_str().unwrap().to_owned())
}

/// A public client's token request (`client_id` in the body, RFC 6749 §2.3.1 `none`) as a page at
/// `origin` sends it: (status, body, the `Access-Control-Allow-Origin` answered).
async fn token_from(server: &LiveServer, origin: &str, fields: &[(&str, &str)]) -> (u16, Value, Option<String>) {
    let mut response = awc::Client::default()
        .post(format!("{}/acme/oauth2/token", server.base))
        .insert_header(("origin", origin))
        .send_form(&fields)
        .await
        .unwrap();
    let allowed = allowed_origin(response.headers());
    let bytes = response.body().await.unwrap();
    (response.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null), allowed)
}

/// How many clients the tenant `acme` has.
async fn client_count(server: &LiveServer) -> usize {
    let url = format!("{}/admin/tenants/acme/clients?limit=100", server.base);
    let (status, list) = call("GET", &url, Some(ADMIN_TOKEN), None).await;
    assert_eq!(status, 200, "{list}");
    list["items"].as_array().unwrap().len()
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

#[actix_web::test]
async fn a_client_registers_its_cors_origins_and_only_those_are_allowed() {
    each_live_backend(async |server: &LiveServer| {
        open_tenant(server).await;
        // A preflight before the client exists is refused, and fills the tenant's origin cache:
        // registering must drop it.
        assert_eq!(preflight(server, "https://spa.example").await, (403, None));
        let (status, registered) = register(
            server,
            json!({
                "redirect_uris": ["https://spa.example/cb"],
                "allowed_cors_origins": ["HTTPS://SPA.Example:443", "http://localhost:4300", "https://spa.example"],
            }),
        )
        .await;
        assert_eq!(status, 201, "{registered}");
        assert_eq!(registered["token_endpoint_auth_method"], "client_secret_basic");
        // Stored as browsers send them (RFC 6454 §6.1), without repeats, and returned (§3.2.1).
        let normalized = json!(["https://spa.example", "http://localhost:4300"]);
        assert_eq!(registered["allowed_cors_origins"], normalized);
        for origin in ["https://spa.example", "http://localhost:4300"] {
            assert_eq!(preflight(server, origin).await, (204, Some(origin.to_owned())), "{origin}");
        }
        for origin in ["https://other.example", "https://spa.example:8443", "http://spa.example", "null"] {
            assert_eq!(preflight(server, origin).await, (403, None), "{origin}");
        }
        // RFC 7592 §2.1: the client's read returns them too.
        let configuration = registered["registration_client_uri"].as_str().unwrap();
        let token = registered["registration_access_token"].as_str().unwrap();
        let (status, read) = call("GET", configuration, Some(token), None).await;
        assert_eq!((status, &read["allowed_cors_origins"]), (200, &normalized), "{read}");
    })
    .await;
}

#[actix_web::test]
async fn a_public_client_without_cors_origins_gets_its_redirect_uris_origins() {
    each_live_backend(async |server: &LiveServer| {
        open_tenant(server).await;
        let spa_origin = "http://127.0.0.1:9"; // REDIRECT's
        assert_eq!(preflight(server, spa_origin).await, (403, None), "nothing registered yet");
        // What a standards-following single-page app sends: it knows no CORS extension.
        let (status, spa) = register(
            server,
            json!({
                "client_name": "SPA",
                "redirect_uris": [REDIRECT, "http://127.0.0.1:9/silent-renew", "https://SPA.example:443/cb"],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none",
            }),
        )
        .await;
        assert_eq!(status, 201, "{spa}");
        assert_eq!(spa["allowed_cors_origins"], json!([spa_origin, "https://spa.example"]), "distinct, normalized");
        assert_eq!(preflight(server, spa_origin).await, (204, Some(spa_origin.to_owned())));
        assert_eq!(preflight(server, "https://spa.example").await.0, 204);
        assert_eq!(preflight(server, "http://127.0.0.1:10").await, (403, None), "another port, another origin");

        // The page redeems its code cross-origin and can read the answer.
        let id = spa["client_id"].as_str().unwrap();
        let back = sign_in(&Browser::new(), &authorize_url(server, id, "openid email"), "alice", PASSWORD).await;
        assert_eq!(back.status, 303, "{}", back.body);
        let code = back.redirect_params().get("code").cloned().expect("a code");
        let redeem = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", id),
        ];
        let (status, tokens, allowed) = token_from(server, spa_origin, &redeem).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(allowed.as_deref(), Some(spa_origin));
        assert!(tokens["access_token"].is_string());
        let refresh = [
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", id),
        ];
        let (status, body, allowed) = token_from(server, "https://elsewhere.example", &refresh).await;
        assert_eq!((status, allowed), (200, None), "answered, but not readable by another origin: {body}");

        // A confidential client calls from its server: no default.
        let (status, web) = register(server, json!({ "redirect_uris": ["https://web.example/cb"] })).await;
        assert_eq!((status, &web["allowed_cors_origins"]), (201, &json!([])), "{web}");
        assert_eq!(preflight(server, "https://web.example").await, (403, None));
        // Nor a native app, whose redirects the app receives itself (RFC 8252 §7).
        let native = json!({
            "application_type": "native", "token_endpoint_auth_method": "none",
            "redirect_uris": ["com.example.app:/cb", "http://127.0.0.1:7000/cb"],
        });
        let (status, native) = register(server, native).await;
        assert_eq!((status, &native["allowed_cors_origins"]), (201, &json!([])), "{native}");
        assert_eq!(preflight(server, "http://127.0.0.1:7000").await, (403, None));
        // An explicit list, even an empty one, is what the client asked for.
        for (asked, stored) in
            [(json!([]), json!([])), (json!(["https://app.example"]), json!(["https://app.example"]))]
        {
            let metadata = json!({
                "token_endpoint_auth_method": "none",
                "redirect_uris": ["https://public.example/cb"], "allowed_cors_origins": asked,
            });
            let (status, public) = register(server, metadata).await;
            assert_eq!((status, &public["allowed_cors_origins"]), (201, &stored), "{public}");
        }
        assert_eq!(preflight(server, "https://public.example").await, (403, None));
    })
    .await;
}

#[actix_web::test]
async fn cors_origins_are_checked_like_the_admin_apis_and_an_update_takes_effect_at_once() {
    each_live_backend(async |server: &LiveServer| {
        open_tenant(server).await;
        // RFC 7591 §3.2.2: refused, naming the field and the value; nothing stored.
        for bad in [
            json!(["https://spa.example/"]),
            json!(["https://spa.example/app"]),
            json!(["https://spa.example", "*"]),
            json!(["null"]),
            json!(["ftp://spa.example"]),
            json!(["https://user@spa.example"]),
            json!(["not an origin"]),
            json!([42]),
            json!("https://spa.example"),
        ] {
            let metadata = json!({
                "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "allowed_cors_origins": bad,
            });
            let (status, body) = register(server, metadata).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{bad}: {body}");
            let description = body["error_description"].as_str().unwrap();
            assert!(description.contains("allowed_cors_origins"), "{bad}: {description}");
        }
        let (status, body) =
            register(server, json!({ "redirect_uris": [REDIRECT], "allowed_cors_origins": ["https://spa.example/"] }))
                .await;
        assert_eq!(status, 400);
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains("`https://spa.example/`") && description.contains("RFC 6454"), "{description}");
        assert_eq!(client_count(server).await, 0, "nothing refused was registered");
        assert_eq!(preflight(server, "http://127.0.0.1:9").await, (403, None), "no default from a refusal");

        let metadata = json!({
            "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
            "allowed_cors_origins": ["https://a.example"],
        });
        let (status, registered) = register(server, metadata.clone()).await;
        assert_eq!(status, 201, "{registered}");
        let configuration = registered["registration_client_uri"].as_str().unwrap();
        let token = registered["registration_access_token"].as_str().unwrap();
        assert_eq!(preflight(server, "https://a.example").await.0, 204, "and now cached");

        // RFC 7592 §2.2: a replacement that changes the origins applies on the next request.
        let mut replacement = metadata.clone();
        replacement["client_id"] = registered["client_id"].clone();
        replacement["allowed_cors_origins"] = json!(["https://B.example"]);
        let (status, updated) = call("PUT", configuration, Some(token), Some(replacement.clone())).await;
        assert_eq!((status, &updated["allowed_cors_origins"]), (200, &json!(["https://b.example"])), "{updated}");
        assert_eq!(preflight(server, "https://a.example").await, (403, None));
        assert_eq!(preflight(server, "https://b.example").await, (204, Some("https://b.example".to_owned())));

        // A refused replacement changes nothing.
        replacement["allowed_cors_origins"] = json!(["https://c.example/"]);
        let (status, body) = call("PUT", configuration, Some(token), Some(replacement.clone())).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
        let (_, read) = call("GET", configuration, Some(token), None).await;
        assert_eq!(read["allowed_cors_origins"], json!(["https://b.example"]));
        assert_eq!(preflight(server, "https://b.example").await.0, 204);

        // A replacement without them is a public client without them: its redirect URIs' origins.
        replacement.as_object_mut().unwrap().remove("allowed_cors_origins");
        replacement["redirect_uris"] = json!(["https://app.example/cb"]);
        let (status, updated) = call("PUT", configuration, Some(token), Some(replacement)).await;
        assert_eq!((status, &updated["allowed_cors_origins"]), (200, &json!(["https://app.example"])), "{updated}");
        assert_eq!(preflight(server, "https://app.example").await.0, 204);
        assert_eq!(preflight(server, "https://b.example").await, (403, None));

        // Deleting the client (RFC 7592 §2.3) withdraws them.
        let (status, _) = call("DELETE", configuration, Some(token), None).await;
        assert_eq!(status, 204);
        assert_eq!(preflight(server, "https://app.example").await, (403, None));
    })
    .await;
}
