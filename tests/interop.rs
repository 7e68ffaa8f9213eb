//! Interoperability: an independent, certified relying-party library (panva's `openid-client`,
//! pinned in `tests/interop/package-lock.json`) drives the real `keygate` binary using only what
//! the tenant's discovery document publishes — registering its own clients (RFC 7591) and running
//! every advertised flow through the real pages. The flows are in `tests/interop/rp.mjs`; this
//! test installs its packages if they are missing or stale (`npm ci`), starts `keygate serve` on
//! each backend, does the one operator action allowed (a tenant with `registration: open`, and a
//! user to sign in as), runs the script, and fails with its step-by-step output.
//!
//! Needs `node` (v20 or later) and `npm` on the PATH.

mod binary;
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "kga_interop-admin-credential-0123456789abcdef";
const TENANT: &str = "interop";
const USERNAME: &str = "ann";
const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";
/// The whole script normally takes a few seconds; this only stops a hung run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Whether every package of the lockfile is installed at its locked version.
fn node_modules_match_lockfile(dir: &Path) -> bool {
    let read = |path: PathBuf| -> Option<Value> { serde_json::from_slice(&std::fs::read(path).ok()?).ok() };
    let Some(lock) = read(dir.join("package-lock.json")) else { return false };
    let Some(packages) = lock["packages"].as_object() else { return false };
    packages.iter().filter(|(path, _)| !path.is_empty()).all(|(path, locked)| {
        read(dir.join(path).join("package.json")).is_some_and(|installed| installed["version"] == locked["version"])
    })
}

/// `npm ci` from the committed lockfile, unless `node_modules` already holds exactly that.
fn ensure_node_modules() {
    let dir = interop_dir();
    if node_modules_match_lockfile(&dir) {
        return;
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .output()
        .expect("running `npm ci` for tests/interop (are node and npm installed?)");
    assert!(
        output.status.success(),
        "`npm ci --prefix tests/interop` failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One admin API call; panics with the answer unless it has status `expect`.
async fn admin(base: &str, method: &str, path: &str, body: Value, expect: u16) -> Value {
    let http = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let request = match method {
        "POST" => http.post(format!("{base}{path}")),
        "PATCH" => http.patch(format!("{base}{path}")),
        _ => unreachable!("{method}"),
    };
    let mut response = request
        .insert_header(("authorization", format!("Bearer {ADMIN_TOKEN}")))
        .send_json(&body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(response.status().as_u16(), expect, "{method} {path} {body}: {answer}");
    answer
}

/// Runs `rp.mjs` against `issuer`; returns whether it passed and everything it printed.
fn run_script(issuer: &str) -> (bool, String) {
    let mut child = Command::new("node")
        .arg(interop_dir().join("rp.mjs"))
        .env("KEYGATE_ISSUER", issuer)
        .env("KEYGATE_USERNAME", USERNAME)
        .env("KEYGATE_PASSWORD", PASSWORD)
        .env("KEYGATE_EMAIL", EMAIL)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running node (v20 or later is needed for tests/interop)");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for node") {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut output = stdout.join().unwrap_or_default();
    let errors = stderr.join().unwrap_or_default();
    if !errors.is_empty() {
        output.push_str(&format!("\n--- stderr ---\n{errors}"));
    }
    match status {
        Some(status) => (status.success(), output),
        None => (false, format!("{output}\n--- killed after {SCRIPT_TIMEOUT:?} ---")),
    }
}

#[actix_web::test]
async fn openid_client_completes_every_advertised_flow() {
    ensure_node_modules();
    let mut failures = Vec::new();
    for db in support::databases().await {
        let dir = tempfile::tempdir().unwrap();
        let env = [("KEYGATE_ADMIN_TOKEN", ADMIN_TOKEN), ("KEYGATE_DATABASE_URL", &db.url), ("NO_COLOR", "1")];
        let server = binary::start(dir.path(), &env).await;
        let base = &server.base;
        // The one operator action: a tenant whose registration policy is `open`; plus a user.
        let tenant = admin(base, "POST", "/admin/tenants", json!({ "slug": TENANT, "name": "Interop" }), 201).await;
        let id = tenant["id"].as_str().expect("the new tenant's id");
        admin(base, "PATCH", &format!("/admin/tenants/{id}"), json!({ "registration": "open" }), 200).await;
        admin(
            base,
            "POST",
            &format!("/admin/tenants/{TENANT}/users"),
            json!({ "username": USERNAME, "email": EMAIL, "password": PASSWORD, "name": "Ann Example" }),
            201,
        )
        .await;

        let (passed, output) = run_script(&format!("{base}/{TENANT}"));
        let report = format!("=== openid-client against keygate on {} ===\n{output}", db.backend);
        if passed {
            println!("{report}");
        } else {
            failures.push(format!("{report}\n--- keygate log ---\n{}\n", server.log().join("\n")));
        }
    }
    assert!(failures.is_empty(), "openid-client could not complete every flow:\n\n{}", failures.join("\n"));
}
