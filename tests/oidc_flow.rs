//! OpenID Connect end to end, over real loopback HTTP, with an independent relying-party library
//! (the `openidconnect` crate): discovery → authorization code + PKCE through the real sign-in
//! and consent pages → token → ID token verified with the JWKS → UserInfo → refresh → revoke →
//! introspect. Then every way the flow must fail, each with its exact error.

mod oidc;
mod support;

use std::collections::BTreeMap;

use oidc::browser::{Browser, consent, sign_in};
use oidc::http_client;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IntrospectionUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, RevocationUrl, Scope,
    TokenIntrospectionResponse, TokenResponse,
};
use serde_json::{Value, json};
use support::live::{Admin, PASSWORD, REDIRECT, each_live_backend};
use support::{ADMIN_TOKEN, LiveServer};

/// A relying party for `client_id` at `tenant`, configured from discovery.
async fn relying_party(
    server: &LiveServer,
    tenant: &str,
    client_id: &str,
    secret: Option<&str>,
) -> (
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointSet,
        openidconnect::EndpointSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    http_client::Send,
) {
    let http = http_client::client();
    let issuer = IssuerUrl::new(format!("{}/{tenant}", server.base)).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        secret.map(|s| ClientSecret::new(s.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap())
    .set_revocation_url(RevocationUrl::new(format!("{}/{tenant}/oauth2/revoke", server.base)).unwrap())
    .set_introspection_url(IntrospectionUrl::new(format!("{}/{tenant}/oauth2/introspect", server.base)).unwrap());
    (client, http)
}

fn error_code<E: std::error::Error + 'static>(
    error: RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> CoreErrorResponseType {
    match error {
        RequestTokenError::ServerResponse(response) => response.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

#[actix_web::test]
async fn a_standard_relying_party_completes_the_whole_flow() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (client_id, secret) = admin.client("acme", json!({})).await;
        let (client, http) = relying_party(server, "acme", &client_id, secret.as_deref()).await;

        // Authorization request with PKCE S256, state and nonce, through the real pages.
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser = Browser::new();
        let back = sign_in(&browser, url.as_str(), "alice", PASSWORD).await;
        assert_eq!(back.status, 303, "{}", back.body);
        assert!(back.location.as_deref().unwrap().starts_with(REDIRECT));
        let params = back.redirect_params();
        assert_eq!(params["state"], *state.secret());
        // RFC 9207: the response names its issuer.
        assert_eq!(params["iss"], format!("{}/acme", server.base));

        // Code → tokens; the ID token verifies against the JWKS, with nonce and at_hash.
        let tokens = client
            .exchange_code(AuthorizationCode::new(params["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("code exchange");
        let id_token = tokens.id_token().expect("an ID token for scope openid");
        let verifier = client.id_token_verifier();
        let claims = id_token.claims(&verifier, &nonce).expect("a valid ID token");
        let expected_hash = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected_hash));
        assert!(claims.auth_time().is_some());
        let subject = claims.subject().clone();
        let refresh_token = tokens.refresh_token().expect("a refresh token").clone();
        let scopes: Vec<String> = tokens.scopes().unwrap().iter().map(|s| s.to_string()).collect();
        assert_eq!(scopes, ["openid", "profile", "email"]);

        // UserInfo, claims by scope.
        let info: CoreUserInfoClaims = client
            .user_info(tokens.access_token().clone(), Some(subject.clone()))
            .unwrap()
            .request_async(&http)
            .await
            .expect("userinfo");
        assert_eq!(info.preferred_username().unwrap().as_str(), "alice");
        assert_eq!(info.email().unwrap().as_str(), "alice@example.com");
        assert_eq!(info.email_verified(), Some(true));

        // Introspection sees the access token as active.
        let introspection = client.introspect(tokens.access_token()).request_async(&http).await.expect("introspect");
        assert!(introspection.active());
        assert_eq!(introspection.sub(), Some(subject.as_str()));

        // Refresh rotates: new tokens, a new refresh token.
        let refreshed =
            client.exchange_refresh_token(&refresh_token).unwrap().request_async(&http).await.expect("refresh");
        let rotated = refreshed.refresh_token().expect("a rotated refresh token").clone();
        assert_ne!(rotated.secret(), refresh_token.secret());
        let info: CoreUserInfoClaims = client
            .user_info(refreshed.access_token().clone(), None)
            .unwrap()
            .request_async(&http)
            .await
            .expect("userinfo with the refreshed token");
        assert_eq!(info.subject(), &subject);

        // Revoking the first access token ends it at introspection and UserInfo. (The crate
        // refuses to send revocation requests over plain http, so this one is a form post.)
        let revoked = Browser::new()
            .post(
                &format!("{}/acme/oauth2/revoke", server.base),
                &[
                    ("token", tokens.access_token().secret()),
                    ("client_id", &client_id),
                    ("client_secret", secret.as_deref().unwrap()),
                ],
            )
            .await;
        assert_eq!(revoked.status, 200);
        let introspection = client.introspect(tokens.access_token()).request_async(&http).await.expect("introspect");
        assert!(!introspection.active());
        let revoked: Result<CoreUserInfoClaims, _> =
            client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await;
        assert!(revoked.is_err(), "a revoked token is refused at UserInfo");

        // Reusing the rotated-out refresh token revokes the whole family.
        let reuse = client.exchange_refresh_token(&refresh_token).unwrap().request_async(&http).await;
        assert_eq!(error_code(reuse.unwrap_err()), CoreErrorResponseType::InvalidGrant);
        let family = client.exchange_refresh_token(&rotated).unwrap().request_async(&http).await;
        assert_eq!(error_code(family.unwrap_err()), CoreErrorResponseType::InvalidGrant);
        let introspection = client.introspect(refreshed.access_token()).request_async(&http).await.expect("introspect");
        assert!(!introspection.active(), "access tokens of a revoked family are inactive");

        // A second authorization reuses the session and the remembered consent: straight back.
        let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, _nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let again = browser.get(url.as_str()).await;
        assert_eq!(again.status, 303, "{}", again.body);
        let params = again.redirect_params();
        assert_eq!(params["state"], *state.secret());
        assert!(params.contains_key("code"));

        // The discovery document advertises what was just used.
        let discovery = admin.get("/acme/.well-known/openid-configuration").await;
        assert_eq!(discovery["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(discovery["response_types_supported"], json!(["code"]));
        assert_eq!(discovery["authorization_response_iss_parameter_supported"], json!(true));
        let rfc8414 = admin.get("/.well-known/oauth-authorization-server/acme").await;
        assert_eq!(rfc8414, discovery);
    })
    .await;
}

/// A fresh PKCE pair as the client would make it.
fn pkce() -> (PkceCodeChallenge, PkceCodeVerifier) {
    PkceCodeChallenge::new_random_sha256()
}

/// The authorization URL for `client_id` with `extra` parameters (raw, so tests can send what a
/// library would refuse to).
fn authorize_url(server: &LiveServer, tenant: &str, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", client_id);
    let has = |key: &str| extra.iter().any(|(k, _)| *k == key);
    if !has("scope") {
        query.append_pair("scope", "openid");
    }
    if !has("redirect_uri") {
        query.append_pair("redirect_uri", REDIRECT);
    }
    if !has("response_type") {
        query.append_pair("response_type", "code");
    }
    for (key, value) in extra {
        query.append_pair(key, value);
    }
    format!("{}/{tenant}/oauth2/authorize?{}", server.base, query.finish())
}

/// Posts a token request and returns status and JSON.
async fn token_request(server: &LiveServer, tenant: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let browser = Browser::new();
    let page = browser.post(&format!("{}/{tenant}/oauth2/token", server.base), fields).await;
    assert_eq!(page.headers.get("cache-control").map(String::as_str), Some("no-store"));
    (page.status, serde_json::from_str(&page.body).unwrap_or(Value::Null))
}

/// Redeems a code at acme's token endpoint, authenticating with `client_secret_post`.
async fn redeem(
    server: &LiveServer,
    code: &str,
    verifier: &str,
    redirect: &str,
    id: &str,
    secret: &str,
) -> (u16, Value) {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
        ("client_id", id),
        ("client_secret", secret),
    ];
    token_request(server, "acme", &fields).await
}

/// Refreshes at acme's token endpoint with `refresh_token`, authenticating with
/// `client_secret_post`.
async fn refresh(server: &LiveServer, refresh_token: &str, id: &str, secret: &str) -> (u16, Value) {
    let fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", id),
        ("client_secret", secret),
    ];
    token_request(server, "acme", &fields).await
}

/// Signs in with a fresh PKCE pair and returns (code, verifier).
async fn code_for(server: &LiveServer, client_id: &str, browser: &Browser) -> (String, String) {
    let (challenge, verifier) = pkce();
    let url = authorize_url(
        server,
        "acme",
        client_id,
        &[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256"), ("state", "xyz")],
    );
    let back = sign_in(browser, &url, "alice", PASSWORD).await;
    assert_eq!(back.status, 303, "{}", back.body);
    (back.redirect_params()["code"].clone(), verifier.secret().clone())
}

#[actix_web::test]
async fn authorization_codes_are_single_use_bound_and_short_lived() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let secret = secret.unwrap();
        let browser = Browser::new();
        let exchange = |code: String, verifier: String, redirect: &'static str| {
            let (id, secret) = (id.clone(), secret.clone());
            async move { redeem(server, &code, &verifier, redirect, &id, &secret).await }
        };

        // Wrong PKCE verifier.
        let (code, _) = code_for(server, &id, &browser).await;
        let (status, body) = exchange(code.clone(), "x".repeat(43), REDIRECT).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

        // redirect_uri differing from the authorization request's.
        let (code, verifier) = code_for(server, &id, &browser).await;
        let (status, body) = exchange(code.clone(), verifier.clone(), "http://127.0.0.1:9/other").await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

        // The right request works once; a replay fails and revokes what the first one issued.
        let (status, first) = exchange(code.clone(), verifier.clone(), REDIRECT).await;
        assert_eq!(status, 200, "{first}");
        let (status, body) = exchange(code.clone(), verifier.clone(), REDIRECT).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        let (status, body) = refresh(server, first["refresh_token"].as_str().unwrap(), &id, &secret).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "replay revokes the refresh token");
        let introspect = Browser::new()
            .post(
                &format!("{}/acme/oauth2/introspect", server.base),
                &[("token", first["access_token"].as_str().unwrap()), ("client_id", &id), ("client_secret", &secret)],
            )
            .await;
        assert_eq!(serde_json::from_str::<Value>(&introspect.body).unwrap()["active"], false);

        // Two redemptions at once: one wins, and the other, a replay, revokes what it issued. On
        // PostgreSQL the grant's insert is slowed, so the second arrives while the first holds
        // its claim of the code, uncommitted.
        let (code, verifier) = code_for(server, &id, &browser).await;
        let stored = [count(server, "grants").await, count(server, "refresh_tokens").await];
        support::delay_inserts(server.rt.db(), "grants").await;
        let (a, b) = futures_util::future::join(
            exchange(code.clone(), verifier.clone(), REDIRECT),
            exchange(code.clone(), verifier.clone(), REDIRECT),
        )
        .await;
        support::undelay_inserts(server.rt.db(), "grants").await;
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "{} / {}", a.1, b.1);
        let now_stored = [count(server, "grants").await, count(server, "refresh_tokens").await];
        assert_eq!(now_stored, stored.map(|n| n + 1), "the replay stored nothing of its own");
        let winner = if a.0 == 200 { a.1 } else { b.1 };
        let (status, body) = refresh(server, winner["refresh_token"].as_str().unwrap(), &id, &secret).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the concurrent replay revokes");

        // Another client cannot redeem the code.
        let (other_id, other_secret) = admin.client("acme", json!({ "name": "Other" })).await;
        let (code, verifier) = code_for(server, &id, &browser).await;
        let (status, body) =
            redeem(server, &code, &verifier, REDIRECT, &other_id, other_secret.as_deref().unwrap()).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

        // Wrong client secret.
        let (status, body) = redeem(server, &code, &verifier, REDIRECT, &id, "kgs_wrong").await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");

        // An expired code.
        let (code, verifier) = code_for(server, &id, &browser).await;
        expire_codes(server).await;
        let (status, body) = exchange(code, verifier, REDIRECT).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        assert!(body["error_description"].as_str().unwrap().contains("expired"), "{body}");
    })
    .await;
}

