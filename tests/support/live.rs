//! A live server per backend and the admin calls the end-to-end tests make over HTTP.

use serde_json::{Value, json};

use super::{ADMIN_TOKEN, LiveServer, databases};

/// The redirect URI test clients register.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// The password of the test user `alice`.
pub const PASSWORD: &str = "correct horse battery";

/// Admin calls over HTTP.
pub struct Admin {
    base: String,
    http: awc::Client,
}

impl Admin {
    /// Admin calls to `server`.
    pub fn new(server: &LiveServer) -> Self {
        Self { base: server.base.clone(), http: awc::Client::default() }
    }

    /// POSTs `body` as admin; asserts 201 and returns the created row.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let mut response = self
            .http
            .post(format!("{}{path}", self.base))
            .insert_header(("authorization", format!("Bearer {ADMIN_TOKEN}")))
            .send_json(&body)
            .await
            .expect("admin call");
        let json: Value = response.json().await.expect("json");
        assert_eq!(response.status().as_u16(), 201, "{path}: {json}");
        json
    }

    /// PATCHes `path` with `body` as admin; asserts 200 and returns the row.
    pub async fn patch(&self, path: &str, body: Value) -> Value {
        let mut response = self
            .http
            .patch(format!("{}{path}", self.base))
            .insert_header(("authorization", format!("Bearer {ADMIN_TOKEN}")))
            .send_json(&body)
            .await
            .expect("admin call");
        let json: Value = response.json().await.expect("json");
        assert_eq!(response.status().as_u16(), 200, "{path}: {json}");
        json
    }

    /// GETs `path` as admin.
    pub async fn get(&self, path: &str) -> Value {
        let mut response = self
            .http
            .get(format!("{}{path}", self.base))
            .insert_header(("authorization", format!("Bearer {ADMIN_TOKEN}")))
            .send()
            .await
            .expect("admin call");
        response.json().await.expect("json")
    }

    /// DELETEs `path` as admin, expecting `204 No Content`.
    pub async fn delete(&self, path: &str) {
        let response = self
            .http
            .delete(format!("{}{path}", self.base))
            .insert_header(("authorization", format!("Bearer {ADMIN_TOKEN}")))
            .send()
            .await
            .expect("admin call");
        assert_eq!(response.status().as_u16(), 204, "DELETE {path}");
    }

    /// A tenant with one user.
    pub async fn tenant(&self, slug: &str) {
        self.post("/admin/tenants", json!({ "slug": slug, "name": slug })).await;
        self.post(
            &format!("/admin/tenants/{slug}/users"),
            json!({
                "username": "alice", "email": "alice@example.com", "password": PASSWORD,
                "name": "Alice Liddell", "email_verified": true
            }),
        )
        .await;
    }

    /// A client of `tenant`; returns its id and secret (none for public clients).
    pub async fn client(&self, tenant: &str, extra: Value) -> (String, Option<String>) {
        let mut body = json!({
            "name": "Notes",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "profile", "email"],
        });
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        let reply = self.post(&format!("/admin/tenants/{tenant}/clients"), body).await;
        (reply["id"].as_str().unwrap().to_owned(), reply["client_secret"].as_str().map(str::to_owned))
    }
}

/// Runs `check` against a live server per backend.
pub async fn each_live_backend<F>(check: F)
where
    F: AsyncFn(&LiveServer, &Admin),
{
    for db in databases().await {
        let server = LiveServer::start(&db).await;
        let admin = Admin::new(&server);
        check(&server, &admin).await;
        server.stop().await;
    }
}
