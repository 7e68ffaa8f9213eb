//! The first-party account API (`/{tenant}/auth/...`) over HTTP: registration, sign-in with
//! brute-force protection, refresh rotation, profile, API keys, password change, sign-out.

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use keygate_runtime::jose::{Jwks, decode_header, verify_jwt};
use serde_json::{Value, json};
use support::{Auth, Client, Reply, each_backend};

const PASSWORD: &str = "correct horse battery";

async fn call(client: &Client<'_>, method: Method, path: &str, body: Option<Value>, auth: Auth<'_>) -> Reply {
    client.json(method, path, body.as_ref(), auth).await
}

async fn login_from(client: &Client<'_>, ip: &str, username: &str, password: &str) -> Reply {
    let request = TestRequest::default()
        .method(Method::POST)
        .uri("/acme/auth/login")
        .peer_addr(format!("{ip}:40000").parse().unwrap())
        .insert_header(("content-type", "application/json"))
        .set_payload(json!({ "username": username, "password": password }).to_string());
    client.send(request).await
}

async fn login(client: &Client<'_>, username: &str, password: &str) -> Reply {
    login_from(client, "192.0.2.1", username, password).await
}

async fn register(client: &Client<'_>, username: &str, email: &str) -> Reply {
    let body = json!({ "username": username, "email": email, "password": PASSWORD, "name": "Ann" });
    call(client, Method::POST, "/acme/auth/register", Some(body), Auth::None).await
}

