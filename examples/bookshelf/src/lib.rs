//! Bookshelf: a small service built from `schema.yaml` with keygate-codegen and keygate-runtime,
//! kept in the repository to prove the generator is not specific to Keygate's own entities.

#![allow(missing_docs)]

mod hooks;

keygate_runtime::include_generated!();

/// The service's HTTP application.
pub fn app(
    runtime: actix_web::web::Data<keygate_runtime::Runtime>,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    actix_web::App::new()
        .app_data(runtime)
        .configure(keygate_runtime::http::configure_service)
        .configure(routes::configure)
        .default_service(actix_web::web::to(routes::not_found))
}
