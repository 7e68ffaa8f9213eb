//! The authorization endpoint (RFC 6749 §4.1, OAuth 2.1 §4.1): validates the request, signs the
//! user in and asks for consent through [`crate::browser`] when needed, and answers the client
//! with a one-time code at its registered redirect URI.

pub mod request;

use actix_web::HttpResponse;
use actix_web::cookie::Cookie;
use actix_web::http::{Method, StatusCode, header};
use sea_orm::{EntityTrait, QueryFilter};
use uuid::Uuid;

use self::request::{AuthorizationRequest, Params};
use super::issuer;
use crate::browser::csrf;
use crate::browser::pages::{self, ConsentPage, LoginPage, ScopeView};
use crate::browser::session::{self, Session};
use crate::chain::Chain;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{Account, Consent, ConsentColumns, NewAuthCode, Roles};
use crate::secret;

type ClientModel<R> = <<R as Roles>::OauthClient as EntityTrait>::Model;

/// A validated request with its client.
pub struct Loaded<R: Roles> {
    /// The parameters as sent, for carrying through the sign-in forms.
    pub params: Params,
    /// The validated request.
    pub request: AuthorizationRequest,
    /// The client.
    pub client: ClientModel<R>,
}

/// Handles `GET` and `POST /authorize` (OIDC Core §3.1.2.1: both must be supported).
pub async fn authorize<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let encoded = if ctx.request().method() == Method::POST {
        std::str::from_utf8(ctx.body())
            .map_err(|_| ApiError::bad_request("The request is not valid UTF-8."))?
            .to_owned()
    } else {
        ctx.request().query_string().to_owned()
    };
    let loaded = load::<R>(ctx, &encoded).await?;
    let session = session::current::<R>(ctx).await?;
    proceed::<R>(ctx, &loaded, session, false).await
}

/// Parses and validates an encoded authorization request. A client or redirect URI that cannot
/// be trusted is an error page (a 4xx the page family shows); any other refusal is redirected
/// to the client (RFC 6749 §4.1.2.1, [`ApiError::redirected`]).
pub async fn load<R: Roles>(ctx: &EndpointCtx<'_>, encoded: &str) -> Result<Loaded<R>, ApiError> {
    let params = Params::parse(encoded).map_err(ApiError::bad_request)?;
    let client_id = request::client_id(&params)?;
    let Some(client) = ctx.runtime().clients().find::<R::OauthClient>(ctx.runtime(), ctx.tenant()?, client_id).await?
    else {
        return Err(ApiError::bad_request("The application that sent you here is not registered."));
    };
    let issuer = issuer(&ctx.runtime().config().public_url, ctx.tenant_key()?);
    let request = request::validate(&params, client_id, &client, issuer)?;
    Ok(Loaded { params, request, client })
}

/// Moves the flow on: sign-in if needed, then consent if needed, then a code. `fresh` says the
/// user has just entered their password in this flow (so `prompt=login` and `max_age` are met).
pub async fn proceed<R: Roles>(
    ctx: &EndpointCtx<'_>,
    loaded: &Loaded<R>,
    session: Option<Session>,
    fresh: bool,
) -> Result<HttpResponse, ApiError> {
    let request = &loaded.request;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let account = match &session {
        Some(session) => rt.accounts().find::<R::Account>(rt, tenant, session.user_id).await?.filter(|a| a.is_active()),
        None => None,
    };
    let too_old = |session: &Session| {
        request.max_age.is_some_and(|max_age| (crate::now() - session.auth_time).num_seconds() > max_age)
    };
    let (session, account) = match (session, account) {
        (Some(session), Some(account)) if fresh || !(request.prompt.login || too_old(&session)) => (session, account),
        (_, account) => {
            if request.prompt.none {
                return Err(request.refuse("login_required", "the user is not signed in"));
            }
            let hint = request.login_hint.clone().or_else(|| account.map(|a| a.username().to_owned()));
            return login_page::<R>(ctx, loaded, hint, None, StatusCode::OK).await;
        }
    };
    // A session without a second factor, where this request needs one (the policy, or
    // `acr_values` asking for two factors): step up, asking only for the missing factor.
    if !session.amr.iter().any(|method| method == crate::mfa::amr::MFA) {
        let need = crate::browser::mfa::need::<R>(ctx, loaded, account.id()).await?;
        if need != crate::mfa::challenge::Need::Nothing {
            if request.prompt.none {
                return Err(request.refuse("interaction_required", "the user must enter a second factor"));
            }
            return crate::browser::mfa::ask::<R>(ctx, loaded, account.id(), account.username(), need).await;
        }
    }
    let consented = consented_scopes::<R>(rt.db(), tenant, account.id(), request.client_id).await?;
    let covered = request.scopes.iter().all(|scope| consented.contains(scope));
    if request.prompt.consent || !covered {
        if request.prompt.none {
            return Err(request.refuse("consent_required", "the user has not consented to these scopes"));
        }
        return consent_page::<R>(ctx, loaded, account.username());
    }
    issue_code::<R>(ctx, request, session).await
}