#[actix_web::test]
async fn an_application_registers_signs_in_refreshes_and_signs_out() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let created = register(client, "Ann", "Ann@Example.com").await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        assert_eq!(created.json["username"], "ann", "stored in one spelling");
        assert_eq!(created.json["email"], "ann@example.com");

        // Taken names, in any case or Unicode form, and weak or over-long passwords.
        for (username, email, field) in [
            ("ANN", "other@example.com", "username"),
            ("ａｎｎ", "x@example.com", "username"),
            ("bob", "ANN@example.com", "email"),
        ] {
            let reply = register(client, username, email).await;
            assert_eq!(reply.status, StatusCode::CONFLICT, "{username}: {}", reply.json);
            assert!(reply.json["detail"].as_str().unwrap().contains(field), "{}", reply.json);
        }
        for password in ["short", &"é".repeat(40)] {
            let body = json!({ "username": "carl", "email": "carl@example.com", "password": password });
            let reply = call(client, Method::POST, "/acme/auth/register", Some(body), Auth::None).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.json);
            assert_eq!(reply.error_fields(), ["password"]);
        }
        let reply = call(
            client,
            Method::POST,
            "/acme/auth/register",
            Some(json!({ "username": "x", "email": "nope", "password": PASSWORD })),
            Auth::None,
        )
        .await;
        assert_eq!(reply.error_fields(), ["email"]);

        // Wrong password and unknown user: the same 401.
        let wrong = login(client, "ann", "wrong password").await;
        let unknown = login(client, "nobody", PASSWORD).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.json["detail"], unknown.json["detail"]);

        // Sign in by email, in another case: tokens like the OAuth side's.
        let signed_in = login(client, "ANN@example.com", PASSWORD).await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.json);
        assert_eq!(signed_in.headers.get("cache-control").unwrap(), "no-store");
        let access = signed_in.str("access_token");
        let refresh = signed_in.str("refresh_token");
        assert_eq!(decode_header(&access).unwrap().typ.as_deref(), Some("at+jwt"));
        let jwks: Jwks = serde_json::from_value(
            call(client, Method::GET, "/acme/.well-known/jwks.json", None, Auth::None).await.json,
        )
        .unwrap();
        let claims = verify_jwt(&access, &jwks.keys).expect("verifiable with the tenant's JWKS");
        assert_eq!(claims["sub"], created.json["id"]);
        assert_eq!(claims["roles"], json!([]));

        // The profile, read and updated.
        let me = call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&access)).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.json);
        assert_eq!(me.json["username"], "ann");
        let updated =
            call(client, Method::PATCH, "/acme/auth/me", Some(json!({ "name": "Ann Smith" })), Auth::Bearer(&access))
                .await;
        assert_eq!(updated.json["name"], "Ann Smith", "{}", updated.json);
        let anonymous = call(client, Method::GET, "/acme/auth/me", None, Auth::None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers.get("www-authenticate").unwrap().to_str().unwrap().starts_with("Bearer"));

        // Refresh rotates; the old token then fails and takes the new one with it.
        let refreshed =
            call(client, Method::POST, "/acme/auth/refresh", Some(json!({ "refresh_token": refresh })), Auth::None)
                .await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.json);
        let rotated = refreshed.str("refresh_token");
        let reuse =
            call(client, Method::POST, "/acme/auth/refresh", Some(json!({ "refresh_token": refresh })), Auth::None)
                .await;
        assert_eq!((reuse.status, reuse.json["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
        let family =
            call(client, Method::POST, "/acme/auth/refresh", Some(json!({ "refresh_token": rotated })), Auth::None)
                .await;
        assert_eq!(family.json["error"], "invalid_grant");
        assert_eq!(
            call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&access)).await.status,
            StatusCode::UNAUTHORIZED
        );

        // Sign out with the refresh token: the sign-in ends everywhere.
        let session = login(client, "ann", PASSWORD).await;
        let (access, refresh) = (session.str("access_token"), session.str("refresh_token"));
        let out =
            call(client, Method::POST, "/acme/auth/logout", Some(json!({ "refresh_token": refresh })), Auth::None)
                .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(
            call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&access)).await.status,
            StatusCode::UNAUTHORIZED
        );
        let after =
            call(client, Method::POST, "/acme/auth/refresh", Some(json!({ "refresh_token": refresh })), Auth::None)
                .await;
        assert_eq!(after.json["error"], "invalid_grant");
        // Or with the access token.
        let session = login(client, "ann", PASSWORD).await;
        let access = session.str("access_token");
        assert_eq!(
            call(client, Method::POST, "/acme/auth/logout", None, Auth::Bearer(&access)).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&access)).await.status,
            StatusCode::UNAUTHORIZED
        );

        // Another tenant knows nothing of this account or its tokens.
        client.tenant("globex").await;
        let session = login(client, "ann", PASSWORD).await;
        let reply =
            call(client, Method::GET, "/globex/auth/me", None, Auth::Bearer(&session.str("access_token"))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[actix_web::test]
async fn api_keys_authenticate_as_their_user_until_they_expire_or_are_revoked() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let user = register(client, "ann", "ann@example.com").await.str("id");
        let key = client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": user, "label": "ci" })).await;
        assert_eq!(key.status, StatusCode::CREATED, "{}", key.json);
        let (raw, key_id) = (key.str("key"), key.str("id"));
        assert!(raw.starts_with("sk_") && raw.len() >= 46, "256 bits of entropy after the prefix");

        let me = call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&raw)).await;
        assert_eq!(me.json["id"], json!(user), "{}", me.json);
        let header = TestRequest::get().uri("/acme/auth/me").insert_header(("x-api-key", raw.as_str()));
        assert_eq!(client.send(header).await.status, StatusCode::OK);
        let listed = client.get(&format!("/admin/tenants/acme/api_keys/{key_id}")).await;
        assert!(listed.json["last_used_at"].is_string(), "use is recorded: {}", listed.json);

        // Expired, then revoked (deleted): refused on the next request.
        let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
        let reply = client.patch(&format!("/admin/tenants/acme/api_keys/{key_id}"), &json!({ "valid_to": past })).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert_eq!(
            call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&raw)).await.status,
            StatusCode::UNAUTHORIZED
        );
        let second = client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": user, "label": "two" })).await;
        let raw = second.str("key");
        assert_eq!(call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&raw)).await.status, StatusCode::OK);
        client.delete(&format!("/admin/tenants/acme/api_keys/{}", second.str("id"))).await;
        assert_eq!(
            call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&raw)).await.status,
            StatusCode::UNAUTHORIZED
        );
        let made_up = call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer("sk_madeup")).await;
        assert_eq!(made_up.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[actix_web::test]
async fn a_password_change_ends_the_other_sign_ins() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        register(client, "ann", "ann@example.com").await;
        let here = login(client, "ann", PASSWORD).await;
        let elsewhere = login(client, "ann", PASSWORD).await;
        let access = here.str("access_token");
        let change = |current: &'static str, new: &'static str| {
            let access = access.clone();
            async move {
                call(
                    client,
                    Method::POST,
                    "/acme/auth/password",
                    Some(json!({ "current_password": current, "new_password": new })),
                    Auth::Bearer(&access),
                )
                .await
            }
        };
        let wrong = change("not it", "a brand new secret").await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.error_fields(), ["current_password"]);
        assert_eq!(change(PASSWORD, "short").await.error_fields(), ["new_password"]);
        assert_eq!(change(PASSWORD, "a brand new secret").await.status, StatusCode::NO_CONTENT);

        assert_eq!(
            call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&access)).await.status,
            StatusCode::OK,
            "this sign-in stays"
        );
        let other = call(
            client,
            Method::POST,
            "/acme/auth/refresh",
            Some(json!({ "refresh_token": elsewhere.str("refresh_token") })),
            Auth::None,
        )
        .await;
        assert_eq!(other.json["error"], "invalid_grant", "the other sign-in ended");
        assert_eq!(login(client, "ann", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(login(client, "ann", "a brand new secret").await.status, StatusCode::OK);
    })
    .await;
}

