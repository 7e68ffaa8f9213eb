//! Every semantic check on the schema, and its lowering into the resolved [`Ir`].
//!
//! Checks never stop at the first problem: each pushes a located [`Diagnostic`] and carries on
//! with a best guess, so one build reports everything that is wrong.

use heck::ToUpperCamelCase;
use marked_yaml::Spanned;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::hooks::{HookCatalog, HookSig, ParamKind, Phase};
use crate::ir::*;
use crate::schema::{self, EntityDef, FieldDef, HookArgs, HookRef, Literal, OpDef, OpEntry, SchemaFile};
use crate::span::Pos;

const FIELD_TYPES: &[&str] = &["uuid", "string", "text", "integer", "bool", "timestamp", "json", "strings", "enum"];
const DEFAULT_PAGE_SIZE: u32 = 50;
const DEFAULT_MAX_PAGE_SIZE: u32 = 200;

/// Checks `file` against the hooks in `catalog` and resolves it.
pub fn validate(file: &SchemaFile, catalog: &HookCatalog) -> Result<Ir, Diagnostics> {
    let mut cx = Cx {
        diags: Diagnostics::default(),
        catalog,
        access_roles: file.access.iter().flat_map(|a| a.roles.iter().map(|r| r.to_string())).collect(),
        access_default: file.access.as_ref().and_then(|a| a.default.clone()),
        entity_auth: None,
        rules_used: false,
        first_rule: None,
    };
    let ir = cx.schema(file);
    if cx.diags.is_empty() { Ok(ir) } else { Err(cx.diags.sorted()) }
}

struct Cx<'a> {
    diags: Diagnostics,
    catalog: &'a HookCatalog,
    /// `access.roles`.
    access_roles: Vec<String>,
    /// `access.default`.
    access_default: Option<Spanned<schema::AuthSpec>>,
    /// The `auth:` of the entity whose ops are being read.
    entity_auth: Option<Spanned<schema::AuthSpec>>,
    /// Whether any op has a rule beyond `admin`/`public` (they need the principal roles).
    rules_used: bool,
    /// Where the first such rule is written.
    first_rule: Option<Pos>,
}

/// The closest candidate to `name`, for "did you mean" hints.
pub(crate) fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn did_you_mean<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    suggest(name, candidates).map(|s| format!("did you mean `{s}`?"))
}