/// The scopes `user` has consented to for `client`.
pub async fn consented_scopes<R: Roles>(
    db: &impl sea_orm::ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    client: Uuid,
) -> Result<Vec<String>, ApiError> {
    let row = crud::scoped_find::<R::Consent>(Some(tenant))
        .filter(R::Consent::USER_ID.eq(user))
        .filter(R::Consent::CLIENT_ID.eq(client))
        .one(db)
        .await?;
    Ok(row.map(|row| row.scopes().0.clone()).unwrap_or_default())
}

/// Issues a one-time code (only its digest is stored) and sends the browser back to the client
/// with it, `state` and the RFC 9207 `iss`.
pub async fn issue_code<R: Roles>(
    ctx: &EndpointCtx<'_>,
    request: &AuthorizationRequest,
    session: Session,
) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let code = secret::random_token("", 32);
    let row = NewAuthCode {
        tenant_id: ctx.tenant()?,
        code_digest: secret::digest(&code),
        user_id: session.user_id,
        client_id: request.client_id,
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_sent: request.redirect_uri_sent,
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        scope: request.scopes.join(" "),
        auth_time: session.auth_time,
        amr: Some(crate::string_list::StringList(session.amr.clone())),
        session_id: Some(session.id),
        expires_at: crate::now() + rt.config().auth_code_lifetime,
    };
    let backend = rt.db().get_database_backend();
    rt.execute_write(Chain::new::<R::AuthCode>(backend).insert::<R::AuthCode>(row, None)?.write()?).await?;
    let mut response = vec![("code", code)];
    if let Some(state) = &request.state {
        response.push(("state", state.clone()));
    }
    response.push(("iss", request.issuer.clone()));
    Ok(redirect(&request.redirect_uri, &response, Vec::new()))
}

/// A 303 to `uri` with `params` added to its query (RFC 6749 §3.1.2: an existing query is kept).
pub fn redirect(uri: &str, params: &[(&str, String)], cookies: Vec<Cookie<'static>>) -> HttpResponse {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        query.append_pair(key, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    let mut response = HttpResponse::SeeOther();
    response
        .insert_header((header::LOCATION, format!("{uri}{separator}{}", query.finish())))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    for cookie in cookies {
        response.cookie(cookie);
    }
    response.finish()
}

/// The sign-in page for `loaded`, offering a passkey when the tenant's `passkey_sign_in` is on.
pub async fn login_page<R: Roles>(
    ctx: &EndpointCtx<'_>,
    loaded: &Loaded<R>,
    login_hint: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, ApiError> {
    let tenant = ctx.tenant_key()?;
    let (csrf, cookie) = csrf::token(ctx);
    let page = LoginPage {
        tenant_name: tenant.to_owned(),
        client_name: crate::roles::OauthClient::name(&loaded.client).to_owned(),
        action: ctx.runtime().endpoint_url("login", tenant).unwrap_or_default(),
        csrf,
        request: loaded.params.encode(),
        login_hint: login_hint.unwrap_or_default(),
        error,
        passkey_options_url: None,
        passkey_action: ctx.runtime().endpoint_url("login_passkey", tenant).unwrap_or_default(),
        script: pages::PASSKEY_SCRIPT,
    };
    let cookies = cookie.into_iter().collect();
    if !crate::tenancy::settings::<R>(ctx.runtime(), ctx.tenant()?).await?.passkey_sign_in {
        return pages::render(status, &page, cookies);
    }
    let options = ctx.runtime().endpoint_url("account_passkey_sign_in_options", tenant);
    pages::render_with_script(status, &LoginPage { passkey_options_url: options, ..page }, cookies)
}

fn consent_page<R: Roles>(ctx: &EndpointCtx<'_>, loaded: &Loaded<R>, username: &str) -> Result<HttpResponse, ApiError> {
    let tenant = ctx.tenant_key()?;
    let (csrf, cookie) = csrf::token(ctx);
    let page = ConsentPage {
        tenant_name: tenant.to_owned(),
        client_name: crate::roles::OauthClient::name(&loaded.client).to_owned(),
        username: username.to_owned(),
        scopes: loaded
            .request
            .scopes
            .iter()
            .map(|scope| ScopeView { name: scope.clone(), description: pages::describe_scope(scope) })
            .collect(),
        action: ctx.runtime().endpoint_url("consent", tenant).unwrap_or_default(),
        csrf,
        request: loaded.params.encode(),
    };
    pages::render(StatusCode::OK, &page, cookie.into_iter().collect())
}
