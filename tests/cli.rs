//! The real `keygate` binary, as an operator runs it: no configuration, embedded SQLite, over TCP.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

mod binary;
mod oidc;

use binary::{free_port, keygate, start};

#[test]
fn help_and_openapi_work_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let help = keygate(dir.path()).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "migrate", "openapi", "admin-token"] {
        assert!(text.contains(command), "--help lists `{command}`:\n{text}");
    }
    let serve_help = keygate(dir.path()).args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&serve_help.stdout);
    for option in ["--bind", "--database-url", "--config", "KEYGATE_BIND", "KEYGATE_DATABASE_URL"] {
        assert!(text.contains(option), "serve --help explains `{option}`:\n{text}");
    }
    let openapi = keygate(dir.path()).arg("openapi").output().unwrap();
    assert!(openapi.status.success());
    let document: Value = serde_json::from_slice(&openapi.stdout).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(!dir.path().join("keygate-data").exists(), "printing the document touches no database");
}

#[actix_web::test]
async fn serve_works_on_a_fresh_machine_and_keeps_its_credential() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]).await;
    let line = server.token_line.clone().expect("first start prints the admin credential");
    let token = line.split('=').nth(1).unwrap().to_owned();
    assert!(dir.path().join("keygate-data/keygate.db").exists(), "embedded SQLite file created");

    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let auth = format!("Bearer {token}");
    let mut ready = client.get(format!("{}/readyz", server.base)).send().await.unwrap();
    assert!(ready.status().is_success());
    let _ = ready.body().await;
    let response = client
        .post(format!("{}/admin/tenants", server.base))
        .insert_header(("authorization", auth.as_str()))
        .send_json(&json!({ "slug": "acme", "name": "Acme" }))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);

    // 32 concurrent writes against the multi-worker server on SQLite: no 5xx, every row stored.
    let requests = (0..32).map(|n| {
        let client = client.clone();
        let url = format!("{}/admin/tenants/acme/users", server.base);
        let auth = auth.clone();
        async move {
            client
                .post(url)
                .insert_header(("authorization", auth))
                .send_json(&json!({ "username": format!("u{n}"), "email": format!("u{n}@example.com"), "password": "correct horse battery" }))
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let mut page = client
        .get(format!("{}/admin/tenants/acme/users?limit=100", server.base))
        .insert_header(("authorization", auth.as_str()))
        .send()
        .await
        .unwrap();
    let body: Value = page.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 32);
    drop(server);

    // A restart keeps the data and the credential, and prints no new one.
    let again = start(dir.path(), &[]).await;
    assert!(again.token_line.is_none(), "the credential is printed only on first start");
    let mut response = client
        .get(format!("{}/admin/tenants", again.base))
        .insert_header(("authorization", auth.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    let slugs: Vec<&str> = body["items"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["default", "acme"], "the default tenant from first start, and the one made since");
}

/// The whole OpenID Connect flow against the real binary, on the `default` tenant that exists
/// after first start, with the `openidconnect` crate as the relying party.
#[actix_web::test]
async fn a_standard_relying_party_signs_in_against_keygate_serve() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
    use openidconnect::{
        AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse,
    };

    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]).await;
    let token = server.token_line.clone().unwrap().split('=').nth(1).unwrap().to_owned();
    let admin = awc::Client::default();
    let post = |path: &str, body: Value| {
        let request =
            admin.post(format!("{}{path}", server.base)).insert_header(("authorization", format!("Bearer {token}")));
        async move {
            let mut response = request.send_json(&body).await.unwrap();
            let json: Value = response.json().await.unwrap();
            assert_eq!(response.status().as_u16(), 201, "{json}");
            json
        }
    };
    post(
        "/admin/tenants/default/users",
        json!({ "username": "ada", "email": "ada@example.com", "password": "correct horse battery" }),
    )
    .await;
    let redirect = "http://127.0.0.1:9/cb";
    let client = post(
        "/admin/tenants/default/clients",
        json!({
            "name": "Notes", "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "profile", "email"]
        }),
    )
    .await;

    let http = oidc::http_client::client();
    let issuer = IssuerUrl::new(format!("{}/default", server.base)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.expect("discovery of the default tenant");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client["id"].as_str().unwrap().to_owned()),
        Some(ClientSecret::new(client["client_secret"].as_str().unwrap().to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = oidc::browser::Browser::new();
    let back = oidc::browser::sign_in(&browser, url.as_str(), "ada", "correct horse battery").await;
    let params = back.redirect_params();
    assert_eq!(params["state"], *state.secret());

    let tokens = rp
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let claims = tokens.id_token().unwrap().claims(&rp.id_token_verifier(), &nonce).expect("valid ID token");
    let info: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().unwrap().as_str(), "ada@example.com");
    let refreshed = rp
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert!(refreshed.refresh_token().is_some());
}

/// `keygate openapi | head`: a reader that stops early ends the command quietly, without a panic.
#[test]
fn a_closed_stdout_is_not_a_crash() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let mut child = keygate(dir.path()).arg("openapi").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is dropped here, with most of the document unwritten.
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status.code());
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A failing command prints one line naming what failed — promptly, with its cause, and without
/// a backtrace even when `RUST_BACKTRACE` asks for one.
#[test]
fn errors_name_the_cause_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nothing listens there
    let output = keygate(dir.path())
        .args(["migrate", "--database-url", &format!("postgres://postgres@127.0.0.1:{port}/keygate")])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("PostgreSQL at 127.0.0.1:{port}")), "names the server: {stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "says what happened: {stderr}");
    assert!(!stderr.contains("pool timed out"), "{stderr}");
    assert!(!stderr.contains("backtrace") && !stderr.contains("Backtrace"), "{stderr}");
}

