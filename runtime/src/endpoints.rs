//! Every endpoint handler `schema.yaml` may name, one function each. keygate-codegen reads this
//! file: a handler is a `pub async fn NAME(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError>`,
//! and the handler of an `auth: client` endpoint takes the client the route authenticated
//! (RFC 6749 §2.3) as well: `NAME<R: Roles>(ctx: EndpointCtx<'_>, client: Client<R>)`.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Deserialize;

use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::Algorithm;
use crate::keys::Activation;
use crate::oauth::client_auth::Client;

/// The tenant's public signing keys (RFC 7517 §5), for verifying its tokens offline.
pub async fn jwks(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    // Served from memory; only the first request of a tenant may create its keys. Each key is
    // one atomic insert (no transaction, so a key this process caches is one that was stored).
    let jwks = match rt.keys().cached_jwks(tenant) {
        Some(jwks) => jwks,
        None => {
            let _turn = rt.write_turn().await;
            rt.keys().jwks(rt.db(), tenant).await?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        // A rotated-in key is published `PUBLISH_AHEAD` (longer than this) before it signs, so a
        // relying party keeping the key set this long still has every key it meets.
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", crate::keys::JWKS_MAX_AGE_SECS)))
        .json(&*jwks))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    alg: Option<String>,
    #[serde(default)]
    immediately: bool,
}

/// Rotates the tenant's signing key (`{"alg": "ES256", "immediately": false}`, default RS256).
/// The new key is published at once and signs from `activates_at`, after relying parties' cached
/// key sets have expired (`crate::keys::PUBLISH_AHEAD`), or at once with `immediately: true` (a
/// key that may have leaked). The previous public key stays published for the configured
/// retention after that, so tokens it signed verify. Answers `{kid, alg, activates_at}`.
pub async fn rotate_signing_keys(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: RotateRequest = if ctx.body().is_empty() {
        RotateRequest::default()
    } else {
        serde_json::from_slice(ctx.body())
            .map_err(|e| ApiError::bad_request(format!("the body is not a rotation request: {e}")))?
    };
    let algorithm = match request.alg.as_deref() {
        None => crate::keys::DEFAULT_ALGORITHM,
        Some(name) => Algorithm::from_wire(name).ok_or_else(|| {
            ApiError::invalid_field("alg", format!("must be one of: {}", Algorithm::VALUES.join(", ")))
        })?,
    };
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let tx = rt.begin_write().await?;
    let activation = if request.immediately { Activation::Immediate } else { Activation::Scheduled };
    let rotated = rt.keys().rotate(&*tx, tenant, algorithm, rt.config().key_retention, activation).await?;
    tx.commit().await?;
    rt.keys_changed(tenant);
    let body = serde_json::json!({
        "kid": rotated.key.kid(),
        "alg": algorithm.as_str(),
        "activates_at": rotated.activates_at,
    });
    Ok(crate::http::respond(200, &body))
}

/// The token endpoint (RFC 6749 §3.2): form-encoded grants, `Cache-Control: no-store`.
pub async fn token<R: crate::roles::Roles>(ctx: EndpointCtx<'_>, client: Client<R>) -> Result<HttpResponse, ApiError> {
    crate::oauth::token::token::<R>(&ctx, client).await
}

/// Token introspection (RFC 7662) for authenticated confidential clients.
pub async fn introspect<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
    client: Client<R>,
) -> Result<HttpResponse, ApiError> {
    crate::oauth::introspect::introspect::<R>(&ctx, client).await
}

/// Token revocation (RFC 7009) for authenticated clients, of tokens issued to them.
pub async fn revoke<R: crate::roles::Roles>(ctx: EndpointCtx<'_>, client: Client<R>) -> Result<HttpResponse, ApiError>
where
    <R::RevokedToken as sea_orm::EntityTrait>::Model:
        sea_orm::IntoActiveModel<<R::RevokedToken as sea_orm::EntityTrait>::ActiveModel>,
{
    crate::oauth::revoke::revoke::<R>(&ctx, client).await
}

/// OAuth 2.0 authorization server metadata (RFC 8414), served at the §3 well-known URL for the
/// tenant's issuer.
pub async fn authorization_server_metadata<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
) -> Result<HttpResponse, ApiError> {
    metadata::<R>(&ctx).await
}