#[actix_web::test]
async fn repeated_failures_slow_down_sign_in_from_that_ip_only() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        register(client, "ann", "ann@example.com").await;
        for _ in 0..5 {
            assert_eq!(login_from(client, "198.51.100.7", "ann", "guess").await.status, StatusCode::UNAUTHORIZED);
        }
        let locked = login_from(client, "198.51.100.7", "ann", PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.json);
        let retry: u64 = locked.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "a bounded wait: {retry}");
        // The user, from their own address, is not locked out by the attacker.
        assert_eq!(login_from(client, "203.0.113.9", "ann", PASSWORD).await.status, StatusCode::OK);
    })
    .await;
}

#[actix_web::test]
async fn failures_count_per_account_whichever_of_its_names_is_typed() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        register(client, "ann", "ann@example.com").await;
        // Alternating the username and the email spends one account's allowance, not two.
        for name in ["ann", "ANN@example.com", "ann", "ann@example.com", "Ann"] {
            assert_eq!(login_from(client, "198.51.100.7", name, "guess").await.status, StatusCode::UNAUTHORIZED);
        }
        for name in ["ann", "ann@example.com"] {
            let locked = login_from(client, "198.51.100.7", name, PASSWORD).await;
            assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{name}: {}", locked.json);
        }
        // A name no account has counts by itself, as before.
        for _ in 0..5 {
            assert_eq!(login_from(client, "198.51.100.7", "nobody", "guess").await.status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(login_from(client, "198.51.100.7", "nobody", "guess").await.status, StatusCode::TOO_MANY_REQUESTS);
    })
    .await;
}

/// A wrong-password sign-in from `peer`, with an `X-Forwarded-For` header.
async fn guess_via(client: &Client<'_>, peer: &str, forwarded_for: &str) -> StatusCode {
    let request = TestRequest::post()
        .uri("/acme/auth/login")
        .peer_addr(format!("{peer}:40000").parse().unwrap())
        .insert_header(("x-forwarded-for", forwarded_for))
        .insert_header(("content-type", "application/json"))
        .set_payload(json!({ "username": "ann", "password": "guess" }).to_string());
    client.send(request).await.status
}

#[actix_web::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    for db in support::databases().await {
        let config = keygate_runtime::RuntimeConfig {
            bcrypt_cost: 4,
            trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
            ..keygate_runtime::RuntimeConfig::default()
        };
        let rt = support::runtime_with(&db, config).await;
        let app = actix_web::test::init_service(keygate::server::app(rt.clone())).await;
        let client = Client::new(&app, db.backend, rt);
        client.tenant("acme").await;
        register(&client, "ann", "ann@example.com").await;
        for _ in 0..5 {
            assert_eq!(guess_via(&client, "10.0.0.1", "198.51.100.7").await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(guess_via(&client, "10.0.0.1", "198.51.100.7").await, StatusCode::TOO_MANY_REQUESTS);
        // Another client behind the same proxy has its own count.
        assert_eq!(guess_via(&client, "10.0.0.1", "203.0.113.9").await, StatusCode::UNAUTHORIZED);
        // A peer that is not a trusted proxy cannot choose its bucket with the header.
        for forwarded in ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"] {
            assert_eq!(guess_via(&client, "192.0.2.99", forwarded).await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(guess_via(&client, "192.0.2.99", "192.0.2.6").await, StatusCode::TOO_MANY_REQUESTS);
    }
}

/// The `name=value` of the Set-Cookie header for `name`, and the whole header.
fn set_cookie(reply: &Reply, name: &str) -> Option<(String, String)> {
    reply
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|header| (header.split(';').next().unwrap().to_owned(), header.to_owned()))
}

