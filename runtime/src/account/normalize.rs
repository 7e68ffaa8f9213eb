//! One spelling per login name: usernames and emails are compared case-insensitively and in
//! Unicode normal form (NFKC), so `Ann`, `ann` and `ａｎｎ` are the same account.

use unicode_normalization::UnicodeNormalization;

/// The canonical form of a username or email: NFKC, lowercase, trimmed.
pub fn login_name(value: &str) -> String {
    value.trim().nfkc().collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_compatibility_forms_fold_together() {
        assert_eq!(login_name(" Ann@Example.COM "), "ann@example.com");
        assert_eq!(login_name("ａｎｎ"), "ann");
        assert_eq!(login_name("Å"), login_name("A\u{30a}"));
    }
}