/// OpenID Connect Discovery 1.0 §4: the same document at `{issuer}/.well-known/openid-configuration`.
pub async fn openid_configuration<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    metadata::<R>(&ctx).await
}

async fn metadata<R: crate::roles::Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let document = crate::oidc::discovery::rendered::<R>(ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(document))
}

/// The authorization endpoint (RFC 6749 §4.1.1), by GET or by form POST.
pub async fn authorize<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::oauth::authorize::authorize::<R>(&ctx).await
}

/// The sign-in form's post.
pub async fn login<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::login::login::<R>(&ctx).await
}

/// The sign-in page's second-factor form post.
pub async fn login_mfa<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::mfa::answer::<R>(&ctx).await
}

/// Browser: the sign-in page's passkey form.
pub async fn login_passkey<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::passkey::sign_in::<R>(&ctx).await
}

/// Browser: the account page.
pub async fn account_page<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::account::page::<R>(&ctx).await
}

/// Browser: the account page's form that the password change form.
pub async fn account_password_form<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::password::<R>(&ctx).await
}

/// Browser: the account page's form that starts setting up an authenticator app.
pub async fn account_totp_form<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::start_totp::<R>(&ctx).await
}

/// Browser: the account page's form that confirms the authenticator app with its first code.
pub async fn account_totp_confirm_form<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::confirm_totp::<R>(&ctx).await
}

/// Browser: the account page's form that removes a second factor.
pub async fn account_factor_remove_form<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::remove_factor::<R>(&ctx).await
}

/// Browser: the account page's form that new recovery codes, shown once.
pub async fn account_recovery_codes_form<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::recovery_codes::<R>(&ctx).await
}

/// Browser: the account page's form that forgets a device.
pub async fn account_device_forget_form<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::forget_device::<R>(&ctx).await
}

/// Browser: the account page's form that ends one sign-in.
pub async fn account_session_end_form<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::end_session::<R>(&ctx).await
}

/// Browser: the account page's form that ends every other sign-in.
pub async fn account_sessions_end_others_form<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
) -> Result<HttpResponse, ApiError> {
    crate::browser::account_forms::end_other_sessions::<R>(&ctx).await
}

/// The consent form's post.
pub async fn consent<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::browser::login::consent::<R>(&ctx).await
}

/// UserInfo (OIDC Core §5.3), by GET or POST.
pub async fn userinfo<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::oidc::userinfo::userinfo::<R>(&ctx).await
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2), by GET or POST.
pub async fn end_session<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::oidc::logout::end_session::<R>(&ctx).await
}

/// The sign-out confirmation form's post.
pub async fn logout<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::oidc::logout::confirm::<R>(&ctx).await
}

/// Dynamic client registration (RFC 7591 §3).
pub async fn register<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::oauth::registration::register::<R>(&ctx).await
}

/// Client configuration: read, replace or delete a registration (RFC 7592 §2).
pub async fn client_configuration<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::oauth::registration::manage::<R>(&ctx).await
}

/// Account API: registration.
pub async fn account_register<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::api::register::<R>(&ctx).await
}

/// Account API: sign-in with a password.
pub async fn account_login<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::api::login::<R>(&ctx).await
}

/// Account API: refresh-token rotation.
pub async fn account_refresh<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::api::refresh::<R>(&ctx).await
}

/// Account API: sign-out.
pub async fn account_logout<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::api::logout::<R>(&ctx).await
}

/// Account API: the caller's profile (GET, PATCH).
pub async fn account_me<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::api::me::<R>(&ctx).await
}

