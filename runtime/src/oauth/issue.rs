//! Minting tokens: RFC 9068 access tokens, opaque rotating refresh tokens, OIDC ID tokens, and
//! the RFC 6749 §5.1 response that carries them.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::access_token::GRANT_CLAIM;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::jose::{Algorithm, SigningKey, sign_jwt};
use crate::keys::DEFAULT_ALGORITHM;
use crate::roles::{NewRefreshToken, OauthClient, Roles};
use crate::tenancy::Settings;
use crate::vocab::GrantType;
use crate::{crud, oidc, secret};

/// RFC 6749 §5.1 successful response (plus OIDC Core §3.1.3.3 `id_token`).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl TokenResponse {
    /// `200` with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
    pub fn respond(self) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(self)
    }
}

/// The signing keys a client's tokens use; fetched before any write transaction, since the
/// first use of an algorithm creates its key.
pub struct ClientKeys {
    /// For access tokens.
    pub access: Arc<SigningKey>,
    /// For ID tokens.
    pub id: Arc<SigningKey>,
}

impl ClientKeys {
    /// The keys `client` is registered for, in `ctx`'s tenant.
    pub async fn of(ctx: &EndpointCtx<'_>, client: &impl OauthClient, settings: &Settings) -> Result<Self, ApiError> {
        let rt = ctx.runtime();
        let tenant = ctx.tenant()?;
        let access = rt.keys().active(rt.db(), tenant, access_token_algorithm(client, settings)).await?;
        // OIDC Registration §2: ID tokens default to RS256.
        let id_alg = client.id_token_signed_response_alg().unwrap_or(DEFAULT_ALGORITHM);
        let id = rt.keys().active(rt.db(), tenant, id_alg).await?;
        Ok(Self { access, id })
    }
}

/// The client's access-token algorithm, or the tenant's default.
pub fn access_token_algorithm(client: &impl OauthClient, settings: &Settings) -> Algorithm {
    client.access_token_signed_response_alg().unwrap_or(settings.default_alg)
}

/// What an access token says (RFC 9068 §2.2).
pub struct AccessToken<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// `sub`: the user, or the client itself.
    pub subject: Uuid,
    /// `client_id`.
    pub client_id: Uuid,
    /// `aud`.
    pub audience: &'a str,
    /// `scope`, when any was granted.
    pub scope: Option<&'a str>,
    /// Seconds until `exp`.
    pub lifetime: i64,
    /// Further claims.
    pub extra: &'a [(&'a str, Value)],
}

impl AccessToken<'_> {
    /// Signs the token with `key`; returns it and its lifetime in seconds.
    pub fn sign(&self, key: &SigningKey) -> Result<(String, i64), ApiError> {
        let now = crate::now().timestamp();
        let lifetime = self.lifetime;
        let mut claims = json!({
            "iss": self.issuer,
            "sub": self.subject.to_string(),
            "aud": self.audience,
            "client_id": self.client_id.to_string(),
            "iat": now,
            "exp": now + lifetime,
            "jti": Uuid::new_v4().to_string(),
        });
        if let Some(scope) = self.scope {
            claims["scope"] = json!(scope);
        }
        for (name, value) in self.extra {
            claims[*name] = value.clone();
        }
        Ok((sign_jwt(key, "at+jwt", &claims).map_err(ApiError::internal)?, lifetime))
    }
}

/// What a grant of a user to a client carries into its tokens.
pub struct UserGrant<'a> {
    /// The grant (token family).
    pub grant_id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// Scopes of these tokens, space-separated (may be narrower than the grant's).
    pub scope: &'a str,
    /// The grant's scopes, which every refresh token of the grant keeps (RFC 6749 §6).
    pub granted_scope: &'a str,
    /// When the user authenticated.
    pub auth_time: DateTime<Utc>,
    /// The browser session.
    pub session_id: Option<Uuid>,
    /// How the user authenticated (RFC 8176 `amr` values, [`crate::mfa::amr`]).
    pub amr: &'a [String],
    /// The authorization request's nonce (only when redeeming the code).
    pub nonce: Option<&'a str>,
    /// The user's roles and groups, carried as the `roles` and `groups` claims.
    pub membership: &'a crate::account::user_roles::Membership,
}

