//! An entity's shorthands for the fields nearly every entity declares alike, expanded into
//! those fields before any other check reads them, so they are checked, stored and generated
//! exactly as if they had been written out:
//!
//! - `primary_key: id` is `id: { type: uuid, primary_key: true, default: uuid_v4 }`, first (a
//!   time-ordered `uuid_v7` key is written out);
//! - `timestamps: true` is `created_at: { type: timestamp, default: now, read_only: true }` and
//!   `updated_at: { type: timestamp, default: now, on_update: now, read_only: true }`, last;
//!   `timestamps: created_at` is the first of the two alone.
//!
//! A field a shorthand declares must not also be written out (`implicit-field`).

use indexmap::IndexMap;
use marked_yaml::{Span, Spanned};

use super::Cx;
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::schema::{EntityDef, FieldDef, Literal, Name, SchemaFile};
use crate::span::Pos;

/// The fields `timestamps:` declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timestamps {
    None,
    Created,
    CreatedAndUpdated,
}

impl Cx<'_> {
    /// Expands every entity's shorthands into its `fields`.
    pub(super) fn expand_shorthands(&mut self, file: &mut SchemaFile) {
        for def in file.entities.values_mut() {
            self.expand_primary_key(def);
            self.expand_timestamps(def);
        }
    }

    /// `primary_key: NAME`: the server-assigned UUID key, before every declared field.
    fn expand_primary_key(&mut self, def: &mut EntityDef) {
        let Some(name) = def.primary_key.clone() else { return };
        let mut fields = IndexMap::with_capacity(def.fields.len() + 1);
        let key = FieldDef {
            primary_key: Some(Spanned::new(*name.span(), true)),
            default: Some(Spanned::new(*name.span(), Literal::Scalar("uuid_v4".into()))),
            ..field_of_type(name.span(), "uuid")
        };
        fields.insert(name.clone(), key);
        for (field_name, field) in std::mem::take(&mut def.fields) {
            if field_name.as_str() == name.as_str() {
                self.declared_twice(&field_name, &format!("primary_key: {}", name.as_str()));
                continue;
            }
            fields.insert(field_name, field);
        }
        def.fields = fields;
    }

    /// `timestamps:`: `created_at` (and `updated_at`), after every declared field.
    fn expand_timestamps(&mut self, def: &mut EntityDef) {
        let Some(value) = def.timestamps.clone() else { return };
        let which = self.timestamps(&value);
        let span = value.span();
        let mut declared = Vec::new();
        if which != Timestamps::None {
            declared.push(("created_at", FieldDef { read_only: Some(Spanned::new(*span, true)), ..now_field(span) }));
        }
        if which == Timestamps::CreatedAndUpdated {
            let updated_at = FieldDef {
                on_update: Some(Spanned::new(*span, "now".to_owned())),
                read_only: Some(Spanned::new(*span, true)),
                ..now_field(span)
            };
            declared.push(("updated_at", updated_at));
        }
        let written = match &*value {
            Literal::Scalar(word) => format!("timestamps: {word}"),
            Literal::List(_) => "timestamps".to_owned(),
        };
        for (name, field) in declared {
            if let Some(key) = def.fields.keys().find(|k| k.as_str() == name).cloned() {
                self.declared_twice(&key, &written);
                def.fields.shift_remove(name);
            }
            def.fields.insert(Spanned::new(*span, name.to_owned()), field);
        }
    }

    /// `true`, `created_at` or `false`.
    fn timestamps(&mut self, value: &Spanned<Literal>) -> Timestamps {
        match &**value {
            Literal::Scalar(word) if word == "true" => Timestamps::CreatedAndUpdated,
            Literal::Scalar(word) if word == "created_at" => Timestamps::Created,
            Literal::Scalar(word) if word == "false" => Timestamps::None,
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::BadValue,
                        Pos::of(value),
                        "`timestamps` is `true`, `created_at` or `false`",
                    )
                    .label("not a timestamps setting")
                    .help("`true` declares `created_at` and `updated_at`; `created_at` declares that one only"),
                );
                Timestamps::None
            }
        }
    }

    /// A field written out that a shorthand already declares.
    fn declared_twice(&mut self, field: &Name, shorthand: &str) {
        self.error(
            Diagnostic::error(
                Code::ImplicitField,
                Pos::of(field),
                format!("`{}` is declared by `{shorthand}`; do not declare it", field.as_str()),
            )
            .label("declared twice")
            .help(format!("remove this field, or drop `{shorthand}` and write every field it declares")),
        );
    }
}

/// A field of type `ty` with no other setting, located at `span`.
fn field_of_type(span: &Span, ty: &str) -> FieldDef {
    FieldDef {
        ty: Some(Spanned::new(*span, ty.to_owned())),
        values: None,
        primary_key: None,
        nullable: None,
        default: None,
        on_update: None,
        unique: None,
        index: None,
        references: None,
        hidden: None,
        write_only: None,
        read_only: None,
        minimum: None,
        maximum: None,
        max_length: None,
        min_length: None,
        format: None,
        pattern: None,
        doc: None,
    }
}

/// `{ type: timestamp, default: now }`.
fn now_field(span: &Span) -> FieldDef {
    FieldDef { default: Some(Spanned::new(*span, Literal::Scalar("now".into()))), ..field_of_type(span, "timestamp") }
}