/// Account API: password change.
pub async fn account_password<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::password_change::change_json::<R>(&ctx).await
}

/// Account API: renames one of the caller's second factors.
pub async fn account_mfa_factor_update<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::rename_factor::<R>(&ctx).await
}

/// Account API: WebAuthn creation options for registering a passkey.
pub async fn account_passkey_options<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::passkey_api::start_registration::<R>(&ctx).await
}

/// Account API: registers a passkey with the browser's answer.
pub async fn account_passkey_register<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::passkey_api::finish_registration::<R>(&ctx).await
}

/// Account API: WebAuthn request options for a passwordless sign-in.
pub async fn account_passkey_sign_in_options<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
) -> Result<HttpResponse, ApiError> {
    crate::mfa::passkey_api::start_sign_in::<R>(&ctx).await
}

/// Account API: a passwordless sign-in with a passkey's assertion.
pub async fn account_passkey_sign_in<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::passkey_api::finish_sign_in::<R>(&ctx).await
}

/// Account API: the second step of a sign-in that answered `mfa_required`.
pub async fn account_login_mfa<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::complete::<R>(&ctx).await
}

/// Account API: TOTP enrolment during a sign-in whose policy requires a factor.
pub async fn account_login_mfa_enrol<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::enrol_at_sign_in::<R>(&ctx).await
}

/// Account API: the caller's second factors.
pub async fn account_mfa_factors<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::list::<R>(&ctx).await
}

/// Account API: removes one of the caller's factors.
pub async fn account_mfa_factor_delete<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::delete_factor::<R>(&ctx).await
}

/// Account API: starts TOTP enrolment.
pub async fn account_mfa_totp<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::start_totp::<R>(&ctx).await
}

/// Account API: confirms a TOTP factor with its first code.
pub async fn account_mfa_totp_confirm<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::confirm_totp::<R>(&ctx).await
}

/// Account API: a new set of recovery codes.
pub async fn account_recovery_codes<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::regenerate_recovery_codes::<R>(&ctx).await
}

/// Admin: removes every second factor and recovery code of a user.
pub async fn reset_user_mfa<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::mfa::api::reset::<R>(&ctx).await
}

/// Account API: the caller's security events, newest first.
pub async fn account_security_events<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::security_events::list_mine::<R>(&ctx).await
}

/// Account API: the caller's known devices.
pub async fn account_devices<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::devices::list_mine::<R>(&ctx).await
}

/// Account API: forgets one of the caller's devices.
pub async fn account_device_forget<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::devices::forget_mine::<R>(&ctx).await
}

/// Account API: the caller's active sign-ins.
pub async fn account_sessions<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::sign_ins::list_mine::<R>(&ctx).await
}

/// Account API: ends one of the caller's sign-ins.
pub async fn account_session_end<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::sign_ins::end_mine::<R>(&ctx).await
}

/// Account API: ends every sign-in of the caller but the calling one.
pub async fn account_sessions_end_others<R: crate::roles::Roles>(
    ctx: EndpointCtx<'_>,
) -> Result<HttpResponse, ApiError> {
    crate::account::sign_ins::end_others_mine::<R>(&ctx).await
}

/// Account API: emails the caller a verification link.
pub async fn account_verify_email_send<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::verify::send::<R>(&ctx).await
}

/// Account API: verifies an email address with an emailed token.
pub async fn account_verify_email<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::verify::redeem_json::<R>(&ctx).await
}

/// The emailed verification link.
pub async fn verify_email_link<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::verify::link_page::<R>(&ctx).await
}

/// Account API: asks for a password reset link.
pub async fn account_password_forgot<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::recovery::forgot::<R>(&ctx).await
}

/// Account API: sets a new password with an emailed token.
pub async fn account_password_reset<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::recovery::reset_json::<R>(&ctx).await
}

/// The emailed reset link's page and its form post.
pub async fn password_reset_page<R: crate::roles::Roles>(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    crate::account::recovery::page::<R>(&ctx).await
}
