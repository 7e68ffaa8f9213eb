//! The sign-in page's second step: after the password (or for a session that lacks a factor the
//! request needs), a page asking for a TOTP or recovery code, or under a `required` policy for a
//! user without a factor, setting TOTP up (QR code inline as SVG, no script, no external asset).
//! The page carries a challenge ([`crate::mfa::challenge`]); the session starts only once it is
//! answered, so a password alone never yields a session that needs a second factor.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use uuid::Uuid;
use webauthn_rs::prelude::PublicKeyCredential;

use super::login::{checked_form, finish_sign_in};
use super::pages::{self, MfaPage};
use super::{csrf, session};
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::mfa::amr::ACR_TWO_FACTOR;
use crate::mfa::answer::{self, Answer, Outcome};
use crate::mfa::challenge::{self, Need};
use crate::mfa::factors;
use crate::oauth::authorize::{self, Loaded};
use crate::roles::{Account, MfaChallenge, OauthClient, Roles};
use crate::vocab::MfaPolicy;

const EXPIRED: &str = "The sign-in took too long or was already completed. Please sign in again.";

/// What `user` needs for this authorization request: the tenant's policy, or the client's when
/// stricter; and `acr_values` naming two factors (OIDC Core §3.1.2.1) requires them for this
/// request, unless the tenant turned second factors off.
pub async fn need<R: Roles>(ctx: &EndpointCtx<'_>, loaded: &Loaded<R>, user: Uuid) -> Result<Need, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let settings = crate::tenancy::settings::<R>(rt, tenant).await?;
    let mut policy = settings.mfa_policy.stricter(loaded.client.mfa_policy());
    if policy != MfaPolicy::Off && loaded.request.acr_values.iter().any(|value| value == ACR_TWO_FACTOR) {
        policy = MfaPolicy::Required;
    }
    challenge::need::<R>(rt.db(), tenant, user, policy).await
}

/// The second-factor page for `user`, with a fresh challenge; for [`Need::Enrolment`] with a new
/// TOTP factor to set up.
pub async fn ask<R: Roles>(
    ctx: &EndpointCtx<'_>,
    loaded: &Loaded<R>,
    user: Uuid,
    username: &str,
    need: Need,
) -> Result<HttpResponse, ApiError> {
    let (token, webauthn) = challenge::store::<R>(ctx, user, loaded.request.client_id, need, true).await?;
    let mut page = page(ctx, loaded, token, need == Need::Enrolment, None)?;
    page.webauthn = webauthn.map(|options| options.to_string());
    if need == Need::Enrolment {
        let (_, enrolment) = factors::enrol_totp::<R>(ctx, user, username, "Authenticator app".to_owned()).await?;
        // The SVG element alone, without its XML declaration, inline in the page.
        let svg = enrolment.qr_svg.find("<svg").map_or("", |start| &enrolment.qr_svg[start..]);
        page.qr_svg = Some(svg.to_owned());
        page.secret = Some(enrolment.secret);
    }
    render(ctx, &page, StatusCode::OK)
}

fn page<R: Roles>(
    ctx: &EndpointCtx<'_>,
    loaded: &Loaded<R>,
    challenge: String,
    enrol: bool,
    error: Option<String>,
) -> Result<MfaPage, ApiError> {
    let tenant = ctx.tenant_key()?;
    Ok(MfaPage {
        tenant_name: tenant.to_owned(),
        client_name: loaded.client.name().to_owned(),
        action: ctx.runtime().endpoint_url("login_mfa", tenant).unwrap_or_default(),
        csrf: String::new(),
        request: loaded.params.encode(),
        challenge,
        enrol,
        qr_svg: None,
        secret: None,
        error,
        webauthn: None,
        script: pages::PASSKEY_SCRIPT,
    })
}

fn render(ctx: &EndpointCtx<'_>, page: &MfaPage, status: StatusCode) -> Result<HttpResponse, ApiError> {
    let (token, cookie) = csrf::token(ctx);
    let page = MfaPage { csrf: token, ..page.clone() };
    let cookies = cookie.into_iter().collect();
    if page.webauthn.is_some() {
        return pages::render_with_script(status, &page, cookies);
    }
    pages::render(status, &page, cookies)
}

/// `POST /login/mfa`: checks the code (TOTP, or a recovery code) against the form's challenge,
/// then starts the session (`amr` `["pwd", "otp", "mfa"]`, replacing one that lacked the
/// factor) and continues the authorization request. A wrong code shows the page again (401);
/// an unknown, used or expired challenge, the sign-in page.
pub async fn answer<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let (form, loaded) = checked_form::<R>(ctx).await?;
    let token = form.get("mfa_challenge").unwrap_or("").to_owned();
    let sign_in_again =
        || authorize::login_page::<R>(ctx, &loaded, None, Some(EXPIRED.into()), StatusCode::UNAUTHORIZED);
    let challenge = match challenge::find::<R>(ctx, &token).await {
        Ok(found) if found.client_id() == loaded.request.client_id => found,
        Ok(_) => return sign_in_again().await,
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => return sign_in_again().await,
        Err(error) => return Err(error),
    };
    let typed = form.get("code").unwrap_or("").trim();
    let assertion: Option<PublicKeyCredential> =
        form.get("credential").filter(|json| !json.is_empty()).and_then(|json| serde_json::from_str(json).ok());
    // A passkey's assertion (the page's script); authenticator codes are digits; recovery
    // codes have letters.
    let answer = if let Some(assertion) = &assertion {
        Answer::Passkey(assertion)
    } else if typed.chars().all(|c| c.is_ascii_digit() || c.is_whitespace()) {
        Answer::Code(typed)
    } else {
        Answer::RecoveryCode(typed)
    };
    let amr = match answer::check::<R>(ctx, &challenge, answer).await? {
        Outcome::Accepted(amr) => amr,
        Outcome::Refused(detail) => {
            let page = page(ctx, &loaded, token, challenge.enrol(), Some(sentence(detail)))?;
            return render(ctx, &page, StatusCode::UNAUTHORIZED);
        }
    };
    let rt = ctx.runtime();
    let Some(account) =
        rt.accounts().find::<R::Account>(rt, ctx.tenant()?, challenge.user_id()).await?.filter(|a| a.is_active())
    else {
        return sign_in_again().await;
    };
    let replaced = session::current::<R>(ctx).await?.map(|current| current.id);
    finish_sign_in::<R>(ctx, &loaded, &account, amr, replaced).await
}

/// `detail` as a sentence for the page.
fn sentence(detail: &str) -> String {
    let mut chars = detail.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}
