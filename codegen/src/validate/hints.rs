//! Wording shared by every check: "did you mean" suggestions, lists of names, identifier rules.

/// The closest candidate to `name`, for "did you mean" hints.
pub(crate) fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `did you mean `x`?` when a candidate is close to `name`.
pub(super) fn did_you_mean<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    suggest(name, candidates).map(|s| format!("did you mean `{s}`?"))
}

/// `` `a`, `b`, `c` ``.
pub(super) fn backticked<'c>(items: impl IntoIterator<Item = &'c str>) -> String {
    items.into_iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

/// Lowercase letters, digits and underscores, starting with a letter: valid as a Rust
/// identifier, a column, a JSON key and part of a route name.
pub(super) fn is_snake_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_nearest_name() {
        assert_eq!(suggest("hash_pwd", ["hash_pw", "generate_api_key"]), Some("hash_pw"));
        assert_eq!(suggest("zzz", ["hash_pw"]), None);
    }

    #[test]
    fn snake_identifiers_start_with_a_lowercase_letter() {
        assert!(is_snake_identifier("api_key2"));
        assert!(!is_snake_identifier("Nick"));
        assert!(!is_snake_identifier("2fa"));
        assert!(!is_snake_identifier("api-key"));
    }
}
