//! What is advertised is what is served: reads a tenant's own discovery document and checks
//! every member against the server's behaviour over real HTTP, so metadata and behaviour cannot
//! drift apart. A member or a listed value this test does not know fails it: whoever advertises
//! something new must show here that it works.

mod oidc;
mod support;

use std::collections::BTreeSet;
use std::str::FromStr;

use keygate_runtime::jose::{Algorithm, Jwks, SigningKey, decode_header, sign_jwt, unverified_claims, verify_jwt};
use oidc::browser::{Browser, Page, sign_in};
use oidc::http_client;
use openidconnect::core::{CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use serde_json::{Value, json};
use support::LiveServer;
use support::live::{Admin, PASSWORD, REDIRECT, each_live_backend};

/// How a client authenticates (RFC 6749 §2.3.1, RFC 7523 §2.2, RFC 7591 §2 `none`).
enum ClientAuth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    Jwt(&'a str, &'a SigningKey),
    None(&'a str),
}

/// The tenant under test, as its discovery document describes it.
struct Provider<'a> {
    admin: &'a Admin,
    doc: Value,
    /// Members checked so far.
    checked: std::cell::RefCell<BTreeSet<String>>,
}

impl Provider<'_> {
    /// `doc[member]`, marked as checked.
    fn member(&self, member: &str) -> &Value {
        self.checked.borrow_mut().insert(member.to_owned());
        &self.doc[member]
    }

    /// A `*_supported` list, marked as checked.
    fn list(&self, member: &str) -> Vec<String> {
        let values = self.member(member).as_array().unwrap_or_else(|| panic!("{member} is a list: {}", self.doc));
        values.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    }

    fn url(&self, member: &str) -> String {
        self.member(member).as_str().unwrap_or_else(|| panic!("{member} in {}", self.doc)).to_owned()
    }

    /// A form post to the endpoint named by `member`, authenticated as `auth`: status and JSON.
    async fn post(&self, member: &str, fields: &[(&str, &str)], auth: &ClientAuth<'_>) -> (u16, Value) {
        let url = self.url(member);
        let mut form: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut request = awc::Client::default().post(&url);
        match auth {
            ClientAuth::Basic(id, secret) => {
                use base64::Engine;
                let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = format!("{}:{}", encode(id), encode(secret));
                let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
                request = request.insert_header(("authorization", value));
            }
            ClientAuth::Post(id, secret) => {
                form.push(("client_id".into(), id.to_string()));
                form.push(("client_secret".into(), secret.to_string()));
            }
            ClientAuth::Jwt(id, key) => {
                let now = chrono::Utc::now().timestamp();
                let claims = json!({
                    "iss": id, "sub": id, "aud": url, "iat": now, "exp": now + 60,
                    "jti": uuid::Uuid::new_v4().to_string(),
                });
                form.push((
                    "client_assertion_type".into(),
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion".into(), sign_jwt(key, "JWT", &claims).unwrap()));
            }
            ClientAuth::None(id) => form.push(("client_id".into(), id.to_string())),
        }
        let mut response = request.send_form(&form).await.expect("POST");
        let body = response.body().await.expect("body");
        (response.status().as_u16(), serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Signs alice in for `client_id` with `extra` authorization parameters (PKCE S256 added);
    /// returns the redirect back and the code verifier.
    async fn authorize(&self, browser: &Browser, client_id: &str, extra: &[(&str, &str)]) -> (Page, String) {
        let (challenge, verifier) = openidconnect::PkceCodeChallenge::new_random_sha256();
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("client_id", client_id).append_pair("redirect_uri", REDIRECT).append_pair("state", "st");
        query.append_pair("code_challenge", challenge.as_str());
        for (key, value) in extra {
            query.append_pair(key, value);
        }
        for (key, value) in [("response_type", "code"), ("scope", "openid"), ("code_challenge_method", "S256")] {
            if !extra.iter().any(|(k, _)| *k == key) {
                query.append_pair(key, value);
            }
        }
        let url = format!("{}?{}", self.url("authorization_endpoint"), query.finish());
        (sign_in(browser, &url, "alice", PASSWORD).await, verifier.secret().clone())
    }

    /// The whole code flow for `client_id`: tokens as JSON.
    async fn code_flow(&self, client_id: &str, auth: &ClientAuth<'_>, extra: &[(&str, &str)]) -> Value {
        let (back, verifier) = self.authorize(&Browser::new(), client_id, extra).await;
        assert_eq!(back.status, 303, "{}", back.body);
        let params = back.redirect_params();
        let code = params.get("code").unwrap_or_else(|| panic!("a code: {params:?}"));
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ];
        let (status, tokens) = self.post("token_endpoint", &fields, auth).await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    async fn jwks(&self) -> Jwks {
        let mut response = awc::Client::default().get(self.url("jwks_uri")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        serde_json::from_slice(&response.body().await.unwrap()).unwrap()
    }

    /// A confidential client of acme with `extra` metadata: id and secret.
    async fn client(&self, extra: Value) -> (String, String) {
        let (id, secret) = self.admin.client("acme", extra).await;
        (id, secret.unwrap_or_default())
    }
}

fn jws_alg(alg: &str) -> CoreJwsSigningAlgorithm {
    serde_json::from_value(json!(alg)).unwrap()
}

#[actix_web::test]
async fn every_advertised_capability_works() {
    each_live_backend(async |server: &LiveServer, admin: &Admin| {
        admin.tenant("acme").await;
        let issuer = format!("{}/acme", server.base);
        let doc = admin.get("/acme/.well-known/openid-configuration").await;
        let p = Provider { admin, doc, checked: Default::default() };
        assert_eq!(p.member("issuer"), &json!(issuer), "OIDC Discovery §4.3");
        assert_eq!(admin.get("/.well-known/oauth-authorization-server/acme").await, p.doc, "RFC 8414 §3");

        endpoints_answer(&p).await;
        signing_algorithms_have_keys_and_sign(&p, &issuer).await;
        grants_work(&p).await;
        client_authentication_methods_work(&p).await;
        authorization_request_options_work(&p).await;
        scopes_and_claims_are_served(&p).await;
        registration_and_logout_work(&p).await;

        let unchecked: Vec<&String> =
            p.doc.as_object().unwrap().keys().filter(|k| !p.checked.borrow().contains(*k)).collect();
        assert!(unchecked.is_empty(), "advertised but not checked by this test: {unchecked:?}");
    })
    .await;
}

/// Every URL in the document is served: not 404, not 405 for every method, never a 5xx.
async fn endpoints_answer(p: &Provider<'_>) {
    let members: Vec<String> = p
        .doc
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.ends_with("_endpoint") || k.ends_with("_uri"))
        .cloned()
        .collect();
    assert!(members.len() >= 8, "{members:?}");
    for member in members {
        let url = p.url(&member);
        let http = awc::Client::builder().disable_redirects().finish();
        let get = http.get(&url).send().await.unwrap().status().as_u16();
        let post = http.post(&url).send_form(&[("x", "y")]).await.unwrap().status().as_u16();
        assert!(get < 500 && post < 500, "{member} {url}: GET {get}, POST {post}");
        assert!(get != 404 && post != 404, "{member} {url} is not mounted: GET {get}, POST {post}");
        assert!(get != 405 || post != 405, "{member} {url} takes neither GET nor POST");
    }
}

/// Every algorithm the tenant says it signs with has a key in the JWKS, and a client registered
/// for it gets tokens signed with it that verify.
async fn signing_algorithms_have_keys_and_sign(p: &Provider<'_>, issuer: &str) {
    let jwks = p.jwks().await;
    let has_key = |alg: &str| jwks.keys.iter().any(|k| k.alg.as_deref() == Some(alg));
    let http = http_client::client();
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.to_owned()).unwrap(), &http)
        .await
        .expect("discovery");
    for alg in p.list("id_token_signing_alg_values_supported") {
        assert!(has_key(&alg), "no {alg} key in the JWKS for ID tokens: {jwks:?}");
        let (id, secret) = p.client(json!({ "id_token_signed_response_alg": alg })).await;
        let tokens = p.code_flow(&id, &ClientAuth::Basic(&id, &secret), &[("nonce", "n-0S6")]).await;
        let token = tokens["id_token"].as_str().expect("an ID token");
        assert_eq!(decode_header(token).unwrap().alg, alg);
        // An independent relying party verifies it with the published keys.
        let rp = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(id.clone()),
            Some(ClientSecret::new(secret.clone())),
        );
        let verifier = rp.id_token_verifier().set_allowed_algs([jws_alg(&alg)]);
        let id_token = CoreIdToken::from_str(token).unwrap();
        id_token.claims(&verifier, &Nonce::new("n-0S6".into())).unwrap_or_else(|e| panic!("{alg} ID token: {e}"));
    }
    for alg in p.list("access_token_signing_alg_values_supported") {
        assert!(has_key(&alg), "no {alg} key in the JWKS for access tokens");
        let (id, secret) =
            p.client(json!({ "grant_types": ["client_credentials"], "access_token_signed_response_alg": alg })).await;
        let fields = [("grant_type", "client_credentials")];
        let (status, tokens) = p.post("token_endpoint", &fields, &ClientAuth::Basic(&id, &secret)).await;
        assert_eq!(status, 200, "{tokens}");
        let token = tokens["access_token"].as_str().unwrap();
        assert_eq!(decode_header(token).unwrap().alg, alg);
        let claims = verify_jwt(token, &p.jwks().await.keys).unwrap_or_else(|e| panic!("{alg} access token: {e}"));
        assert_eq!(claims["iss"], issuer);
    }
}

