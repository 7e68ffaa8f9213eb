//! `keygate`: the command-line entry point.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::web;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use keygate::config::{BindAddress, FileSettings, Overrides, Settings, config_file_help};
use keygate::server;
use keygate::shutdown::{self, InFlight};

/// jemalloc, for Rust's allocations and SQLite's alike (Cargo.toml says why).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A self-hosted, multi-tenant OAuth 2.1 / OpenID Connect server.
///
/// With no configuration at all, `keygate serve` stores everything in ./keygate-data/keygate.db
/// and listens on 127.0.0.1:8080.
#[derive(Debug, Parser)]
#[command(name = "keygate", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Create or upgrade the database tables, then exit.
    Migrate(DatabaseArgs),
    /// Print the OpenAPI 3.1 document of the HTTP API (also served at /openapi.json).
    Openapi,
    /// Create an additional admin token, print it once, and exit.
    AdminToken(DatabaseArgs),
    /// Manage tenants' signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Replace a tenant's signing key. The new key is published at once and signs six minutes
    /// later, once relying parties' cached key sets have expired (`--now`: at once). The old
    /// public key stays in the JWKS for 24 hours after that, so tokens it signed keep verifying.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
struct RotateArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The tenant, by slug.
    #[arg(long)]
    tenant: String,
    /// Algorithm of the key to rotate: RS256, ES256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    alg: String,
    /// Sign with the new key at once (a key that may have leaked), instead of after publishing it
    /// for the JWKS's cache lifetime.
    #[arg(long)]
    now: bool,
}

#[derive(Debug, Args)]
struct DatabaseArgs {
    /// Database URL: sqlite://path/to/file.db?mode=rwc or postgres://user@host/db.
    #[arg(long, env = "KEYGATE_DATABASE_URL")]
    database_url: Option<String>,
    /// TOML config file.
    #[arg(long, short, env = "KEYGATE_CONFIG", long_help = config_file_help())]
    config: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Address to listen on, host:port (e.g. localhost:8080, 0.0.0.0:80).
    #[arg(long, env = "KEYGATE_BIND")]
    bind: Option<BindAddress>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "KEYGATE_WORKERS")]
    workers: Option<usize>,
    /// bcrypt cost for password hashes (4-31, default 12).
    #[arg(long, env = "KEYGATE_BCRYPT_COST")]
    bcrypt_cost: Option<u32>,
    /// Public base URL clients reach Keygate at; tenant issuers are `{public_url}/{tenant}`
    /// (default: http://{bind}).
    #[arg(long, env = "KEYGATE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Redis shared by replicas for sign-in throttling, e.g. redis://127.0.0.1:6379 (default:
    /// counted in process).
    #[arg(long, env = "KEYGATE_REDIS_URL")]
    redis_url: Option<String>,
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT (default 25).
    #[arg(long, env = "KEYGATE_SHUTDOWN_TIMEOUT")]
    shutdown_timeout: Option<u64>,
    /// SMTP server for outgoing mail: smtps://user:password@host:465 (TLS),
    /// smtp://host:587?tls=required (STARTTLS) or smtp://host:25 (a local relay). Without it,
    /// messages are written to the log and not sent.
    #[arg(long, env = "KEYGATE_SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender of outgoing mail (default: Keygate <noreply@{public_url host}>).
    #[arg(long, env = "KEYGATE_MAIL_FROM")]
    mail_from: Option<String>,
}

impl DatabaseArgs {
    fn settings(&self, mut overrides: Overrides) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => FileSettings::load(path)?,
            None => FileSettings::default(),
        };
        overrides.database_url = self.database_url.clone();
        overrides.admin_token = std::env::var("KEYGATE_ADMIN_TOKEN").ok();
        overrides.master_key = std::env::var("KEYGATE_MASTER_KEY").ok();
        Settings::resolve(overrides, file)
    }
}

/// Runs the command; an error is printed as one line with its causes (never a backtrace, even
/// with `RUST_BACKTRACE` set) and exits with status 1.
fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KEYGATE_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, never into a log file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => print_to_stdout(keygate_api::OPENAPI),
        Command::Migrate(args) => {
            let settings = args.settings(Overrides::default())?;
            runtime()?.block_on(async {
                server::open_database(&settings.database_url).await?;
                eprintln!("database is up to date");
                anyhow::Ok(())
            })
        }
        Command::AdminToken(args) => {
            let settings = args.settings(Overrides::default())?;
            runtime()?.block_on(async {
                let db = server::open_database(&settings.database_url).await?;
                let token = keygate_runtime::admin_credential::create_token(&db).await?;
                println!("{token}");
                anyhow::Ok(())
            })
        }
        Command::Keys(KeysCommand::Rotate(args)) => {
            let settings = args.database.settings(Overrides::default())?;
            let algorithm = keygate_runtime::jose::Algorithm::from_wire(&args.alg)
                .with_context(|| format!("unknown algorithm `{}`; use RS256, ES256 or EdDSA", args.alg))?;
            runtime()?.block_on(async {
                let db = server::open_database(&settings.database_url).await?;
                let tenant = keygate_runtime::crud::find_by::<keygate_api::entities::tenant::Entity>(
                    &db,
                    keygate_api::entities::tenant::Column::Slug,
                    &args.tenant,
                )
                .await
                .map_err(|_| anyhow::anyhow!("no tenant `{}`", args.tenant))?;
                let keys = keygate_runtime::keys::KeyStore::new(server::master_key(&settings)?);
                let activation = if args.now {
                    keygate_runtime::keys::Activation::Immediate
                } else {
                    keygate_runtime::keys::Activation::Scheduled
                };
                let rotated =
                    keys.rotate(&db, tenant.id, algorithm, settings.runtime.key_retention, activation).await?;
                println!("{}", rotated.key.kid());
                let change = keygate_runtime::invalidation::Change::Keys(tenant.id);
                let announced = keygate_runtime::invalidation::announce(&db, change).await;
                if let Err(error) = &announced {
                    eprintln!("could not notify running servers: {error}");
                }
                let published = match announced {
                    Ok(()) if !keygate_runtime::db::is_sqlite(&settings.database_url) => "at once".to_owned(),
                    _ => format!("within {} s", keygate_runtime::keys::CACHE_TTL.as_secs()),
                };
                eprintln!(
                    "rotated the {algorithm} key of `{}`: running servers publish it {published} and sign with it from {}",
                    args.tenant,
                    rotated.activates_at.format("%Y-%m-%dT%H:%M:%SZ")
                );
                anyhow::Ok(())
            })
        }
        Command::Serve(args) => {
            let overrides = Overrides {
                bind: args.bind,
                workers: args.workers,
                bcrypt_cost: args.bcrypt_cost,
                public_url: args.public_url.clone(),
                redis_url: args.redis_url.clone(),
                shutdown_timeout: args.shutdown_timeout,
                smtp_url: args.smtp_url.clone(),
                mail_from: args.mail_from.clone(),
                ..Overrides::default()
            };
            let settings = args.database.settings(overrides)?;
            serve(settings)
        }
    }
}