/// The rows a sign-in writes most often get time-ordered keys (schema `default: uuid_v7`, RFC
/// 9562 §5.7), so that each insert lands at the end of the primary-key index; users keep random
/// ones (`uuid_v4`), since a user's id is the `sub` every client sees and a time-ordered one
/// would tell when the account was made.
#[actix_web::test]
async fn busy_tables_get_time_ordered_keys_and_users_random_ones() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let secret = secret.unwrap();
        let browser = Browser::new();
        for _ in 0..2 {
            let (code, verifier) = code_for(server, &id, &browser).await;
            let (status, tokens) = redeem(server, &code, &verifier, REDIRECT, &id, &secret).await;
            assert_eq!(status, 200, "{tokens}");
            let (status, body) = refresh(server, tokens["refresh_token"].as_str().unwrap(), &id, &secret).await;
            assert_eq!(status, 200, "{body}");
            // Keys drawn in different milliseconds, so that their order is the rows' order.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        for (table, rows) in [("auth_codes", 2), ("grants", 2), ("refresh_tokens", 4)] {
            let keys = keys(server, table).await;
            assert_eq!(keys.len(), rows, "{table}: {keys:?}");
            assert!(keys.iter().all(|key| key.get_version_num() == 7), "{table}: {keys:?}");
            assert!(keys.is_sorted(), "{table}: keys in the order their rows were created: {keys:?}");
        }
        let users = keys(server, "users").await;
        assert!(!users.is_empty() && users.iter().all(|key| key.get_version_num() == 4), "{users:?}");
    })
    .await;
}

