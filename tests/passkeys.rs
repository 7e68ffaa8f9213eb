//! Passkeys over HTTP (issue 12), answered by webauthn-authenticator-rs's software authenticator
//! (`SoftPasskey`, which signs like a real one): registration, listing, renaming, sign-in as a
//! second factor and without a password, revocation, replayed and stale challenges, a cloned
//! authenticator's counter, and isolation between tenants. The public URL is
//! `http://localhost:8080`, so the relying party id is `localhost`.

mod support;

use actix_web::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keygate_runtime::jose::{Jwks, verify_jwt};
use serde_json::{Value, json};
use support::{Auth, Client, Reply, USER_PASSWORD, each_backend_at};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

const PUBLIC_URL: &str = "http://localhost:8080";
const TWO_FACTOR: &str = "urn:keygate:loa:2fa";

fn origin() -> Url {
    Url::parse(PUBLIC_URL).unwrap()
}

async fn call(client: &Client<'_>, method: Method, path: &str, body: Option<Value>, auth: Auth<'_>) -> Reply {
    client.json(method, path, body.as_ref(), auth).await
}

/// Registers a passkey of `key` for the holder of `access`: the new factor.
async fn register(client: &Client<'_>, tenant: &str, access: &str, key: &mut SoftPasskey) -> Reply {
    let path = format!("/{tenant}/auth/me/mfa/passkeys");
    let start = call(client, Method::POST, &path, Some(json!({ "label": "Laptop" })), Auth::Bearer(access)).await;
    assert_eq!(start.status, StatusCode::OK, "[{}] {}", client.backend, start.json);
    let options: CreationChallengeResponse = serde_json::from_value(start.json["options"].clone()).unwrap();
    assert_eq!(options.public_key.rp.id, "localhost", "the RP id is the public URL's host");
    let credential = key.do_registration(origin(), options).expect("the soft authenticator registers");
    let body = json!({ "ceremony": start.str("ceremony"), "credential": credential });
    let finish = format!("/{tenant}/auth/me/mfa/passkeys/register");
    let done = call(client, Method::POST, &finish, Some(body.clone()), Auth::Bearer(access)).await;
    assert_eq!(done.status, StatusCode::CREATED, "[{}] {}", client.backend, done.json);
    let again = call(client, Method::POST, &finish, Some(body), Auth::Bearer(access)).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "a ceremony completes once: {}", again.json);
    assert_eq!(again.error_fields(), ["ceremony"]);
    done
}

async fn login(client: &Client<'_>, tenant: &str, name: &str) -> Reply {
    let body = json!({ "username": name, "password": USER_PASSWORD });
    call(client, Method::POST, &format!("/{tenant}/auth/login"), Some(body), Auth::None).await
}

/// `amr` and `acr` of the access and ID tokens of `tokens`.
async fn assert_methods(client: &Client<'_>, tenant: &str, tokens: &Reply, amr: &[&str]) {
    assert_eq!(tokens.status, StatusCode::OK, "[{}] {}", client.backend, tokens.json);
    let jwks = call(client, Method::GET, &format!("/{tenant}/.well-known/jwks.json"), None, Auth::None).await;
    let jwks: Jwks = serde_json::from_value(jwks.json).unwrap();
    for name in ["access_token", "id_token"] {
        let claims = verify_jwt(&tokens.str(name), &jwks.keys).expect("signed by the tenant");
        assert_eq!(claims["amr"], json!(amr), "[{}] {name}: {claims}", client.backend);
        assert_eq!(claims["acr"], TWO_FACTOR, "[{}] {name}", client.backend);
    }
}

/// The `amr` method a passkey factor proves: `swk` when it is backup-eligible, `hwk` otherwise.
fn method(factor: &Value) -> &'static str {
    if factor["backup_eligible"] == true { "swk" } else { "hwk" }
}

