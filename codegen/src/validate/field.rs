//! One stored field: its name, type, default, `on_update`, `unique`, foreign key, visibility and
//! value checks (format, pattern, lengths, integer range).

use marked_yaml::Spanned;

use super::entity::EntityCx;
use super::hints::{backticked, did_you_mean, is_snake_identifier, suggest};
use super::{Cx, SchemaCx, flag};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::*;
use crate::schema::{FieldDef, Literal, ReferenceDef};
use crate::span::Pos;

/// Every `type:` a field may have.
pub(super) const FIELD_TYPES: &[&str] =
    &["uuid", "string", "text", "integer", "bool", "timestamp", "json", "strings", "enum"];

/// The field being read and its entity, as the checks of its settings see them.
struct FieldCx<'f> {
    entity: &'f EntityCx<'f>,
    name: &'f Spanned<String>,
    def: &'f FieldDef,
}

impl Cx<'_> {
    /// Resolves one stored field; `None` when its type cannot be known.
    pub(super) fn field(
        &mut self,
        schema: &SchemaCx<'_>,
        entity: &EntityCx<'_>,
        name: &Spanned<String>,
        def: &FieldDef,
    ) -> Option<Field> {
        self.check_field_name(name);
        let Some(ty) = &def.ty else {
            self.missing_type(name);
            return None;
        };
        let ty = self.field_type(ty, def.values.as_deref())?;
        let ty = self.enum_rust(entity.name, name, def.values.as_deref().unwrap_or_default(), ty);
        let cx = FieldCx { entity, name, def };
        let nullable = flag(&def.nullable);
        let primary_key = flag(&def.primary_key);
        let default = def.default.as_ref().and_then(|d| self.default_value(d, &ty));
        let on_update_now = self.on_update(def, &ty);
        let unique = self.unique(&cx);
        let references = def.references.as_ref().and_then(|r| self.reference(schema, &cx, r, nullable));
        let visibility = self.visibility(&cx);
        let format = self.value_format(def, &ty);
        self.check_bounds(def, &ty);
        Some(Field {
            name: name.to_string(),
            ty,
            primary_key,
            nullable,
            default,
            on_update_now,
            unique,
            index: flag(&def.index),
            references,
            visibility: if primary_key { Visibility::ReadOnly } else { visibility },
            max_length: def.max_length.as_ref().map(|v| **v),
            min_length: def.min_length.as_ref().map(|v| **v),
            minimum: def.minimum.as_ref().map(|v| **v),
            maximum: def.maximum.as_ref().map(|v| **v),
            format,
            doc: def.doc.clone().unwrap_or_default(),
            implicit: false,
        })
    }

    fn check_field_name(&mut self, name: &Spanned<String>) {
        if !is_snake_identifier(name) {
            self.error(
                Diagnostic::error(
                    Code::BadName,
                    Pos::of(name),
                    format!("field name `{}` is not a snake_case identifier", name.as_str()),
                )
                .label("used as a column and Rust field name"),
            );
        }
    }

    pub(super) fn missing_type(&mut self, name: &Spanned<String>) {
        self.error(
            Diagnostic::error(Code::MissingType, Pos::of(name), format!("field `{}` has no `type`", name.as_str()))
                .label("type missing")
                .help(format!("add `type: string` (or one of {})", backticked(FIELD_TYPES.iter().copied()))),
        );
    }

    /// A `type:` word (with the `values` of an enum); `None` when it is not a schema type.
    pub(super) fn field_type(&mut self, ty: &Spanned<String>, values: Option<&[Spanned<String>]>) -> Option<FieldType> {
        let parsed = match ty.as_str() {
            "uuid" => FieldType::Uuid,
            "string" => FieldType::String,
            "text" => FieldType::Text,
            "integer" => FieldType::Integer,
            "bool" => FieldType::Bool,
            "timestamp" => FieldType::Timestamp,
            "json" => FieldType::Json,
            "strings" => FieldType::Strings,
            "enum" => self.enum_type(ty, values),
            other => {
                self.unknown_type(ty, other);
                return None;
            }
        };
        if values.is_some() && !matches!(parsed, FieldType::Enum { .. }) {
            self.error(
                Diagnostic::error(Code::ValuesWithoutEnum, Pos::of(ty), "`values` only applies to `type: enum`")
                    .label("not an enum"),
            );
        }
        Some(parsed)
    }

    fn enum_type(&mut self, ty: &Spanned<String>, values: Option<&[Spanned<String>]>) -> FieldType {
        match values {
            Some(values) if !values.is_empty() => {
                FieldType::Enum { values: values.iter().map(|v| v.to_string()).collect(), rust: EnumType::default() }
            }
            _ => {
                self.error(
                    Diagnostic::error(Code::EnumWithoutValues, Pos::of(ty), "an `enum` field needs its `values`")
                        .label("no values given"),
                );
                FieldType::Enum { values: vec![], rust: EnumType::default() }
            }
        }
    }

    fn unknown_type(&mut self, ty: &Spanned<String>, other: &str) {
        let alias_hint = match other {
            "int" | "i64" | "i32" | "number" => Some("integer"),
            "boolean" => Some("bool"),
            "datetime" | "date_time" | "date" => Some("timestamp"),
            "str" | "varchar" => Some("string"),
            _ => suggest(other, FIELD_TYPES.iter().copied()),
        };
        self.error(
            Diagnostic::error(Code::UnknownType, Pos::of(ty), format!("unknown field type `{other}`"))
                .label("not a schema type")
                .help(match alias_hint {
                    Some(s) => format!("did you mean `{s}`? types are {}", backticked(FIELD_TYPES.iter().copied())),
                    None => format!("types are {}", backticked(FIELD_TYPES.iter().copied())),
                }),
        );
    }

    fn default_value(&mut self, value: &Spanned<Literal>, ty: &FieldType) -> Option<DefaultValue> {
        let pos = Pos::of(value);
        let bad = |cx: &mut Self, expected: &str| {
            cx.error(
                Diagnostic::error(
                    Code::BadDefault,
                    pos,
                    format!("this default does not fit a `{}` field", ty.as_str()),
                )
                .label(format!("expected {expected}")),
            );
            None
        };
        match (&**value, ty) {
            (Literal::Scalar(s), FieldType::Uuid) if s == "uuid_v4" => Some(DefaultValue::UuidV4),
            (Literal::Scalar(s), FieldType::Uuid) if s == "uuid_v7" => Some(DefaultValue::UuidV7),
            (_, FieldType::Uuid) => bad(self, "`uuid_v4` or `uuid_v7`"),
            (Literal::Scalar(s), FieldType::Timestamp) if s == "now" => Some(DefaultValue::Now),
            (_, FieldType::Timestamp) => bad(self, "`now`"),
            (Literal::Scalar(s), FieldType::Bool) => match s.as_str() {
                "true" => Some(DefaultValue::Bool(true)),
                "false" => Some(DefaultValue::Bool(false)),
                _ => bad(self, "`true` or `false`"),
            },
            (Literal::Scalar(s), FieldType::Integer) => match s.parse() {
                Ok(n) => Some(DefaultValue::Integer(n)),
                Err(_) => bad(self, "an integer"),
            },
            (Literal::Scalar(s), FieldType::String | FieldType::Text) => Some(DefaultValue::String(s.clone())),
            (Literal::Scalar(s), FieldType::Enum { values, .. }) => {
                if values.contains(s) {
                    Some(DefaultValue::String(s.clone()))
                } else {
                    bad(self, &format!("one of {}", backticked(values.iter().map(String::as_str))))
                }
            }
            (Literal::List(items), FieldType::Strings | FieldType::Json) if items.is_empty() => {
                Some(DefaultValue::EmptyList)
            }
            _ => bad(self, "a literal of the field's type"),
        }
    }

    /// `on_update: now` on a timestamp.
    fn on_update(&mut self, def: &FieldDef, ty: &FieldType) -> bool {
        match &def.on_update {
            Some(v) if v.as_str() == "now" => {
                if *ty != FieldType::Timestamp {
                    self.error(
                        Diagnostic::error(Code::BadOnUpdate, Pos::of(v), "`on_update: now` needs a `timestamp` field")
                            .label("not a timestamp"),
                    );
                }
                true
            }
            Some(v) => {
                self.error(
                    Diagnostic::error(
                        Code::BadOnUpdate,
                        Pos::of(v),
                        format!("unknown `on_update` value `{}`", v.as_str()),
                    )
                    .label("expected `now`")
                    .help("write `on_update: now`"),
                );
                false
            }
            None => false,
        }
    }

    /// `unique: true | false | tenant`; `tenant` needs a tenant-scoped entity.
    fn unique(&mut self, cx: &FieldCx<'_>) -> Unique {
        let Some(value) = &cx.def.unique else { return Unique::No };
        match &**value {
            Literal::Scalar(s) if s == "true" => Unique::Global,
            Literal::Scalar(s) if s == "false" => Unique::No,
            Literal::Scalar(s) if s == "tenant" => {
                if !cx.entity.tenant_scoped {
                    let entity = cx.entity.name.as_str();
                    self.error(
                        Diagnostic::error(
                            Code::BadUnique,
                            Pos::of(value),
                            format!(
                                "`unique: tenant` on `{entity}.{}`, but `{entity}` is not tenant-scoped",
                                cx.name.as_str()
                            ),
                        )
                        .label("no tenant to be unique within")
                        .help("write `unique: true`, or add `tenant_scoped: true` to the entity"),
                    );
                }
                Unique::Tenant
            }
            _ => {
                self.error(
                    Diagnostic::error(Code::BadUnique, Pos::of(value), "`unique` must be `true`, `false` or `tenant`")
                        .label("unknown value"),
                );
                Unique::No
            }
        }
    }

    /// `references: { entity, on_delete }`: a declared entity, by its primary key.
    fn reference(
        &mut self,
        schema: &SchemaCx<'_>,
        cx: &FieldCx<'_>,
        r: &ReferenceDef,
        nullable: bool,
    ) -> Option<Reference> {
        let Some(target) = schema.file.entities.get(r.entity.as_str()) else {
            self.error(
                Diagnostic::error(
                    Code::UnknownEntity,
                    Pos::of(&r.entity),
                    format!(
                        "foreign key `{}.{}` references entity `{}`, which is not declared",
                        cx.entity.name.as_str(),
                        cx.name.as_str(),
                        r.entity.as_str()
                    ),
                )
                .label("no such entity")
                .maybe_help(did_you_mean(&r.entity, schema.entity_names.iter().copied())),
            );
            return None;
        };
        let on_delete = self.on_delete(r, nullable);
        let target_pk = target
            .fields
            .iter()
            .find(|(_, f)| flag(&f.primary_key))
            .map(|(k, _)| k.to_string())
            .unwrap_or_else(|| "id".into());
        Some(Reference { entity: r.entity.to_string(), field: target_pk, on_delete })
    }

    /// `on_delete: restrict | cascade | set_null`; `set_null` needs a nullable field.
    fn on_delete(&mut self, r: &ReferenceDef, nullable: bool) -> OnDelete {
        let Some(value) = &r.on_delete else { return OnDelete::Restrict };
        match value.as_str() {
            "restrict" => OnDelete::Restrict,
            "cascade" => OnDelete::Cascade,
            "set_null" => {
                if !nullable {
                    self.error(
                        Diagnostic::error(
                            Code::BadOnDelete,
                            Pos::of(value),
                            "`on_delete: set_null` needs a nullable field",
                        )
                        .label("the field is not nullable")
                        .help("add `nullable: true` or use `cascade`"),
                    );
                }
                OnDelete::SetNull
            }
            other => {
                self.error(
                    Diagnostic::error(
                        Code::BadOnDelete,
                        Pos::of(value),
                        format!("unknown `on_delete` value `{other}`"),
                    )
                    .label("expected `cascade`, `restrict` or `set_null`")
                    .maybe_help(did_you_mean(other, ["cascade", "restrict", "set_null"])),
                );
                OnDelete::Restrict
            }
        }
    }

    /// At most one of `hidden`, `write_only` and `read_only`.
    fn visibility(&mut self, cx: &FieldCx<'_>) -> Visibility {
        let def = cx.def;
        match (flag(&def.hidden), flag(&def.write_only), flag(&def.read_only)) {
            (false, false, false) => Visibility::Normal,
            (true, false, false) => Visibility::Hidden,
            (false, true, false) => Visibility::WriteOnly,
            (false, false, true) => Visibility::ReadOnly,
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::BadVisibility,
                        Pos::of(cx.name),
                        format!("field `{}` combines `hidden`, `write_only` and `read_only`", cx.name.as_str()),
                    )
                    .label("pick one"),
                );
                Visibility::Hidden
            }
        }
    }

    /// `format: email | uri` or `pattern: slug`, on string fields, not both.
    fn value_format(&mut self, def: &FieldDef, ty: &FieldType) -> Option<Format> {
        let format = def.format.as_ref().and_then(|f| match f.as_str() {
            "email" => Some(Format::Email),
            "uri" => Some(Format::Uri),
            other => {
                self.error(
                    Diagnostic::error(Code::BadFormat, Pos::of(f), format!("unknown format `{other}`"))
                        .label("expected `email` or `uri`")
                        .maybe_help(did_you_mean(other, ["email", "uri"])),
                );
                None
            }
        });
        let pattern = def.pattern.as_ref().and_then(|p| match p.as_str() {
            "slug" => Some(Format::Slug),
            other => {
                self.error(
                    Diagnostic::error(Code::BadPattern, Pos::of(p), format!("unknown pattern `{other}`"))
                        .label("expected `slug`"),
                );
                None
            }
        });
        self.string_only(
            ty,
            Code::BadFormat,
            &[("format", def.format.as_ref().map(Pos::of)), ("pattern", def.pattern.as_ref().map(Pos::of))],
        );
        if let (Some(_), Some(pattern)) = (&def.format, &def.pattern) {
            self.error(
                Diagnostic::error(
                    Code::BadFormat,
                    Pos::of(pattern),
                    "a field takes either `format` or `pattern`, not both",
                )
                .label("second value check")
                .help("keep one of them"),
            );
        }
        format.or(pattern)
    }

    /// Lengths on strings only; `minimum`/`maximum` on integers only, in order.
    fn check_bounds(&mut self, def: &FieldDef, ty: &FieldType) {
        self.string_only(
            ty,
            Code::BadLength,
            &[
                ("max_length", def.max_length.as_ref().map(Pos::of)),
                ("min_length", def.min_length.as_ref().map(Pos::of)),
            ],
        );
        if *ty != FieldType::Integer {
            for (key, at) in [("minimum", def.minimum.as_ref()), ("maximum", def.maximum.as_ref())] {
                if let Some(at) = at {
                    self.error(
                        Diagnostic::error(
                            Code::BadRange,
                            Pos::of(at),
                            format!("`{key}` applies to integer fields only"),
                        )
                        .label("not an integer field")
                        .help("remove it, or use `min_length`/`max_length` for strings"),
                    );
                }
            }
        }
        if let (Some(min), Some(max)) = (&def.minimum, &def.maximum)
            && **min > **max
        {
            self.error(
                Diagnostic::error(
                    Code::BadRange,
                    Pos::of(max),
                    format!("`maximum` {} is below `minimum` {}", **max, **min),
                )
                .label("no value fits")
                .help("swap the bounds"),
            );
        }
    }

    /// Reports each given key as misplaced unless `ty` is a string type.
    pub(super) fn string_only(&mut self, ty: &FieldType, code: Code, keys: &[(&str, Option<Pos>)]) {
        if matches!(ty, FieldType::String | FieldType::Text) {
            return;
        }
        for (key, pos) in keys {
            if let Some(pos) = pos {
                self.error(
                    Diagnostic::error(
                        code,
                        *pos,
                        format!("`{key}` applies to `string` and `text` fields, not `{}`", ty.as_str()),
                    )
                    .label("not a string field"),
                );
            }
        }
    }
}
