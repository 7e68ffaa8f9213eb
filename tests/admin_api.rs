//! Behaviour of the admin API that the schema-driven suite cannot know from the schema alone:
//! what is stored for secrets, concurrency, limits, references across tenants, cascades.

mod support;

use actix_web::http::{Method, StatusCode};
use futures_util::future::join_all;
use serde_json::json;
use support::{Auth, Client, each_backend};

async fn user(client: &Client<'_>, tenant: &str, username: &str) -> support::Reply {
    let reply = client
        .post(
            &format!("/admin/tenants/{tenant}/users"),
            &json!({ "username": username, "email": format!("{username}@example.com"), "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "[{}] user: {}", client.backend, reply.json);
    reply
}

#[actix_web::test]
async fn secrets_are_stored_only_as_hashes_and_digests() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let ann = user(client, "acme", "ann").await;
        let id = ann.str("id");

        let stored = client.scalar("SELECT password_hash FROM users WHERE username = 'ann'").await;
        let stored = stored.expect("a password hash is stored");
        assert!(stored.starts_with("$2b$04$"), "[{}] bcrypt at the configured cost: {stored}", client.backend);
        assert!(!stored.contains("correct horse"), "plaintext never stored");

        let key = client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": id, "label": "ci" })).await;
        assert_eq!(key.status, StatusCode::CREATED);
        let raw = key.str("key");
        assert!(raw.starts_with("sk_") && raw.len() >= 46, "256-bit sk_ key: {raw}");
        assert_eq!(key.str("prefix"), raw[..11]);
        let digest = client.scalar("SELECT digest FROM api_keys WHERE label = 'ci'").await.unwrap();
        assert_eq!(digest, keygate_runtime::secret::digest(&raw), "SHA-256 digest of the key is stored");
        assert!(!digest.contains(&raw[3..]), "raw key never stored");

        let client_app = client.post("/admin/tenants/acme/clients", &json!({ "name": "web" })).await;
        let secret = client_app.str("client_secret");
        let digest = client.scalar("SELECT client_secret_hash FROM clients WHERE name = 'web'").await;
        assert_eq!(digest.unwrap(), keygate_runtime::secret::digest(&secret));
        let again = client.get(&format!("/admin/tenants/acme/clients/{}", client_app.str("id"))).await;
        assert!(again.json.get("client_secret").is_none() && again.json.get("client_secret_hash").is_none());

        let reply = client
            .raw(
                Method::POST,
                "/admin/tenants/acme/revoked_tokens/revoke",
                "application/x-www-form-urlencoded",
                "token=eyJ.some.jwt",
                Auth::Admin,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        let digest = client.scalar("SELECT token_digest FROM revoked_tokens").await.unwrap();
        assert_eq!(digest, keygate_runtime::secret::digest("eyJ.some.jwt"));
    })
    .await;
}

#[actix_web::test]
async fn passwords_beyond_bcrypts_limit_are_refused_not_truncated() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let long = "a".repeat(73);
        let reply = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "long", "email": "long@example.com", "password": long }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.json);
        assert_eq!(reply.error_fields(), ["password"]);
        assert!(reply.json["detail"].as_str().unwrap().contains("72"), "{}", reply.json);
        assert!(client.list_all("/admin/tenants/acme/users").await.is_empty(), "nothing written");

        // Exactly 72 bytes is fine; multi-byte characters count as bytes.
        let reply = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "edge", "email": "edge@example.com", "password": "a".repeat(72) }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let reply = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "wide", "email": "wide@example.com", "password": "é".repeat(37) }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "74 bytes in 37 characters");
        assert!(reply.json["detail"].as_str().unwrap().contains("72 bytes"), "the byte limit is named: {}", reply.json);
    })
    .await;
}

#[actix_web::test]
async fn concurrent_writes_never_surface_as_server_errors() {
    // A peer server answers HTTP 500 "database is locked" at 32 concurrent requests on SQLite.
    each_backend(async |client: &Client<'_>| {
        client.tenant("busy").await;
        let requests = (0..32).map(|n| async move {
            client
                .post(
                    "/admin/tenants/busy/users",
                    &json!({ "username": format!("u{n}"), "email": format!("u{n}@example.com"), "password": "correct horse battery" }),
                )
                .await
                .status
        });
        let statuses = join_all(requests).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "[{}] {statuses:?}", client.backend);
        assert_eq!(client.list_all("/admin/tenants/busy/users").await.len(), 32);
    })
    .await;
}

