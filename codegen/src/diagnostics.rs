//! Located, accumulated schema errors, rendered the way rustc renders its own.
//!
//! Every check in the generator pushes into a [`Diagnostics`] value instead of returning early, so a
//! user sees all the mistakes in `schema.yaml` in one build.

use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

use crate::catalogue::Code;
use crate::span::Pos;

/// One problem in the schema, with where it is and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. [`Code::UnknownHook`]; shown as `error[schema::unknown-hook]`.
    pub code: Code,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// Where it is.
    pub pos: Pos,
    /// Short text under the caret.
    pub label: String,
    /// What to write instead, when the generator can tell (by default the code's standard hint).
    pub help: Option<String>,
}

impl Diagnostic {
    /// A new error at `pos`, with the code's standard hint if it has one.
    pub fn error(code: Code, pos: Pos, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), pos, label: String::new(), help: code.hint().map(str::to_owned) }
    }

    /// Sets the text shown under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the hint line, instead of the standard one.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the hint line when there is one; otherwise keeps the standard one.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// `schema.yaml:LINE:COL: message (help: ...)`, for cargo's one-line `error:` output.
    pub fn one_line(&self, file_name: &str) -> String {
        let mut line = format!("{file_name}:{}:{}: {}", self.pos.line, self.pos.column, self.message);
        if let Some(help) = &self.help {
            line.push_str(" (help: ");
            line.push_str(help);
            line.push(')');
        }
        line
    }
}

/// All the problems found in one schema, sorted by position.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// Records a problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in source order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn sorted(mut self) -> Self {
        self.0.sort_by_key(|d| (d.pos.line, d.pos.column));
        self.0.dedup();
        self
    }

    /// Renders every problem like rustc does, without colour, with source excerpts.
    pub fn render(&self, file_name: &str, source: &str) -> String {
        let file = SimpleFile::new(file_name, source);
        let config = Config::default();
        let mut out = String::new();
        for diagnostic in &self.0 {
            let range = byte_range(source, diagnostic.pos);
            let mut report = Report::error()
                .with_code(format!("schema::{}", diagnostic.code))
                .with_message(&diagnostic.message)
                .with_labels(vec![Label::primary((), range).with_message(&diagnostic.label)]);
            if let Some(help) = &diagnostic.help {
                report = report.with_notes(vec![format!("help: {help}")]);
            }
            let mut buffer = String::new();
            // Writing into a String cannot fail; an error here would only mean a bad range, which
            // `byte_range` rules out, so fall back to the one-line form rather than panic.
            match term::emit_to_string(&mut buffer, &config, &file, &report) {
                Ok(()) => out.push_str(&buffer),
                Err(_) => {
                    out.push_str(&diagnostic.one_line(file_name));
                    out.push('\n');
                }
            }
        }
        let count = self.0.len();
        out.push_str(&format!(
            "{file_name}: {count} error{} in the schema; nothing was generated\n",
            if count == 1 { "" } else { "s" }
        ));
        out
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The bytes a caret should cover: from the position to the end of the token that starts there.
fn byte_range(source: &str, pos: Pos) -> Range<usize> {
    let Some(line_text) = source.split_inclusive('\n').nth(pos.line.saturating_sub(1)) else {
        return source.len()..source.len();
    };
    let line_start = source.split_inclusive('\n').take(pos.line.saturating_sub(1)).map(str::len).sum::<usize>();
    let column_byte = line_text
        .char_indices()
        .nth(pos.column.saturating_sub(1))
        .map(|(index, _)| index)
        .unwrap_or(line_text.trim_end_matches('\n').len());
    let rest = &line_text[column_byte..];
    let token_len = token_length(rest);
    let start = line_start + column_byte;
    start..start + token_len
}

/// Length of the YAML token at the start of `rest`: a quoted string or a bare word.
fn token_length(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    match chars.next() {
        Some((_, quote @ ('"' | '\''))) => {
            chars.find(|&(_, c)| c == quote).map(|(index, c)| index + c.len_utf8()).unwrap_or(rest.trim_end().len())
        }
        Some(_) => rest
            .char_indices()
            .find(|&(_, c)| matches!(c, ',' | '}' | ']' | '\n' | '\r' | '#') || (c == ':'))
            .map(|(index, _)| index)
            .unwrap_or(rest.len())
            .max(1)
            .min(rest.trim_end().len().max(1)),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_covers_the_word_at_the_position() {
        let source = "a: 1\nhooks: [hsh_pw, x]\n";
        let range = byte_range(source, Pos { line: 2, column: 9 });
        assert_eq!(&source[range], "hsh_pw");
    }

    #[test]
    fn caret_covers_a_quoted_string() {
        let source = "name: \"two words\"\n";
        let range = byte_range(source, Pos { line: 1, column: 7 });
        assert_eq!(&source[range], "\"two words\"");
    }
}
