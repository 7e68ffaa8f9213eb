//! The bookshelf's own hook: the one piece of hand-written logic this service needs.

use keygate_runtime::hook_context::{Column, HookError, HookResult, Input, PreCtx};

/// Normalises an ISBN-13 (dashes and spaces removed) and checks its check digit.
pub async fn normalize_isbn(_ctx: &mut PreCtx<'_>, isbn_text: Input<String>, isbn: Column<'_, String>) -> HookResult {
    let Some(text) = isbn_text.into_inner() else { return Ok(()) };
    let digits: String = text.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    if digits.len() != 13 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(HookError::invalid("isbn_text", "must be an ISBN-13: 13 digits, dashes allowed"));
    }
    let sum: u32 = digits
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(index, digit)| if index.is_multiple_of(2) { digit } else { digit * 3 })
        .sum();
    if !sum.is_multiple_of(10) {
        return Err(HookError::invalid("isbn_text", "check digit does not match"));
    }
    isbn.set(digits);
    Ok(())
}