#[actix_web::test]
async fn oversized_bodies_are_refused_and_nothing_is_written() {
    each_backend(async |client: &Client<'_>| {
        let huge = "x".repeat(70 * 1024);
        let reply = client.post("/admin/tenants", &json!({ "slug": "big", "name": huge })).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.headers.get("content-type").unwrap(), "application/problem+json");
        assert!(client.list_all("/admin/tenants").await.is_empty());
    })
    .await;
}

#[actix_web::test]
async fn references_must_stay_inside_the_tenant() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("a").await;
        client.tenant("b").await;
        let ann = user(client, "a", "ann").await;
        // A key in tenant b for tenant a's user: refused, as if the user did not exist.
        let reply = client.post("/admin/tenants/b/api_keys", &json!({ "user_id": ann.str("id"), "label": "x" })).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.json);
        assert_eq!(reply.error_fields(), ["user_id"]);
        assert!(client.list_all("/admin/tenants/b/api_keys").await.is_empty());
        // Same username in two tenants is fine; twice in one tenant is a conflict naming the field.
        user(client, "b", "ann").await;
        let reply = client
            .post(
                "/admin/tenants/a/users",
                &json!({ "username": "ann", "email": "other@example.com", "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        assert_eq!(reply.error_fields(), ["username"]);
    })
    .await;
}

#[actix_web::test]
async fn deleting_a_parent_follows_on_delete() {
    each_backend(async |client: &Client<'_>| {
        let tenant = client.tenant("gone").await;
        let ann = user(client, "gone", "ann").await;
        let key = client.post("/admin/tenants/gone/api_keys", &json!({ "user_id": ann.str("id"), "label": "k" })).await;
        assert_eq!(key.status, StatusCode::CREATED);
        // Deleting the user cascades to its keys.
        assert_eq!(
            client.delete(&format!("/admin/tenants/gone/users/{}", ann.str("id"))).await.status,
            StatusCode::NO_CONTENT
        );
        assert!(client.list_all("/admin/tenants/gone/api_keys").await.is_empty());
        // Deleting the tenant cascades to everything it owns.
        user(client, "gone", "bob").await;
        assert_eq!(client.delete(&format!("/admin/tenants/{}", tenant.str("id"))).await.status, StatusCode::NO_CONTENT);
        assert_eq!(client.scalar("SELECT CAST(COUNT(*) AS TEXT) FROM users").await.as_deref(), Some("0"));
        assert_eq!(client.get("/admin/tenants/gone/users").await.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[actix_web::test]
async fn updates_are_partial_and_null_clears_nullable_fields() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("t").await;
        let ann = user(client, "t", "ann").await;
        let key = client
            .post(
                "/admin/tenants/t/api_keys",
                &json!({ "user_id": ann.str("id"), "label": "k", "valid_to": "2031-01-01T00:00:00Z" }),
            )
            .await;
        let path = format!("/admin/tenants/t/api_keys/{}", key.str("id"));
        let reply = client.patch(&path, &json!({ "label": "renamed" })).await;
        assert_eq!(reply.json["label"], "renamed");
        assert_eq!(reply.json["valid_to"], "2031-01-01T00:00:00Z", "absent fields are kept");
        let reply = client.patch(&path, &json!({ "valid_to": null })).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.json["valid_to"].is_null(), "null clears a nullable field");
        // Fields the op does not accept are refused by name.
        let reply = client.patch(&path, &json!({ "user_id": ann.str("id") })).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.error_fields(), ["user_id"]);
        // A password change re-hashes; leaving it out keeps the hash.
        let before = client.scalar("SELECT password_hash FROM users WHERE username = 'ann'").await;
        assert!(before.is_some());
        client.patch(&format!("/admin/tenants/t/users/{}", ann.str("id")), &json!({ "is_active": false })).await;
        let kept = client.scalar("SELECT password_hash FROM users WHERE username = 'ann'").await;
        assert_eq!(before, kept);
        client
            .patch(&format!("/admin/tenants/t/users/{}", ann.str("id")), &json!({ "password": "another long secret" }))
            .await;
        let changed = client.scalar("SELECT password_hash FROM users WHERE username = 'ann'").await;
        assert_ne!(before, changed);
    })
    .await;
}

