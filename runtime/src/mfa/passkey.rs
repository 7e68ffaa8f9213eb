//! Passkeys (W3C WebAuthn Level 2, FIDO2) through kanidm's `webauthn-rs`: the relying party a
//! tenant's public URL makes, registering a credential as an `mfa_factor` of kind `passkey`,
//! and accepting an assertion from one of a user's passkeys.
//!
//! - **Relying party** (WebAuthn §5.1.2 `rp.id`, §13.4.9 origins): the RP ID is the host of
//!   `public_url` and the only accepted origin is its origin. Tenants share a host, so they share
//!   the RP ID: a passkey is only ever looked up within the tenant whose endpoint is called.
//! - **Storage**: the credential as webauthn-rs serialises it (public key, algorithm) in
//!   `passkey`; its id (base64url) in `credential_id`; the signature counter in `sign_count`,
//!   which is authoritative (it replaces the serialised counter when a passkey is loaded); the
//!   BE/BS flags (§6.1) in `backup_eligible`/`backup_state`.
//! - **Clones** (§6.1.1, §7.2 step 21): a nonzero counter must grow. An assertion whose counter
//!   does not is refused and recorded as `passkey.clone_suspected`; the counter is claimed with a
//!   conditional update, so two concurrent uses of one counter value cannot both pass.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, Credential, Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn,
    WebauthnBuilder, WebauthnError,
};

use super::amr;
use super::factors::FactorModel;
use crate::crud;
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::roles::{MfaFactor, MfaFactorColumns, NewMfaFactor, Roles};
use crate::security_events::{self, EventType, Origin};
use crate::vocab::FactorKind;

/// The tenant's relying party: RP ID the host of `public_url`, origin its origin. A 403 when
/// the public URL's host is an IP address, which cannot be an RP ID (WebAuthn §5.1.2: a valid
/// domain string).
pub fn relying_party(ctx: &EndpointCtx<'_>) -> Result<Webauthn, ApiError> {
    relying_party_at(&ctx.runtime().config().public_url, ctx.tenant_key().unwrap_or("Keygate"))
}

/// The relying party of `public_url` (e.g. `https://id.example.com/`: RP ID `id.example.com`,
/// origin `https://id.example.com`), shown to users as `name`. A 403 for an IP address host.
pub fn relying_party_at(public_url: &str, name: &str) -> Result<Webauthn, ApiError> {
    let url = Url::parse(public_url).map_err(ApiError::internal)?;
    let Some(rp_id) = url.domain() else {
        return Err(ApiError::forbidden(
            "passkeys need a public URL whose host is a domain name; an IP address cannot be a WebAuthn relying party",
        ));
    };
    let origin = Url::parse(&url.origin().ascii_serialization()).map_err(ApiError::internal)?;
    WebauthnBuilder::new(rp_id, &origin).and_then(|builder| builder.rp_name(name).build()).map_err(ApiError::internal)
}

/// A credential id as stored and shown: base64url without padding.
pub fn credential_id(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// The passkey a factor row holds, with its stored signature counter; `None` for other kinds.
pub fn load<R: Roles>(factor: &FactorModel<R>) -> Option<Passkey> {
    let stored: Passkey = serde_json::from_str(factor.passkey()?).ok()?;
    let mut credential = Credential::from(stored);
    credential.counter = factor.sign_count().and_then(|count| u32::try_from(count).ok()).unwrap_or(0);
    Some(Passkey::from(credential))
}

/// The RFC 8176 method a passkey proves: `swk` for a backup-eligible (syncable, so
/// software-managed) credential, `hwk` for one bound to its device.
pub fn method(backup_eligible: bool) -> &'static str {
    if backup_eligible { amr::SWK } else { amr::HWK }
}

/// The browser's answer refused, as a 422 on `credential`.
pub fn refused(error: &WebauthnError) -> ApiError {
    ApiError::invalid_field("credential", format!("the authenticator's answer was refused: {error}"))
}

/// Inside `db` (a write transaction): stores the verified `passkey` of `user` as a confirmed
/// factor named `label`, recording `factor.added`. A 409 when the credential is already
/// registered in the tenant (WebAuthn §7.1 step 22). The new factor's id.
pub async fn store<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl ConnectionTrait,
    user: Uuid,
    label: String,
    passkey: &Passkey,
) -> Result<Uuid, ApiError> {
    let tenant = ctx.tenant()?;
    let credential = Credential::from(passkey.clone());
    let credential_id = credential_id(&credential.cred_id);
    if crud::find_where(db, tenant, R::MfaFactor::CREDENTIAL_ID, Some(credential_id.clone()))
        .await?
        .is_some_and(|f: FactorModel<R>| f.kind() == FactorKind::Passkey)
    {
        return Err(ApiError::conflict(Some("credential"), "this passkey is already registered"));
    }
    let id = Uuid::new_v4();
    let row = NewMfaFactor {
        tenant_id: tenant,
        id,
        user_id: user,
        kind: FactorKind::Passkey,
        label,
        secret_sealed: None,
        confirmed_at: Some(crate::now()),
        credential_id: Some(credential_id.clone()),
        passkey: Some(serde_json::to_string(passkey).map_err(ApiError::internal)?),
        sign_count: Some(i64::from(credential.counter)),
        backup_eligible: Some(credential.backup_eligible),
        backup_state: Some(credential.backup_state),
    };
    crud::insert_new::<R::MfaFactor>(db, row).await?;
    let data = json!({ "factor_id": id, "kind": "passkey", "credential_id": credential_id });
    security_events::record::<R>(db, tenant, user, EventType::FactorAdded, &Origin::of(ctx), data).await?;
    Ok(id)
}

