//! Second factors over HTTP (issue 12): TOTP enrolment and confirmation, sign-in with a TOTP or
//! recovery code through the `mfa_required` challenge, replay and brute-force refusals, policy
//! per tenant and per client, the admin reset, `amr`/`acr` in tokens and refreshed tokens, and
//! isolation between users and tenants.

mod support;

use actix_web::http::{Method, StatusCode};
use keygate_runtime::jose::{Jwks, verify_jwt};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use support::{Auth, Client, Reply, USER_PASSWORD, each_backend};
use totp_rs::Totp;

const TWO_FACTOR: &str = "urn:keygate:loa:2fa";
const ONE_FACTOR: &str = "urn:keygate:loa:1fa";

async fn call(client: &Client<'_>, method: Method, path: &str, body: Option<Value>, auth: Auth<'_>) -> Reply {
    client.json(method, path, body.as_ref(), auth).await
}

async fn login(client: &Client<'_>, tenant: &str, name: &str) -> Reply {
    let body = json!({ "username": name, "password": USER_PASSWORD });
    call(client, Method::POST, &format!("/{tenant}/auth/login"), Some(body), Auth::None).await
}

async fn complete(client: &Client<'_>, tenant: &str, body: Value) -> Reply {
    call(client, Method::POST, &format!("/{tenant}/auth/login/mfa"), Some(body), Auth::None).await
}

/// The code the user's app shows `steps` time steps from now.
fn code(app: &Totp, steps: i64) -> String {
    let now = chrono::Utc::now().timestamp() + steps * 30;
    app.generate(u64::try_from(now).unwrap()).to_string()
}

