//! CORS preflight (`OPTIONS`) routes for cross-origin endpoints.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::{doc_lines, ident};
use crate::ir::{Cors, Endpoint};

/// The CORS preflight route of one path, shared by its cross-origin endpoints; returns the
/// function's name and its code.
pub(super) fn emit_preflight(endpoints: &[&Endpoint]) -> (String, TokenStream) {
    let first = endpoints[0];
    let function = format!("preflight_{}", first.name);
    let name = ident(&function);
    let methods = endpoints.iter().map(|e| e.method.as_str()).collect::<Vec<_>>().join(", ");
    let doc =
        doc_lines(&format!("`OPTIONS {}`: CORS preflight for {methods} (schema line {}).", first.path, first.line));
    let code = if endpoints.iter().any(|e| e.cors == Cors::Registered) {
        quote! {
            #doc
            pub async fn #name(
                rt: ::actix_web::web::Data<::keygate_runtime::Runtime>,
                req: ::actix_web::HttpRequest,
            ) -> ::std::result::Result<::actix_web::HttpResponse, ::keygate_runtime::ApiError> {
                let tenant = tenant_scope(&rt, rt.db(), &req).await?;
                ::keygate_runtime::cors::preflight_registered::<crate::entities::Roles>(&rt, &req, tenant, #methods).await
            }
        }
    } else {
        quote! {
            #doc
            pub async fn #name(req: ::actix_web::HttpRequest) -> ::actix_web::HttpResponse {
                ::keygate_runtime::cors::preflight_any(&req, #methods)
            }
        }
    };
    (function, code)
}
