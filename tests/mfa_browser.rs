//! The sign-in page's second factor, over real loopback HTTP with a cookie-keeping browser:
//! after the password the page asks for a TOTP or recovery code before any session exists; a
//! session without a factor the request needs steps up (asking only for the factor); `acr_values`
//! asking for two factors sends a user without one through TOTP set-up; `max_age` asks for both
//! again; `prompt=none` cannot step up. Tokens from the code say how the user signed in.

mod oidc;
mod support;

use keygate_runtime::jose::unverified_claims;
use oidc::browser::{Browser, Page, consent};
use serde_json::{Value, json};
use support::LiveServer;
use support::flow::{authorize_url, redeem, totp_code as code};
use support::live::{Admin, PASSWORD, each_live_backend};
use totp_rs::Totp;

const TWO_FACTOR: &str = "urn:keygate:loa:2fa";

/// Posts the sign-in page's form with alice's password.
async fn password(browser: &Browser, page: &Page) -> Page {
    assert!(
        page.body.contains("id=\"password\""),
        "the sign-in page: {} {:?} {}",
        page.status,
        page.location,
        page.body
    );
    let (csrf, request) = (page.input("csrf").unwrap(), page.input("request").unwrap());
    let fields = [("csrf", csrf.as_str()), ("request", &request), ("username", "alice"), ("password", PASSWORD)];
    browser.post(&page.form_action(), &fields).await
}

