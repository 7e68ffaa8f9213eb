//! `update`: read the body, run the prepare hooks, open the transaction, check the body's
//! references, load the row (the caller's own, under owner rules), apply the fields the body
//! carries, `on_update: now` and what prepare hooks set, run the hooks, write, respond.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::ident;
use super::handler::Handler;
use super::references::reference_checks;

pub(super) fn body(h: &Handler<'_>) -> TokenStream {
    let (entity_path, module, tenant, id) = (&h.entity_path, &h.module, &h.tenant, &h.id);
    let refs = reference_checks(h, false);
    let assignments = update_assignments(h);
    let now = h.entity.fields.iter().any(|f| f.on_update_now).then(|| quote!(let now = ::keygate_runtime::now();));
    let row_mut = (h.column_hooks() || !assignments.is_empty()).then(|| quote!(mut));
    let (read_body, begin, check_found, pre_hooks) = (h.read_body(), h.begin(), h.check_found(), h.pre_hooks());
    let (bind_model, post_hooks, build_view) = (h.bind_model(), h.post_hooks(), h.build_view());
    let (commit, respond) = (h.commit(), &h.respond);
    let (prepare_hooks, apply_prepared) = (h.prepare_hooks(), h.apply_prepared());
    quote! {
        #read_body
        #prepare_hooks
        #begin
        #id
        #(#refs)*
        #now
        let model = ::keygate_runtime::crud::find::<#entity_path>(&*tx, #tenant, id).await?;
        #check_found
        let #row_mut row: crate::entities::#module::ActiveModel = model.into();
        #(#assignments)*
        #apply_prepared
        #pre_hooks
        #bind_model tx.update::<#entity_path>(row).await?;
        #post_hooks
        #build_view
        #commit
        #respond
    }
}

/// `row.FIELD = value` for each field the body carries, and `now` for `on_update: now`.
fn update_assignments(h: &Handler<'_>) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for field in &h.entity.fields {
        let name = ident(&field.name);
        if h.op.input.contains(&field.name) {
            out.push(quote! {
                if let ::std::option::Option::Some(value) = input.#name {
                    row.#name = ::sea_orm::ActiveValue::Set(value);
                }
            });
        } else if field.on_update_now {
            out.push(quote!(row.#name = ::sea_orm::ActiveValue::Set(now);));
        }
    }
    out
}
