//! `GET` collection queries: equality filters, one sort key, cursor pagination with a capped page.
//!
//! Cursors are opaque to clients: base64url of the sort key, direction, and the last row's sort
//! value and id. Pagination is keyset-based, so pages stay stable while rows are added.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

/// Value types usable as filters and sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// UUID.
    Uuid,
    /// String or text.
    String,
    /// One of these values (a schema `enum`, stored as its wire value).
    Enum(&'static [&'static str]),
    /// 64-bit integer.
    Integer,
    /// Boolean.
    Bool,
    /// RFC 3339 timestamp.
    Timestamp,
}

/// What a list op accepts; generated from the schema.
#[derive(Debug)]
pub struct ListSpec {
    /// Filterable fields.
    pub filters: &'static [(&'static str, FieldKind)],
    /// Sortable fields; the first is the default.
    pub sort: &'static [(&'static str, FieldKind)],
    /// Page size without `?limit=`.
    pub page_size: u64,
    /// Largest `?limit=`.
    pub max_page_size: u64,
}

/// A parsed list query.
#[derive(Debug)]
pub struct ListQuery {
    /// `(field, value)` equality filters.
    pub filters: Vec<(&'static str, Value)>,
    /// Sort field.
    pub sort: &'static str,
    /// Whether the order is descending.
    pub descending: bool,
    /// Page size.
    pub limit: u64,
    /// Where the previous page ended.
    pub after: Option<Cursor>,
}

/// Where a page ended.
#[derive(Debug, Clone)]
pub struct Cursor {
    sort: String,
    descending: bool,
    /// Sort value of the last row.
    pub value: Value,
    /// Primary key of the last row.
    pub id: Value,
}

#[derive(Serialize, Deserialize)]
struct CursorWire {
    s: String,
    d: bool,
    v: Option<String>,
    i: String,
}

/// One page of results.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Converts every row.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

impl ListQuery {
    /// Like [`ListQuery::parse`], but without a `sort=` the first sort key is descending (newest
    /// first); the cursors of that order carry it, so later pages agree.
    pub fn parse_newest_first(query: &str, spec: &ListSpec) -> Result<Self, ApiError> {
        let sorted = form_urlencoded::parse(query.as_bytes()).any(|(key, value)| key == "sort" && !value.is_empty());
        match spec.sort.first() {
            Some((first, _)) if !sorted => Self::parse(&format!("{query}&sort=-{first}"), spec),
            _ => Self::parse(query, spec),
        }
    }

    /// Parses `?field=value&sort=-field&limit=N&cursor=...`; anything else is a 400.
    pub fn parse(query: &str, spec: &ListSpec) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        let (default_sort, _) =
            spec.sort.first().copied().ok_or_else(|| ApiError::internal("list spec without sort keys"))?;
        let mut parsed = ListQuery {
            filters: Vec::new(),
            sort: default_sort,
            descending: false,
            limit: spec.page_size,
            after: None,
        };
        let mut seen: Vec<String> = Vec::new();
        let mut cursor = None;
        for (key, value) in pairs {
            // An empty paging parameter (`?cursor=` from a form) means "not given".
            if value.is_empty() && matches!(key.as_str(), "limit" | "sort" | "cursor") {
                continue;
            }
            if seen.contains(&key) {
                return Err(ApiError::bad_request(format!("query parameter `{key}` is given twice")));
            }
            seen.push(key.clone());
            match key.as_str() {
                "limit" => {
                    parsed.limit =
                        value.parse::<u64>().ok().filter(|n| (1..=spec.max_page_size).contains(n)).ok_or_else(
                            || {
                                ApiError::bad_request(format!(
                                    "`limit` must be a whole number from 1 to {}",
                                    spec.max_page_size
                                ))
                            },
                        )?;
                }
                "sort" => {
                    let (descending, name) = match value.strip_prefix('-') {
                        Some(name) => (true, name),
                        None => (false, value.as_str()),
                    };
                    let (field, _) = spec.sort.iter().find(|(f, _)| *f == name).ok_or_else(|| {
                        let keys: Vec<_> = spec.sort.iter().map(|(f, _)| *f).collect();
                        ApiError::bad_request(format!("cannot sort by `{name}`; sort keys: {}", keys.join(", ")))
                    })?;
                    parsed.sort = field;
                    parsed.descending = descending;
                }
                "cursor" => cursor = Some(value),
                other => {
                    let Some((field, kind)) = spec.filters.iter().find(|(f, _)| *f == other) else {
                        let mut allowed: Vec<_> = spec.filters.iter().map(|(f, _)| *f).collect();
                        allowed.extend(["sort", "limit", "cursor"]);
                        return Err(ApiError::bad_request(format!(
                            "unknown query parameter `{other}`; accepted: {}",
                            allowed.join(", ")
                        )));
                    };
                    let value = parse_value(*kind, &value)
                        .ok_or_else(|| ApiError::bad_request(format!("`{field}` must be {}", describe(*kind))))?;
                    parsed.filters.push((field, value));
                }
            }
        }
        if let Some(cursor) = cursor {
            let kind = spec.sort.iter().find(|(f, _)| *f == parsed.sort).map(|(_, k)| *k).unwrap_or(FieldKind::String);
            parsed.after = Some(Cursor::decode(&cursor, &parsed, kind)?);
        }
        Ok(parsed)
    }
}