#[actix_web::test]
async fn the_admin_credential_is_checked_with_rfc_6750_challenges() {
    each_backend(async |client: &Client<'_>| {
        let reply = client.json(Method::GET, "/admin/tenants", None, Auth::None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.headers.get("www-authenticate").unwrap(), "Bearer realm=\"keygate-admin\"");
        let reply = client.json(Method::GET, "/admin/tenants", None, Auth::Bearer("kga_nope")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.headers.get("www-authenticate").unwrap().to_str().unwrap().contains("error=\"invalid_token\""));
        assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");
    })
    .await;
}

#[actix_web::test]
async fn routes_answer_unknown_paths_and_methods_with_problems() {
    each_backend(async |client: &Client<'_>| {
        let reply = client.get("/admin/nothing-here").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.json["status"], 404);
        let reply = client.json(Method::PUT, "/admin/tenants", None, Auth::Admin).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(reply.headers.get("content-type").unwrap(), "application/problem+json");
    })
    .await;
}

#[actix_web::test]
async fn the_openapi_document_describes_every_route() {
    each_backend(async |client: &Client<'_>| {
        let reply = client.json(Method::GET, "/openapi.json", None, Auth::None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json["openapi"], "3.1.0");
        let compiled: serde_json::Value = serde_json::from_str(keygate_api::SCHEMA).unwrap();
        for entity in compiled["entities"].as_array().unwrap() {
            for op in entity["ops"].as_array().unwrap() {
                let path = op["path"].as_str().unwrap();
                let method = op["method"].as_str().unwrap().to_ascii_lowercase();
                assert!(reply.json["paths"][path][&method].is_object(), "{method} {path} documented");
            }
        }
        let user = &reply.json["components"]["schemas"]["UserView"]["properties"];
        assert!(
            user.get("password_hash").is_none() && user.get("password").is_none(),
            "hidden fields are not documented as returned"
        );
    })
    .await;
}

