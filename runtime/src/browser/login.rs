//! The sign-in and consent form posts. Both carry the authorization request they serve in a
//! hidden field and validate it again, so nothing about the flow is kept between pages.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use sea_orm::QueryFilter;

use super::{csrf, session};
use crate::account::credentials::{self, Attempt};
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::oauth::authorize::{self, Loaded};
use crate::oauth::form::Form;
use crate::roles::{Account, Consent, ConsentColumns, NewConsent, Roles};
use crate::string_list::StringList;

const WRONG_PASSWORD: &str = "The username or password is incorrect.";

/// Handles the sign-in form: checks the password and starts a session, then continues the
/// authorization request (303 back to the authorization endpoint).
pub async fn login<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let (form, loaded) = checked_form::<R>(ctx).await?;
    let username = form.get("username").unwrap_or("").to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let refuse = |message: String, status: StatusCode| {
        authorize::login_page::<R>(ctx, &loaded, Some(username.clone()), Some(message), status)
    };
    let account = match credentials::attempt::<R>(ctx, &username, password).await? {
        Attempt::SignedIn(account) => account,
        Attempt::Refused => return refuse(WRONG_PASSWORD.into(), StatusCode::UNAUTHORIZED).await,
        Attempt::Throttled(wait) => {
            let mut page = refuse(
                format!("Too many failed attempts. Try again in {wait} seconds."),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await?;
            page.headers_mut().insert(actix_web::http::header::RETRY_AFTER, wait.into());
            return Ok(page);
        }
    };
    // No session before a second factor the request needs: the page asks for it first.
    let need = super::mfa::need::<R>(ctx, &loaded, account.id()).await?;
    if need != crate::mfa::challenge::Need::Nothing {
        return super::mfa::ask::<R>(ctx, &loaded, account.id(), account.username(), need).await;
    }
    finish_sign_in::<R>(ctx, &loaded, &account, crate::mfa::amr::password(), None).await
}

/// Finishes a sign-in on the pages: in one transaction ends the session it replaces (`replaced`:
/// a step-up or a passkey sign-in over an older session), starts the new one with `amr` and
/// records the device; then mails a new device and continues the authorization request.
pub(super) async fn finish_sign_in<R: Roles>(
    ctx: &EndpointCtx<'_>,
    loaded: &Loaded<R>,
    account: &impl Account,
    amr: Vec<String>,
    replaced: Option<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let tx = ctx.runtime().begin_write().await?;
    if let Some(replaced) = replaced {
        session::end::<R>(ctx, &*tx, replaced).await?;
    }
    let (_, cookie) = session::start::<R>(ctx, &*tx, account.id(), account.username(), amr).await?;
    let device = crate::devices::sign_in::<R>(ctx, &*tx, account.id(), "browser").await?;
    tx.commit().await?;
    device.alert(ctx, account)?;
    continue_after_sign_in(ctx, loaded, cookie, device.cookie)
}

/// 303 back to the authorization endpoint with the request, its `prompt=login` and `max_age`
/// now met, setting the new session's cookie and the device cookie.
fn continue_after_sign_in<R: Roles>(
    ctx: &EndpointCtx<'_>,
    loaded: &Loaded<R>,
    cookie: actix_web::cookie::Cookie<'static>,
    device_cookie: actix_web::cookie::Cookie<'static>,
) -> Result<HttpResponse, ApiError> {
    let url = ctx.runtime().endpoint_url("authorize", ctx.tenant_key()?).unwrap_or_default();
    let continued = format!("{url}?{}", loaded.params.after_login());
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, continued))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .cookie(device_cookie)
        .finish())
}

/// Handles the consent form: `decision=allow` remembers the consent and issues the code,
/// anything else answers the client with `access_denied`.
pub async fn consent<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let (form, loaded) = checked_form::<R>(ctx).await?;
    let Some(session) = session::current::<R>(ctx).await? else {
        // The session ended between the pages: sign in again.
        let hint = loaded.request.login_hint.clone();
        return authorize::login_page::<R>(ctx, &loaded, hint, None, StatusCode::OK).await;
    };
    let request = &loaded.request;
    if form.get("decision") != Some("allow") {
        return Err(request.refuse("access_denied", "the user denied the request"));
    }
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let mut scopes = authorize::consented_scopes::<R>(rt.db(), tenant, session.user_id, request.client_id).await?;
    for scope in &request.scopes {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    let tx = rt.begin_write().await?;
    let existing = crud::scoped_find::<R::Consent>(Some(tenant))
        .filter(R::Consent::USER_ID.eq(session.user_id))
        .filter(R::Consent::CLIENT_ID.eq(request.client_id))
        .one(&*tx)
        .await?;
    if let Some(existing) = existing {
        crud::delete_id::<R::Consent>(&*tx, existing.id()).await?;
    }
    let row = NewConsent {
        tenant_id: tenant,
        user_id: session.user_id,
        client_id: request.client_id,
        scopes: StringList(scopes),
    };
    crud::insert_new::<R::Consent>(&*tx, row).await?;
    tx.commit().await?;
    authorize::issue_code::<R>(ctx, request, session).await
}

/// The posted form with a valid CSRF token and a valid authorization request; a form that
/// cannot be read is a 400 page, a failed CSRF check a 403 page.
pub(super) async fn checked_form<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<(Form, Loaded<R>), ApiError> {
    let form = Form::parse(ctx).map_err(|_| ApiError::bad_request("The form could not be read."))?;
    if !csrf::verify(ctx, form.get("csrf")) {
        return Err(ApiError::forbidden(csrf::EXPIRED));
    }
    let loaded = authorize::load::<R>(ctx, form.get("request").unwrap_or("")).await?;
    Ok((form, loaded))
}
