//! Whose access tokens the account API takes: the tenant's own (its sign-in API's, the
//! first-party client's), never one an application got through the authorization code flow. A
//! relying party holds the user's token for what the user consented to (scopes); with the
//! account API it could otherwise read the profile beyond them, change the email to its own
//! address and reset the password from there, or make new recovery codes: the user's account.
//! The admin API takes the same tokens only, for the same reason: an org_admin signing in to an
//! application must not hand it the tenant.

mod oidc;
mod support;

use oidc::browser::{Browser, consent};
use serde_json::{Value, json};
use support::LiveServer;
use support::flow::{authorize_url, redeem};
use support::live::{Admin, PASSWORD, each_live_backend};

/// Alice signs in to the application `client` through the pages: its tokens.
async fn relying_party_tokens(server: &LiveServer, client: &(String, String)) -> Value {
    let browser = Browser::new();
    let page = browser.get(&authorize_url(server, &client.0, &[])).await;
    let (csrf, request) = (page.input("csrf").unwrap(), page.input("request").unwrap());
    let fields = [("csrf", csrf.as_str()), ("request", &request), ("username", "alice"), ("password", PASSWORD)];
    let signed_in = browser.post(&page.form_action(), &fields).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let mut next = browser.get(signed_in.location.as_deref().unwrap()).await;
    if next.status == 200 {
        next = consent(&browser, &next, "allow").await;
    }
    assert_eq!(next.status, 303, "{}", next.body);
    redeem(server, client, &next.redirect_params()["code"]).await
}

/// Calls the account API with `token`: status and JSON body.
async fn call(server: &LiveServer, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let http = awc::Client::default();
    let request = http
        .request(method.parse().unwrap(), format!("{}/acme{path}", server.base))
        .insert_header(("authorization", format!("Bearer {token}")));
    let mut reply = match body {
        Some(body) => request.send_json(&body).await,
        None => request.send().await,
    }
    .expect("account API call");
    let bytes = reply.body().await.expect("body");
    (reply.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn an_applications_access_token_is_refused_by_the_account_api() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let tokens = relying_party_tokens(server, &(id, secret.unwrap())).await;
        let theirs = tokens["access_token"].as_str().unwrap();
        // The token is good for what it was issued for.
        assert_eq!(call(server, "GET", "/oauth2/userinfo", theirs, None).await.0, 200);

        let attempts = [
            ("GET", "/auth/me", None),
            ("PATCH", "/auth/me", Some(json!({ "email": "mallory@evil.example" }))),
            ("GET", "/auth/me/mfa/factors", None),
            ("POST", "/auth/me/mfa/recovery-codes", None),
            ("POST", "/auth/me/mfa/totp", None),
            ("GET", "/auth/me/sessions", None),
            ("POST", "/auth/me/sessions/end-others", None),
            ("GET", "/auth/me/security-events", None),
            (
                "POST",
                "/auth/password",
                Some(json!({ "current_password": PASSWORD, "new_password": "n3w horse battery" })),
            ),
        ];
        for (method, path, body) in attempts {
            let (status, reply) = call(server, method, path, theirs, body).await;
            assert_eq!(status, 401, "{method} {path} with an application's token: {reply}");
        }

        // Nothing changed: alice's own sign-in sees her address, no codes, her password.
        let login = json!({ "username": "alice", "password": PASSWORD });
        let mut signed_in =
            awc::Client::default().post(format!("{}/acme/auth/login", server.base)).send_json(&login).await.unwrap();
        let own: Value = signed_in.json().await.unwrap();
        let own = own["access_token"].as_str().expect("alice signs in with her password");
        let (status, me) = call(server, "GET", "/auth/me", own, None).await;
        assert_eq!((status, me["email"].as_str()), (200, Some("alice@example.com")), "{me}");
        let (_, factors) = call(server, "GET", "/auth/me/mfa/factors", own, None).await;
        assert_eq!(factors["recovery_codes_left"], 0, "{factors}");
    })
    .await;
}

#[actix_web::test]
async fn an_admins_token_issued_to_an_application_is_refused_by_the_admin_api() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let users = admin.get("/admin/tenants/acme/users").await;
        let alice = users["items"].as_array().unwrap().iter().find(|u| u["username"] == "alice").unwrap()["id"].clone();
        admin
            .patch(&format!("/admin/tenants/acme/users/{}", alice.as_str().unwrap()), json!({ "roles": ["org_admin"] }))
            .await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let tokens = relying_party_tokens(server, &(id, secret.unwrap())).await;
        let theirs = tokens["access_token"].as_str().unwrap();

        let users_of = async |token: &str| {
            let http = awc::Client::default();
            let request = http
                .get(format!("{}/admin/tenants/acme/users", server.base))
                .insert_header(("authorization", format!("Bearer {token}")));
            let mut reply = request.send().await.expect("admin call");
            let challenge = reply.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            let _ = reply.body().await;
            (reply.status().as_u16(), challenge)
        };
        // The application signed alice in; it may not act as her on the tenant.
        let (status, challenge) = users_of(theirs).await;
        assert_eq!(status, 401);
        assert!(challenge.unwrap_or_default().contains("invalid_token"));
        let login = json!({ "username": "alice", "password": PASSWORD });
        let mut signed_in =
            awc::Client::default().post(format!("{}/acme/auth/login", server.base)).send_json(&login).await.unwrap();
        let own: Value = signed_in.json().await.unwrap();
        assert_eq!(users_of(own["access_token"].as_str().unwrap()).await.0, 200, "her own sign-in's token works");
    })
    .await;
}
