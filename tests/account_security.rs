//! Managing one's own account over HTTP, on the account API and the account page's forms alike:
//! sensitive changes need a recent sign-in (or, on the page, the password entered with them),
//! active sign-ins are listed and ended (their refresh tokens refused), devices forgotten, and a
//! password change ends every other sign-in but keeps the caller's.

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use keygate_runtime::RuntimeConfig;
use serde_json::{Value, json};
use support::{Auth, Client, Reply, USER_PASSWORD, each_backend};
use totp_rs::Totp;

/// Every backend, with sign-ins that are never recent enough for a sensitive change.
async fn each_backend_never_recent<F: AsyncFn(&Client<'_>)>(check: F) {
    for db in support::databases().await {
        let config = RuntimeConfig {
            bcrypt_cost: 4,
            reauthentication_window: chrono::Duration::zero(),
            ..RuntimeConfig::default()
        };
        let rt = support::runtime_with(&db, config).await;
        let app = actix_web::test::init_service(keygate::server::app(rt.clone())).await;
        check(&Client::new(&app, db.backend, rt)).await;
    }
}

async fn call(client: &Client<'_>, method: Method, path: &str, body: Option<Value>, auth: Auth<'_>) -> Reply {
    client.json(method, path, body.as_ref(), auth).await
}

/// A browser session (account API cookie mode): its session and CSRF cookies, and CSRF token.
struct Browser {
    session: String,
    csrf_cookie: String,
    csrf: String,
}

fn cookie(reply: &Reply, name: &str) -> String {
    let header = reply.headers.get_all("set-cookie").filter_map(|v| v.to_str().ok());
    let found = header.filter(|v| v.starts_with(&format!("{name}="))).last();
    found.unwrap_or_else(|| panic!("no {name} cookie")).split(';').next().unwrap().to_owned()
}

async fn browser(client: &Client<'_>, name: &str, password: &str) -> Browser {
    let body = json!({ "username": name, "password": password, "session": "cookie" });
    let signed_in = call(client, Method::POST, "/acme/auth/login", Some(body), Auth::None).await;
    assert_eq!(signed_in.status, StatusCode::OK, "[{}] {}", client.backend, signed_in.json);
    let (session, csrf_cookie) = (cookie(&signed_in, "kg_session"), cookie(&signed_in, "kg_csrf"));
    Browser { session, csrf_cookie, csrf: signed_in.str("csrf_token") }
}

impl Browser {
    fn request(&self, method: Method, path: &str) -> TestRequest {
        let cookies = format!("{}; {}", self.session, self.csrf_cookie);
        TestRequest::default().method(method).uri(path).insert_header(("cookie", cookies))
    }

    /// The account API in cookie mode (with the CSRF header).
    async fn json(&self, client: &Client<'_>, method: Method, path: &str) -> Reply {
        client.send(self.request(method, path).insert_header(("x-csrf-token", self.csrf.as_str()))).await
    }

    /// Posts an account page form with its CSRF field.
    async fn form(&self, client: &Client<'_>, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("csrf", &self.csrf);
        for (key, value) in fields {
            body.append_pair(key, value);
        }
        let request =
            self.request(Method::POST, path).insert_header(("content-type", "application/x-www-form-urlencoded"));
        client.send(request.set_payload(body.finish())).await
    }
}

/// A confirmed TOTP factor of the holder of `access`: its id.
async fn totp_factor(client: &Client<'_>, access: &str) -> String {
    let started = call(client, Method::POST, "/acme/auth/me/mfa/totp", None, Auth::Bearer(access)).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.json);
    let app = Totp::from_url(started.str("otpauth_uri")).unwrap();
    let id = started.str("id");
    let code = json!({ "code": support::flow::totp_code(&app, 0) });
    let confirm = format!("/acme/auth/me/mfa/totp/{id}/confirm");
    assert_eq!(call(client, Method::POST, &confirm, Some(code), Auth::Bearer(access)).await.status, StatusCode::OK);
    id
}

async fn factor_count(client: &Client<'_>, access: &str) -> usize {
    let listed = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(access)).await;
    listed.json["factors"].as_array().unwrap().len()
}

