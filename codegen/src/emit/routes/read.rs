//! `read`: load one row (the caller's own, under owner rules) and respond with its view, plus
//! the relations `?include=` asks for.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;

use super::super::dto::view_type_name;
use super::super::ident;
use super::handler::Handler;
use crate::ir::Relation;

pub(super) fn body(h: &Handler<'_>) -> TokenStream {
    let entity = h.entity;
    let (entity_path, tenant, id, view_type, respond) = (&h.entity_path, &h.tenant, &h.id, &h.view_type, &h.respond);
    let names = entity.relations.iter().map(|r| r.name.as_str());
    let includes = entity.relations.iter().map(|relation| include(h, relation));
    let mutability = (!entity.relations.is_empty()).then(|| quote!(mut));
    let include_binding = if entity.relations.is_empty() { ident("_include") } else { ident("include") };
    let check_found = h.check_found();
    quote! {
        #id
        let #include_binding = ::keygate_runtime::http::Include::parse(req.query_string(), &[#(#names),*])?;
        let model = ::keygate_runtime::crud::find::<#entity_path>(rt.db(), #tenant, id).await?;
        #check_found
        let #mutability view = crate::dto::#view_type::from(model);
        #(#includes)*
        #respond
    }
}

/// Loads the children of one relation into the view when `?include=` names it.
fn include(h: &Handler<'_>, relation: &Relation) -> TokenStream {
    let field = ident(&relation.name);
    let name = &relation.name;
    let child = h.ir.entities.iter().find(|e| e.name == relation.entity).expect("validated relation");
    let child_module = ident(&child.name);
    let child_view = ident(&view_type_name(child));
    let via = ident(&relation.via.to_upper_camel_case());
    let child_tenant = if child.tenant_scoped { h.tenant.clone() } else { quote!(::std::option::Option::None) };
    quote! {
        if include.has(#name) {
            let rows = ::keygate_runtime::crud::children::<crate::entities::#child_module::Entity>(
                rt.db(),
                #child_tenant,
                crate::entities::#child_module::Column::#via,
                id,
            )
            .await?;
            view.#field = ::std::option::Option::Some(rows.into_iter().map(crate::dto::#child_view::from).collect());
        }
    }
}
