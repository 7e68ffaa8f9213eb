//! An entity's ops: the standard five unless switched off, then custom ops with an `action` and
//! their own route; for each, its route, encoding, caller rule, response, status and body.

use marked_yaml::Spanned;

use super::hints::{backticked, did_you_mean, is_snake_identifier, suggest};
use super::hook_calls::HookSite;
use super::routes::parse_http;
use super::{Cx, flag};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::hooks::{ParamKind, Phase};
use crate::ir::*;
use crate::schema::{EntityDef, OpDef, OpEntry};
use crate::span::Pos;

/// Where an entity's routes live: its scope (prefix, or the tenant's path) and collection.
struct RouteBase<'a> {
    /// `/api` or `/api/tenants/{tenant}`.
    scope: &'a str,
    /// `/TABLE`.
    collection: String,
}

/// The op being read, as the checks of its settings see it.
pub(super) struct OpSite<'a> {
    pub(super) entity: &'a Entity,
    /// The op's name: the action's for a standard op, the key under `ops:` for a custom one.
    pub(super) name: &'a str,
    pub(super) action: Action,
    pub(super) def: &'a OpDef,
    /// Where the op is written (the entity's name for an op not written at all).
    pub(super) pos: Pos,
}

impl Cx<'_> {
    /// The ops of `entity`: standard ones in canonical order, then custom ones in schema order.
    pub(super) fn ops(&mut self, entity: &Entity, entity_pos: Pos, def: &EntityDef, scope: &str) -> Vec<Op> {
        let base = RouteBase { scope, collection: format!("/{}", entity.table) };
        let mut ops = self.standard_ops(entity, entity_pos, def, &base);
        for (name, entry) in &def.ops {
            if Action::from_name(name).is_some() {
                continue;
            }
            let Some((action, op_def)) = self.custom_op(name, entry, &base) else { continue };
            let site = OpSite { entity, name, action, def: op_def, pos: Pos::of(name) };
            if let Some(op) = self.op(&site, &base) {
                ops.push(op);
            }
        }
        ops
    }

    /// Standard ops exist unless switched off, or on an internal entity only when listed; they
    /// keep their canonical order.
    fn standard_ops(&mut self, entity: &Entity, entity_pos: Pos, def: &EntityDef, base: &RouteBase<'_>) -> Vec<Op> {
        let empty = OpDef::default();
        let internal = flag(&def.internal);
        let mut ops = Vec::new();
        for action in Action::ALL {
            let entry = def.ops.iter().find(|(k, _)| k.as_str() == action.as_str());
            let (op_def, pos) = match entry {
                Some((name, entry)) => match &**entry {
                    OpEntry::Enabled(false) if internal => {
                        self.redundant_op(name, entity);
                        continue;
                    }
                    OpEntry::Enabled(false) => continue,
                    OpEntry::Enabled(true) => (&empty, Pos::of(entry)),
                    OpEntry::Def(op_def) => (&**op_def, Pos::of(entry)),
                },
                None if internal => continue,
                None => (&empty, entity_pos),
            };
            let site = OpSite { entity, name: action.as_str(), action, def: op_def, pos };
            if let Some(op) = self.op(&site, base) {
                ops.push(op);
            }
        }
        ops
    }

    /// `OP: false` on an internal entity, where it is off already.
    fn redundant_op(&mut self, name: &Spanned<String>, entity: &Entity) {
        self.error(
            Diagnostic::error(
                Code::RedundantOp,
                Pos::of(name),
                format!("`{}: false` changes nothing: `{}` is internal", name.as_str(), entity.name),
            )
            .label("already off"),
        );
    }

    /// A custom op's settings and action; it needs both, and its own route.
    fn custom_op<'d>(
        &mut self,
        name: &Spanned<String>,
        entry: &'d Spanned<OpEntry>,
        base: &RouteBase<'_>,
    ) -> Option<(Action, &'d OpDef)> {
        let pos = Pos::of(name);
        let OpEntry::Def(op_def) = &**entry else {
            self.error(
                Diagnostic::error(
                    Code::UnknownOp,
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
            return None;
        };
        let action = self.custom_action(name, op_def)?;
        if op_def.http.is_none() {
            self.error(
                Diagnostic::error(
                    Code::CustomOpWithoutRoute,
                    pos,
                    format!("custom op `{}` needs its own route", name.as_str()),
                )
                .label("missing `http`")
                .help(format!("add `http: POST {}/{}`", base.collection, name.as_str())),
            );
            return None;
        }
        Some((action, op_def))
    }

    /// The `action` a custom op performs.
    fn custom_action(&mut self, name: &Spanned<String>, op_def: &OpDef) -> Option<Action> {
        let Some(action_name) = &op_def.action else {
            self.error(
                Diagnostic::error(Code::UnknownOp, Pos::of(name), format!("custom op `{}` does not say which action it performs", name.as_str()))
                    .label("missing `action`")
                    .help(match suggest(name, Action::ALL.iter().map(|a| a.as_str())) {
                        Some(s) => format!("did you mean the standard op `{s}`? otherwise add `action: create` (or read, update, delete, list)"),
                        None => "add `action: create` (or read, update, delete, list)".into(),
                    }),
            );
            return None;
        };
        let action = Action::from_name(action_name);
        if action.is_none() {
            self.error(
                Diagnostic::error(
                    Code::UnknownAction,
                    Pos::of(action_name),
                    format!("unknown action `{}`", action_name.as_str()),
                )
                .label("not a standard action")
                .help(match did_you_mean(action_name, Action::ALL.iter().map(|a| a.as_str())) {
                    Some(s) => s,
                    None => "actions are `create`, `read`, `update`, `delete` and `list`".into(),
                }),
            );
        }
        action
    }

    /// Resolves one op; `None` when its name or route cannot be used.
    fn op(&mut self, site: &OpSite<'_>, base: &RouteBase<'_>) -> Option<Op> {
        let (entity, name, action, def, pos) = (site.entity, site.name, site.action, site.def, site.pos);
        self.check_no_alias(site);
        if !is_snake_identifier(name) {
            self.error(
                Diagnostic::error(Code::BadName, pos, format!("op name `{name}` is not a snake_case identifier"))
                    .label("used in the generated handler's name"),
            );
            return None;
        }
        let (method, path) = self.op_route(site, &base.collection)?;
        let encoding = self.keyword(
            def.encoding.as_ref(),
            Code::BadEncoding,
            "encoding",
            &[("json", Encoding::Json), ("form", Encoding::Form)],
        );
        let (auth, rule) = self.rule(def.auth.as_ref(), entity);
        let response = self.keyword(
            def.response.as_ref(),
            Code::BadResponse,
            "response shape",
            &[("record", ResponseShape::Record), ("empty", ResponseShape::Empty)],
        );
        let status = self.op_status(site, response);
        let input = self.op_input(site);
        let list = (action == Action::List).then(|| self.list_spec(site));
        self.check_list_settings(site);
        let hooks = HookSite { entity, op: name, action, input: &input };
        let pre = self.hook_calls(&hooks, &def.pre, Phase::Pre);
        let post = self.hook_calls(&hooks, &def.post, Phase::Post);
        let op = Op {
            name: name.to_owned(),
            action,
            method,
            path: format!("{}{path}", base.scope),
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

    /// `action` names what a custom op does; a standard op already is its action.
    fn check_no_alias(&mut self, site: &OpSite<'_>) {
        let name = site.name;
        if let Some(alias) = &site.def.action
            && Action::from_name(name).is_some()
        {
            self.error(
                Diagnostic::error(
                    Code::UnknownAction,
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
    }

    /// `http: METHOD /path` below the entity's scope; an action on one row needs `{id}`.
    fn op_route(&mut self, site: &OpSite<'_>, collection: &str) -> Option<(String, String)> {
        let Some(http) = &site.def.http else {
            return Some(match site.action {
                Action::Create => ("POST".into(), collection.to_owned()),
                Action::List => ("GET".into(), collection.to_owned()),
                Action::Read => ("GET".into(), format!("{collection}/{{id}}")),
                Action::Update => ("PATCH".into(), format!("{collection}/{{id}}")),
                Action::Delete => ("DELETE".into(), format!("{collection}/{{id}}")),
            });
        };
        match parse_http(http, &["{id}"]) {
            Ok((method, path)) => {
                if site.action.is_item() && !path.contains("{id}") {
                    self.error(
                        Diagnostic::error(
                            Code::BadHttp,
                            Pos::of(http),
                            format!("`{}` acts on one row, so its path needs `{{id}}`", site.name),
                        )
                        .label("no `{id}` segment")
                        .help(format!("write `http: {method} {path}/{{id}}`")),
                    );
                }
                Some((method, path))
            }
            Err(help) => {
                self.error(
                    Diagnostic::error(Code::BadHttp, Pos::of(http), format!("cannot read route `{}`", http.as_str()))
                        .label("expected `METHOD /path`")
                        .help(help),
                );
                None
            }
        }
    }

    /// The success status: `status:`, or 201 for creates, 204 for deletes and empty responses,
    /// 200 otherwise; it must be a 2xx.
    fn op_status(&mut self, site: &OpSite<'_>, response: ResponseShape) -> u16 {
        let default_status = match (site.action, response) {
            (Action::Create, _) => 201,
            (Action::Delete, _) | (_, ResponseShape::Empty) => 204,
            _ => 200,
        };
        let status = site.def.status.as_ref().map(|s| **s).unwrap_or(default_status);
        if !(200..300).contains(&status) {
            let at = site.def.status.as_ref().map(Pos::of).unwrap_or(site.pos);
            self.error(
                Diagnostic::error(Code::BadStatus, at, format!("success status {status} is not a 2xx code"))
                    .label("not a success"),
            );
        }
        status
    }

    /// Filters, sort keys and page sizes belong to list ops only.
    fn check_list_settings(&mut self, site: &OpSite<'_>) {
        if site.action == Action::List {
            return;
        }
        let def = site.def;
        let settings = [
            ("filters", def.filters.is_some()),
            ("sort", def.sort.is_some()),
            ("page_size", def.page_size.is_some()),
            ("max_page_size", def.max_page_size.is_some()),
        ];
        for (key, _) in settings.into_iter().filter(|(_, written)| *written) {
            self.error(
                Diagnostic::error(
                    Code::ListSetting,
                    site.pos,
                    format!("`{key}` only applies to list ops, and `{}` is a `{}`", site.name, site.action.as_str()),
                )
                .label("not a list op"),
            );
        }
    }

    /// Which fields a create/update body accepts: `input:`, or every writable one.
    fn op_input(&mut self, site: &OpSite<'_>) -> Vec<String> {
        let (entity, op, action) = (site.entity, site.name, site.action);
        if !action.has_body() {
            if let Some(first) = site.def.input.as_ref().and_then(|input| input.first()) {
                self.error(
                    Diagnostic::error(
                        Code::InputWithoutBody,
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
        let Some(requested) = &site.def.input else { return all };
        let mut chosen = Vec::new();
        for name in requested {
            if all.iter().any(|a| a == name.as_str()) {
                chosen.push(name.to_string());
                continue;
            }
            self.error(
                Diagnostic::error(
                    Code::BadInput,
                    Pos::of(name),
                    format!("`{op}` cannot accept `{}`: it {}", name.as_str(), not_writable(entity, name)),
                )
                .label("not writable")
                .help(match did_you_mean(name, all.iter().map(String::as_str)) {
                    Some(s) => s,
                    None => format!("writable fields are {}", backticked(all.iter().map(String::as_str))),
                }),
            );
        }
        chosen
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
                    Diagnostic::error(
                        Code::ColumnNeverSet,
                        pos,
                        format!("`{}` never sets `{}.{}`, which cannot be NULL", op.name, entity.name, field.name),
                    )
                    .label("the insert would fail"),
                );
            }
        }
    }
}

/// Why a body cannot carry `name`, completing "it ...".
fn not_writable(entity: &Entity, name: &str) -> String {
    match (entity.field(name), entity.virtual_field(name)) {
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
    }
}