/// The text of `html` between `start` and the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start} in {html}")) + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

/// The authenticator app the account page's set-up page shows, and the factor's id.
fn shown_app(html: &str) -> (Totp, String) {
    let uri = between(html, "href=\"", "\" id=\"totp-uri\"").replace("&amp;", "&").replace("&#x2f;", "/");
    let id = between(html, "name=\"id\" value=\"", "\"").to_owned();
    (Totp::from_url(&uri).expect("an otpauth URI"), id)
}

/// A TOTP factor set up and confirmed on the account page with the password (a stale session):
/// its id.
async fn totp_factor_on_page(client: &Client<'_>, page: &Browser) -> String {
    let started = page.form(client, "/acme/account/totp", &[("password", USER_PASSWORD)]).await;
    assert_eq!(started.status, StatusCode::OK, "[{}] {}", client.backend, started.text);
    assert!(started.text.contains("id=\"totp-confirm-password\""), "the code form asks again: {}", started.text);
    let (app, id) = shown_app(&started.text);
    let code = support::flow::totp_code(&app, 0);
    let fields = [("id", id.as_str()), ("code", code.as_str()), ("password", USER_PASSWORD)];
    let confirmed = page.form(client, "/acme/account/totp/confirm", &fields).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "[{}] {}", client.backend, confirmed.text);
    id
}

async fn event_types(client: &Client<'_>, access: &str) -> Vec<String> {
    let page = call(client, Method::GET, "/acme/auth/me/security-events", None, Auth::Bearer(access)).await;
    page.json["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

fn assert_stale(reply: &Reply, backend: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "[{backend}] {}", reply.json);
    assert_eq!(reply.json["type"], "urn:keygate:problem:reauthentication-required", "[{backend}] {}", reply.json);
    let challenge = reply.headers.get("www-authenticate").unwrap().to_str().unwrap();
    assert!(challenge.contains("error=\"insufficient_user_authentication\""), "RFC 9470 §3: {challenge}");
    assert!(challenge.contains("max_age=\"0\""), "{challenge}");
}

#[actix_web::test]
async fn a_new_email_needs_a_recent_sign_in() {
    each_backend_never_recent(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (user, access) = client.signed_in_user("acme", "ann", &[]).await;
        let page = browser(client, "ann", USER_PASSWORD).await;
        let key = client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": user, "label": "ci" })).await;
        // A stale token, session or an API key cannot move the account to another address
        // (from which a reset link would take it over); the name is no such change.
        let moved = json!({ "email": "mallory@evil.example" });
        assert_stale(
            &call(client, Method::PATCH, "/acme/auth/me", Some(moved.clone()), Auth::Bearer(&access)).await,
            client.backend,
        );
        let by_key =
            call(client, Method::PATCH, "/acme/auth/me", Some(moved.clone()), Auth::Bearer(&key.str("key"))).await;
        assert_stale(&by_key, client.backend);
        let by_cookie = page
            .request(Method::PATCH, "/acme/auth/me")
            .insert_header(("x-csrf-token", page.csrf.as_str()))
            .insert_header(("content-type", "application/json"))
            .set_payload(moved.to_string());
        assert_stale(&client.send(by_cookie).await, client.backend);
        let renamed =
            call(client, Method::PATCH, "/acme/auth/me", Some(json!({ "name": "Ann" })), Auth::Bearer(&access)).await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
        assert_eq!(renamed.json["email"], "ann@example.com", "unchanged: {}", renamed.json);
        assert!(!event_types(client, &access).await.contains(&"email.changed".to_owned()));
    })
    .await;
}

