//! The authorization code flow as the browser tests drive it: the authorization URL (PKCE with
//! a fixed verifier), redeeming the code at the token endpoint, an authenticator app's codes,
//! and, in headless Chromium ([`Chromium`]), signing in on the pages and reading the code the
//! browser carried to the client's redirect URI.

use serde_json::{Value, json};

use super::LiveServer;
use super::cdp::Chromium;
use super::live::REDIRECT;

/// The PKCE code verifier of every authorization request the tests make.
pub const VERIFIER: &str = "a-fixed-pkce-code-verifier-of-at-least-43-characters";

/// An authorization request of `client_id` to tenant `acme` (scope `openid`, PKCE S256), with
/// `extra` parameters.
pub fn authorize_url(server: &LiveServer, client_id: &str, extra: &[(&str, &str)]) -> String {
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
    for (key, value) in extra {
        query.append_pair(key, value);
    }
    format!("{}/acme/oauth2/authorize?{}", server.base, query.finish())
}

/// Redeems `code` for `client` (id, secret) at tenant `acme`'s token endpoint: the tokens.
pub async fn redeem(server: &LiveServer, client: &(String, String), code: &str) -> Value {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", &client.0),
        ("client_secret", &client.1),
    ];
    let url = format!("{}/acme/oauth2/token", server.base);
    let mut reply = awc::Client::default().post(url).send_form(&fields).await.expect("token request");
    let body = reply.body().await.expect("token response");
    assert_eq!(reply.status().as_u16(), 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("JSON tokens")
}

/// The code an authenticator app set up with `app` shows `steps` time steps from now.
pub fn totp_code(app: &totp_rs::Totp, steps: i64) -> String {
    let now = chrono::Utc::now().timestamp() + steps * 30;
    app.generate(u64::try_from(now).unwrap()).to_string()
}

/// The authorization code of the `nth` (from 0) distinct request Chromium made to the client's
/// redirect URI (the callback itself goes nowhere: nothing listens there). Needs `Network.enable`.
/// A repeat of an earlier URL does not count: Chromium can ask for the same callback again (it
/// may reload a network error page by itself), and the CI run of 2026-11-30 saw the passkey test
/// take such a repeat for the next sign-in's code ("the authorization code was already used").
pub async fn callback_code(chromium: &Chromium, nth: usize) -> String {
    let to_client = |params: &Value| params["request"]["url"].as_str().is_some_and(|url| url.starts_with(REDIRECT));
    let url_of = |params: &Value| params["request"]["url"].as_str().unwrap_or_default().to_owned();
    let event = chromium.nth_distinct("Network.requestWillBeSent", nth, 20, to_client, url_of).await;
    let url = event["request"]["url"].as_str().unwrap().to_owned();
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let code = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "code").map(|(_, v)| v.into_owned());
    code.unwrap_or_else(|| panic!("no code in {url}"))
}

/// Opens `url` in Chromium and waits for the element `#id`.
pub async fn open(chromium: &Chromium, url: &str, id: &str) {
    chromium.goto(url).await;
    wait_for_element(chromium, id).await;
}

/// Waits up to 10 s for the element `#id` to be in the page.
pub async fn wait_for_element(chromium: &Chromium, id: &str) {
    let present = format!("document.getElementById({}) !== null", json!(id));
    chromium.wait_for(&present, 10, "document.body.innerText").await;
}

/// Sets the form fields `fields` (element ids and values) and submits the form of the first.
pub async fn fill_and_submit(chromium: &Chromium, fields: &[(&str, &str)]) {
    let mut script = String::new();
    for (id, value) in fields {
        script.push_str(&format!("document.getElementById({}).value = {};", json!(id), json!(value)));
    }
    let first = json!(fields[0].0);
    script.push_str(&format!("document.getElementById({first}).form.requestSubmit(); true"));
    chromium.eval(&script).await;
}

/// The sign-in page with `username` and `password` (the page of an authorization request
/// Chromium is on).
pub async fn sign_in_with_password(chromium: &Chromium, username: &str, password: &str) {
    wait_for_element(chromium, "password").await;
    fill_and_submit(chromium, &[("username", username), ("password", password)]).await;
}

/// Allows the consent page, once it shows.
pub async fn consent(chromium: &Chromium) {
    let allow = "document.querySelector('button[name=decision][value=allow]')";
    chromium.wait_for(&format!("{allow} !== null"), 10, "document.body.innerText").await;
    chromium.eval(&format!("{allow}.click(); true")).await;
}
