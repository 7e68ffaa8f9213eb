//! URIs a client registers are parsed (RFC 3986) and checked on every path that stores them —
//! the admin API's create and update, dynamic registration (RFC 7591) and its update (RFC 7592) —
//! and the protocol endpoints that act on them compare parsed values: redirect URIs (RFC 6749
//! §3.1.2, OAuth 2.1 §2.3.1, RFC 8252 §7, §8.3), CORS origins (RFC 6454) and resource
//! indicators (RFC 8707 §2).

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use support::{Auth, Client, Reply, each_backend};

/// Redirect URIs no client may register, whatever its application type.
const HOSTILE: &[&str] = &[
    "http://localhost:80@evil.example/cb",
    "https://app.example@evil.example/cb",
    "http://127.0.0.1.evil.example/cb",
    "http://app.example/cb",
    "HTTP://evil.example/cb",
    "https://app.example/cb#fragment",
    "https://app.example\\@evil.example/cb",
    "https://app.example/ cb",
    " https://app.example/cb",
    "https://evil%2eexample/cb",
    "http://%6c%6fcalhost/cb",
    "javascript:alert(1)",
    "not a uri",
    "/cb",
    "",
];

/// Redirect URIs web clients may not register but native ones may (RFC 8252 §7.1).
const NATIVE_ONLY: &[&str] = &["com.example.app:/oauth2redirect", "com.example.app://callback"];

/// Redirect URIs every client may register: https, and loopback http for development.
const ACCEPTED: &[&str] = &[
    "https://app.example/cb",
    "https://app.example:8443/cb?tenant=1",
    "http://127.0.0.1:9/cb",
    "http://[::1]:9/cb",
    "http://localhost:3000/cb",
];

/// Values no `allowed_cors_origins` entry may be, on any path that stores one.
const NOT_ORIGINS: &[&str] = &[
    "http://127.0.0.1:4300/",
    "*",
    "not an origin",
    "https://spa.example/app",
    "https://user@spa.example",
    "null",
    "ftp://spa.example",
];

fn clients(tenant: &str) -> String {
    format!("/admin/tenants/{tenant}/clients")
}

fn assert_refused_field(reply: &Reply, field: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", reply.json);
    assert_eq!(reply.error_fields(), [field], "{what}: {}", reply.json);
}

async fn client_count(client: &Client<'_>, tenant: &str) -> usize {
    client.list_all(&clients(tenant)).await.len()
}

#[actix_web::test]
async fn the_admin_api_stores_only_redirect_uris_the_client_type_may_use() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let path = clients("acme");
        for field in ["redirect_uris", "post_logout_redirect_uris"] {
            for (uris, application_type) in
                HOSTILE.iter().map(|u| (u, "web")).chain(HOSTILE.iter().map(|u| (u, "native")))
            {
                let body = json!({ "name": "x", "application_type": application_type, field: [uris] });
                assert_refused_field(&client.post(&path, &body).await, field, &format!("{application_type} {uris:?}"));
            }
            for uri in NATIVE_ONLY {
                let body = json!({ "name": "x", field: [uri] });
                assert_refused_field(&client.post(&path, &body).await, field, &format!("web {uri}"));
            }
        }
        assert_eq!(client_count(client, "acme").await, 0, "nothing refused was stored");

        for (application_type, uris) in
            [("web", ACCEPTED.to_vec()), ("native", ACCEPTED.iter().chain(NATIVE_ONLY).copied().collect())]
        {
            let body = json!({
                "name": "ok", "application_type": application_type,
                "redirect_uris": uris, "post_logout_redirect_uris": uris,
            });
            let created = client.post(&path, &body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{application_type}: {}", created.json);
            assert_eq!(created.json["redirect_uris"], json!(uris), "stored as registered, for exact matching");
        }

        // PATCH: the same checks, and nothing changes when they fail.
        let created = client
            .post(&path, &json!({ "name": "app", "application_type": "native", "redirect_uris": NATIVE_ONLY }))
            .await;
        let one = format!("{path}/{}", created.str("id"));
        for (field, value) in [
            ("redirect_uris", "http://localhost:80@evil.example/cb"),
            ("redirect_uris", "javascript:alert(1)"),
            ("post_logout_redirect_uris", "https://app.example/bye#x"),
            ("post_logout_redirect_uris", "not a uri"),
        ] {
            assert_refused_field(&client.patch(&one, &json!({ field: [value] })).await, field, value);
        }
        // A native client that becomes a web client may no longer use its private-use scheme.
        assert_refused_field(
            &client.patch(&one, &json!({ "application_type": "web" })).await,
            "redirect_uris",
            "native → web",
        );
        let stored = client.get(&one).await;
        assert_eq!(stored.json["redirect_uris"], json!(NATIVE_ONLY));
        assert_eq!(stored.json["post_logout_redirect_uris"], json!([]));
        assert_eq!(stored.json["application_type"], "native");
        let patched =
            client.patch(&one, &json!({ "application_type": "web", "redirect_uris": ["http://127.0.0.1:9/cb"] })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    })
    .await;
}