#[actix_web::test]
async fn sensitive_changes_need_a_recent_sign_in_on_the_api_and_the_password_on_the_page() {
    each_backend_never_recent(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (user, access) = client.signed_in_user("acme", "ann", &[]).await;
        let page = browser(client, "ann", USER_PASSWORD).await;
        let factor = totp_factor_on_page(client, &page).await;
        let path = format!("/acme/auth/me/mfa/factors/{factor}");

        // The account API: a 401 asking for a new sign-in, and nothing changes.
        assert_stale(&call(client, Method::DELETE, &path, None, Auth::Bearer(&access)).await, client.backend);
        let codes = call(client, Method::POST, "/acme/auth/me/mfa/recovery-codes", None, Auth::Bearer(&access)).await;
        assert_stale(&codes, client.backend);
        assert_stale(&page.json(client, Method::DELETE, &path).await, client.backend);
        let key = client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": user, "label": "ci" })).await;
        let by_key = call(client, Method::DELETE, &path, None, Auth::Bearer(&key.str("key"))).await;
        assert_stale(&by_key, client.backend);
        assert_eq!(factor_count(client, &access).await, 1);

        // The page asks for the password on the form; without it, or with a wrong one, nothing
        // changes and the page says why.
        let shown = client.send(page.request(Method::GET, "/acme/account")).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(shown.text.contains(&format!("id=\"remove-password-{factor}\"")), "{}", shown.text);
        let remove = "/acme/account/factors/remove";
        let without = page.form(client, remove, &[("id", &factor), ("kind", "totp")]).await;
        assert_eq!(without.status, StatusCode::UNAUTHORIZED);
        assert!(without.text.contains("enter your password"), "{}", without.text);
        let wrong = page.form(client, remove, &[("id", &factor), ("password", "not my password")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text.contains("role=\"alert\"") && wrong.text.contains("aria-invalid=\"true\""));
        let forged = client.send(page.request(Method::POST, remove).set_form([("id", factor.as_str())])).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "no CSRF token");
        assert_eq!(factor_count(client, &access).await, 1);
        let removed = page.form(client, remove, &[("id", &factor), ("password", USER_PASSWORD)]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text);
        assert!(removed.headers.get("location").unwrap().to_str().unwrap().ends_with("/acme/account?done=factor"));
        assert_eq!(factor_count(client, &access).await, 0);

        // Recovery codes the same way; the password change carries its own password.
        let codes = page.form(client, "/acme/account/recovery-codes", &[("password", USER_PASSWORD)]).await;
        assert_eq!(codes.status, StatusCode::OK);
        assert_eq!(codes.text.matches("<li><code>").count(), 10, "{}", codes.text);
        let change = json!({ "current_password": USER_PASSWORD, "new_password": "a brand new secret" });
        let changed = call(client, Method::POST, "/acme/auth/password", Some(change), Auth::Bearer(&access)).await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.json);
        let events = event_types(client, &access).await;
        for expected in ["factor.removed", "recovery_codes.regenerated", "password.changed"] {
            assert!(events.contains(&expected.to_owned()), "[{}] {events:?}", client.backend);
        }
    })
    .await;
}

/// Whether the holder of `access` has a confirmed factor `id`; `None` when it does not exist.
async fn confirmed(client: &Client<'_>, access: &str, id: &str) -> Option<bool> {
    let listed = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(access)).await;
    let factors = listed.json["factors"].as_array().unwrap().clone();
    factors.iter().find(|f| f["id"] == id).map(|f| f["confirmed"].as_bool().unwrap())
}