/// Refresh tokens copy their grant's user and client without references of their own
/// (`schema.yaml`): deleting the client or the user still ends every grant and refresh token of
/// theirs, through the grant's references, and nobody else's.
#[actix_web::test]
async fn deleting_a_client_or_a_user_ends_their_grants_and_refresh_tokens() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let clients = [admin.client("acme", json!({})).await, admin.client("acme", json!({})).await];
        let browser = Browser::new();
        let mut latest = Vec::new();
        for (id, secret) in &clients {
            let secret = secret.as_deref().unwrap();
            let (code, verifier) = code_for(server, id, &browser).await;
            let (status, tokens) = redeem(server, &code, &verifier, REDIRECT, id, secret).await;
            assert_eq!(status, 200, "{tokens}");
            let (status, body) = refresh(server, tokens["refresh_token"].as_str().unwrap(), id, secret).await;
            assert_eq!(status, 200, "{body}");
            latest.push(body["refresh_token"].as_str().unwrap().to_owned());
        }
        let stored = async || [count(server, "grants").await, count(server, "refresh_tokens").await];
        assert_eq!(stored().await, [2, 4]);

        let [(gone, _), (kept, kept_secret)] = &clients;
        admin.delete(&format!("/admin/tenants/acme/clients/{gone}")).await;
        assert_eq!(stored().await, [1, 2], "the deleted client's grant and tokens went, the other's stayed");
        let (status, body) = refresh(server, &latest[1], kept, kept_secret.as_deref().unwrap()).await;
        assert_eq!(status, 200, "the other client still refreshes: {body}");

        let alice = admin.get("/admin/tenants/acme/users").await["items"][0]["id"].as_str().unwrap().to_owned();
        admin.delete(&format!("/admin/tenants/acme/users/{alice}")).await;
        assert_eq!(stored().await, [0, 0], "the deleted user's grants and tokens went");
    })
    .await;
}

