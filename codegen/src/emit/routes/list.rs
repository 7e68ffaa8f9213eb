//! `list`: parse filters, sort and cursor against the op's `ListSpec` (narrowed to the caller's
//! own rows under owner rules), respond with one page of views.

use heck::ToShoutySnakeCase;
use proc_macro2::TokenStream;
use quote::quote;

use super::super::ident;
use super::handler::Handler;
use crate::ir::{Entity, Field, FieldType, Op};

pub(super) fn body(h: &Handler<'_>) -> TokenStream {
    let (entity_path, tenant, view_type, respond) = (&h.entity_path, &h.tenant, &h.view_type, &h.respond);
    let spec = list_spec_name(h.entity, h.op);
    let filter_owned = h.owner_field.as_ref().map(|field| {
        let name = field.to_string();
        quote! {
            if let ::std::option::Option::Some(owner) = permit.owner() {
                query.filters.push((#name, owner.into()));
            }
        }
    });
    let list_mut = filter_owned.is_some().then(|| quote!(mut));
    quote! {
        let #list_mut query = ::keygate_runtime::list::ListQuery::parse(req.query_string(), &#spec)?;
        #filter_owned
        let page = ::keygate_runtime::crud::list::<#entity_path>(rt.db(), #tenant, &query).await?;
        let view = page.map(crate::dto::#view_type::from);
        #respond
    }
}

/// The `static` `ListSpec` of a list op: its filters, sort keys and page sizes.
pub(super) fn emit_list_spec(entity: &Entity, op: &Op) -> Option<TokenStream> {
    let list = op.list.as_ref()?;
    let name = list_spec_name(entity, op);
    let pair = |field: &String| {
        let kind = field_kind(entity.field(field).expect("validated list field"));
        quote!((#field, #kind))
    };
    let filters = list.filters.iter().map(pair);
    let sort = list.sort.iter().map(pair);
    let page_size = u64::from(list.page_size);
    let max_page_size = u64::from(list.max_page_size);
    let doc = format!("Filters, sort keys and page sizes of `{}.{}`.", entity.name, op.name);
    Some(quote! {
        #[doc = #doc]
        static #name: ::keygate_runtime::list::ListSpec = ::keygate_runtime::list::ListSpec {
            filters: &[#(#filters),*],
            sort: &[#(#sort),*],
            page_size: #page_size,
            max_page_size: #max_page_size,
        };
    })
}

fn list_spec_name(entity: &Entity, op: &Op) -> proc_macro2::Ident {
    ident(&format!("{}_{}_SPEC", op.name, entity.name).to_shouty_snake_case())
}

fn field_kind(field: &Field) -> TokenStream {
    let kind = match &field.ty {
        FieldType::Uuid => quote!(Uuid),
        FieldType::String | FieldType::Text => quote!(String),
        FieldType::Enum { values, .. } => quote!(Enum(&[#(#values),*])),
        FieldType::Integer => quote!(Integer),
        FieldType::Bool => quote!(Bool),
        FieldType::Timestamp => quote!(Timestamp),
        FieldType::Json | FieldType::Strings => unreachable!("validated: not a list field"),
    };
    quote!(::keygate_runtime::list::FieldKind::#kind)
}