#[actix_web::test]
async fn adding_an_authenticator_app_needs_a_recent_sign_in_or_the_password() {
    each_backend_never_recent(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (user, access) = client.signed_in_user("acme", "ann", &[]).await;
        let page = browser(client, "ann", USER_PASSWORD).await;
        let key = client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": user, "label": "ci" })).await;
        let backend = client.backend;

        // Starting: a stale token, API key or cookie session gets the 401, and nothing is stored
        // (a thief's app would lock the owner out of signing in).
        let start = "/acme/auth/me/mfa/totp";
        assert_stale(&call(client, Method::POST, start, None, Auth::Bearer(&access)).await, backend);
        assert_stale(&call(client, Method::POST, start, None, Auth::Bearer(&key.str("key"))).await, backend);
        assert_stale(&page.json(client, Method::POST, start).await, backend);
        let stored = "SELECT CAST(COUNT(*) AS TEXT) FROM mfa_factors";
        assert_eq!(client.scalar(stored).await.as_deref(), Some("0"), "[{backend}] nothing stored");

        // The page's form asks for the password; without it or with a wrong one, no key is shown.
        let shown = client.send(page.request(Method::GET, "/acme/account")).await;
        assert!(shown.text.contains("id=\"totp-password\""), "{}", shown.text);
        let without = page.form(client, "/acme/account/totp", &[("label", "Phone")]).await;
        assert_eq!(without.status, StatusCode::UNAUTHORIZED, "{}", without.text);
        assert!(without.text.contains("enter your password") && !without.text.contains("totp-secret"));
        let wrong = page.form(client, "/acme/account/totp", &[("password", "not my password")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.text);
        assert!(!wrong.text.contains("totp-secret") && wrong.text.contains("aria-invalid=\"true\""));
        assert_eq!(client.scalar(stored).await.as_deref(), Some("0"), "[{backend}] nothing stored");

        // Confirming needs it too, before the code is looked at: a stale caller neither confirms
        // the pending app nor gets its key shown again.
        let started = page.form(client, "/acme/account/totp", &[("password", USER_PASSWORD)]).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let (app, id) = shown_app(&started.text);
        let code = json!({ "code": support::flow::totp_code(&app, 0) });
        let confirm = format!("/acme/auth/me/mfa/totp/{id}/confirm");
        assert_stale(&call(client, Method::POST, &confirm, Some(code.clone()), Auth::Bearer(&access)).await, backend);
        let by_cookie = page
            .request(Method::POST, &confirm)
            .insert_header(("x-csrf-token", page.csrf.as_str()))
            .insert_header(("content-type", "application/json"))
            .set_payload(code.to_string());
        assert_stale(&client.send(by_cookie).await, backend);
        let code = support::flow::totp_code(&app, 0);
        let confirm_form = "/acme/account/totp/confirm";
        let without = page.form(client, confirm_form, &[("id", &id), ("code", &code)]).await;
        assert_eq!(without.status, StatusCode::UNAUTHORIZED, "{}", without.text);
        assert!(without.text.contains("enter your password") && !without.text.contains("totp-secret"));
        let wrong = page.form(client, confirm_form, &[("id", &id), ("code", &code), ("password", "nope")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.text);
        assert!(!wrong.text.contains("totp-secret"), "{}", wrong.text);
        let fields = [("id", id.as_str()), ("code", "000000"), ("password", USER_PASSWORD)];
        let bad_code = page.form(client, confirm_form, &fields).await;
        assert_eq!(bad_code.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_code.text);
        assert!(bad_code.text.contains("totp-secret") && bad_code.text.contains("id=\"totp-confirm-password\""));
        assert_eq!(confirmed(client, &access, &id).await, Some(false), "[{backend}] still pending");
        assert!(!event_types(client, &access).await.contains(&"factor.added".to_owned()));

        // With the password, it is set up.
        let fields = [("id", id.as_str()), ("code", code.as_str()), ("password", USER_PASSWORD)];
        let done = page.form(client, confirm_form, &fields).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        assert_eq!(confirmed(client, &access, &id).await, Some(true), "[{backend}]");
        assert!(event_types(client, &access).await.contains(&"factor.added".to_owned()));
    })
    .await;
}

#[actix_web::test]
async fn the_enrolment_a_policy_requires_at_sign_in_needs_no_more_than_that_sign_in() {
    each_backend_never_recent(async |client: &Client<'_>| {
        let tenant = client.tenant("acme").await.str("id");
        client.signed_in_user("acme", "bob", &[]).await;
        let patched = client.patch(&format!("/admin/tenants/{tenant}"), &json!({ "mfa_policy": "required" })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
        // The challenge proves the password was just entered: no recent-sign-in rule applies.
        let challenge = login(client, "bob", USER_PASSWORD).await;
        assert_eq!(challenge.json["enrol"], true, "{}", challenge.json);
        let challenge = challenge.str("mfa_challenge");
        let enrol = json!({ "mfa_challenge": challenge });
        let enrolment = call(client, Method::POST, "/acme/auth/login/mfa/totp", Some(enrol), Auth::None).await;
        assert_eq!(enrolment.status, StatusCode::CREATED, "[{}] {}", client.backend, enrolment.json);
        let app = Totp::from_url(enrolment.str("otpauth_uri")).unwrap();
        let answer = json!({ "mfa_challenge": challenge, "code": support::flow::totp_code(&app, 0) });
        let tokens = call(client, Method::POST, "/acme/auth/login/mfa", Some(answer), Auth::None).await;
        assert_eq!(tokens.status, StatusCode::OK, "[{}] {}", client.backend, tokens.json);
        let access = tokens.str("access_token");
        assert_eq!(factor_count(client, &access).await, 1);
        assert!(event_types(client, &access).await.contains(&"factor.added".to_owned()));
    })
    .await;
}

#[actix_web::test]
async fn a_recent_sign_in_changes_without_the_password() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let page = browser(client, "ann", USER_PASSWORD).await;
        let shown = client.send(page.request(Method::GET, "/acme/account")).await;
        assert!(!shown.text.contains("name=\"password\""), "no password asked: {}", shown.text);
        let first = totp_factor(client, &access).await;
        let path = format!("/acme/auth/me/mfa/factors/{first}");
        assert_eq!(
            call(client, Method::DELETE, &path, None, Auth::Bearer(&access)).await.status,
            StatusCode::NO_CONTENT
        );
        let second = totp_factor(client, &access).await;
        let removed = page.form(client, "/acme/account/factors/remove", &[("id", &second)]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text);
        let other = page.form(client, "/acme/account/factors/remove", &[("id", &second)]).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND, "a factor that is gone");
        let codes = call(client, Method::POST, "/acme/auth/me/mfa/recovery-codes", None, Auth::Bearer(&access)).await;
        assert_eq!(codes.status, StatusCode::CREATED, "{}", codes.json);
    })
    .await;
}

