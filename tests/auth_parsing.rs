//! HTTP and JWT parsing done once, by the rules: `Authorization` scheme names are
//! case-insensitive everywhere (RFC 9110 §11.1), and the time claims of client assertions hold
//! within one clock-skew allowance (RFC 7519 §4.1.4–§4.1.6, RFC 7523 §3).

mod support;

use actix_web::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keygate_runtime::jose::{Algorithm, CLOCK_SKEW, SigningKey, sign_jwt};
use serde_json::{Value, json};
use support::{ADMIN_TOKEN, Auth, Client, Reply, each_backend};

const FORM: &str = "application/x-www-form-urlencoded";
const TOKEN_ENDPOINT: &str = "http://127.0.0.1:8080/acme/oauth2/token";
const PASSWORD: &str = "correct horse battery";

fn expect(reply: &Reply, status: StatusCode, what: &str, backend: &str) {
    assert_eq!(reply.status, status, "[{backend}] {what}: {}", reply.json);
}

/// A user of acme signed in through the account API: an access token granted `openid`.
async fn user_token(client: &Client<'_>) -> String {
    let user = json!({ "username": "ann", "email": "ann@example.com", "password": PASSWORD });
    expect(&client.post("/admin/tenants/acme/users", &user).await, StatusCode::CREATED, "user", client.backend);
    let login = json!({ "username": "ann", "password": PASSWORD });
    let reply = client.json(Method::POST, "/acme/auth/login", Some(&login), Auth::None).await;
    expect(&reply, StatusCode::OK, "sign-in", client.backend);
    reply.str("access_token")
}

#[actix_web::test]
async fn auth_scheme_names_are_case_insensitive_everywhere() {
    each_backend(async |client: &Client<'_>| {
        let backend = client.backend;
        client.tenant("acme").await;

        // The admin API.
        for value in
            [format!("BEARER {ADMIN_TOKEN}"), format!("bearer   {ADMIN_TOKEN}"), format!("BeArEr {ADMIN_TOKEN}")]
        {
            let reply = client.json(Method::GET, "/admin/tenants", None, Auth::Header(&value)).await;
            expect(&reply, StatusCode::OK, &value, backend);
        }
        let basic = format!("Basic {}", STANDARD.encode(format!("admin:{ADMIN_TOKEN}")));
        let reply = client.json(Method::GET, "/admin/tenants", None, Auth::Header(&basic)).await;
        expect(&reply, StatusCode::UNAUTHORIZED, "Basic is not the admin API's scheme", backend);

        // The token endpoint.
        let app = client
            .post("/admin/tenants/acme/clients", &json!({ "name": "svc", "grant_types": ["client_credentials"] }))
            .await;
        expect(&app, StatusCode::CREATED, "client", backend);
        let credentials = STANDARD.encode(format!("{}:{}", app.str("id"), app.str("client_secret")));
        for scheme in ["BASIC", "basic", "Basic"] {
            let value = format!("{scheme}  {credentials}");
            let reply = client
                .raw(Method::POST, "/acme/oauth2/token", FORM, "grant_type=client_credentials", Auth::Header(&value))
                .await;
            expect(&reply, StatusCode::OK, &value, backend);
        }
        let bearer = format!("Bearer {credentials}");
        let reply = client
            .raw(Method::POST, "/acme/oauth2/token", FORM, "grant_type=client_credentials", Auth::Header(&bearer))
            .await;
        expect(&reply, StatusCode::UNAUTHORIZED, "Bearer is not a client authentication", backend);
        assert_eq!(reply.json["error"], "invalid_client");

        // UserInfo and the account API.
        let token = user_token(client).await;
        for value in [format!("BEARER {token}"), format!("bearer {token}"), format!(" Bearer  {token} ")] {
            let reply = client.json(Method::GET, "/acme/oauth2/userinfo", None, Auth::Header(&value)).await;
            expect(&reply, StatusCode::OK, &format!("userinfo {value}"), backend);
            assert_eq!(reply.json["preferred_username"], "ann");
            let reply = client.json(Method::GET, "/acme/auth/me", None, Auth::Header(&value)).await;
            expect(&reply, StatusCode::OK, &format!("/auth/me {value}"), backend);
        }
        let malformed = format!("Bearer {token} extra");
        let reply = client.json(Method::GET, "/acme/oauth2/userinfo", None, Auth::Header(&malformed)).await;
        expect(&reply, StatusCode::BAD_REQUEST, "not a token68", backend);
        assert_eq!(reply.json["error"], "invalid_request");

        // Registration with an initial access token, and RFC 7592 client configuration.
        let initial = client.post("/admin/tenants/acme/initial_access_tokens", &json!({ "label": "ci" })).await;
        expect(&initial, StatusCode::CREATED, "initial access token", backend);
        let metadata = json!({ "client_name": "dyn", "redirect_uris": ["http://127.0.0.1:9/cb"] });
        let value = format!("BEARER {}", initial.str("token"));
        let registered =
            client.json(Method::POST, "/acme/oauth2/register", Some(&metadata), Auth::Header(&value)).await;
        expect(&registered, StatusCode::CREATED, "registration with BEARER", backend);
        let configuration = format!("/acme/oauth2/register/{}", registered.str("client_id"));
        let value = format!("bearer {}", registered.str("registration_access_token"));
        let read = client.json(Method::GET, &configuration, None, Auth::Header(&value)).await;
        expect(&read, StatusCode::OK, "client configuration with bearer", backend);
    })
    .await;
}