async fn events(client: &Client<'_>, tenant: &str, access: &str, kind: &str) -> Vec<Value> {
    let path = format!("/{tenant}/auth/me/security-events?type={kind}");
    let reply = call(client, Method::GET, &path, None, Auth::Bearer(access)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn a_registered_passkey_is_listed_renamed_and_answers_the_sign_in_challenge() {
    each_backend_at(PUBLIC_URL, async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let mut key = SoftPasskey::new(true);
        let factor = register(client, "acme", &access, &mut key).await.json;
        assert_eq!(factor["kind"], "passkey");
        assert_eq!(factor["label"], "Laptop");
        assert_eq!(factor["confirmed"], true, "a verified registration counts at once");
        assert!(factor["credential_id"].as_str().is_some_and(|id| !id.is_empty()), "{factor}");
        assert!(factor["sign_count"].is_i64() && factor["backup_eligible"].is_boolean(), "{factor}");
        assert!(factor["backup_state"].is_boolean(), "{factor}");
        let id = factor["id"].as_str().unwrap().to_owned();

        let list = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(&access)).await;
        let listed = &list.json["factors"][0];
        assert_eq!(listed["id"], id.as_str());
        assert!(listed.get("passkey").is_none(), "the stored credential is not shown: {listed}");
        let rename = format!("/acme/auth/me/mfa/factors/{id}");
        let renamed =
            call(client, Method::PATCH, &rename, Some(json!({ "label": "Work laptop" })), Auth::Bearer(&access));
        assert_eq!(renamed.await.json["label"], "Work laptop");
        let added = events(client, "acme", &access, "factor.added").await;
        assert_eq!(added.len(), 1, "{added:?}");
        assert_eq!(added[0]["data"]["kind"], "passkey");

        // The password now asks for the second factor, offering the passkey.
        let challenge = login(client, "acme", "ann").await;
        assert_eq!(challenge.json["mfa_required"], true, "{}", challenge.json);
        assert_eq!(challenge.json["methods"], json!(["passkey", "recovery_code"]));
        let options: RequestChallengeResponse = serde_json::from_value(challenge.json["webauthn"].clone()).unwrap();
        let assertion = key.do_authentication(origin(), options).expect("the soft authenticator signs");
        let body = json!({ "mfa_challenge": challenge.str("mfa_challenge"), "credential": assertion });
        let tokens = call(client, Method::POST, "/acme/auth/login/mfa", Some(body.clone()), Auth::None).await;
        assert_methods(client, "acme", &tokens, &["pwd", method(&factor), "mfa"]).await;

        // Replayed: the challenge is used up.
        let replayed = call(client, Method::POST, "/acme/auth/login/mfa", Some(body), Auth::None).await;
        assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "{}", replayed.json);
        // Stale: the old assertion signed the old challenge, not the new one.
        let fresh = login(client, "acme", "ann").await;
        let options: RequestChallengeResponse = serde_json::from_value(challenge.json["webauthn"].clone()).unwrap();
        let stale = key.do_authentication(origin(), options).unwrap();
        let body = json!({ "mfa_challenge": fresh.str("mfa_challenge"), "credential": stale });
        let refused = call(client, Method::POST, "/acme/auth/login/mfa", Some(body), Auth::None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.json);
        assert!(refused.json["detail"].as_str().unwrap().contains("not valid"), "{}", refused.json);
    })
    .await;
}

#[actix_web::test]
async fn a_removed_passkey_no_longer_signs_in() {
    each_backend_at(PUBLIC_URL, async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let mut key = SoftPasskey::new(true);
        let factor = register(client, "acme", &access, &mut key).await;
        let challenge = login(client, "acme", "ann").await;
        let path = format!("/acme/auth/me/mfa/factors/{}", factor.str("id"));
        let removed = call(client, Method::DELETE, &path, None, Auth::Bearer(&access)).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        let events = events(client, "acme", &access, "factor.removed").await;
        assert_eq!(events[0]["data"]["kind"], "passkey", "{events:?}");

        // The challenge issued before still names it; its answer is refused all the same.
        let options: RequestChallengeResponse = serde_json::from_value(challenge.json["webauthn"].clone()).unwrap();
        let assertion = key.do_authentication(origin(), options).unwrap();
        let body = json!({ "mfa_challenge": challenge.str("mfa_challenge"), "credential": assertion });
        let refused = call(client, Method::POST, "/acme/auth/login/mfa", Some(body), Auth::None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.json);
        assert!(refused.json["detail"].as_str().unwrap().contains("not registered"), "{}", refused.json);
        assert!(login(client, "acme", "ann").await.json.get("access_token").is_some(), "no factor left");
    })
    .await;
}