/// Tokens minted for a user grant, and the refresh-token row to store with them.
pub struct UserTokens<R: Roles> {
    /// The response to send once the row is stored.
    pub response: TokenResponse,
    /// The new refresh token's row (its digest only), if the client may refresh.
    pub refresh_row: Option<<R::RefreshToken as EntityTrait>::ActiveModel>,
}

impl<R: Roles> UserTokens<R> {
    /// Stores the refresh token (inside the caller's write transaction) and returns the response.
    pub async fn store(self, db: &impl ConnectionTrait) -> Result<TokenResponse, ApiError> {
        if let Some(row) = self.refresh_row {
            crud::insert_new::<R::RefreshToken>(db, row).await?;
        }
        Ok(self.response)
    }
}

/// The tokens of a user grant: an access token, a new refresh token if the client may refresh,
/// and an ID token if `openid` was granted. Signing happens here, before the caller opens its
/// write transaction, so the (SQLite) write lock is never held across a signature.
pub fn user_tokens<R: Roles>(
    ctx: &EndpointCtx<'_>,
    client: &impl OauthClient,
    keys: &ClientKeys,
    settings: &Settings,
    grant: &UserGrant<'_>,
) -> Result<UserTokens<R>, ApiError> {
    let rt = ctx.runtime();
    let issuer = super::issuer(&rt.config().public_url, ctx.tenant_key()?);
    let scope = (!grant.scope.is_empty()).then_some(grant.scope);
    let (access_token, expires_in) = AccessToken {
        issuer: &issuer,
        subject: grant.user_id,
        client_id: grant.client_id,
        audience: &issuer,
        scope,
        lifetime: settings.access_token_lifetime,
        extra: &[
            ("auth_time", json!(grant.auth_time.timestamp())),
            // RFC 9068 §2.2.1: `acr` and `amr` as in OIDC Core §2 (values of RFC 8176).
            ("amr", json!(grant.amr)),
            ("acr", json!(crate::mfa::amr::acr(grant.amr))),
            (GRANT_CLAIM, json!(grant.grant_id.to_string())),
            ("roles", json!(grant.membership.roles)),
            ("groups", json!(grant.membership.groups)),
        ],
    }
    .sign(&keys.access)?;
    let (refresh_token, refresh_row) = if GrantType::RefreshToken.is_in(&client.grant_types().0) {
        let raw = secret::random_token("", 32);
        let row = NewRefreshToken {
            tenant_id: ctx.tenant()?,
            grant_id: grant.grant_id,
            user_id: grant.user_id,
            client_id: grant.client_id,
            scope: grant.granted_scope.to_owned(),
            auth_time: grant.auth_time,
            amr: Some(crate::string_list::StringList(grant.amr.to_vec())),
            session_id: grant.session_id,
            token_digest: secret::digest(&raw),
            expires_at: crate::now() + settings.refresh_token_lifetime,
        }
        .into();
        (Some(raw), Some(row))
    } else {
        (None, None)
    };
    let id_token = if grant.scope.split(' ').any(|s| s == "openid") {
        Some(oidc::id_token::sign(&keys.id, &issuer, grant, &access_token, settings.access_token_lifetime)?)
    } else {
        None
    };
    let response = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        scope: scope.map(str::to_owned),
        refresh_token,
        id_token,
    };
    Ok(UserTokens { response, refresh_row })
}

/// The `client_credentials` response: an access token only (RFC 6749 §4.4.3).
pub fn client_token(access_token: String, expires_in: i64, scope: Option<String>) -> TokenResponse {
    TokenResponse { access_token, token_type: "Bearer", expires_in, scope, refresh_token: None, id_token: None }
}