#[actix_web::test]
async fn cors_origins_are_stored_normalized_and_preflights_from_them_work() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let path = clients("acme");
        for origin in NOT_ORIGINS {
            let body = json!({ "name": "spa", "allowed_cors_origins": [origin] });
            assert_refused_field(&client.post(&path, &body).await, "allowed_cors_origins", origin);
        }
        assert_eq!(client_count(client, "acme").await, 0);

        let body = json!({
            "name": "spa", "grant_types": ["client_credentials"],
            "allowed_cors_origins": ["HTTP://127.0.0.1:4300", "https://SPA.Example:443", "https://spa.example"],
        });
        let created = client.post(&path, &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        assert_eq!(created.json["allowed_cors_origins"], json!(["http://127.0.0.1:4300", "https://spa.example"]));
        let preflight = |origin: &str| {
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri("/acme/oauth2/token")
                .insert_header(("origin", origin.to_owned()))
                .insert_header(("access-control-request-method", "POST"))
        };
        for origin in ["http://127.0.0.1:4300", "https://spa.example"] {
            let reply = client.send(preflight(origin)).await;
            assert_eq!(reply.status, StatusCode::NO_CONTENT, "{origin}");
            assert_eq!(reply.headers.get("access-control-allow-origin").unwrap(), origin);
        }
        for origin in ["http://127.0.0.1:4301", "http://127.0.0.1", "null", "https://spa.example.evil"] {
            assert_eq!(client.send(preflight(origin)).await.status, StatusCode::FORBIDDEN, "{origin}");
        }

        // PATCH refuses the same values, keeps the stored ones, and normalizes what it stores.
        let one = format!("{path}/{}", created.str("id"));
        let refused = client.patch(&one, &json!({ "allowed_cors_origins": ["https://other.example/"] })).await;
        assert_refused_field(&refused, "allowed_cors_origins", "trailing slash");
        assert_eq!(client.get(&one).await.json["allowed_cors_origins"][0], "http://127.0.0.1:4300");
        let patched = client.patch(&one, &json!({ "allowed_cors_origins": ["https://Other.Example:8443"] })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
        assert_eq!(patched.json["allowed_cors_origins"], json!(["https://other.example:8443"]));
        let reply = client.send(preflight("https://other.example:8443")).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(client.send(preflight("http://127.0.0.1:4300")).await.status, StatusCode::FORBIDDEN);
    })
    .await;
}

