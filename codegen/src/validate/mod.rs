//! Every semantic check on the schema, and its lowering into the resolved [`Ir`].
//!
//! Checks never stop at the first problem: each pushes a located [`Diagnostic`] and carries on
//! with a best guess, so one build reports everything that is wrong.
//!
//! One module per concern, in the order a schema is read:
//!
//! - [`shorthand`]: `primary_key:` and `timestamps:` expanded into the fields they declare;
//! - [`service`]: `version`, `service.prefix` and `tenancy`;
//! - [`entity`]: an entity's name, implicit tenant column, primary key, virtuals, owner and
//!   `unique_across`; [`relations`] checks `relations:` once every entity is known;
//! - [`field`]: one stored field (type, default, `unique`, foreign key, visibility, value checks),
//!   and [`virtuals`] one virtual field; [`enums`] the Rust enum of an `enum` field (a runtime
//!   vocabulary enum a role reads it as, settled from `plays:` before entities, or a generated one);
//! - [`op`]: an entity's ops and their routes, status and bodies; [`list`] a list op's filters,
//!   sort keys and page sizes;
//! - [`hook_calls`]: an op's `pre`/`post` hooks and the fields their parameters bind;
//! - [`access`]: `auth:` rules (`admin`, `public`, `user`, `owner`, roles);
//! - [`endpoint`]: hand-written endpoints;
//! - [`roles`]: `plays:` (an entity playing a runtime role, or named like one) and the roles that must be bound;
//! - [`routes`]: route syntax and no two routes alike.
//!
//! Every check reports in source order after sorting, so the order in which checks run only
//! matters for problems at the same position.

mod access;
mod endpoint;
mod entity;
mod enums;
mod field;
mod handles;
mod hints;
mod hook_calls;
mod list;
mod op;
mod relations;
mod roles;
mod routes;
mod service;
mod shorthand;
mod virtuals;

use marked_yaml::Spanned;

use crate::catalogue::Code;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::hooks::HookCatalog;
use crate::ir::{Endpoint, Ir, Tenancy};
use crate::schema::{self, SchemaFile};
use crate::span::Pos;

pub(crate) use hints::suggest;
use hints::{backticked, did_you_mean};

/// Checks `file` against the hooks in `catalog` and resolves it.
pub fn validate(mut file: SchemaFile, catalog: &HookCatalog) -> Result<Ir, Diagnostics> {
    let mut cx = Cx {
        diags: Diagnostics::default(),
        catalog,
        access_roles: file.access.iter().flat_map(|a| a.roles.iter().map(|r| r.to_string())).collect(),
        access_default: file.access.as_ref().and_then(|a| a.default.clone()),
        entity_auth: None,
        rules_used: false,
        first_rule: None,
        offered_roles: Vec::new(),
        role_enums: Default::default(),
    };
    cx.expand_shorthands(&mut file);
    cx.role_enums = enums::role_enums(&file, catalog);
    let ir = cx.schema(&file);
    if cx.diags.is_empty() { Ok(ir) } else { Err(cx.diags.sorted()) }
}

/// The checker: what it has found so far, and what later checks need from earlier ones.
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
    /// The roles some entity offers to play (by `plays:` or by its name), bound or not.
    offered_roles: Vec<String>,
    /// The fields roles read through runtime vocabulary enums.
    role_enums: enums::RoleEnums<'a>,
}

/// What every entity check may consult: the whole file, and what was resolved before entities.
struct SchemaCx<'s> {
    file: &'s SchemaFile,
    tenancy: Option<&'s Tenancy>,
    /// The service's route prefix, without a trailing `/` (empty when there is none).
    prefix: &'s str,
    /// Every declared entity, for "did you mean" hints.
    entity_names: Vec<&'s str>,
}

fn flag(value: &Option<Spanned<bool>>) -> bool {
    value.as_ref().is_some_and(|v| **v)
}

impl Cx<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// The whole schema: service settings, tenancy, entities, endpoints, roles, then the checks
    /// that need all of them.
    fn schema(&mut self, file: &SchemaFile) -> Ir {
        self.check_version(file);
        let prefix = self.prefix(file);
        let title = file.service.title.clone().unwrap_or_else(|| "Generated API".to_owned());
        let tenancy = file.tenancy.as_ref().and_then(|t| self.tenancy(t, file, &prefix));
        if file.entities.is_empty() {
            self.error(Diagnostic::error(
                Code::NoEntities,
                Pos { line: 1, column: 1 },
                "the schema declares no entities",
            ));
        }
        let schema = SchemaCx {
            file,
            tenancy: tenancy.as_ref(),
            prefix: &prefix,
            entity_names: file.entities.keys().map(|k| k.as_str()).collect(),
        };
        let entities: Vec<_> = file.entities.iter().map(|(name, def)| self.entity(&schema, name, def)).collect();
        self.check_relations(file, &entities);
        let endpoints: Vec<Endpoint> =
            file.endpoints.iter().filter_map(|(name, def)| self.endpoint(name, def, tenancy.as_ref())).collect();
        let roles = self.roles(file, &entities, tenancy.as_ref());
        self.check_roles_complete(file, &endpoints, &roles);
        self.check_hook_roles(&entities, &roles);
        let ir = Ir { rules: self.rules_used, title, prefix, tenancy, entities, endpoints, roles };
        self.check_routes(&ir, file);
        ir
    }

    /// One of a closed set of words; the first option is the default when the key is absent.
    fn keyword<T: Copy>(
        &mut self,
        value: Option<&Spanned<String>>,
        code: Code,
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
}