fn backticked<'c>(items: impl IntoIterator<Item = &'c str>) -> String {
    items.into_iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

fn flag(value: &Option<Spanned<bool>>) -> bool {
    value.as_ref().is_some_and(|v| **v)
}

impl Cx<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    fn schema(&mut self, file: &SchemaFile) -> Ir {
        if *file.version != 1 {
            self.error(
                Diagnostic::error(
                    "unsupported-version",
                    Pos::of(&file.version),
                    format!("schema version {} is not supported", *file.version),
                )
                .label("only version 1 exists")
                .help("write `version: 1`"),
            );
        }
        let prefix = match &file.service.prefix {
            Some(prefix) => {
                let trimmed = prefix.trim_end_matches('/').to_owned();
                if !trimmed.is_empty() && !trimmed.starts_with('/') {
                    self.error(
                        Diagnostic::error(
                            "bad-prefix",
                            Pos::of(prefix),
                            format!("route prefix `{}` must start with `/`", prefix.as_str()),
                        )
                        .label("not an absolute path")
                        .help(format!("write `prefix: /{trimmed}`")),
                    );
                }
                trimmed
            }
            None => String::new(),
        };
        let title = file.service.title.clone().unwrap_or_else(|| "Generated API".to_owned());

        let entity_names: Vec<&str> = file.entities.keys().map(|k| k.as_str()).collect();
        let tenancy = file.tenancy.as_ref().and_then(|t| self.tenancy(t, file, &prefix));
        if file.entities.is_empty() {
            self.error(
                Diagnostic::error("no-entities", Pos { line: 1, column: 1 }, "the schema declares no entities")
                    .help("add an entry under `entities:`"),
            );
        }

        let mut entities = Vec::new();
        for (name, def) in &file.entities {
            entities.push(self.entity(name, def, file, tenancy.as_ref(), &prefix, &entity_names));
        }
        self.check_relations(file, &entities);
        let endpoints: Vec<Endpoint> =
            file.endpoints.iter().filter_map(|(name, def)| self.endpoint(name, def, tenancy.as_ref())).collect();
        let roles = self.roles(file, &entities, tenancy.as_ref());
        self.check_roles_complete(file, &endpoints, &roles);
        self.check_hook_roles(file, &entities, &roles);
        let ir = Ir { rules: self.rules_used, title, prefix, tenancy, entities, endpoints, roles };
        self.check_routes(&ir, file);
        ir
    }

    fn tenancy(&mut self, def: &schema::TenancyDef, file: &SchemaFile, prefix: &str) -> Option<Tenancy> {
        let Some(entity) = file.entities.get(def.entity.as_str()) else {
            self.error(
                Diagnostic::error(
                    "unknown-entity",
                    Pos::of(&def.entity),
                    format!("tenancy names entity `{}`, which is not declared", def.entity.as_str()),
                )
                .label("no such entity")
                .maybe_help(did_you_mean(&def.entity, file.entities.keys().map(|k| k.as_str()))),
            );
            return None;
        };
        if flag(&entity.tenant_scoped) {
            self.error(
                Diagnostic::error(
                    "bad-tenancy",
                    Pos::of(&def.entity),
                    format!("the tenant entity `{}` cannot itself be tenant-scoped", def.entity.as_str()),
                )
                .label("tenants are the top of the hierarchy")
                .help(format!("remove `tenant_scoped` from `{}`", def.entity.as_str())),
            );
        }
        if let Some(key) = entity.fields.get(def.key.as_str())
            && !matches!(key.unique.as_deref(), Some(Literal::Scalar(s)) if s == "true")
        {
            self.error(
                Diagnostic::error(
                    "bad-tenancy",
                    Pos::of(&def.key),
                    format!("tenancy key `{}` must be unique", def.key.as_str()),
                )
                .label("names one tenant in URLs")
                .help(format!("add `unique: true` to `{}.{}`", def.entity.as_str(), def.key.as_str())),
            );
        }
        if !entity.fields.contains_key(def.key.as_str()) {
            self.error(
                Diagnostic::error(
                    "unknown-field",
                    Pos::of(&def.key),
                    format!("tenancy key `{}` is not a field of `{}`", def.key.as_str(), def.entity.as_str()),
                )
                .label("no such field")
                .maybe_help(did_you_mean(&def.key, entity.fields.keys().map(|k| k.as_str()))),
            );
        }
        let collection = entity.table.as_ref().map(|t| t.as_str()).unwrap_or(def.entity.as_str());
        Some(Tenancy {
            entity: def.entity.to_string(),
            key: def.key.to_string(),
            scope_path: format!("{prefix}/{collection}/{{tenant}}"),
        })
    }

    fn entity(
        &mut self,
        name: &Spanned<String>,
        def: &EntityDef,
        file: &SchemaFile,
        tenancy: Option<&Tenancy>,
        prefix: &str,
        entity_names: &[&str],
    ) -> Entity {
        let pos = Pos::of(name);
        if !is_snake_identifier(name) {
            self.error(
                Diagnostic::error(
                    "bad-name",
                    pos,
                    format!("entity name `{}` is not a snake_case identifier", name.as_str()),
                )
                .label("used for Rust module and route names")
                .help("use lowercase letters, digits and underscores, starting with a letter"),
            );
        }
        let table = def.table.as_ref().map(|t| t.to_string()).unwrap_or_else(|| name.to_string());
        let tenant_scoped = flag(&def.tenant_scoped);
        if tenant_scoped && tenancy.is_none() {
            let at = def.tenant_scoped.as_ref().map(Pos::of).unwrap_or(pos);
            self.error(
                Diagnostic::error(
                    "no-tenancy",
                    at,
                    format!("entity `{}` is tenant-scoped but the schema has no `tenancy:` section", name.as_str()),
                )
                .label("needs a tenant entity")
                .help("add `tenancy: { entity: tenant, key: slug }` at the top level"),
            );
        }

        let mut fields = Vec::new();
        if tenant_scoped && let Some(tenancy) = tenancy {
            if def.fields.contains_key("tenant_id") {
                let key = def.fields.keys().find(|k| k.as_str() == "tenant_id").expect("present");
                self.error(
                    Diagnostic::error(
                        "implicit-field",
                        Pos::of(key),
                        "`tenant_id` is added by `tenant_scoped: true`; do not declare it",
                    )
                    .label("declared twice")
                    .help("remove this field"),
                );
            }
            let tenant_pk = file
                .entities
                .get(tenancy.entity.as_str())
                .and_then(|e| e.fields.iter().find(|(_, f)| flag(&f.primary_key)).map(|(k, _)| k.to_string()))
                .unwrap_or_else(|| "id".into());
            fields.push(Field {
                name: "tenant_id".into(),
                ty: FieldType::Uuid,
                primary_key: false,
                nullable: false,
                default: None,
                on_update_now: false,
                unique: Unique::No,
                index: true,
                references: Some(Reference {
                    entity: tenancy.entity.clone(),
                    field: tenant_pk,
                    on_delete: OnDelete::Cascade,
                }),
                visibility: Visibility::ReadOnly,
                max_length: None,
                min_length: None,
                minimum: None,
                maximum: None,
                format: None,
                doc: "The tenant this row belongs to (from the URL).".into(),
                implicit: true,
            });
        }
        for (field_name, field_def) in &def.fields {
            if let Some(field) = self.field(name, field_name, field_def, file, entity_names, tenant_scoped) {
                fields.push(field);
            }
        }
        let pks: Vec<&Field> = fields.iter().filter(|f| f.primary_key).collect();
        let primary_key = match pks.as_slice() {
            [pk] => pk.name.clone(),
            [] => {
                self.error(
                    Diagnostic::error("no-primary-key", pos, format!("entity `{}` has no primary key", name.as_str()))
                        .label("every entity needs exactly one")
                        .help("add `id: { type: uuid, primary_key: true, default: uuid_v4 }` under `fields:`"),
                );
                "id".into()
            }
            [first, ..] => {
                self.error(
                    Diagnostic::error(
                        "many-primary-keys",
                        pos,
                        format!("entity `{}` has more than one primary key", name.as_str()),
                    )
                    .label("composite keys are not supported")
                    .help(format!("keep `primary_key: true` on `{}` only and mark the others `unique`", first.name)),
                );
                first.name.clone()
            }
        };
        // The server assigns keys: a UUID drawn per row is the only default that is unique.
        if let Some(pk) = fields.iter().find(|f| f.name == primary_key)
            && (pk.ty != FieldType::Uuid || pk.default != Some(DefaultValue::UuidV4))
        {
            let key = def.fields.keys().find(|k| k.as_str() == primary_key).map(Pos::of).unwrap_or(pos);
            self.error(
                Diagnostic::error("bad-primary-key", key, format!("primary key `{primary_key}` must be a server-assigned UUID"))
                    .label("keys are assigned on create")
                    .help(format!("write `{primary_key}: {{ type: uuid, primary_key: true, default: uuid_v4 }}`; keep other identifiers as `unique` fields")),
            );
        }

        let mut virtuals = Vec::new();
        for (virtual_name, virtual_def) in &def.virtual_fields {
            if let Some(stored) = def.fields.keys().find(|k| k.as_str() == virtual_name.as_str()) {
                self.error(
                    Diagnostic::error(
                        "virtual-shadows-field",
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

        for relation_name in def.relations.keys() {
            let clashes =
                def.fields.keys().chain(def.virtual_fields.keys()).any(|k| k.as_str() == relation_name.as_str());
            if clashes || !is_snake_identifier(relation_name) {
                self.error(
                    Diagnostic::error(
                        "bad-name",
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
                        "bad-name",
                        Pos::of(virtual_name),
                        format!("field name `{}` is not a snake_case identifier", virtual_name.as_str()),
                    )
                    .label("used as a JSON and Rust field name")
                    .help("use lowercase letters, digits and underscores, starting with a letter"),
                );
            }
        }
        let relations = def
            .relations
            .iter()
            .map(|(relation_name, relation)| Relation {
                name: relation_name.to_string(),
                entity: relation.has_many.to_string(),
                via: relation.via.to_string(),
            })
            .collect();

        let owner = def.owner.as_ref().and_then(|owner| {
            let field = fields.iter().find(|f| f.name == owner.as_str());
            match field {
                Some(field) if field.ty == FieldType::Uuid && !field.nullable => Some(field.name.clone()),
                _ => {
                    self.error(
                        Diagnostic::error(
                            "bad-owner",
                            Pos::of(owner),
                            format!(
                                "`owner: {}` must name a non-null uuid field of `{}`",
                                owner.as_str(),
                                name.as_str()
                            ),
                        )
                        .label("not a uuid field here")
                        .help("name the field holding the owning user's id, e.g. `owner: user_id`"),
                    );
                    None
                }
            }
        });
        let unique_across = self.unique_across(name, def, &fields);
        let mut entity = Entity {
            name: name.to_string(),
            owner,
            unique_across,
            pascal: name.to_upper_camel_case(),
            table,
            doc: def.doc.clone().unwrap_or_default(),
            tenant_scoped,
            primary_key,
            fields,
            virtuals,
            relations,
            ops: Vec::new(),
            line: pos.line,
        };
        let scope = match (tenant_scoped, tenancy) {
            (true, Some(tenancy)) => tenancy.scope_path.clone(),
            _ => prefix.to_owned(),
        };
        self.entity_auth = def.auth.clone();
        entity.ops = self.ops(&entity, pos, def, &scope);
        self.entity_auth = None;
        entity
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
                        Diagnostic::error("bad-unique", Pos::of(name), problem.unwrap_or_default())
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
                Diagnostic::error("bad-unique", Pos::of(name), "`unique_across` needs at least two fields")
                    .label("only one field")
                    .help("list two or more string fields, or remove `unique_across`"),
            );
            return Vec::new();
        }
        names
    }

    fn field(
        &mut self,
        entity: &str,
        name: &Spanned<String>,
        def: &FieldDef,
        file: &SchemaFile,
        entity_names: &[&str],
        tenant_scoped: bool,
    ) -> Option<Field> {
        if !is_snake_identifier(name) {
            self.error(
                Diagnostic::error(
                    "bad-name",
                    Pos::of(name),
                    format!("field name `{}` is not a snake_case identifier", name.as_str()),
                )
                .label("used as a column and Rust field name")
                .help("use lowercase letters, digits and underscores, starting with a letter"),
            );
        }
        let Some(ty) = &def.ty else {
            self.missing_type(name);
            return None;
        };
        let ty = self.field_type(ty, def.values.as_deref())?;
        let nullable = flag(&def.nullable);
        let primary_key = flag(&def.primary_key);
        let default = def.default.as_ref().and_then(|d| self.default_value(d, &ty));
        let on_update_now = match &def.on_update {
            Some(v) if v.as_str() == "now" => {
                if ty != FieldType::Timestamp {
                    self.error(
                        Diagnostic::error("bad-on-update", Pos::of(v), "`on_update: now` needs a `timestamp` field")
                            .label("not a timestamp"),
                    );
                }
                true
            }
            Some(v) => {
                self.error(
                    Diagnostic::error(
                        "bad-on-update",
                        Pos::of(v),
                        format!("unknown `on_update` value `{}`", v.as_str()),
                    )
                    .label("expected `now`")
                    .help("write `on_update: now`"),
                );
                false
            }
            None => false,
        };
        let unique = match &def.unique {
            None => Unique::No,
            Some(value) => match &**value {
                Literal::Scalar(s) if s == "true" => Unique::Global,
                Literal::Scalar(s) if s == "false" => Unique::No,
                Literal::Scalar(s) if s == "tenant" => {
                    if !tenant_scoped {
                        self.error(
                            Diagnostic::error(
                                "bad-unique",
                                Pos::of(value),
                                format!(
                                    "`unique: tenant` on `{entity}.{}`, but `{entity}` is not tenant-scoped",
                                    name.as_str()
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
                        Diagnostic::error("bad-unique", Pos::of(value), "`unique` must be `true`, `false` or `tenant`")
                            .label("unknown value"),
                    );
                    Unique::No
                }
            },
        };
        let references = def.references.as_ref().and_then(|r| {
            let Some(target) = file.entities.get(r.entity.as_str()) else {
                self.error(
                    Diagnostic::error(
                        "unknown-entity",
                        Pos::of(&r.entity),
                        format!(
                            "foreign key `{entity}.{}` references entity `{}`, which is not declared",
                            name.as_str(),
                            r.entity.as_str()
                        ),
                    )
                    .label("no such entity")
                    .maybe_help(did_you_mean(&r.entity, entity_names.iter().copied())),
                );
                return None;
            };
            let on_delete = match r.on_delete.as_ref().map(|o| o.as_str()) {
                None | Some("restrict") => OnDelete::Restrict,
                Some("cascade") => OnDelete::Cascade,
                Some("set_null") => {
                    if !nullable {
                        self.error(
                            Diagnostic::error(
                                "bad-on-delete",
                                Pos::of(r.on_delete.as_ref().expect("some")),
                                "`on_delete: set_null` needs a nullable field",
                            )
                            .label("the field is not nullable")
                            .help("add `nullable: true` or use `cascade`"),
                        );
                    }
                    OnDelete::SetNull
                }
                Some(other) => {
                    self.error(
                        Diagnostic::error(
                            "bad-on-delete",
                            Pos::of(r.on_delete.as_ref().expect("some")),
                            format!("unknown `on_delete` value `{other}`"),
                        )
                        .label("expected `cascade`, `restrict` or `set_null`")
                        .maybe_help(did_you_mean(other, ["cascade", "restrict", "set_null"])),
                    );
                    OnDelete::Restrict
                }
            };
            let target_pk = target
                .fields
                .iter()
                .find(|(_, f)| flag(&f.primary_key))
                .map(|(k, _)| k.to_string())
                .unwrap_or_else(|| "id".into());
            Some(Reference { entity: r.entity.to_string(), field: target_pk, on_delete })
        });

        let hidden = flag(&def.hidden);
        let write_only = flag(&def.write_only);
        let read_only = flag(&def.read_only);
        let visibility = match (hidden, write_only, read_only) {
            (false, false, false) => Visibility::Normal,
            (true, false, false) => Visibility::Hidden,
            (false, true, false) => Visibility::WriteOnly,
            (false, false, true) => Visibility::ReadOnly,
            _ => {
                self.error(
                    Diagnostic::error("bad-visibility", Pos::of(name), format!("field `{}` combines `hidden`, `write_only` and `read_only`", name.as_str()))
                        .label("pick one")
                        .help("`hidden`: never in requests or responses; `write_only`: requests only; `read_only`: responses only"),
                );
                Visibility::Hidden
            }
        };
        let primary_visibility = if primary_key { Visibility::ReadOnly } else { visibility };

        let format = def.format.as_ref().and_then(|f| match f.as_str() {
            "email" => Some(Format::Email),
            "uri" => Some(Format::Uri),
            other => {
                self.error(
                    Diagnostic::error("bad-format", Pos::of(f), format!("unknown format `{other}`"))
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
                    Diagnostic::error("bad-pattern", Pos::of(p), format!("unknown pattern `{other}`"))
                        .label("expected `slug`")
                        .help("write `pattern: slug`"),
                );
                None
            }
        });
        self.string_only(
            &ty,
            "bad-format",
            &[("format", def.format.as_ref().map(Pos::of)), ("pattern", def.pattern.as_ref().map(Pos::of))],
        );
        if let (Some(_), Some(pattern)) = (&def.format, &def.pattern) {
            self.error(
                Diagnostic::error(
                    "bad-format",
                    Pos::of(pattern),
                    "a field takes either `format` or `pattern`, not both",
                )
                .label("second value check")
                .help("keep one of them"),
            );
        }
        self.string_only(
            &ty,
            "bad-length",
            &[
                ("max_length", def.max_length.as_ref().map(Pos::of)),
                ("min_length", def.min_length.as_ref().map(Pos::of)),
            ],
        );
        if ty != FieldType::Integer {
            for (key, at) in [("minimum", def.minimum.as_ref()), ("maximum", def.maximum.as_ref())] {
                if let Some(at) = at {
                    self.error(
                        Diagnostic::error("bad-range", Pos::of(at), format!("`{key}` applies to integer fields only"))
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
                    "bad-range",
                    Pos::of(max),
                    format!("`maximum` {} is below `minimum` {}", **max, **min),
                )
                .label("no value fits")
                .help("swap the bounds"),
            );
        }
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
            visibility: primary_visibility,
            max_length: def.max_length.as_ref().map(|v| **v),
            min_length: def.min_length.as_ref().map(|v| **v),
            minimum: def.minimum.as_ref().map(|v| **v),
            maximum: def.maximum.as_ref().map(|v| **v),
            format: format.or(pattern),
            doc: def.doc.clone().unwrap_or_default(),
            implicit: false,
        })
    }

    /// One of a closed set of words; the first option is the default when the key is absent.
    fn keyword<T: Copy>(
        &mut self,
        value: Option<&Spanned<String>>,
        code: &'static str,
        what: &str,
        options: &[(&'static str, T)],
    ) -> T {
        let Some(value) = value else { return options[0].1 };
        if let Some((_, chosen)) = options.iter().find(|(word, _)| *word == value.as_str()) {
            return *chosen;
        }
        let words: Vec<&str> = options.iter().map(|(word, _)| *word).collect();
        self.error(
            Diagnostic::error(code, Pos::of(value), format!("unknown {what} `{}`", value.as_str()))
                .label(format!("expected {}", backticked(words.iter().copied())))
                .maybe_help(did_you_mean(value, words.iter().copied())),
        );
        options[0].1
    }

    /// Reports each given key as misplaced unless `ty` is a string type.
    fn string_only(&mut self, ty: &FieldType, code: &'static str, keys: &[(&str, Option<Pos>)]) {
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

    fn missing_type(&mut self, name: &Spanned<String>) {
        self.error(
            Diagnostic::error("missing-type", Pos::of(name), format!("field `{}` has no `type`", name.as_str()))
                .label("type missing")
                .help(format!("add `type: string` (or one of {})", backticked(FIELD_TYPES.iter().copied()))),
        );
    }

    fn field_type(&mut self, ty: &Spanned<String>, values: Option<&[Spanned<String>]>) -> Option<FieldType> {
        let parsed = match ty.as_str() {
            "uuid" => FieldType::Uuid,
            "string" => FieldType::String,
            "text" => FieldType::Text,
            "integer" => FieldType::Integer,
            "bool" => FieldType::Bool,
            "timestamp" => FieldType::Timestamp,
            "json" => FieldType::Json,
            "strings" => FieldType::Strings,
            "enum" => match values {
                Some(values) if !values.is_empty() => {
                    FieldType::Enum { values: values.iter().map(|v| v.to_string()).collect() }
                }
                _ => {
                    self.error(
                        Diagnostic::error("enum-without-values", Pos::of(ty), "an `enum` field needs its `values`")
                            .label("no values given")
                            .help("add `values: [first, second]`"),
                    );
                    FieldType::Enum { values: vec![] }
                }
            },
            other => {
                let alias_hint = match other {
                    "int" | "i64" | "i32" | "number" => Some("integer"),
                    "boolean" => Some("bool"),
                    "datetime" | "date_time" | "date" => Some("timestamp"),
                    "str" | "varchar" => Some("string"),
                    _ => suggest(other, FIELD_TYPES.iter().copied()),
                };
                self.error(
                    Diagnostic::error("unknown-type", Pos::of(ty), format!("unknown field type `{other}`"))
                        .label("not a schema type")
                        .help(match alias_hint {
                            Some(s) => {
                                format!("did you mean `{s}`? types are {}", backticked(FIELD_TYPES.iter().copied()))
                            }
                            None => format!("types are {}", backticked(FIELD_TYPES.iter().copied())),
                        }),
                );
                return None;
            }
        };
        if values.is_some() && !matches!(parsed, FieldType::Enum { .. }) {
            self.error(
                Diagnostic::error("values-without-enum", Pos::of(ty), "`values` only applies to `type: enum`")
                    .label("not an enum")
                    .help("write `type: enum`"),
            );
        }
        Some(parsed)
    }

    fn default_value(&mut self, value: &Spanned<Literal>, ty: &FieldType) -> Option<DefaultValue> {
        let pos = Pos::of(value);
        let bad = |cx: &mut Self, expected: &str| {
            cx.error(
                Diagnostic::error("bad-default", pos, format!("this default does not fit a `{}` field", ty.as_str()))
                    .label(format!("expected {expected}")),
            );
            None
        };
        match (&**value, ty) {
            (Literal::Scalar(s), FieldType::Uuid) if s == "uuid_v4" => Some(DefaultValue::UuidV4),
            (_, FieldType::Uuid) => bad(self, "`uuid_v4`"),
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
            (Literal::Scalar(s), FieldType::Enum { values }) => {
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

    fn virtual_field(&mut self, name: &Spanned<String>, def: &schema::VirtualDef) -> Virtual {
        let ty = match &def.ty {
            Some(ty) => self.field_type(ty, None).unwrap_or(FieldType::String),
            None => {
                self.missing_type(name);
                FieldType::String
            }
        };
        let input = flag(&def.input);
        let output = flag(&def.output);
        if input == output {
            self.error(
                Diagnostic::error(
                    "bad-virtual",
                    Pos::of(name),
                    format!("virtual field `{}` must be either `input: true` or `output: true`", name.as_str()),
                )
                .label(if input { "both" } else { "neither" })
                .help("inputs are accepted in request bodies; outputs are filled by hooks and returned"),
            );
        }
        self.string_only(
            &ty,
            "bad-length",
            &[
                ("max_length", def.max_length.as_ref().map(Pos::of)),
                ("min_length", def.min_length.as_ref().map(Pos::of)),
            ],
        );
        if flag(&def.required) && !input {
            self.error(
                Diagnostic::error("bad-virtual", Pos::of(name), "`required` only applies to input virtual fields")
                    .label("an output field"),
            );
        }
        Virtual {
            name: name.to_string(),
            ty,
            input,
            output,
            required: flag(&def.required),
            min_length: def.min_length.as_ref().map(|v| **v),
            max_length: def.max_length.as_ref().map(|v| **v),
            doc: def.doc.clone().unwrap_or_default(),
        }
    }

    fn ops(&mut self, entity: &Entity, entity_pos: Pos, def: &EntityDef, scope: &str) -> Vec<Op> {
        let collection = format!("/{}", entity.table);
        let mut ops = Vec::new();
        // Standard ops exist unless switched off; they keep their canonical order.
        for action in Action::ALL {
            let entry = def.ops.iter().find(|(k, _)| k.as_str() == action.as_str());
            let (op_def, pos) = match entry {
                Some((_, entry)) => match &**entry {
                    OpEntry::Enabled(false) => continue,
                    OpEntry::Enabled(true) => (None, Pos::of(entry)),
                    OpEntry::Def(op_def) => (Some(&**op_def), Pos::of(entry)),
                },
                None => (None, entity_pos),
            };
            if let Some(op) = self.op(entity, action.as_str(), action, op_def, pos, scope, &collection) {
                ops.push(op);
            }
        }
        for (name, entry) in &def.ops {
            if Action::from_name(name).is_some() {
                continue;
            }
            let pos = Pos::of(name);
            let op_def = match &**entry {
                OpEntry::Def(op_def) => &**op_def,
                OpEntry::Enabled(_) => {
                    self.error(
                        Diagnostic::error(
                            "unknown-op",
                            pos,
                            format!("`{}` is not a standard op, so it needs settings", name.as_str()),
                        )
                        .label("custom op without `action`")
                        .help(match suggest(name, Action::ALL.iter().map(|a| a.as_str())) {
                            Some(s) => format!(
                                "did you mean `{s}`? a custom op reads `{}: {{ action: create, http: POST /path }}`",
                                name.as_str()
                            ),
                            None => format!("write `{}: {{ action: create, http: POST /path }}`", name.as_str()),
                        }),
                    );
                    continue;
                }
            };
            let Some(action_name) = &op_def.action else {
                self.error(
                    Diagnostic::error("unknown-op", pos, format!("custom op `{}` does not say which action it performs", name.as_str()))
                        .label("missing `action`")
                        .help(match suggest(name, Action::ALL.iter().map(|a| a.as_str())) {
                            Some(s) => format!("did you mean the standard op `{s}`? otherwise add `action: create` (or read, update, delete, list)"),
                            None => "add `action: create` (or read, update, delete, list)".into(),
                        }),
                );
                continue;
            };
            let Some(action) = Action::from_name(action_name) else {
                self.error(
                    Diagnostic::error(
                        "unknown-action",
                        Pos::of(action_name),
                        format!("unknown action `{}`", action_name.as_str()),
                    )
                    .label("not a standard action")
                    .help(
                        match did_you_mean(action_name, Action::ALL.iter().map(|a| a.as_str())) {
                            Some(s) => s,
                            None => "actions are `create`, `read`, `update`, `delete` and `list`".into(),
                        },
                    ),
                );
                continue;
            };
            if op_def.http.is_none() {
                self.error(
                    Diagnostic::error(
                        "custom-op-without-route",
                        pos,
                        format!("custom op `{}` needs its own route", name.as_str()),
                    )
                    .label("missing `http`")
                    .help(format!("add `http: POST {collection}/{}`", name.as_str())),
                );
                continue;
            }
            if let Some(op) = self.op(entity, name, action, Some(op_def), pos, scope, &collection) {
                ops.push(op);
            }
        }
        ops
    }

    #[allow(clippy::too_many_arguments)]
    fn op(
        &mut self,
        entity: &Entity,
        name: &str,
        action: Action,
        def: Option<&OpDef>,
        pos: Pos,
        scope: &str,
        collection: &str,
    ) -> Option<Op> {
        let empty = OpDef::default();
        let def = def.unwrap_or(&empty);
        if let Some(alias) = &def.action
            && Action::from_name(name).is_some()
        {
            self.error(
                Diagnostic::error(
                    "unknown-action",
                    Pos::of(alias),
                    format!("`{name}` is a standard op; `action` is only for custom ops"),
                )
                .label("not needed here")
                .help(format!(
                    "remove `action`, or give the op another name to make it a custom `{}` op",
                    alias.as_str()
                )),
            );
        }
        if !is_snake_identifier(name) {
            self.error(
                Diagnostic::error("bad-name", pos, format!("op name `{name}` is not a snake_case identifier"))
                    .label("used in the generated handler's name")
                    .help("use lowercase letters, digits and underscores, starting with a letter"),
            );
            return None;
        }
        let (default_method, default_path) = match action {
            Action::Create => ("POST", collection.to_owned()),
            Action::List => ("GET", collection.to_owned()),
            Action::Read => ("GET", format!("{collection}/{{id}}")),
            Action::Update => ("PATCH", format!("{collection}/{{id}}")),
            Action::Delete => ("DELETE", format!("{collection}/{{id}}")),
        };
        let (method, path) = match &def.http {
            None => (default_method.to_owned(), default_path),
            Some(http) => match parse_http(http, &["{id}"]) {
                Ok((method, path)) => {
                    if action.is_item() && !path.contains("{id}") {
                        self.error(
                            Diagnostic::error(
                                "bad-http",
                                Pos::of(http),
                                format!("`{}` acts on one row, so its path needs `{{id}}`", name),
                            )
                            .label("no `{id}` segment")
                            .help(format!("write `http: {method} {path}/{{id}}`")),
                        );
                    }
                    (method, path)
                }
                Err(help) => {
                    self.error(
                        Diagnostic::error("bad-http", Pos::of(http), format!("cannot read route `{}`", http.as_str()))
                            .label("expected `METHOD /path`")
                            .help(help),
                    );
                    return None;
                }
            },
        };
        let encoding = self.keyword(
            def.encoding.as_ref(),
            "bad-encoding",
            "encoding",
            &[("json", Encoding::Json), ("form", Encoding::Form)],
        );
        let (auth, rule) = self.rule(def.auth.as_ref(), entity);
        let response = self.keyword(
            def.response.as_ref(),
            "bad-response",
            "response shape",
            &[("record", ResponseShape::Record), ("empty", ResponseShape::Empty)],
        );
        let default_status = match (action, response) {
            (Action::Create, _) => 201,
            (Action::Delete, _) | (_, ResponseShape::Empty) => 204,
            _ => 200,
        };
        let status = def.status.as_ref().map(|s| **s).unwrap_or(default_status);
        if !(200..300).contains(&status) {
            let at = def.status.as_ref().map(Pos::of).unwrap_or(pos);
            self.error(
                Diagnostic::error("bad-status", at, format!("success status {status} is not a 2xx code"))
                    .label("not a success"),
            );
        }

        let input = self.op_input(entity, name, action, def, pos);
        let list = (action == Action::List).then(|| self.list_spec(entity, def, pos));
        if action != Action::List {
            let settings = [
                ("filters", def.filters.is_some()),
                ("sort", def.sort.is_some()),
                ("page_size", def.page_size.is_some()),
                ("max_page_size", def.max_page_size.is_some()),
            ];
            for (key, value) in settings {
                if value {
                    self.error(
                        Diagnostic::error(
                            "list-setting",
                            pos,
                            format!("`{key}` only applies to list ops, and `{name}` is a `{}`", action.as_str()),
                        )
                        .label("not a list op"),
                    );
                }
            }
        }
        let pre = self.hook_calls(entity, name, action, &input, &def.pre, Phase::Pre);
        let post = self.hook_calls(entity, name, action, &input, &def.post, Phase::Post);
        let op = Op {
            name: name.to_owned(),
            action,
            method,
            path: format!("{scope}{path}"),
            encoding,
            auth,
            rule,
            input,
            response,
            status,
            pre,
            post,
            list,
            handler: format!("{name}_{}", entity.name),
            line: pos.line,
        };
        // A hook that did not resolve would have set columns; do not pile a second error on it.
        let hooks_resolved = op.pre.len() == def.pre.len() && op.post.len() == def.post.len();
        if action == Action::Create && hooks_resolved {
            self.check_create_sets_every_column(entity, &op, pos);
        }
        Some(op)
    }

    /// Which fields a create/update body accepts.
    fn op_input(&mut self, entity: &Entity, op: &str, action: Action, def: &OpDef, pos: Pos) -> Vec<String> {
        if !action.has_body() {
            if let Some(input) = &def.input
                && let Some(first) = input.first()
            {
                self.error(
                    Diagnostic::error(
                        "input-without-body",
                        Pos::of(first),
                        format!("`{op}` is a `{}` op, which has no request body", action.as_str()),
                    )
                    .label("no body to read"),
                );
            }
            return Vec::new();
        }
        let writable_stored = entity
            .fields
            .iter()
            .filter(|f| f.visibility.is_writable() && !f.implicit && !f.primary_key)
            .map(|f| f.name.clone());
        let virtual_inputs = entity.virtuals.iter().filter(|v| v.input).map(|v| v.name.clone());
        let all: Vec<String> = writable_stored.chain(virtual_inputs).collect();
        let Some(requested) = &def.input else { return all };
        let mut chosen = Vec::new();
        for name in requested {
            if all.iter().any(|a| a == name.as_str()) {
                chosen.push(name.to_string());
                continue;
            }
            let reason = match (entity.field(name), entity.virtual_field(name)) {
                (Some(f), _) if f.primary_key => "is the primary key, which the server assigns".to_owned(),
                (Some(f), _) if f.implicit => "comes from the URL".to_owned(),
                (Some(f), _) => format!(
                    "is {}",
                    match f.visibility {
                        Visibility::Hidden => "hidden",
                        _ => "read-only",
                    }
                ),
                (None, Some(_)) => "is an output field".to_owned(),
                (None, None) => "is not a field of this entity".to_owned(),
            };
            self.error(
                Diagnostic::error(
                    "bad-input",
                    Pos::of(name),
                    format!("`{op}` cannot accept `{}`: it {reason}", name.as_str()),
                )
                .label("not writable")
                .help(match did_you_mean(name, all.iter().map(String::as_str)) {
                    Some(s) => s,
                    None => format!("writable fields are {}", backticked(all.iter().map(String::as_str))),
                }),
            );
        }
        let _ = pos;
        chosen
    }

    fn list_spec(&mut self, entity: &Entity, def: &OpDef, pos: Pos) -> ListSpec {
        let check = |cx: &mut Self, names: &[Spanned<String>], what: &str| -> Vec<String> {
            let mut out = Vec::new();
            for name in names {
                match entity.field(name) {
                    Some(field)
                        if field.visibility == Visibility::Hidden || field.visibility == Visibility::WriteOnly =>
                    {
                        cx.error(
                            Diagnostic::error(
                                "bad-list-field",
                                Pos::of(name),
                                format!("cannot {what} on `{}`: it is never returned", name.as_str()),
                            )
                            .label("hidden field")
                            .help("filtering on a secret would leak it one guess at a time"),
                        )
                    }
                    Some(field) if !field.ty.is_scalar() => cx.error(
                        Diagnostic::error(
                            "bad-list-field",
                            Pos::of(name),
                            format!("cannot {what} on `{}` of type `{}`", name.as_str(), field.ty.as_str()),
                        )
                        .label("not a comparable type"),
                    ),
                    Some(_) => out.push(name.to_string()),
                    None => cx.error(
                        Diagnostic::error(
                            "unknown-list-field",
                            Pos::of(name),
                            format!("cannot {what} on `{}`: `{}` has no such stored field", name.as_str(), entity.name),
                        )
                        .label("undeclared field")
                        .maybe_help(did_you_mean(name, entity.fields.iter().map(|f| f.name.as_str()))),
                    ),
                }
            }
            out
        };
        let filters = def.filters.as_deref().map(|f| check(self, f, "filter")).unwrap_or_default();
        // Keyset pagination compares sort values; NULLs order differently on SQLite and PostgreSQL.
        for name in def.sort.iter().flatten() {
            if entity.field(name).is_some_and(|f| f.nullable) {
                self.error(
                    Diagnostic::error(
                        "bad-list-field",
                        Pos::of(name),
                        format!("cannot sort on `{}`: it is nullable", name.as_str()),
                    )
                    .label("nullable sort key")
                    .help("sort on a field that always has a value, such as `created_at`"),
                );
            }
        }
        let mut sort = def.sort.as_deref().map(|s| check(self, s, "sort")).unwrap_or_default();
        if sort.is_empty() {
            sort.push(entity.primary_key.clone());
        }
        let page_size = def.page_size.as_ref().map(|v| **v).unwrap_or(DEFAULT_PAGE_SIZE);
        let max_page_size = def.max_page_size.as_ref().map(|v| **v).unwrap_or(DEFAULT_MAX_PAGE_SIZE.max(page_size));
        if page_size == 0 || page_size > max_page_size {
            let at = def.page_size.as_ref().map(Pos::of).unwrap_or(pos);
            self.error(
                Diagnostic::error(
                    "bad-page-size",
                    at,
                    format!("page size {page_size} must be between 1 and the maximum ({max_page_size})"),
                )
                .label("out of range"),
            );
        }
        ListSpec { filters, sort, page_size, max_page_size }
    }

    fn hook_calls(
        &mut self,
        entity: &Entity,
        op: &str,
        action: Action,
        input: &[String],
        refs: &[Spanned<HookRef>],
        phase: Phase,
    ) -> Vec<HookCall> {
        let mut calls = Vec::new();
        if matches!(action, Action::Read | Action::List) {
            if let Some(first) = refs.first() {
                self.error(
                    Diagnostic::error(
                        "hook-on-read",
                        Pos::of(first),
                        format!("`{op}` is a `{}` op, and hooks run only on writes", action.as_str()),
                    )
                    .label("this hook would never run")
                    .help("hooks belong to create, update and delete ops (and custom ops with those actions)"),
                );
            }
            return calls;
        }
        for hook_ref in refs {
            let (name, name_pos, args): (&str, Pos, Option<&HookArgs>) = match &**hook_ref {
                HookRef::Bare(name) => (name.as_str(), Pos::of(hook_ref), None),
                HookRef::Bound { hook, args } => (hook.as_str(), Pos::of(hook), Some(args)),
            };
            let Some(sig) = self.catalog.get(name) else {
                let help = match suggest(name, self.catalog.hooks.iter().map(|h| h.name.as_str())) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "hooks are {}; a new hook is a `pub async fn` taking `&mut {}Ctx<'_>` in the hook module",
                        backticked(self.catalog.hooks.iter().map(|h| h.name.as_str())),
                        if phase == Phase::Pre { "Pre" } else { "Post" }
                    ),
                };
                self.error(
                    Diagnostic::error("unknown-hook", name_pos, format!("unknown hook `{name}`"))
                        .label("no hook function has this name")
                        .help(help),
                );
                continue;
            };
            if sig.phase != phase {
                self.error(
                    Diagnostic::error(
                        "hook-phase",
                        name_pos,
                        format!(
                            "hook `{name}` runs {} the write, so it cannot be a `{}` hook",
                            if sig.phase == Phase::Pre { "before" } else { "after" },
                            phase.as_str()
                        ),
                    )
                    .label(format!("listed under `{}:`", phase.as_str()))
                    .help(format!("move it to `{}:` of `{op}`", sig.phase.as_str())),
                );
                continue;
            }
            if let Some(call) = self.bind(entity, op, action, input, sig, name_pos, args) {
                calls.push(call);
            }
        }
        calls
    }

    #[allow(clippy::too_many_arguments)]
    fn bind(
        &mut self,
        entity: &Entity,
        op: &str,
        action: Action,
        input: &[String],
        sig: &HookSig,
        pos: Pos,
        args: Option<&HookArgs>,
    ) -> Option<HookCall> {
        let mut ok = true;
        if let Some(args) = args {
            for key in args.keys() {
                if !sig.params.iter().any(|p| p.name == key.as_str()) {
                    ok = false;
                    self.error(
                        Diagnostic::error(
                            "unknown-hook-param",
                            Pos::of(key),
                            format!("hook `{}` has no parameter `{}`", sig.name, key.as_str()),
                        )
                        .label("not a parameter")
                        .help(
                            match did_you_mean(key, sig.params.iter().map(|p| p.name.as_str())) {
                                Some(s) => s,
                                None => format!(
                                    "its parameters are {}",
                                    backticked(sig.params.iter().map(|p| p.name.as_str()))
                                ),
                            },
                        ),
                    );
                }
            }
        }
        let mut bindings = Vec::new();
        for param in &sig.params {
            let bound = args.and_then(|a| a.iter().find(|(k, _)| k.as_str() == param.name));
            let (field, at) = match bound {
                Some((_, v)) => (v.as_str(), Pos::of(v)),
                None => (param.name.as_str(), pos),
            };
            let via = if bound.is_some() {
                String::new()
            } else {
                format!(" (parameter `{}` binds the field of the same name; use `args:` to bind another)", param.name)
            };
            let problem = match param.kind {
                ParamKind::Input => match entity.virtual_field(field) {
                    Some(v) if v.input => {
                        if !action.has_body() || !input.iter().any(|i| i == field) {
                            Some(format!("`{op}` does not accept `{field}` in its body"))
                        } else if !param.ty.accepts_type(&v.ty) {
                            Some(format!(
                                "parameter `{}` is `{}` but `{field}` is `{}`",
                                param.name,
                                param.ty.rust,
                                v.ty.as_str()
                            ))
                        } else {
                            None
                        }
                    }
                    _ => Some(format!("needs a virtual input field `{field}` on `{}`{via}", entity.name)),
                },
                ParamKind::Output => match entity.virtual_field(field) {
                    Some(v) if v.output => {
                        if action == Action::Delete {
                            Some(format!(
                                "`{op}` deletes a row and returns no body, so it has no output `{field}` to fill"
                            ))
                        } else if !param.ty.accepts_type(&v.ty) {
                            Some(format!(
                                "parameter `{}` is `{}` but `{field}` is `{}`",
                                param.name,
                                param.ty.rust,
                                v.ty.as_str()
                            ))
                        } else {
                            None
                        }
                    }
                    _ => Some(format!("needs a virtual output field `{field}` on `{}`{via}", entity.name)),
                },
                ParamKind::Column => match entity.field(field) {
                    Some(f) if !f.primary_key && !f.implicit => {
                        if sig.phase == Phase::Post {
                            Some(format!(
                                "runs after the write, so it cannot set column `{field}`; a `Column` parameter needs a pre hook"
                            ))
                        } else if !action.has_body() {
                            Some(format!("`{op}` writes no row, so it has no column `{field}` to set"))
                        } else if !param.ty.fits(f) {
                            Some(format!(
                                "parameter `{}` is `{}` but `{field}` is {}`{}`",
                                param.name,
                                param.ty.rust,
                                if f.nullable { "nullable " } else { "" },
                                f.ty.as_str()
                            ))
                        } else {
                            None
                        }
                    }
                    Some(_) => Some(format!("`{field}` is assigned by the server and cannot be set by a hook")),
                    None => Some(format!("needs a stored field `{field}` on `{}`{via}", entity.name)),
                },
            };
            if let Some(problem) = problem {
                ok = false;
                self.error(
                    Diagnostic::error("hook-binding", at, format!("hook `{}` {problem}", sig.name))
                        .label("cannot bind")
                        .help(format!("`{}` takes {}", sig.name, describe_params(sig))),
                );
                continue;
            }
            bindings.push(Binding { param: param.name.clone(), kind: param.kind, field: field.to_owned() });
        }
        ok.then(|| HookCall {
            hook: sig.name.clone(),
            path: sig.path.clone(),
            phase: sig.phase,
            bindings,
            needs_roles: sig.needs_roles,
            line: pos.line,
        })
    }

    /// A create must give every NOT NULL column a value: from the body, a default, or a hook.
    fn check_create_sets_every_column(&mut self, entity: &Entity, op: &Op, pos: Pos) {
        for field in &entity.fields {
            if field.nullable || field.default.is_some() || field.implicit || op.input.contains(&field.name) {
                continue;
            }
            let set_by_hook =
                op.pre.iter().flat_map(|c| &c.bindings).any(|b| b.kind == ParamKind::Column && b.field == field.name);
            if !set_by_hook {
                self.error(
                    Diagnostic::error("column-never-set", pos, format!("`{}` never sets `{}.{}`, which cannot be NULL", op.name, entity.name, field.name))
                        .label("the insert would fail")
                        .help("give the field a `default`, make it `nullable: true`, accept it in `input`, or bind a pre hook that sets it"),
                );
            }
        }
    }

    fn check_relations(&mut self, file: &SchemaFile, entities: &[Entity]) {
        for (entity_name, def) in &file.entities {
            for (relation_name, relation) in &def.relations {
                let Some(child) = entities.iter().find(|e| e.name == relation.has_many.as_str()) else {
                    self.error(
                        Diagnostic::error(
                            "unknown-entity",
                            Pos::of(&relation.has_many),
                            format!(
                                "relation `{}` names entity `{}`, which is not declared",
                                relation_name.as_str(),
                                relation.has_many.as_str()
                            ),
                        )
                        .label("no such entity")
                        .maybe_help(did_you_mean(&relation.has_many, entities.iter().map(|e| e.name.as_str()))),
                    );
                    continue;
                };
                match child.field(&relation.via) {
                    Some(field) if field.references.as_ref().is_some_and(|r| r.entity == entity_name.as_str()) => {}
                    Some(_) => self.error(
                        Diagnostic::error(
                            "bad-relation",
                            Pos::of(&relation.via),
                            format!(
                                "`{}.{}` does not reference `{}`",
                                child.name,
                                relation.via.as_str(),
                                entity_name.as_str()
                            ),
                        )
                        .label("not a foreign key to this entity")
                        .help(format!(
                            "add `references: {{ entity: {} }}` to `{}.{}`",
                            entity_name.as_str(),
                            child.name,
                            relation.via.as_str()
                        )),
                    ),
                    None => self.error(
                        Diagnostic::error(
                            "bad-relation",
                            Pos::of(&relation.via),
                            format!("`{}` has no field `{}`", child.name, relation.via.as_str()),
                        )
                        .label("no such field")
                        .maybe_help(did_you_mean(&relation.via, child.fields.iter().map(|f| f.name.as_str()))),
                    ),
                }
            }
        }
    }

    fn endpoint(
        &mut self,
        name: &Spanned<String>,
        def: &schema::EndpointDef,
        tenancy: Option<&Tenancy>,
    ) -> Option<Endpoint> {
        let pos = Pos::of(name);
        if !is_snake_identifier(name) {
            self.error(
                Diagnostic::error(
                    "bad-name",
                    pos,
                    format!("endpoint name `{}` is not a snake_case identifier", name.as_str()),
                )
                .label("used in the generated route's name")
                .help("use lowercase letters, digits and underscores, starting with a letter"),
            );
            return None;
        }
        let (method, path) = match parse_http(&def.http, &["{tenant}", "{id}"]) {
            Ok(parsed) => parsed,
            Err(help) => {
                self.error(
                    Diagnostic::error(
                        "bad-http",
                        Pos::of(&def.http),
                        format!("cannot read route `{}`", def.http.as_str()),
                    )
                    .label("expected `METHOD /path`")
                    .help(help),
                );
                return None;
            }
        };
        // The first option is the default: tenant-scoped when the schema has tenants.
        let scopes = if tenancy.is_some() {
            [("tenant", true), ("service", false)]
        } else {
            [("service", false), ("tenant", true)]
        };
        let tenant_scoped = self.keyword(def.scope.as_ref(), "bad-scope", "scope", &scopes);
        if tenant_scoped && tenancy.is_none() {
            let at = def.scope.as_ref().map(Pos::of).unwrap_or(pos);
            self.error(
                Diagnostic::error(
                    "no-tenancy",
                    at,
                    format!("endpoint `{}` is tenant-scoped but the schema has no `tenancy:` section", name.as_str()),
                )
                .label("needs a tenant entity")
                .help("add `tenancy:` or write `scope: service`"),
            );
        }
        if !tenant_scoped && path.contains("{tenant}") {
            self.error(
                Diagnostic::error(
                    "bad-http",
                    Pos::of(&def.http),
                    "`{tenant}` appears in a route with `scope: service`",
                )
                .label("no tenant to resolve")
                .help("remove `{tenant}` or drop `scope: service`"),
            );
        }
        let path = if tenant_scoped && !path.contains("{tenant}") { format!("/{{tenant}}{path}") } else { path };
        let auth = self.keyword(
            def.auth.as_ref(),
            "bad-auth",
            "caller class",
            &[("public", Auth::Public), ("admin", Auth::Admin), ("client", Auth::Client)],
        );
        let cors = self.keyword(
            def.cors.as_ref(),
            "bad-cors",
            "CORS policy",
            &[("none", Cors::None), ("any", Cors::Any), ("registered", Cors::Registered)],
        );
        if cors == Cors::Registered && !tenant_scoped {
            let at = def.cors.as_ref().map(Pos::of).unwrap_or(pos);
            self.error(
                Diagnostic::error("bad-cors", at, "`cors: registered` needs a tenant-scoped endpoint")
                    .label("origins are registered per tenant")
                    .help("write `cors: any`, or drop `scope: service`"),
            );
        }
        let errors = self.keyword(
            def.errors.as_ref(),
            "bad-errors",
            "error format",
            &[
                ("problem", ErrorFamily::Problem),
                ("oauth", ErrorFamily::OAuth),
                ("bearer", ErrorFamily::Bearer),
                ("page", ErrorFamily::Page),
            ],
        );
        let handler_name = def.handler.as_ref().map(|h| h.as_str()).unwrap_or(name.as_str());
        let handler_pos = def.handler.as_ref().map(Pos::of).unwrap_or(pos);
        let Some(handler) = self.catalog.handler(handler_name) else {
            let help = match suggest(handler_name, self.catalog.handlers.iter().map(|h| h.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "a handler is a `pub async fn NAME(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError>` in the endpoint module".into(),
            };
            self.error(
                Diagnostic::error("unknown-handler", handler_pos, format!("unknown endpoint handler `{handler_name}`"))
                    .label("no handler function has this name")
                    .help(help),
            );
            return None;
        };
        Some(Endpoint {
            name: name.to_string(),
            method,
            path,
            tenant_scoped,
            auth,
            handler: handler.path.clone(),
            needs_roles: handler.needs_roles,
            encoding: self.keyword(
                def.encoding.as_ref(),
                "bad-encoding",
                "encoding",
                &[("json", Encoding::Json), ("form", Encoding::Form)],
            ),
            errors,
            cors,
            route_fn: format!("endpoint_{}", name.as_str()),
            doc: def.doc.clone().unwrap_or_else(|| handler.doc.clone()),
            line: pos.line,
        })
    }

    /// `roles:`: each binds an entity to a runtime role, whose fields it must have.
    fn roles(&mut self, file: &SchemaFile, entities: &[Entity], tenancy: Option<&Tenancy>) -> Vec<RoleBinding> {
        let mut bindings = Vec::new();
        for (role_name, entity_name) in &file.roles {
            let Some(role) = self.catalog.role(role_name) else {
                self.error(
                    Diagnostic::error(
                        "unknown-role",
                        Pos::of(role_name),
                        format!("unknown role `{}`", role_name.as_str()),
                    )
                    .label("no role trait has this name")
                    .help(
                        match suggest(role_name, self.catalog.roles.iter().map(|r| r.name.as_str())) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => {
                                format!("roles are {}", backticked(self.catalog.roles.iter().map(|r| r.name.as_str())))
                            }
                        },
                    ),
                );
                continue;
            };
            let Some(entity) = entities.iter().find(|e| e.name == entity_name.as_str()) else {
                self.error(
                    Diagnostic::error(
                        "unknown-entity",
                        Pos::of(entity_name),
                        format!("role `{}` names entity `{}`, which is not declared", role.name, entity_name.as_str()),
                    )
                    .label("no such entity")
                    .maybe_help(did_you_mean(entity_name, entities.iter().map(|e| e.name.as_str()))),
                );
                continue;
            };
            let mut ok = true;
            // Protocol code finds a role's rows within the tenant, or the tenant row itself.
            let is_tenant = tenancy.is_some_and(|t| t.entity == entity.name);
            if !entity.tenant_scoped && !is_tenant {
                ok = false;
                self.error(
                    Diagnostic::error(
                        "role-binding",
                        Pos::of(entity_name),
                        format!("role `{}` needs a tenant-scoped entity (or the tenant entity)", role.name),
                    )
                    .label("not tenant-scoped")
                    .help(format!("add `tenant_scoped: true` to `{}`", entity.name)),
                );
            }
            for field in &role.fields {
                let problem = match entity.field(&field.name) {
                    None => Some(format!("needs a field `{}`", field.name)),
                    Some(f) if !field.ty.fits(f) => Some(format!(
                        "needs `{}` to be {}{}, but it is {}`{}`",
                        field.name,
                        if field.ty.nullable { "a nullable " } else { "" },
                        field.ty.accepts.first().copied().unwrap_or("?"),
                        if f.nullable { "nullable " } else { "" },
                        f.ty.as_str()
                    )),
                    Some(_) => None,
                };
                if let Some(problem) = problem {
                    ok = false;
                    self.error(
                        Diagnostic::error(
                            "role-binding",
                            Pos::of(entity_name),
                            format!("role `{}` {problem} on `{}`", role.name, entity.name),
                        )
                        .label("cannot play this role")
                        .help(format!(
                            "`{}` reads {}",
                            role.name,
                            role.fields
                                .iter()
                                .map(|f| format!("`{}` ({})", f.name, f.ty.rust))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                }
            }
            let columns = crate::validate_handles::bind(self.catalog, role, entity, Pos::of(entity_name))
                .unwrap_or_else(|errors| {
                    ok = false;
                    errors.into_iter().for_each(|error| self.error(error));
                    None
                });
            let constructor = self.catalog.constructor(&role.trait_name);
            if let Some(constructor) = constructor {
                for (param, ty) in &constructor.params {
                    let fits = entity.field(param).is_some_and(|f| ty.fits(f));
                    if !fits {
                        ok = false;
                        self.error(
                            Diagnostic::error(
                                "role-binding",
                                Pos::of(entity_name),
                                format!(
                                    "role `{}` creates rows with `{param}` ({}), which `{}` lacks",
                                    role.name, ty.rust, entity.name
                                ),
                            )
                            .label("cannot play this role")
                            .help(format!("add a `{param}` field of that type to `{}`", entity.name)),
                        );
                    }
                }
                for field in &entity.fields {
                    let given = constructor.params.iter().any(|(p, _)| *p == field.name);
                    if !given && !field.nullable && field.default.is_none() {
                        ok = false;
                        self.error(
                            Diagnostic::error(
                                "role-binding",
                                Pos::of(entity_name),
                                format!(
                                    "role `{}` creates `{}` rows but cannot fill `{}`",
                                    role.name, entity.name, field.name
                                ),
                            )
                            .label("a required field without a default")
                            .help(format!("give `{}.{}` a default or make it nullable", entity.name, field.name)),
                        );
                    }
                }
            }
            if ok {
                bindings.push(RoleBinding {
                    trait_name: role.trait_name.clone(),
                    path: role.path.clone(),
                    entity: entity.name.clone(),
                    fields: role.fields.iter().map(|f| (f.name.clone(), f.access)).collect(),
                    constructor: constructor.map(|c| ConstructorBinding {
                        path: c.path.clone(),
                        params: c.params.iter().map(|(p, _)| p.clone()).collect(),
                    }),
                    columns,
                });
            }
        }
        bindings
    }

    /// A handler generic over `Roles` needs every role bound.
    /// An op's `auth:` (or `access.default`): `admin`, `public`, or a rule of `user`, `owner`
    /// and role names, any of which admits a caller.
    fn rule(&mut self, spec: Option<&Spanned<schema::AuthSpec>>, entity: &Entity) -> (Auth, Rule) {
        let inherited = self.entity_auth.as_ref().or(self.access_default.as_ref());
        let Some(spec) = spec.or(inherited).cloned() else { return (Auth::Admin, Rule::default()) };
        let pos = Pos::of(&spec);
        let words = &spec.0;
        if words.len() == 1 && words[0] == "admin" {
            return (Auth::Admin, Rule::default());
        }
        if words.len() == 1 && words[0] == "public" {
            return (Auth::Public, Rule::default());
        }
        let mut rule = Rule::default();
        for word in words {
            match word.as_str() {
                "admin" => {}
                "public" => self.error(
                    Diagnostic::error("bad-auth", pos, "`public` cannot be combined with other callers")
                        .label("public already admits everyone")
                        .help("write `auth: public` alone"),
                ),
                "user" => rule.user = true,
                "service" => rule.service = true,
                "owner" if entity.owner.is_none() => self.error(
                    Diagnostic::error("bad-auth", pos, format!("`owner` needs `owner:` on entity `{}`", entity.name))
                        .label("no owner field")
                        .help(format!("add `owner: FIELD` to `{}` (the field holding the user's id)", entity.name)),
                ),
                "owner" => rule.owner = true,
                role if self.access_roles.iter().any(|r| r == role) => rule.roles.push(role.to_owned()),
                other => {
                    let known = ["admin", "public", "user", "owner", "service"]
                        .into_iter()
                        .chain(self.access_roles.iter().map(String::as_str))
                        .collect::<Vec<_>>();
                    self.error(
                        Diagnostic::error("bad-auth", pos, format!("unknown caller class or role `{other}`"))
                            .label(format!("expected {}", backticked(known.iter().copied())))
                            .help(match suggest(other, known.iter().copied()) {
                                Some(s) => {
                                    format!("did you mean `{s}`? roles are declared under `access: {{ roles: [...] }}`")
                                }
                                None => "declare roles under `access: { roles: [...] }`".to_owned(),
                            }),
                    );
                }
            }
        }
        self.rules_used = true;
        self.first_rule.get_or_insert(pos);
        (Auth::Rule, rule)
    }

    fn check_roles_complete(&mut self, file: &SchemaFile, endpoints: &[Endpoint], bindings: &[RoleBinding]) {
        let needs_roles = endpoints.iter().find(|e| e.needs_roles || e.cors == Cors::Registered);
        let Some(endpoint) = needs_roles else {
            if self.rules_used && bindings.len() == file.roles.len() {
                // Rules identify callers through the account, API key and tenant roles.
                let bound: Vec<&str> = file.roles.keys().map(|k| k.as_str()).collect();
                let missing: Vec<&str> = ["account", "api_key", "service_key", "tenant_settings"]
                    .into_iter()
                    .filter(|r| !bound.contains(r))
                    .collect();
                if let Some(first) = missing.first() {
                    self.error(
                        Diagnostic::error(
                            "missing-role",
                            self.first_rule.unwrap_or_default(),
                            format!(
                                "`auth:` rules for users need the roles {} bound",
                                backticked(missing.iter().copied())
                            ),
                        )
                        .label("callers are identified through them")
                        .help(format!("add `roles: {{ {first}: ENTITY }}`")),
                    );
                }
            }
            return;
        };
        let bound: Vec<&str> = file.roles.keys().map(|k| k.as_str()).collect();
        let missing: Vec<&str> =
            self.catalog.roles.iter().map(|r| r.name.as_str()).filter(|r| !bound.contains(r)).collect();
        if missing.is_empty() || bindings.len() < file.roles.len() {
            return;
        }
        let pos = file
            .endpoints
            .iter()
            .find(|(k, _)| k.as_str() == endpoint.name)
            .map(|(k, _)| Pos::of(k))
            .unwrap_or_default();
        self.error(
            Diagnostic::error(
                "missing-role",
                pos,
                format!(
                    "endpoint `{}` needs entities for every role; {} unbound",
                    endpoint.name,
                    backticked(missing.iter().copied())
                ),
            )
            .label("its handler reads schema entities through roles")
            .help(format!("add `roles: {{ {}: ENTITY }}`", missing[0])),
        );
    }

    /// A hook generic over the roles reads entities through them, so every role must be bound.
    fn check_hook_roles(&mut self, file: &SchemaFile, entities: &[Entity], bindings: &[RoleBinding]) {
        let calls = entities.iter().flat_map(|e| &e.ops).flat_map(|op| op.pre.iter().chain(&op.post));
        let Some(call) = calls.into_iter().find(|call| call.needs_roles) else { return };
        let bound: Vec<&str> = file.roles.keys().map(|k| k.as_str()).collect();
        let missing: Vec<&str> =
            self.catalog.roles.iter().map(|r| r.name.as_str()).filter(|r| !bound.contains(r)).collect();
        if missing.is_empty() || bindings.len() < file.roles.len() {
            return;
        }
        self.error(
            Diagnostic::error(
                "missing-role",
                Pos { line: call.line, column: 1 },
                format!(
                    "hook `{}` needs entities for every role; {} unbound",
                    call.hook,
                    backticked(missing.iter().copied())
                ),
            )
            .label("it reads schema entities through roles")
            .help(format!("add `roles: {{ {}: ENTITY }}`", missing[0])),
        );
    }

    fn check_routes(&mut self, ir: &Ir, file: &SchemaFile) {
        let mut seen: Vec<(String, String, String, usize)> = Vec::new();
        for endpoint in &ir.endpoints {
            let key = format!("{} {}", endpoint.method, route_shape(&endpoint.path));
            if let Some((_, other, other_op, other_line)) = seen.iter().find(|(k, ..)| *k == key) {
                let pos = file
                    .endpoints
                    .iter()
                    .find(|(k, _)| k.as_str() == endpoint.name)
                    .map(|(_, d)| Pos::of(&d.http))
                    .unwrap_or_default();
                self.error(
                    Diagnostic::error(
                        "duplicate-route",
                        pos,
                        format!(
                            "route `{} {}` is already served by `{other}.{other_op}`",
                            endpoint.method, endpoint.path
                        ),
                    )
                    .label("same method and path")
                    .help(format!("change `http` here or at line {other_line}")),
                );
            } else {
                seen.push((key, "endpoints".into(), endpoint.name.clone(), endpoint.line));
            }
        }
        for entity in &ir.entities {
            for op in &entity.ops {
                let shape = route_shape(&op.path);
                if let Some((_, other_entity, other_op, other_line)) =
                    seen.iter().find(|(key, ..)| *key == format!("{} {shape}", op.method))
                {
                    let pos = op_position(file, &entity.name, &op.name).unwrap_or(Pos { line: op.line, column: 1 });
                    self.error(
                        Diagnostic::error(
                            "duplicate-route",
                            pos,
                            format!(
                                "route `{} {}` is already served by `{other_entity}.{other_op}`",
                                op.method, op.path
                            ),
                        )
                        .label("same method and path")
                        .help(format!("change `http` here or at line {other_line}")),
                    );
                } else {
                    seen.push((format!("{} {shape}", op.method), entity.name.clone(), op.name.clone(), op.line));
                }
            }
        }
    }
}

/// Position of `ops.<op>` of `<entity>`, when written.
fn op_position(file: &SchemaFile, entity: &str, op: &str) -> Option<Pos> {
    let def = file.entities.get(entity)?;
    let (_, entry) = def.ops.iter().find(|(k, _)| k.as_str() == op)?;
    match &**entry {
        OpEntry::Def(def) => def.http.as_ref().map(Pos::of).or(Some(Pos::of(entry))),
        OpEntry::Enabled(_) => Some(Pos::of(entry)),
    }
}

fn route_shape(path: &str) -> String {
    path.split('/').map(|segment| if segment.starts_with('{') { "{}" } else { segment }).collect::<Vec<_>>().join("/")
}

/// `METHOD /path`, where `param` (`{id}` for entity ops, `{tenant}` for endpoints) is the only
/// path parameter allowed.
fn parse_http(http: &str, params: &[&str]) -> Result<(String, String), String> {
    let mut parts = http.split_whitespace();
    let (Some(method), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("write it as `POST /things/action`".into());
    };
    let method = method.to_ascii_uppercase();
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(format!("`{method}` is not a method; use GET, POST, PUT, PATCH or DELETE"));
    }
    if !path.starts_with('/') {
        return Err(format!("the path must start with `/`: `{method} /{path}`"));
    }
    for segment in path.split('/').skip(1) {
        let is_param = segment.starts_with('{') && segment.ends_with('}');
        if is_param && !params.contains(&segment) {
            return Err(format!("`{segment}` is not a known path parameter; use {}", params.join(" or ")));
        }
        if !is_param && !segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Err(format!("path segment `{segment}` has characters routes cannot match"));
        }
    }
    Ok((method, path.trim_end_matches('/').to_owned()))
}

fn describe_params(sig: &HookSig) -> String {
    if sig.params.is_empty() {
        return "no field parameters".into();
    }
    sig.params
        .iter()
        .map(|p| {
            let kind = match p.kind {
                ParamKind::Input => "virtual input",
                ParamKind::Column => "stored column",
                ParamKind::Output => "virtual output",
            };
            format!("`{}` ({kind} `{}`)", p.name, p.ty.rust)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_snake_identifier(name: &str) -> bool {
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
    fn routes_parse_method_and_path() {
        assert_eq!(parse_http("post /a/{id}/b", &["{id}"]).unwrap(), ("POST".into(), "/a/{id}/b".into()));
        assert!(parse_http("FETCH /a", &["{id}"]).is_err());
        assert!(parse_http("GET a", &["{id}"]).is_err());
        assert!(parse_http("GET /a/{user}", &["{id}"]).is_err());
        assert!(parse_http("GET /{tenant}/x", &["{tenant}", "{id}"]).is_ok());
    }
}
