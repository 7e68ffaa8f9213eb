//! Values are validated where they are stored, on every path that writes them, identically on
//! both backends: login names resolve to exactly one account, passwords compare in one Unicode
//! form, and hostile strings (NUL, control characters, over-long values) get a 4xx, never a 5xx.

mod support;

use actix_web::http::{Method, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use support::{Auth, Client, Reply, each_backend};

const PASSWORD: &str = "correct horse battery";
const COMPOSED: &str = "ma\u{f1}ana caf\u{e9} pw";
const DECOMPOSED: &str = "man\u{303}ana cafe\u{301} pw";

async fn register(client: &Client<'_>, body: Value) -> Reply {
    client.json(Method::POST, "/acme/auth/register", Some(&body), Auth::None).await
}

async fn login(client: &Client<'_>, username: &str, password: &str) -> Reply {
    let body = json!({ "username": username, "password": password });
    client.json(Method::POST, "/acme/auth/login", Some(&body), Auth::None).await
}

async fn patch_me(client: &Client<'_>, token: &str, body: Value) -> Reply {
    client.json(Method::PATCH, "/acme/auth/me", Some(&body), Auth::Bearer(token)).await
}

fn assert_conflict(reply: &Reply, field: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::CONFLICT, "{what}: {}", reply.json);
    assert_eq!(reply.error_fields(), [field], "{what}: {}", reply.json);
}

#[actix_web::test]
async fn a_login_name_belongs_to_exactly_one_account() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let zoe =
            register(client, json!({ "username": "zoe", "email": "zoe@example.com", "password": PASSWORD })).await;
        assert_eq!(zoe.status, StatusCode::CREATED, "{}", zoe.json);

        // Another account may not take her email as its username, nor her username as its email,
        // in any case or Unicode form, on any path.
        let taken_username = json!({ "username": "Zoe@Example.com", "email": "x@example.com", "password": PASSWORD });
        let kim = json!({ "username": "kim@example.net", "email": "kim@work.example", "password": PASSWORD });
        assert_eq!(client.post("/admin/tenants/acme/users", &kim).await.status, StatusCode::CREATED);
        let taken_email = json!({ "username": "x", "email": "Kim@Example.net", "password": PASSWORD });
        assert_conflict(&register(client, taken_username.clone()).await, "username", "register");
        assert_conflict(&register(client, taken_email.clone()).await, "email", "register");
        assert_conflict(&client.post("/admin/tenants/acme/users", &taken_username).await, "username", "admin create");
        assert_conflict(&client.post("/admin/tenants/acme/users", &taken_email).await, "email", "admin create");

        let yan = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "yan", "email": "yan@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(yan.status, StatusCode::CREATED, "{}", yan.json);
        let yan_path = format!("/admin/tenants/acme/users/{}", yan.str("id"));
        assert_conflict(
            &client.patch(&yan_path, &json!({ "username": "zoe@example.com" })).await,
            "username",
            "admin update",
        );
        assert_conflict(
            &client.patch(&yan_path, &json!({ "email": "kim@example.net" })).await,
            "email",
            "admin update",
        );
        let yan_token = login(client, "yan", PASSWORD).await.str("access_token");
        assert_conflict(
            &patch_me(client, &yan_token, json!({ "email": "KIM@example.net" })).await,
            "email",
            "PATCH /auth/me",
        );

        // One account may use the same string for both, and keep it through updates; moving a
        // value from one of its fields to the other is no conflict either.
        let same = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "same@example.com", "email": "same@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(same.status, StatusCode::CREATED, "{}", same.json);
        let same_path = format!("/admin/tenants/acme/users/{}", same.str("id"));
        assert_eq!(client.patch(&same_path, &json!({ "name": "Sam" })).await.status, StatusCode::OK);
        let swapped =
            client.patch(&yan_path, &json!({ "username": "yan@example.com", "email": "yan2@example.com" })).await;
        assert_eq!(swapped.status, StatusCode::OK, "{}", swapped.json);

        // Her email still signs her (and only her) in.
        let signed_in = login(client, "zoe@example.com", PASSWORD).await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.json);
        let me = client.json(Method::GET, "/acme/auth/me", None, Auth::Bearer(&signed_in.str("access_token"))).await;
        assert_eq!(me.json["id"], zoe.json["id"]);

        // Another tenant is another space of names.
        client.tenant("other").await;
        let elsewhere = client
            .post(
                "/admin/tenants/other/users",
                &json!({ "username": "zoe@example.com", "email": "a@example.com", "password": PASSWORD }),
            )
            .await;
        assert_eq!(elsewhere.status, StatusCode::CREATED, "{}", elsewhere.json);
    })
    .await;
}