/// Internal protocol tables have only the admin routes the schema lists: nothing mints or edits
/// authorization codes, device codes, pushed requests or consents, nor un-revokes a token, and
/// the OpenAPI document does not offer those routes.
#[actix_web::test]
async fn protocol_state_cannot_be_minted_or_edited_through_the_admin_api() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let ann = user(client, "acme", "ann").await;
        let app = client.post("/admin/tenants/acme/clients", &json!({ "name": "web" })).await;
        let (user_id, client_id) = (ann.str("id"), app.str("id"));
        let id = uuid::Uuid::new_v4();
        let minted = json!({ "user_id": user_id, "client_id": client_id, "redirect_uri": "https://app.example/cb",
            "expires_at": "2030-01-01T00:00:00Z", "scope": "openid", "params": {}, "scopes": ["openid"] });
        // (method, path, status): 404 where no route is left on the path, 405 where other
        // methods of it remain.
        let removed = [
            (Method::POST, "/admin/tenants/acme/auth_codes".to_owned(), StatusCode::NOT_FOUND),
            (Method::GET, "/admin/tenants/acme/auth_codes".to_owned(), StatusCode::NOT_FOUND),
            (Method::PATCH, format!("/admin/tenants/acme/auth_codes/{id}"), StatusCode::NOT_FOUND),
            (Method::POST, "/admin/tenants/acme/device_codes".to_owned(), StatusCode::NOT_FOUND),
            (Method::PATCH, format!("/admin/tenants/acme/device_codes/{id}"), StatusCode::NOT_FOUND),
            (Method::POST, "/admin/tenants/acme/pushed_authorization_requests".to_owned(), StatusCode::NOT_FOUND),
            (Method::GET, "/admin/tenants/acme/pushed_authorization_requests".to_owned(), StatusCode::NOT_FOUND),
            (Method::POST, "/admin/tenants/acme/consents".to_owned(), StatusCode::METHOD_NOT_ALLOWED),
            (Method::PATCH, format!("/admin/tenants/acme/consents/{id}"), StatusCode::METHOD_NOT_ALLOWED),
            (Method::POST, "/admin/tenants/acme/grants".to_owned(), StatusCode::METHOD_NOT_ALLOWED),
            (Method::POST, "/admin/tenants/acme/refresh_tokens".to_owned(), StatusCode::NOT_FOUND),
            (Method::GET, "/admin/tenants/acme/refresh_tokens".to_owned(), StatusCode::NOT_FOUND),
            (Method::DELETE, format!("/admin/tenants/acme/revoked_tokens/{id}"), StatusCode::METHOD_NOT_ALLOWED),
        ];
        let document = client.json(Method::GET, "/openapi.json", None, Auth::None).await.json;
        for (method, path, status) in removed {
            let body = (method != Method::GET).then_some(&minted);
            let reply = client.json(method.clone(), &path, body, Auth::Admin).await;
            assert_eq!(reply.status, status, "[{}] {method} {path}: {}", client.backend, reply.json);
            let template = path.replace(&id.to_string(), "{id}").replace("/acme/", "/{tenant}/");
            let documented = &document["paths"][&template][method.as_str().to_ascii_lowercase()];
            assert!(documented.is_null(), "{method} {template} is not in /openapi.json");
        }
        for schema in ["AuthCodeView", "CreateAuthCode", "DeviceCodeView", "PushedAuthorizationRequestView"] {
            assert!(document["components"]["schemas"][schema].is_null(), "{schema} is not in /openapi.json");
        }
        for table in ["auth_codes", "device_codes", "pushed_authorization_requests", "consents"] {
            let count = client.scalar(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await;
            assert_eq!(count.as_deref(), Some("0"), "nothing written to {table}");
        }
        // What operators do need stays: seeing and ending grants and sessions, revoking tokens.
        for kept in ["grants", "auth_sessions", "consents", "revoked_tokens"] {
            let template = format!("/admin/tenants/{{tenant}}/{kept}");
            assert!(document["paths"][&template]["get"].is_object(), "GET {template} is documented");
            assert_eq!(client.get(&format!("/admin/tenants/acme/{kept}")).await.status, StatusCode::OK);
        }
    })
    .await;
}

#[actix_web::test]
async fn renamed_and_deleted_tenants_stop_resolving_at_once() {
    each_backend(async |client: &Client<'_>| {
        let tenant = client.tenant("old-name").await;
        user(client, "old-name", "ann").await;
        assert_eq!(client.get("/admin/tenants/old-name/users").await.status, StatusCode::OK, "resolved (and cached)");
        let path = format!("/admin/tenants/{}", tenant.str("id"));
        assert_eq!(client.patch(&path, &json!({ "slug": "new-name" })).await.status, StatusCode::OK);
        assert_eq!(
            client.get("/admin/tenants/old-name/users").await.status,
            StatusCode::NOT_FOUND,
            "old slug forgotten"
        );
        assert_eq!(client.list_all("/admin/tenants/new-name/users").await.len(), 1, "new slug resolves");
        assert_eq!(client.delete(&path).await.status, StatusCode::NO_CONTENT);
        assert_eq!(
            client.get("/admin/tenants/new-name/users").await.status,
            StatusCode::NOT_FOUND,
            "deleted tenant forgotten"
        );
    })
    .await;
}

#[actix_web::test]
async fn null_is_refused_for_fields_that_cannot_hold_it_on_create_too() {
    each_backend(async |client: &Client<'_>| {
        let reply =
            client.post("/admin/tenants", &json!({ "slug": "acme", "name": "Acme", "registration": null })).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.json);
        assert_eq!(reply.error_fields(), ["registration"]);
        let count = client.list_all("/admin/tenants").await.len();
        assert_eq!(count, 0, "nothing was written");
    })
    .await;
}