/// Posts the second-factor page's form with `code`.
async fn second_factor(browser: &Browser, page: &Page, code: &str) -> Page {
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(page.headers["content-security-policy"].starts_with("default-src 'none'"));
    let fields = [
        ("csrf", page.input("csrf").unwrap()),
        ("request", page.input("request").unwrap()),
        ("mfa_challenge", page.input("mfa_challenge").expect("a challenge")),
        ("code", code.to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(&page.form_action(), &fields).await
}

/// Follows a 303 back to the authorization endpoint, consents, and redeems the code: tokens.
async fn finish(server: &LiveServer, browser: &Browser, back: &Page, client: &(String, String)) -> Value {
    assert_eq!(back.status, 303, "{}", back.body);
    let mut next = browser.get(back.location.as_deref().unwrap()).await;
    if next.status == 200 {
        next = consent(browser, &next, "allow").await;
    }
    assert_eq!(next.status, 303, "{}", next.body);
    redeem(server, client, &next.redirect_params()["code"]).await
}

fn amr_acr(tokens: &Value) -> (Value, Value) {
    let claims = unverified_claims(tokens["id_token"].as_str().unwrap()).unwrap();
    (claims["amr"].clone(), claims["acr"].clone())
}

/// Alice's access token from the account API.
async fn account_token(server: &LiveServer) -> String {
    let http = awc::Client::default();
    let body = json!({ "username": "alice", "password": PASSWORD });
    let mut reply = http.post(format!("{}/acme/auth/login", server.base)).send_json(&body).await.unwrap();
    let json: Value = reply.json().await.unwrap();
    json["access_token"].as_str().expect("tokens: alice has no factor yet").to_owned()
}

/// Enrols and confirms TOTP for alice through the account API; her app, and recovery codes.
async fn enrol(server: &LiveServer) -> (Totp, Vec<String>) {
    let (http, token) = (awc::Client::default(), account_token(server).await);
    let post = |path: &str| {
        http.post(format!("{}/acme/auth/me/mfa/{path}", server.base))
            .insert_header(("authorization", format!("Bearer {token}")))
    };
    let enrolment: Value = post("totp").send().await.unwrap().json().await.unwrap();
    let app = Totp::from_url(enrolment["otpauth_uri"].as_str().unwrap()).unwrap();
    let id = enrolment["id"].as_str().unwrap();
    let confirmed = post(&format!("totp/{id}/confirm")).send_json(&json!({ "code": code(&app, -1) })).await.unwrap();
    assert_eq!(confirmed.status().as_u16(), 200);
    let codes: Value = post("recovery-codes").send().await.unwrap().json().await.unwrap();
    let codes = codes["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (app, codes)
}

#[actix_web::test]
async fn the_sign_in_page_asks_for_the_second_factor_and_steps_up() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let client = (id.clone(), secret.unwrap());

        // Without a factor: a password, one factor.
        let browser = Browser::new();
        let page = browser.get(&authorize_url(server, &id, &[])).await;
        let signed_in = password(&browser, &page).await;
        let tokens = finish(server, &browser, &signed_in, &client).await;
        assert_eq!(amr_acr(&tokens), (json!(["pwd"]), json!("urn:keygate:loa:1fa")));

        // Alice sets up TOTP. Her password-only session now steps up: the factor page, no password.
        let (app, recovery) = enrol(server).await;
        let step_up = browser.get(&authorize_url(server, &id, &[])).await;
        assert_eq!(step_up.status, 200, "{}", step_up.body);
        assert!(step_up.body.contains("Two-step verification") && !step_up.body.contains("id=\"password\""));
        // prompt=none cannot show that page (OIDC Core §3.1.2.6).
        let silent = browser.get(&authorize_url(server, &id, &[("prompt", "none")])).await;
        assert_eq!(silent.redirect_params()["error"], "interaction_required", "{:?}", silent.location);
        let wrong = second_factor(&browser, &step_up, "000000").await;
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("role=\"alert\"") && wrong.body.contains("incorrect"), "{}", wrong.body);
        let back = second_factor(&browser, &wrong, &code(&app, 0)).await;
        let tokens = finish(server, &browser, &back, &client).await;
        assert_eq!(amr_acr(&tokens), (json!(["pwd", "otp", "mfa"]), json!(TWO_FACTOR)));

        // A new browser: password first, then the factor; no session before it.
        let fresh = Browser::new();
        let page = fresh.get(&authorize_url(server, &id, &[])).await;
        let asked = password(&fresh, &page).await;
        assert_eq!(asked.status, 200, "{}", asked.body);
        assert!(asked.body.contains("Two-step verification"), "{}", asked.body);
        assert!(!fresh.has_cookie("kg_session"), "no session on a password alone");
        // The page's challenge completes only there, not at the account API.
        let body = json!({ "mfa_challenge": asked.input("mfa_challenge").unwrap(), "code": code(&app, 0) });
        let url = format!("{}/acme/auth/login/mfa", server.base);
        let elsewhere = awc::Client::default().post(url).send_json(&body).await.unwrap();
        assert_eq!(elsewhere.status().as_u16(), 401);
        // A recovery code works on the page too.
        let back = second_factor(&fresh, &asked, &recovery[0]).await;
        let tokens = finish(server, &fresh, &back, &client).await;
        assert_eq!(amr_acr(&tokens).1, json!(TWO_FACTOR));

        // max_age=0, a second later: both factors again.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;
        let page = fresh.get(&authorize_url(server, &id, &[("max_age", "0")])).await;
        let asked = password(&fresh, &page).await;
        let back = second_factor(&fresh, &asked, &code(&app, 1)).await;
        let tokens = finish(server, &fresh, &back, &client).await;
        assert_eq!(amr_acr(&tokens).1, json!(TWO_FACTOR));
    })
    .await;
}

#[actix_web::test]
async fn acr_values_asking_for_two_factors_sets_one_up() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let client = (id.clone(), secret.unwrap());
        let browser = Browser::new();
        let page = browser.get(&authorize_url(server, &id, &[("acr_values", TWO_FACTOR)])).await;
        let setup = password(&browser, &page).await;
        assert_eq!(setup.status, 200, "{}", setup.body);
        assert!(setup.body.contains("Set up two-step verification") && setup.body.contains("<svg"), "{}", setup.body);
        let start = setup.body.find("<code>").unwrap() + "<code>".len();
        let key = &setup.body[start..start + setup.body[start..].find("</code>").unwrap()];
        let app = Totp::from_url(format!("otpauth://totp/acme:alice?secret={key}&issuer=acme")).unwrap();
        let back = second_factor(&browser, &setup, &code(&app, 0)).await;
        let tokens = finish(server, &browser, &back, &client).await;
        assert_eq!(amr_acr(&tokens), (json!(["pwd", "otp", "mfa"]), json!(TWO_FACTOR)));
    })
    .await;
}

