//! Field checks generated `validate()` methods call; every failing field is reported at once.

use crate::error::{ApiError, FieldError};

/// The declared constraints of an entity's string-valued fields (`string`, `text`, `enum` and
/// virtual string inputs: lengths, format, pattern, enum values, no control characters),
/// implemented by generated code on each entity from `schema.yaml`. The generated `validate()`
/// of every body type calls it, and so does runtime code that writes those fields without a
/// generated body (the account API), so both apply the same checks.
pub trait FieldChecks {
    /// Checks `value` against the constraints of field `field`, reporting failures under
    /// `field`; a field without string constraints passes.
    fn check_str(checks: &mut Checks, field: &str, value: &str);
}

/// Whether `value` holds a control character: C0 (including NUL), DEL or C1 (Unicode `Cc`).
pub fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// Collects field errors.
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    /// Reports `field` as failing with `detail`.
    pub fn fail(&mut self, field: &str, detail: String) {
        self.errors.push(FieldError { field: field.to_owned(), detail });
    }

    /// Whether nothing failed so far.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Checks `value` against the declared constraints of `E`'s field `field` (see [`FieldChecks`]).
    pub fn field<E: FieldChecks>(&mut self, field: &str, value: &str) {
        E::check_str(self, field, value);
    }

    /// Checks `value`, about to be stored in `column`, against that column's declared constraints
    /// (see [`FieldChecks`]), reporting failures under the column's name.
    pub fn column<E: sea_orm::EntityTrait + FieldChecks, T>(&mut self, column: crate::crud::Col<E, T>, value: &str) {
        E::check_str(self, column.name(), value);
    }

    /// Runs `check` and reports what it finds under `label` instead of the field names it uses
    /// (e.g. the `password` constraints applied to `new_password`).
    pub fn relabel(&mut self, label: &str, check: impl FnOnce(&mut Checks)) {
        let mut inner = Checks::default();
        check(&mut inner);
        for error in inner.errors {
            self.fail(label, error.detail);
        }
    }

    /// At most `max` characters.
    pub fn max_len(&mut self, field: &str, value: &str, max: u32) {
        let count = value.chars().count();
        if count > max as usize {
            self.fail(field, format!("must be at most {max} characters; it has {count}"));
        }
    }

    /// At least `min` characters.
    pub fn min_len(&mut self, field: &str, value: &str, min: u32) {
        if value.chars().count() < min as usize {
            self.fail(field, format!("must be at least {min} characters"));
        }
    }

    /// No control characters at all (Unicode `Cc`: NUL, the other C0 controls, DEL, C1): the
    /// rule of single-line `string` fields and list items.
    pub fn single_line(&mut self, field: &str, value: &str) {
        if has_control(value) {
            self.fail(field, "must not contain control characters".into());
        }
    }

    /// No control characters other than tab, line feed and carriage return: the rule of `text`
    /// fields, which may span lines.
    pub fn multi_line(&mut self, field: &str, value: &str) {
        if value.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
            self.fail(field, "must not contain control characters other than tab and line breaks".into());
        }
    }

    /// Every item of a `strings` field is single-line (see [`Checks::single_line`]).
    pub fn items(&mut self, field: &str, values: &[String]) {
        if values.iter().any(|value| has_control(value)) {
            self.fail(field, "items must not contain control characters".into());
        }
    }

    /// A `json` value holds no U+0000 in any string or key: PostgreSQL cannot store it.
    pub fn json(&mut self, field: &str, value: &serde_json::Value) {
        fn has_nul(value: &serde_json::Value) -> bool {
            match value {
                serde_json::Value::String(text) => text.contains('\0'),
                serde_json::Value::Array(items) => items.iter().any(has_nul),
                serde_json::Value::Object(members) => members.iter().any(|(key, v)| key.contains('\0') || has_nul(v)),
                _ => false,
            }
        }
        if has_nul(value) {
            self.fail(field, "must not contain U+0000".into());
        }
    }

    /// At least `min`.
    pub fn at_least(&mut self, field: &str, value: i64, min: i64) {
        if value < min {
            self.fail(field, format!("must be at least {min}"));
        }
    }

    /// At most `max`.
    pub fn at_most(&mut self, field: &str, value: i64, max: i64) {
        if value > max {
            self.fail(field, format!("must be at most {max}"));
        }
    }

    /// A plausible email address: one `@` with text on both sides and a dot in the domain.
    pub fn email(&mut self, field: &str, value: &str) {
        let valid = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if !valid {
            self.fail(field, "must be an email address".into());
        }
    }

    /// A URI with a scheme (RFC 3986 §3), parsed by [`crate::uri::uri`].
    pub fn uri(&mut self, field: &str, value: &str) {
        if let Err(error) = crate::uri::uri(value) {
            self.fail(field, format!("must be a URI with a scheme; `{value}` {error}"));
        }
    }

    /// Lowercase letters, digits and single inner dashes.
    pub fn slug(&mut self, field: &str, value: &str) {
        let valid = !value.is_empty()
            && value
                .split('-')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        if !valid {
            self.fail(field, "must be lowercase letters and digits, optionally joined by single dashes".into());
        }
    }

    /// One of `values`.
    pub fn one_of(&mut self, field: &str, value: &str, values: &[&str]) {
        if !values.contains(&value) {
            self.fail(field, format!("must be one of: {}", values.join(", ")));
        }
    }

    /// Ok, or a 422 listing every failed field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::invalid_fields(self.errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_failing_field() {
        let mut checks = Checks::default();
        checks.max_len("name", "abcdef", 3);
        checks.email("email", "not-an-email");
        checks.slug("slug", "Bad Slug");
        checks.slug("ok", "good-slug-2");
        checks.uri("uri", "https://example.com/cb");
        checks.uri("urn", "urn:example:thing");
        checks.uri("relative", "/cb");
        checks.uri("spaced", "https://example.com/a b");
        let error = checks.finish().unwrap_err();
        let fields: Vec<_> = error.field_errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "slug", "relative", "spaced"]);
    }

    #[test]
    fn control_characters_are_refused_except_line_breaks_in_text() {
        let mut checks = Checks::default();
        checks.single_line("nul", "a\0b");
        checks.single_line("c1", "a\u{85}b");
        checks.single_line("del", "a\u{7f}");
        checks.single_line("ok", "Zoë Ünïcode ☃");
        checks.multi_line("text_ok", "line one\r\n\tline two");
        checks.multi_line("text_nul", "line\0");
        checks.items("list", &["fine".into(), "bad\u{1b}".into()]);
        checks.json("json_ok", &serde_json::json!({"a": ["b\n"]}));
        checks.json("json_nul", &serde_json::json!({"k\0": 1}));
        let error = checks.finish().unwrap_err();
        let fields: Vec<_> = error.field_errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["nul", "c1", "del", "text_nul", "list", "json_nul"]);
    }
}
