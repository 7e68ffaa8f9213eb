//! `create`: read the body, run the prepare hooks, open the transaction, check the body's
//! references, build the row (body, defaults, the tenant, what prepare hooks set), run the
//! hooks, insert, respond `201` with the row.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::{default_expr, ident};
use super::handler::Handler;
use super::references::reference_checks;
use crate::ir::{DefaultValue, Field, FieldType};

pub(super) fn body(h: &Handler<'_>) -> TokenStream {
    let (entity, entity_path) = (h.entity, &h.entity_path);
    let refs = reference_checks(h, true);
    let row = create_row(h);
    let now = entity
        .fields
        .iter()
        .any(|f| !f.implicit && f.default == Some(DefaultValue::Now))
        .then(|| quote!(let now = ::keygate_runtime::now();));
    let row_mut = h.column_hooks().then(|| quote!(mut));
    let check_new = h.owner_field.as_ref().map(|field| quote!(permit.check_new_owner(row.#field.clone().take())?;));
    let (read_body, begin, pre_hooks, bind_model) = (h.read_body(), h.begin(), h.pre_hooks(), h.bind_model());
    let (prepare_hooks, apply_prepared) = (h.prepare_hooks(), h.apply_prepared());
    let (post_hooks, build_view, commit, respond) = (h.post_hooks(), h.build_view(), h.commit(), &h.respond);
    quote! {
        #read_body
        #prepare_hooks
        #begin
        #(#refs)*
        #now
        let #row_mut row = #row;
        #apply_prepared
        #check_new
        #pre_hooks
        #bind_model tx.insert::<#entity_path>(row).await?;
        #post_hooks
        #build_view
        #commit
        #respond
    }
}

/// The new row: each column from the body, its default, the tenant, or left to a pre hook.
fn create_row(h: &Handler<'_>) -> TokenStream {
    let module = &h.module;
    let assignments = h.entity.fields.iter().map(|field| {
        let name = ident(&field.name);
        let value = if field.implicit {
            quote!(::sea_orm::ActiveValue::Set(tenant))
        } else if h.op.input.contains(&field.name) {
            from_body(field)
        } else {
            without_body(field)
        };
        quote!(#name: #value,)
    });
    quote! {
        crate::entities::#module::ActiveModel {
            #(#assignments)*
        }
    }
}

/// A column the body may carry: required, or optional with its default (or `None`).
fn from_body(field: &Field) -> TokenStream {
    let name = ident(&field.name);
    match (&field.default, field.required_on_create(), field.nullable) {
        (_, true, _) => quote!(::sea_orm::ActiveValue::Set(input.#name)),
        (Some(DefaultValue::EmptyList), false, false) if field.ty == FieldType::Strings => {
            quote!(::sea_orm::ActiveValue::Set(input.#name.unwrap_or_default()))
        }
        (Some(default), false, false) => {
            let expr = default_expr(default, &field.ty);
            if is_cheap(default, &field.ty) {
                quote!(::sea_orm::ActiveValue::Set(input.#name.unwrap_or(#expr)))
            } else {
                quote!(::sea_orm::ActiveValue::Set(input.#name.unwrap_or_else(|| #expr)))
            }
        }
        (Some(default), false, true) => {
            let expr = default_expr(default, &field.ty);
            if is_cheap(default, &field.ty) {
                quote!(::sea_orm::ActiveValue::Set(input.#name.or(::std::option::Option::Some(#expr))))
            } else {
                quote!(::sea_orm::ActiveValue::Set(input.#name.or_else(|| ::std::option::Option::Some(#expr))))
            }
        }
        (None, false, _) => quote!(::sea_orm::ActiveValue::Set(input.#name)),
    }
}

/// A column the body does not carry: its default, `NULL`, or set by a pre hook.
fn without_body(field: &Field) -> TokenStream {
    match (&field.default, field.nullable) {
        (Some(default), false) => {
            let default = default_expr(default, &field.ty);
            quote!(::sea_orm::ActiveValue::Set(#default))
        }
        (Some(default), true) => {
            let default = default_expr(default, &field.ty);
            quote!(::sea_orm::ActiveValue::Set(::std::option::Option::Some(#default)))
        }
        (None, true) => quote!(::sea_orm::ActiveValue::Set(::std::option::Option::None)),
        // Validated: a pre hook sets it.
        (None, false) => quote!(::sea_orm::ActiveValue::NotSet),
    }
}

/// Defaults that are plain values (no allocation, no call: an enum variant among them) need no
/// closure.
fn is_cheap(default: &DefaultValue, ty: &FieldType) -> bool {
    let variant = matches!((default, ty), (DefaultValue::String(_), FieldType::Enum { .. }));
    variant || matches!(default, DefaultValue::Now | DefaultValue::Bool(_) | DefaultValue::Integer(_))
}
