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

/// For optional non-nullable fields, with `#[serde(default)]`: absent → `None` (keep, or the default), a
/// value → `Some(value)`, `null` → an error naming the field (the column cannot hold NULL).
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom("cannot be null")),
    }
}