/// A `private_key_jwt` client of acme and its key.
async fn signer(client: &Client<'_>) -> (String, SigningKey) {
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let body = json!({
        "name": "signer", "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": [key.public_jwk()] }
    });
    let reply = client.post("/admin/tenants/acme/clients", &body).await;
    expect(&reply, StatusCode::CREATED, "private_key_jwt client", client.backend);
    (reply.str("id"), key)
}

/// Presents an assertion with `times` merged over a valid set of claims (`null` removes one) at
/// the token endpoint.
async fn present(client: &Client<'_>, id: &str, key: &SigningKey, times: &Value) -> Reply {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": id, "sub": id, "aud": TOKEN_ENDPOINT, "iat": now, "exp": now + 60,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    for (name, value) in times.as_object().unwrap() {
        match value {
            Value::Null => drop(claims.as_object_mut().unwrap().remove(name)),
            value => claims[name] = value.clone(),
        }
    }
    let body = format!(
        "grant_type=client_credentials&client_assertion_type={}&client_assertion={}",
        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
        sign_jwt(key, "JWT", &claims).unwrap()
    );
    client.raw(Method::POST, "/acme/oauth2/token", FORM, &body, Auth::None).await
}

#[actix_web::test]
async fn client_assertion_time_claims_hold_within_one_clock_skew_allowance() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (id, key) = signer(client).await;
        let now = chrono::Utc::now().timestamp();
        let day = 86_400;
        let margin = 10;
        for (why, times) in [
            ("not valid for another day", json!({ "nbf": now + day })),
            ("issued a day from now", json!({ "iat": now + day })),
            ("expired beyond the allowance", json!({ "exp": now - CLOCK_SKEW - margin })),
            ("not valid yet beyond the allowance", json!({ "nbf": now + CLOCK_SKEW + margin })),
            ("`exp` is not a NumericDate", json!({ "exp": (now + 60).to_string() })),
            ("`nbf` is not a NumericDate", json!({ "nbf": now.to_string() })),
            ("`iat` is not a NumericDate", json!({ "iat": true })),
            ("no `exp`", json!({ "exp": null })),
        ] {
            let reply = present(client, &id, &key, &times).await;
            expect(&reply, StatusCode::UNAUTHORIZED, why, client.backend);
            assert_eq!(reply.json["error"], "invalid_client", "{why}");
        }
        for (why, times) in [
            ("expired, within the allowance", json!({ "exp": now - CLOCK_SKEW + margin })),
            ("not valid yet, within the allowance", json!({ "nbf": now + CLOCK_SKEW - margin })),
            ("issued ahead, within the allowance", json!({ "iat": now + CLOCK_SKEW - margin })),
            ("fractional NumericDates", json!({ "iat": now as f64 - 0.5, "exp": now as f64 + 60.5 })),
        ] {
            let reply = present(client, &id, &key, &times).await;
            expect(&reply, StatusCode::OK, why, client.backend);
        }
    })
    .await;
}
