//! actix-web handlers, one per op, and `configure` to mount them.
//!
//! Handlers are straight-line code: authorise, parse, open the write transaction, resolve the
//! tenant, check references, build the row, run hooks in schema order, write, respond. Everything
//! with a decision in it lives in `keygate_runtime`.
//!
//! [`handler`] holds what every op's handler shares (signature, caller, tenant, response) and
//! picks the body by action: [`create`], [`read`], [`list`], [`update`], [`delete`] (custom ops
//! are one of these actions on their own route). [`write`] is the transaction and hook plumbing
//! of the three writing actions, [`references`] their foreign-key checks. Hand-written endpoints
//! get a route from [`endpoint`], and cross-origin ones a CORS preflight from [`preflight`].
//! [`mount`] groups the resources under scopes, so a request is matched against few patterns.

mod create;
mod delete;
mod endpoint;
mod handler;
mod list;
mod mount;
mod preflight;
mod read;
mod references;
mod update;
mod write;

use std::collections::BTreeMap;

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;

use self::mount::Mount;
use super::ident;
use crate::ir::{Endpoint, Entity, ErrorFamily, Ir, Op};

pub(super) fn emit_routes(ir: &Ir) -> TokenStream {
    let scope_fn = tenant_scope_fn(ir);
    let mut table = RouteTable::default();
    for entity in &ir.entities {
        for op in &entity.ops {
            table.add_op(entity, op, ir);
        }
    }
    for endpoint in &ir.endpoints {
        table.add_endpoint(endpoint, ir);
    }
    table.add_preflights(ir);
    let resources = table.resources();
    let RouteTable { handlers, list_specs, directories, .. } = table;
    let endpoint_paths = ir.endpoints.iter().map(|e| {
        let (name, path) = (&e.name, &e.path);
        quote!((#name, #path))
    });
    let directories = directories.iter().map(|(directory, family)| {
        let family = family_expr(*family);
        quote!((#directory, #family))
    });
    quote! {
        /// Every endpoint's route, by name, for handlers that advertise URLs (discovery).
        pub const ENDPOINT_PATHS: &[(&str, &str)] = &[#(#endpoint_paths),*];

        /// The error format answering in each directory of declared routes: an unknown route is
        /// refused in the format of its nearest directory.
        pub const ROUTE_FAMILIES: &[(&str, ::keygate_runtime::ErrorFamily)] = &[#(#directories),*];

        #scope_fn
        #(#list_specs)*
        #(#handlers)*

        /// Fallback of the whole service: an unknown route is a 404 in the format of the
        /// declared routes nearest to it.
        pub async fn not_found(req: ::actix_web::HttpRequest) -> ::actix_web::HttpResponse {
            ::keygate_runtime::http::not_found(&req, ROUTE_FAMILIES)
        }

        /// Mounts every route declared in the schema.
        pub fn configure(cfg: &mut ::actix_web::web::ServiceConfig) {
            #(#resources)*
        }
    }
}

/// `tenant_scope`, when the schema has tenants: the `{tenant}` segment to the tenant's id.
fn tenant_scope_fn(ir: &Ir) -> Option<TokenStream> {
    let tenancy = ir.tenancy.as_ref()?;
    let module = ident(&tenancy.entity);
    let key_column = ident(&tenancy.key.to_upper_camel_case());
    Some(quote! {
        /// Resolves the `{tenant}` path segment to the tenant's id; an unknown tenant is a 404.
        async fn tenant_scope(
            rt: &::keygate_runtime::Runtime,
            db: &impl ::sea_orm::ConnectionTrait,
            req: &::actix_web::HttpRequest,
        ) -> ::std::result::Result<::sea_orm::prelude::Uuid, ::keygate_runtime::ApiError> {
            ::keygate_runtime::tenancy::resolve::<crate::entities::#module::Entity>(
                rt,
                db,
                req,
                crate::entities::#module::Column::#key_column,
            )
            .await
        }
    })
}

/// Every handler, and which path each method of each route is served by.
#[derive(Default)]
struct RouteTable {
    handlers: Vec<TokenStream>,
    list_specs: Vec<TokenStream>,
    /// Path → `(METHOD, handler function)`, in declaration order.
    routes: BTreeMap<String, Vec<(String, String)>>,
    /// The error format answering at each path.
    families: BTreeMap<String, ErrorFamily>,
    /// The error format answering in each directory (for unknown routes).
    directories: BTreeMap<String, ErrorFamily>,
}

impl RouteTable {
    fn add_op(&mut self, entity: &Entity, op: &Op, ir: &Ir) {
        self.handlers.push(handler::emit_handler(entity, op, ir));
        if let Some(spec) = list::emit_list_spec(entity, op) {
            self.list_specs.push(spec);
        }
        self.routes.entry(op.path.clone()).or_default().push((op.method.clone(), op.handler.clone()));
        self.answer(&op.path, ErrorFamily::Problem);
    }

    fn add_endpoint(&mut self, endpoint: &Endpoint, ir: &Ir) {
        self.handlers.push(endpoint::emit_endpoint(endpoint, ir));
        self.routes
            .entry(endpoint.path.clone())
            .or_default()
            .push((endpoint.method.clone(), endpoint.route_fn.clone()));
        self.answer(&endpoint.path, endpoint.errors);
    }

    /// CORS preflight (OPTIONS) for each path with a cross-origin endpoint.
    fn add_preflights(&mut self, ir: &Ir) {
        let mut preflights: BTreeMap<String, Vec<&Endpoint>> = BTreeMap::new();
        for endpoint in ir.endpoints.iter().filter(|e| e.cors.enabled()) {
            preflights.entry(endpoint.path.clone()).or_default().push(endpoint);
        }
        for (path, endpoints) in &preflights {
            let (function, preflight) = preflight::emit_preflight(endpoints);
            self.handlers.push(preflight);
            self.routes.entry(path.clone()).or_default().push(("OPTIONS".into(), function));
        }
    }

    /// Where families meet, machine formats win (OAuth, then bearer, then problem): a browser
    /// reaches pages only by links to declared ones.
    fn answer(&mut self, path: &str, family: ErrorFamily) {
        for (map, key) in [(&mut self.families, path.to_owned()), (&mut self.directories, directory(path))] {
            let entry = map.entry(key).or_insert(family);
            *entry = (*entry).min(family);
        }
    }

    /// The `cfg.service(…)` calls of `configure`: resources grouped under scopes ([`mount`]); a
    /// method a path does not serve is a 405 in the path's error format.
    fn resources(&self) -> Vec<TokenStream> {
        // Static segments before parameters, so `/things/revoke` is tried before `/things/{id}`.
        let mut paths: Vec<&str> = self.routes.keys().map(String::as_str).collect();
        paths.sort_by_key(|path| (path.matches('{').count(), *path));
        mount::plan(&paths)
            .into_iter()
            .map(|mount| match mount {
                Mount::Resource(path) => {
                    let resource = self.resource(path, path);
                    quote!(cfg.service(#resource);)
                }
                Mount::Scope { prefix, paths } => {
                    let resources = paths.iter().map(|path| self.resource(&path[prefix.len()..], path));
                    quote! {
                        cfg.service(
                            ::actix_web::web::scope(#prefix)
                                #(.service(#resources))*
                        );
                    }
                }
            })
            .collect()
    }

    /// `web::resource(pattern)` serving the methods of `path` (the full path; `pattern` is what
    /// is left of it under its scope).
    fn resource(&self, pattern: &str, path: &str) -> TokenStream {
        let methods = &self.routes[path];
        let allowed = methods.iter().map(|(method, _)| method.as_str()).collect::<Vec<_>>().join(", ");
        let family = family_expr(self.families.get(path).copied().unwrap_or(ErrorFamily::Problem));
        let routes = methods.iter().map(|(method, handler)| route(method, handler));
        quote! {
            ::actix_web::web::resource(#pattern)
                #(#routes)*
                .default_service(::actix_web::web::to(|req: ::actix_web::HttpRequest| async move {
                    ::keygate_runtime::http::method_not_allowed(&req, #allowed, #family)
                }))
        }
    }
}

/// `.route(...)` of one method of a resource.
fn route(method: &str, handler: &str) -> TokenStream {
    let handler = ident(handler);
    if method == "OPTIONS" {
        return quote!(.route(::actix_web::web::method(::actix_web::http::Method::OPTIONS).to(#handler)));
    }
    let method = ident(&method.to_ascii_lowercase());
    quote!(.route(::actix_web::web::#method().to(#handler)))
}

/// The directory a route lies in: `/{tenant}/oauth2/token` → `/{tenant}/oauth2/`.
fn directory(path: &str) -> String {
    match path.rfind('/') {
        Some(index) => path[..=index].to_owned(),
        None => "/".to_owned(),
    }
}

fn family_expr(family: ErrorFamily) -> TokenStream {
    let variant = ident(family.variant());
    quote!(::keygate_runtime::ErrorFamily::#variant)
}