#[actix_web::test]
async fn concurrent_registrations_cannot_share_a_login_name() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        for round in 0..10 {
            let name = format!("race{round}@example.com");
            let by_username =
                json!({ "username": name, "email": format!("u{round}@example.com"), "password": PASSWORD });
            let by_email = json!({ "username": format!("u{round}"), "email": name, "password": PASSWORD });
            let (a, b) = futures_util::future::join(
                client.post("/admin/tenants/acme/users", &by_username),
                client.post("/admin/tenants/acme/users", &by_email),
            )
            .await;
            let mut statuses = [a.status.as_u16(), b.status.as_u16()];
            statuses.sort();
            assert_eq!(statuses, [201, 409], "[{}] {} / {}", client.backend, a.json, b.json);
        }
    })
    .await;
}

#[actix_web::test]
async fn passwords_compare_in_one_unicode_form() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let created =
            register(client, json!({ "username": "ana", "email": "ana@example.com", "password": COMPOSED })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        assert_eq!(login(client, "ana", DECOMPOSED).await.status, StatusCode::OK, "decomposed at sign-in");
        let admin_made = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "bea", "email": "bea@example.com", "password": DECOMPOSED }),
            )
            .await;
        assert_eq!(admin_made.status, StatusCode::CREATED, "{}", admin_made.json);
        assert_eq!(login(client, "bea", COMPOSED).await.status, StatusCode::OK, "composed at sign-in");

        // Changing the password: the new one is prepared too.
        let token = login(client, "ana", COMPOSED).await.str("access_token");
        let body = json!({ "current_password": DECOMPOSED, "new_password": format!("{DECOMPOSED}2") });
        let changed = client.json(Method::POST, "/acme/auth/password", Some(&body), Auth::Bearer(&token)).await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.json);
        assert_eq!(login(client, "ana", &format!("{COMPOSED}2")).await.status, StatusCode::OK);

        // A password the OpaqueString profile refuses is a 422 on every path that sets one.
        let refused = format!("{PASSWORD}\u{7}");
        let reply = register(client, json!({ "username": "cy", "email": "cy@example.com", "password": refused })).await;
        assert_eq!((reply.status, reply.error_fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["password".into()]));
        let reply = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "cy", "email": "cy@example.com", "password": refused }),
            )
            .await;
        assert_eq!((reply.status, reply.error_fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["password".into()]));
        let token = login(client, "ana", &format!("{COMPOSED}2")).await.str("access_token");
        let body = json!({ "current_password": format!("{COMPOSED}2"), "new_password": refused });
        let reply = client.json(Method::POST, "/acme/auth/password", Some(&body), Auth::Bearer(&token)).await;
        assert_eq!(
            (reply.status, reply.error_fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["new_password".into()])
        );
    })
    .await;
}

#[actix_web::test]
async fn a_hash_of_the_raw_password_still_signs_in_and_is_replaced() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let created = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "old", "email": "old@example.com", "password": PASSWORD }),
            )
            .await;
        // A hash made before passwords were prepared: bcrypt of the decomposed string as typed.
        let raw = bcrypt::hash(DECOMPOSED, 4).unwrap();
        assert_eq!(created.status, StatusCode::CREATED);
        let update = format!("UPDATE users SET password_hash = '{raw}' WHERE username = 'old'");
        let db = client.rt.db();
        let statement = sea_orm::Statement::from_string(db.get_database_backend(), update);
        sea_orm::ConnectionTrait::execute_raw(db, statement).await.unwrap();
        client.rt.role_changed("account");

        assert_eq!(login(client, "old", COMPOSED).await.status, StatusCode::UNAUTHORIZED, "only the raw form matches");
        assert_eq!(login(client, "old", DECOMPOSED).await.status, StatusCode::OK, "the raw form still signs in");
        let stored = client.scalar("SELECT password_hash FROM users WHERE username = 'old'").await.unwrap();
        assert_ne!(stored, raw, "re-hashed on sign-in");
        assert_eq!(login(client, "old", COMPOSED).await.status, StatusCode::OK, "now in the prepared form");
        assert_eq!(login(client, "old", DECOMPOSED).await.status, StatusCode::OK);
    })
    .await;
}

