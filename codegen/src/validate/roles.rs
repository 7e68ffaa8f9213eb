//! `plays: ROLE` on an entity, or an entity named like the role: the entity plays a runtime role
//! (a trait the protocol code reads rows through) when it has the role's fields and, for roles
//! the runtime creates rows of, can be filled by the role's constructor. Handlers, hooks and
//! `auth:` rules that read entities through roles need every role bound.

use super::enums::{describe_field, unknown_type};
use super::{Cx, backticked, suggest};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::hooks::{ConstructorSig, HookCatalog, RoleSig};
use crate::ir::{ConstructorBinding, Cors, Endpoint, Entity, RoleBinding, Tenancy};
use crate::schema::SchemaFile;
use crate::span::Pos;

/// An entity offered for a role, and where the offer is written.
struct Candidate<'e> {
    entity: &'e Entity,
    /// Its `plays:` value, or its name when it plays the role of the same name.
    at: Pos,
}

impl<'a> Cx<'a> {
    /// Every offer to play a role (`plays:`, or an entity named like the role) that binds a
    /// known role to an entity able to play it.
    pub(super) fn roles(
        &mut self,
        file: &SchemaFile,
        entities: &[Entity],
        tenancy: Option<&Tenancy>,
    ) -> Vec<RoleBinding> {
        let mut bindings = Vec::new();
        for (role_name, entity_key, at) in role_offers(self.catalog, file) {
            if self.offered_roles.iter().any(|r| r == role_name) {
                self.error(
                    Diagnostic::error(Code::RoleBinding, at, format!("role `{role_name}` is played twice"))
                        .label("a second entity plays it")
                        .help("one entity plays each role; remove one `plays:`"),
                );
                continue;
            }
            self.offered_roles.push(role_name.to_owned());
            let Some(role) = self.role_sig(role_name, at) else { continue };
            let entity = entities.iter().find(|e| e.name == entity_key).expect("offers come from declared entities");
            let candidate = Candidate { entity, at };
            if let Some(binding) = self.role_binding(role, &candidate, tenancy) {
                bindings.push(binding);
            }
        }
        bindings
    }

    /// The role trait called `name`.
    fn role_sig(&mut self, name: &str, at: Pos) -> Option<&'a RoleSig> {
        let catalog = self.catalog;
        let role = catalog.role(name);
        if role.is_none() {
            let help = match suggest(name, catalog.roles.iter().map(|r| r.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("roles are {}", backticked(catalog.roles.iter().map(|r| r.name.as_str()))),
            };
            self.error(
                Diagnostic::error(Code::UnknownRole, at, format!("unknown role `{name}`"))
                    .label("no role trait has this name")
                    .help(help),
            );
        }
        role
    }

    /// The binding, when the entity can play the role; every reason it cannot is reported.
    fn role_binding(&mut self, role: &RoleSig, c: &Candidate<'_>, tenancy: Option<&Tenancy>) -> Option<RoleBinding> {
        let entity = c.entity;
        // Protocol code finds a role's rows within the tenant, or the tenant row itself.
        let is_tenant = tenancy.is_some_and(|t| t.entity == entity.name);
        let mut ok = true;
        if !entity.tenant_scoped && !is_tenant {
            ok = false;
            self.error(
                Diagnostic::error(
                    Code::RoleBinding,
                    c.at,
                    format!("role `{}` needs a tenant-scoped entity (or the tenant entity)", role.name),
                )
                .label("not tenant-scoped")
                .help(format!("add `tenant_scoped: true` to `{}`", entity.name)),
            );
        }
        ok &= self.check_role_fields(role, c);
        let catalog = self.catalog;
        let columns = super::handles::bind(catalog, role, entity, c.at).unwrap_or_else(|errors| {
            ok = false;
            errors.into_iter().for_each(|error| self.error(error));
            None
        });
        let constructor = catalog.constructor(&role.trait_name);
        if let Some(constructor) = constructor {
            ok &= self.check_constructor(role, constructor, c);
        }
        ok.then(|| RoleBinding {
            trait_name: role.trait_name.clone(),
            path: role.path.clone(),
            entity: entity.name.clone(),
            fields: role.fields.iter().map(|f| (f.name.clone(), f.access)).collect(),
            constructor: constructor.map(|con| ConstructorBinding {
                path: con.path.clone(),
                params: con.params.iter().map(|(p, _)| p.clone()).collect(),
            }),
            columns,
        })
    }

    /// The entity has every field the role reads, of a fitting type.
    fn check_role_fields(&mut self, role: &RoleSig, c: &Candidate<'_>) -> bool {
        let mut ok = true;
        for field in &role.fields {
            let problem = match c.entity.field(&field.name) {
                None => Some(format!("needs a field `{}`", field.name)),
                Some(_) if let Some(unknown) = unknown_type(self.catalog, &field.ty) => {
                    Some(format!("reads `{}` as {unknown}", field.name))
                }
                Some(f) if !field.ty.fits(f) => Some(format!(
                    "needs `{}` to be {}{}, but it is {}",
                    field.name,
                    if field.ty.nullable { "a nullable " } else { "" },
                    field.ty.describe(),
                    describe_field(f)
                )),
                Some(_) => None,
            };
            let Some(problem) = problem else { continue };
            ok = false;
            let reads = role.fields.iter().map(|f| format!("`{}` ({})", f.name, f.ty.rust)).collect::<Vec<_>>();
            self.error(
                Diagnostic::error(
                    Code::RoleBinding,
                    c.at,
                    format!("role `{}` {problem} on `{}`", role.name, c.entity.name),
                )
                .label("cannot play this role")
                .help(format!("`{}` reads {}", role.name, reads.join(", "))),
            );
        }
        ok
    }