/// The keys of `table`'s rows, in the order the rows were created (rows created in the same
/// instant, by key).
async fn keys(server: &LiveServer, table: &str) -> Vec<uuid::Uuid> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = server.rt.db();
    let sql = format!("SELECT id FROM {table} ORDER BY created_at, id");
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|row| row.try_get_by_index::<uuid::Uuid>(0).unwrap()).collect()
}

/// How many rows `table` has.
async fn count(server: &LiveServer, table: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = server.rt.db();
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Moves every authorization code's expiry into the past.
async fn expire_codes(server: &LiveServer) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = server.rt.db();
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "UPDATE auth_codes SET expires_at = $1",
        _ => "UPDATE auth_codes SET expires_at = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [past.into()])).await.unwrap();
}

#[actix_web::test]
async fn bad_authorization_requests_are_refused_in_the_right_place() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, _) = admin.client("acme", json!({})).await;
        let browser = Browser::new();
        let (challenge, _) = pkce();
        let pkce = [("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];

        // An unknown client or an unregistered redirect URI: an error page, never a redirect.
        for url in [
            authorize_url(server, "acme", &uuid::Uuid::new_v4().to_string(), &pkce),
            authorize_url(server, "acme", "not-a-client", &pkce),
            authorize_url(server, "acme", &id, &[pkce[0], pkce[1], ("redirect_uri", "https://evil.example/cb")]),
            authorize_url(server, "acme", &id, &[pkce[0], pkce[1], ("redirect_uri", "http://127.0.0.1:9/callback/x")]),
        ] {
            let page = browser.get(&url).await;
            assert_eq!(page.status, 400, "{url}");
            assert!(page.location.is_none(), "{url} must not redirect");
            assert!(page.content_type.starts_with("text/html"));
        }

        // Everything else goes back to the client with its error code, state and iss.
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("code_challenge", challenge.as_str()), ("code_challenge_method", "plain")], "invalid_request"),
            (vec![("code_challenge", challenge.as_str())], "invalid_request"),
            (vec![], "invalid_request"),
            (vec![pkce[0], pkce[1], ("response_type", "token")], "unsupported_response_type"),
            (vec![pkce[0], pkce[1], ("scope", "admin")], "invalid_scope"),
            (vec![pkce[0], pkce[1], ("scope", "openid op\\enid")], "invalid_scope"),
            (vec![pkce[0], pkce[1], ("prompt", "none")], "login_required"),
            (vec![pkce[0], pkce[1], ("prompt", "none login")], "invalid_request"),
            (vec![pkce[0], pkce[1], ("max_age", "-1")], "invalid_request"),
            (vec![pkce[0], pkce[1], ("request", "eyJ")], "request_not_supported"),
        ];
        for (extra, expected) in cases {
            let mut params = extra.clone();
            params.push(("state", "s1"));
            let url = authorize_url(server, "acme", &id, &params);
            let page = browser.get(&url).await;
            assert_eq!(page.status, 303, "{url}: {}", page.body);
            let back = page.redirect_params();
            assert_eq!(back.get("error").map(String::as_str), Some(expected), "{url}");
            assert_eq!(back["state"], "s1");
            assert_eq!(back["iss"], format!("{}/acme", server.base));
        }

        // A native client may use any loopback port; a web client may not.
        let (native, _) = admin
            .client("acme", json!({ "application_type": "native", "redirect_uris": ["http://127.0.0.1/cb"] }))
            .await;
        let url =
            authorize_url(server, "acme", &native, &[pkce[0], pkce[1], ("redirect_uri", "http://127.0.0.1:5123/cb")]);
        assert_eq!(browser.get(&url).await.status, 200, "the login page for a loopback redirect");
        let (web, _) = admin.client("acme", json!({ "redirect_uris": ["http://127.0.0.1/cb"] })).await;
        let url =
            authorize_url(server, "acme", &web, &[pkce[0], pkce[1], ("redirect_uri", "http://127.0.0.1:5123/cb")]);
        assert_eq!(browser.get(&url).await.status, 400);
    })
    .await;
}