/// Opens dynamic registration for `tenant`.
async fn open_registration(client: &Client<'_>, tenant: &str) {
    let id = client.tenant(tenant).await.str("id");
    let reply = client.patch(&format!("/admin/tenants/{id}"), &json!({ "registration": "open" })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

async fn register(client: &Client<'_>, body: &Value) -> Reply {
    client.json(Method::POST, "/acme/oauth2/register", Some(body), Auth::None).await
}

fn assert_registration_error(reply: &Reply, code: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {}", reply.json);
    assert_eq!(reply.json["error"], code, "{what}: {}", reply.json);
}

#[actix_web::test]
async fn dynamic_registration_and_its_updates_refuse_unsafe_redirect_uris() {
    each_backend(async |client: &Client<'_>| {
        open_registration(client, "acme").await;
        for application_type in ["web", "native"] {
            for uri in HOSTILE {
                let body = json!({ "application_type": application_type, "redirect_uris": [uri] });
                assert_registration_error(&register(client, &body).await, "invalid_redirect_uri", uri);
                let body = json!({
                    "application_type": application_type,
                    "redirect_uris": ["http://127.0.0.1:9/cb"], "post_logout_redirect_uris": [uri],
                });
                assert_registration_error(&register(client, &body).await, "invalid_client_metadata", uri);
            }
        }
        for uri in NATIVE_ONLY {
            let body = json!({ "redirect_uris": [uri] });
            assert_registration_error(&register(client, &body).await, "invalid_redirect_uri", uri);
        }
        for origin in NOT_ORIGINS {
            let body = json!({ "redirect_uris": ["http://127.0.0.1:9/cb"], "allowed_cors_origins": [origin] });
            assert_registration_error(&register(client, &body).await, "invalid_client_metadata", origin);
        }
        assert_eq!(client_count(client, "acme").await, 0, "nothing refused was registered");

        let native = json!({ "application_type": "native", "redirect_uris": NATIVE_ONLY });
        assert_eq!(register(client, &native).await.status, StatusCode::CREATED);
        let web = json!({ "redirect_uris": ACCEPTED, "post_logout_redirect_uris": ["http://localhost:3000/bye"] });
        let registered = register(client, &web).await;
        assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.json);

        // RFC 7592 §2.2: the replacement is checked the same way and changes nothing when refused.
        let configuration = registered.str("registration_client_uri");
        let configuration = &configuration[configuration.find("/acme/").unwrap()..];
        let token = registered.str("registration_access_token");
        let mut replacement = web.clone();
        replacement["client_id"] = registered.json["client_id"].clone();
        for (field, uri, code) in [
            ("redirect_uris", "http://localhost:80@evil.example/cb", "invalid_redirect_uri"),
            ("redirect_uris", "com.example.app:/cb", "invalid_redirect_uri"),
            ("post_logout_redirect_uris", "javascript:alert(1)", "invalid_client_metadata"),
            ("allowed_cors_origins", "https://app.example/", "invalid_client_metadata"),
        ] {
            let mut bad = replacement.clone();
            bad[field] = json!([uri]);
            let reply = client.json(Method::PUT, configuration, Some(&bad), Auth::Bearer(&token)).await;
            assert_registration_error(&reply, code, uri);
        }
        let read = client.json(Method::GET, configuration, None, Auth::Bearer(&token)).await;
        assert_eq!(read.json["redirect_uris"], json!(ACCEPTED));
        assert_eq!(read.json["post_logout_redirect_uris"], json!(["http://localhost:3000/bye"]));
        replacement["redirect_uris"] = json!(["https://app.example/new"]);
        let reply = client.json(Method::PUT, configuration, Some(&replacement), Auth::Bearer(&token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert_eq!(reply.json["redirect_uris"], json!(["https://app.example/new"]));
    })
    .await;
}

#[actix_web::test]
async fn the_authorization_endpoint_never_redirects_to_a_uri_that_does_not_parse_as_registered() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let created = client
            .post(&clients("acme"), &json!({ "name": "legacy", "redirect_uris": ["http://127.0.0.1:9/cb"] }))
            .await;
        let id = created.str("id");
        // A row written before validation existed, holding what dynamic registration once took.
        let evil = "http://localhost:80@evil.example/cb";
        let db = client.rt.db();
        let sql = format!(r#"UPDATE clients SET redirect_uris = '["{evil}"]' WHERE id = '{id}'"#);
        db.execute_unprepared(&sql).await.expect("update");
        let authorize = |redirect_uri: &str| {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("response_type", "code")
                .append_pair("client_id", &id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", "openid")
                .append_pair("state", "s")
                .append_pair("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
                .append_pair("code_challenge_method", "S256")
                .finish();
            TestRequest::get().uri(&format!("/acme/oauth2/authorize?{query}"))
        };
        let reply = client.send(authorize(evil)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "an error page, not a redirect");
        assert!(reply.headers.get("location").is_none());
    })
    .await;
}

#[actix_web::test]
async fn resource_indicators_are_absolute_uris_and_urns_are_among_them() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let created =
            client.post(&clients("acme"), &json!({ "name": "svc", "grant_types": ["client_credentials"] })).await;
        let basic =
            format!("Basic {}", STANDARD.encode(format!("{}:{}", created.str("id"), created.str("client_secret"))));
        let token = async |resource: &str| {
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "client_credentials")
                .append_pair("resource", resource)
                .finish();
            client
                .raw(
                    Method::POST,
                    "/acme/oauth2/token",
                    "application/x-www-form-urlencoded",
                    &body,
                    Auth::Header(&basic),
                )
                .await
        };
        for resource in ["urn:example:api", "https://api.example/v1"] {
            let reply = token(resource).await;
            assert_eq!(reply.status, StatusCode::OK, "{resource}: {}", reply.json);
            let payload = reply.str("access_token").split('.').nth(1).unwrap().to_owned();
            let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            assert_eq!(claims["aud"], resource);
        }
        for resource in ["api", "/api", "//api.example/v1", "https://api.example/#x", "urn:example:api#x", "a b:c"] {
            let reply = token(resource).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{resource}: {}", reply.json);
            assert_eq!(reply.json["error"], "invalid_target", "{resource}");
        }
    })
    .await;
}