async fn sign_ins(client: &Client<'_>, access: &str) -> Vec<Value> {
    let listed = call(client, Method::GET, "/acme/auth/me/sessions", None, Auth::Bearer(access)).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    listed.json["items"].as_array().unwrap().clone()
}

async fn login(client: &Client<'_>, name: &str, password: &str) -> Reply {
    let body = json!({ "username": name, "password": password });
    call(client, Method::POST, "/acme/auth/login", Some(body), Auth::None).await
}

async fn refresh(client: &Client<'_>, token: &str) -> Reply {
    let body = json!({ "refresh_token": token });
    call(client, Method::POST, "/acme/auth/refresh", Some(body), Auth::None).await
}

#[actix_web::test]
async fn sign_ins_are_listed_and_ended_one_or_all_others() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let (_, bob) = client.signed_in_user("acme", "bob", &[]).await;
        let other = login(client, "ann", USER_PASSWORD).await;
        let page = browser(client, "ann", USER_PASSWORD).await;

        let listed = sign_ins(client, &access).await;
        let kinds: Vec<(&str, bool)> =
            listed.iter().map(|s| (s["kind"].as_str().unwrap(), s["current"].as_bool().unwrap())).collect();
        assert_eq!(kinds.len(), 3, "{listed:?}");
        assert_eq!(kinds.iter().filter(|(kind, _)| *kind == "tokens").count(), 2, "{listed:?}");
        assert_eq!(kinds.iter().filter(|(_, current)| *current).count(), 1, "{listed:?}");
        assert!(listed.iter().all(|s| s["amr"] == json!(["pwd"])));
        let browser_entry = listed.iter().find(|s| s["kind"] == "browser").unwrap().clone();

        // Renewing the cookie session keeps when the user signed in.
        let renewed = page.json(client, Method::POST, "/acme/auth/refresh").await;
        assert_eq!(renewed.status, StatusCode::NO_CONTENT);
        let page = Browser { session: cookie(&renewed, "kg_session"), ..page };
        let after = sign_ins(client, &access).await;
        let renewed_entry = after.iter().find(|s| s["kind"] == "browser").unwrap();
        assert_ne!(renewed_entry["id"], browser_entry["id"]);
        assert_eq!(renewed_entry["auth_time"], browser_entry["auth_time"], "renewal is no new sign-in");

        // One ends: its refresh token is refused. Another user's is nobody's to end here.
        let target = after.iter().find(|s| s["kind"] == "tokens" && s["current"] == false).unwrap();
        let end = format!("/acme/auth/me/sessions/{}", target["id"].as_str().unwrap());
        assert_eq!(call(client, Method::DELETE, &end, None, Auth::Bearer(&bob)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            call(client, Method::DELETE, &end, None, Auth::Bearer(&access)).await.status,
            StatusCode::NO_CONTENT
        );
        let refused = refresh(client, &other.str("refresh_token")).await;
        assert_eq!((refused.status, refused.json["error"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_grant")));
        assert_eq!(sign_ins(client, &access).await.len(), 2);

        // All others end: the browser session too, the caller's token stays.
        let ended = call(client, Method::POST, "/acme/auth/me/sessions/end-others", None, Auth::Bearer(&access)).await;
        assert_eq!(ended.json["ended"], 1, "{}", ended.json);
        assert_eq!(client.send(page.request(Method::GET, "/acme/auth/me")).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(sign_ins(client, &access).await.len(), 1);
        assert_eq!(sign_ins(client, &bob).await.len(), 1, "bob's sign-in is untouched");
        assert!(event_types(client, &access).await.contains(&"sign_ins.ended".to_owned()));
    })
    .await;
}

#[actix_web::test]
async fn a_password_change_keeps_the_callers_session_and_ends_the_others() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let mine = browser(client, "ann", USER_PASSWORD).await;
        let elsewhere = browser(client, "ann", USER_PASSWORD).await;
        let fields = [("current_password", USER_PASSWORD), ("new_password", "short")];
        let weak = mine.form(client, "/acme/account/password", &fields).await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(weak.text.contains("The new password must be at least 8 characters."), "{}", weak.text);
        let fields = [("current_password", USER_PASSWORD), ("new_password", "a brand new secret")];
        let changed = mine.form(client, "/acme/account/password", &fields).await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text);
        let shown = client.send(mine.request(Method::GET, "/acme/account?done=password")).await;
        assert_eq!(shown.status, StatusCode::OK, "the caller's session stays");
        assert!(shown.text.contains("role=\"status\"") && shown.text.contains("Your password was changed"));
        let gone = client.send(elsewhere.request(Method::GET, "/acme/auth/me")).await;
        assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "other sessions end");
        let me = call(client, Method::GET, "/acme/auth/me", None, Auth::Bearer(&access)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "other grants end");
        assert_eq!(login(client, "ann", USER_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(login(client, "ann", "a brand new secret").await.status, StatusCode::OK);
    })
    .await;
}