#[actix_web::test]
async fn plain_oauth_requests_may_leave_out_the_only_redirect_uri() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let secret = secret.unwrap();
        let browser = Browser::new();
        // An authorization request without redirect_uri (and, when `scope` is None, without scope).
        let url = |client_id: &str, scope: Option<&str>, challenge: &PkceCodeChallenge| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", client_id)
                .append_pair("state", "s")
                .append_pair("code_challenge", challenge.as_str())
                .append_pair("code_challenge_method", "S256");
            if let Some(scope) = scope {
                query.append_pair("scope", scope);
            }
            format!("{}/acme/oauth2/authorize?{}", server.base, query.finish())
        };
        let exchange = |code: String, verifier: String, redirect_uri: Option<&'static str>| {
            let (id, secret) = (id.clone(), secret.clone());
            async move {
                let mut fields = vec![
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("code_verifier", verifier.as_str()),
                    ("client_id", id.as_str()),
                    ("client_secret", secret.as_str()),
                ];
                fields.extend(redirect_uri.map(|uri| ("redirect_uri", uri)));
                token_request(server, "acme", &fields).await
            }
        };

        // OAuth 2.1 §4.1.1: the code goes to the client's only registered URI.
        let (challenge, verifier) = pkce();
        let back = sign_in(&browser, &url(&id, Some("profile"), &challenge), "alice", PASSWORD).await;
        assert_eq!(back.status, 303, "{}", back.body);
        assert!(back.location.as_deref().unwrap().starts_with(&format!("{REDIRECT}?")), "{:?}", back.location);
        let code = back.redirect_params()["code"].clone();
        let verifier = verifier.secret().clone();
        // §4.1.3: then the token request needs none; one it sends anyway must be where the code went.
        let (status, body) = exchange(code.clone(), verifier.clone(), Some("http://127.0.0.1:9/other")).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        let (status, body) = exchange(code, verifier, None).await;
        assert_eq!((status, body["scope"].as_str()), (200, Some("profile")), "{body}");
        assert!(body.get("id_token").is_none(), "not an OpenID request: {body}");

        // Sent in the authorization request, redirect_uri is required in the token request.
        let (code, verifier) = code_for(server, &id, &browser).await;
        let (status, body) = exchange(code.clone(), verifier.clone(), None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
        let (status, body) = exchange(code, verifier, Some(REDIRECT)).await;
        assert_eq!(status, 200, "{body}");

        // OpenID requests must name it (OIDC Core §3.1.2.1), including one that gets `openid` by
        // default; so must requests of a client with several URIs. An error page, no redirect.
        let (two, _) = admin.client("acme", json!({ "redirect_uris": [REDIRECT, "http://127.0.0.1:9/other"] })).await;
        let (challenge, _) = pkce();
        for url in [
            url(&id, Some("openid profile"), &challenge),
            url(&id, None, &challenge),
            url(&two, Some("profile"), &challenge),
        ] {
            let page = browser.get(&url).await;
            assert_eq!(page.status, 400, "{url}: {}", page.body);
            assert!(page.location.is_none(), "{url}");
            assert!(page.body.contains("redirect_uri"), "{}", page.body);
        }
    })
    .await;
}

#[actix_web::test]
async fn the_sign_in_pages_resist_forgery_and_guessing() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, _) = admin.client("acme", json!({})).await;
        let (challenge, _) = pkce();
        let url = authorize_url(
            server,
            "acme",
            &id,
            &[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256"), ("state", "s2")],
        );
        let browser = Browser::new();
        let login = browser.get(&url).await;
        let request = login.input("request").unwrap();
        let csrf = login.input("csrf").unwrap();
        let action = login.form_action();

        // Missing or wrong CSRF token: 403, no session.
        for token in ["", "forged"] {
            let page = browser
                .post(&action, &[("csrf", token), ("request", &request), ("username", "alice"), ("password", PASSWORD)])
                .await;
            assert_eq!(page.status, 403, "{}", page.body);
            assert!(!browser.has_cookie("kg_session"));
        }
        // The right token from a browser without the cookie (another site's form): 403.
        let stranger = Browser::new();
        let page = stranger
            .post(&action, &[("csrf", &csrf), ("request", &request), ("username", "alice"), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, 403);

        // Wrong password and unknown user: the same answer.
        for (user, password) in [("alice", "wrong password"), ("nobody", PASSWORD)] {
            let page = browser
                .post(&action, &[("csrf", &csrf), ("request", &request), ("username", user), ("password", password)])
                .await;
            assert_eq!(page.status, 401);
            assert!(page.body.contains("The username or password is incorrect."), "{}", page.body);
            assert!(!browser.has_cookie("kg_session"));
        }

        // Guessing is throttled on the page as in the account API: 429 with Retry-After.
        for _ in 0..4 {
            browser
                .post(&action, &[("csrf", &csrf), ("request", &request), ("username", "alice"), ("password", "guess")])
                .await;
        }
        let throttled = browser
            .post(&action, &[("csrf", &csrf), ("request", &request), ("username", "alice"), ("password", PASSWORD)])
            .await;
        assert_eq!(throttled.status, 429, "{}", throttled.body);
        assert!(throttled.headers.contains_key("retry-after"));
        assert!(throttled.body.contains("Too many failed attempts"), "{}", throttled.body);
        // The first delay is a second long.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1100)).await;

        // Malformed bodies are 4xx, never 5xx.
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", "%%%".to_owned()),
            ("application/json", "{}".to_owned()),
            ("application/x-www-form-urlencoded", "csrf=a&csrf=b".to_owned()),
        ] {
            let page = browser.post_raw(&action, content_type, body).await;
            assert!((400..500).contains(&page.status), "{content_type}: {}", page.status);
        }

        // Denying consent sends `access_denied` back to the client.
        let signed_in = browser
            .post(&action, &[("csrf", &csrf), ("request", &request), ("username", "alice"), ("password", PASSWORD)])
            .await;
        assert_eq!(signed_in.status, 303);
        let consent_page = browser.get(signed_in.location.as_deref().unwrap()).await;
        let denied = consent(&browser, &consent_page, "deny").await;
        assert_eq!(denied.status, 303);
        let back: BTreeMap<String, String> = denied.redirect_params();
        assert_eq!(back["error"], "access_denied");
        assert_eq!(back["state"], "s2");

        // `prompt=login` asks for the password again despite the session.
        let url = authorize_url(
            server,
            "acme",
            &id,
            &[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256"), ("prompt", "login")],
        );
        let page = browser.get(&url).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Sign in"));
        // `prompt=none` with a session but no consent yet: `consent_required`.
        let url = authorize_url(
            server,
            "acme",
            &id,
            &[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256"), ("prompt", "none")],
        );
        let page = browser.get(&url).await;
        assert_eq!(page.redirect_params()["error"], "consent_required");
    })
    .await;
}