/// The app the user would set up from an enrolment answer: parsed from its otpauth URI.
fn app_of(enrolment: &Reply) -> Totp {
    assert_eq!(enrolment.status, StatusCode::CREATED, "{}", enrolment.json);
    let uri = enrolment.str("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let svg = enrolment.str("qr_svg");
    assert!(
        svg.contains("<svg") && !svg.contains("href") && !svg.contains("<script"),
        "a self-contained SVG: {}",
        &svg[..80.min(svg.len())]
    );
    Totp::from_url(&uri).expect("an otpauth URI authenticator apps read")
}

/// Enrols and confirms TOTP for the holder of `access`: the factor id and the user's app.
async fn enrolled(client: &Client<'_>, tenant: &str, access: &str) -> (String, Totp) {
    let path = format!("/{tenant}/auth/me/mfa/totp");
    let enrolment = call(client, Method::POST, &path, Some(json!({ "label": "Phone" })), Auth::Bearer(access)).await;
    let app = app_of(&enrolment);
    let id = enrolment.str("id");
    let confirm = format!("/{tenant}/auth/me/mfa/totp/{id}/confirm");
    let confirmed =
        call(client, Method::POST, &confirm, Some(json!({ "code": code(&app, -1) })), Auth::Bearer(access)).await;
    assert_eq!(confirmed.status, StatusCode::OK, "[{}] {}", client.backend, confirmed.json);
    assert_eq!(confirmed.json["confirmed"], true);
    (id, app)
}

async fn claims(client: &Client<'_>, tenant: &str, token: &str) -> Value {
    let jwks = call(client, Method::GET, &format!("/{tenant}/.well-known/jwks.json"), None, Auth::None).await;
    let jwks: Jwks = serde_json::from_value(jwks.json).unwrap();
    verify_jwt(token, &jwks.keys).expect("signed by the tenant")
}

/// `amr` and `acr` of both the access token and the ID token of a token response.
async fn assert_methods(client: &Client<'_>, tenant: &str, tokens: &Reply, amr: &[&str], acr: &str) {
    assert_eq!(tokens.status, StatusCode::OK, "[{}] {}", client.backend, tokens.json);
    for name in ["access_token", "id_token"] {
        let claims = claims(client, tenant, &tokens.str(name)).await;
        assert_eq!(claims["amr"], json!(amr), "[{}] {name}: {claims}", client.backend);
        assert_eq!(claims["acr"], acr, "[{}] {name}", client.backend);
    }
}

/// The types of the user's security events, newest first, but for sign-ins from new devices
/// (these test clients keep no device cookie, so each sign-in is from a new device).
async fn event_types(client: &Client<'_>, tenant: &str, access: &str) -> Vec<String> {
    let path = format!("/{tenant}/auth/me/security-events?limit=100");
    let page = call(client, Method::GET, &path, None, Auth::Bearer(access)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.json);
    let types = page.json["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned());
    types.filter(|t| t != "sign_in.new_device").collect()
}

async fn tenant_id(client: &Client<'_>, slug: &str) -> String {
    let tenants = client.list_all(&format!("/admin/tenants?slug={slug}")).await;
    tenants[0]["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn totp_enrolment_sign_in_replay_and_tokens_that_say_so() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        // Without a factor: one factor, said so in the tokens.
        assert_methods(client, "acme", &login(client, "acme", "ann").await, &["pwd"], ONE_FACTOR).await;

        // An unconfirmed factor does not count, and a wrong first code does not confirm it.
        let path = "/acme/auth/me/mfa/totp";
        let pending = call(client, Method::POST, path, None, Auth::Bearer(&access)).await;
        let app = app_of(&pending);
        assert!(login(client, "acme", "ann").await.json["access_token"].is_string(), "unconfirmed: no challenge");
        let confirm = format!("/acme/auth/me/mfa/totp/{}/confirm", pending.str("id"));
        let wrong =
            call(client, Method::POST, &confirm, Some(json!({ "code": "000000" })), Auth::Bearer(&access)).await;
        assert_eq!((wrong.status, wrong.error_fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["code".to_owned()]));
        let listed = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(&access)).await;
        assert_eq!(listed.json["factors"][0]["confirmed"], false, "{}", listed.json);
        assert!(!listed.text.contains(&app.secret().to_base32()), "the secret is never listed");

        // A fresh enrolment replaces the unconfirmed one; confirmed, it counts.
        let (factor, app) = enrolled(client, "acme", &access).await;
        let listed = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(&access)).await;
        let factors = listed.json["factors"].as_array().unwrap();
        assert_eq!(factors.len(), 1, "{}", listed.json);
        assert_eq!((factors[0]["id"].as_str(), factors[0]["label"].as_str()), (Some(factor.as_str()), Some("Phone")));
        let stored = client.scalar("SELECT secret_sealed FROM mfa_factors").await.unwrap();
        assert!(!stored.contains(&app.secret().to_base32()), "sealed at rest");

        // The password alone now answers a challenge, not tokens.
        let challenged = login(client, "acme", "ann").await;
        assert_eq!(challenged.status, StatusCode::OK, "{}", challenged.json);
        assert_eq!(challenged.json["mfa_required"], true);
        assert!(challenged.json.get("access_token").is_none(), "{}", challenged.json);
        let challenge = challenged.str("mfa_challenge");
        let stored = client.scalar("SELECT challenge_digest FROM mfa_challenges").await.unwrap();
        assert_ne!(stored, challenge, "only its digest is stored");

        let wrong = complete(client, "acme", json!({ "mfa_challenge": challenge, "code": "123456" })).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.json);
        let current = code(&app, 0);
        let tokens = complete(client, "acme", json!({ "mfa_challenge": challenge, "code": current })).await;
        assert_methods(client, "acme", &tokens, &["pwd", "otp", "mfa"], TWO_FACTOR).await;

        // The challenge works once; the code too (RFC 6238 §5.2), even with a new challenge.
        let reused = complete(client, "acme", json!({ "mfa_challenge": challenge, "code": code(&app, 1) })).await;
        assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
        assert!(reused.json["detail"].as_str().unwrap().contains("already used"), "{}", reused.json);
        let again = login(client, "acme", "ann").await.str("mfa_challenge");
        let replay = complete(client, "acme", json!({ "mfa_challenge": again, "code": current })).await;
        assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.json);
        assert!(replay.json["detail"].as_str().unwrap().contains("already used"), "{}", replay.json);

        // Refreshed tokens keep saying how the user signed in.
        let body = json!({ "refresh_token": tokens.str("refresh_token") });
        let refreshed = call(client, Method::POST, "/acme/auth/refresh", Some(body), Auth::None).await;
        assert_methods(client, "acme", &refreshed, &["pwd", "otp", "mfa"], TWO_FACTOR).await;

        // An expired challenge is refused, however right the code.
        let late = login(client, "acme", "ann").await.str("mfa_challenge");
        client.rt.db().execute_unprepared("UPDATE mfa_challenges SET expires_at = created_at").await.unwrap();
        let expired = complete(client, "acme", json!({ "mfa_challenge": late, "code": code(&app, 1) })).await;
        assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
        assert!(expired.json["detail"].as_str().unwrap().contains("expired"), "{}", expired.json);
        // Housekeeping deletes expired challenges.
        let pruned = keygate_runtime::maintenance::prune(&client.rt, keygate_api::entities::EXPIRING).await.unwrap();
        assert!(pruned.rows("mfa_challenges") >= 1, "{pruned:?}");
        assert_eq!(client.scalar("SELECT challenge_digest FROM mfa_challenges").await, None);

        // Discovery says which `acr` values tokens carry.
        let discovery = call(client, Method::GET, "/acme/.well-known/openid-configuration", None, Auth::None).await;
        assert_eq!(discovery.json["acr_values_supported"], json!([ONE_FACTOR, TWO_FACTOR]));

        // Removing the factor ends the challenge.
        let path = format!("/acme/auth/me/mfa/factors/{factor}");
        assert_eq!(
            call(client, Method::DELETE, &path, None, Auth::Bearer(&access)).await.status,
            StatusCode::NO_CONTENT
        );
        assert!(login(client, "acme", "ann").await.json["access_token"].is_string());
        // Adding and removing the factor are security events of the user.
        assert_eq!(
            event_types(client, "acme", &access).await,
            ["factor.removed", "factor.added"],
            "[{}]",
            client.backend
        );
    })
    .await;
}

