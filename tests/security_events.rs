//! The security event log over HTTP: what a password change and a lockout record, read by the
//! user (`/auth/me/security-events`, newest first, paged) and by admins, never across tenants.

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use support::{Auth, Client, Reply, USER_PASSWORD, each_backend};

async fn login_from(client: &Client<'_>, tenant: &str, ip: &str, username: &str, password: &str) -> Reply {
    let request = TestRequest::default()
        .method(Method::POST)
        .uri(&format!("/{tenant}/auth/login"))
        .peer_addr(format!("{ip}:40000").parse().unwrap())
        .insert_header(("content-type", "application/json"))
        .insert_header(("user-agent", "EventTest/1.0"))
        .set_payload(json!({ "username": username, "password": password }).to_string());
    client.send(request).await
}

async fn my_events(client: &Client<'_>, tenant: &str, token: &str, query: &str) -> Reply {
    client.json(Method::GET, &format!("/{tenant}/auth/me/security-events{query}"), None, Auth::Bearer(token)).await
}

fn types(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn password_changes_and_lockouts_are_logged_for_the_user_and_admins_only() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        client.tenant("beta").await;
        let (ann, token) = client.signed_in_user("acme", "ann", &[]).await;
        let (_, beta_token) = client.signed_in_user("beta", "bea", &[]).await;

        let empty = my_events(client, "acme", &token, "").await;
        assert_eq!(empty.status, StatusCode::OK, "{}", empty.json);
        assert_eq!(empty.json, json!({ "items": [], "next_cursor": null }));

        let change = json!({ "current_password": USER_PASSWORD, "new_password": "a brand new secret" });
        let changed = client.json(Method::POST, "/acme/auth/password", Some(&change), Auth::Bearer(&token)).await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.json);
        for _ in 0..5 {
            let guess = login_from(client, "acme", "198.51.100.7", "ann", "guess").await;
            assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
        }
        let locked = login_from(client, "acme", "198.51.100.7", "ann", "guess").await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "attempts while locked are not failures");

        let page = my_events(client, "acme", &token, "").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        assert_eq!(types(&page.json), ["sign_in.locked_out", "password.changed"], "newest first: {}", page.json);
        let lockout = &page.json["items"][0];
        assert_eq!(lockout["user_id"], ann.as_str());
        assert_eq!(lockout["ip"], "198.51.100.7");
        assert_eq!(lockout["user_agent"], "EventTest/1.0");
        assert!(lockout["device_id"].is_null());
        assert!(lockout["data"]["retry_after"].as_u64().is_some_and(|s| s >= 1), "{lockout}");
        let keys: Vec<&str> = lockout.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = ["data", "device_id", "id", "ip", "occurred_at", "type", "user_agent", "user_id"];
        expected.sort_unstable();
        assert_eq!(keys, expected, "the stable shape");

        // Paged like other lists, in the same order, and filtered by type.
        let first = my_events(client, "acme", &token, "?limit=1").await;
        assert_eq!(types(&first.json), ["sign_in.locked_out"]);
        let cursor = first.str("next_cursor");
        let second = my_events(client, "acme", &token, &format!("?limit=1&cursor={cursor}")).await;
        assert_eq!(types(&second.json), ["password.changed"], "{}", second.json);
        assert!(second.json["next_cursor"].is_null());
        let oldest = my_events(client, "acme", &token, "?sort=occurred_at").await;
        assert_eq!(types(&oldest.json), ["password.changed", "sign_in.locked_out"]);
        let only = my_events(client, "acme", &token, "?type=password.changed").await;
        assert_eq!(types(&only.json), ["password.changed"]);
        assert_eq!(my_events(client, "acme", &token, "?type=nonsense").await.status, StatusCode::BAD_REQUEST);
        let anonymous = client.json(Method::GET, "/acme/auth/me/security-events", None, Auth::None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

        // Admins list a user's events; the row shows `type` under that name.
        let admin = client.get(&format!("/admin/tenants/acme/security_events?user_id={ann}&sort=-occurred_at")).await;
        assert_eq!(admin.status, StatusCode::OK, "{}", admin.json);
        assert_eq!(types(&admin.json), ["sign_in.locked_out", "password.changed"]);
        let id = admin.json["items"][0]["id"].as_str().unwrap().to_owned();
        let one = client.get(&format!("/admin/tenants/acme/security_events/{id}")).await;
        assert_eq!(one.json["type"], "sign_in.locked_out", "{}", one.json);
        let filtered = client.get("/admin/tenants/acme/security_events?type=password.changed").await;
        assert_eq!(types(&filtered.json), ["password.changed"]);

        // Never across tenants: not through another tenant's admin routes or account API.
        let elsewhere = client.get(&format!("/admin/tenants/beta/security_events?user_id={ann}")).await;
        assert_eq!(elsewhere.json["items"], json!([]));
        assert_eq!(
            client.get(&format!("/admin/tenants/beta/security_events/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(types(&my_events(client, "beta", &beta_token, "").await.json), Vec::<String>::new());
        assert_eq!(my_events(client, "beta", &token, "").await.status, StatusCode::UNAUTHORIZED);
        let created = client.post("/admin/tenants/acme/security_events", &json!({})).await;
        assert!(created.status == StatusCode::NOT_FOUND || created.status == StatusCode::METHOD_NOT_ALLOWED);
    })
    .await;
}
