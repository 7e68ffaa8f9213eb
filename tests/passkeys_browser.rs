//! Passkeys in a real browser (issue 12): headless Chromium, driven over the DevTools protocol
//! with a virtual authenticator (CTAP2, internal transport, resident keys, user verification),
//! against a live server whose public URL is `http://localhost:PORT` (WebAuthn needs a domain).
//! Alice signs in with her password through the sign-in page, adds a passkey on the account page
//! (its script calls `navigator.credentials.create`), signs out, and signs in again with the
//! passkey alone through the sign-in page: offered by the username field's autofill
//! (`navigator.credentials.get` with `mediation: "conditional"`), and where the browser has no
//! such autofill, by the button; the tokens say so. Then her password sign-in asks for a second
//! step, which the passkey answers on that page.

mod support;

use keygate_runtime::jose::unverified_claims;
use serde_json::json;
use support::LiveServer;
use support::cdp::Chromium;
use support::flow::{self, authorize_url, callback_code, redeem};
use support::live::{Admin, PASSWORD};

/// The sign-in page of a new authorization request with alice's password, then consent.
async fn sign_in_with_password(chromium: &Chromium, server: &LiveServer, client_id: &str) {
    chromium.goto(&authorize_url(server, client_id, &[])).await;
    flow::sign_in_with_password(chromium, "alice", PASSWORD).await;
    flow::consent(chromium).await;
}

/// A platform authenticator (CTAP2, resident keys, user verification that always succeeds) in
/// the browser, as DevTools' WebAuthn domain makes one; DevTools' answer (its `authenticatorId`).
async fn add_virtual_authenticator(chromium: &Chromium) -> serde_json::Value {
    chromium.call("Network.enable", json!({})).await;
    chromium.call("WebAuthn.enable", json!({})).await;
    let authenticator = json!({ "options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
        "hasUserVerification": true, "isUserVerified": true, "automaticPresenceSimulation": true,
    }});
    chromium.call("WebAuthn.addVirtualAuthenticator", authenticator).await
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
    let tenant = admin.post("/admin/tenants", json!({ "slug": "acme", "name": "Acme", "passkey_sign_in": true })).await;
    let tenant = tenant["id"].as_str().unwrap().to_owned();
    let alice = json!({ "username": "alice", "email": "alice@example.com", "password": PASSWORD });
    admin.post("/admin/tenants/acme/users", alice).await;
    let (id, secret) = admin.client("acme", json!({})).await;
    let client = (id.clone(), secret.unwrap());

    let authenticator = add_virtual_authenticator(chromium).await;

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

    // Signed out (the browser forgets its cookies): the sign-in page's username field offers the
    // passkey (conditional mediation), and choosing it signs in with no click on the button (the
    // virtual authenticator answers a conditional request with its only credential at once).
    chromium.call("Network.clearBrowserCookies", json!({})).await;
    chromium.goto(&authorize_url(server, &id, &[])).await;
    let code = callback_code(chromium, 1).await;
    assert_amr(server, &client, &code, json!(["hwk", "mfa"])).await;

    // A browser without passkey autofill: the button signs in instead.
    let no_autofill = "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);";
    chromium.call("Page.enable", json!({})).await;
    chromium.call("Page.addScriptToEvaluateOnNewDocument", json!({ "source": no_autofill })).await;
    chromium.call("Network.clearBrowserCookies", json!({})).await;
    chromium.goto(&authorize_url(server, &id, &[])).await;
    let passkey = "document.getElementById('passkey-sign-in')";
    chromium.wait_for(&format!("{passkey} && !{passkey}.closest('[hidden]')"), 10, "document.body.innerText").await;
    let autocomplete = chromium.eval("document.getElementById('username').autocomplete").await;
    assert_eq!(autocomplete, "username webauthn", "the field that offers passkeys");
    chromium.eval(&format!("{passkey}.click(); true")).await;
    let code = callback_code(chromium, 2).await;
    assert_amr(server, &client, &code, json!(["hwk", "mfa"])).await;

    // Signed out again: now the password asks for a second step, which the passkey answers.
    chromium.call("Network.clearBrowserCookies", json!({})).await;
    chromium.goto(&authorize_url(server, &id, &[])).await;
    flow::sign_in_with_password(chromium, "alice", PASSWORD).await;
    let second = "document.getElementById('passkey-mfa')";
    chromium.wait_for(&format!("{second} && !{second}.closest('[hidden]')"), 10, "document.body.innerText").await;
    chromium.eval(&format!("{second}.click(); true")).await;
    let code = callback_code(chromium, 3).await;
    assert_amr(server, &client, &code, json!(["pwd", "hwk", "mfa"])).await;

    // Without passwordless sign-in, the sign-in page runs no script and offers no passkey.
    admin.patch(&format!("/admin/tenants/{tenant}"), json!({ "passkey_sign_in": false })).await;
    chromium.call("Network.clearBrowserCookies", json!({})).await;
    chromium.goto(&authorize_url(server, &id, &[])).await;
    flow::wait_for_element(chromium, "username").await;
    let plain = "[document.getElementById('username').autocomplete, document.scripts.length, !!document.getElementById('passkey-sign-in')]";
    assert_eq!(chromium.eval(plain).await, json!(["username", 0, false]));
}

