//! Every refusal is written in its endpoint family's format, including those made before a
//! handler runs (body size, media type, method, malformed encoding, unknown route, unknown
//! tenant): RFC 6749 §5.2 JSON for OAuth endpoints, RFC 6750 §3 challenges for UserInfo, RFC 9457
//! problem+json for the account API, an HTML page for the browser pages. A database outage is a
//! 503 with `Retry-After`, never an authentication verdict.

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use support::{Auth, Client, Reply, each_backend};

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
/// `body_limit`'s default.
const LIMIT: usize = 65536;

/// A form body of exactly `size` bytes.
fn form_of(size: usize) -> String {
    format!("grant_type=client_credentials&pad={}", "a".repeat(size - 34))
}

/// A JSON body of exactly `size` bytes.
fn json_of(size: usize) -> String {
    format!("{{\"username\":\"ann\",\"pad\":\"{}\"}}", "a".repeat(size - 27))
}

async fn send(client: &Client<'_>, method: Method, path: &str, content_type: Option<&str>, body: String) -> Reply {
    let mut req = TestRequest::default().method(method).uri(path);
    if let Some(content_type) = content_type {
        req = req.insert_header(("content-type", content_type));
    }
    client.send(req.set_payload(body)).await
}

fn header(reply: &Reply, name: &str) -> String {
    reply.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

fn assert_oauth(reply: &Reply, status: StatusCode, what: &str) {
    assert_eq!(reply.status, status, "{what}: {} {}", reply.status, reply.text);
    assert!(header(reply, "content-type").starts_with("application/json"), "{what}: {:?}", reply.headers);
    assert_eq!(reply.json["error"], "invalid_request", "{what}: {}", reply.text);
    assert!(reply.json["error_description"].is_string(), "{what}: {}", reply.text);
    assert_eq!(header(reply, "cache-control"), "no-store", "{what}");
}

fn assert_bearer(reply: &Reply, status: StatusCode, what: &str) {
    assert_oauth(reply, status, what);
    let challenge = header(reply, "www-authenticate");
    assert!(challenge.starts_with("Bearer "), "{what}: {challenge}");
    assert!(challenge.contains("error=\"invalid_request\""), "{what}: {challenge}");
}

fn assert_problem(reply: &Reply, status: StatusCode, what: &str) {
    assert_eq!(reply.status, status, "{what}: {} {}", reply.status, reply.text);
    assert_eq!(header(reply, "content-type"), "application/problem+json", "{what}");
    assert_eq!(reply.json["status"], status.as_u16(), "{what}: {}", reply.text);
    assert!(reply.json["type"].is_string() && reply.json["detail"].is_string(), "{what}: {}", reply.text);
}

fn assert_page(reply: &Reply, status: StatusCode, what: &str) {
    assert_eq!(reply.status, status, "{what}: {} {}", reply.status, reply.text);
    assert!(header(reply, "content-type").starts_with("text/html"), "{what}: {:?}", reply.headers);
    assert!(reply.text.starts_with("<!DOCTYPE html>") && reply.text.contains("<h1>"), "{what}: {}", reply.text);
    assert_eq!(header(reply, "cache-control"), "no-store", "{what}");
    assert!(header(reply, "www-authenticate").is_empty(), "{what}: pages carry no challenge");
}

#[actix_web::test]
async fn oauth_endpoints_refuse_in_rfc_6749_json() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        for path in ["/acme/oauth2/token", "/acme/oauth2/introspect", "/acme/oauth2/revoke"] {
            let reply = send(client, Method::POST, path, Some(FORM), form_of(LIMIT + 1)).await;
            assert_oauth(&reply, StatusCode::PAYLOAD_TOO_LARGE, &format!("{path}: one byte over the limit"));
            let reply = send(client, Method::POST, path, Some(FORM), form_of(1 << 20)).await;
            assert_oauth(&reply, StatusCode::PAYLOAD_TOO_LARGE, &format!("{path}: 1 MiB"));
            // RFC 6749 §3.2 names form encoding; anything else is a malformed request (§5.2).
            let reply = send(client, Method::POST, path, Some(JSON), "{\"grant_type\":\"x\"}".into()).await;
            assert_oauth(&reply, StatusCode::BAD_REQUEST, &format!("{path}: JSON body"));
            let reply =
                send(client, Method::POST, path, Some(FORM), "grant_type=client_credentials&x=%zz".into()).await;
            assert_oauth(&reply, StatusCode::BAD_REQUEST, &format!("{path}: bad percent-encoding"));
            let reply =
                send(client, Method::POST, path, Some(FORM), "grant_type=client_credentials&x=%ff%fe".into()).await;
            assert_oauth(&reply, StatusCode::BAD_REQUEST, &format!("{path}: not UTF-8"));
        }
        let reply = send(client, Method::GET, "/acme/oauth2/token", None, String::new()).await;
        assert_oauth(&reply, StatusCode::METHOD_NOT_ALLOWED, "GET /token");
        assert!(header(&reply, "allow").contains("POST"), "{:?}", reply.headers);
        let reply = send(client, Method::POST, "/acme/oauth2/nope", Some(FORM), "a=b".into()).await;
        assert_oauth(&reply, StatusCode::NOT_FOUND, "unknown route under /oauth2");
        let reply = send(client, Method::POST, "/no-such-tenant/oauth2/token", Some(FORM), "a=b".into()).await;
        assert_oauth(&reply, StatusCode::NOT_FOUND, "unknown tenant");

        // Registration (RFC 7591 §3.2.2 uses the same shape) takes JSON.
        let register = "/acme/oauth2/register";
        let reply = send(client, Method::POST, register, Some(JSON), json_of(1 << 20)).await;
        assert_oauth(&reply, StatusCode::PAYLOAD_TOO_LARGE, "register: 1 MiB");
        let reply = send(client, Method::POST, register, Some(FORM), "redirect_uris=x".into()).await;
        assert_oauth(&reply, StatusCode::BAD_REQUEST, "register: form body");
        let reply = send(client, Method::POST, register, Some(JSON), "{\"redirect_uris\": [".into()).await;
        assert_oauth(&reply, StatusCode::BAD_REQUEST, "register: malformed JSON");
        let reply = send(client, Method::PATCH, "/acme/oauth2/register/x", Some(JSON), "{}".into()).await;
        assert_oauth(&reply, StatusCode::METHOD_NOT_ALLOWED, "PATCH /register/{id}");
    })
    .await;
}

