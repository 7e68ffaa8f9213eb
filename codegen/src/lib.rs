//! Keygate's build-time generator: `schema.yaml` in, plain Rust out.
//!
//! The pipeline is parse ([`schema`]) → check and resolve (`validate` into [`ir`]) → emit (one
//! module per artifact). Schema mistakes come back as [`Diagnostics`] with positions, never as a
//! panic; every code they carry is declared once in the [`catalogue`]. Hooks are discovered from the signatures of hand-written functions ([`hooks`]).
//!
//! ```
//! let runtime_hooks = "pub async fn noop(ctx: &mut PreCtx<'_>) -> HookResult { Ok(()) }";
//! let generator = keygate_codegen::Generator::new().hook_module("crate::hooks", runtime_hooks).unwrap();
//! let err = generator.generate("version: 1\nentities: {}\n").unwrap_err();
//! assert!(err.render("schema.yaml", "version: 1\nentities: {}\n").contains("declares no entities"));
//! ```

#![deny(missing_docs)]

pub mod build;
pub mod catalogue;
mod diagnostics;
mod emit;
pub mod hooks;
pub mod ir;
pub mod schema;
mod span;
mod validate;

pub use catalogue::Code;
pub use diagnostics::{Diagnostic, Diagnostics};
pub use hooks::{HookCatalog, HookSourceError};
pub use span::Pos;

use marked_yaml::LoaderOptions;

/// A generated file: its name inside the output directory and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name, e.g. `routes.rs`.
    pub name: String,
    /// Full contents.
    pub contents: String,
}

/// Turns a schema into code, given the hooks it may name.
#[derive(Debug, Default, Clone)]
pub struct Generator {
    catalog: HookCatalog,
}

impl Generator {
    /// A generator that knows no hooks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the hooks defined in `source` available, called through `module` (a Rust path such
    /// as `::keygate_runtime::hooks` or `crate::hooks`).
    pub fn hook_module(mut self, module: &str, source: &str) -> Result<Self, HookSourceError> {
        self.catalog.add_module(module, source)?;
        Ok(self)
    }

    /// The hooks known so far.
    pub fn hooks(&self) -> &HookCatalog {
        &self.catalog
    }

    /// Checks the schema and resolves it, without emitting code.
    pub fn check(&self, source: &str) -> Result<ir::Ir, Diagnostics> {
        let file = parse(source)?;
        validate::validate(file, &self.catalog)
    }

    /// Generates every file for the schema in `source`.
    pub fn generate(&self, source: &str) -> Result<Vec<GeneratedFile>, Diagnostics> {
        let ir = self.check(source)?;
        Ok(emit::emit_all(&ir))
    }
}

/// Parses `schema.yaml` into its serde model; YAML and shape errors come back located.
pub fn parse(source: &str) -> Result<schema::SchemaFile, Diagnostics> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    let node = marked_yaml::parse_yaml_with_options(0, source, options).map_err(|e| load_error(e, source))?;
    marked_yaml::from_node(&node).map_err(|error| shape_error(error.into_inner(), &node))
}

/// Where an unknown key is, when the deserializer could not say: among the mappings holding
/// `key`, the one whose other keys best fit the struct that rejected it (a mapping may hold
/// several unknown keys, so a perfect fit is not required).
fn find_unknown_key(node: &marked_yaml::Node, key: &str, expected: &[&str]) -> Option<Pos> {
    let mut best: Option<(usize, Pos)> = None;
    visit_mappings(node, &mut |mapping| {
        let Some(found) = mapping.keys().find(|k| k.as_str() == key) else { return };
        let fitting = mapping.keys().filter(|k| expected.contains(&k.as_str())).count();
        if best.as_ref().is_none_or(|(score, _)| fitting > *score) {
            best = Some((fitting, Pos::of_marker(found.span().start())));
        }
    });
    best.map(|(_, pos)| pos)
}

fn visit_mappings(node: &marked_yaml::Node, visit: &mut impl FnMut(&marked_yaml::types::MarkedMappingNode)) {
    match node {
        marked_yaml::Node::Mapping(mapping) => {
            visit(mapping);
            for child in mapping.values() {
                visit_mappings(child, visit);
            }
        }
        marked_yaml::Node::Sequence(items) => {
            for child in items.iter() {
                visit_mappings(child, visit);
            }
        }
        marked_yaml::Node::Scalar(_) => {}
    }
}