#[actix_web::test]
async fn public_clients_use_pkce_instead_of_a_secret() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin
            .client("acme", json!({ "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token", "client_credentials"] }))
            .await;
        assert_eq!(secret, None, "a public client gets no secret");
        let (client, http) = relying_party(server, "acme", &id, None).await;

        // PKCE is required even if the client would skip it.
        let url = authorize_url(server, "acme", &id, &[("state", "s")]);
        let page = Browser::new().get(&url).await;
        assert_eq!(page.redirect_params()["error"], "invalid_request");

        let (challenge, verifier) = pkce();
        let (url, _state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let back = sign_in(&Browser::new(), url.as_str(), "alice", PASSWORD).await;
        let code = back.redirect_params()["code"].clone();
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("a public client redeems its code with the verifier");
        tokens.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).expect("valid ID token");

        // No client_credentials for a client without a secret; no introspection either.
        let (status, body) =
            token_request(server, "acme", &[("grant_type", "client_credentials"), ("client_id", &id)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{body}");
        let page = Browser::new()
            .post(
                &format!("{}/acme/oauth2/introspect", server.base),
                &[("token", tokens.access_token().secret()), ("client_id", &id)],
            )
            .await;
        assert_eq!(page.status, 401);
    })
    .await;
}

#[actix_web::test]
async fn tokens_of_one_tenant_mean_nothing_at_another() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        admin.tenant("globex").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let browser = Browser::new();
        let (code, verifier) = code_for(server, &id, &browser).await;
        let (status, tokens) = redeem(server, &code, &verifier, REDIRECT, &id, secret.as_deref().unwrap()).await;
        assert_eq!(status, 200, "{tokens}");
        let access_token = tokens["access_token"].as_str().unwrap();

        // The acme token works at acme's UserInfo and is refused at globex's.
        let userinfo = |tenant: &str| {
            let url = format!("{}/{tenant}/oauth2/userinfo", server.base);
            let token = access_token.to_owned();
            async move {
                let response = awc::Client::default()
                    .get(url)
                    .insert_header(("authorization", format!("Bearer {token}")))
                    .send()
                    .await
                    .unwrap();
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                (response.status().as_u16(), challenge)
            }
        };
        assert_eq!(userinfo("acme").await.0, 200);
        let (status, challenge) = userinfo("globex").await;
        assert_eq!(status, 401);
        assert!(challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""), "{challenge}");
        let (status, challenge) = {
            let response =
                awc::Client::default().get(format!("{}/acme/oauth2/userinfo", server.base)).send().await.unwrap();
            (
                response.status().as_u16(),
                response.headers().get("www-authenticate").unwrap().to_str().unwrap().to_owned(),
            )
        };
        assert_eq!((status, challenge.as_str()), (401, "Bearer realm=\"keygate\""), "no token: a bare challenge");

        // The acme session means nothing at globex, even when the cookie is sent there.
        let (globex_client, _) = admin.client("globex", json!({})).await;
        let (challenge, _) = pkce();
        let url = authorize_url(
            server,
            "globex",
            &globex_client,
            &[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256"), ("prompt", "none")],
        );
        let page = browser.get(&url).await;
        assert_eq!(page.redirect_params()["error"], "login_required");

        // An acme client id is unknown at globex.
        let url = authorize_url(
            server,
            "globex",
            &id,
            &[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")],
        );
        assert_eq!(browser.get(&url).await.status, 400);
    })
    .await;
}