/// Every grant type works for a client that asks for it.
async fn grants_work(p: &Provider<'_>) {
    for grant in p.list("grant_types_supported") {
        match grant.as_str() {
            "authorization_code" => {
                let (id, secret) = p.client(json!({})).await;
                let tokens = p.code_flow(&id, &ClientAuth::Basic(&id, &secret), &[]).await;
                assert!(tokens["access_token"].is_string() && tokens["id_token"].is_string(), "{tokens}");
            }
            "refresh_token" => {
                let (id, secret) = p.client(json!({})).await;
                let auth = ClientAuth::Basic(&id, &secret);
                let tokens = p.code_flow(&id, &auth, &[]).await;
                let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
                let fields = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
                let (status, refreshed) = p.post("token_endpoint", &fields, &auth).await;
                assert_eq!(status, 200, "{refreshed}");
                assert!(refreshed["access_token"].is_string());
            }
            "client_credentials" => {
                let (id, secret) = p.client(json!({ "grant_types": ["client_credentials"] })).await;
                let fields = [("grant_type", "client_credentials")];
                let (status, tokens) = p.post("token_endpoint", &fields, &ClientAuth::Basic(&id, &secret)).await;
                assert_eq!(status, 200, "{tokens}");
            }
            other => panic!("grant_types_supported lists `{other}`, which this test does not exercise"),
        }
    }
}

