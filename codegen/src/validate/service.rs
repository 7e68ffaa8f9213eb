//! The top of the schema: `version`, `service.prefix` and `tenancy`.

use super::{Cx, did_you_mean, flag};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::Tenancy;
use crate::schema::{self, Literal, SchemaFile};
use crate::span::Pos;

impl Cx<'_> {
    /// Only `version: 1` exists.
    pub(super) fn check_version(&mut self, file: &SchemaFile) {
        if *file.version != 1 {
            self.error(
                Diagnostic::error(
                    Code::UnsupportedVersion,
                    Pos::of(&file.version),
                    format!("schema version {} is not supported", *file.version),
                )
                .label("only version 1 exists"),
            );
        }
    }

    /// `service.prefix` without its trailing `/`; it must be an absolute path.
    pub(super) fn prefix(&mut self, file: &SchemaFile) -> String {
        let Some(prefix) = &file.service.prefix else { return String::new() };
        let trimmed = prefix.trim_end_matches('/').to_owned();
        if !trimmed.is_empty() && !trimmed.starts_with('/') {
            self.error(
                Diagnostic::error(
                    Code::BadPrefix,
                    Pos::of(prefix),
                    format!("route prefix `{}` must start with `/`", prefix.as_str()),
                )
                .label("not an absolute path")
                .help(format!("write `prefix: /{trimmed}`")),
            );
        }
        trimmed
    }

    /// `tenancy: { entity, key }`: a declared, unscoped entity and a unique field of it.
    pub(super) fn tenancy(&mut self, def: &schema::TenancyDef, file: &SchemaFile, prefix: &str) -> Option<Tenancy> {
        let Some(entity) = file.entities.get(def.entity.as_str()) else {
            self.error(
                Diagnostic::error(
                    Code::UnknownEntity,
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
                    Code::BadTenancy,
                    Pos::of(&def.entity),
                    format!("the tenant entity `{}` cannot itself be tenant-scoped", def.entity.as_str()),
                )
                .label("tenants are the top of the hierarchy")
                .help(format!("remove `tenant_scoped` from `{}`", def.entity.as_str())),
            );
        }
        self.check_tenancy_key(def, entity);
        let collection = entity.table.as_ref().map(|t| t.as_str()).unwrap_or(def.entity.as_str());
        Some(Tenancy {
            entity: def.entity.to_string(),
            key: def.key.to_string(),
            scope_path: format!("{prefix}/{collection}/{{tenant}}"),
        })
    }

    /// The tenancy key names one tenant in URLs: a unique field of the tenant entity.
    fn check_tenancy_key(&mut self, def: &schema::TenancyDef, entity: &schema::EntityDef) {
        if let Some(key) = entity.fields.get(def.key.as_str())
            && !matches!(key.unique.as_deref(), Some(Literal::Scalar(s)) if s == "true")
        {
            self.error(
                Diagnostic::error(
                    Code::BadTenancy,
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
                    Code::UnknownField,
                    Pos::of(&def.key),
                    format!("tenancy key `{}` is not a field of `{}`", def.key.as_str(), def.entity.as_str()),
                )
                .label("no such field")
                .maybe_help(did_you_mean(&def.key, entity.fields.keys().map(|k| k.as_str()))),
            );
        }
    }
}
