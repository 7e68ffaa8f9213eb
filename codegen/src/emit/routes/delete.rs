//! `delete`: run the prepare hooks, load the row (the caller's own, under owner rules), run the hooks, delete, respond
//! with an empty body.

use proc_macro2::TokenStream;
use quote::quote;

use super::handler::Handler;

pub(super) fn body(h: &Handler<'_>) -> TokenStream {
    let (entity_path, tenant, id, status) = (&h.entity_path, &h.tenant, &h.id, h.op.status);
    let (begin, check_found, pre_hooks, post_hooks, commit) =
        (h.begin(), h.check_found(), h.pre_hooks(), h.post_hooks(), h.commit());
    let prepare_hooks = h.prepare_hooks();
    quote! {
        #prepare_hooks
        #begin
        #id
        let model = ::keygate_runtime::crud::find::<#entity_path>(&*tx, #tenant, id).await?;
        #check_found
        #pre_hooks
        tx.delete::<#entity_path>(model).await?;
        #post_hooks
        #commit
        ::std::result::Result::Ok(::keygate_runtime::http::respond_empty(#status))
    }
}
