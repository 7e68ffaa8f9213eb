//! The browser sign-in page compares passwords in one Unicode form, like the account API, and
//! answers hostile names with its own error page, never a 5xx.

mod oidc;
mod support;

use oidc::browser::{Browser, sign_in};
use serde_json::json;
use support::live::{Admin, REDIRECT};
use support::{LiveServer, databases};

const COMPOSED: &str = "ma\u{f1}ana caf\u{e9} pw";
const DECOMPOSED: &str = "man\u{303}ana cafe\u{301} pw";

fn authorize_url(server: &LiveServer, client_id: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("state", "s")
        .append_pair("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{}/acme/oauth2/authorize?{query}", server.base)
}

#[actix_web::test]
async fn the_sign_in_page_compares_passwords_in_one_unicode_form() {
    for db in databases().await {
        let server = LiveServer::start(&db).await;
        let admin = Admin::new(&server);
        admin.post("/admin/tenants", json!({ "slug": "acme", "name": "acme" })).await;
        let user = json!({ "username": "ana", "email": "ana@example.com", "password": COMPOSED });
        admin.post("/admin/tenants/acme/users", user).await;
        let client = json!({
            "name": "Notes", "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code"], "scopes": ["openid"],
        });
        let client = admin.post("/admin/tenants/acme/clients", client).await;
        let url = authorize_url(&server, client["id"].as_str().unwrap());

        // A hostile name is wrong credentials on the page, not a server error.
        for (name, password) in [("ana\u{0}", COMPOSED), ("ana", "nul\u{0}pw")] {
            let page = sign_in(&Browser::new(), &url, name, password).await;
            assert_eq!(page.status, 401, "[{}] {name:?}: {}", db.backend, page.body);
        }
        // A control character in a parameter (here `nonce`, which is stored with the code) is
        // refused at the authorization endpoint and reported to the client, never a 5xx.
        let hostile = Browser::new().get(&format!("{url}&nonce=n%00once")).await;
        assert_eq!(hostile.status, 303, "[{}] {}", db.backend, hostile.body);
        assert_eq!(hostile.redirect_params()["error"], "invalid_request", "{:?}", hostile.location);
        let back = sign_in(&Browser::new(), &url, "ana", DECOMPOSED).await;
        assert_eq!(back.status, 303, "[{}] {}", db.backend, back.body);
        assert!(back.redirect_params().contains_key("code"), "{:?}", back.location);
        server.stop().await;
    }
}