/// Verifies a registration answer against its ceremony state; the new passkey (a 422 on
/// `credential` when the answer is refused).
pub fn verify_registration(
    rp: &Webauthn,
    answer: &RegisterPublicKeyCredential,
    state: &webauthn_rs::prelude::PasskeyRegistration,
) -> Result<Passkey, ApiError> {
    rp.finish_passkey_registration(answer, state).map_err(|e| refused(&e))
}

/// How an assertion went.
pub enum Assertion {
    /// Accepted for this factor; the `amr` method it proves.
    Accepted {
        /// The factor used.
        factor: Uuid,
        /// `hwk` or `swk`.
        method: &'static str,
    },
    /// Refused, with why.
    Refused(&'static str),
    /// Refused: the counter did not grow (the new one, when webauthn-rs did not refuse first).
    /// The caller drops its transaction and calls [`record_clone`].
    Cloned(Option<i64>),
}

/// The confirmed passkey among `factors` that `answer` names.
pub fn named<'f, R: Roles>(factors: &'f [FactorModel<R>], answer: &PublicKeyCredential) -> Option<&'f FactorModel<R>> {
    let id = credential_id(answer.get_credential_id());
    factors.iter().find(|f| {
        f.kind() == FactorKind::Passkey && f.confirmed_at().is_some() && f.credential_id() == Some(id.as_str())
    })
}

/// After webauthn-rs verified an assertion (`verified`) from `factor`: inside `db` (a write
/// transaction), claims its signature counter and records its use. A counter that did not grow
/// (the library's `CredentialPossibleCompromise`, or a concurrent use of the same value) is
/// [`Assertion::Cloned`].
pub async fn accept<R: Roles>(
    ctx: &EndpointCtx<'_>,
    db: &impl ConnectionTrait,
    factor: &FactorModel<R>,
    verified: Result<AuthenticationResult, WebauthnError>,
) -> Result<Assertion, ApiError> {
    let result = match verified {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => return Ok(Assertion::Cloned(None)),
        Err(_) => return Ok(Assertion::Refused("the passkey's answer is not valid for this sign-in")),
    };
    if !result.user_verified() {
        return Ok(Assertion::Refused("the passkey did not verify the user (PIN or biometrics)"));
    }
    let now = crate::now();
    let counter = i64::from(result.counter());
    let values = [
        R::MfaFactor::SIGN_COUNT.set(Some(counter)),
        R::MfaFactor::BACKUP_STATE.set(Some(result.backup_state())),
        R::MfaFactor::LAST_USED_AT.set(Some(now)),
        R::MfaFactor::UPDATED_AT.set(now),
    ];
    let stored = factor.sign_count().unwrap_or(0);
    if counter > 0 || stored > 0 {
        if !crud::claim_below(db, factor.id(), R::MfaFactor::SIGN_COUNT, counter, values).await? {
            return Ok(Assertion::Cloned(Some(counter)));
        }
    } else {
        crud::set::<R::MfaFactor>(db, ctx.tenant()?, factor.id(), values).await?;
    }
    let method = method(factor.backup_eligible().unwrap_or(false) || result.backup_eligible());
    Ok(Assertion::Accepted { factor: factor.id(), method })
}

/// Why a [`Assertion::Cloned`] answer is refused.
pub const CLONED: &str = "the passkey's signature counter did not advance, a sign of a cloned authenticator";

/// Records `passkey.clone_suspected` for `factor` (`counter`: the refused value, if known), in a
/// transaction of its own: call it after dropping the sign-in's.
pub async fn record_clone<R: Roles>(
    ctx: &EndpointCtx<'_>,
    factor: &FactorModel<R>,
    counter: Option<i64>,
) -> Result<(), ApiError> {
    let data = json!({
        "factor_id": factor.id(),
        "kind": "passkey",
        "sign_count": counter,
        "stored_sign_count": factor.sign_count(),
    });
    let tx = ctx.runtime().begin_write().await?;
    let event = EventType::PasskeyCloneSuspected;
    security_events::record::<R>(&*tx, ctx.tenant()?, factor.user_id(), event, &Origin::of(ctx), data).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