#[actix_web::test]
async fn wrong_codes_are_throttled_like_passwords() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        let (_, app) = enrolled(client, "acme", &access).await;
        let challenge = login(client, "acme", "ann").await.str("mfa_challenge");
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses
                .push(complete(client, "acme", json!({ "mfa_challenge": challenge, "code": "999999" })).await.status);
        }
        assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5], "[{}]", client.backend);
        assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS, "[{}]", client.backend);
        // Even the right code waits.
        let right = complete(client, "acme", json!({ "mfa_challenge": challenge, "code": code(&app, 0) })).await;
        assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(right.headers.get("retry-after").is_some());
        // The lock is a security event, recorded once, saying which attempts it stops.
        let page = call(
            client,
            Method::GET,
            "/acme/auth/me/security-events?type=sign_in.locked_out",
            None,
            Auth::Bearer(&access),
        )
        .await;
        let locks = page.json["items"].as_array().unwrap();
        assert_eq!(locks.len(), 1, "[{}] {}", client.backend, page.json);
        assert_eq!(locks[0]["data"]["factor"], "mfa");
    })
    .await;
}

#[actix_web::test]
async fn recovery_codes_work_once_and_a_new_set_replaces_the_old() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        enrolled(client, "acme", &access).await;
        let path = "/acme/auth/me/mfa/recovery-codes";
        let first = call(client, Method::POST, path, None, Auth::Bearer(&access)).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
        let codes: Vec<String> =
            first.json["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        assert_eq!(codes.len(), 10);
        let stored = client.scalar("SELECT code_digest FROM recovery_codes").await.unwrap();
        assert!(!codes.contains(&stored), "stored as digests");

        // One code signs in once; typed in lowercase with spaces it is the same code.
        let typed = codes[0].to_lowercase().replace('-', " ");
        let challenge = login(client, "acme", "ann").await.str("mfa_challenge");
        let tokens = complete(client, "acme", json!({ "mfa_challenge": challenge, "recovery_code": typed })).await;
        assert_methods(client, "acme", &tokens, &["pwd", "otp", "mfa"], TWO_FACTOR).await;
        let challenge = login(client, "acme", "ann").await.str("mfa_challenge");
        let again = complete(client, "acme", json!({ "mfa_challenge": challenge, "recovery_code": codes[0] })).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED, "single use: {}", again.json);
        let listed = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(&access)).await;
        assert_eq!(listed.json["recovery_codes_left"], 9);

        // A new set: the old codes stop working, the new ones work.
        let second = call(client, Method::POST, path, None, Auth::Bearer(&access)).await;
        let fresh = second.json["codes"][0].as_str().unwrap().to_owned();
        let old = complete(client, "acme", json!({ "mfa_challenge": challenge, "recovery_code": codes[1] })).await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED, "{}", old.json);
        let new = complete(client, "acme", json!({ "mfa_challenge": challenge, "recovery_code": fresh })).await;
        assert_eq!(new.status, StatusCode::OK, "{}", new.json);
        // Exactly one of `code` and `recovery_code`.
        let challenge = login(client, "acme", "ann").await.str("mfa_challenge");
        let neither = complete(client, "acme", json!({ "mfa_challenge": challenge })).await;
        assert_eq!(neither.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            event_types(client, "acme", &access).await,
            [
                "recovery_code.used",
                "recovery_codes.regenerated",
                "recovery_code.used",
                "recovery_codes.regenerated",
                "factor.added"
            ],
            "[{}]",
            client.backend
        );
        let page = call(
            client,
            Method::GET,
            "/acme/auth/me/security-events?type=recovery_code.used",
            None,
            Auth::Bearer(&access),
        )
        .await;
        assert_eq!(page.json["items"][1]["data"]["codes_left"], 9, "{}", page.json);
    })
    .await;
}