#[actix_web::test]
async fn userinfo_refuses_with_an_rfc_6750_challenge() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let path = "/acme/oauth2/userinfo";
        let token = |size: usize| format!("access_token={}", "a".repeat(size - 13));
        let reply = send(client, Method::POST, path, Some(FORM), token(LIMIT + 1)).await;
        assert_bearer(&reply, StatusCode::PAYLOAD_TOO_LARGE, "one byte over the limit");
        let reply = send(client, Method::POST, path, Some(FORM), token(1 << 20)).await;
        assert_bearer(&reply, StatusCode::PAYLOAD_TOO_LARGE, "1 MiB");
        // OIDC Core §5.3.1 / RFC 6750 §2.2: a POSTed token is form-encoded.
        let reply = send(client, Method::POST, path, Some(JSON), "{\"access_token\":\"x\"}".into()).await;
        assert_bearer(&reply, StatusCode::BAD_REQUEST, "JSON body");
        let reply = send(client, Method::POST, path, Some(FORM), "access_token=%g0".into()).await;
        assert_bearer(&reply, StatusCode::BAD_REQUEST, "bad percent-encoding");
        let reply = send(client, Method::DELETE, path, None, String::new()).await;
        assert_bearer(&reply, StatusCode::METHOD_NOT_ALLOWED, "DELETE");
        assert!(header(&reply, "allow").contains("GET"), "{:?}", reply.headers);
    })
    .await;
}

#[actix_web::test]
async fn the_account_api_refuses_in_problem_json() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        for path in ["/acme/auth/login", "/acme/auth/register"] {
            let reply = send(client, Method::POST, path, Some(JSON), json_of(LIMIT + 1)).await;
            assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, &format!("{path}: one byte over the limit"));
            let reply = send(client, Method::POST, path, Some(JSON), json_of(1 << 20)).await;
            assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, &format!("{path}: 1 MiB"));
            let reply = send(client, Method::POST, path, Some(FORM), "username=ann".into()).await;
            assert_problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("{path}: form body"));
            let reply = send(client, Method::POST, path, Some(JSON), "{\"username\": ".into()).await;
            assert_problem(&reply, StatusCode::BAD_REQUEST, &format!("{path}: malformed JSON"));
            let reply = send(client, Method::PUT, path, Some(JSON), "{}".into()).await;
            assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, &format!("{path}: PUT"));
            assert_eq!(header(&reply, "allow"), "POST");
        }
        let reply = send(client, Method::GET, "/acme/auth/nope", None, String::new()).await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "unknown route under /auth");
        // The admin API's limit is the same one.
        let reply = send(client, Method::POST, "/admin/tenants", Some(JSON), json_of(LIMIT + 1)).await;
        assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "admin API: one byte over the limit");
    })
    .await;
}