impl Cursor {
    pub(crate) fn after(query: &ListQuery, value: Value, id: Value) -> Self {
        Cursor { sort: query.sort.to_owned(), descending: query.descending, value, id }
    }

    /// The opaque form handed to clients.
    pub fn encode(&self) -> String {
        let wire = CursorWire {
            s: self.sort.clone(),
            d: self.descending,
            v: value_text(&self.value),
            i: value_text(&self.id).unwrap_or_default(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    fn decode(text: &str, query: &ListQuery, kind: FieldKind) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_request("`cursor` is not a cursor this list returned");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let wire: CursorWire = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if wire.s != query.sort || wire.d != query.descending {
            return Err(ApiError::bad_request(
                "`cursor` belongs to a different `sort`; keep the sort of the first page",
            ));
        }
        let value = wire.v.as_deref().and_then(|v| parse_value(kind, v)).ok_or_else(invalid)?;
        // Primary keys are UUIDs (the schema allows no other).
        let id = parse_value(FieldKind::Uuid, &wire.i).ok_or_else(invalid)?;
        Ok(Cursor { sort: wire.s, descending: wire.d, value, id })
    }
}

fn describe(kind: FieldKind) -> String {
    match kind {
        FieldKind::Uuid => "a UUID".into(),
        FieldKind::String => "a string without control characters".into(),
        FieldKind::Enum(values) => format!("one of: {}", values.join(", ")),
        FieldKind::Integer => "a whole number".into(),
        FieldKind::Bool => "`true` or `false`".into(),
        FieldKind::Timestamp => "an RFC 3339 timestamp".into(),
    }
}

fn parse_value(kind: FieldKind, text: &str) -> Option<Value> {
    Some(match kind {
        FieldKind::Uuid => Value::from(text.parse::<Uuid>().ok()?),
        // No stored string holds a control character, and PostgreSQL cannot compare with NUL.
        FieldKind::String if crate::check::has_control(text) => return None,
        FieldKind::String => Value::from(text.to_owned()),
        FieldKind::Enum(values) if values.contains(&text) => Value::from(text.to_owned()),
        FieldKind::Enum(_) => return None,
        FieldKind::Integer => Value::from(text.parse::<i64>().ok()?),
        FieldKind::Bool => Value::from(match text {
            "true" => true,
            "false" => false,
            _ => return None,
        }),
        FieldKind::Timestamp => Value::from(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc)),
    })
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Uuid(Some(v)) => Some(v.to_string()),
        Value::String(Some(v)) => Some(v.to_string()),
        Value::BigInt(Some(v)) => Some(v.to_string()),
        Value::Bool(Some(v)) => Some(v.to_string()),
        Value::ChronoDateTimeUtc(Some(v)) => Some(v.to_rfc3339_opts(SecondsFormat::Micros, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: ListSpec = ListSpec {
        filters: &[
            ("name", FieldKind::String),
            ("active", FieldKind::Bool),
            ("shade", FieldKind::Enum(&["light", "dark"])),
        ],
        sort: &[("created_at", FieldKind::Timestamp), ("name", FieldKind::String)],
        page_size: 50,
        max_page_size: 200,
    };

    #[test]
    fn parses_filters_sort_and_limit() {
        let query = ListQuery::parse("name=ann&active=true&shade=dark&sort=-name&limit=10", &SPEC).unwrap();
        assert_eq!(query.filters.len(), 3);
        assert_eq!(query.filters[2], ("shade", Value::from("dark".to_owned())));
        assert_eq!(query.sort, "name");
        assert!(query.descending);
        assert_eq!(query.limit, 10);
    }

    #[test]
    fn refuses_unknown_parameters_bad_values_and_oversized_pages() {
        let first_page = ListQuery::parse("cursor=&limit=&sort=", &SPEC).unwrap();
        assert!(first_page.after.is_none() && first_page.limit == 50 && first_page.sort == "created_at");
        for bad in [
            "colour=red",
            "active=yes",
            "limit=0",
            "limit=201",
            "sort=secret",
            "cursor=%%%",
            "name=a&name=b",
            "name=a%00",
            "shade=Dark",
        ] {
            let error = ListQuery::parse(bad, &SPEC).unwrap_err();
            assert_eq!(error.status().as_u16(), 400, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_stay_bound_to_their_sort() {
        let query = ListQuery::parse("sort=name", &SPEC).unwrap();
        let id = Uuid::new_v4();
        let cursor = Cursor::after(&query, Value::from("bob".to_owned()), Value::from(id)).encode();
        let next = ListQuery::parse(&format!("sort=name&cursor={cursor}"), &SPEC).unwrap();
        let after = next.after.unwrap();
        assert_eq!(after.id, Value::from(id));
        assert_eq!(after.value, Value::from("bob".to_owned()));
        assert!(ListQuery::parse(&format!("sort=-name&cursor={cursor}"), &SPEC).is_err());
        let not_a_uuid = URL_SAFE_NO_PAD.encode(br#"{"s":"name","d":false,"v":"bob","i":"x"}"#);
        assert!(ListQuery::parse(&format!("sort=name&cursor={not_a_uuid}"), &SPEC).is_err());
    }
}
