//! An op's `pre:` and `post:` hooks: each names a hook function of the right phase (`pre:` takes
//! prepare and pre hooks, `post:` post hooks), and each of its parameters binds a field of the
//! entity (by its own name, or through `args:`).

use marked_yaml::Spanned;

use super::enums::describe_field;
use super::{Cx, backticked, did_you_mean, suggest};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::hooks::{HookParam, HookSig, ParamKind, Phase};
use crate::ir::{Action, Binding, Entity, FieldType, HookCall};
use crate::schema::{HookArgs, HookRef};
use crate::span::Pos;

/// The op whose hooks are being bound.
pub(super) struct HookSite<'a> {
    pub(super) entity: &'a Entity,
    pub(super) op: &'a str,
    pub(super) action: Action,
    /// The fields its body accepts.
    pub(super) input: &'a [String],
}

/// One hook parameter and the field it binds.
struct ParamSite<'a> {
    sig: &'a HookSig,
    param: &'a HookParam,
    field: &'a str,
    /// For a parameter bound by its own name, how to bind another field (else empty).
    via: String,
}

impl<'a> Cx<'a> {
    /// The hooks listed under `pre:` or `post:` of one op; hooks run only on writes.
    pub(super) fn hook_calls(&mut self, site: &HookSite<'_>, refs: &[Spanned<HookRef>], phase: Phase) -> Vec<HookCall> {
        let mut calls = Vec::new();
        if matches!(site.action, Action::Read | Action::List) {
            if let Some(first) = refs.first() {
                self.error(
                    Diagnostic::error(
                        Code::HookOnRead,
                        Pos::of(first),
                        format!("`{}` is a `{}` op, and hooks run only on writes", site.op, site.action.as_str()),
                    )
                    .label("this hook would never run"),
                );
            }
            return calls;
        }
        for hook_ref in refs {
            let (name, name_pos, args): (&str, Pos, Option<&HookArgs>) = match &**hook_ref {
                HookRef::Bare(name) => (name.as_str(), Pos::of(hook_ref), None),
                HookRef::Bound { hook, args } => (hook.as_str(), Pos::of(hook), Some(args)),
            };
            let Some(sig) = self.hook_sig(site, name, name_pos, phase) else { continue };
            if let Some(call) = self.bind(site, sig, name_pos, args) {
                calls.push(call);
            }
        }
        calls
    }