#[actix_web::test]
async fn rp_initiated_logout_ends_the_session_and_its_tokens() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) =
            admin.client("acme", json!({ "post_logout_redirect_uris": ["http://127.0.0.1:9/bye"] })).await;
        let (client, http) = relying_party(server, "acme", &id, secret.as_deref()).await;
        let browser = Browser::new();
        let (challenge, verifier) = pkce();
        let (url, _state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let back = sign_in(&browser, url.as_str(), "alice", PASSWORD).await;
        let tokens = client
            .exchange_code(AuthorizationCode::new(back.redirect_params()["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        let id_token = tokens.id_token().unwrap();
        id_token.claims(&client.id_token_verifier(), &nonce).expect("a valid ID token to hint with");
        let discovery = admin.get("/acme/.well-known/openid-configuration").await;
        let end_session = discovery["end_session_endpoint"].as_str().expect("end_session_endpoint").to_owned();

        // An unregistered post-logout URI is refused with a page, not followed.
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("id_token_hint", &id_token.to_string())
            .append_pair("post_logout_redirect_uri", "https://evil.example/");
        let refused = browser.get(&format!("{end_session}?{}", query.finish())).await;
        assert_eq!(refused.status, 400);
        assert!(refused.location.is_none());

        // The registered one: confirm, then back to the client with its state.
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("id_token_hint", &id_token.to_string())
            .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/bye")
            .append_pair("state", "bye-state");
        let confirm = browser.get(&format!("{end_session}?{}", query.finish())).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert!(confirm.body.contains("Sign out?"));
        // Without the CSRF token nothing happens.
        let forged = browser
            .post(&confirm.form_action(), &[("request", &confirm.input("request").unwrap()), ("decision", "logout")])
            .await;
        assert_eq!(forged.status, 403);
        assert!(browser.has_cookie("kg_session"));
        let done = browser
            .post(
                &confirm.form_action(),
                &[
                    ("csrf", &confirm.input("csrf").unwrap()),
                    ("request", &confirm.input("request").unwrap()),
                    ("decision", "logout"),
                ],
            )
            .await;
        assert_eq!(done.status, 303);
        assert_eq!(done.location.as_deref(), Some("http://127.0.0.1:9/bye?state=bye-state"));
        assert!(!browser.has_cookie("kg_session"), "the session cookie is cleared");

        // The session is gone (the next authorization asks for the password) and so are the
        // tokens issued in it.
        let (challenge, _) = pkce();
        let url = authorize_url(
            server,
            "acme",
            &id,
            &[("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")],
        );
        assert!(browser.get(&url).await.body.contains("Sign in"));
        let refresh =
            client.exchange_refresh_token(tokens.refresh_token().unwrap()).unwrap().request_async(&http).await;
        assert_eq!(error_code(refresh.unwrap_err()), CoreErrorResponseType::InvalidGrant);
        let introspection = client.introspect(tokens.access_token()).request_async(&http).await.unwrap();
        assert!(!introspection.active());
    })
    .await;
}

/// A JSON request with an optional bearer token; returns status, `WWW-Authenticate` and body.
async fn json_call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, String, Value) {
    let http = awc::Client::default();
    let mut request = http.request(awc::http::Method::from_bytes(method.as_bytes()).unwrap(), url);
    if let Some(token) = token {
        request = request.insert_header(("authorization", format!("Bearer {token}")));
    }
    let mut response = match body {
        Some(body) => request.send_json(&body).await.unwrap(),
        None => request.send().await.unwrap(),
    };
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = response.body().await.unwrap();
    (response.status().as_u16(), challenge, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn clients_register_and_manage_themselves_as_the_tenant_allows() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let discovery = admin.get("/acme/.well-known/openid-configuration").await;
        let endpoint = discovery["registration_endpoint"].as_str().expect("registration_endpoint").to_owned();
        let metadata = json!({
            "client_name": "Dynamic notes",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid profile",
        });

        // By default an initial access token is required.
        let (status, challenge, body) = json_call("POST", &endpoint, None, Some(metadata.clone())).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "{body}");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let (status, _, _) = json_call("POST", &endpoint, Some("made-up"), Some(metadata.clone())).await;
        assert_eq!(status, 401);
        let initial = admin.post("/admin/tenants/acme/initial_access_tokens", json!({ "label": "ci" })).await;
        let initial = initial["token"].as_str().unwrap().to_owned();

        // Bad metadata: RFC 7591 §3.2.2 errors, nothing registered.
        for (bad, code) in [
            (json!({ "redirect_uris": ["http://app.example/cb"] }), "invalid_redirect_uri"),
            (json!({ "redirect_uris": [] }), "invalid_redirect_uri"),
            (json!({ "redirect_uris": [REDIRECT], "grant_types": ["password"] }), "invalid_client_metadata"),
            (json!({ "redirect_uris": [REDIRECT], "response_types": ["token"] }), "invalid_client_metadata"),
            (json!({ "redirect_uris": [REDIRECT], "jwks_uri": "https://app.example/jwks" }), "invalid_client_metadata"),
            (
                json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt" }),
                "invalid_client_metadata",
            ),
            (json!(["not", "an", "object"]), "invalid_client_metadata"),
        ] {
            let (status, _, body) = json_call("POST", &endpoint, Some(&initial), Some(bad.clone())).await;
            assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{bad}: {body}");
        }
        let clients_before = admin.get("/admin/tenants/acme/clients").await["items"].as_array().unwrap().len();
        assert_eq!(clients_before, 0);

        let (status, _, registered) = json_call("POST", &endpoint, Some(&initial), Some(metadata.clone())).await;
        assert_eq!(status, 201, "{registered}");
        let id = registered["client_id"].as_str().unwrap().to_owned();
        let secret = registered["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(registered["client_secret_expires_at"], 0);
        assert_eq!(registered["response_types"], json!(["code"]));
        assert_eq!(registered["token_endpoint_auth_method"], "client_secret_basic");
        let registration_token = registered["registration_access_token"].as_str().unwrap().to_owned();
        let configuration = registered["registration_client_uri"].as_str().unwrap().to_owned();
        assert_eq!(configuration, format!("{endpoint}/{id}"));

        // The registered client works: a real code flow and its tokens.
        let browser = Browser::new();
        let (code, verifier) = code_for(server, &id, &browser).await;
        let (status, tokens) = redeem(server, &code, &verifier, REDIRECT, &id, &secret).await;
        assert_eq!(status, 200, "{tokens}");

        // RFC 7592: read, replace, delete with the registration access token only.
        let (status, _, read) = json_call("GET", &configuration, Some(&registration_token), None).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(read["client_name"], "Dynamic notes");
        assert!(read.get("client_secret").is_none(), "secrets are stored as digests and cannot be read back");
        for token in [Some("kgr_wrong"), Some(initial.as_str()), None] {
            let (status, _, _) = json_call("GET", &configuration, token, None).await;
            assert_eq!(status, 401);
        }
        let unknown = format!("{endpoint}/{}", uuid::Uuid::new_v4());
        assert_eq!(json_call("GET", &unknown, Some(&registration_token), None).await.0, 401);
        let mut replacement = metadata.clone();
        replacement["client_name"] = json!("Renamed notes");
        let (status, _, body) =
            json_call("PUT", &configuration, Some(&registration_token), Some(replacement.clone())).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "client_id is required");
        replacement["client_id"] = json!(id);
        let (status, _, updated) = json_call("PUT", &configuration, Some(&registration_token), Some(replacement)).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(
            json_call("GET", &configuration, Some(&registration_token), None).await.2["client_name"],
            "Renamed notes"
        );
        let (status, _, _) = json_call("DELETE", &configuration, Some(&registration_token), None).await;
        assert_eq!(status, 204);
        assert_eq!(json_call("GET", &configuration, Some(&registration_token), None).await.0, 401);
        let (status, body) = token_request(
            server,
            "acme",
            &[("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", &id), ("client_secret", &secret)],
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));

        // The tenant decides: open registration needs no token; closed refuses everyone.
        let tenant_id = admin.get("/admin/tenants?slug=acme").await["items"][0]["id"].as_str().unwrap().to_owned();
        let patch = |registration: &'static str| {
            let url = format!("{}/admin/tenants/{tenant_id}", server.base);
            async move {
                let mut response = awc::Client::default()
                    .patch(url)
                    .insert_header(("authorization", format!("Bearer {ADMIN_TOKEN}")))
                    .send_json(&json!({ "registration": registration }))
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 200, "{:?}", response.body().await);
            }
        };
        patch("open").await;
        assert_eq!(json_call("POST", &endpoint, None, Some(metadata.clone())).await.0, 201);
        patch("closed").await;
        let (status, _, body) = json_call("POST", &endpoint, Some(&initial), Some(metadata.clone())).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("access_denied")));
    })
    .await;
}