/// A passwordless assertion from `key` to a `tenant`'s discoverable-credential options. The soft
/// authenticator keeps no resident credentials, so the test names the credential in the options
/// and adds the user handle a resident credential returns (unsigned in WebAuthn, §6.3.3).
async fn passwordless(client: &Client<'_>, tenant: &str, key: &mut SoftPasskey, factor: &Value, user: &str) -> Reply {
    let start = call(client, Method::POST, &format!("/{tenant}/auth/login/passkey/options"), None, Auth::None).await;
    assert_eq!(start.status, StatusCode::OK, "[{}] {}", client.backend, start.json);
    let mut options = start.json["options"].clone();
    assert_eq!(options["mediation"], "conditional", "conditional UI: {options}");
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]), "a discoverable credential: {options}");
    options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": factor["credential_id"] }]);
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let assertion = key.do_authentication(origin(), options).unwrap();
    let mut assertion = serde_json::to_value(assertion).unwrap();
    let handle = uuid::Uuid::parse_str(user).unwrap();
    assertion["response"]["userHandle"] = json!(URL_SAFE_NO_PAD.encode(handle.as_bytes()));
    let body = json!({ "ceremony": start.str("ceremony"), "credential": assertion });
    call(client, Method::POST, &format!("/{tenant}/auth/login/passkey"), Some(body), Auth::None).await
}

#[actix_web::test]
async fn passwordless_sign_in_when_the_tenant_allows_it() {
    each_backend_at(PUBLIC_URL, async |client: &Client<'_>| {
        let acme = client.tenant("acme").await.str("id");
        let (ann, access) = client.signed_in_user("acme", "ann", &[]).await;
        let mut key = SoftPasskey::new(true);
        let factor = register(client, "acme", &access, &mut key).await.json;

        let off = call(client, Method::POST, "/acme/auth/login/passkey/options", None, Auth::None).await;
        assert_eq!(off.status, StatusCode::FORBIDDEN, "off by default: {}", off.json);
        let on = client.patch(&format!("/admin/tenants/{acme}"), &json!({ "passkey_sign_in": true })).await;
        assert_eq!(on.status, StatusCode::OK, "{}", on.json);

        let tokens = passwordless(client, "acme", &mut key, &factor, &ann).await;
        assert_methods(client, "acme", &tokens, &[method(&factor), "mfa"]).await;
        let list = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(&access)).await;
        assert!(list.json["factors"][0]["sign_count"].as_i64().unwrap() > 0, "the counter advanced: {}", list.json);

        // Another tenant (same relying party id) does not know the passkey.
        let other = client.tenant("other").await.str("id");
        client.patch(&format!("/admin/tenants/{other}"), &json!({ "passkey_sign_in": true })).await;
        let elsewhere = passwordless(client, "other", &mut key, &factor, &ann).await;
        assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED, "{}", elsewhere.json);
        // A ceremony of one tenant is unknown in another.
        let start = call(client, Method::POST, "/other/auth/login/passkey/options", None, Auth::None).await;
        let body = json!({ "ceremony": start.str("ceremony"), "credential": assertion_shape() });
        let foreign = call(client, Method::POST, "/acme/auth/login/passkey", Some(body), Auth::None).await;
        assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", foreign.json);
        assert_eq!(foreign.error_fields(), ["ceremony"]);

        // A counter behind the stored one: a cloned authenticator, refused and recorded.
        let db = client.rt.db();
        sea_orm::ConnectionTrait::execute_unprepared(db, "UPDATE mfa_factors SET sign_count = 1000000").await.unwrap();
        let cloned = passwordless(client, "acme", &mut key, &factor, &ann).await;
        assert_eq!(cloned.status, StatusCode::UNAUTHORIZED, "{}", cloned.json);
        assert!(cloned.json["detail"].as_str().unwrap().contains("cloned"), "{}", cloned.json);
        let suspected = events(client, "acme", &access, "passkey.clone_suspected").await;
        assert_eq!(suspected.len(), 1, "{suspected:?}");
        assert_eq!(suspected[0]["data"]["factor_id"], factor["id"]);
    })
    .await;
}

/// A well-formed assertion that verifies nothing (for requests refused before verification).
fn assertion_shape() -> Value {
    json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null },
    })
}

/// `POST /auth/login/passkey/options` from `ip` (no credential needed).
async fn options_from(client: &Client<'_>, ip: &str) -> Reply {
    let request = actix_web::test::TestRequest::post()
        .uri("/acme/auth/login/passkey/options")
        .peer_addr(format!("{ip}:40000").parse().unwrap());
    client.send(request).await
}

