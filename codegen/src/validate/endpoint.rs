//! Hand-written endpoints: a route, a scope (tenant or service), a caller class, CORS, an error
//! format and a handler function in the endpoint module.

use marked_yaml::Spanned;

use super::hints::is_snake_identifier;
use super::routes::parse_http;
use super::{Cx, suggest};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::hooks::HandlerSig;
use crate::ir::{Auth, Cors, Encoding, Endpoint, ErrorFamily, Tenancy};
use crate::schema::EndpointDef;
use crate::span::Pos;

/// The endpoint being read.
struct EndpointCx<'e> {
    name: &'e Spanned<String>,
    def: &'e EndpointDef,
    pos: Pos,
}

impl<'a> Cx<'a> {
    /// Resolves one endpoint; `None` when its name, route or handler cannot be used.
    pub(super) fn endpoint(
        &mut self,
        name: &Spanned<String>,
        def: &EndpointDef,
        tenancy: Option<&Tenancy>,
    ) -> Option<Endpoint> {
        let cx = EndpointCx { name, def, pos: Pos::of(name) };
        if !self.check_endpoint_name(&cx) {
            return None;
        }
        let (method, path) = self.endpoint_route(def)?;
        let (tenant_scoped, path) = self.endpoint_scope(&cx, tenancy, path);
        let auth = self.keyword(
            def.auth.as_ref(),
            Code::BadAuth,
            "caller class",
            &[("public", Auth::Public), ("admin", Auth::Admin), ("client", Auth::Client)],
        );
        let cors = self.endpoint_cors(&cx, tenant_scoped);
        let errors = self.keyword(
            def.errors.as_ref(),
            Code::BadErrors,
            "error format",
            &[
                ("problem", ErrorFamily::Problem),
                ("oauth", ErrorFamily::OAuth),
                ("bearer", ErrorFamily::Bearer),
                ("page", ErrorFamily::Page),
            ],
        );
        let handler = self.endpoint_handler(&cx)?;
        self.check_client_auth(&cx, auth, handler, tenant_scoped);
        Some(Endpoint {
            name: name.to_string(),
            method,
            path,
            tenant_scoped,
            auth,
            handler: handler.path.clone(),
            needs_roles: handler.needs_roles,
            encoding: self.keyword(
                def.encoding.as_ref(),
                Code::BadEncoding,
                "encoding",
                &[("json", Encoding::Json), ("form", Encoding::Form)],
            ),
            errors,
            cors,
            route_fn: format!("endpoint_{}", name.as_str()),
            doc: def.doc.clone().unwrap_or_else(|| handler.doc.clone()),
            line: cx.pos.line,
        })
    }

    /// The name is part of the generated route function's name.
    fn check_endpoint_name(&mut self, cx: &EndpointCx<'_>) -> bool {
        let fits = is_snake_identifier(cx.name);
        if !fits {
            self.error(
                Diagnostic::error(
                    Code::BadName,
                    cx.pos,
                    format!("endpoint name `{}` is not a snake_case identifier", cx.name.as_str()),
                )
                .label("used in the generated route's name"),
            );
        }
        fits
    }

    /// `http: METHOD /path`, where `{tenant}` and `{id}` are the path parameters.
    fn endpoint_route(&mut self, def: &EndpointDef) -> Option<(String, String)> {
        match parse_http(&def.http, &["{tenant}", "{id}"]) {
            Ok(parsed) => Some(parsed),
            Err(help) => {
                self.error(
                    Diagnostic::error(
                        Code::BadHttp,
                        Pos::of(&def.http),
                        format!("cannot read route `{}`", def.http.as_str()),
                    )
                    .label("expected `METHOD /path`")
                    .help(help),
                );
                None
            }
        }
    }