#[actix_web::test]
async fn policy_per_tenant_and_per_client_stricter_only() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let tenant = tenant_id(client, "acme").await;
        let (_, access) = client.signed_in_user("acme", "ann", &[]).await;
        client.signed_in_user("acme", "bob", &[]).await;

        // `required`: a user without a factor enrols during sign-in, then completes with its code.
        let patched = client.patch(&format!("/admin/tenants/{tenant}"), &json!({ "mfa_policy": "required" })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
        let challenged = login(client, "acme", "bob").await;
        assert_eq!(
            (challenged.json["mfa_required"].as_bool(), challenged.json["enrol"].as_bool()),
            (Some(true), Some(true))
        );
        let challenge = challenged.str("mfa_challenge");
        let no_factor = complete(client, "acme", json!({ "mfa_challenge": challenge, "code": "123456" })).await;
        assert_eq!(no_factor.status, StatusCode::UNAUTHORIZED);
        let enrol = json!({ "mfa_challenge": challenge, "label": "Bob's phone" });
        let enrolment = call(client, Method::POST, "/acme/auth/login/mfa/totp", Some(enrol), Auth::None).await;
        let app = app_of(&enrolment);
        let tokens = complete(client, "acme", json!({ "mfa_challenge": challenge, "code": code(&app, 0) })).await;
        assert_methods(client, "acme", &tokens, &["pwd", "otp", "mfa"], TWO_FACTOR).await;
        let bob = tokens.str("access_token");
        let listed = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(&bob)).await;
        assert_eq!(listed.json["factors"][0]["confirmed"], true, "{}", listed.json);
        // Enrolment through a challenge is only for challenges that ask for it.
        let challenge = login(client, "acme", "bob").await.str("mfa_challenge");
        let enrol = json!({ "mfa_challenge": challenge });
        let refused = call(client, Method::POST, "/acme/auth/login/mfa/totp", Some(enrol), Auth::None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.json);

        // The first-party client may not relax the tenant's policy...
        let clients = client.list_all("/admin/tenants/acme/clients").await;
        let first_party = clients.iter().find(|c| c["first_party"] == true).unwrap()["id"].as_str().unwrap().to_owned();
        let path = format!("/admin/tenants/acme/clients/{first_party}");
        assert_eq!(client.patch(&path, &json!({ "mfa_policy": "off" })).await.status, StatusCode::OK);
        assert_eq!(login(client, "acme", "ann").await.json["enrol"], true, "still required");
        // ...but may tighten it: `optional` tenant, `required` client.
        client.patch(&format!("/admin/tenants/{tenant}"), &json!({ "mfa_policy": "optional" })).await;
        assert!(login(client, "acme", "ann").await.json["access_token"].is_string(), "off is not stricter");
        client.patch(&path, &json!({ "mfa_policy": "required" })).await;
        assert_eq!(login(client, "acme", "ann").await.json["enrol"], true, "the client requires it");

        // `off`: nobody is asked, enrolment is refused.
        client.patch(&path, &json!({ "mfa_policy": null })).await;
        client.patch(&format!("/admin/tenants/{tenant}"), &json!({ "mfa_policy": "off" })).await;
        assert_methods(client, "acme", &login(client, "acme", "bob").await, &["pwd"], ONE_FACTOR).await;
        let refused = call(client, Method::POST, "/acme/auth/me/mfa/totp", None, Auth::Bearer(&access)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.json);
    })
    .await;
}