#[actix_web::test]
async fn browser_apps_can_sign_in_with_a_session_cookie_and_csrf_token() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        register(client, "ann", "ann@example.com").await;
        let request = TestRequest::post()
            .uri("/acme/auth/login")
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({ "username": "ann", "password": PASSWORD, "session": "cookie" }).to_string());
        let signed_in = client.send(request).await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.json);
        assert!(signed_in.json.get("access_token").is_none(), "no tokens in cookie mode");
        let csrf = signed_in.str("csrf_token");
        let (session, header) = set_cookie(&signed_in, "kg_session").expect("a session cookie");
        assert!(
            header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Path=/acme"),
            "{header}"
        );
        let (csrf_cookie, _) = set_cookie(&signed_in, "kg_csrf").expect("a CSRF cookie");
        let cookies = format!("{session}; {csrf_cookie}");
        let with = |method: Method, path: &str, cookies: &str| {
            TestRequest::default()
                .method(method)
                .uri(path)
                .insert_header(("cookie", cookies.to_owned()))
                .insert_header(("content-type", "application/json"))
        };

        let me = client.send(with(Method::GET, "/acme/auth/me", &cookies)).await;
        assert_eq!(me.json["username"], "ann", "{}", me.json);
        // Changing state needs the CSRF token in a header, not just the cookie.
        let forged = client.send(with(Method::PATCH, "/acme/auth/me", &cookies).set_payload(r#"{"name":"Eve"}"#)).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let updated = client
            .send(
                with(Method::PATCH, "/acme/auth/me", &cookies)
                    .insert_header(("x-csrf-token", csrf.as_str()))
                    .set_payload(r#"{"name":"Ann"}"#),
            )
            .await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);

        // Refresh renews the session under a new cookie; the old one stops working.
        let renewed = client
            .send(with(Method::POST, "/acme/auth/refresh", &cookies).insert_header(("x-csrf-token", csrf.as_str())))
            .await;
        assert_eq!(renewed.status, StatusCode::NO_CONTENT);
        let (new_session, _) = set_cookie(&renewed, "kg_session").unwrap();
        assert_eq!(client.send(with(Method::GET, "/acme/auth/me", &cookies)).await.status, StatusCode::UNAUTHORIZED);
        let cookies = format!("{new_session}; {csrf_cookie}");
        assert_eq!(client.send(with(Method::GET, "/acme/auth/me", &cookies)).await.status, StatusCode::OK);

        // Logout ends it and clears the cookie.
        let forged = client.send(with(Method::POST, "/acme/auth/logout", &cookies)).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "logout is a state change too");
        let out = client
            .send(with(Method::POST, "/acme/auth/logout", &cookies).insert_header(("x-csrf-token", csrf.as_str())))
            .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert!(set_cookie(&out, "kg_session").unwrap().1.contains("Max-Age=0"));
        assert_eq!(client.send(with(Method::GET, "/acme/auth/me", &cookies)).await.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[actix_web::test]
async fn a_password_hashed_at_another_cost_is_rehashed_at_sign_in() {
    use sea_orm::ConnectionTrait;
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        register(client, "ann", "ann@example.com").await;
        // As if the account had been created when the configured cost was 5 (tests run at 4).
        let older = bcrypt::hash(PASSWORD, 5).unwrap();
        client
            .rt
            .db()
            .execute_unprepared(&format!("UPDATE users SET password_hash = '{older}' WHERE username = 'ann'"))
            .await
            .unwrap();
        assert_eq!(login(client, "ann", PASSWORD).await.status, StatusCode::OK);
        let stored = client.scalar("SELECT password_hash FROM users WHERE username = 'ann'").await.unwrap();
        assert!(stored.starts_with("$2b$04$"), "rehashed at the configured cost: {stored}");
        assert_eq!(login(client, "ann", PASSWORD).await.status, StatusCode::OK, "and still verifies");
    })
    .await;
}

#[actix_web::test]
async fn an_expired_refresh_token_is_refused() {
    use sea_orm::{ConnectionTrait, Statement};
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        register(client, "ann", "ann@example.com").await;
        let refresh = login(client, "ann", PASSWORD).await.str("refresh_token");
        let db = client.rt.db();
        let sql = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => "UPDATE refresh_tokens SET expires_at = $1",
            _ => "UPDATE refresh_tokens SET expires_at = ?",
        };
        let past = chrono::Utc::now() - chrono::Duration::minutes(1);
        db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [past.into()])).await.unwrap();
        let reply =
            call(client, Method::POST, "/acme/auth/refresh", Some(json!({ "refresh_token": refresh })), Auth::None)
                .await;
        assert_eq!((reply.status, reply.json["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
        assert!(reply.json["error_description"].as_str().unwrap().contains("expired"), "{}", reply.json);
    })
    .await;
}