/// The TOTP app set up from the set-up page's key (the page shows it beside the QR code).
fn app_from_setup(page: &Page) -> Totp {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Set up two-step verification") && page.body.contains("<svg"), "{}", page.body);
    let start = page.body.find("<code>").unwrap() + "<code>".len();
    let key = &page.body[start..start + page.body[start..].find("</code>").unwrap()];
    Totp::from_url(format!("otpauth://totp/acme:alice?secret={key}&issuer=acme")).unwrap()
}

#[actix_web::test]
async fn a_required_policy_sends_a_user_without_a_factor_through_set_up() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let tenant = admin.get("/admin/tenants?slug=acme").await["items"][0]["id"].as_str().unwrap().to_owned();
        let (plain_id, plain_secret) = admin.client("acme", json!({})).await;
        let plain = (plain_id.clone(), plain_secret.unwrap());
        let (strict_id, strict_secret) = admin.client("acme", json!({ "mfa_policy": "required" })).await;
        let strict = (strict_id.clone(), strict_secret.unwrap());
        let (lax_id, lax_secret) = admin.client("acme", json!({ "mfa_policy": "off" })).await;
        let lax = (lax_id.clone(), lax_secret.unwrap());

        // Tenant `optional`, a client that requires a factor: a user without one sets it up at
        // sign-in, after the password, before any session exists.
        let browser = Browser::new();
        let setup = password(&browser, &browser.get(&authorize_url(server, &strict_id, &[])).await).await;
        let app = app_from_setup(&setup);
        assert!(!browser.has_cookie("kg_session"), "no session before the factor");
        let back = second_factor(&browser, &setup, &code(&app, 0)).await;
        let tokens = finish(server, &browser, &back, &strict).await;
        assert_eq!(amr_acr(&tokens), (json!(["pwd", "otp", "mfa"]), json!(TWO_FACTOR)));

        // A client that says `off` cannot relax the tenant: alice now has a factor, and
        // `optional` asks for it at every client.
        let fresh = Browser::new();
        let asked = password(&fresh, &fresh.get(&authorize_url(server, &lax_id, &[])).await).await;
        assert!(asked.body.contains("Two-step verification") && !asked.body.contains("<svg"), "{}", asked.body);
        let back = second_factor(&fresh, &asked, &code(&app, 1)).await;
        let tokens = finish(server, &fresh, &back, &lax).await;
        assert_eq!(amr_acr(&tokens).1, json!(TWO_FACTOR));

        // Tenant `required`: a user without a factor (bob) sets one up at the next sign-in, at
        // any client, `off` included; a password-only session steps up to set-up, no password.
        admin
            .post(
                "/admin/tenants/acme/users",
                json!({ "username": "bob", "email": "bob@example.com", "password": PASSWORD }),
            )
            .await;
        let bob = Browser::new();
        let signed_in = bob_password(&bob, &bob.get(&authorize_url(server, &plain_id, &[])).await).await;
        let tokens = finish(server, &bob, &signed_in, &plain).await;
        assert_eq!(amr_acr(&tokens).0, json!(["pwd"]), "optional, and bob has no factor");
        admin.patch(&format!("/admin/tenants/{tenant}"), json!({ "mfa_policy": "required" })).await;
        let step_up = bob.get(&authorize_url(server, &lax_id, &[])).await;
        assert!(!step_up.body.contains("id=\"password\""), "the session's password stands: {}", step_up.body);
        let app = app_from_setup(&step_up);
        let back = second_factor(&bob, &step_up, &code(&app, 0)).await;
        let tokens = finish(server, &bob, &back, &lax).await;
        assert_eq!(amr_acr(&tokens), (json!(["pwd", "otp", "mfa"]), json!(TWO_FACTOR)));
    })
    .await;
}

/// Posts the sign-in page's form with bob's password.
async fn bob_password(browser: &Browser, page: &Page) -> Page {
    let (csrf, request) = (page.input("csrf").unwrap(), page.input("request").unwrap());
    let fields = [("csrf", csrf.as_str()), ("request", &request), ("username", "bob"), ("password", PASSWORD)];
    browser.post(&page.form_action(), &fields).await
}