    /// The hook called `name`, when it exists and runs in `phase`.
    fn hook_sig(&mut self, site: &HookSite<'_>, name: &str, pos: Pos, phase: Phase) -> Option<&'a HookSig> {
        let catalog = self.catalog;
        let Some(sig) = catalog.get(name) else {
            let help = match suggest(name, catalog.hooks.iter().map(|h| h.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "hooks are {}; a new hook is a `pub async fn` taking `&mut {}Ctx<'_>` in the hook module",
                    backticked(catalog.hooks.iter().map(|h| h.name.as_str())),
                    if phase == Phase::Pre { "Pre" } else { "Post" }
                ),
            };
            self.error(
                Diagnostic::error(Code::UnknownHook, pos, format!("unknown hook `{name}`"))
                    .label("no hook function has this name")
                    .help(help),
            );
            return None;
        };
        // `pre:` lists prepare and pre hooks alike: the signature says which runs before the
        // transaction opens.
        if sig.phase.list() != phase.list() {
            let when = match sig.phase {
                Phase::Prepare => "before the write transaction opens",
                Phase::Pre => "before the write",
                Phase::Post => "after the write",
            };
            self.error(
                Diagnostic::error(
                    Code::HookPhase,
                    pos,
                    format!("hook `{name}` runs {when}, so it cannot be a `{}` hook", phase.list()),
                )
                .label(format!("listed under `{}:`", phase.list()))
                .help(format!("move it to `{}:` of `{}`", sig.phase.list(), site.op)),
            );
            return None;
        }
        Some(sig)
    }

    /// Binds every parameter of `sig` to a field; `None` when one cannot be bound.
    fn bind(&mut self, site: &HookSite<'_>, sig: &HookSig, pos: Pos, args: Option<&HookArgs>) -> Option<HookCall> {
        let mut ok = args.is_none_or(|args| self.check_arg_names(sig, args));
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
            let param_site = ParamSite { sig, param, field, via };
            if let Some(problem) = param_problem(site, &param_site) {
                ok = false;
                self.error(
                    Diagnostic::error(Code::HookBinding, at, format!("hook `{}` {problem}", sig.name))
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

    /// Every key under `args:` names a parameter of the hook.
    fn check_arg_names(&mut self, sig: &HookSig, args: &HookArgs) -> bool {
        let mut ok = true;
        for key in args.keys() {
            if sig.params.iter().any(|p| p.name == key.as_str()) {
                continue;
            }
            ok = false;
            self.error(
                Diagnostic::error(
                    Code::UnknownHookParam,
                    Pos::of(key),
                    format!("hook `{}` has no parameter `{}`", sig.name, key.as_str()),
                )
                .label("not a parameter")
                .help(match did_you_mean(key, sig.params.iter().map(|p| p.name.as_str())) {
                    Some(s) => s,
                    None => format!("its parameters are {}", backticked(sig.params.iter().map(|p| p.name.as_str()))),
                }),
            );
        }
        ok
    }
}

/// Why the parameter cannot bind its field, completing "hook `NAME` ...".
fn param_problem(site: &HookSite<'_>, p: &ParamSite<'_>) -> Option<String> {
    match p.param.kind {
        ParamKind::Input => input_problem(site, p),
        ParamKind::Output => output_problem(site, p),
        ParamKind::Column => column_problem(site, p),
    }
}

/// An `Input<T>` takes a virtual input field the op's body accepts.
fn input_problem(site: &HookSite<'_>, p: &ParamSite<'_>) -> Option<String> {
    let (op, field, param) = (site.op, p.field, p.param);
    match site.entity.virtual_field(field) {
        Some(v) if v.input => {
            if !site.action.has_body() || !site.input.iter().any(|i| i == field) {
                Some(format!("`{op}` does not accept `{field}` in its body"))
            } else if !param.ty.accepts_type(&v.ty) {
                Some(format!("parameter `{}` is `{}` but `{field}` is `{}`", param.name, param.ty.rust, v.ty.as_str()))
            } else {
                None
            }
        }
        _ => Some(format!("needs a virtual input field `{field}` on `{}`{}", site.entity.name, p.via)),
    }
}

/// An `Output<T>` fills a virtual output field of a response that has a body.
fn output_problem(site: &HookSite<'_>, p: &ParamSite<'_>) -> Option<String> {
    let (op, field, param) = (site.op, p.field, p.param);
    match site.entity.virtual_field(field) {
        Some(v) if v.output => {
            if site.action == Action::Delete {
                Some(format!("`{op}` deletes a row and returns no body, so it has no output `{field}` to fill"))
            } else if !param.ty.accepts_type(&v.ty) {
                Some(format!("parameter `{}` is `{}` but `{field}` is `{}`", param.name, param.ty.rust, v.ty.as_str()))
            } else {
                None
            }
        }
        _ => Some(format!("needs a virtual output field `{field}` on `{}`{}", site.entity.name, p.via)),
    }
}

/// A `Column<T>` sets a stored, client-assignable column of the row a prepare or pre hook is
/// about to write.
fn column_problem(site: &HookSite<'_>, p: &ParamSite<'_>) -> Option<String> {
    let (op, field, param) = (site.op, p.field, p.param);
    match site.entity.field(field) {
        Some(f) if !f.primary_key && !f.implicit => {
            if p.sig.phase == Phase::Post {
                Some(format!(
                    "runs after the write, so it cannot set column `{field}`; a `Column` parameter needs a pre hook"
                ))
            } else if !site.action.has_body() {
                Some(format!("`{op}` writes no row, so it has no column `{field}` to set"))
            } else if !param.ty.fits(f) {
                // The Rust type of an enum column is the runtime enum a role reads it as, if any.
                let enum_note = match &f.ty {
                    FieldType::Enum { rust, .. } if rust.runtime.is_none() => {
                        "; a hook can bind an enum column only as the runtime enum a role reads it as"
                    }
                    _ => "",
                };
                Some(format!(
                    "parameter `{}` is `{}` but `{field}` is {}{enum_note}",
                    param.name,
                    param.ty.rust,
                    describe_field(f)
                ))
            } else {
                None
            }
        }
        Some(_) => Some(format!("`{field}` is assigned by the server and cannot be set by a hook")),
        None => Some(format!("needs a stored field `{field}` on `{}`{}", site.entity.name, p.via)),
    }
}

/// `` `password` (virtual input `String`), ...``, for the hint of a binding problem.
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