    /// The role's constructor can create a row: the entity has each of its parameters, and
    /// every other required field has a default.
    fn check_constructor(&mut self, role: &RoleSig, constructor: &ConstructorSig, c: &Candidate<'_>) -> bool {
        let (mut ok, entity) = (true, c.entity);
        for (param, ty) in &constructor.params {
            let (message, help) = match unknown_type(self.catalog, ty) {
                Some(unknown) => (
                    format!("role `{}` creates rows with `{param}` as {unknown}", role.name),
                    "declare the type with `wire_enum!` in a hook module".to_owned(),
                ),
                None if entity.field(param).is_some_and(|f| ty.fits(f)) => continue,
                None => (
                    format!(
                        "role `{}` creates rows with `{param}` ({}), which `{}` lacks",
                        role.name, ty.rust, entity.name
                    ),
                    format!("add a `{param}` field of that type to `{}`", entity.name),
                ),
            };
            ok = false;
            self.error(Diagnostic::error(Code::RoleBinding, c.at, message).label("cannot play this role").help(help));
        }
        for field in &entity.fields {
            let given = constructor.params.iter().any(|(p, _)| *p == field.name);
            if given || field.nullable || field.default.is_some() {
                continue;
            }
            ok = false;
            self.error(
                Diagnostic::error(
                    Code::RoleBinding,
                    c.at,
                    format!("role `{}` creates `{}` rows but cannot fill `{}`", role.name, entity.name, field.name),
                )
                .label("a required field without a default")
                .help(format!("give `{}.{}` a default or make it nullable", entity.name, field.name)),
            );
        }
        ok
    }

    /// A handler generic over `Roles` needs every role bound; so do `auth:` rules for users,
    /// which identify callers through the account, API key and tenant roles.
    pub(super) fn check_roles_complete(&mut self, file: &SchemaFile, endpoints: &[Endpoint], bindings: &[RoleBinding]) {
        let needs_roles = endpoints.iter().find(|e| e.needs_roles || e.cors == Cors::Registered);
        let Some(endpoint) = needs_roles else {
            if self.rules_used && bindings.len() == self.offered_roles.len() {
                self.check_rule_roles();
            }
            return;
        };
        let missing = self.unbound_roles();
        if missing.is_empty() || bindings.len() < self.offered_roles.len() {
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
                Code::MissingRole,
                pos,
                format!(
                    "endpoint `{}` needs entities for every role; {} unbound",
                    endpoint.name,
                    backticked(missing.iter().copied())
                ),
            )
            .label("its handler reads schema entities through roles")
            .help(format!("add `plays: {}` to the entity that plays it", missing[0])),
        );
    }

    /// Rules identify callers through the account, API key and tenant roles.
    fn check_rule_roles(&mut self) {
        let missing: Vec<&str> = ["account", "api_key", "service_key", "tenant_settings"]
            .into_iter()
            .filter(|r| !self.offered_roles.iter().any(|o| o == r))
            .collect();
        let Some(first) = missing.first() else { return };
        self.error(
            Diagnostic::error(
                Code::MissingRole,
                self.first_rule.unwrap_or_default(),
                format!("`auth:` rules for users need the roles {} bound", backticked(missing.iter().copied())),
            )
            .label("callers are identified through them")
            .help(format!("add `plays: {first}` to the entity that plays it")),
        );
    }

    /// A hook generic over the roles reads entities through them, so every role must be bound.
    pub(super) fn check_hook_roles(&mut self, entities: &[Entity], bindings: &[RoleBinding]) {
        let calls = entities.iter().flat_map(|e| &e.ops).flat_map(|op| op.pre.iter().chain(&op.post));
        let Some(call) = calls.into_iter().find(|call| call.needs_roles) else { return };
        let missing = self.unbound_roles();
        if missing.is_empty() || bindings.len() < self.offered_roles.len() {
            return;
        }
        self.error(
            Diagnostic::error(
                Code::MissingRole,
                Pos { line: call.line, column: 1 },
                format!(
                    "hook `{}` needs entities for every role; {} unbound",
                    call.hook,
                    backticked(missing.iter().copied())
                ),
            )
            .label("it reads schema entities through roles")
            .help(format!("add `plays: {}` to the entity that plays it", missing[0])),
        );
    }
}

impl Cx<'_> {
    /// The runtime's roles no entity offers to play.
    fn unbound_roles(&self) -> Vec<&str> {
        let offered = &self.offered_roles;
        self.catalog.roles.iter().map(|r| r.name.as_str()).filter(|r| !offered.iter().any(|o| o == r)).collect()
    }
}

/// Every offer to play a role, in schema order: `(role, entity, where)`. An entity plays the role
/// its `plays:` names, or else the role named like itself, if the runtime has one.
pub(super) fn role_offers<'f>(catalog: &HookCatalog, file: &'f SchemaFile) -> Vec<(&'f str, &'f str, Pos)> {
    file.entities
        .iter()
        .filter_map(|(name, def)| match &def.plays {
            Some(role) => Some((role.as_str(), name.as_str(), Pos::of(role))),
            None => {
                let named = catalog.role(name).is_some();
                let taken =
                    file.entities.values().any(|d| d.plays.as_ref().is_some_and(|r| r.as_str() == name.as_str()));
                (named && !taken).then(|| (name.as_str(), name.as_str(), Pos::of(name)))
            }
        })
        .collect()
}
