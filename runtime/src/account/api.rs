//! Handlers of the account API.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use sea_orm::EntityTrait;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::credentials::{self, Attempt};
use super::normalize::login_name;
use super::principal;
use crate::check::Checks;
use crate::crud;
use crate::devices;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::family::ErrorFamily;
use crate::mfa::challenge::Need;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::grants;
use crate::oauth::issue::{ClientKeys, UserGrant, user_tokens};
use crate::password;
use crate::roles::{
    Account, AccountColumns, NewAccount, NewGrant, NewOauthClient, OauthClient as _, RefreshTokenColumns, Roles,
};
use crate::security_events::{self, EventType};
use crate::string_list::StringList;
use crate::vocab::{ApplicationType, ClientAuthMethod, GrantType};

/// Scopes of first-party sign-in tokens.
const FIRST_PARTY_SCOPE: &str = "openid profile email";
const WRONG_CREDENTIALS: &str = "the username or password is incorrect";

type ClientModel<R> = <<R as Roles>::OauthClient as EntityTrait>::Model;
pub(crate) type AccountModel<R> = <<R as Roles>::Account as EntityTrait>::Model;

/// The JSON body as `T`: 400 for malformed JSON, 422 naming the field for a wrong shape.
pub(crate) fn body<T: for<'de> Deserialize<'de>>(ctx: &EndpointCtx<'_>) -> Result<T, ApiError> {
    let value: Value =
        serde_json::from_slice(ctx.body()).map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "body".to_owned() } else { field };
        ApiError::invalid_field(field, e.inner().to_string())
    })
}

/// A new password: the declared constraints of the account's `password` input (reported under
/// `field`), then what hashing needs: the OpaqueString profile and bcrypt's 72-byte limit.
pub(crate) fn check_password<R: Roles>(checks: &mut Checks, field: &str, password: &str) {
    let mut declared = true;
    checks.relabel(field, |checks| {
        checks.field::<R::Account>("password", password);
        declared = checks.is_empty();
    });
    if declared
        && let Err(error @ (password::PasswordError::Disallowed | password::PasswordError::TooLong(_))) =
            password::prepare(password)
    {
        checks.fail(field, error.to_string());
    }
}

