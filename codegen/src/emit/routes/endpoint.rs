//! An endpoint's route: authorise, resolve the tenant, read the body, hand the request to its
//! handler; every refusal on the way is written in the endpoint's error family.

use proc_macro2::TokenStream;
use quote::quote;

use super::super::{doc_lines, ident};
use super::family_expr;
use crate::ir::{Auth, Cors, Encoding, Endpoint, Ir};

/// The route of `endpoint`; `ir.rules` says whether the schema identifies users, so that
/// superadmins pass `auth: admin` here as they do on ops.
pub(super) fn emit_endpoint(endpoint: &Endpoint, ir: &Ir) -> TokenStream {
    let name = ident(&endpoint.route_fn);
    let doc = endpoint_doc(endpoint);
    let family = family_expr(endpoint.errors);
    let caller = match endpoint.auth {
        // The same callers as an `auth: admin` op: with users, the admin credential or a
        // superadmin; without, the admin credential.
        Auth::Admin if ir.rules => quote! {
            if let ::std::result::Result::Err(error) =
                ::keygate_runtime::access::require_admin::<crate::entities::Roles>(&rt, &req).await
            {
                return errors.render(&req, &error);
            }
        },
        Auth::Admin => quote! {
            if let ::std::result::Result::Err(error) = ::keygate_runtime::admin_credential::Admin::check(&req) {
                return errors.render(&req, &error);
            }
        },
        // A client is authenticated with the request's body, once it is read (`call_handler`).
        Auth::Public | Auth::Client | Auth::Rule => quote!(),
    };
    let (resolve, tenant) = resolve_tenant(endpoint);
    let (payload, handle) = call_handler(endpoint, &tenant);
    let respond = respond(endpoint);
    quote! {
        #doc
        pub async fn #name(
            rt: ::actix_web::web::Data<::keygate_runtime::Runtime>,
            req: ::actix_web::HttpRequest,
            #payload
        ) -> ::actix_web::HttpResponse {
            let errors = #family;
            #caller
            #resolve
            #handle
            #respond
        }
    }
}

fn endpoint_doc(endpoint: &Endpoint) -> TokenStream {
    let auth = match endpoint.auth {
        Auth::Admin => "the admin credential or a superadmin",
        Auth::Public | Auth::Rule => "anyone",
        Auth::Client => "an OAuth client, authenticated before the handler runs (RFC 6749 section 2.3)",
    };
    doc_lines(&format!(
        "`{} {}`: endpoint `{}` (schema line {}), handled by `{}`.\n\n{}\n\n**Permissions**: {auth}.",
        endpoint.method, endpoint.path, endpoint.name, endpoint.line, endpoint.handler, endpoint.doc
    ))
}

/// `let tenant = ...;` (refusing an unknown tenant in the endpoint's format) and the tenant
/// argument of the handler's context.
fn resolve_tenant(endpoint: &Endpoint) -> (TokenStream, TokenStream) {
    if !endpoint.tenant_scoped {
        return (quote!(), quote!(::std::option::Option::None));
    }
    (
        quote! {
            let tenant = match tenant_scope(&rt, rt.db(), &req).await {
                ::std::result::Result::Ok(tenant) => tenant,
                ::std::result::Result::Err(error) => return errors.render(&req, &error),
            };
        },
        quote!(::std::option::Option::Some(tenant)),
    )
}

/// The payload parameter (methods with a body) and the call of the handler, into `result`.
fn call_handler(endpoint: &Endpoint, tenant: &TokenStream) -> (TokenStream, TokenStream) {
    let handler: syn::Path = syn::parse_str(&endpoint.handler).expect("handler paths come from parsed Rust");
    let roles = endpoint.needs_roles.then(|| quote!(::<crate::entities::Roles>));
    let ctx = quote!(::keygate_runtime::endpoint_context::EndpointCtx::new(&rt, &req, #tenant, body));
    let call = match endpoint.auth {
        // The handler is reached only with the client authenticated from this request.
        Auth::Client => quote! {{
            let ctx = #ctx;
            match ::keygate_runtime::oauth::client_auth::authenticate::<crate::entities::Roles>(&ctx).await {
                ::std::result::Result::Ok(client) => #handler #roles (ctx, client).await,
                ::std::result::Result::Err(error) => ::std::result::Result::Err(error),
            }
        }},
        _ => quote!(#handler #roles (#ctx).await),
    };
    // Only methods with a request body read one (RFC 9110 §9.3: GET and DELETE content has no
    // defined meaning).
    if !matches!(endpoint.method.as_str(), "POST" | "PUT" | "PATCH") {
        return (
            quote!(),
            quote! {
                let body = ::actix_web::web::Bytes::new();
                let result = #call;
            },
        );
    }
    let encoding = match endpoint.encoding {
        Encoding::Json => quote!(::keygate_runtime::http::Encoding::Json),
        Encoding::Form => quote!(::keygate_runtime::http::Encoding::Form),
    };
    (
        quote!(payload: ::actix_web::web::Payload,),
        quote! {
            let result = match ::keygate_runtime::http::endpoint_body(&req, payload, #encoding).await {
                ::std::result::Result::Ok(body) => #call,
                ::std::result::Result::Err(error) => ::std::result::Result::Err(error),
            };
        },
    )
}

/// The response in the endpoint's error format, with its CORS headers.
fn respond(endpoint: &Endpoint) -> TokenStream {
    match endpoint.cors {
        Cors::None => quote!(errors.respond(&req, result)),
        Cors::Any => quote!(::keygate_runtime::cors::any(errors.respond(&req, result))),
        Cors::Registered => quote! {
            let response = errors.respond(&req, result);
            errors.respond(&req, ::keygate_runtime::cors::registered::<crate::entities::Roles>(&rt, &req, tenant, response).await)
        },
    }
}