#[actix_web::test]
async fn an_old_session_adds_a_passkey_with_the_password() {
    for db in support::databases().await {
        let Some(chromium) = Chromium::start().await else { return };
        let server = LiveServer::start_never_recent(&db, "localhost").await;
        passkey_with_password(&chromium, &server).await;
        server.stop().await;
    }
}

/// Adding a passkey is a sensitive change: a session that is not recent sends the password the
/// account page asks for with both calls; without it, the page says so and nothing is added.
async fn passkey_with_password(chromium: &Chromium, server: &LiveServer) {
    let admin = Admin::new(server);
    admin.post("/admin/tenants", json!({ "slug": "acme", "name": "Acme" })).await;
    let alice = json!({ "username": "alice", "email": "alice@example.com", "password": PASSWORD });
    admin.post("/admin/tenants/acme/users", alice).await;
    let (id, _) = admin.client("acme", json!({})).await;
    add_virtual_authenticator(chromium).await;
    sign_in_with_password(chromium, server, &id).await;
    callback_code(chromium, 0).await;
    chromium.goto(&format!("{}/acme/account", server.base)).await;
    let button = "document.getElementById('add-passkey')";
    chromium.wait_for(&format!("{button} && !{button}.closest('[hidden]')"), 10, "document.body.innerText").await;
    let asked = "!document.getElementById('passkey-reauth').hidden";
    assert_eq!(chromium.eval(asked).await, true, "the page asks for the password");

    chromium.eval(&format!("{button}.click(); true")).await;
    let status = "document.getElementById('passkey-status').textContent";
    let said = chromium.wait_for(&format!("{status}.includes('password') && {status}"), 15, status).await;
    assert!(said.as_str().unwrap().contains("enter your password"), "{said}");
    assert_eq!(chromium.eval("document.querySelectorAll('[data-passkey]').length").await, 0);

    let fill = format!("document.getElementById('passkey-password').value = {}; true", json!(PASSWORD));
    chromium.eval(&fill).await;
    chromium.eval(&format!("{button}.click(); true")).await;
    let listed = chromium.wait_for("document.querySelector('[data-passkey] .label')?.textContent", 15, status);
    assert_eq!(listed.await, "Passkey");
}

/// The ID token of `code` says `amr` (device-bound passkey: `hwk`), and two factors.
async fn assert_amr(server: &LiveServer, client: &(String, String), code: &str, amr: serde_json::Value) {
    let tokens = redeem(server, client, code).await;
    let claims = unverified_claims(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["amr"], amr, "{claims}");
    assert_eq!(claims["acr"], "urn:keygate:loa:2fa");
}
