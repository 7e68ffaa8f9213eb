//! Wiring: database, migrations, admin bootstrap, and the actix application.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, web};
use keygate_runtime::account::throttle::Throttle;
use keygate_runtime::jose::MasterKey;
use keygate_runtime::mail::Mailer;
use keygate_runtime::{Runtime, admin_credential, http};
use sea_orm::DatabaseConnection;

use crate::config::{Settings, ensure_sqlite_dir};

/// A runtime ready to serve, and the admin token generated on this start (to print once).
pub struct Prepared {
    /// Shared state for every worker.
    pub runtime: web::Data<Runtime>,
    /// Set only when this start created the first admin credential.
    pub new_admin_token: Option<String>,
}

/// Connects to the database and brings its tables up to the schema.
pub async fn open_database(url: &str) -> anyhow::Result<DatabaseConnection> {
    ensure_sqlite_dir(url)?;
    let db = keygate_runtime::db::connect(url).await?;
    keygate_api::migrate(&db).await?;
    if keygate_runtime::tenancy::ensure_default::<keygate_api::entities::Roles>(&db).await? {
        tracing::info!(tenant = keygate_runtime::tenancy::DEFAULT_TENANT, "created the default tenant");
    }
    Ok(db)
}

/// Connects, migrates and bootstraps the admin credential.
pub async fn prepare(settings: &Settings) -> anyhow::Result<Prepared> {
    let db = open_database(&settings.database_url).await?;
    let bootstrap = admin_credential::bootstrap(&db, settings.admin_token.as_deref()).await?;
    let master = master_key(settings)?;
    keygate_runtime::keys::check_master_key(&db, &master).await.map_err(anyhow::Error::msg)?;
    let mut runtime = Runtime::new(db, settings.runtime.clone(), bootstrap.credentials, master)
        .with_endpoints(keygate_api::routes::ENDPOINT_PATHS);
    runtime = runtime.with_mailer(mailer(settings)?);
    if let Some(url) = &settings.redis_url {
        let throttle = Throttle::redis(url, "keygate:").await.map_err(anyhow::Error::msg)?;
        let recovery = Throttle::redis(url, "keygate:recovery:").await.map_err(anyhow::Error::msg)?;
        runtime = runtime.with_throttle(throttle).with_recovery_throttle(recovery);
    }
    Ok(Prepared { runtime: web::Data::new(runtime), new_admin_token: bootstrap.new_token })
}

/// Outgoing mail: through `smtp_url`, or (with a warning now) only to the log.
pub fn mailer(settings: &Settings) -> anyhow::Result<Mailer> {
    match &settings.smtp_url {
        Some(url) => Mailer::smtp(url, &settings.mail_from).map_err(anyhow::Error::msg),
        None => {
            tracing::warn!(
                "no SMTP server configured (--smtp-url): verification, password reset and security mails are written to the log, not sent"
            );
            Mailer::log_only(&settings.mail_from).map_err(anyhow::Error::msg)
        }
    }
}

/// The master key sealing private signing keys: configured, or a development key file.
pub fn master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(configured) = &settings.master_key {
        return Ok(MasterKey::from_base64(configured)?);
    }
    let (key, created) = MasterKey::load_or_create(&settings.master_key_file)?;
    if created {
        tracing::warn!(
            file = %settings.master_key_file.display(),
            "generated a development master key for signing keys; in production set KEYGATE_MASTER_KEY and keep it out of the data directory"
        );
    }
    Ok(key)
}

/// The whole HTTP surface: health, OpenAPI, every generated route, problem+json fallbacks.
pub fn app(
    runtime: web::Data<Runtime>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(runtime)
        .configure(http::configure_service)
        .route("/openapi.json", web::get().to(openapi))
        .configure(keygate_api::routes::configure)
        .default_service(web::to(keygate_api::routes::not_found))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(keygate_api::OPENAPI)
}
