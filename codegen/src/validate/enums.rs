//! The Rust enum of each `enum` field.
//!
//! A field some role reads through a runtime vocabulary enum (`fn token_endpoint_auth_method(&self)
//! -> ClientAuthMethod`) is stored as that enum, so protocol code, hooks and generated code share
//! one type; every value the schema allows must be one of its wire values (`role-enum-values`,
//! at the value). Any other `enum` field gets an enum generated in its entity's module, one
//! variant per value (`book::Condition::Good`). Which fields roles read this way is known from
//! the entities' `plays:` (or names) and the role signatures alone, so it is settled before entities are read, and hook
//! bindings are checked against the final types.

use std::collections::HashMap;

use heck::ToUpperCamelCase;
use marked_yaml::Spanned;

use super::{Cx, backticked};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::hooks::{HookCatalog, ParamType, RoleSig, VocabSig};
use crate::ir::{EnumType, Field, FieldType, RuntimeEnum};
use crate::schema::SchemaFile;
use crate::span::Pos;

/// The names sea-orm's derives define in every entity module, which no enum type may take.
const ENTITY_MODULE_NAMES: &[&str] =
    &["Model", "ActiveModel", "Entity", "Column", "PrimaryKey", "Relation", "TypedColumn"];

/// A stored field that a role reads through a runtime vocabulary enum.
pub(super) struct RoleEnum<'a> {
    vocab: &'a VocabSig,
    /// The role (snake_case) whose binding names the enum first.
    role: &'a str,
}

/// `(entity, field)` → the runtime enum a role reads it as.
pub(super) type RoleEnums<'a> = HashMap<(String, String), RoleEnum<'a>>;

/// Every field an entity playing a role (`plays:`, or by its name) offers to a role that reads, queries or creates it as a vocabulary
/// enum. The first role to name a field decides; a role naming it as another type is reported
/// when its binding is checked. Unknown roles and type names are reported there too.
pub(super) fn role_enums<'a>(file: &SchemaFile, catalog: &'a HookCatalog) -> RoleEnums<'a> {
    let mut found = RoleEnums::new();
    for (role_name, entity, _) in super::roles::role_offers(catalog, file) {
        let Some(role) = catalog.role(role_name) else { continue };
        for (field, ty) in typed_fields(catalog, role) {
            let Some(vocab) = ty.named.as_deref().and_then(|name| catalog.vocab(name)) else { continue };
            found.entry((entity.to_string(), field.to_owned())).or_insert(RoleEnum { vocab, role: role.name.as_str() });
        }
    }
    found
}

/// What a role reads, queries and creates: accessors, column handles, constructor fields.
fn typed_fields<'a>(catalog: &'a HookCatalog, role: &'a RoleSig) -> impl Iterator<Item = (&'a str, &'a ParamType)> {
    let accessors = role.fields.iter().map(|f| (f.name.as_str(), &f.ty));
    let handles =
        catalog.columns(&role.trait_name).into_iter().flat_map(|c| &c.handles).map(|h| (h.field.as_str(), &h.ty));
    let constructor =
        catalog.constructor(&role.trait_name).into_iter().flat_map(|c| &c.params).map(|(name, ty)| (name.as_str(), ty));
    accessors.chain(handles).chain(constructor)
}