#[actix_web::test]
async fn ceremonies_are_limited_per_ip_and_expired_ones_are_pruned() {
    each_backend_at(PUBLIC_URL, async |client: &Client<'_>| {
        let acme = client.tenant("acme").await.str("id");
        client.patch(&format!("/admin/tenants/{acme}"), &json!({ "passkey_sign_in": true })).await;
        let stored = async || client.scalar("SELECT CAST(COUNT(*) AS TEXT) FROM passkey_ceremonies").await.unwrap();

        // Each call stores a ceremony, so one address gets a minute's worth, then 429s that store
        // nothing; other addresses are served meanwhile.
        let limit = keygate_runtime::mfa::ceremony::PER_IP.limit;
        for n in 0..limit {
            let reply = options_from(client, "198.51.100.20").await;
            assert_eq!(reply.status, StatusCode::OK, "[{}] call {n}: {}", client.backend, reply.json);
        }
        let refused = options_from(client, "198.51.100.20").await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "[{}] {}", client.backend, refused.json);
        let retry: u64 = refused.headers.get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "until the minute is over: {retry}");
        assert_eq!(refused.headers.get("content-type").unwrap(), "application/problem+json", "the API's format");
        assert_eq!(stored().await, limit.to_string(), "[{}] the refused call stored nothing", client.backend);
        assert_eq!(options_from(client, "198.51.100.21").await.status, StatusCode::OK, "another address");
        // Registering a passkey starts a ceremony too, and shares the address's allowance.
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let register = actix_web::test::TestRequest::post()
            .uri("/acme/auth/me/mfa/passkeys")
            .peer_addr("198.51.100.20:40000".parse().unwrap())
            .insert_header(("authorization", format!("Bearer {access}")));
        assert_eq!(client.send(register).await.status, StatusCode::TOO_MANY_REQUESTS);

        // Housekeeping deletes ceremonies once expired, and only those.
        let live = call(client, Method::POST, "/acme/auth/login/passkey/options", None, Auth::None).await;
        assert_eq!(live.status, StatusCode::OK, "{}", live.json);
        let past = chrono::Utc::now() - chrono::Duration::minutes(1);
        let db = client.rt.db();
        let backend = db.get_database_backend();
        let sql = if backend == sea_orm::DbBackend::Postgres {
            "UPDATE passkey_ceremonies SET expires_at = $1 WHERE ceremony_digest <> $2"
        } else {
            "UPDATE passkey_ceremonies SET expires_at = ? WHERE ceremony_digest <> ?"
        };
        let keep = keygate_runtime::secret::digest(&live.str("ceremony"));
        let statement = sea_orm::Statement::from_sql_and_values(backend, sql, [past.into(), keep.into()]);
        sea_orm::ConnectionTrait::execute_raw(db, statement).await.unwrap();
        let pruned = keygate_runtime::maintenance::prune(&client.rt, keygate_api::entities::EXPIRING).await.unwrap();
        assert_eq!(pruned.rows("passkey_ceremonies"), u64::from(limit) + 1, "[{}] {pruned:?}", client.backend);
        assert_eq!(stored().await, "1", "[{}] the live ceremony stays", client.backend);
    })
    .await;
}

/// Every backend at [`PUBLIC_URL`], with sign-ins that are never recent enough for a sensitive
/// change.
async fn each_backend_never_recent<F: AsyncFn(&Client<'_>)>(check: F) {
    for db in support::databases().await {
        let config = keygate_runtime::RuntimeConfig {
            bcrypt_cost: 4,
            public_url: PUBLIC_URL.to_owned(),
            reauthentication_window: chrono::Duration::zero(),
            ..keygate_runtime::RuntimeConfig::default()
        };
        let rt = support::runtime_with(&db, config).await;
        let app = actix_web::test::init_service(keygate::server::app(rt.clone())).await;
        check(&Client::new(&app, db.backend, rt)).await;
    }
}

fn assert_stale(reply: &Reply, backend: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "[{backend}] {}", reply.json);
    assert_eq!(reply.json["type"], "urn:keygate:problem:reauthentication-required", "[{backend}] {}", reply.json);
    let challenge = reply.headers.get("www-authenticate").unwrap().to_str().unwrap();
    assert!(challenge.contains("error=\"insufficient_user_authentication\""), "RFC 9470 §3: {challenge}");
}

