//! Passkeys in a real browser (issue 12): headless Chromium, driven over the DevTools protocol
//! with a virtual authenticator (CTAP2, internal transport, resident keys, user verification),
//! against a live server whose public URL is `http://localhost:PORT` (WebAuthn needs a domain).
//! Alice signs in with her password through the sign-in page, adds a passkey on the account page
//! (its script calls `navigator.credentials.create`), signs out, and signs in again with the
//! passkey alone through the sign-in page (`navigator.credentials.get`); the tokens say so. Then
//! her password sign-in asks for a second step, which the passkey answers on that page.

mod oidc;
mod support;

use keygate_runtime::jose::unverified_claims;
use oidc::browser::Browser;
use serde_json::{Value, json};
use support::LiveServer;
use support::cdp::Chromium;
use support::live::{Admin, PASSWORD, REDIRECT};

const VERIFIER: &str = "a-fixed-pkce-code-verifier-of-at-least-43-characters";

fn authorize_url(server: &LiveServer, client_id: &str) -> String {
    let verifier = openidconnect::PkceCodeVerifier::new(VERIFIER.to_owned());
    let challenge = openidconnect::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("client_id", client_id)
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    format!("{}/acme/oauth2/authorize?{}", server.base, query.finish())
}

/// The authorization code of the `nth` (from 0) request the browser made to the client's
/// redirect URI (the callback itself goes nowhere: nothing listens there).
async fn callback_code(chromium: &Chromium, nth: usize) -> String {
    let to_client = |params: &Value| params["request"]["url"].as_str().is_some_and(|url| url.starts_with(REDIRECT));
    let event = chromium.event("Network.requestWillBeSent", nth, 20, to_client).await;
    let url = event["request"]["url"].as_str().unwrap().to_owned();
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let code = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
    code.unwrap_or_else(|| panic!("no code in {url}"))
}

async fn redeem(server: &LiveServer, client: &(String, String), code: &str) -> Value {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", &client.0),
        ("client_secret", &client.1),
    ];
    let tokens = Browser::new().post(&format!("{}/acme/oauth2/token", server.base), &fields).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    serde_json::from_str(&tokens.body).unwrap()
}

/// The sign-in page with alice's password, then consent.
async fn sign_in_with_password(chromium: &Chromium, server: &LiveServer, client_id: &str) {
    chromium.goto(&authorize_url(server, client_id)).await;
    chromium.wait_for("document.getElementById('password') !== null", 10, "document.body.innerText").await;
    let fill = format!(
        "document.getElementById('username').value = 'alice'; document.getElementById('password').value = {};
         document.getElementById('password').form.submit(); true",
        json!(PASSWORD)
    );
    chromium.eval(&fill).await;
    let allow = "document.querySelector('button[name=decision][value=allow]')";
    chromium.wait_for(&format!("{allow} !== null"), 10, "document.body.innerText").await;
    chromium.eval(&format!("{allow}.click(); true")).await;
}

#[actix_web::test]
async fn a_passkey_added_on_the_account_page_signs_in_on_the_sign_in_page() {
    for db in support::databases().await {
        let Some(chromium) = Chromium::start().await else { return };
        let server = LiveServer::start_as(&db, "localhost").await;
        passkey_round_trip(&chromium, &server).await;
        server.stop().await;
    }
}

async fn passkey_round_trip(chromium: &Chromium, server: &LiveServer) {
    let admin = Admin::new(server);
    admin.post("/admin/tenants", json!({ "slug": "acme", "name": "Acme", "passkey_sign_in": true })).await;
    let alice = json!({ "username": "alice", "email": "alice@example.com", "password": PASSWORD });
    admin.post("/admin/tenants/acme/users", alice).await;
    let (id, secret) = admin.client("acme", json!({})).await;
    let client = (id.clone(), secret.unwrap());

    chromium.call("Network.enable", json!({})).await;
    chromium.call("WebAuthn.enable", json!({})).await;
    let authenticator = json!({ "options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
        "hasUserVerification": true, "isUserVerified": true, "automaticPresenceSimulation": true,
    }});
    let authenticator = chromium.call("WebAuthn.addVirtualAuthenticator", authenticator).await;

    // Password first: a session, then the account page, where the script adds a passkey.
    sign_in_with_password(chromium, server, &id).await;
    callback_code(chromium, 0).await;
    chromium.goto(&format!("{}/acme/account", server.base)).await;
    let button = "document.getElementById('add-passkey')";
    chromium.wait_for(&format!("{button} && !{button}.closest('[hidden]')"), 10, "document.body.innerText").await;
    chromium.eval("document.getElementById('passkey-label').value = 'Virtual key'; true").await;
    chromium.eval(&format!("{button}.click(); true")).await;
    let listed = chromium.wait_for(
        "document.querySelector('[data-passkey] .label')?.textContent",
        15,
        "document.body.innerText",
    );
    assert_eq!(listed.await, "Virtual key");
    let stored =
        chromium.call("WebAuthn.getCredentials", json!({ "authenticatorId": authenticator["authenticatorId"] }));
    let stored = stored.await;
    assert_eq!(stored["credentials"].as_array().map(Vec::len), Some(1), "{stored}");
    assert_eq!(stored["credentials"][0]["isResidentCredential"], true, "a discoverable credential: {stored}");

    // Signed out (the browser forgets its cookies), then the passkey alone on the sign-in page.
    chromium.call("Network.clearBrowserCookies", json!({})).await;
    chromium.goto(&authorize_url(server, &id)).await;
    let passkey = "document.getElementById('passkey-sign-in')";
    chromium.wait_for(&format!("{passkey} && !{passkey}.closest('[hidden]')"), 10, "document.body.innerText").await;
    chromium.eval(&format!("{passkey}.click(); true")).await;
    let code = callback_code(chromium, 1).await;
    let tokens = redeem(server, &client, &code).await;
    let claims = unverified_claims(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["amr"], json!(["hwk", "mfa"]), "a device-bound passkey with user verification: {claims}");
    assert_eq!(claims["acr"], "urn:keygate:loa:2fa");

    // Signed out again: now the password asks for a second step, which the passkey answers.
    chromium.call("Network.clearBrowserCookies", json!({})).await;
    chromium.goto(&authorize_url(server, &id)).await;
    chromium.wait_for("document.getElementById('password') !== null", 10, "document.body.innerText").await;
    let fill = format!(
        "document.getElementById('username').value = 'alice'; document.getElementById('password').value = {};
         document.getElementById('password').form.submit(); true",
        json!(PASSWORD)
    );
    chromium.eval(&fill).await;
    let second = "document.getElementById('passkey-mfa')";
    chromium.wait_for(&format!("{second} && !{second}.closest('[hidden]')"), 10, "document.body.innerText").await;
    chromium.eval(&format!("{second}.click(); true")).await;
    let code = callback_code(chromium, 2).await;
    let tokens = redeem(server, &client, &code).await;
    let claims = unverified_claims(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]), "password, then the passkey: {claims}");
}
