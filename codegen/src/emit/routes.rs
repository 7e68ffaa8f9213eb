//! actix-web handlers, one per op, and `configure` to mount them.
//!
//! Handlers are straight-line code: authorise, parse, open the write transaction, resolve the
//! tenant, check references, build the row, run hooks in schema order, write, respond. Everything
//! with a decision in it lives in `keygate_runtime`.

use std::collections::BTreeMap;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::quote;

use super::dto::{input_type_name, view_type_name};
use super::{default_expr, doc_lines, ident};
use crate::hooks::ParamKind;
use crate::ir::{
    Action, Auth, Cors, DefaultValue, Encoding, Endpoint, Entity, ErrorFamily, Field, FieldType, HookCall, Ir, Op,
    ResponseShape,
};

pub(super) fn emit_routes(ir: &Ir) -> TokenStream {
    let scope_fn = ir.tenancy.as_ref().map(|tenancy| {
        let module = ident(&tenancy.entity);
        let key_column = ident(&tenancy.key.to_upper_camel_case());
        quote! {
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
        }
    });
    let mut handlers = Vec::new();
    let mut list_specs = Vec::new();
    let mut routes: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    // The error format answering at each path, and in each directory (for unknown routes).
    let mut families: BTreeMap<String, ErrorFamily> = BTreeMap::new();
    let mut directories: BTreeMap<String, ErrorFamily> = BTreeMap::new();
    // Where families meet, machine formats win (OAuth, then bearer, then problem): a browser
    // reaches pages only by links to declared ones.
    fn answer(map: &mut BTreeMap<String, ErrorFamily>, key: String, family: ErrorFamily) {
        let entry = map.entry(key).or_insert(family);
        *entry = (*entry).min(family);
    }
    for entity in &ir.entities {
        for op in &entity.ops {
            handlers.push(emit_handler(entity, op, ir));
            if let Some(spec) = emit_list_spec(entity, op) {
                list_specs.push(spec);
            }
            routes.entry(op.path.clone()).or_default().push((op.method.clone(), op.handler.clone()));
            answer(&mut families, op.path.clone(), ErrorFamily::Problem);
            answer(&mut directories, directory(&op.path), ErrorFamily::Problem);
        }
    }
    for endpoint in &ir.endpoints {
        handlers.push(emit_endpoint(endpoint));
        routes.entry(endpoint.path.clone()).or_default().push((endpoint.method.clone(), endpoint.route_fn.clone()));
        answer(&mut families, endpoint.path.clone(), endpoint.errors);
        answer(&mut directories, directory(&endpoint.path), endpoint.errors);
    }
    // CORS preflight (OPTIONS) for each path with a cross-origin endpoint.
    let mut preflights: BTreeMap<String, Vec<&Endpoint>> = BTreeMap::new();
    for endpoint in ir.endpoints.iter().filter(|e| e.cors.enabled()) {
        preflights.entry(endpoint.path.clone()).or_default().push(endpoint);
    }
    for (path, endpoints) in &preflights {
        let (function, preflight) = emit_preflight(endpoints);
        handlers.push(preflight);
        routes.entry(path.clone()).or_default().push(("OPTIONS".into(), function));
    }
    // Static segments before parameters, so `/things/revoke` is tried before `/things/{id}`.
    let mut paths: Vec<_> = routes.into_iter().collect();
    paths.sort_by_key(|(path, _)| (path.matches('{').count(), path.clone()));
    let resources = paths.iter().map(|(path, methods)| {
        let allowed = methods.iter().map(|(method, _)| method.as_str()).collect::<Vec<_>>().join(", ");
        let family = family_expr(families.get(path).copied().unwrap_or(ErrorFamily::Problem));
        let routes = methods.iter().map(|(method, handler)| {
            let handler = ident(handler);
            if method == "OPTIONS" {
                return quote!(.route(::actix_web::web::method(::actix_web::http::Method::OPTIONS).to(#handler)));
            }
            let method = ident(&method.to_ascii_lowercase());
            quote!(.route(::actix_web::web::#method().to(#handler)))
        });
        quote! {
            cfg.service(
                ::actix_web::web::resource(#path)
                    #(#routes)*
                    .default_service(::actix_web::web::to(|req: ::actix_web::HttpRequest| async move {
                        ::keygate_runtime::http::method_not_allowed(&req, #allowed, #family)
                    })),
            );
        }
    });
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

fn list_spec_name(entity: &Entity, op: &Op) -> proc_macro2::Ident {
    ident(&format!("{}_{}_SPEC", op.name, entity.name).to_shouty_snake_case())
}

fn field_kind(field: &Field) -> TokenStream {
    let kind = match field.ty {
        FieldType::Uuid => quote!(Uuid),
        FieldType::String | FieldType::Text | FieldType::Enum { .. } => quote!(String),
        FieldType::Integer => quote!(Integer),
        FieldType::Bool => quote!(Bool),
        FieldType::Timestamp => quote!(Timestamp),
        FieldType::Json | FieldType::Strings => unreachable!("validated: not a list field"),
    };
    quote!(::keygate_runtime::list::FieldKind::#kind)
}

fn emit_list_spec(entity: &Entity, op: &Op) -> Option<TokenStream> {
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

fn handler_doc(entity: &Entity, op: &Op) -> String {
    let auth = match op.auth {
        Auth::Admin => "the admin credential (`Authorization: Bearer ...`) or a superadmin".to_owned(),
        Auth::Public => "anyone".to_owned(),
        Auth::Client => "an OAuth client, authenticated by the handler".to_owned(),
        Auth::Rule => {
            let mut who = vec!["the admin credential or a superadmin".to_owned()];
            if op.rule.user {
                who.push("any user of the tenant".to_owned());
            }
            if op.rule.service {
                who.push("any service of the tenant (service key)".to_owned());
            }
            if !op.rule.roles.is_empty() {
                who.push(format!("users with a role of {}", op.rule.roles.join(", ")));
            }
            if op.rule.owner {
                who.push(format!("the owner of the row (`{}`)", entity.owner.as_deref().unwrap_or("?")));
            }
            who.join("; ")
        }
    };
    format!(
        "`{} {}`: `{}.{}` ({} action, schema line {}).\n\n**Permissions**: {auth}.",
        op.method,
        op.path,
        entity.name,
        op.name,
        op.action.as_str(),
        op.line
    )
}

fn emit_handler(entity: &Entity, op: &Op, ir: &Ir) -> TokenStream {
    let name = ident(&op.handler);
    let doc = doc_lines(&handler_doc(entity, op));
    let module = ident(&entity.name);
    let entity_path = quote!(crate::entities::#module::Entity);
    // With `auth:` rules in the schema every non-public op identifies its caller through the
    // runtime (so superadmins pass admin-only ops too); without, the admin extractor suffices.
    let identifies = ir.rules && matches!(op.auth, Auth::Admin | Auth::Rule);
    let caller = match op.auth {
        Auth::Admin if !identifies => quote!(_caller: ::keygate_runtime::auth::Admin,),
        _ => quote!(),
    };
    let tenant_arg = if entity.tenant_scoped {
        quote!(::std::option::Option::Some(tenant))
    } else {
        quote!(::std::option::Option::None)
    };
    let authorize = identifies.then(|| {
        let (user, owner, service, roles) = (op.rule.user, op.rule.owner, op.rule.service, &op.rule.roles);
        // Only owner rules narrow what the op may touch; otherwise the permit is all or nothing.
        let bind = owner.then(|| quote!(let permit =));
        quote! {
            let caller = ::keygate_runtime::access::identify::<crate::entities::Roles>(&rt, &req).await?;
            #bind caller.permit(
                    &::keygate_runtime::access::Rule {
                        public: false,
                        user: #user,
                        owner: #owner,
                        service: #service,
                        roles: &[#(#roles),*],
                    },
                    #tenant_arg,
                )?;
        }
    });
    let owner_field = op.rule.owner.then(|| ident(entity.owner.as_deref().expect("validated owner")));
    let entity_name = &entity.name;
    let check_owner = |model: TokenStream| {
        owner_field.as_ref().map(|field| quote!(permit.check_owner(#model.#field, #entity_name)?;))
    };
    let check_found = check_owner(quote!(model));
    let check_new = owner_field.as_ref().map(|field| quote!(permit.check_new_owner(row.#field.clone().take())?;));
    let filter_owned = owner_field.as_ref().map(|field| {
        let name = field.to_string();
        quote! {
            if let ::std::option::Option::Some(owner) = permit.owner() {
                query.filters.push((#name, owner.into()));
            }
        }
    });
    let body_param = op.action.has_body().then(|| {
        let input = ident(&input_type_name(entity, op));
        match op.encoding {
            Encoding::Json => quote!(body: ::keygate_runtime::http::JsonBody<crate::dto::#input>,),
            Encoding::Form => quote!(body: ::keygate_runtime::http::FormBody<crate::dto::#input>,),
        }
    });
    let writes = !matches!(op.action, Action::Read | Action::List);
    let tenant_value = if entity.tenant_scoped {
        quote!(::std::option::Option::Some(tenant))
    } else {
        quote!(::std::option::Option::None)
    };
    // The tenant and the caller are settled before any transaction opens: identifying a caller
    // may record an API key's use, a write that must not wait on this request's own write turn.
    let early = {
        let resolve = entity.tenant_scoped.then(|| quote!(let tenant = tenant_scope(&rt, rt.db(), &req).await?;));
        quote!(#resolve #authorize)
    };
    let id = op.action.is_item().then(|| {
        let pk_type = match entity.pk().ty {
            FieldType::String => quote!(::std::string::String),
            _ => quote!(::sea_orm::prelude::Uuid),
        };
        quote!(let id = ::keygate_runtime::http::id_param::<#pk_type>(&req)?;)
    });
    let op_id = format!("{}.{}", entity.name, op.name);
    let read_body = op.action.has_body().then(|| {
        quote! {
            let input = body.into_inner();
            input.validate()?;
        }
    });
    let begin = writes.then(|| quote!(let tx = rt.begin_write().await?;));
    // Only outputs some hook of this op fills; the others stay `None` in the view.
    let outputs: Vec<_> = entity
        .virtuals
        .iter()
        .filter(|v| {
            v.output
                && op
                    .pre
                    .iter()
                    .chain(&op.post)
                    .flat_map(|c| &c.bindings)
                    .any(|b| b.kind == ParamKind::Output && b.field == v.name)
        })
        .collect();
    let view_mut = (!outputs.is_empty()).then(|| quote!(mut));
    let column_hooks = op.pre.iter().flat_map(|c| &c.bindings).any(|b| b.kind == ParamKind::Column);
    let uses_req = entity.tenant_scoped
        || op.action.is_item()
        || matches!(op.action, Action::List | Action::Read)
        || (ir.rules && matches!(op.auth, Auth::Admin | Auth::Rule));
    let req_param = if uses_req { quote!(req) } else { quote!(_req) };
    let declare_outputs = (writes && !outputs.is_empty()).then(|| {
        let locals = outputs.iter().map(|v| {
            let local = ident(&format!("out_{}", v.name));
            quote!(let mut #local = ::std::option::Option::None;)
        });
        quote!(#(#locals)*)
    });
    let ctx_mut = (!op.pre.is_empty()).then(|| quote!(mut));
    // Hooks see who called: the identified caller, or what the op's auth implies without one.
    let caller_value = match op.auth {
        _ if identifies => quote!(caller),
        Auth::Admin => quote!(::keygate_runtime::access::Caller::Admin),
        _ => quote!(::keygate_runtime::access::Caller::Anonymous),
    };
    // Updates and deletes name the stored row, so a hook can compare with what it held.
    let row_value = if op.action.is_item() {
        let id = if entity.pk().ty == FieldType::Uuid { quote!(id) } else { quote!(id.clone()) };
        quote!(::std::option::Option::Some(::sea_orm::Value::from(#id)))
    } else {
        quote!(::std::option::Option::None)
    };
    let pre_ctx = (!op.pre.is_empty() || !op.post.is_empty()).then(|| {
        quote! {
            let #ctx_mut ctx = ::keygate_runtime::hook::PreCtx::new(
                &rt, &tx, #tenant_value, #op_id, #caller_value, #row_value,
            );
        }
    });
    let pre_calls = op.pre.iter().map(hook_call);
    let post_calls: Vec<_> = op.post.iter().map(hook_call).collect();
    let post_ctx = (!op.post.is_empty()).then(|| quote!(let mut ctx = ctx.into_post();));
    let view_type = ident(&view_type_name(entity));
    let copy_outputs: Vec<_> = outputs
        .iter()
        .map(|v| {
            let local = ident(&format!("out_{}", v.name));
            let field = ident(&v.name);
            quote!(view.#field = #local;)
        })
        .collect();
    // An empty response needs neither the written row nor a view of it.
    let (bind_model, build_view) = match op.response {
        ResponseShape::Record => (
            quote!(let model =),
            quote! {
                let #view_mut view = crate::dto::#view_type::from(model);
                #(#copy_outputs)*
            },
        ),
        ResponseShape::Empty => (quote!(), quote!()),
    };
    // Renaming or deleting a tenant forgets resolved tenant keys at once.
    let is_tenant_entity = ir.tenancy.as_ref().is_some_and(|t| t.entity == entity.name);
    let forget_tenants = (is_tenant_entity && matches!(op.action, Action::Update | Action::Delete))
        .then(|| quote!(rt.tenants().clear();));
    // A write to an entity that plays a role lets the runtime drop what it cached for the role.
    let roles_played: Vec<String> = ir
        .roles
        .iter()
        .filter(|binding| binding.entity == entity.name)
        .map(|binding| binding.trait_name.to_snake_case())
        .collect();
    let writes = matches!(op.action, Action::Create | Action::Update | Action::Delete);
    let notify_roles = writes.then(|| quote!(#(rt.role_changed(#roles_played);)*));
    let status = op.status;
    let respond = match op.response {
        ResponseShape::Record => quote!(::std::result::Result::Ok(::keygate_runtime::http::respond(#status, &view))),
        ResponseShape::Empty => quote!(::std::result::Result::Ok(::keygate_runtime::http::respond_empty(#status))),
    };

    let body = match op.action {
        Action::Create => {
            let refs = reference_checks(entity, op, ir, true);
            let row = create_row(entity, op);
            let now = entity
                .fields
                .iter()
                .any(|f| !f.implicit && f.default == Some(DefaultValue::Now))
                .then(|| quote!(let now = ::keygate_runtime::now();));
            let row_mut = column_hooks.then(|| quote!(mut));
            quote! {
                #read_body
                #begin
                #(#refs)*
                #now
                let #row_mut row = #row;
                #check_new
                #declare_outputs
                #pre_ctx
                #(#pre_calls)*
                #bind_model ::keygate_runtime::crud::insert::<#entity_path>(&*tx, row).await?;
                #post_ctx
                #(#post_calls)*
                #build_view
                tx.commit().await?;
                #notify_roles
                #respond
            }
        }
        Action::Update => {
            let refs = reference_checks(entity, op, ir, false);
            let assignments = update_assignments(entity, op);
            let now =
                entity.fields.iter().any(|f| f.on_update_now).then(|| quote!(let now = ::keygate_runtime::now();));
            let row_mut = (column_hooks || !assignments.is_empty()).then(|| quote!(mut));
            quote! {
                #read_body
                #begin
                #id
                #(#refs)*
                #now
                let model = ::keygate_runtime::crud::find::<#entity_path>(&*tx, #tenant_value, id).await?;
                #check_found
                let #row_mut row: crate::entities::#module::ActiveModel = model.into();
                #(#assignments)*
                #declare_outputs
                #pre_ctx
                #(#pre_calls)*
                #bind_model ::keygate_runtime::crud::update::<#entity_path>(&*tx, row).await?;
                #post_ctx
                #(#post_calls)*
                #build_view
                tx.commit().await?;
                #forget_tenants
                #notify_roles
                #respond
            }
        }
        Action::Delete => quote! {
            #begin
            #id
            let model = ::keygate_runtime::crud::find::<#entity_path>(&*tx, #tenant_value, id).await?;
            #check_found
            #pre_ctx
            #(#pre_calls)*
            ::keygate_runtime::crud::delete::<#entity_path>(&*tx, model).await?;
            #post_ctx
            #(#post_calls)*
            tx.commit().await?;
            #forget_tenants
            #notify_roles
            ::std::result::Result::Ok(::keygate_runtime::http::respond_empty(#status))
        },
        Action::Read => {
            let names = entity.relations.iter().map(|r| r.name.as_str());
            let includes = entity.relations.iter().map(|relation| {
                let field = ident(&relation.name);
                let name = &relation.name;
                let child = ir.entities.iter().find(|e| e.name == relation.entity).expect("validated relation");
                let child_module = ident(&child.name);
                let child_view = ident(&view_type_name(child));
                let via = ident(&relation.via.to_upper_camel_case());
                let child_tenant = if child.tenant_scoped { tenant_value.clone() } else { quote!(::std::option::Option::None) };
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
            });
            let mutability = (!entity.relations.is_empty()).then(|| quote!(mut));
            let include_binding = if entity.relations.is_empty() { ident("_include") } else { ident("include") };
            quote! {
                #id
                let #include_binding = ::keygate_runtime::http::Include::parse(req.query_string(), &[#(#names),*])?;
                let model = ::keygate_runtime::crud::find::<#entity_path>(rt.db(), #tenant_value, id).await?;
                #check_found
                let #mutability view = crate::dto::#view_type::from(model);
                #(#includes)*
                #respond
            }
        }
        Action::List => {
            let spec = list_spec_name(entity, op);
            let list_mut = filter_owned.is_some().then(|| quote!(mut));
            quote! {
                let #list_mut query = ::keygate_runtime::list::ListQuery::parse(req.query_string(), &#spec)?;
                #filter_owned
                let page = ::keygate_runtime::crud::list::<#entity_path>(rt.db(), #tenant_value, &query).await?;
                let view = page.map(crate::dto::#view_type::from);
                #respond
            }
        }
    };
    quote! {
        #doc
        pub async fn #name(
            #caller
            rt: ::actix_web::web::Data<::keygate_runtime::Runtime>,
            #req_param: ::actix_web::HttpRequest,
            #body_param
        ) -> ::std::result::Result<::actix_web::HttpResponse, ::keygate_runtime::ApiError> {
            #early
            #body
        }
    }
}

fn hook_call(call: &HookCall) -> TokenStream {
    let path: syn::Path = syn::parse_str(&call.path).expect("hook paths come from parsed Rust");
    let args = call.bindings.iter().map(|binding| {
        let field = ident(&binding.field);
        match binding.kind {
            ParamKind::Input => quote!(::keygate_runtime::hook::Input::new(input.#field)),
            ParamKind::Column => quote!(::keygate_runtime::hook::Column::new(&mut row.#field)),
            ParamKind::Output => {
                let local = ident(&format!("out_{}", binding.field));
                quote!(::keygate_runtime::hook::Output::new(&mut #local))
            }
        }
    });
    let roles = call.needs_roles.then(|| quote!(::<crate::entities::Roles>));
    quote!(#path #roles(&mut ctx, #(#args),*).await?;)
}

/// Foreign keys in the body must point at rows the caller's tenant owns.
fn reference_checks(entity: &Entity, op: &Op, ir: &Ir, create: bool) -> Vec<TokenStream> {
    op.input
        .iter()
        .filter_map(|name| entity.field(name))
        .filter_map(|field| {
            let reference = field.references.as_ref()?;
            let target = ir.entities.iter().find(|e| e.name == reference.entity)?;
            let module = ident(&target.name);
            let field_ident = ident(&field.name);
            let field_name = &field.name;
            let tenant = if target.tenant_scoped && entity.tenant_scoped {
                quote!(::std::option::Option::Some(tenant))
            } else {
                quote!(::std::option::Option::None)
            };
            let check = |value: TokenStream| {
                quote! {
                    ::keygate_runtime::crud::ensure_ref::<crate::entities::#module::Entity>(&*tx, #tenant, #value, #field_name).await?;
                }
            };
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
        })
        .collect()
}

fn create_row(entity: &Entity, op: &Op) -> TokenStream {
    let module = ident(&entity.name);
    let assignments = entity.fields.iter().map(|field| {
        let name = ident(&field.name);
        let in_body = op.input.contains(&field.name);
        let value = if field.implicit {
            quote!(::sea_orm::ActiveValue::Set(tenant))
        } else if in_body {
            match (&field.default, field.required_on_create(), field.nullable) {
                (_, true, _) => quote!(::sea_orm::ActiveValue::Set(input.#name)),
                (Some(DefaultValue::EmptyList), false, false) if field.ty == FieldType::Strings => {
                    quote!(::sea_orm::ActiveValue::Set(input.#name.unwrap_or_default()))
                }
                (Some(default), false, false) => {
                    let expr = default_expr(default, &field.ty);
                    if is_cheap(default) {
                        quote!(::sea_orm::ActiveValue::Set(input.#name.unwrap_or(#expr)))
                    } else {
                        quote!(::sea_orm::ActiveValue::Set(input.#name.unwrap_or_else(|| #expr)))
                    }
                }
                (Some(default), false, true) => {
                    let expr = default_expr(default, &field.ty);
                    if is_cheap(default) {
                        quote!(::sea_orm::ActiveValue::Set(input.#name.or(::std::option::Option::Some(#expr))))
                    } else {
                        quote!(::sea_orm::ActiveValue::Set(input.#name.or_else(|| ::std::option::Option::Some(#expr))))
                    }
                }
                (None, false, _) => quote!(::sea_orm::ActiveValue::Set(input.#name)),
            }
        } else {
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
        };
        quote!(#name: #value,)
    });
    quote! {
        crate::entities::#module::ActiveModel {
            #(#assignments)*
        }
    }
}

fn update_assignments(entity: &Entity, op: &Op) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for field in &entity.fields {
        let name = ident(&field.name);
        if op.input.contains(&field.name) {
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

/// Defaults that are plain values (no allocation, no call) need no closure.
fn is_cheap(default: &DefaultValue) -> bool {
    matches!(default, DefaultValue::Now | DefaultValue::Bool(_) | DefaultValue::Integer(_))
}

/// An endpoint's route: authorise, resolve the tenant, read the body, hand the request to its
/// handler; every refusal on the way is written in the endpoint's error family.
fn emit_endpoint(endpoint: &Endpoint) -> TokenStream {
    let name = ident(&endpoint.route_fn);
    let auth = match endpoint.auth {
        Auth::Admin => "the admin credential",
        Auth::Public | Auth::Rule => "anyone",
        Auth::Client => "an OAuth client, authenticated by the handler",
    };
    let doc = doc_lines(&format!(
        "`{} {}`: endpoint `{}` (schema line {}), handled by `{}`.\n\n{}\n\n**Permissions**: {auth}.",
        endpoint.method, endpoint.path, endpoint.name, endpoint.line, endpoint.handler, endpoint.doc
    ));
    let family = family_expr(endpoint.errors);
    let caller = match endpoint.auth {
        Auth::Admin => quote! {
            if let ::std::result::Result::Err(error) = ::keygate_runtime::auth::Admin::check(&req) {
                return errors.render(&req, &error);
            }
        },
        Auth::Public | Auth::Client | Auth::Rule => quote!(),
    };
    let handler: syn::Path = syn::parse_str(&endpoint.handler).expect("handler paths come from parsed Rust");
    let roles = endpoint.needs_roles.then(|| quote!(::<crate::entities::Roles>));
    let (resolve, tenant) = if endpoint.tenant_scoped {
        (
            quote! {
                let tenant = match tenant_scope(&rt, rt.db(), &req).await {
                    ::std::result::Result::Ok(tenant) => tenant,
                    ::std::result::Result::Err(error) => return errors.render(&req, &error),
                };
            },
            quote!(::std::option::Option::Some(tenant)),
        )
    } else {
        (quote!(), quote!(::std::option::Option::None))
    };
    // Only methods with a request body read one (RFC 9110 §9.3: GET and DELETE content has no
    // defined meaning).
    let has_body = matches!(endpoint.method.as_str(), "POST" | "PUT" | "PATCH");
    let call = quote!(#handler #roles (::keygate_runtime::endpoint::EndpointCtx::new(&rt, &req, #tenant, body)).await);
    let (payload, handle) = if has_body {
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
    } else {
        (
            quote!(),
            quote! {
                let body = ::actix_web::web::Bytes::new();
                let result = #call;
            },
        )
    };
    let respond = match endpoint.cors {
        Cors::None => quote!(errors.respond(&req, result)),
        Cors::Any => quote!(::keygate_runtime::cors::any(errors.respond(&req, result))),
        Cors::Registered => quote! {
            let response = errors.respond(&req, result);
            errors.respond(&req, ::keygate_runtime::cors::registered::<crate::entities::Roles>(&rt, &req, tenant, response).await)
        },
    };
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

/// The CORS preflight route of one path, shared by its cross-origin endpoints; returns the
/// function's name and its code.
fn emit_preflight(endpoints: &[&Endpoint]) -> (String, TokenStream) {
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