#[actix_web::test]
async fn browser_pages_refuse_with_an_html_page() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let field = |size: usize| format!("request={}", "a".repeat(size - 8));
        for path in ["/acme/login", "/acme/consent", "/acme/logout", "/acme/oauth2/authorize", "/acme/oauth2/logout"] {
            let reply = send(client, Method::POST, path, Some(FORM), field(LIMIT + 1)).await;
            assert_page(&reply, StatusCode::PAYLOAD_TOO_LARGE, &format!("{path}: one byte over the limit"));
            let reply = send(client, Method::POST, path, Some(FORM), field(1 << 20)).await;
            assert_page(&reply, StatusCode::PAYLOAD_TOO_LARGE, &format!("{path}: 1 MiB"));
            let reply = send(client, Method::POST, path, Some(JSON), "{\"request\":\"x\"}".into()).await;
            assert_page(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("{path}: JSON body"));
            let reply = send(client, Method::POST, path, Some(FORM), "request=%e2%28%a1".into()).await;
            assert_page(&reply, StatusCode::BAD_REQUEST, &format!("{path}: not UTF-8"));
            let reply = send(client, Method::PUT, path, Some(FORM), "a=b".into()).await;
            assert_page(&reply, StatusCode::METHOD_NOT_ALLOWED, &format!("{path}: PUT"));
            assert!(header(&reply, "allow").contains("POST"), "{:?}", reply.headers);
        }
        let reply = send(client, Method::GET, "/acme/nope", None, String::new()).await;
        assert_page(&reply, StatusCode::NOT_FOUND, "unknown route under the tenant");
        // No route took the path, so the page speaks for no tenant.
        assert!(reply.text.contains("· Keygate</title>"), "unknown route under the tenant: {}", reply.text);
    })
    .await;
}

#[actix_web::test]
async fn a_tenant_named_admin_keeps_every_route_of_its_own() {
    // Routes are mounted in scopes by their leading segments (`/admin/tenants`, `/{tenant}`): the
    // tenant `admin` shares its first segment with the admin API, and each keeps its routes, its
    // 405s and its 404s.
    each_backend(async |client: &Client<'_>| {
        let tenant = client.tenant("admin").await.str("id");
        let reply = client.json(Method::GET, "/admin/.well-known/openid-configuration", None, Auth::None).await;
        assert_eq!(reply.status, StatusCode::OK, "discovery of the tenant admin: {}", reply.text);
        assert!(reply.str("issuer").ends_with("/admin"), "{}", reply.text);
        let reply = client.json(Method::GET, "/admin/.well-known/jwks.json", None, Auth::None).await;
        assert_eq!(reply.status, StatusCode::OK, "JWKS of the tenant admin: {}", reply.text);

        let path = "/admin/oauth2/token";
        let reply = send(client, Method::POST, path, Some(FORM), "grant_type=client_credentials".into()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}: {}", reply.text);
        assert_eq!(reply.json["error"], "invalid_client", "{path}: the token endpoint answers: {}", reply.text);
        let reply = send(client, Method::GET, path, None, String::new()).await;
        assert_oauth(&reply, StatusCode::METHOD_NOT_ALLOWED, "GET /admin/oauth2/token");
        let reply = send(client, Method::POST, "/admin/oauth2/nope", Some(FORM), "a=b".into()).await;
        assert_oauth(&reply, StatusCode::NOT_FOUND, "unknown route under the tenant admin's /oauth2");
        let reply = send(client, Method::PUT, "/admin/login", Some(FORM), "a=b".into()).await;
        assert_page(&reply, StatusCode::METHOD_NOT_ALLOWED, "PUT /admin/login");
        assert!(reply.text.contains("· admin</title>"), "the tenant admin's page: {}", reply.text);

        // The admin API is where it was; beside it, the nearest directory is the admin API's.
        let reply = client.get(&format!("/admin/tenants/{tenant}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.str("slug"), "admin");
        let reply = send(client, Method::PUT, "/admin/tenants", Some(JSON), "{}".into()).await;
        assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, "PUT /admin/tenants");
        for path in ["/admin/nope", "/admin/tenants/admin/nope", "/admin/tenants/"] {
            let reply = send(client, Method::GET, path, None, String::new()).await;
            assert_problem(&reply, StatusCode::NOT_FOUND, path);
        }
    })
    .await;
}

#[actix_web::test]
async fn a_database_outage_is_a_503_not_an_authentication_verdict() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let reply = client
            .post("/admin/tenants/acme/clients", &json!({ "name": "billing", "grant_types": ["client_credentials"] }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        let basic = format!("Basic {}", STANDARD.encode(format!("{}:{}", reply.str("id"), reply.str("client_secret"))));
        // Resolve the tenant once, so the request below reaches client authentication.
        let reply = client.json(Method::GET, "/acme/.well-known/openid-configuration", None, Auth::None).await;
        assert_eq!(reply.status, StatusCode::OK);

        client.rt.db().close_by_ref().await.expect("close the pool");

        for path in ["/acme/oauth2/token", "/acme/oauth2/introspect"] {
            let reply = client
                .raw(Method::POST, path, FORM, "grant_type=client_credentials&token=x", Auth::Header(&basic))
                .await;
            assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "[{}] {path}: {}", client.backend, reply.text);
            assert!(header(&reply, "retry-after").parse::<u32>().is_ok(), "{path}: {:?}", reply.headers);
            assert_eq!(reply.json["error"], "temporarily_unavailable", "{path}: {}", reply.text);
            assert!(header(&reply, "www-authenticate").is_empty(), "{path}: no challenge: it is no verdict");
        }
    })
    .await;
}
