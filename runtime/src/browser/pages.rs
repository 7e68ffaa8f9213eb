//! The HTML pages (askama templates in `templates/` at the repository root).

use actix_web::HttpResponse;
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use askama::Template;

use crate::error::ApiError;

/// The sign-in form.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// The application asking.
    pub client_name: String,
    /// Where the form posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// The authorization request being served, carried through the form.
    pub request: String,
    /// Prefilled username (`login_hint`).
    pub login_hint: String,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// Passwordless passkey sign-in (tenant `passkey_sign_in`): where the script gets WebAuthn
    /// request options; `None` hides the passkey button and drops the script.
    pub passkey_options_url: Option<String>,
    /// Where the passkey form posts.
    pub passkey_action: String,
    /// The passkey script ([`PASSKEY_SCRIPT`]), inlined.
    pub script: &'static str,
}

/// The sign-in's second step: a code from the authenticator app (or a recovery code), or
/// setting up TOTP when policy requires a factor the user lacks.
#[derive(Template, Clone)]
#[template(path = "login_mfa.html")]
pub struct MfaPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// The application asking.
    pub client_name: String,
    /// Where the form posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// The authorization request being served, carried through the form.
    pub request: String,
    /// The sign-in challenge the form answers.
    pub challenge: String,
    /// Whether the user is setting up their first factor.
    pub enrol: bool,
    /// Enrolment: the QR code of the `otpauth://` URI, an inline SVG element made by the server.
    pub qr_svg: Option<String>,
    /// Enrolment: the secret in base32, for typing it in.
    pub secret: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// WebAuthn request options (JSON) when the user's passkeys may answer instead of a code.
    pub webauthn: Option<String>,
    /// The passkey script ([`PASSKEY_SCRIPT`]), inlined.
    pub script: &'static str,
}

/// One passkey on the account page.
pub struct PasskeyView {
    /// Factor id.
    pub id: String,
    /// The user's name for it.
    pub label: String,
    /// When it was added (UTC date and time).
    pub created: String,
    /// When it last signed in.
    pub last_used: Option<String>,
    /// Whether it is backed up (synced to other devices, the BS flag).
    pub synced: bool,
    /// Where the script deletes it (the account API).
    pub remove_url: String,
}

/// The account page: the signed-in user's passkeys, adding and removing them.
#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// Who is signed in.
    pub username: String,
    /// Their passkeys, oldest first.
    pub passkeys: Vec<PasskeyView>,
    /// Whether the tenant allows signing in with a passkey alone.
    pub passkey_sign_in: bool,
    /// Account API: WebAuthn creation options.
    pub options_url: String,
    /// Account API: registration with the browser's answer.
    pub register_url: String,
    /// The CSRF token the script sends as `x-csrf-token`.
    pub csrf: String,
    /// The passkey script ([`PASSKEY_SCRIPT`]), inlined.
    pub script: &'static str,
}

/// Keygate's only script (`templates/passkey.js`): the WebAuthn browser API for passkeys. Pages
/// inline it and allow it by its hash ([`render_with_script`]), so no page loads anything.
pub const PASSKEY_SCRIPT: &str = include_str!("../../../templates/passkey.js");

/// The CSP source allowing [`PASSKEY_SCRIPT`] inline: `'sha256-…'` (CSP Level 3 §2.3.1).
fn script_source() -> &'static str {
    static SOURCE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(PASSKEY_SCRIPT.as_bytes());
        format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(hash))
    });
    &SOURCE
}

/// One scope on the consent page.
pub struct ScopeView {
    /// The scope as requested.
    pub name: String,
    /// What it lets the application do.
    pub description: String,
}

/// The consent form.
#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// The application asking.
    pub client_name: String,
    /// Who is signed in.
    pub username: String,
    /// What the application asks for.
    pub scopes: Vec<ScopeView>,
    /// Where the form posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// The authorization request being served.
    pub request: String,
}

/// An error the browser sees instead of a redirect (unknown client, unregistered redirect URI,
/// failed CSRF check).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// Heading.
    pub title: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// Renders a page with the headers every sign-in page carries: never cached, never framed
/// (clickjacking on a consent button), no referrer leaking the query string, and no scripts.
pub fn render(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, ApiError> {
    respond(
        status,
        page,
        cookies,
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    )
}

/// [`render`] for a page that inlines [`PASSKEY_SCRIPT`]: its CSP allows that script alone (by
/// hash) and requests to this origin only (`connect-src 'self'`, for the account API). No
/// `form-action`: browsers apply it to the redirects after a post, which end at the client.
pub fn render_with_script(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, ApiError> {
    let policy = format!(
        "default-src 'none'; script-src {}; connect-src 'self'; style-src 'unsafe-inline'; \
         frame-ancestors 'none'; base-uri 'none'",
        script_source()
    );
    respond(status, page, cookies, &policy)
}

fn respond(
    status: StatusCode,
    page: &impl Template,
    cookies: Vec<Cookie<'static>>,
    policy: &str,
) -> Result<HttpResponse, ApiError> {
    let html = page.render().map_err(ApiError::internal)?;
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, policy));
    for cookie in cookies {
        response.cookie(cookie);
    }
    Ok(response.body(html))
}

/// An error page with `status`.
pub fn error(
    tenant: &str,
    status: StatusCode,
    title: &str,
    message: impl Into<String>,
) -> Result<HttpResponse, ApiError> {
    let page = ErrorPage { tenant_name: tenant.to_owned(), title: title.to_owned(), message: message.into() };
    render(status, &page, Vec::new())
}

/// A page that tells the person something (an outcome, not necessarily an error), with `status`.
pub fn message(
    tenant: &str,
    status: StatusCode,
    title: &str,
    message: impl Into<String>,
) -> Result<HttpResponse, ApiError> {
    error(tenant, status, title, message)
}

/// The password reset form (the emailed link's page).
#[derive(Template)]
#[template(path = "reset_password.html")]
pub struct ResetPasswordPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// Where the form posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// The emailed link's token, carried through the form.
    pub token: String,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// What a scope lets the application do, in words.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "Know who you are".to_owned(),
        "profile" => "See your name and username".to_owned(),
        "email" => "See your email address".to_owned(),
        "offline_access" => "Stay connected when you are not using it".to_owned(),
        other => format!("Use the “{other}” permission"),
    }
}

/// "Sign out?" (RP-initiated logout).
#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// The application that asked, when known.
    pub client_name: Option<String>,
    /// Where the form posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// The logout request being served.
    pub request: String,
}

/// "You are signed out."
#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage {
    /// Shown in the page header.
    pub tenant_name: String,
}