#[actix_web::test]
async fn housekeeping_deletes_only_what_has_expired() {
    use sea_orm::{ConnectionTrait, Statement};
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        register(client, "ann", "ann@example.com").await;
        login(client, "ann", PASSWORD).await;
        let second = login(client, "ann", PASSWORD).await;
        let cookie_login = TestRequest::post()
            .uri("/acme/auth/login")
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({ "username": "ann", "password": PASSWORD, "session": "cookie" }).to_string());
        assert_eq!(client.send(cookie_login).await.status, StatusCode::OK);
        // Age the first sign-in's refresh token and the session, and add a stale revocation record.
        let db = client.rt.db();
        let backend = db.get_database_backend();
        let past = chrono::Utc::now() - chrono::Duration::minutes(1);
        let digest = keygate_runtime::secret::digest(&second.str("refresh_token"));
        let placeholder = |n: usize| if backend == sea_orm::DbBackend::Postgres { format!("${n}") } else { "?".into() };
        for sql in [
            format!("UPDATE refresh_tokens SET expires_at = {} WHERE token_digest <> {}", placeholder(1), placeholder(2)),
            format!("UPDATE auth_sessions SET expires_at = {} WHERE {} <> ''", placeholder(1), placeholder(2)),
        ] {
            db.execute_raw(Statement::from_sql_and_values(backend, sql, [past.into(), digest.clone().into()])).await.unwrap();
        }
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("INSERT INTO revoked_tokens (id, tenant_id, token_digest, expires_at, created_at, updated_at) SELECT {}, tenant_id, 'old', {}, {}, {} FROM users LIMIT 1", placeholder(1), placeholder(2), placeholder(3), placeholder(4)),
            [uuid::Uuid::new_v4().into(), past.into(), past.into(), past.into()],
        ))
        .await
        .unwrap();

        let pruned = keygate_runtime::maintenance::prune(&client.rt, keygate_api::entities::EXPIRING).await.unwrap();
        let rows = ["refresh_tokens", "auth_sessions", "revoked_tokens"].map(|table| pruned.rows(table));
        assert_eq!(rows, [1, 1, 1], "{pruned:?}");
        // What is still alive keeps working.
        let refreshed = call(client, Method::POST, "/acme/auth/refresh", Some(json!({ "refresh_token": second.str("refresh_token") })), Auth::None).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.json);
    })
    .await;
}

/// A backlog of expired rows is deleted a bounded batch per statement (each its own turn at the
/// SQLite write gate), never in one statement that holds the write lock for all of it.
#[actix_web::test]
async fn housekeeping_deletes_a_backlog_in_batches() {
    use sea_orm::{ConnectionTrait, Statement};
    each_backend(async |client: &Client<'_>| {
        let tenant: uuid::Uuid = client.tenant("acme").await.str("id").parse().unwrap();
        let db = client.rt.db();
        let backend = db.get_database_backend();
        let placeholders = if backend == sea_orm::DbBackend::Postgres { "$1, $2, $3, $4, $5, $6" } else { "?, ?, ?, ?, ?, ?" };
        let now = chrono::Utc::now();
        // Seven expired revocation records and two that are still needed.
        for n in 0..9 {
            let expires_at = if n < 7 { now - chrono::Duration::minutes(1) } else { now + chrono::Duration::hours(1) };
            let values: [sea_orm::Value; 6] =
                [uuid::Uuid::new_v4().into(), tenant.into(), format!("digest-{n}").into(), expires_at.into(), now.into(), now.into()];
            let sql = format!("INSERT INTO revoked_tokens (id, tenant_id, token_digest, expires_at, created_at, updated_at) VALUES ({placeholders})");
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.unwrap();
        }

        let expiring = keygate_api::entities::EXPIRING;
        let pruned = keygate_runtime::maintenance::prune_in_batches(&client.rt, expiring, 3).await.unwrap();
        assert_eq!(pruned.rows("revoked_tokens"), 7, "[{}] {pruned:?}", client.backend);
        // 3 + 3 + 1 revocation records, then one statement each for sessions, refresh tokens, MFA
        // challenges, emailed links and passkey ceremonies.
        assert_eq!(expiring.len(), 6, "{expiring:?}");
        assert_eq!(pruned.batches, 8, "[{}] {pruned:?}", client.backend);
        let left = db
            .query_one_raw(Statement::from_string(backend, "SELECT COUNT(*) FROM revoked_tokens"))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        assert_eq!(left, 2, "[{}] the records still needed stay", client.backend);
    })
    .await;
}
