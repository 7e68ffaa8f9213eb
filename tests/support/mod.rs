//! Test harness: every integration test runs once per backend.
//!
//! SQLite always (a fresh file in a temp dir). PostgreSQL too when `TEST_DATABASE_URL` is set: a
//! uniquely named database is created for the test and dropped afterwards, and an unreachable
//! server fails the test instead of skipping it.

#![allow(dead_code)]

pub mod cdp;
pub mod flow;
pub mod live;
pub mod smtp;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::test;
use actix_web::web;
use keygate_runtime::{Runtime, RuntimeConfig};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

/// The admin credential every test app is started with.
pub const ADMIN_TOKEN: &str = "kga_test-admin-credential-0123456789abcdef";

/// The password of users made by [`Client::signed_in_user`].
pub const USER_PASSWORD: &str = "correct horse battery";

/// A database for one test run.
pub struct TestDb {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// URL to connect to.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.drop_pg.take() {
            // Drop runs outside any async context we may block, so use a private runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ =
                            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    }
                });
            })
            .join();
        }
    }
}

/// The databases this run tests against.
pub async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}?mode=rwc", dir.path().join("keygate.db").display());
    let mut dbs = vec![TestDb { backend: "sqlite", url: sqlite_url, _dir: Some(dir), drop_pg: None }];
    if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL")
        && !admin_url.trim().is_empty()
    {
        let name = format!("keygate_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
        let url = replace_database(&admin_url, &name);
        dbs.push(TestDb { backend: "postgres", url, _dir: None, drop_pg: Some((admin_url, name)) });
    }
    dbs
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// Connects, migrates, and returns the runtime a test app serves (bcrypt cost 4 for speed).
pub async fn runtime(db: &TestDb) -> web::Data<Runtime> {
    runtime_with(db, RuntimeConfig { bcrypt_cost: 4, ..RuntimeConfig::default() }).await
}

/// A migrated runtime with `config`.
pub async fn runtime_with(db: &TestDb, config: RuntimeConfig) -> web::Data<Runtime> {
    let mut key = [0u8; 32];
    key.copy_from_slice(&[uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat());
    runtime_sealing_with(db, config, &key).await
}

/// A migrated runtime with `config`, its own pool, and private keys sealed under `key` (replicas
/// of one deployment share theirs).
pub async fn runtime_sealing_with(db: &TestDb, config: RuntimeConfig, key: &[u8; 32]) -> web::Data<Runtime> {
    web::Data::new(runtime_unshared(db, config, key).await)
}

/// Like [`runtime_sealing_with`], before the runtime is shared with an app (to finish building it).
pub async fn runtime_unshared(db: &TestDb, config: RuntimeConfig, key: &[u8; 32]) -> Runtime {
    let conn = keygate_runtime::db::connect(&db.url).await.expect("connect");
    keygate_api::migrate(&conn).await.expect("migrate");
    let bootstrap = keygate_runtime::admin_credential::bootstrap(&conn, Some(ADMIN_TOKEN)).await.expect("bootstrap");
    let master = keygate_runtime::jose::MasterKey::from_bytes(key).expect("master key");
    Runtime::new(conn, config, bootstrap.credentials, master).with_endpoints(keygate_api::routes::ENDPOINT_PATHS)
}

/// On PostgreSQL, makes every insert into `table` take 0.3 s longer (a trigger), so that a
/// concurrent request lands inside the writer's statement or transaction: a race made
/// deterministic. Undone by [`undelay_inserts`]. Nothing on SQLite, whose writer runs one write
/// at a time anyway.
pub async fn delay_inserts(db: &sea_orm::DatabaseConnection, table: &str) {
    use sea_orm::ConnectionTrait;
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    db.execute_unprepared(
        "CREATE OR REPLACE FUNCTION keygate_test_delay() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$",
    )
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "CREATE TRIGGER keygate_test_delay BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION keygate_test_delay()"
    ))
    .await
    .unwrap();
}

/// Ends [`delay_inserts`] on `table`.
pub async fn undelay_inserts(db: &sea_orm::DatabaseConnection, table: &str) {
    use sea_orm::ConnectionTrait;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(&format!("DROP TRIGGER keygate_test_delay ON {table}")).await.unwrap();
    }
}

