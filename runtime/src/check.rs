//! Field checks generated `validate()` methods call; every failing field is reported at once.

use crate::error::{ApiError, FieldError};

/// Collects field errors.
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    fn fail(&mut self, field: &str, detail: String) {
        self.errors.push(FieldError { field: field.to_owned(), detail });
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
}