#[actix_web::test]
async fn admins_see_factors_without_secrets_and_reset_them() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (ann, access) = client.signed_in_user("acme", "ann", &[]).await;
        let (factor, _) = enrolled(client, "acme", &access).await;
        call(client, Method::POST, "/acme/auth/me/mfa/recovery-codes", None, Auth::Bearer(&access)).await;

        let listed = client.get(&format!("/admin/tenants/acme/mfa_factors?user_id={ann}")).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
        let item = &listed.json["items"][0];
        assert_eq!((item["id"].as_str(), item["kind"].as_str()), (Some(factor.as_str()), Some("totp")));
        assert!(item.get("secret_sealed").is_none() && item.get("last_used_step").is_none(), "{item}");

        // Deleting one factor through the admin API is the user's `factor.removed`, shaped as
        // their own removal (`by` says whose), from the admin's address, in the same commit.
        let (second, _) = enrolled(client, "acme", &access).await;
        let delete = actix_web::test::TestRequest::delete()
            .uri(&format!("/admin/tenants/acme/mfa_factors/{second}"))
            .peer_addr("203.0.113.7:50000".parse().unwrap())
            .insert_header(("authorization", format!("Bearer {}", support::ADMIN_TOKEN)))
            .insert_header(("user-agent", "admin-console/1.0"));
        assert_eq!(client.send(delete).await.status, StatusCode::NO_CONTENT, "[{}]", client.backend);
        let path = "/acme/auth/me/security-events?type=factor.removed";
        let removed = call(client, Method::GET, path, None, Auth::Bearer(&access)).await;
        let event = &removed.json["items"][0];
        assert_eq!(event["data"], json!({ "factor_id": second, "kind": "totp", "by": "admin" }), "{}", removed.json);
        assert_eq!(
            (event["ip"].as_str(), event["user_agent"].as_str()),
            (Some("203.0.113.7"), Some("admin-console/1.0"))
        );
        let admin_view =
            client.get(&format!("/admin/tenants/acme/security_events?user_id={ann}&type=factor.removed")).await;
        assert_eq!(admin_view.json["items"].as_array().map(Vec::len), Some(1), "{}", admin_view.json);
        assert_eq!(
            client.get(&format!("/admin/tenants/acme/mfa_factors/{second}")).await.status,
            StatusCode::NOT_FOUND
        );
        // The user's own removal says `by: user`.
        let (third, _) = enrolled(client, "acme", &access).await;
        let own = format!("/acme/auth/me/mfa/factors/{third}");
        assert_eq!(
            call(client, Method::DELETE, &own, None, Auth::Bearer(&access)).await.status,
            StatusCode::NO_CONTENT
        );
        let removed = call(client, Method::GET, path, None, Auth::Bearer(&access)).await;
        assert_eq!(removed.json["items"][0]["data"], json!({ "factor_id": third, "kind": "totp", "by": "user" }));
        // A factor of another tenant is not found there, and nothing is recorded.
        client.tenant("beta").await;
        let elsewhere = client.delete(&format!("/admin/tenants/beta/mfa_factors/{factor}")).await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "{}", elsewhere.json);
        let removed = call(client, Method::GET, path, None, Auth::Bearer(&access)).await;
        assert_eq!(removed.json["items"].as_array().map(Vec::len), Some(2), "{}", removed.json);

        let reset = client.post(&format!("/admin/tenants/acme/users/{ann}/mfa/reset"), &json!({})).await;
        assert_eq!(reset.status, StatusCode::OK, "{}", reset.json);
        assert_eq!(
            (reset.json["factors_removed"].as_u64(), reset.json["recovery_codes_removed"].as_u64()),
            (Some(1), Some(10))
        );
        assert!(login(client, "acme", "ann").await.json["access_token"].is_string(), "a password signs in again");
        assert_eq!(event_types(client, "acme", &access).await[0], "factors.reset", "[{}]", client.backend);
        let anonymous =
            client.json(Method::POST, &format!("/admin/tenants/acme/users/{ann}/mfa/reset"), None, Auth::None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let (_, user) = client.signed_in_user("acme", "olga", &["org_admin"]).await;
        let not_admin = client
            .json(Method::POST, &format!("/admin/tenants/acme/users/{ann}/mfa/reset"), None, Auth::Bearer(&user))
            .await;
        assert_eq!(not_admin.status, StatusCode::FORBIDDEN, "the admin credential or a superadmin only");
    })
    .await;
}

