//! What every op's handler shares: its signature, how it identifies and admits its caller, the
//! tenant and row it addresses, and its response; the body comes from the op's action.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::super::dto::{input_type_name, view_type_name};
use super::super::{doc_lines, ident};
use super::{create, delete, list, read, update};
use crate::hooks::Phase;
use crate::ir::{Action, Auth, Encoding, Entity, FieldType, Ir, Op, ResponseShape};

/// One op's handler, as its action's body sees it.
pub(super) struct Handler<'a> {
    pub(super) entity: &'a Entity,
    pub(super) op: &'a Op,
    pub(super) ir: &'a Ir,
    /// `crate::entities::MODULE::Entity`.
    pub(super) entity_path: TokenStream,
    /// The entity's module under `crate::entities`.
    pub(super) module: Ident,
    /// `Some(tenant)` for a tenant-scoped entity, else `None`.
    pub(super) tenant: TokenStream,
    /// `crate::dto::VIEW`'s name.
    pub(super) view_type: Ident,
    /// Whether the caller is identified through the runtime (and may hold a permit).
    pub(super) identifies: bool,
    /// `let id = ...;` from the path, for ops on one row.
    pub(super) id: Option<TokenStream>,
    /// Owner rules: the owner column, when the op's rule admits owners.
    pub(super) owner_field: Option<Ident>,
    /// `Ok(respond(STATUS, &view))` or `Ok(respond_empty(STATUS))`.
    pub(super) respond: TokenStream,
}

/// The handler of `op`: `pub async fn HANDLER(caller, rt, req, body) -> Result<HttpResponse, ApiError>`.
pub(super) fn emit_handler(entity: &Entity, op: &Op, ir: &Ir) -> TokenStream {
    let h = Handler::new(entity, op, ir);
    let name = ident(&op.handler);
    let doc = doc_lines(&handler_doc(entity, op));
    let caller = match op.auth {
        Auth::Admin if !h.identifies => quote!(_caller: ::keygate_runtime::admin_credential::Admin,),
        _ => quote!(),
    };
    let body_param = op.action.has_body().then(|| {
        let input = ident(&input_type_name(entity, op));
        match op.encoding {
            Encoding::Json => quote!(body: ::keygate_runtime::http::JsonBody<crate::dto::#input>,),
            Encoding::Form => quote!(body: ::keygate_runtime::http::FormBody<crate::dto::#input>,),
        }
    });
    // Pre and post hooks see the request (`PreCtx::origin`).
    let has_hooks = op.pre.iter().chain(&op.post).any(|call| call.phase != Phase::Prepare);
    let uses_req = entity.tenant_scoped
        || has_hooks
        || op.action.is_item()
        || matches!(op.action, Action::List | Action::Read)
        || (ir.rules && matches!(op.auth, Auth::Admin | Auth::Rule));
    let req_param = if uses_req { quote!(req) } else { quote!(_req) };
    let early = h.early();
    let body = match op.action {
        Action::Create => create::body(&h),
        Action::Update => update::body(&h),
        Action::Delete => delete::body(&h),
        Action::Read => read::body(&h),
        Action::List => list::body(&h),
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

impl<'a> Handler<'a> {
    fn new(entity: &'a Entity, op: &'a Op, ir: &'a Ir) -> Self {
        let module = ident(&entity.name);
        let tenant = if entity.tenant_scoped {
            quote!(::std::option::Option::Some(tenant))
        } else {
            quote!(::std::option::Option::None)
        };
        let id = op.action.is_item().then(|| {
            let pk_type = match entity.pk().ty {
                FieldType::String => quote!(::std::string::String),
                _ => quote!(::sea_orm::prelude::Uuid),
            };
            quote!(let id = ::keygate_runtime::http::id_param::<#pk_type>(&req)?;)
        });
        let status = op.status;
        let respond = match op.response {
            ResponseShape::Record => {
                quote!(::std::result::Result::Ok(::keygate_runtime::http::respond(#status, &view)))
            }
            ResponseShape::Empty => {
                quote!(::std::result::Result::Ok(::keygate_runtime::http::respond_empty(#status)))
            }
        };
        Handler {
            entity,
            op,
            ir,
            entity_path: quote!(crate::entities::#module::Entity),
            module,
            tenant,
            view_type: ident(&view_type_name(entity)),
            // With `auth:` rules in the schema every non-public op identifies its caller through
            // the runtime (so superadmins pass admin-only ops too); without, the admin extractor
            // suffices.
            identifies: ir.rules && matches!(op.auth, Auth::Admin | Auth::Rule),
            id,
            owner_field: op.rule.owner.then(|| ident(entity.owner.as_deref().expect("validated owner"))),
            respond,
        }
    }

    /// The tenant and the caller are settled before any transaction opens: identifying a caller
    /// may record an API key's use, a write that must not wait on this request's own write turn.
    fn early(&self) -> TokenStream {
        let resolve = self.entity.tenant_scoped.then(|| quote!(let tenant = tenant_scope(&rt, rt.db(), &req).await?;));
        let authorize = self.identifies.then(|| self.authorize());
        quote!(#resolve #authorize)
    }

    /// Identifies the caller and checks the op's rule; binds the permit when owner rules narrow
    /// what the op may touch (otherwise the permit is all or nothing).
    fn authorize(&self) -> TokenStream {
        let rule = &self.op.rule;
        let (user, owner, service, roles) = (rule.user, rule.owner, rule.service, &rule.roles);
        let bind = owner.then(|| quote!(let permit =));
        let tenant_arg = &self.tenant;
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
    }

    /// For owner rules: the stored row must belong to the caller.
    pub(super) fn check_found(&self) -> Option<TokenStream> {
        let entity_name = &self.entity.name;
        self.owner_field.as_ref().map(|field| quote!(permit.check_owner(model.#field, #entity_name)?;))
    }
}

/// Rustdoc of a handler: its route, op, action, schema line and who may call it.
fn handler_doc(entity: &Entity, op: &Op) -> String {
    let auth = match op.auth {
        Auth::Admin => "the admin credential (`Authorization: Bearer ...`) or a superadmin".to_owned(),
        Auth::Public => "anyone".to_owned(),
        Auth::Client => "an OAuth client, authenticated before the handler runs (RFC 6749 section 2.3)".to_owned(),
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