    /// Whether the endpoint is tenant-scoped (the default when the schema has tenants), and its
    /// path, which then starts with `/{tenant}` unless it places `{tenant}` itself.
    fn endpoint_scope(&mut self, cx: &EndpointCx<'_>, tenancy: Option<&Tenancy>, path: String) -> (bool, String) {
        // The first option is the default: tenant-scoped when the schema has tenants.
        let scopes = if tenancy.is_some() {
            [("tenant", true), ("service", false)]
        } else {
            [("service", false), ("tenant", true)]
        };
        let tenant_scoped = self.keyword(cx.def.scope.as_ref(), Code::BadScope, "scope", &scopes);
        if tenant_scoped && tenancy.is_none() {
            let at = cx.def.scope.as_ref().map(Pos::of).unwrap_or(cx.pos);
            self.error(
                Diagnostic::error(
                    Code::NoTenancy,
                    at,
                    format!(
                        "endpoint `{}` is tenant-scoped but the schema has no `tenancy:` section",
                        cx.name.as_str()
                    ),
                )
                .label("needs a tenant entity")
                .help("add `tenancy:` or write `scope: service`"),
            );
        }
        if !tenant_scoped && path.contains("{tenant}") {
            self.error(
                Diagnostic::error(
                    Code::BadHttp,
                    Pos::of(&cx.def.http),
                    "`{tenant}` appears in a route with `scope: service`",
                )
                .label("no tenant to resolve")
                .help("remove `{tenant}` or drop `scope: service`"),
            );
        }
        let path = if tenant_scoped && !path.contains("{tenant}") { format!("/{{tenant}}{path}") } else { path };
        (tenant_scoped, path)
    }

    /// `cors: none | any | registered`; registered origins are per tenant.
    fn endpoint_cors(&mut self, cx: &EndpointCx<'_>, tenant_scoped: bool) -> Cors {
        let cors = self.keyword(
            cx.def.cors.as_ref(),
            Code::BadCors,
            "CORS policy",
            &[("none", Cors::None), ("any", Cors::Any), ("registered", Cors::Registered)],
        );
        if cors == Cors::Registered && !tenant_scoped {
            let at = cx.def.cors.as_ref().map(Pos::of).unwrap_or(cx.pos);
            self.error(
                Diagnostic::error(Code::BadCors, at, "`cors: registered` needs a tenant-scoped endpoint")
                    .label("origins are registered per tenant")
                    .help("write `cors: any`, or drop `scope: service`"),
            );
        }
        cors
    }

    /// `auth: client` is what hands the handler its client: the route authenticates one exactly
    /// when the handler takes one, and clients belong to a tenant.
    fn check_client_auth(&mut self, cx: &EndpointCx<'_>, auth: Auth, handler: &HandlerSig, tenant_scoped: bool) {
        let at = cx.def.auth.as_ref().map(Pos::of).unwrap_or(cx.pos);
        let problem = match (auth == Auth::Client, handler.takes_client) {
            (true, false) => Some((
                format!("`auth: client` authenticates a client for handler `{}`, which takes none", handler.name),
                "nothing would use the client".to_owned(),
                format!("add `client: Client<R>` to `{}`, or remove `auth: client`", handler.name),
            )),
            (false, true) => Some((
                format!("handler `{}` takes the client its route authenticates", handler.name),
                "no client is authenticated here".to_owned(),
                "write `auth: client` (RFC 6749 section 2.3 client authentication before the handler)".to_owned(),
            )),
            (true, true) if !tenant_scoped => Some((
                "`auth: client` needs a tenant-scoped endpoint".to_owned(),
                "clients are registered per tenant".to_owned(),
                "drop `scope: service`".to_owned(),
            )),
            _ => None,
        };
        if let Some((message, label, help)) = problem {
            self.error(Diagnostic::error(Code::BadAuth, at, message).label(label).help(help));
        }
    }

    /// The handler function: `handler:`, or the endpoint's own name.
    fn endpoint_handler(&mut self, cx: &EndpointCx<'_>) -> Option<&'a HandlerSig> {
        let handler_name = cx.def.handler.as_ref().map(|h| h.as_str()).unwrap_or(cx.name.as_str());
        let handler_pos = cx.def.handler.as_ref().map(Pos::of).unwrap_or(cx.pos);
        let catalog = self.catalog;
        let handler = catalog.handler(handler_name);
        if handler.is_none() {
            let help = match suggest(handler_name, catalog.handlers.iter().map(|h| h.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "a handler is a `pub async fn NAME(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError>` in the endpoint module".into(),
            };
            self.error(
                Diagnostic::error(
                    Code::UnknownHandler,
                    handler_pos,
                    format!("unknown endpoint handler `{handler_name}`"),
                )
                .label("no handler function has this name")
                .help(help),
            );
        }
        handler
    }
}