#[actix_web::test]
async fn an_org_admin_removes_factors_only_of_users_whose_roles_they_could_grant() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        client.tenant("default").await;
        let (_, olga) = client.signed_in_user("acme", "olga", &["org_admin"]).await;
        let (_, otto) = client.signed_in_user("acme", "otto", &["operator"]).await;
        let (_, ann) = client.signed_in_user("acme", "ann", &[]).await;
        let (_, root) = client.signed_in_user("default", "root", &["superadmin"]).await;
        let (_, dora) = client.signed_in_user("default", "dora", &["org_admin"]).await;
        let delete = async |tenant: &str, factor: &str, token: &str| {
            let path = format!("/admin/tenants/{tenant}/mfa_factors/{factor}");
            client.json(Method::DELETE, &path, None, Auth::Bearer(token)).await
        };
        // Otto holds a role Olga does not (so she could not update him or make him a key): his
        // factor stays, and nothing is recorded. A superadmin's stays out of an org_admin's reach.
        let (otto_factor, _) = enrolled(client, "acme", &otto).await;
        let refused = delete("acme", &otto_factor, &olga).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "[{}] {}", client.backend, refused.json);
        let (root_factor, _) = enrolled(client, "default", &root).await;
        let refused = delete("default", &root_factor, &dora).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "[{}] {}", client.backend, refused.json);
        for (tenant, user, token) in [("acme", "otto", &otto), ("default", "root", &root)] {
            assert_eq!(login(client, tenant, user).await.json["mfa_required"], true, "{user}'s factor stays");
            assert!(!event_types(client, tenant, token).await.contains(&"factor.removed".to_owned()));
        }
        // A user without such roles: removed, as before.
        let (ann_factor, _) = enrolled(client, "acme", &ann).await;
        assert_eq!(delete("acme", &ann_factor, &olga).await.status, StatusCode::NO_CONTENT);
        assert!(login(client, "acme", "ann").await.json["access_token"].is_string());
    })
    .await;
}

#[actix_web::test]
async fn factors_stay_with_their_user_and_tenant() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        client.tenant("beta").await;
        let (ann, access) = client.signed_in_user("acme", "ann", &[]).await;
        let (factor, _) = enrolled(client, "acme", &access).await;
        let (_, bob) = client.signed_in_user("acme", "bob", &[]).await;
        let (_, carl) = client.signed_in_user("beta", "carl", &[]).await;

        // Another user of the tenant, and a user of another tenant: no such factor.
        for (tenant, token) in [("acme", &bob), ("beta", &carl)] {
            let path = format!("/{tenant}/auth/me/mfa/factors/{factor}");
            let deleted = call(client, Method::DELETE, &path, None, Auth::Bearer(token)).await;
            assert_eq!((deleted.status, &deleted.json["detail"]), (StatusCode::NOT_FOUND, &json!("no such factor")));
            let renamed =
                call(client, Method::PATCH, &path, Some(json!({ "label": "mine" })), Auth::Bearer(token)).await;
            assert_eq!((renamed.status, &renamed.json["detail"]), (StatusCode::NOT_FOUND, &json!("no such factor")));
            let path = format!("/{tenant}/auth/me/mfa/totp/{factor}/confirm");
            let reply = call(client, Method::POST, &path, Some(json!({ "code": "123456" })), Auth::Bearer(token)).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.json);
            let listed =
                call(client, Method::GET, &format!("/{tenant}/auth/me/mfa/factors"), None, Auth::Bearer(token)).await;
            assert_eq!(listed.json["factors"], json!([]));
        }
        // Ann's token is no credential at the other tenant.
        let elsewhere = call(client, Method::GET, "/beta/auth/me/mfa/factors", None, Auth::Bearer(&access)).await;
        assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
        // Admin routes of the other tenant do not find Ann or her factor.
        assert_eq!(
            client.post(&format!("/admin/tenants/beta/users/{ann}/mfa/reset"), &json!({})).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            client.get(&format!("/admin/tenants/beta/mfa_factors/{factor}")).await.status,
            StatusCode::NOT_FOUND
        );
        // A challenge of one tenant is unknown at another.
        let challenge = login(client, "acme", "ann").await.str("mfa_challenge");
        let crossed = complete(client, "beta", json!({ "mfa_challenge": challenge, "code": "123456" })).await;
        assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);
        assert!(crossed.json["detail"].as_str().unwrap().contains("unknown"), "{}", crossed.json);
        let listed = call(client, Method::GET, "/acme/auth/me/mfa/factors", None, Auth::Bearer(&access)).await;
        assert_eq!(listed.json["factors"].as_array().unwrap().len(), 1, "untouched");
    })
    .await;
}