/// A cookie-mode sign-in of `name`: the account API request for `path` with its cookies and CSRF
/// header, and a JSON `body`.
async fn by_cookie(client: &Client<'_>, name: &str, path: &str, body: &Value) -> Reply {
    let login = json!({ "username": name, "password": USER_PASSWORD, "session": "cookie" });
    let signed_in = call(client, Method::POST, "/acme/auth/login", Some(login), Auth::None).await;
    let cookies: Vec<String> = signed_in
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("kg_session=") || v.starts_with("kg_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .collect();
    assert_eq!(cookies.len(), 2, "{:?}", signed_in.headers);
    let request = actix_web::test::TestRequest::post()
        .uri(path)
        .insert_header(("cookie", cookies.join("; ")))
        .insert_header(("x-csrf-token", signed_in.str("csrf_token")))
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string());
    client.send(request).await
}

async fn count(client: &Client<'_>, table: &str) -> String {
    client.scalar(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await.unwrap()
}

#[actix_web::test]
async fn registering_a_passkey_needs_a_recent_sign_in_or_the_password() {
    each_backend_never_recent(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (user, access) = client.signed_in_user("acme", "ann", &[]).await;
        let api_key = client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": user, "label": "ci" })).await;
        let backend = client.backend;
        let (options, finish) = ("/acme/auth/me/mfa/passkeys", "/acme/auth/me/mfa/passkeys/register");

        // The options: a stale token, API key or cookie session gets the 401, and no ceremony is
        // stored; a wrong password is a 422 on `password`.
        let label = json!({ "label": "Thief's key" });
        assert_stale(&call(client, Method::POST, options, Some(label.clone()), Auth::Bearer(&access)).await, backend);
        let with_key =
            call(client, Method::POST, options, Some(label.clone()), Auth::Bearer(&api_key.str("key"))).await;
        assert_stale(&with_key, backend);
        assert_stale(&by_cookie(client, "ann", options, &label).await, backend);
        let wrong = json!({ "password": "not my password" });
        let wrong = call(client, Method::POST, options, Some(wrong), Auth::Bearer(&access)).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.json);
        assert_eq!(wrong.error_fields(), ["password"]);
        assert_eq!(count(client, "passkey_ceremonies").await, "0", "[{backend}] no ceremony");

        // With the password, the ceremony starts; finishing it needs the rule again (checked
        // before the ceremony, which stays unused), and nothing is stored without it.
        let start = json!({ "label": "Laptop", "password": USER_PASSWORD });
        let start = call(client, Method::POST, options, Some(start), Auth::Bearer(&access)).await;
        assert_eq!(start.status, StatusCode::OK, "[{backend}] {}", start.json);
        let challenge: CreationChallengeResponse = serde_json::from_value(start.json["options"].clone()).unwrap();
        let credential = SoftPasskey::new(true).do_registration(origin(), challenge).unwrap();
        let answer = json!({ "ceremony": start.str("ceremony"), "credential": credential });
        assert_stale(&call(client, Method::POST, finish, Some(answer.clone()), Auth::Bearer(&access)).await, backend);
        assert_stale(&by_cookie(client, "ann", finish, &answer).await, backend);
        let mut wrong = answer.clone();
        wrong["password"] = json!("not my password");
        let wrong = call(client, Method::POST, finish, Some(wrong), Auth::Bearer(&access)).await;
        assert_eq!(wrong.error_fields(), ["password"], "{}", wrong.json);
        assert_eq!(count(client, "mfa_factors").await, "0", "[{backend}] no passkey");
        assert!(events(client, "acme", &access, "factor.added").await.is_empty());

        let mut answer = answer;
        answer["password"] = json!(USER_PASSWORD);
        let done = call(client, Method::POST, finish, Some(answer), Auth::Bearer(&access)).await;
        assert_eq!(done.status, StatusCode::CREATED, "[{backend}] {}", done.json);
        assert_eq!((done.json["kind"].clone(), done.json["label"].clone()), (json!("passkey"), json!("Laptop")));
        assert_eq!(events(client, "acme", &access, "factor.added").await.len(), 1);
    })
    .await;
}
