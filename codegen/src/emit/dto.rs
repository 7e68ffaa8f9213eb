//! Request bodies (one per op that takes a body) and response views (one per entity).
//!
//! Views carry only readable fields, so a hidden column cannot reach a response by construction.
//! The constraints of string-valued fields are emitted once per entity (`FieldChecks`), and every
//! body's `validate()` calls them, as does runtime code writing those fields directly.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;

use super::{ident, model_type};
use crate::ir::{Action, Entity, FieldType, Format, Ir, Op};

pub(super) fn emit_dto(ir: &Ir) -> TokenStream {
    let items = ir.entities.iter().map(|entity| {
        let view = emit_view(entity, ir);
        let field_checks = emit_field_checks(entity);
        let inputs = entity.ops.iter().filter(|op| op.action.has_body()).map(|op| emit_input(entity, op));
        quote! {
            #view
            #field_checks
            #(#inputs)*
        }
    });
    quote!(#(#items)*)
}

/// `CreateUser`, `UpdateUser`, `RevokeRevokedToken`, ...
pub(crate) fn input_type_name(entity: &Entity, op: &Op) -> String {
    format!("{}{}", op.name.to_upper_camel_case(), entity.pascal)
}

/// `UserView`.
pub(crate) fn view_type_name(entity: &Entity) -> String {
    format!("{}View", entity.pascal)
}

fn emit_view(entity: &Entity, ir: &Ir) -> TokenStream {
    let name = ident(&view_type_name(entity));
    let module = ident(&entity.name);
    let doc = format!("What responses show of a `{}` row.", entity.name);
    let readable: Vec<_> = entity.fields.iter().filter(|f| f.visibility.is_readable()).collect();
    let stored = readable.iter().map(|f| {
        let field = ident(&f.name);
        let ty = model_type(&f.ty, f.nullable);
        let doc = (!f.doc.is_empty()).then(|| {
            let doc = &f.doc;
            quote!(#[doc = #doc])
        });
        quote! { #doc pub #field: #ty, }
    });
    let outputs = entity.virtuals.iter().filter(|v| v.output).map(|v| {
        let field = ident(&v.name);
        let ty = model_type(&v.ty, false);
        let doc = if v.doc.is_empty() { "Filled in by a hook on some ops only.".to_owned() } else { v.doc.clone() };
        quote! {
            #[doc = #doc]
            #[serde(skip_serializing_if = "::std::option::Option::is_none")]
            pub #field: ::std::option::Option<#ty>,
        }
    });
    let relations = entity.relations.iter().map(|r| {
        let field = ident(&r.name);
        let child = ir.entities.iter().find(|e| e.name == r.entity).expect("validated relation");
        let child_view = ident(&view_type_name(child));
        let doc = format!("The `{}` rows of this row; present with `?include={}`.", r.entity, r.name);
        quote! {
            #[doc = #doc]
            #[serde(skip_serializing_if = "::std::option::Option::is_none")]
            pub #field: ::std::option::Option<::std::vec::Vec<#child_view>>,
        }
    });
    let copy = readable.iter().map(|f| {
        let field = ident(&f.name);
        quote!(#field: model.#field,)
    });
    let empty_outputs = entity.virtuals.iter().filter(|v| v.output).map(|v| {
        let field = ident(&v.name);
        quote!(#field: ::std::option::Option::None,)
    });
    let empty_relations = entity.relations.iter().map(|r| {
        let field = ident(&r.name);
        quote!(#field: ::std::option::Option::None,)
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, ::serde::Serialize)]
        pub struct #name {
            #(#stored)*
            #(#outputs)*
            #(#relations)*
        }

        impl ::std::convert::From<crate::entities::#module::Model> for #name {
            fn from(model: crate::entities::#module::Model) -> Self {
                Self {
                    #(#copy)*
                    #(#empty_outputs)*
                    #(#empty_relations)*
                }
            }
        }
    }
}

fn emit_input(entity: &Entity, op: &Op) -> TokenStream {
    let name = ident(&input_type_name(entity, op));
    let doc = format!("Body of `{}.{}` (`{} {}`).", entity.name, op.name, op.method, op.path);
    let is_create = op.action == Action::Create;
    let mut fields = Vec::new();
    let mut checks = Vec::new();
    for input in &op.input {
        let field_ident = ident(input);
        let range = entity.field(input).map(|f| (f.minimum, f.maximum)).unwrap_or_default();
        let (ty, nullable, required, field_doc) = if let Some(f) = entity.field(input) {
            (&f.ty, f.nullable, is_create && f.required_on_create(), f.doc.clone())
        } else {
            let v = entity.virtual_field(input).expect("validated input");
            (&v.ty, false, is_create && v.required, v.doc.clone())
        };
        let base = model_type(ty, false);
        let doc = (!field_doc.is_empty()).then(|| quote!(#[doc = #field_doc]));
        // Update bodies are partial: an absent field leaves the column alone, and for nullable
        // columns an explicit `null` clears it (hence `Option<Option<T>>`).
        let (declared, access) = if required {
            (quote!(pub #field_ident: #base,), Access::Plain)
        } else if nullable && !is_create {
            (
                quote! {
                    #[serde(default, deserialize_with = "::keygate_runtime::serde_helpers::nullable")]
                    pub #field_ident: ::std::option::Option<::std::option::Option<#base>>,
                },
                Access::Double,
            )
        } else if !nullable && (!is_create || entity.field(input).is_some()) {
            // Absent leaves the column alone (or takes its default on create); `null` cannot be
            // stored, so it is refused rather than read as "absent".
            (
                quote! {
                    #[serde(default, deserialize_with = "::keygate_runtime::serde_helpers::not_null")]
                    pub #field_ident: ::std::option::Option<#base>,
                },
                Access::Single,
            )
        } else {
            (
                quote! {
                    #[serde(default)]
                    pub #field_ident: ::std::option::Option<#base>,
                },
                Access::Single,
            )
        };
        fields.push(quote!(#doc #declared));
        let module = ident(&entity.name);
        let mut field_checks = Vec::new();
        match ty {
            FieldType::String | FieldType::Text => {
                field_checks.push(quote!(checks.field::<crate::entities::#module::Entity>(#input, value);))
            }
            // Deserializing took only values of its Rust enum; the schema may allow fewer.
            FieldType::Enum { .. } => {
                field_checks.push(quote!(checks.field::<crate::entities::#module::Entity>(#input, value.as_str());))
            }
            FieldType::Strings => field_checks.push(quote!(checks.items(#input, &value.0);)),
            FieldType::Json => field_checks.push(quote!(checks.json(#input, value);)),
            _ => {}
        }
        if let Some(n) = range.0 {
            field_checks.push(quote!(checks.at_least(#input, *value, #n);));
        }
        if let Some(n) = range.1 {
            field_checks.push(quote!(checks.at_most(#input, *value, #n);));
        }
        if field_checks.is_empty() {
            continue;
        }
        checks.push(match access {
            Access::Plain => quote! { { let value = &self.#field_ident; #(#field_checks)* } },
            Access::Single => quote! { if let ::std::option::Option::Some(value) = &self.#field_ident { #(#field_checks)* } },
            Access::Double => quote! { if let ::std::option::Option::Some(::std::option::Option::Some(value)) = &self.#field_ident { #(#field_checks)* } },
        });
    }
    quote! {
        #[doc = #doc]
        #[derive(Debug, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct #name {
            #(#fields)*
        }

        impl #name {
            /// Checks lengths and formats; reports every bad field at once.
            pub fn validate(&self) -> ::std::result::Result<(), ::keygate_runtime::ApiError> {
                #[allow(unused_mut)]
                let mut checks = ::keygate_runtime::check::Checks::default();
                #(#checks)*
                checks.finish()
            }
        }
    }
}

enum Access {
    Plain,
    Single,
    Double,
}

/// `impl FieldChecks for {entity}::Entity`: the declared constraints of every string-valued
/// field a request may carry (writable stored fields and virtual inputs), by field name.
fn emit_field_checks(entity: &Entity) -> TokenStream {
    let module = ident(&entity.name);
    let stored = entity.fields.iter().filter(|f| f.visibility.is_writable() && !f.primary_key).map(|f| {
        let values = match &f.ty {
            FieldType::Enum { values, .. } => Some(values.as_slice()),
            _ => None,
        };
        (&f.name, &f.ty, f.min_length, f.max_length, f.format, values)
    });
    let virtuals =
        entity.virtuals.iter().filter(|v| v.input).map(|v| (&v.name, &v.ty, v.min_length, v.max_length, None, None));
    let arms: Vec<_> = stored
        .chain(virtuals)
        .filter_map(|(name, ty, min, max, format, values)| {
            let mut checks = Vec::new();
            match ty {
                FieldType::String => checks.push(quote!(checks.single_line(field, value);)),
                FieldType::Text => checks.push(quote!(checks.multi_line(field, value);)),
                FieldType::Enum { .. } => {}
                _ => return None,
            }
            if let Some(n) = max {
                checks.push(quote!(checks.max_len(field, value, #n);));
            }
            if let Some(n) = min {
                checks.push(quote!(checks.min_len(field, value, #n);));
            }
            match format {
                Some(Format::Email) => checks.push(quote!(checks.email(field, value);)),
                Some(Format::Uri) => checks.push(quote!(checks.uri(field, value);)),
                Some(Format::Slug) => checks.push(quote!(checks.slug(field, value);)),
                None => {}
            }
            if let Some(values) = values {
                checks.push(quote!(checks.one_of(field, value, &[#(#values),*]);));
            }
            Some((name, quote!(#(#checks)*)))
        })
        .collect();
    let doc = format!("Declared constraints of `{}`'s string-valued fields.", entity.name);
    let body = match arms.as_slice() {
        [] => quote!(let _ = (checks, field, value);),
        [(name, checks)] => quote! {
            if field == #name {
                #checks
            }
        },
        arms => {
            let arms = arms.iter().map(|(name, checks)| quote!(#name => { #checks }));
            quote! {
                match field {
                    #(#arms)*
                    _ => {}
                }
            }
        }
    };
    quote! {
        #[doc = #doc]
        impl ::keygate_runtime::check::FieldChecks for crate::entities::#module::Entity {
            fn check_str(checks: &mut ::keygate_runtime::check::Checks, field: &str, value: &str) {
                #body
            }
        }
    }
}
