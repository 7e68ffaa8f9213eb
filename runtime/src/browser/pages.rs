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

/// A second factor on the account page (an authenticator app or a passkey).
pub struct FactorView {
    /// Factor id.
    pub id: String,
    /// The user's name for it.
    pub label: String,
    /// When it was added (UTC date and time).
    pub created: String,
    /// When it last signed in.
    pub last_used: Option<String>,
    /// A passkey: whether it is backed up (synced to other devices, the BS flag).
    pub synced: bool,
}

/// A known device on the account page.
pub struct DeviceView {
    /// Device id.
    pub id: String,
    /// `User-Agent` of its last sign-in.
    pub user_agent: String,
    /// IP of its last sign-in (may be empty).
    pub ip: String,
    /// Its first sign-in.
    pub first_seen: String,
    /// Its last sign-in.
    pub last_seen: String,
    /// Whether it is the browser showing the page.
    pub current: bool,
}

/// An active sign-in on the account page.
pub struct SignInView {
    /// The session's or grant's id.
    pub id: String,
    /// What signed in: "This browser", "A browser", or the application's name.
    pub what: String,
    /// How, in words.
    pub how: String,
    /// When the user authenticated.
    pub signed_in: String,
    /// When it ends unless renewed.
    pub expires: String,
    /// Whether it is the one showing the page.
    pub current: bool,
}

/// Where the account page's forms post.
pub struct Actions {
    /// Password change.
    pub password: String,
    /// Starts setting up an authenticator app.
    pub totp: String,
    /// Removes a factor.
    pub remove_factor: String,
    /// New recovery codes.
    pub recovery_codes: String,
    /// Forgets a device.
    pub forget_device: String,
    /// Ends one sign-in.
    pub end_sign_in: String,
    /// Ends every other sign-in.
    pub end_others: String,
}

/// The account page: the signed-in user's password, second factors, recovery codes, devices
/// and sign-ins, each with its form.
#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// Who is signed in.
    pub username: String,
    /// The CSRF token of every form (and the passkey script's `x-csrf-token`).
    pub csrf: String,
    /// A change that just succeeded.
    pub notice: Option<String>,
    /// Why the last form was refused.
    pub error: Option<String>,
    /// Which form was refused (`password`, `totp`, `passkeys`, `codes`, `devices`, `sign-ins`).
    pub error_form: &'static str,
    /// The field at fault, if one was.
    pub error_field: String,
    /// Whether the session's sign-in is recent enough for sensitive changes without the
    /// password; if not, those forms ask for it.
    pub recent: bool,
    /// Whether the tenant allows second factors (`mfa_policy` not `off`).
    pub factors_enabled: bool,
    /// Confirmed authenticator apps (TOTP), oldest first.
    pub authenticator_apps: Vec<FactorView>,
    /// Passkeys, oldest first.
    pub passkeys: Vec<FactorView>,
    /// Whether the tenant allows signing in with a passkey alone.
    pub passkey_sign_in: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u64,
    /// Known devices, most recently seen first.
    pub devices: Vec<DeviceView>,
    /// Active sign-ins, most recent first.
    pub sign_ins: Vec<SignInView>,
    /// Account API: WebAuthn creation options (the passkey script).
    pub options_url: String,
    /// Account API: passkey registration with the browser's answer.
    pub register_url: String,
    /// Where the forms post.
    pub actions: Actions,
    /// The passkey script ([`PASSKEY_SCRIPT`]), inlined.
    pub script: &'static str,
}

impl AccountPage {
    /// Whether `form` was refused.
    pub fn failed(&self, form: &str) -> bool {
        self.error.is_some() && self.error_form == form
    }

    /// Whether `field` of `form` is the one at fault.
    pub fn invalid(&self, form: &str, field: &str) -> bool {
        self.failed(form) && self.error_field == field
    }

    /// Why the last form was refused (empty when it was not).
    pub fn message(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// Whether another sign-in than the current one is listed.
    pub fn has_other_sign_ins(&self) -> bool {
        self.sign_ins.iter().any(|s| !s.current)
    }
}

/// Setting up an authenticator app from the account page: its QR code, key and URI, and the
/// form for its first code.
#[derive(Template)]
#[template(path = "account_totp.html")]
pub struct AccountTotpPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// The factor being set up.
    pub factor_id: String,
    /// The QR code of the `otpauth://` URI, an inline SVG element made by the server.
    pub qr_svg: String,
    /// The secret in base32, for typing it in.
    pub secret: String,
    /// The `otpauth://` URI (a link an authenticator app on this device opens).
    pub uri: String,
    /// Where the code posts.
    pub action: String,
    /// The account page.
    pub back: String,
    /// The CSRF token.
    pub csrf: String,
    /// Why the last code was refused.
    pub error: Option<String>,
    /// Whether the session's sign-in is recent; if not, the form asks for the password too
    /// ([`crate::account::reauth`]).
    pub recent: bool,
}

/// New recovery codes, shown once.
#[derive(Template)]
#[template(path = "account_recovery_codes.html")]
pub struct RecoveryCodesPage {
    /// Shown in the page header.
    pub tenant_name: String,
    /// The codes.
    pub codes: Vec<String>,
    /// The account page.
    pub back: String,
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
