//! One entity: its name, the implicit tenant column, primary key, virtual fields, member names,
//! owner and `unique_across`. Its stored fields are read by [`super::field`], its ops by
//! [`super::op`].

use heck::ToUpperCamelCase;
use marked_yaml::Spanned;

use super::hints::is_snake_identifier;
use super::{Cx, SchemaCx, flag};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::*;
use crate::schema::{EntityDef, SchemaFile};
use crate::span::Pos;

/// The entity being read, as its members' checks see it.
pub(super) struct EntityCx<'e> {
    pub(super) name: &'e Spanned<String>,
    pub(super) def: &'e EntityDef,
    pub(super) tenant_scoped: bool,
    /// Where its name is written.
    pub(super) pos: Pos,
}

impl Cx<'_> {
    /// Resolves one entity, its fields and its ops.
    pub(super) fn entity(&mut self, schema: &SchemaCx<'_>, name: &Spanned<String>, def: &EntityDef) -> Entity {
        let pos = Pos::of(name);
        self.check_entity_name(name);
        let table = def.table.as_ref().map(|t| t.to_string()).unwrap_or_else(|| name.to_string());
        let cx = EntityCx { name, def, tenant_scoped: flag(&def.tenant_scoped), pos };
        self.check_has_tenancy(schema, &cx);
        let fields = self.stored_fields(schema, &cx);
        let primary_key = self.primary_key(&cx, &fields);
        let virtuals = self.virtuals(def);
        self.check_member_names(def);
        let relations = def
            .relations
            .iter()
            .map(|(relation_name, relation)| Relation {
                name: relation_name.to_string(),
                entity: relation.has_many.to_string(),
                via: relation.via.to_string(),
            })
            .collect();
        let owner = self.owner(&cx, &fields);
        let unique_across = self.unique_across(name, def, &fields);
        let expires = self.expires(&cx, &fields);
        let mut entity = Entity {
            name: name.to_string(),
            owner,
            unique_across,
            expires,
            pascal: name.to_upper_camel_case(),
            table,
            doc: def.doc.clone().unwrap_or_default(),
            tenant_scoped: cx.tenant_scoped,
            primary_key,
            fields,
            virtuals,
            relations,
            ops: Vec::new(),
            line: pos.line,
        };
        let scope = match (cx.tenant_scoped, schema.tenancy) {
            (true, Some(tenancy)) => tenancy.scope_path.clone(),
            _ => schema.prefix.to_owned(),
        };
        self.entity_auth = def.auth.clone();
        entity.ops = self.ops(&entity, pos, def, &scope);
        self.entity_auth = None;
        entity
    }

    fn check_entity_name(&mut self, name: &Spanned<String>) {
        if !is_snake_identifier(name) {
            self.error(
                Diagnostic::error(
                    Code::BadName,
                    Pos::of(name),
                    format!("entity name `{}` is not a snake_case identifier", name.as_str()),
                )
                .label("used for Rust module and route names"),
            );
        }
    }

    /// `tenant_scoped: true` needs a `tenancy:` section naming the tenant entity.
    fn check_has_tenancy(&mut self, schema: &SchemaCx<'_>, cx: &EntityCx<'_>) {
        if cx.tenant_scoped && schema.tenancy.is_none() {
            let at = cx.def.tenant_scoped.as_ref().map(Pos::of).unwrap_or(cx.pos);
            self.error(
                Diagnostic::error(
                    Code::NoTenancy,
                    at,
                    format!("entity `{}` is tenant-scoped but the schema has no `tenancy:` section", cx.name.as_str()),
                )
                .label("needs a tenant entity")
                .help("add `tenancy: { entity: tenant, key: slug }` at the top level"),
            );
        }
    }

    /// The implicit `tenant_id` of a tenant-scoped entity, then the declared fields.
    fn stored_fields(&mut self, schema: &SchemaCx<'_>, cx: &EntityCx<'_>) -> Vec<Field> {
        let mut fields = Vec::new();
        if cx.tenant_scoped
            && let Some(tenancy) = schema.tenancy
        {
            self.check_no_declared_tenant_id(cx.def);
            fields.push(tenant_column(schema.file, tenancy));
        }
        for (field_name, field_def) in &cx.def.fields {
            if let Some(field) = self.field(schema, cx, field_name, field_def) {
                fields.push(field);
            }
        }
        fields
    }

    fn check_no_declared_tenant_id(&mut self, def: &EntityDef) {
        if let Some(key) = def.fields.keys().find(|k| k.as_str() == "tenant_id") {
            self.error(
                Diagnostic::error(
                    Code::ImplicitField,
                    Pos::of(key),
                    "`tenant_id` is added by `tenant_scoped: true`; do not declare it",
                )
                .label("declared twice"),
            );
        }
    }

    /// Exactly one primary key, and a server-assigned UUID.
    fn primary_key(&mut self, cx: &EntityCx<'_>, fields: &[Field]) -> String {
        let pks: Vec<&Field> = fields.iter().filter(|f| f.primary_key).collect();
        let primary_key = match pks.as_slice() {
            [pk] => pk.name.clone(),
            [] => {
                self.error(
                    Diagnostic::error(
                        Code::NoPrimaryKey,
                        cx.pos,
                        format!("entity `{}` has no primary key", cx.name.as_str()),
                    )
                    .label("every entity needs exactly one"),
                );
                "id".into()
            }
            [first, ..] => {
                self.error(
                    Diagnostic::error(
                        Code::ManyPrimaryKeys,
                        cx.pos,
                        format!("entity `{}` has more than one primary key", cx.name.as_str()),
                    )
                    .label("composite keys are not supported")
                    .help(format!("keep `primary_key: true` on `{}` only and mark the others `unique`", first.name)),
                );
                first.name.clone()
            }
        };
        self.check_server_assigned_key(cx, fields, &primary_key);
        primary_key
    }

    /// The server assigns keys: a UUID drawn per row (random or time-ordered) is the only
    /// default that is unique.
    fn check_server_assigned_key(&mut self, cx: &EntityCx<'_>, fields: &[Field], primary_key: &str) {
        if let Some(pk) = fields.iter().find(|f| f.name == primary_key)
            && (pk.ty != FieldType::Uuid || !matches!(pk.default, Some(DefaultValue::UuidV4 | DefaultValue::UuidV7)))
        {
            let key = cx.def.fields.keys().find(|k| k.as_str() == primary_key).map(Pos::of).unwrap_or(cx.pos);
            self.error(
                Diagnostic::error(Code::BadPrimaryKey, key, format!("primary key `{primary_key}` must be a server-assigned UUID"))
                    .label("keys are assigned on create")
                    .help(format!("write `{primary_key}: {{ type: uuid, primary_key: true, default: uuid_v4 }}` (or `uuid_v7`); keep other identifiers as `unique` fields")),
            );
        }
    }

    /// The virtual fields, except those that shadow a stored field.
    fn virtuals(&mut self, def: &EntityDef) -> Vec<Virtual> {
        let mut virtuals = Vec::new();
        for (virtual_name, virtual_def) in &def.virtual_fields {
            if let Some(stored) = def.fields.keys().find(|k| k.as_str() == virtual_name.as_str()) {
                self.error(
                    Diagnostic::error(
                        Code::VirtualShadowsField,
                        Pos::of(virtual_name),
                        format!("virtual field `{}` shadows the stored field of the same name", virtual_name.as_str()),
                    )
                    .label("already a stored field")
                    .help(format!(
                        "rename one of them; the stored `{}` is declared at line {}",
                        stored.as_str(),
                        Pos::of(stored).line
                    )),
                );
                continue;
            }
            virtuals.push(self.virtual_field(virtual_name, virtual_def));
        }
        virtuals
    }

    /// Relation and virtual field names sit next to stored fields in responses.
    fn check_member_names(&mut self, def: &EntityDef) {
        for relation_name in def.relations.keys() {
            let clashes =
                def.fields.keys().chain(def.virtual_fields.keys()).any(|k| k.as_str() == relation_name.as_str());
            if clashes || !is_snake_identifier(relation_name) {
                self.error(
                    Diagnostic::error(
                        Code::BadName,
                        Pos::of(relation_name),
                        format!("relation name `{}` cannot be used", relation_name.as_str()),
                    )
                    .label(if clashes { "a field has this name" } else { "not a snake_case identifier" })
                    .help("relations appear next to fields in responses; give it a distinct snake_case name"),
                );
            }
        }
        for virtual_name in def.virtual_fields.keys() {
            if !is_snake_identifier(virtual_name) {
                self.error(
                    Diagnostic::error(
                        Code::BadName,
                        Pos::of(virtual_name),
                        format!("field name `{}` is not a snake_case identifier", virtual_name.as_str()),
                    )
                    .label("used as a JSON and Rust field name"),
                );
            }
        }
    }

    /// `owner: FIELD`: a non-null uuid field holding the owning user's id.
    fn owner(&mut self, cx: &EntityCx<'_>, fields: &[Field]) -> Option<String> {
        let owner = cx.def.owner.as_ref()?;
        match fields.iter().find(|f| f.name == owner.as_str()) {
            Some(field) if field.ty == FieldType::Uuid && !field.nullable => Some(field.name.clone()),
            _ => {
                self.error(
                    Diagnostic::error(
                        Code::BadOwner,
                        Pos::of(owner),
                        format!(
                            "`owner: {}` must name a non-null uuid field of `{}`",
                            owner.as_str(),
                            cx.name.as_str()
                        ),
                    )
                    .label("not a uuid field here"),
                );
                None
            }
        }
    }

    /// `expires: FIELD`: a `timestamp` field of the entity (nullable or not; a row whose value is
    /// null never expires).
    fn expires(&mut self, cx: &EntityCx<'_>, fields: &[Field]) -> Option<String> {
        let expires = cx.def.expires.as_ref()?;
        match fields.iter().find(|f| f.name == expires.as_str()) {
            Some(field) if field.ty == FieldType::Timestamp => Some(field.name.clone()),
            found => {
                let label = if found.is_some() { "not a timestamp field" } else { "no such field here" };
                self.error(
                    Diagnostic::error(
                        Code::BadExpires,
                        Pos::of(expires),
                        format!(
                            "`expires: {}` must name a timestamp field of `{}`",
                            expires.as_str(),
                            cx.name.as_str()
                        ),
                    )
                    .label(label),
                );
                None
            }
        }
    }

    /// `unique_across: [a, b]`: at least two distinct string or text fields of the entity, all
    /// `unique` with the same scope (a shared space of values is as wide as each field's own).
    fn unique_across(&mut self, entity: &Spanned<String>, def: &EntityDef, fields: &[Field]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut scope = None;
        for name in &def.unique_across {
            let field = fields.iter().find(|f| f.name == name.as_str());
            let problem = match field {
                None => Some(format!("`{}` has no field `{}`", entity.as_str(), name.as_str())),
                Some(f) if !matches!(f.ty, FieldType::String | FieldType::Text) => {
                    Some(format!("`{}` is not a string or text field", name.as_str()))
                }
                Some(f) if f.unique == Unique::No => Some(format!("`{}` is not `unique`", name.as_str())),
                Some(f) if scope.is_some_and(|scope| scope != f.unique) => {
                    Some(format!("`{}` is unique in another scope than the fields before it", name.as_str()))
                }
                Some(_) if names.iter().any(|n| n == name.as_str()) => {
                    Some(format!("`{}` is listed twice", name.as_str()))
                }
                Some(_) => None,
            };
            match (problem, field) {
                (None, Some(f)) => {
                    scope = Some(f.unique);
                    names.push(f.name.clone());
                }
                (problem, _) => {
                    self.error(
                        Diagnostic::error(Code::BadUnique, Pos::of(name), problem.unwrap_or_default())
                            .label("cannot share a space of values")
                            .help("list two or more string fields that are all `unique: true` or all `unique: tenant`"),
                    );
                    return Vec::new();
                }
            }
        }
        if names.len() == 1 {
            let name = &def.unique_across[0];
            self.error(
                Diagnostic::error(Code::BadUnique, Pos::of(name), "`unique_across` needs at least two fields")
                    .label("only one field")
                    .help("list two or more string fields, or remove `unique_across`"),
            );
            return Vec::new();
        }
        names
    }
}

/// The `tenant_id` column `tenant_scoped: true` adds: a foreign key to the tenant's primary key.
fn tenant_column(file: &SchemaFile, tenancy: &Tenancy) -> Field {
    let tenant_pk = file
        .entities
        .get(tenancy.entity.as_str())
        .and_then(|e| e.fields.iter().find(|(_, f)| flag(&f.primary_key)).map(|(k, _)| k.to_string()))
        .unwrap_or_else(|| "id".into());
    Field {
        name: "tenant_id".into(),
        ty: FieldType::Uuid,
        primary_key: false,
        nullable: false,
        default: None,
        on_update_now: false,
        unique: Unique::No,
        index: true,
        references: Some(Reference { entity: tenancy.entity.clone(), field: tenant_pk, on_delete: OnDelete::Cascade }),
        visibility: Visibility::ReadOnly,
        max_length: None,
        min_length: None,
        minimum: None,
        maximum: None,
        format: None,
        doc: "The tenant this row belongs to (from the URL).".into(),
        implicit: true,
    }
}
