//! Foreign keys in a create or update body must point at rows the caller's tenant owns.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::ident;
use super::handler::Handler;
use crate::ir::{Entity, Field, FieldType};

/// One `ensure_ref` per foreign key the body carries; `create` knows required keys are present.
pub(super) fn reference_checks(h: &Handler<'_>, create: bool) -> Vec<TokenStream> {
    h.op.input
        .iter()
        .filter_map(|name| h.entity.field(name))
        .filter_map(|field| reference_check(h, field, create))
        .collect()
}

fn reference_check(h: &Handler<'_>, field: &Field, create: bool) -> Option<TokenStream> {
    let reference = field.references.as_ref()?;
    let target = h.ir.entities.iter().find(|e| e.name == reference.entity)?;
    let check = |value: TokenStream| ensure_ref(h.entity, target, field, value);
    let field_ident = ident(&field.name);
    let required = create && field.required_on_create();
    // UUID keys are `Copy`; string keys are cloned.
    let copy = target.pk().ty == FieldType::Uuid;
    let owned = |value: TokenStream| if copy { quote!(*#value) } else { quote!(#value.clone()) };
    Some(if required {
        check(if copy { quote!(input.#field_ident) } else { quote!(input.#field_ident.clone()) })
    } else if field.nullable && !create {
        let inner = check(owned(quote!(value)));
        quote!(if let ::std::option::Option::Some(::std::option::Option::Some(value)) = &input.#field_ident { #inner })
    } else {
        let inner = check(owned(quote!(value)));
        quote!(if let ::std::option::Option::Some(value) = &input.#field_ident { #inner })
    })
}

/// `ensure_ref::<TARGET>(tx, tenant, value, "FIELD")`, within the tenant when both are scoped.
fn ensure_ref(entity: &Entity, target: &Entity, field: &Field, value: TokenStream) -> TokenStream {
    let module = ident(&target.name);
    let field_name = &field.name;
    let tenant = if target.tenant_scoped && entity.tenant_scoped {
        quote!(::std::option::Option::Some(tenant))
    } else {
        quote!(::std::option::Option::None)
    };
    quote! {
        ::keygate_runtime::crud::ensure_ref::<crate::entities::#module::Entity>(&*tx, #tenant, #value, #field_name).await?;
    }
}