/// Runs `check` against a fresh app on every backend.
pub async fn each_backend<F>(check: F)
where
    F: AsyncFn(&Client<'_>),
{
    for db in databases().await {
        let rt = runtime(&db).await;
        let app = test::init_service(keygate::server::app(rt.clone())).await;
        let client = Client { app: &app, backend: db.backend, rt: rt.clone() };
        check(&client).await;
    }
}

/// Runs `check` against a fresh app on every backend, whose public URL is `public_url` (WebAuthn
/// needs a domain name there: an IP address cannot be a relying party id).
pub async fn each_backend_at<F>(public_url: &str, check: F)
where
    F: AsyncFn(&Client<'_>),
{
    for db in databases().await {
        let config = RuntimeConfig { bcrypt_cost: 4, public_url: public_url.to_owned(), ..RuntimeConfig::default() };
        let rt = runtime_with(&db, config).await;
        let app = test::init_service(keygate::server::app(rt.clone())).await;
        let client = Client { app: &app, backend: db.backend, rt: rt.clone() };
        check(&client).await;
    }
}

/// Runs `check` against a fresh app on every backend whose mail goes, over SMTP through lettre,
/// to a test sink the check reads.
pub async fn each_backend_with_mail<F>(check: F)
where
    F: AsyncFn(&Client<'_>, &smtp::MailSink),
{
    for db in databases().await {
        let sink = smtp::MailSink::start().await;
        let mut key = [0u8; 32];
        key.copy_from_slice(&[uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat());
        let config = RuntimeConfig { bcrypt_cost: 4, ..RuntimeConfig::default() };
        let mailer =
            keygate_runtime::mail::Mailer::smtp(&sink.url(), "Keygate <noreply@keygate.test>").expect("mailer");
        let rt = web::Data::new(runtime_unshared(&db, config, &key).await.with_mailer(mailer));
        let app = test::init_service(keygate::server::app(rt.clone())).await;
        let client = Client { app: &app, backend: db.backend, rt: rt.clone() };
        check(&client, &sink).await;
    }
}

/// A real HTTP server on a loopback port, whose public URL is its own address.
pub struct LiveServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The runtime behind it.
    pub rt: web::Data<Runtime>,
    handle: actix_web::dev::ServerHandle,
}

impl LiveServer {
    /// Starts the app on `db`.
    pub async fn start(db: &TestDb) -> Self {
        Self::start_as(db, "127.0.0.1").await
    }

    /// Starts the app on `db`, its public URL naming the loopback address by `host` (`localhost`
    /// where a browser needs a domain, as WebAuthn does).
    pub async fn start_as(db: &TestDb, host: &str) -> Self {
        Self::start_with(db, host, None, chrono::Duration::minutes(10)).await
    }

    /// Like [`Self::start_as`], with sign-ins that are never recent enough for a sensitive change
    /// (a zero `reauthentication_window`): the account page asks for the password.
    pub async fn start_never_recent(db: &TestDb, host: &str) -> Self {
        Self::start_with(db, host, None, chrono::Duration::zero()).await
    }

    /// Starts the app on `db`, its mail sent over SMTP to `sink`.
    pub async fn start_with_mail(db: &TestDb, sink: &smtp::MailSink) -> Self {
        let mailer =
            keygate_runtime::mail::Mailer::smtp(&sink.url(), "Keygate <noreply@keygate.test>").expect("mailer");
        Self::start_with(db, "127.0.0.1", Some(mailer), chrono::Duration::minutes(10)).await
    }

    async fn start_with(
        db: &TestDb,
        host: &str,
        mailer: Option<keygate_runtime::mail::Mailer>,
        reauthentication_window: chrono::Duration,
    ) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let base = format!("http://{host}:{port}");
        let config = RuntimeConfig {
            bcrypt_cost: 4,
            public_url: base.clone(),
            reauthentication_window,
            ..RuntimeConfig::default()
        };
        let mut key = [0u8; 32];
        key.copy_from_slice(&[uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat());
        let mut runtime = runtime_unshared(db, config, &key).await;
        if let Some(mailer) = mailer {
            runtime = runtime.with_mailer(mailer);
        }
        let rt = web::Data::new(runtime);
        let app_rt = rt.clone();
        let server = actix_web::HttpServer::new(move || keygate::server::app(app_rt.clone()))
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self { base, rt, handle }
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// What a test got back.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: actix_web::http::header::HeaderMap,
    /// Body as JSON (`Null` when empty or not JSON).
    pub json: Value,
    /// Body as text (lossy), for HTML pages.
    pub text: String,
}

impl Reply {
    /// `self.json[key]` as a string.
    pub fn str(&self, key: &str) -> String {
        self.json[key].as_str().unwrap_or_else(|| panic!("`{key}` is not a string in {}", self.json)).to_owned()
    }

    /// The `errors[].field` names of a problem document.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
}

/// A request builder bound to one in-process app.
pub struct Client<'a> {
    app: &'a dyn AppService,
    /// Which backend this app runs on, for messages.
    pub backend: &'static str,
    /// The runtime behind the app, to inspect what was stored.
    pub rt: web::Data<Runtime>,
}

/// Object-safe view of the actix test service.
pub trait AppService {
    /// Sends a request.
    fn send(&self, req: actix_http::Request) -> std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + '_>>;
}

impl<S, B> AppService for S
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    fn send(&self, req: actix_http::Request) -> std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + '_>> {
        Box::pin(async move {
            let response = test::call_service(self, req).await;
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = test::read_body(response).await;
            let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Reply { status, headers, json, text }
        })
    }
}

/// Authentication to present.
#[derive(Clone, Copy)]
pub enum Auth<'t> {
    /// The admin credential.
    Admin,
    /// No `Authorization` header.
    None,
    /// A given bearer token.
    Bearer(&'t str),
    /// A whole `Authorization` header value.
    Header(&'t str),
}

impl<'a> Client<'a> {
    /// A client of `app`, served by `rt` on `backend`.
    pub fn new(app: &'a dyn AppService, backend: &'static str, rt: web::Data<Runtime>) -> Self {
        Self { app, backend, rt }
    }
}

impl Client<'_> {
    /// A request with a JSON body (or none).
    pub async fn json(&self, method: Method, path: &str, body: Option<&Value>, auth: Auth<'_>) -> Reply {
        let mut req = test::TestRequest::default().method(method).uri(path);
        req = with_auth(req, auth);
        if let Some(body) = body {
            req = req.insert_header((header::CONTENT_TYPE, "application/json")).set_payload(body.to_string());
        }
        self.app.send(req.to_request()).await
    }

    /// A request with a raw body and content type.
    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: &str, auth: Auth<'_>) -> Reply {
        let req = with_auth(test::TestRequest::default().method(method).uri(path), auth)
            .insert_header((header::CONTENT_TYPE, content_type))
            .set_payload(body.to_owned());
        self.app.send(req.to_request()).await
    }

    /// Any request.
    pub async fn send(&self, req: test::TestRequest) -> Reply {
        self.app.send(req.to_request()).await
    }

    /// GET as admin.
    pub async fn get(&self, path: &str) -> Reply {
        self.json(Method::GET, path, None, Auth::Admin).await
    }

    /// POST JSON as admin.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::POST, path, Some(body), Auth::Admin).await
    }

    /// PATCH JSON as admin.
    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.json(Method::PATCH, path, Some(body), Auth::Admin).await
    }

    /// A user of `tenant` with `roles` (created with the admin credential), signed in through the
    /// account API with [`USER_PASSWORD`]: (id, access token).
    pub async fn signed_in_user(&self, tenant: &str, name: &str, roles: &[&str]) -> (String, String) {
        let body = serde_json::json!({
            "username": name, "email": format!("{name}@example.com"), "password": USER_PASSWORD, "roles": roles,
        });
        let created = self.post(&format!("/admin/tenants/{tenant}/users"), &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "[{}] user {name}: {}", self.backend, created.json);
        let login = serde_json::json!({ "username": name, "password": USER_PASSWORD });
        let login = self.json(Method::POST, &format!("/{tenant}/auth/login"), Some(&login), Auth::None).await;
        assert_eq!(login.status, StatusCode::OK, "[{}] login {name}: {}", self.backend, login.json);
        (created.str("id"), login.str("access_token"))
    }

    /// A tenant with this slug, created as admin.
    pub async fn tenant(&self, slug: &str) -> Reply {
        let reply = self.post("/admin/tenants", &serde_json::json!({ "slug": slug, "name": slug })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "[{}] tenant {slug}: {}", self.backend, reply.json);
        reply
    }

    /// One row of `sql` (first column, as text) from the app's database.
    pub async fn scalar(&self, sql: &str) -> Option<String> {
        let db = self.rt.db();
        let backend = db.get_database_backend();
        let row = db.query_one_raw(sea_orm::Statement::from_string(backend, sql.to_owned())).await.expect("query");
        row.and_then(|r| r.try_get_by_index::<Option<String>>(0).ok().flatten())
    }

    /// DELETE as admin.
    pub async fn delete(&self, path: &str) -> Reply {
        self.json(Method::DELETE, path, None, Auth::Admin).await
    }

    /// Every row of a collection, following cursors page by page.
    pub async fn list_all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{separator}limit=200&cursor={c}"),
                None => format!("{path}{separator}limit=200"),
            };
            let page = self.get(&url).await;
            assert_eq!(page.status, StatusCode::OK, "[{}] GET {url}: {}", self.backend, page.json);
            items.extend(page.json["items"].as_array().cloned().unwrap_or_default());
            match page.json["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }
}

fn with_auth(req: test::TestRequest, auth: Auth<'_>) -> test::TestRequest {
    match auth {
        Auth::Admin => req.insert_header((header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))),
        Auth::None => req,
        Auth::Bearer(token) => req.insert_header((header::AUTHORIZATION, format!("Bearer {token}"))),
        Auth::Header(value) => req.insert_header((header::AUTHORIZATION, value.to_owned())),
    }
}
