//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the client sends the browser
//! here, the user confirms, the session ends with the grants it made, and the browser returns to
//! a `post_logout_redirect_uri` the client registered.

use actix_web::HttpResponse;
use actix_web::http::{Method, StatusCode};
use sea_orm::QueryFilter;
use serde_json::json;
use uuid::Uuid;

use crate::browser::pages::{self, LoggedOutPage, LogoutPage};
use crate::browser::{csrf, session};
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::{decode_header, verify_jwt};
use crate::oauth::authorize::redirect;
use crate::oauth::authorize::request::Params;
use crate::oauth::form::Form;
use crate::oauth::{grants, issuer};
use crate::roles::{Grant, GrantColumns, OauthClient, Roles};
use crate::uri::redirect_uri_matches;

/// A validated logout request.
struct LogoutRequest {
    client_name: Option<String>,
    /// Where to send the browser afterwards, with `state`.
    return_to: Option<(String, Option<String>)>,
}

/// Handles `GET`/`POST /logout` from a client: validates it and asks the user to confirm.
pub async fn end_session<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let encoded = if ctx.request().method() == Method::POST {
        String::from_utf8_lossy(ctx.body()).into_owned()
    } else {
        ctx.request().query_string().to_owned()
    };
    let (params, request) = validate::<R>(ctx, &encoded).await?;
    let tenant = ctx.tenant_key()?;
    if session::current::<R>(ctx).await?.is_none() {
        // Nobody to sign out: go straight back.
        return finish(ctx, &request, Vec::new());
    }
    let (csrf, cookie) = csrf::token(ctx);
    let page = LogoutPage {
        tenant_name: tenant.to_owned(),
        client_name: request.client_name,
        action: ctx.runtime().endpoint_url("logout", tenant).unwrap_or_default(),
        csrf,
        request: params.encode(),
    };
    pages::render(StatusCode::OK, &page, cookie.into_iter().collect())
}

/// Handles the confirmation form: `decision=logout` ends the session and revokes the grants
/// made in it; either way the browser goes back to the client (or sees the signed-out page).
pub async fn confirm<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let form = Form::parse(ctx).map_err(|_| ApiError::bad_request("The form could not be read."))?;
    if !csrf::verify(ctx, form.get("csrf")) {
        return Err(ApiError::forbidden(csrf::EXPIRED));
    }
    let (_, request) = validate::<R>(ctx, form.get("request").unwrap_or("")).await?;
    let mut cookies = Vec::new();
    if form.get("decision") == Some("logout")
        && let Some(current) = session::current::<R>(ctx).await?
    {
        let rt = ctx.runtime();
        let tenant = ctx.tenant()?;
        let tx = rt.begin_write().await?;
        let made_here =
            crud::scoped_find::<R::Grant>(Some(tenant)).filter(R::Grant::SESSION_ID.eq(current.id)).all(&*tx).await?;
        for grant in made_here {
            grants::revoke::<R>(&*tx, tenant, grant.id()).await?;
        }
        cookies.push(session::end::<R>(ctx, &*tx, current.id).await?);
        tx.commit().await?;
    }
    finish(ctx, &request, cookies)
}

fn finish(
    ctx: &EndpointCtx<'_>,
    request: &LogoutRequest,
    cookies: Vec<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, ApiError> {
    match &request.return_to {
        Some((uri, state)) => {
            let params: Vec<(&str, String)> = state.iter().map(|s| ("state", s.clone())).collect();
            Ok(redirect(uri, &params, cookies))
        }
        None => pages::render(StatusCode::OK, &LoggedOutPage { tenant_name: ctx.tenant_key()?.to_owned() }, cookies),
    }
}

/// §2–3: `id_token_hint` (an ID token this issuer signed, expired or not) and/or `client_id`
/// name the client; a `post_logout_redirect_uri` must be one it registered, compared as redirect
/// URIs are ([`redirect_uri_matches`]). Refusals are 400 pages.
async fn validate<R: Roles>(ctx: &EndpointCtx<'_>, encoded: &str) -> Result<(Params, LogoutRequest), ApiError> {
    let refuse = |message: &str| Err(ApiError::bad_request(message));
    let Ok(params) = Params::parse(encoded) else { return refuse("The sign-out request could not be read.") };
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let hinted = match params.get("id_token_hint") {
        Some(hint) => match hinted_client(ctx, hint).await? {
            Some(client) => Some(client),
            None => return refuse("The sign-out request carries an ID token this server did not issue."),
        },
        None => None,
    };
    let named = match params.get("client_id") {
        Some(id) => match id.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => return refuse("The application that sent you here is not registered."),
        },
        None => None,
    };
    if let (Some(hinted), Some(named)) = (hinted, named)
        && hinted != named
    {
        return refuse("The sign-out request names two different applications.");
    }
    let client_id = named.or(hinted);
    let client = match client_id {
        Some(id) => match crud::find_optional::<R::OauthClient>(rt.db(), Some(tenant), id).await? {
            Some(client) => Some(client),
            None => return refuse("The application that sent you here is not registered."),
        },
        None => None,
    };
    let return_to = match params.get("post_logout_redirect_uri") {
        Some(uri) => {
            let registered = client
                .as_ref()
                .is_some_and(|c| redirect_uri_matches(uri, &c.post_logout_redirect_uris().0, c.application_type()));
            if !registered {
                return refuse(
                    "The application asked to return to an address it has not registered, so you were not sent back.",
                );
            }
            Some((uri.to_owned(), params.get("state").map(str::to_owned)))
        }
        None => None,
    };
    let client_name = client.as_ref().map(|c| c.name().to_owned());
    Ok((params, LogoutRequest { client_name, return_to }))
}

/// The client an `id_token_hint` was issued to, if this tenant signed it.
async fn hinted_client(ctx: &EndpointCtx<'_>, hint: &str) -> Result<Option<Uuid>, ApiError> {
    let rt = ctx.runtime();
    if !decode_header(hint).is_ok_and(|h| h.typ.as_deref() == Some("JWT")) {
        return Ok(None);
    }
    let keys = rt.keys().jwks(rt.db(), ctx.tenant()?).await?;
    let Ok(claims) = verify_jwt(hint, &keys.keys) else { return Ok(None) };
    if claims["iss"] != json!(issuer(&rt.config().public_url, ctx.tenant_key()?)) {
        return Ok(None);
    }
    Ok(claims["aud"].as_str().and_then(|aud| aud.parse().ok()))
}