impl Cx<'_> {
    /// `ty` with its Rust enum, when it is an `enum` field of `entity`; other types unchanged.
    pub(super) fn enum_rust(
        &mut self,
        entity: &str,
        field: &Spanned<String>,
        values: &[Spanned<String>],
        ty: FieldType,
    ) -> FieldType {
        let FieldType::Enum { values: names, .. } = ty else { return ty };
        let name = field.to_upper_camel_case();
        let path = format!("crate::entities::{entity}::{name}");
        let (variants, runtime) = match self.role_enums.get(&(entity.to_owned(), field.to_string())) {
            Some(role_enum) => {
                let (vocab, role) = (role_enum.vocab, role_enum.role.to_owned());
                self.check_runtime_values(entity, field, values, vocab, &role);
                let variants = names.iter().map(|v| vocab.variant(v).unwrap_or_default().to_owned()).collect();
                (variants, Some(RuntimeEnum { name: vocab.name.clone(), path: vocab.path.clone(), role }))
            }
            None => {
                self.check_type_name(entity, field, &name);
                (self.generated_variants(values), None)
            }
        };
        FieldType::Enum { values: names, rust: EnumType { name, path, variants, runtime } }
    }

    /// Every value is a wire value of the runtime enum the field is stored as.
    fn check_runtime_values(
        &mut self,
        entity: &str,
        field: &Spanned<String>,
        values: &[Spanned<String>],
        vocab: &VocabSig,
        role: &str,
    ) {
        let unknown: Vec<&Spanned<String>> = values.iter().filter(|v| vocab.variant(v).is_none()).collect();
        let Some(first) = unknown.first() else { return };
        let listed = backticked(unknown.iter().map(|v| v.as_str()));
        let (subject, verb) = if unknown.len() == 1 { (listed, "is not a value") } else { (listed, "are not values") };
        self.error(
            Diagnostic::error(
                Code::RoleEnumValues,
                Pos::of(*first),
                format!(
                    "{subject} {verb} of `{}`, which role `{role}` reads `{entity}.{}` as",
                    vocab.name,
                    field.as_str()
                ),
            )
            .label("the runtime has no such value")
            .help(format!(
                "`{}` has {}; the schema may allow fewer of them, but no others",
                vocab.name,
                backticked(vocab.values())
            )),
        );
    }

    /// The generated type's name is free in the entity's module.
    fn check_type_name(&mut self, entity: &str, field: &Spanned<String>, name: &str) {
        if !ENTITY_MODULE_NAMES.contains(&name) {
            return;
        }
        self.error(
            Diagnostic::error(
                Code::BadEnumValue,
                Pos::of(field),
                format!(
                    "enum field `{}` would generate a type `{name}`, which module `{entity}` already has",
                    field.as_str()
                ),
            )
            .label("the field's name names its Rust enum")
            .help(format!("rename the field; {} are taken", backticked(ENTITY_MODULE_NAMES.iter().copied()))),
        );
    }

    /// One variant per value, the value in UpperCamelCase (`V` before a leading digit); a value
    /// without one, or with another value's, is reported at the value.
    fn generated_variants(&mut self, values: &[Spanned<String>]) -> Vec<String> {
        let mut variants: Vec<String> = Vec::with_capacity(values.len());
        for value in values {
            let variant = variant_name(value);
            let problem = if !is_variant(&variant) {
                Some("gives no Rust variant name: it needs ASCII letters or digits".to_owned())
            } else {
                variants
                    .iter()
                    .position(|v| *v == variant)
                    .map(|i| format!("reads as variant `{variant}`, like `{}`", values[i].as_str()))
            };
            if let Some(problem) = problem {
                self.error(
                    Diagnostic::error(
                        Code::BadEnumValue,
                        Pos::of(value),
                        format!("enum value `{}` {problem}", value.as_str()),
                    )
                    .label("names the Rust variant")
                    .help("values become variants in UpperCamelCase (`client_secret_basic` is `ClientSecretBasic`)"),
                );
            }
            variants.push(variant);
        }
        variants
    }
}

/// What a stored field holds, for messages: `` nullable `string` ``, `` `enum` (`Algorithm`) ``.
pub(super) fn describe_field(field: &Field) -> String {
    let nullable = if field.nullable { "nullable " } else { "" };
    match &field.ty {
        FieldType::Enum { rust: EnumType { runtime: Some(runtime), .. }, .. } => {
            format!("{nullable}`enum` (`{}`)", runtime.name)
        }
        ty => format!("{nullable}`{}`", ty.as_str()),
    }
}

/// What a column handle or hook parameter takes, in the words of [`describe_field`].
pub(super) fn describe_param(ty: &ParamType) -> String {
    let nullable = if ty.nullable { "nullable " } else { "" };
    let schema = ty.accepts.first().copied().unwrap_or("?");
    match &ty.named {
        Some(name) => format!("{nullable}`{schema}` (`{name}`)"),
        None => format!("{nullable}`{schema}`"),
    }
}

/// Why `ty` names no type the generator knows, if it does not: a name that is no `wire_enum!`
/// of the hook modules. Completes "reads `FIELD` as ...".
pub(super) fn unknown_type(catalog: &HookCatalog, ty: &ParamType) -> Option<String> {
    let name = ty.named.as_deref()?;
    catalog.vocab(name).is_none().then(|| format!("`{name}`, which is no `wire_enum!` of the hook modules"))
}

/// `client_secret_basic` → `ClientSecretBasic`, `2fa` → `V2fa`.
fn variant_name(value: &str) -> String {
    let camel = value.to_upper_camel_case();
    if camel.starts_with(|c: char| c.is_ascii_digit()) { format!("V{camel}") } else { camel }
}

/// An ASCII identifier that is no keyword (`Self` is the one in UpperCamelCase).
fn is_variant(name: &str) -> bool {
    name.is_ascii() && syn::parse_str::<syn::Ident>(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_variants() {
        assert_eq!(variant_name("client_secret_basic"), "ClientSecretBasic");
        assert_eq!(variant_name("dark-ish"), "DarkIsh");
        assert_eq!(variant_name("2fa"), "V2fa");
        assert!(is_variant("V2fa") && !is_variant("") && !is_variant("Self") && !is_variant("Ünï"));
        assert_eq!(variant_name("RS256"), "Rs256");
    }
}