#[actix_web::test]
async fn hostile_strings_are_refused_before_the_database() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let long_email = format!("{}@example.com", "a".repeat(10_000));
        let bodies = [
            (json!({ "username": "nul\u{0}name", "email": "n1@example.com", "password": PASSWORD }), "username"),
            (json!({ "username": "n2", "email": "n2\u{0}@example.com", "password": PASSWORD }), "email"),
            (json!({ "username": "n3", "email": "n3@example.com", "password": PASSWORD, "name": "Zoe\u{0}" }), "name"),
            (json!({ "username": "n4", "email": "n4@example.com", "password": PASSWORD, "name": "Esc\u{1b}[31m" }), "name"),
            (json!({ "username": "n5", "email": "n5@example.com", "password": PASSWORD, "name": "C1\u{85}" }), "name"),
            (json!({ "username": "n6", "email": long_email, "password": PASSWORD }), "email"),
            (json!({ "username": "u".repeat(151), "email": "n7@example.com", "password": PASSWORD }), "username"),
            (json!({ "username": "", "email": "n8@example.com", "password": PASSWORD }), "username"),
        ];
        for (body, field) in &bodies {
            let reply = register(client, body.clone()).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "[{}] register {body}: {}", client.backend, reply.json);
            assert_eq!(reply.error_fields(), [*field], "{}", reply.json);
            let reply = client.post("/admin/tenants/acme/users", body).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "[{}] admin create {body}: {}", client.backend, reply.json);
            assert_eq!(reply.error_fields(), [*field], "{}", reply.json);
        }
        // Lists are fields too: every item is checked.
        let reply = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "r", "email": "r@example.com", "password": PASSWORD, "roles": ["ok", "bad\u{0}"] }),
            )
            .await;
        assert_eq!((reply.status, reply.error_fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["roles".into()]));

        let ok = register(client, json!({ "username": "ok", "email": "ok@example.com", "password": PASSWORD })).await;
        assert_eq!(ok.status, StatusCode::CREATED);
        let token = login(client, "ok", PASSWORD).await.str("access_token");
        for (body, field) in [
            (json!({ "email": long_email }), "email"),
            (json!({ "email": "ok\u{0}@example.com" }), "email"),
            (json!({ "name": "n".repeat(201) }), "name"),
            (json!({ "name": "nul\u{0}" }), "name"),
        ] {
            let reply = patch_me(client, &token, body.clone()).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "[{}] PATCH me {body}: {}", client.backend, reply.json);
            assert_eq!(reply.error_fields(), [field], "{}", reply.json);
        }
        let me = client.json(Method::GET, "/acme/auth/me", None, Auth::Bearer(&token)).await;
        assert_eq!(me.json["email"], "ok@example.com", "nothing changed");

        // Sign-in with hostile names or passwords: refused like any wrong credentials.
        for (username, password) in [("ok\u{0}", PASSWORD), ("ok", "correct\u{0}horse"), (long_email.as_str(), PASSWORD)] {
            let reply = login(client, username, password).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "[{}] login {username:?}: {}", client.backend, reply.json);
        }
    })
    .await;
}

#[actix_web::test]
async fn hostile_path_and_query_values_are_client_errors() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        for path in ["/admin/tenants/%00/users", "/admin/tenants/a%00b/users/00000000-0000-0000-0000-000000000000"] {
            let reply = client.get(path).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "[{}] {path}: {}", client.backend, reply.json);
        }
        let reply = login_at(client, "/a%00/auth/login").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "[{}] {}", client.backend, reply.json);

        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"s":"created_at","d":false,"v":"2024-01-01T00:00:00Z","i":"x"}"#);
        let reply = client.get(&format!("/admin/tenants/acme/users?cursor={cursor}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "[{}] {}", client.backend, reply.json);
        let reply = client.get("/admin/tenants/acme/users?username=a%00").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "[{}] {}", client.backend, reply.json);
    })
    .await;
}

async fn login_at(client: &Client<'_>, path: &str) -> Reply {
    let body = json!({ "username": "a", "password": PASSWORD });
    client.json(Method::POST, path, Some(&body), Auth::None).await
}

/// Declared constraints hold for the value as stored: NFKC can lengthen a name (U+FDFA becomes
/// 18 characters), so a username within 150 characters as sent can exceed them once normalized.
/// Both backends refuse it with the same 422, before the database (PostgreSQL's `varchar(150)`
/// answered with a 500).
#[actix_web::test]
async fn constraints_apply_to_the_normalized_value() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let long = "\u{fdfa}".repeat(10);
        let body = json!({ "username": long, "email": "long@example.com", "password": "correct horse battery" });
        let reply = client.post("/admin/tenants/acme/users", &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "[{}] {}", client.backend, reply.json);
        assert_eq!(reply.error_fields(), ["username"], "{}", reply.json);
        let reply = client.json(Method::POST, "/acme/auth/register", Some(&body), Auth::None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "[{}] {}", client.backend, reply.json);
        assert!(client.list_all("/admin/tenants/acme/users").await.is_empty(), "nothing stored");
    })
    .await;
}
