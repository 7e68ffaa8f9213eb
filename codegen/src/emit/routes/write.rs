//! The plumbing the writing actions (create, update, delete) share: the body, the write
//! transaction, hooks in schema order with their context and outputs, the view of the written
//! row, and the commit.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::ident;
use super::handler::Handler;
use crate::hooks::ParamKind;
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

    /// Output locals, the hook context, then each pre hook.
    pub(super) fn pre_hooks(&self) -> TokenStream {
        let declare_outputs = {
            let outputs = self.outputs();
            (!outputs.is_empty()).then(|| {
                let locals = outputs.iter().map(|v| {
                    let local = ident(&format!("out_{}", v.name));
                    quote!(let mut #local = ::std::option::Option::None;)
                });
                quote!(#(#locals)*)
            })
        };
        let pre_ctx = self.hook_ctx();
        let pre_calls = self.op.pre.iter().map(hook_call);
        quote! {
            #declare_outputs
            #pre_ctx
            #(#pre_calls)*
        }
    }

    /// The context hooks see: runtime, transaction, tenant, op, caller and stored row.
    fn hook_ctx(&self) -> Option<TokenStream> {
        let op = self.op;
        let ctx_mut = (!op.pre.is_empty()).then(|| quote!(mut));
        let op_id = format!("{}.{}", self.entity.name, op.name);
        let tenant = &self.tenant;
        // Hooks see who called: the identified caller, or what the op's auth implies without one.
        let caller_value = match op.auth {
            _ if self.identifies => quote!(caller),
            Auth::Admin => quote!(::keygate_runtime::access::Caller::Admin),
            _ => quote!(::keygate_runtime::access::Caller::Anonymous),
        };
        // Updates and deletes name the stored row, so a hook can compare with what it held.
        let row_value = if op.action.is_item() {
            let id = if self.entity.pk().ty == FieldType::Uuid { quote!(id) } else { quote!(id.clone()) };
            quote!(::std::option::Option::Some(::sea_orm::Value::from(#id)))
        } else {
            quote!(::std::option::Option::None)
        };
        (!op.pre.is_empty() || !op.post.is_empty()).then(|| {
            quote! {
                let #ctx_mut ctx = ::keygate_runtime::hook_context::PreCtx::new(
                    &rt, &tx, #tenant, #op_id, #caller_value, #row_value,
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