/// Every client authentication method works at the endpoints that list it, with every signing
/// algorithm listed for `private_key_jwt`.
async fn client_authentication_methods_work(p: &Provider<'_>) {
    for (endpoint, prefix) in [
        ("token_endpoint", "token_endpoint"),
        ("introspection_endpoint", "introspection_endpoint"),
        ("revocation_endpoint", "revocation_endpoint"),
    ] {
        let algs = p.list(&format!("{prefix}_auth_signing_alg_values_supported"));
        for method in p.list(&format!("{prefix}_auth_methods_supported")) {
            match method.as_str() {
                "client_secret_basic" | "client_secret_post" => {
                    let (id, secret) = p
                        .client(json!({ "grant_types": ["client_credentials"], "token_endpoint_auth_method": method }))
                        .await;
                    let auth = if method == "client_secret_basic" {
                        ClientAuth::Basic(&id, &secret)
                    } else {
                        ClientAuth::Post(&id, &secret)
                    };
                    authenticates_at(p, endpoint, &auth, &ClientAuth::Basic(&id, &secret)).await;
                }
                "private_key_jwt" => {
                    for alg in &algs {
                        let key = SigningKey::generate(Algorithm::from_wire(alg).unwrap()).unwrap();
                        let (id, _) = p
                            .client(json!({
                                "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                                "jwks": { "keys": [key.public_jwk()] },
                            }))
                            .await;
                        authenticates_at(p, endpoint, &ClientAuth::Jwt(&id, &key), &ClientAuth::Jwt(&id, &key)).await;
                    }
                }
                "none" => {
                    let (id, _) = p.admin.client("acme", json!({ "token_endpoint_auth_method": "none" })).await;
                    let tokens = p.code_flow(&id, &ClientAuth::None(&id), &[]).await;
                    if endpoint == "revocation_endpoint" {
                        let token = tokens["refresh_token"].as_str().unwrap();
                        let (status, body) = p.post(endpoint, &[("token", token)], &ClientAuth::None(&id)).await;
                        assert_eq!(status, 200, "a public client revokes its own token: {body}");
                    } else {
                        assert_eq!(endpoint, "token_endpoint", "`none` is listed for {endpoint}");
                    }
                }
                other => panic!("{prefix}_auth_methods_supported lists `{other}`, which this test does not exercise"),
            }
        }
    }
}