/// Writes `text` to stdout. A reader that stops early (`keygate openapi | head`) is not an
/// error: the output was wanted only that far.
fn print_to_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

/// Serves until SIGTERM or SIGINT, then shuts down gracefully: stops accepting connections,
/// lets in-flight requests finish within `shutdown_timeout`, stops the workers and the
/// housekeeping task, closes the database pool, and returns (exit status 0). A second signal
/// during that stops the workers at once (their requests are dropped unanswered; what they had
/// not committed is rolled back when the pool closes).
fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let prepared = server::prepare(&settings).await?;
        if let Some(token) = &prepared.new_admin_token {
            eprintln!(
                "\n  First start: created the admin credential. It is shown only now; store it safely.\n\n    KEYGATE_ADMIN_TOKEN={token}\n\n  Use it as `Authorization: Bearer <token>` on /admin routes.\n"
            );
        }
        let runtime = prepared.runtime;
        let housekeeping = actix_web::rt::spawn(housekeeping(runtime.clone()));
        let checkpoints = actix_web::rt::spawn({
            let runtime = runtime.clone();
            async move { keygate_runtime::checkpoint::run(&runtime).await }
        });
        let in_flight = web::Data::new(InFlight::default());
        let app_runtime = runtime.clone();
        let app_in_flight = in_flight.clone();
        let server = actix_web::HttpServer::new(move || {
            server::app(app_runtime.clone()).app_data(app_in_flight.clone()).wrap(from_fn(shutdown::track))
        })
        .workers(settings.workers)
        // Signals are ours (below): actix would stop each worker as soon as it alone is idle.
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .bind(settings.bind.resolve()?.as_slice())
        .with_context(|| format!("cannot listen on {}", settings.bind))?
        .run();
        // Said once the sockets are bound, so the line means connections are accepted.
        tracing::info!(bind = %settings.bind, database = %redact(&settings.database_url), "keygate listening");
        let handle = server.handle();
        // The server runs as its own task: it must keep handling `handle`'s commands.
        let mut server = actix_web::rt::spawn(server);
        let signal = tokio::select! {
            stopped = &mut server => return stopped?.context("server stopped with an error"),
            signal = shutdown::signalled() => signal?,
        };
        let grace = settings.shutdown_timeout;
        tracing::info!(signal, running = in_flight.running(), grace_secs = grace.as_secs(), "shutting down: no new connections, finishing in-flight requests (a second signal stops at once)");
        let drained = drain(&handle, &mut server, &in_flight, grace);
        tokio::select! {
            () = drained => {}
            second = shutdown::signalled() => {
                tracing::warn!(signal = second?, running = in_flight.running(), "second signal: stopping now, without waiting for in-flight requests");
                handle.stop(false).await;
            }
        }
        housekeeping.abort();
        checkpoints.abort();
        runtime.db().close_by_ref().await.context("cannot close the database pool")?;
        tracing::info!("keygate stopped");
        Ok(())
    })
}

/// The graceful part of a shutdown: stops accepting connections, lets in-flight requests finish
/// within `grace`, then stops the workers (which only flush the last responses by then).
async fn drain(
    handle: &actix_web::dev::ServerHandle,
    server: &mut actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    in_flight: &InFlight,
    grace: Duration,
) {
    let started = tokio::time::Instant::now();
    handle.pause().await;
    let abandoned = in_flight.close(grace).await;
    if abandoned > 0 {
        tracing::warn!(abandoned, "the grace period ended with requests still running");
    }
    let remaining = grace.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
    let stopped = tokio::time::timeout(remaining, async {
        handle.stop(true).await;
        server.await
    });
    if stopped.await.is_err() {
        tracing::warn!("HTTP workers did not stop within the grace period");
    }
}

/// Prunes expired rows every [`keygate_runtime::maintenance::INTERVAL`], forever.
async fn housekeeping(runtime: web::Data<keygate_runtime::Runtime>) {
    let mut every = actix_web::rt::time::interval(keygate_runtime::maintenance::INTERVAL);
    loop {
        every.tick().await;
        match keygate_runtime::maintenance::prune(&runtime, keygate_api::entities::EXPIRING).await {
            Ok(pruned) => tracing::debug!(?pruned, "pruned expired rows"),
            Err(error) => tracing::warn!(%error, "pruning expired rows failed"),
        }
    }
}

/// The database URL without a password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