#[actix_web::test]
async fn devices_are_listed_and_forgotten() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let (_, bob) = client.signed_in_user("acme", "bob", &[]).await;
        let page = browser(client, "ann", USER_PASSWORD).await;
        let devices = call(client, Method::GET, "/acme/auth/me/devices", None, Auth::Bearer(&access)).await;
        let id = devices.json["items"][0]["id"].as_str().expect("a device").to_owned();
        let path = format!("/acme/auth/me/devices/{id}");
        assert_eq!(call(client, Method::DELETE, &path, None, Auth::Bearer(&bob)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            call(client, Method::DELETE, &path, None, Auth::Bearer(&access)).await.status,
            StatusCode::NO_CONTENT
        );
        let devices = call(client, Method::GET, "/acme/auth/me/devices", None, Auth::Bearer(&access)).await;
        assert!(devices.json["items"].as_array().unwrap().iter().all(|d| d["id"] != json!(id)));
        assert!(event_types(client, &access).await.contains(&"device.forgotten".to_owned()));
        let forget = page.form(client, "/acme/account/devices/forget", &[("id", &id)]).await;
        assert_eq!(forget.status, StatusCode::NOT_FOUND, "already forgotten: {}", forget.text);
        assert!(forget.text.contains("role=\"alert\""));
    })
    .await;
}