/// The hash of a password [`check_password`] accepted.
pub(crate) async fn hash_password(rt: &crate::Runtime, password: String) -> Result<String, ApiError> {
    password::hash(password, rt.config().bcrypt_cost).await.map_err(ApiError::internal)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    username: String,
    email: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /auth/register`: a new account (201), or 409 naming the taken username or email.
pub async fn register<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: Registration = body(ctx)?;
    let username = login_name(&request.username);
    let email = login_name(&request.email);
    let mut checks = Checks::default();
    checks.column(R::Account::USERNAME, &username);
    checks.column(R::Account::EMAIL, &email);
    if let Some(name) = &request.name {
        checks.column(<R::Account as AccountColumns>::NAME, name);
    }
    check_password::<R>(&mut checks, "password", &request.password);
    checks.finish()?;
    let rt = ctx.runtime();
    let hash = hash_password(rt, request.password).await?;
    let id = Uuid::new_v4();
    let row = NewAccount {
        tenant_id: ctx.tenant()?,
        id,
        username: username.clone(),
        email: email.clone(),
        password_hash: hash,
        name: request.name.clone(),
    };
    let tx = rt.begin_write().await?;
    crud::insert_new::<R::Account>(&*tx, row).await?;
    tx.commit().await?;
    Ok(crate::http::respond(
        201,
        &json!({ "id": id, "username": username, "email": email, "name": request.name, "roles": [] }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
    /// `tokens` (default) or `cookie`: a server-side session in an HttpOnly cookie instead.
    #[serde(default)]
    session: Option<String>,
}

/// `POST /auth/login`: tokens for a username (or email) and password. Unknown users and wrong
/// passwords get the same 401 after the same bcrypt work; repeated failures get 429 with
/// `Retry-After` (see [`super::throttle`]).
pub async fn login<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: Login = body(ctx)?;
    let cookie_mode = match request.session.as_deref() {
        None | Some("tokens") => false,
        Some("cookie") => true,
        Some(_) => return Err(ApiError::invalid_field("session", "must be `tokens` or `cookie`")),
    };
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let account = match credentials::attempt::<R>(ctx, &request.username, request.password).await? {
        Attempt::SignedIn(account) => account,
        Attempt::Refused => return Err(ApiError::unauthorized(WRONG_CREDENTIALS, principal::CHALLENGE)),
        Attempt::Throttled(wait) => {
            return Err(ApiError::too_many_requests(format!("too many failed sign-ins; retry in {wait} s"), wait));
        }
    };
    let client = first_party_client::<R>(ctx).await?;
    let settings = crate::tenancy::settings::<R>(rt, tenant).await?;
    // The stricter of the tenant's policy and the client's.
    let policy = settings.mfa_policy.stricter(client.model.mfa_policy());
    match crate::mfa::challenge::need::<R>(rt.db(), tenant, account.id(), policy).await? {
        Need::Nothing => signed_in::<R>(ctx, &account, cookie_mode, crate::mfa::amr::password()).await,
        need => crate::mfa::challenge::issue::<R>(ctx, account.id(), client.id, need, cookie_mode).await,
    }
}

/// Ends a sign-in whose every step succeeded (`amr`: the methods used, RFC 8176): a cookie
/// session, or tokens of a new grant of the first-party client.
pub(crate) async fn signed_in<R: Roles>(
    ctx: &EndpointCtx<'_>,
    account: &AccountModel<R>,
    cookie_mode: bool,
    amr: Vec<String>,
) -> Result<HttpResponse, ApiError> {
    if cookie_mode {
        return cookie_session::<R>(ctx, account, amr).await;
    }
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let client = first_party_client::<R>(ctx).await?;
    let settings = crate::tenancy::settings::<R>(rt, tenant).await?;
    let keys = ClientKeys::of(ctx, &client.model, &settings).await?;
    let grant_id = <R::Grant as crate::crud::Resource>::new_key();
    let now = crate::now();
    let membership = crate::account::user_roles::of::<R>(rt, tenant, account).await?;
    let grant = UserGrant {
        grant_id,
        user_id: account.id(),
        client_id: client.id,
        scope: FIRST_PARTY_SCOPE,
        granted_scope: FIRST_PARTY_SCOPE,
        auth_time: now,
        session_id: None,
        amr: &amr,
        nonce: None,
        membership: &membership,
    };
    let tokens = user_tokens::<R>(ctx, &client.model, &keys, &settings, &grant)?;
    let row = NewGrant {
        tenant_id: tenant,
        id: grant_id,
        user_id: account.id(),
        client_id: client.id,
        scope: FIRST_PARTY_SCOPE.to_owned(),
        auth_time: now,
        amr: Some(StringList(amr.clone())),
        session_id: None,
    };
    let tx = rt.begin_write().await?;
    crud::insert_new::<R::Grant>(&*tx, row).await?;
    let device = devices::sign_in::<R>(ctx, &*tx, account.id(), "account_api").await?;
    let response = tokens.store(&*tx).await?;
    tx.commit().await?;
    device.alert(ctx, account)?;
    let mut response = response.respond();
    device.set_cookie(&mut response)?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: String,
}

/// Cookie mode: a browser session (the `kg_session` cookie, HttpOnly, SameSite=Lax, Secure on
/// https) and a CSRF token, answered in the body and set as the `kg_csrf` cookie, which
/// state-changing requests must repeat in `X-CSRF-Token`.
async fn cookie_session<R: Roles>(
    ctx: &EndpointCtx<'_>,
    account: &AccountModel<R>,
    amr: Vec<String>,
) -> Result<HttpResponse, ApiError> {
    let rt = ctx.runtime();
    let tx = rt.begin_write().await?;
    let (_, session_cookie) =
        crate::browser::session::start::<R>(ctx, &*tx, account.id(), account.username(), amr).await?;
    let device = devices::sign_in::<R>(ctx, &*tx, account.id(), "account_api").await?;
    tx.commit().await?;
    device.alert(ctx, account)?;
    let (csrf, csrf_cookie) = crate::browser::csrf::token(ctx);
    let mut response = HttpResponse::Ok();
    response
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .cookie(session_cookie)
        .cookie(device.cookie.clone());
    if let Some(cookie) = csrf_cookie {
        response.cookie(cookie);
    }
    let mut body = profile::<R>(account);
    body["csrf_token"] = json!(csrf);
    Ok(response.json(body))
}

/// `POST /auth/refresh`: rotates a refresh token (reuse revokes the whole sign-in); in cookie
/// mode (no body), renews the browser session under a new cookie.
pub async fn refresh<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    if ctx.body().is_empty() {
        let caller = principal::require::<R>(ctx).await?;
        let Some(session) = caller.session_id else {
            return Err(ApiError::bad_request("send `refresh_token`, or sign in with `session: cookie`"));
        };
        let rt = ctx.runtime();
        let account = crud::find::<R::Account>(rt.db(), Some(ctx.tenant()?), caller.user_id).await?;
        let Some(current) = crate::browser::session::current::<R>(ctx).await?.filter(|s| s.id == session) else {
            return Err(ApiError::unauthorized("the session ended; sign in again", principal::CHALLENGE));
        };
        // The renewed session keeps how and when the user signed in.
        let tx = rt.begin_write().await?;
        crate::browser::session::end::<R>(ctx, &*tx, session).await?;
        let (_, cookie) = crate::browser::session::renew::<R>(ctx, &*tx, account.username(), &current).await?;
        tx.commit().await?;
        return Ok(HttpResponse::NoContent()
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .cookie(cookie)
            .finish());
    }
    let request: Refresh = body(ctx)?;
    let client = first_party_client::<R>(ctx).await?;
    // A refused refresh token is answered as the token endpoint answers it (RFC 6749 §5.2
    // `invalid_grant`); every other error is problem+json like the rest of the account API.
    crate::oauth::refresh::rotate::<R>(ctx, &client, &request.refresh_token, None)
        .await
        .map_err(|error| error.in_family(ErrorFamily::OAuth))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Logout {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `POST /auth/logout`: ends the sign-in the refresh token (in the body) or the access token (as
/// the bearer) belongs to; its refresh tokens stop working and its access tokens are inactive.
pub async fn logout<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let request: Logout = if ctx.body().is_empty() { Logout::default() } else { body(ctx)? };
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let grant = match request.refresh_token {
        Some(token) => {
            let digest = crate::secret::digest(&token);
            let row = crud::find_where(rt.db(), tenant, R::RefreshToken::TOKEN_DIGEST, digest).await?;
            row.map(|row| crate::roles::RefreshToken::grant_id(&row))
        }
        None => {
            let caller = principal::require::<R>(ctx).await?;
            if let Some(session) = caller.session_id {
                // Cookie mode: end the session and clear its cookie.
                let tx = rt.begin_write().await?;
                let cleared = crate::browser::session::end::<R>(ctx, &*tx, session).await?;
                tx.commit().await?;
                return Ok(HttpResponse::NoContent().cookie(cleared).finish());
            }
            caller.grant_id
        }
    };
    if let Some(grant) = grant {
        let tx = rt.begin_write().await?;
        grants::revoke::<R>(&*tx, tenant, grant).await?;
        tx.commit().await?;
    }
    // An unknown token is no error (as RFC 7009 §2.2): the outcome the caller wants holds.
    Ok(crate::http::respond_empty(204))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileUpdate {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// `GET /auth/me` and `PATCH /auth/me` (`name`, `email`): the caller's profile.
pub async fn me<R: Roles>(ctx: &EndpointCtx<'_>) -> Result<HttpResponse, ApiError> {
    let caller = principal::require::<R>(ctx).await?;
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    if ctx.request().method() == actix_web::http::Method::PATCH {
        update_profile::<R>(ctx, &caller).await?;
    }
    let account = crud::find::<R::Account>(rt.db(), Some(tenant), caller.user_id).await?;
    Ok(crate::http::respond(200, &profile::<R>(&account)))
}

/// Applies a `PATCH /auth/me` body. A new email address is unverified; the old address is told
/// (after the commit) and an `email.changed` security event recorded. A new address is a
/// sensitive change ([`super::reauth`]): a reset link mailed there would set the password, so a
/// stale caller (or an API key) gets 401 `reauthentication-required`.
async fn update_profile<R: Roles>(ctx: &EndpointCtx<'_>, caller: &principal::Principal) -> Result<(), ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let user = caller.user_id;
    let update: ProfileUpdate = body(ctx)?;
    let mut values = vec![R::Account::UPDATED_AT.set(crate::now())];
    let mut checks = Checks::default();
    if let Some(name) = &update.name {
        checks.column(<R::Account as AccountColumns>::NAME, name);
        values.push(<R::Account as AccountColumns>::NAME.set(name.clone()));
    }
    let before = crud::find::<R::Account>(rt.db(), Some(tenant), user).await?;
    let new_email = update.email.as_deref().map(login_name).filter(|email| email != before.email());
    if let Some(email) = &new_email {
        checks.column(R::Account::EMAIL, email);
        values.push(R::Account::EMAIL.set(email.clone()));
        values.push(R::Account::EMAIL_VERIFIED.set(false));
    }
    checks.finish()?;
    if new_email.is_some() {
        super::reauth::require::<R>(ctx, caller, None).await?;
    }
    let tx = rt.begin_write().await?;
    crud::set(&*tx, tenant, user, values).await?;
    if new_email.is_some() {
        let origin = security_events::Origin::of(ctx);
        security_events::record::<R>(&*tx, tenant, user, EventType::EmailChanged, &origin, json!({ "by": "user" }))
            .await?;
    }
    tx.wrote::<R::Account>();
    tx.commit().await?;
    if let Some(email) = &new_email {
        rt.mailer().send(before.email(), &crate::mail::notices::email_changed(ctx.tenant_key()?, email));
    }
    Ok(())
}

fn profile<R: Roles>(account: &AccountModel<R>) -> Value {
    json!({
        "id": account.id(),
        "username": account.username(),
        "email": account.email(),
        "email_verified": account.email_verified(),
        "name": account.name(),
        "roles": account.roles().0,
        "updated_at": account.updated_at(),
    })
}

/// The id of `tenant`'s first-party client: one per tenant, derived from the tenant's id, so
/// concurrent first sign-ins agree and callers can recognise its tokens without a lookup.
pub(crate) fn first_party_client_id(tenant: Uuid) -> Uuid {
    Uuid::new_v5(&tenant, b"keygate:first-party-client")
}

/// Whether verified access-token `claims` were issued to `tenant`'s first-party client (its own
/// sign-in, `/auth/login` and its refreshes), the only tokens the account and admin APIs take
/// for a user: a token an application got when the user signed in to it stands for the scopes
/// the user consented to, not for managing the account or the tenant.
pub(crate) fn issued_to_first_party(claims: &serde_json::Value, tenant: Uuid) -> bool {
    claims["client_id"].as_str() == Some(first_party_client_id(tenant).to_string().as_str())
}

/// The tenant's first-party client, created on first use.
pub(crate) async fn first_party_client<R: Roles>(
    ctx: &EndpointCtx<'_>,
) -> Result<AuthenticatedClient<ClientModel<R>>, ApiError> {
    let rt = ctx.runtime();
    let tenant = ctx.tenant()?;
    let id = first_party_client_id(tenant);
    if let Some(model) = rt.clients().find::<R::OauthClient>(rt, tenant, id).await? {
        return Ok(AuthenticatedClient { id, model, public: false });
    }
    let row = NewOauthClient {
        tenant_id: tenant,
        id,
        name: "First-party sign-in".to_owned(),
        client_secret_hash: String::new(),
        redirect_uris: StringList::default(),
        grant_types: StringList(vec![GrantType::RefreshToken.to_string()]),
        scopes: StringList(FIRST_PARTY_SCOPE.split(' ').map(str::to_owned).collect()),
        token_endpoint_auth_method: ClientAuthMethod::None,
        application_type: ApplicationType::Web,
        id_token_signed_response_alg: None,
        jwks: None,
        post_logout_redirect_uris: StringList::default(),
        allowed_cors_origins: StringList::default(),
        registration_access_token_hash: None,
        first_party: true,
    };
    let tx = rt.begin_write().await?;
    let inserted = tx.insert_new::<R::OauthClient>(row).await;
    tx.commit().await?;
    if let Err(error) = inserted
        && error.status() != StatusCode::CONFLICT
    {
        return Err(error);
    }
    let model = crud::find::<R::OauthClient>(rt.db(), Some(tenant), id).await?;
    Ok(AuthenticatedClient { id, model, public: false })
}
