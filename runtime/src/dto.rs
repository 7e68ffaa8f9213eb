//! Serde helpers for generated request bodies.

use serde::{Deserialize, Deserializer};

/// For nullable fields of update bodies, with `#[serde(default)]`: absent → `None` (keep),
/// `null` → `Some(None)` (clear), a value → `Some(Some(value))` (set).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