#[actix_web::test]
async fn a_deactivated_user_can_no_longer_refresh_or_read_userinfo() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let (id, secret) = admin.client("acme", json!({})).await;
        let secret = secret.unwrap();
        let (code, verifier) = code_for(server, &id, &Browser::new()).await;
        let (status, tokens) = redeem(server, &code, &verifier, REDIRECT, &id, &secret).await;
        assert_eq!(status, 200, "{tokens}");
        let userinfo = |token: String| async move {
            awc::Client::default()
                .get(format!("{}/acme/oauth2/userinfo", server.base))
                .insert_header(("authorization", format!("Bearer {token}")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        let access_token = tokens["access_token"].as_str().unwrap().to_owned();
        assert_eq!(userinfo(access_token.clone()).await, 200);

        // Deactivation through the admin API takes effect on the next request.
        let user =
            admin.get("/admin/tenants/acme/users?username=alice").await["items"][0]["id"].as_str().unwrap().to_owned();
        let mut response = awc::Client::default()
            .patch(format!("{}/admin/tenants/acme/users/{user}", server.base))
            .insert_header(("authorization", format!("Bearer {ADMIN_TOKEN}")))
            .send_json(&json!({ "is_active": false }))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{:?}", response.body().await);
        assert_eq!(userinfo(access_token).await, 401);
        let (status, body) = refresh(server, tokens["refresh_token"].as_str().unwrap(), &id, &secret).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    })
    .await;
}
