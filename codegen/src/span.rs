//! Source positions in `schema.yaml`.

use marked_yaml::{Marker, Spanned};
use serde::Serialize;

/// A 1-based line and column in the schema file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Pos {
    pub(crate) fn of_marker(marker: Option<&Marker>) -> Self {
        marker.map(|m| Pos { line: m.line(), column: m.column() }).unwrap_or(Pos { line: 1, column: 1 })
    }

    pub(crate) fn of<T>(spanned: &Spanned<T>) -> Self {
        Self::of_marker(spanned.span().start())
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}