/// `auth` authenticates at `endpoint`: the token endpoint issues, introspection reports an
/// active token, revocation revokes one (tokens come from `issuer_auth` at the token endpoint).
async fn authenticates_at(p: &Provider<'_>, endpoint: &str, auth: &ClientAuth<'_>, issuer_auth: &ClientAuth<'_>) {
    let grant = [("grant_type", "client_credentials")];
    let (status, tokens) = p.post("token_endpoint", &grant, issuer_auth).await;
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    match endpoint {
        "token_endpoint" => {
            let (status, body) = p.post(endpoint, &grant, auth).await;
            assert_eq!(status, 200, "{body}");
        }
        "introspection_endpoint" => {
            let (status, body) = p.post(endpoint, &[("token", token)], auth).await;
            assert_eq!((status, &body["active"]), (200, &json!(true)), "{body}");
        }
        "revocation_endpoint" => {
            let (status, body) = p.post(endpoint, &[("token", token)], auth).await;
            assert_eq!(status, 200, "{body}");
        }
        other => unreachable!("{other}"),
    }
}

/// Response types and modes, PKCE methods, prompts, `iss` in responses, and the request
/// parameters the document says are (not) supported.
async fn authorization_request_options_work(p: &Provider<'_>) {
    let (id, secret) = p.client(json!({})).await;
    let auth = ClientAuth::Basic(&id, &secret);
    for response_type in p.list("response_types_supported") {
        assert_eq!(response_type, "code", "only the code flow is exercised here");
        p.code_flow(&id, &auth, &[("response_type", &response_type)]).await;
    }
    for mode in p.list("response_modes_supported") {
        assert_eq!(mode, "query", "response mode `{mode}` is not exercised here");
        p.code_flow(&id, &auth, &[("response_mode", &mode)]).await;
    }
    for method in p.list("code_challenge_methods_supported") {
        assert_eq!(method, "S256", "PKCE method `{method}` is not exercised here");
        p.code_flow(&id, &auth, &[("code_challenge_method", &method)]).await;
    }
    let browser = Browser::new();
    let (back, _) = p.authorize(&browser, &id, &[]).await;
    // RFC 9207 §2.
    if p.member("authorization_response_iss_parameter_supported") == &json!(true) {
        assert_eq!(back.redirect_params()["iss"], p.doc["issuer"].as_str().unwrap());
    }
    // With a session and consent in place, each prompt value is honoured, never refused.
    for prompt in p.list("prompt_values_supported") {
        let (page, _) = p.authorize(&browser, &id, &[("prompt", &prompt)]).await;
        assert_eq!(page.status, 303, "prompt={prompt}: {}", page.body);
        let params = page.redirect_params();
        assert!(params.contains_key("code"), "prompt={prompt}: {params:?}");
    }
    for (member, parameter, error) in [
        ("request_parameter_supported", "request", "request_not_supported"),
        ("request_uri_parameter_supported", "request_uri", "request_uri_not_supported"),
    ] {
        if p.member(member) == &json!(false) {
            let url = format!(
                "{}?client_id={id}&redirect_uri={}&response_type=code&scope=openid&{parameter}=x",
                p.url("authorization_endpoint"),
                form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
            );
            let page = browser.get(&url).await;
            assert_eq!(page.redirect_params().get("error").map(String::as_str), Some(error), "{member}");
        }
    }
    // Not supported: a `claims` parameter is ignored (OIDC Core §5.5 lets a server ignore it).
    if p.member("claims_parameter_supported") == &json!(false) {
        p.code_flow(&id, &auth, &[("claims", r#"{"userinfo":{"email":null}}"#)]).await;
    }
}

/// Every advertised scope can be requested and granted; every advertised claim appears in the
/// ID token or at UserInfo; subjects are public (the same for every client).
async fn scopes_and_claims_are_served(p: &Provider<'_>) {
    let scopes = p.list("scopes_supported").join(" ");
    let (id, secret) = p.client(json!({ "scopes": p.doc["scopes_supported"] })).await;
    let tokens = p.code_flow(&id, &ClientAuth::Basic(&id, &secret), &[("scope", &scopes), ("nonce", "n")]).await;
    let granted: BTreeSet<&str> = tokens["scope"].as_str().unwrap().split(' ').collect();
    for scope in scopes.split(' ') {
        assert!(granted.contains(scope), "`{scope}` was not granted: {tokens}");
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let id_token = unverified_claims(tokens["id_token"].as_str().unwrap()).unwrap();
    seen.extend(id_token.as_object().unwrap().keys().cloned());
    let mut response = awc::Client::default()
        .get(p.url("userinfo_endpoint"))
        .insert_header(("authorization", format!("Bearer {}", tokens["access_token"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let userinfo: Value = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
    seen.extend(userinfo.as_object().unwrap().keys().cloned());
    // OIDC Core §2: the ID token's `acr` is one the document lists (a password-only sign-in: the
    // first); `acr_values` in a request is a voluntary claim, which this server does not step up to.
    let acr_values = p.list("acr_values_supported");
    assert_eq!(id_token["acr"].as_str(), acr_values.first().map(String::as_str), "{id_token}");
    for claim in p.list("claims_supported") {
        assert!(seen.contains(&claim), "`{claim}` is advertised but in neither the ID token nor UserInfo: {seen:?}");
    }
    for subject_type in p.list("subject_types_supported") {
        assert_eq!(subject_type, "public", "subject type `{subject_type}` is not exercised here");
        let (other, other_secret) = p.client(json!({ "name": "Other" })).await;
        let again = p.code_flow(&other, &ClientAuth::Basic(&other, &other_secret), &[]).await;
        let other_sub = unverified_claims(again["id_token"].as_str().unwrap()).unwrap()["sub"].clone();
        assert_eq!(other_sub, id_token["sub"], "a public subject is the same for every client");
    }
}

/// The registration endpoint registers a client that then works; the end-session endpoint
/// offers to sign out a session it was given an ID token of.
async fn registration_and_logout_work(p: &Provider<'_>) {
    let initial = p.admin.post("/admin/tenants/acme/initial_access_tokens", json!({ "label": "conformance" })).await;
    let metadata = json!({ "client_name": "Registered", "redirect_uris": [REDIRECT] });
    let mut response = awc::Client::default()
        .post(p.url("registration_endpoint"))
        .insert_header(("authorization", format!("Bearer {}", initial["token"].as_str().unwrap())))
        .send_json(&metadata)
        .await
        .unwrap();
    let registered: Value = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
    assert_eq!(response.status().as_u16(), 201, "{registered}");
    let id = registered["client_id"].as_str().unwrap();
    let secret = registered["client_secret"].as_str().unwrap();
    let tokens = p.code_flow(id, &ClientAuth::Basic(id, secret), &[]).await;

    let hint = tokens["id_token"].as_str().unwrap();
    let url = format!("{}?id_token_hint={hint}", p.url("end_session_endpoint"));
    let page = Browser::new().get(&url).await;
    assert!(page.status == 200 || page.status == 303, "end_session_endpoint: {} {}", page.status, page.body);
}
