//! The plumbing the writing actions (create, update, delete) share: the body, the prepare hooks
//! (before the write transaction opens), the transaction, the pre and post hooks in schema order
//! with their context and outputs, the view of the written row, and the commit.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::ident;
use super::handler::Handler;
use crate::hooks::{ParamKind, Phase};
use crate::ir::{Auth, FieldType, HookCall, ResponseShape, Virtual};

impl Handler<'_> {
    /// Moves the body out of its extractor and checks its values.
    pub(super) fn read_body(&self) -> Option<TokenStream> {
        self.op.action.has_body().then(|| {
            quote! {
                let input = body.into_inner();
                input.validate()?;
            }
        })
    }

    /// Opens the write transaction.
    pub(super) fn begin(&self) -> TokenStream {
        quote!(let tx = rt.begin_write().await?;)
    }

    /// Whether a pre hook sets a column (the row must then be mutable).
    pub(super) fn column_hooks(&self) -> bool {
        self.op.pre.iter().flat_map(|c| &c.bindings).any(|b| b.kind == ParamKind::Column)
    }

    /// Only outputs some hook of this op fills; the others stay `None` in the view.
    fn outputs(&self) -> Vec<&Virtual> {
        let op = self.op;
        self.entity
            .virtuals
            .iter()
            .filter(|v| {
                v.output
                    && op
                        .pre
                        .iter()
                        .chain(&op.post)
                        .flat_map(|c| &c.bindings)
                        .any(|b| b.kind == ParamKind::Output && b.field == v.name)
            })
            .collect()
    }

    /// The `pre:` hooks of `phase` (prepare or pre), in schema order.
    fn listed(&self, phase: Phase) -> impl Iterator<Item = &HookCall> {
        self.op.pre.iter().filter(move |call| call.phase == phase)
    }

    /// Whether the op has prepare hooks.
    fn prepares(&self) -> bool {
        self.listed(Phase::Prepare).next().is_some()
    }

    /// `let mut out_FIELD = None;` for each output a hook fills.
    fn declare_outputs(&self) -> Option<TokenStream> {
        let outputs = self.outputs();
        (!outputs.is_empty()).then(|| {
            let locals = outputs.iter().map(|v| {
                let local = ident(&format!("out_{}", v.name));
                quote!(let mut #local = ::std::option::Option::None;)
            });
            quote!(#(#locals)*)
        })
    }

    /// The columns prepare hooks set, each once, in the order they are first bound.
    fn prepared_columns(&self) -> Vec<&str> {
        let mut columns: Vec<&str> = Vec::new();
        for binding in self.listed(Phase::Prepare).flat_map(|c| &c.bindings) {
            if binding.kind == ParamKind::Column && !columns.contains(&binding.field.as_str()) {
                columns.push(&binding.field);
            }
        }
        columns
    }

    /// Before the write transaction opens: output locals, a local for each column a prepare
    /// hook sets (the row does not exist yet), then each prepare hook with its own context.
    pub(super) fn prepare_hooks(&self) -> Option<TokenStream> {
        if !self.prepares() {
            return None;
        }
        let declare_outputs = self.declare_outputs();
        let staged = self.prepared_columns().into_iter().map(|field| {
            let local = ident(&format!("prepared_{field}"));
            quote!(let mut #local = ::sea_orm::ActiveValue::NotSet;)
        });
        let op_id = format!("{}.{}", self.entity.name, self.op.name);
        let tenant = &self.tenant;
        let caller_value = match self.caller_value() {
            value if self.identifies => quote!(#value.clone()),
            value => value,
        };
        let calls = self.listed(Phase::Prepare).map(hook_call);
        Some(quote! {
            #declare_outputs
            #(#staged)*
            {
                let mut ctx = ::keygate_runtime::hook_context::PrepareCtx::new(
                    &rt, #tenant, #op_id, #caller_value,
                );
                #(#calls)*
            }
        })
    }

    /// Moves what the prepare hooks set into the row, once it is built or loaded.
    pub(super) fn apply_prepared(&self) -> TokenStream {
        let assignments = self.prepared_columns().into_iter().map(|field| {
            let (local, field) = (ident(&format!("prepared_{field}")), ident(field));
            quote! {
                if #local.is_set() {
                    row.#field = #local;
                }
            }
        });
        quote!(#(#assignments)*)
    }

    /// Output locals (unless the prepare hooks declared them), the hook context, then each pre
    /// hook.
    pub(super) fn pre_hooks(&self) -> TokenStream {
        let declare_outputs = (!self.prepares()).then(|| self.declare_outputs());
        let pre_ctx = self.hook_ctx();
        let pre_calls = self.listed(Phase::Pre).map(hook_call);
        quote! {
            #declare_outputs
            #pre_ctx
            #(#pre_calls)*
        }
    }

    /// Hooks see who called: the identified caller, or what the op's auth implies without one.
    fn caller_value(&self) -> TokenStream {
        match self.op.auth {
            _ if self.identifies => quote!(caller),
            Auth::Admin => quote!(::keygate_runtime::access::Caller::Admin),
            _ => quote!(::keygate_runtime::access::Caller::Anonymous),
        }
    }

    /// The context pre and post hooks see: runtime, request, transaction, tenant, op, caller and
    /// stored row.
    fn hook_ctx(&self) -> Option<TokenStream> {
        let op = self.op;
        let has_pre = self.listed(Phase::Pre).next().is_some();
        let ctx_mut = has_pre.then(|| quote!(mut));
        let op_id = format!("{}.{}", self.entity.name, op.name);
        let tenant = &self.tenant;
        let caller_value = self.caller_value();
        // Updates and deletes name the stored row, so a hook can compare with what it held.
        let row_value = if op.action.is_item() {
            let id = if self.entity.pk().ty == FieldType::Uuid { quote!(id) } else { quote!(id.clone()) };
            quote!(::std::option::Option::Some(::sea_orm::Value::from(#id)))
        } else {
            quote!(::std::option::Option::None)
        };
        (has_pre || !op.post.is_empty()).then(|| {
            quote! {
                let #ctx_mut ctx = ::keygate_runtime::hook_context::PreCtx::new(
                    &rt, &req, &tx, #tenant, #op_id, #caller_value, #row_value,
                );
            }
        })
    }

    /// The context turned post-write, then each post hook.
    pub(super) fn post_hooks(&self) -> TokenStream {
        let post_ctx = (!self.op.post.is_empty()).then(|| quote!(let mut ctx = ctx.into_post();));
        let post_calls = self.op.post.iter().map(hook_call);
        quote! {
            #post_ctx
            #(#post_calls)*
        }
    }

    /// `let model =` before the write when the response shows the row; an empty response needs
    /// neither the written row nor a view of it.
    pub(super) fn bind_model(&self) -> Option<TokenStream> {
        (self.op.response == ResponseShape::Record).then(|| quote!(let model =))
    }

    /// The view of the written row, with the outputs hooks filled.
    pub(super) fn build_view(&self) -> Option<TokenStream> {
        if self.op.response != ResponseShape::Record {
            return None;
        }
        let outputs = self.outputs();
        let view_mut = (!outputs.is_empty()).then(|| quote!(mut));
        let view_type = &self.view_type;
        let copy_outputs = outputs.iter().map(|v| {
            let local = ident(&format!("out_{}", v.name));
            let field = ident(&v.name);
            quote!(view.#field = #local;)
        });
        Some(quote! {
            let #view_mut view = crate::dto::#view_type::from(model);
            #(#copy_outputs)*
        })
    }

    /// Commits; the transaction reports what it wrote to the runtime, which drops what that
    /// made stale in its caches.
    pub(super) fn commit(&self) -> TokenStream {
        quote!(tx.commit().await?;)
    }
}

/// `path::hook(&mut ctx, bindings...).await?;`, generic over the roles when the hook needs them.
fn hook_call(call: &HookCall) -> TokenStream {
    let path: syn::Path = syn::parse_str(&call.path).expect("hook paths come from parsed Rust");
    let args = call.bindings.iter().map(|binding| {
        let field = ident(&binding.field);
        match binding.kind {
            ParamKind::Input => quote!(::keygate_runtime::hook_context::Input::new(input.#field)),
            // Before the transaction the row does not exist yet: a prepare hook sets a local.
            ParamKind::Column if call.phase == Phase::Prepare => {
                let local = ident(&format!("prepared_{}", binding.field));
                quote!(::keygate_runtime::hook_context::Column::new(&mut #local))
            }
            ParamKind::Column => quote!(::keygate_runtime::hook_context::Column::new(&mut row.#field)),
            ParamKind::Output => {
                let local = ident(&format!("out_{}", binding.field));
                quote!(::keygate_runtime::hook_context::Output::new(&mut #local))
            }
        }
    });
    let roles = call.needs_roles.then(|| quote!(::<crate::entities::Roles>));
    quote!(#path #roles(&mut ctx, #(#args),*).await?;)
}