fn single(diagnostic: Diagnostic) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    diagnostics.push(diagnostic);
    diagnostics
}

fn load_error(error: marked_yaml::LoadError, source: &str) -> Diagnostics {
    use marked_yaml::LoadError as E;
    let diagnostic = match &error {
        E::ScanError(marker, scan) => {
            let pos = Pos::of_marker(Some(marker));
            let line = source.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
            // `http: PATCH /notes/{id}` inside `{ ... }` is the classic trap: braces open a mapping.
            let help = if line.matches('{').count() > 1 {
                "inside `{ ... }`, quote values that contain braces: `http: \"PATCH /notes/{id}\"`"
            } else {
                "check indentation and that every `{`, `[` and quote is closed"
            };
            Diagnostic::error(Code::YamlSyntax, pos, format!("invalid YAML: {}", scan.info()))
                .label("the YAML parser stopped here")
                .help(help)
        }
        E::DuplicateKey(inner) => {
            let first = Pos::of_marker(inner.prev_key.span().start());
            Diagnostic::error(
                Code::DuplicateKey,
                Pos::of_marker(inner.key.span().start()),
                format!("key `{}` appears twice in the same mapping", inner.key.as_str()),
            )
            .label("second occurrence")
            .help(format!("the first is at line {}; merge the two entries", first.line))
        }
        E::TopLevelMustBeMapping(marker) => {
            Diagnostic::error(Code::YamlShape, Pos::of_marker(Some(marker)), "the schema must be a YAML mapping")
                .label("expected `key: value` pairs")
                .help("start the file with `version: 1` and `entities:`")
        }
        E::UnexpectedAnchor(marker)
        | E::UnexpectedTag(marker)
        | E::MappingKeyMustBeScalar(marker)
        | E::TopLevelMustBeSequence(marker) => Diagnostic::error(
            Code::YamlShape,
            Pos::of_marker(Some(marker)),
            format!("unsupported YAML: {}", strip_marker(&error.to_string())),
        )
        .label("not allowed in a schema")
        .help("anchors, tags and complex keys are not part of the schema language"),
    };
    single(diagnostic)
}

fn strip_marker(message: &str) -> String {
    message.split_once(": ").map(|(_, rest)| rest.to_owned()).unwrap_or_else(|| message.to_owned())
}

fn shape_error(error: marked_yaml::Error, root: &marked_yaml::Node) -> Diagnostics {
    use marked_yaml::Error as E;
    let pos = Pos::of_marker(error.start_mark().as_ref());
    let diagnostic = match &error {
        E::UnknownFieldError(key, expected, _) => {
            let pos = match error.start_mark() {
                Some(_) => pos,
                None => find_unknown_key(root, key, expected).unwrap_or(pos),
            };
            let suggestion = validate::suggest(key, expected.iter().copied());
            Diagnostic::error(Code::UnknownKey, pos, format!("unknown key `{key}`"))
                .label("not part of the schema language here")
                .help(match suggestion {
                    Some(s) => format!("did you mean `{s}`? keys allowed here: {}", list(expected)),
                    None => format!("keys allowed here: {}", list(expected)),
                })
        }
        E::NotBoolean(_) => Diagnostic::error(Code::BadValue, pos, "expected `true` or `false`").label("not a boolean"),
        E::IntegerParseFailure(inner, _) => {
            Diagnostic::error(Code::BadValue, pos, format!("expected a whole number: {inner}")).label("not a number")
        }
        E::FloatParseFailure(inner, _) => {
            Diagnostic::error(Code::BadValue, pos, format!("expected a number: {inner}")).label("not a number")
        }
        E::Other(message, _) => {
            let message =
                message.replace("invalid type: ", "").replace("string \"", "`").replace("\", expected", "`, expected");
            Diagnostic::error(Code::BadValue, pos, message).label("does not fit here")
        }
    };
    single(diagnostic)
}

fn list(items: &[&str]) -> String {
    items.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}
