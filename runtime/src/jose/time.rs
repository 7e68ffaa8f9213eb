//! The time claims of a JWT signed by someone else (client assertions; later request objects
//! and DPoP proofs): `exp`, `nbf` and `iat` (RFC 7519 §4.1.4–§4.1.6), checked in one place with
//! one clock-skew allowance.

use serde_json::Value;

/// How far (seconds) the signer's clock may be from ours: `exp` is honoured this long after it
/// passed, `nbf` and `iat` this long before they arrive (RFC 7519 §4.1.4 and §4.1.5 allow "some
/// small leeway, usually no more than a few minutes, to account for clock skew").
pub const CLOCK_SKEW: i64 = 60;

/// A JWT's `exp`, `nbf` and `iat` as NumericDates (RFC 7519 §2: seconds since the epoch, a
/// JSON number, possibly fractional). Fractions are rounded toward refusal: `exp` down, `nbf`
/// and `iat` up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeClaims {
    /// `exp`: the token must not be accepted at or after this time (§4.1.4).
    pub exp: Option<i64>,
    /// `nbf`: the token must not be accepted before this time (§4.1.5).
    pub nbf: Option<i64>,
    /// `iat`: when the token was issued (§4.1.6); a time in the future is refused.
    pub iat: Option<i64>,
}

/// Why a token's time claims refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeClaimError {
    /// The claim is present but not a JSON number.
    #[error("`{0}` is not a NumericDate")]
    NotNumeric(&'static str),
    /// A claim the caller requires is absent.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// `exp` has passed, beyond the allowance.
    #[error("the token has expired")]
    Expired,
    /// `nbf` has not arrived, beyond the allowance.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future, beyond the allowance.
    #[error("the token was issued in the future")]
    IssuedInFuture,
}

impl TimeClaims {
    /// Reads the time claims of a JWT claims set; each may be absent, but one that is present
    /// must be a number.
    pub fn of(claims: &Value) -> Result<Self, TimeClaimError> {
        Ok(Self {
            exp: numeric_date(claims, "exp", f64::floor)?,
            nbf: numeric_date(claims, "nbf", f64::ceil)?,
            iat: numeric_date(claims, "iat", f64::ceil)?,
        })
    }

    /// `exp`, which RFC 7523 §3 (and most profiles) require.
    pub fn require_exp(&self) -> Result<i64, TimeClaimError> {
        self.exp.ok_or(TimeClaimError::Missing("exp"))
    }

    /// Whether the token is acceptable at `now` (seconds since the epoch), allowing `skew`
    /// seconds of clock difference either way.
    pub fn check(&self, now: i64, skew: i64) -> Result<(), TimeClaimError> {
        if self.exp.is_some_and(|exp| now >= exp.saturating_add(skew)) {
            return Err(TimeClaimError::Expired);
        }
        if self.nbf.is_some_and(|nbf| now.saturating_add(skew) < nbf) {
            return Err(TimeClaimError::NotYetValid);
        }
        if self.iat.is_some_and(|iat| now.saturating_add(skew) < iat) {
            return Err(TimeClaimError::IssuedInFuture);
        }
        Ok(())
    }
}

fn numeric_date(claims: &Value, name: &'static str, round: fn(f64) -> f64) -> Result<Option<i64>, TimeClaimError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => match value.as_i64() {
            Some(seconds) => Ok(Some(seconds)),
            // `as` saturates: absurdly large dates become i64::MAX / MIN, which still compare.
            None => value.as_f64().map(|seconds| Some(round(seconds) as i64)).ok_or(TimeClaimError::NotNumeric(name)),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000;
    const DAY: i64 = 86_400;

    fn check(claims: Value) -> Result<(), TimeClaimError> {
        TimeClaims::of(&claims)?.check(NOW, CLOCK_SKEW)
    }

    #[test]
    fn times_within_the_allowance_are_accepted() {
        assert_eq!(check(json!({ "exp": NOW + 60, "nbf": NOW, "iat": NOW })), Ok(()));
        assert_eq!(check(json!({ "exp": NOW - CLOCK_SKEW + 1 })), Ok(()), "expired, but within the skew");
        assert_eq!(check(json!({ "nbf": NOW + CLOCK_SKEW, "iat": NOW + CLOCK_SKEW })), Ok(()));
        assert_eq!(check(json!({ "exp": (NOW + 60) as f64 + 0.5, "iat": NOW as f64 - 0.5 })), Ok(()));
        assert_eq!(check(json!({})), Ok(()), "each claim is optional here");
    }

    #[test]
    fn times_beyond_the_allowance_are_refused() {
        assert_eq!(check(json!({ "exp": NOW - CLOCK_SKEW })), Err(TimeClaimError::Expired));
        assert_eq!(check(json!({ "exp": NOW - DAY })), Err(TimeClaimError::Expired));
        assert_eq!(check(json!({ "exp": NOW + 60, "nbf": NOW + DAY })), Err(TimeClaimError::NotYetValid));
        assert_eq!(check(json!({ "exp": NOW + 60, "iat": NOW + DAY })), Err(TimeClaimError::IssuedInFuture));
        assert_eq!(check(json!({ "nbf": NOW + CLOCK_SKEW + 1 })), Err(TimeClaimError::NotYetValid));
        assert_eq!(check(json!({ "exp": i64::MIN })), Err(TimeClaimError::Expired));
        assert_eq!(check(json!({ "nbf": 1e300 })), Err(TimeClaimError::NotYetValid));
    }

    #[test]
    fn non_numeric_dates_are_refused() {
        for (name, value) in [("exp", json!("1700000060")), ("nbf", json!(null)), ("iat", json!(true))] {
            let mut claims = json!({});
            claims[name] = value;
            assert_eq!(TimeClaims::of(&claims), Err(TimeClaimError::NotNumeric(name)), "{claims}");
        }
        assert_eq!(TimeClaims::of(&json!({})).unwrap().require_exp(), Err(TimeClaimError::Missing("exp")));
    }
}