/// A process whose master key does not open the stored signing keys (a replica started with
/// another key, a database restored without its key) refuses to start, saying so, instead of
/// failing every token request.
#[actix_web::test]
async fn a_master_key_that_does_not_open_the_stored_keys_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let first = [("KEYGATE_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")];
    let server = start(dir.path(), &first).await;
    let client = awc::Client::default();
    let mut jwks = client.get(format!("{}/default/.well-known/jwks.json", server.base)).send().await.unwrap();
    assert!(jwks.status().is_success(), "the first start makes the keys");
    let _ = jwks.body().await;
    drop(server);

    let mut other = keygate(dir.path())
        .args(["serve", "--bind", &format!("127.0.0.1:{}", free_port())])
        .env("KEYGATE_MASTER_KEY", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = other.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            other.kill().unwrap();
            panic!("keygate served with a master key that does not open its signing keys");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut other.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("KEYGATE_MASTER_KEY") && stderr.contains("does not open"), "{stderr}");

    let same = start(dir.path(), &first).await;
    let mut jwks = client.get(format!("{}/default/.well-known/jwks.json", same.base)).send().await.unwrap();
    assert!(jwks.status().is_success(), "the right key still starts");
    let _ = jwks.body().await;
}

/// `--bind` takes a host name; logs written to a pipe or file carry no terminal colour codes.
#[actix_web::test]
async fn binds_to_a_name_and_logs_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = keygate(dir.path())
        .args(["serve", "--bind", &format!("localhost:{port}")])
        .env("KEYGATE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = receiver.recv_timeout(Duration::from_secs(30)) {
        let listening = line.contains("keygate listening");
        lines.push(line);
        if listening {
            break;
        }
    }
    // `localhost` resolves to 127.0.0.1 too: the server answers there.
    let mut answered = false;
    for _ in 0..100 {
        let reply = awc::Client::default().get(format!("http://127.0.0.1:{port}/healthz")).send().await;
        if reply.is_ok_and(|r| r.status().is_success()) {
            answered = true;
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = lines.join("\n");
    assert!(log.contains("keygate listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "no ANSI escape codes in a piped log:\n{log}");
    assert!(answered, "localhost includes 127.0.0.1");
}

/// Every config-file key is explained by `--config`'s help and in the README's table.
#[test]
fn the_config_keys_are_documented_in_one_list() {
    let dir = tempfile::tempdir().unwrap();
    let help = keygate(dir.path()).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (key, _) in keygate::config::FILE_KEYS {
        assert!(help.contains(&format!("{key}:")), "serve --help explains `{key}`:\n{help}");
        assert!(readme.contains(&format!("| `{key}` |")), "the README's configuration table lists `{key}`");
    }
}
