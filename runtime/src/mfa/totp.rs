//! TOTP factors (RFC 6238) through `totp-rs`: HMAC-SHA-1, 6 digits, 30-second steps (§4, §5.2's
//! recommended values, which every authenticator app supports), a 160-bit random secret
//! (RFC 4226 §4 R6), ±1 step of clock drift (RFC 6238 §5.2), and the `otpauth://` URI
//! authenticator apps read, shown as an SVG QR code rendered here.

use qrcode::QrCode;
use qrcode::render::svg;
use rand::RngCore;
use totp_rs::{Builder, Totp};
use uuid::Uuid;

use crate::error::ApiError;

/// Seconds per step (RFC 6238 §5.2).
const STEP: u64 = 30;
/// Steps either side of now accepted for clock drift (RFC 6238 §5.2 recommends one).
const SKEW: u16 = 1;
/// Secret length in bytes (RFC 4226 §4 R6: 160 bits recommended).
const SECRET_BYTES: usize = 20;

/// A new TOTP secret, as the user's app needs it and as it is stored.
pub struct Enrolment {
    /// The secret in base32 (RFC 4648 §6, unpadded), for typing it in by hand.
    pub secret: String,
    /// The `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…` URI (Key Uri Format).
    pub uri: String,
    /// The URI as an SVG QR code (no external service, no script).
    pub qr_svg: String,
    /// The secret sealed under the master key, bound to the factor's id.
    pub sealed: String,
}

/// The sealing context of factor `id`'s secret: a sealed secret opens only in its own row.
fn context(id: Uuid) -> String {
    format!("mfa_factor:{id}")
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Result<Totp, ApiError> {
    // The Key Uri Format separates issuer and account with `:`; neither may hold one.
    let clean = |text: &str| text.replace(':', " ");
    Builder::new()
        .with_secret(secret)
        .with_skew(SKEW)
        .with_step_duration(STEP)
        .with_issuer(Some(clean(issuer)))
        .with_account_name(clean(account))
        .build()
        .map_err(ApiError::internal)
}

/// A fresh secret for factor `id`, labelled for `account` at `issuer` (what the app shows).
pub fn enrol(keys: &crate::keys::KeyStore, id: Uuid, issuer: &str, account: &str) -> Result<Enrolment, ApiError> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    let sealed = keys.seal_secret(&context(id), &secret).map_err(ApiError::internal)?;
    describe(secret, sealed, issuer, account)
}

/// The enrolment of factor `id` whose secret is `sealed` again: what its app needs, for a set-up
/// form shown anew before the factor is confirmed.
pub fn reopen(
    keys: &crate::keys::KeyStore,
    id: Uuid,
    sealed: &str,
    issuer: &str,
    account: &str,
) -> Result<Enrolment, ApiError> {
    let secret = keys.open_secret(&context(id), sealed).map_err(ApiError::internal)?;
    describe(secret, sealed.to_owned(), issuer, account)
}

fn describe(secret: Vec<u8>, sealed: String, issuer: &str, account: &str) -> Result<Enrolment, ApiError> {
    let totp = totp(secret, issuer, account)?;
    let uri = totp.to_url().map_err(ApiError::internal)?;
    let qr_svg = QrCode::new(uri.as_bytes())
        .map_err(ApiError::internal)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Ok(Enrolment { secret: totp.secret().to_base32(), uri, qr_svg, sealed })
}

/// The time step `code` belongs to, if it is right for the sealed secret of factor `id` at
/// `now` (Unix seconds) within ±1 step; compared in constant time by `totp-rs`. The caller
/// accepts the step only once ([`crate::crud::claim_below`]).
pub fn matching_step(
    keys: &crate::keys::KeyStore,
    id: Uuid,
    sealed: &str,
    code: &str,
    now: u64,
) -> Result<Option<i64>, ApiError> {
    let secret = keys.open_secret(&context(id), sealed).map_err(ApiError::internal)?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret, "x", "x")?;
    Ok(totp.check(&code, now).and_then(|step| i64::try_from(step).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::MasterKey;

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let keys = crate::keys::KeyStore::new(MasterKey::from_bytes(&[3u8; 32]).unwrap());
        let id = Uuid::new_v4();
        let enrolment = enrol(&keys, id, "acme", "ann:x").unwrap();
        assert!(enrolment.uri.starts_with("otpauth://totp/"), "{}", enrolment.uri);
        assert!(enrolment.qr_svg.contains("<svg"));
        let app = Totp::from_url(&enrolment.uri).unwrap();
        let now = 1_800_000_000;
        let code = app.generate(now).to_string();
        let step = (now / STEP) as i64;
        assert_eq!(matching_step(&keys, id, &enrolment.sealed, &code, now).unwrap(), Some(step));
        assert_eq!(matching_step(&keys, id, &enrolment.sealed, &code, now + STEP).unwrap(), Some(step));
        assert_eq!(matching_step(&keys, id, &enrolment.sealed, &code, now + 3 * STEP).unwrap(), None);
        assert!(matching_step(&keys, Uuid::new_v4(), &enrolment.sealed, &code, now).is_err(), "bound to its row");
        let again = reopen(&keys, id, &enrolment.sealed, "acme", "ann:x").unwrap();
        assert_eq!((again.secret, again.uri), (enrolment.secret, enrolment.uri));
    }
}
