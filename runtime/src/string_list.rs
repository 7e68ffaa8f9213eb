//! Column types that are not plain scalars.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// A list of strings (schema type `strings`), stored as a JSON array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);
