//! The account page in a real browser (headless Chromium over DevTools, against a live server):
//! Alice signs in on the sign-in page and, on `/{tenant}/account`, ends the sign-in an app made
//! through the account API (its refresh token is then refused), forgets that app's device, sets
//! up an authenticator app from the key the page shows, makes recovery codes and changes her
//! password. Signed out, she signs in with the new password and a code from the app, then with
//! the new password and a recovery code; the tokens say two factors.

mod support;

use keygate_runtime::jose::unverified_claims;
use serde_json::{Value, json};
use support::LiveServer;
use support::cdp::Chromium;
use support::flow::{self, authorize_url, callback_code, fill_and_submit, redeem, totp_code, wait_for_element};
use support::live::{Admin, PASSWORD};
use totp_rs::Totp;

const NEW_PASSWORD: &str = "a much newer secret";

#[actix_web::test]
async fn a_person_manages_their_account_on_the_account_page() {
    for db in support::databases().await {
        let Some(chromium) = Chromium::start().await else { return };
        let server = LiveServer::start(&db).await;
        round_trip(&chromium, &server).await;
        server.stop().await;
    }
}

/// Alice's sign-in through the account API (tokens), as an app of hers would make it.
async fn api_sign_in(server: &LiveServer, password: &str) -> (u16, Value) {
    let body = json!({ "username": "alice", "password": password });
    let url = format!("{}/acme/auth/login", server.base);
    let mut reply = awc::Client::default().post(url).send_json(&body).await.expect("login");
    (reply.status().as_u16(), reply.json().await.unwrap_or(Value::Null))
}

async fn refresh(server: &LiveServer, token: &str) -> (u16, Value) {
    let url = format!("{}/acme/auth/refresh", server.base);
    let mut reply = awc::Client::default().post(url).send_json(&json!({ "refresh_token": token })).await.unwrap();
    (reply.status().as_u16(), reply.json().await.unwrap_or(Value::Null))
}

/// Waits for the account page's notice saying `text`.
async fn notice(chromium: &Chromium, text: &str) {
    let says = format!("document.querySelector('.notice[role=status]')?.textContent.includes({})", json!(text));
    chromium.wait_for(&says, 10, "document.body.innerText").await;
}

/// Submits the form holding the element `selector`.
async fn submit(chromium: &Chromium, selector: &str) {
    let script = format!("document.querySelector({}).closest('form').requestSubmit(); true", json!(selector));
    chromium.eval(&script).await;
}

async fn round_trip(chromium: &Chromium, server: &LiveServer) {
    let admin = Admin::new(server);
    admin.tenant("acme").await;
    let (id, secret) = admin.client("acme", json!({})).await;
    let client = (id.clone(), secret.unwrap());
    chromium.call("Network.enable", json!({})).await;
    let (_, app_tokens) = api_sign_in(server, PASSWORD).await;

    chromium.goto(&authorize_url(server, &id, &[])).await;
    flow::sign_in_with_password(chromium, "alice", PASSWORD).await;
    flow::consent(chromium).await;
    callback_code(chromium, 0).await;
    let account = format!("{}/acme/account", server.base);
    flow::open(chromium, &account, "sign-ins-heading").await;

    // Where she is signed in: this browser, and the app. Ending the app's sign-in refuses its
    // refresh token; forgetting its device leaves this one.
    let other = "[data-sign-in]:not([data-current]) button";
    let label = format!("document.querySelector({})?.getAttribute('aria-label')", json!(other));
    let listed = chromium.eval(&label).await;
    assert!(listed.as_str().unwrap().contains("First-party sign-in"), "the account API's sign-in: {listed}");
    submit(chromium, other).await;
    notice(chromium, "The sign-in was ended").await;
    let (status, refused) = refresh(server, app_tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, refused["error"].clone()), (400, json!("invalid_grant")));
    let devices = "document.querySelectorAll('[data-device]').length";
    assert_eq!(chromium.eval(devices).await, 2);
    submit(chromium, "[data-device]:not(:has(.badge)) button").await;
    notice(chromium, "The device was forgotten").await;
    assert_eq!(chromium.eval(devices).await, 1);

    // An authenticator app, set up from the key the page shows.
    fill_and_submit(chromium, &[("totp-label", "Phone")]).await;
    wait_for_element(chromium, "totp-secret").await;
    let uri = chromium.eval("document.getElementById('totp-uri').getAttribute('href')").await;
    let key = chromium.eval("document.getElementById('totp-secret').textContent").await;
    let app = Totp::from_url(uri.as_str().unwrap()).expect("an otpauth URI");
    assert_eq!(app.secret().to_base32(), key.as_str().unwrap(), "the key shown is the URI's");
    fill_and_submit(chromium, &[("code", &totp_code(&app, -1))]).await;
    notice(chromium, "Your authenticator app is set up").await;
    let label = chromium.eval("document.querySelector('[data-kind=totp] .label').textContent").await;
    assert_eq!(label, "Phone");

    // Recovery codes, shown once.
    let left = "document.getElementById('codes-left').textContent";
    assert!(chromium.eval(left).await.as_str().unwrap().contains("0 unused"));
    submit(chromium, "#codes-form button").await;
    wait_for_element(chromium, "recovery-codes").await;
    let codes =
        chromium.eval("Array.from(document.querySelectorAll('#recovery-codes code'), c => c.textContent)").await;
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 10);
    chromium.eval("document.getElementById('codes-saved').click(); true").await;
    wait_for_element(chromium, "codes-left").await;
    assert!(chromium.eval(left).await.as_str().unwrap().contains("10 unused"));

    // A new password; the old one no longer signs in.
    fill_and_submit(chromium, &[("current-password", PASSWORD), ("new-password", NEW_PASSWORD)]).await;
    notice(chromium, "Your password was changed").await;
    assert_eq!(api_sign_in(server, PASSWORD).await.0, 401);

    // Signed out: the new password, then a code from the app; then a recovery code.
    for (nth, second) in [(1, totp_code(&app, 0)), (2, codes[0].clone())] {
        chromium.call("Network.clearBrowserCookies", json!({})).await;
        chromium.goto(&authorize_url(server, &id, &[])).await;
        flow::sign_in_with_password(chromium, "alice", NEW_PASSWORD).await;
        wait_for_element(chromium, "code").await;
        fill_and_submit(chromium, &[("code", &second)]).await;
        let tokens = redeem(server, &client, &callback_code(chromium, nth).await).await;
        let claims = unverified_claims(tokens["id_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
        assert_eq!(claims["acr"], "urn:keygate:loa:2fa");
    }
}
