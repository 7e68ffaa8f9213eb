//! Mail over HTTP, end to end: Keygate sends real messages through lettre to an SMTP sink in
//! the test suite (tests/support/smtp.rs), and the tests follow the links in them: email
//! verification, password reset, email-change and new-device notices (from the account API,
//! and from the sign-in page on a live server driven by a cookie-keeping browser).

mod oidc;
mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use chrono::Utc;
use sea_orm::EntityTrait;
use sea_orm::sea_query::Expr;
use serde_json::{Value, json};
use support::smtp::{Mail, MailSink};
use support::{Auth, Client, Reply, each_backend_with_mail};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new secret";

async fn register(client: &Client<'_>, name: &str) -> String {
    let body = json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD });
    let reply = client.json(Method::POST, "/acme/auth/register", Some(&body), Auth::None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.str("id")
}

fn login_request(name: &str, password: &str, agent: &str, cookie: Option<&str>) -> TestRequest {
    let mut request = TestRequest::post()
        .uri("/acme/auth/login")
        .peer_addr("192.0.2.10:40000".parse().unwrap())
        .insert_header(("content-type", "application/json"))
        .insert_header(("user-agent", agent.to_owned()))
        .set_payload(json!({ "username": name, "password": password }).to_string());
    if let Some(cookie) = cookie {
        request = request.insert_header(("cookie", cookie.to_owned()));
    }
    request
}

async fn login(client: &Client<'_>, name: &str, password: &str) -> Reply {
    client.send(login_request(name, password, "Test/1.0", None)).await
}

async fn call(client: &Client<'_>, method: Method, path: &str, body: Option<Value>, token: &str) -> Reply {
    client.json(method, path, body.as_ref(), Auth::Bearer(token)).await
}

/// The path and query of an absolute link, for the in-process app.
fn path_of(link: &str) -> String {
    let rest = link.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

/// The token of a link (its `token=` query parameter).
fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

/// The same link with its token's last character changed.
fn tampered(link: &str) -> String {
    let mut link = link.to_owned();
    let last = link.pop().unwrap();
    link.push(if last == 'A' { 'B' } else { 'A' });
    link
}

async fn get_page(client: &Client<'_>, path: &str) -> Reply {
    client.send(TestRequest::get().uri(path)).await
}

/// Moves every stored link's expiry into the past.
async fn expire_links(client: &Client<'_>) {
    use keygate_api::entities::email_token;
    email_token::Entity::update_many()
        .col_expr(email_token::Column::ExpiresAt, Expr::value(Utc::now() - chrono::Duration::minutes(1)))
        .exec(client.rt.db())
        .await
        .expect("expire links");
}

async fn events(client: &Client<'_>, token: &str) -> Vec<Value> {
    let page = call(client, Method::GET, "/acme/auth/me/security-events", None, token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.json);
    page.json["items"].as_array().unwrap().clone()
}

fn event_types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The `count`-th message to `to` with `subject` (waiting up to 10 s for it).
async fn one_mail(sink: &MailSink, to: &str, count: usize, subject: &str) -> Mail {
    for _ in 0..200 {
        let found: Vec<Mail> = sink.to(to).into_iter().filter(|mail| mail.subject() == subject).collect();
        if found.len() >= count {
            return found[count - 1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message {count} “{subject}” to {to}; the sink holds {:#?}", sink.all());
}

#[actix_web::test]
async fn verification_links_work_once_until_they_expire_and_email_changes_unverify() {
    each_backend_with_mail(async |client: &Client<'_>, sink: &MailSink| {
        client.tenant("acme").await;
        let ann = register(client, "ann").await;
        let token = login(client, "ann", PASSWORD).await.str("access_token");

        let sent = call(client, Method::POST, "/acme/auth/me/verify-email", None, &token).await;
        assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.json);
        assert_eq!(sent.json["sent_to"], "ann@example.com");
        let mail = one_mail(sink, "ann@example.com", 1, "Verify your email address").await;
        let link = mail.link("/acme/verify-email?token=");
        assert!(mail.part("text/html").contains(&link), "the HTML part carries the same link");

        let bad = get_page(client, &path_of(&tampered(&link))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
        assert!(bad.text.contains("not valid"), "{}", bad.text);
        let ok = get_page(client, &path_of(&link)).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
        assert!(ok.text.contains("ann@example.com is now verified"), "{}", ok.text);
        assert!(ok.headers.get("content-security-policy").unwrap().to_str().unwrap().starts_with("default-src 'none'"));
        let me = call(client, Method::GET, "/acme/auth/me", None, &token).await;
        assert_eq!(me.json["email_verified"], true);
        let reused = get_page(client, &path_of(&link)).await;
        assert_eq!(reused.status, StatusCode::BAD_REQUEST);
        assert!(reused.text.contains("already used"), "{}", reused.text);
        let again = call(client, Method::POST, "/acme/auth/me/verify-email", None, &token).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "already verified: {}", again.json);

        // A new address is unverified, and the old one is told.
        let changed =
            call(client, Method::PATCH, "/acme/auth/me", Some(json!({ "email": "Ann2@Example.com" })), &token).await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
        assert_eq!(changed.json["email"], "ann2@example.com");
        assert_eq!(changed.json["email_verified"], false);
        let notice = one_mail(sink, "ann@example.com", 1, "Your email address was changed").await;
        assert!(notice.text().contains("ann2@example.com"), "{}", notice.text());

        // An expired link is refused; a fresh one verifies through the JSON API.
        call(client, Method::POST, "/acme/auth/me/verify-email", None, &token).await;
        let expiring = one_mail(sink, "ann2@example.com", 1, "Verify your email address").await;
        expire_links(client).await;
        let expired = client
            .json(
                Method::POST,
                "/acme/auth/verify-email",
                Some(&json!({ "token": token_of(&expiring.link("token=")) })),
                Auth::None,
            )
            .await;
        assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", expired.json);
        assert_eq!(expired.error_fields(), ["token"]);
        assert!(expired.json.to_string().contains("expired"), "{}", expired.json);
        call(client, Method::POST, "/acme/auth/me/verify-email", None, &token).await;
        let fresh = one_mail(sink, "ann2@example.com", 2, "Verify your email address").await;
        let verified = client
            .json(
                Method::POST,
                "/acme/auth/verify-email",
                Some(&json!({ "token": token_of(&fresh.link("token=")) })),
                Auth::None,
            )
            .await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.json);
        assert_eq!(verified.json, json!({ "email": "ann2@example.com", "email_verified": true }));

        // An admin's change of address un-verifies it too.
        let admin =
            client.patch(&format!("/admin/tenants/acme/users/{ann}"), &json!({ "email": "ann3@example.com" })).await;
        assert_eq!(admin.status, StatusCode::OK, "{}", admin.json);
        assert_eq!(admin.json["email_verified"], false, "{}", admin.json);
        let told = one_mail(sink, "ann2@example.com", 1, "Your email address was changed").await;
        assert!(told.text().contains("ann3@example.com"), "the old address is told: {}", told.text());
        // A refused update (a taken address) changes nothing and tells nobody.
        register(client, "zed").await;
        let taken =
            client.patch(&format!("/admin/tenants/acme/users/{ann}"), &json!({ "email": "zed@example.com" })).await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.json);
        // A link sent to a former address no longer verifies anything.
        call(client, Method::POST, "/acme/auth/me/verify-email", None, &token).await;
        let stale = one_mail(sink, "ann3@example.com", 1, "Verify your email address").await;
        client.patch(&format!("/admin/tenants/acme/users/{ann}"), &json!({ "email": "ann4@example.com" })).await;
        let refused = get_page(client, &path_of(&stale.link("token="))).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        one_mail(sink, "ann3@example.com", 1, "Your email address was changed").await;
        let mentions_zed = sink.to("ann3@example.com").iter().any(|mail| mail.text().contains("zed@"));
        assert!(!mentions_zed, "the refused change mailed nothing");

        let log = events(client, &token).await;
        assert_eq!(
            event_types(&log),
            ["email.changed", "email.changed", "email.verified", "email.changed", "email.verified"],
            "{log:?}"
        );
        assert_eq!(log[0]["data"]["by"], "admin");
        assert_eq!(log[3]["data"]["by"], "user");
    })
    .await;
}

#[actix_web::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_sign_in() {
    each_backend_with_mail(async |client: &Client<'_>, sink: &MailSink| {
        client.tenant("acme").await;
        register(client, "bob").await;
        let here = login(client, "bob", PASSWORD).await;
        let elsewhere = login(client, "bob", PASSWORD).await;

        // The same answer whether or not the account exists; only the real one gets mail.
        let forgot = |name: &'static str| async move {
            client
                .json(Method::POST, "/acme/auth/password/forgot", Some(&json!({ "username": name })), Auth::None)
                .await
        };
        let known = forgot("BOB@example.com").await;
        let unknown = forgot("nobody").await;
        assert_eq!(known.status, StatusCode::ACCEPTED, "{}", known.json);
        assert_eq!((unknown.status, &unknown.json), (known.status, &known.json));
        let mail = one_mail(sink, "bob@example.com", 1, "Reset your password").await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let resets = sink.all().into_iter().filter(|mail| mail.subject() == "Reset your password").count();
        assert_eq!(resets, 1, "nothing is sent for an unknown name");
        let link = mail.link("/acme/reset-password?token=");

        // The page: a strict CSP and a CSRF-protected form carrying the token.
        let tampered_page = get_page(client, &path_of(&tampered(&link))).await;
        assert_eq!(tampered_page.status, StatusCode::BAD_REQUEST);
        let page = get_page(client, &path_of(&link)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(page.text.contains(&format!("name=\"token\" value=\"{}\"", token_of(&link))), "{}", page.text);
        let csrf_cookie = page
            .headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("kg_csrf="))
            .map(|v| v.split(';').next().unwrap().to_owned())
            .expect("a CSRF cookie");
        let csrf = csrf_cookie.trim_start_matches("kg_csrf=").to_owned();
        let post = |csrf: String, password: &'static str| {
            let form = form_urlencoded::Serializer::new(String::new())
                .append_pair("csrf", &csrf)
                .append_pair("token", &token_of(&link))
                .append_pair("new_password", password)
                .finish();
            TestRequest::post()
                .uri("/acme/reset-password")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .insert_header(("cookie", csrf_cookie.clone()))
                .set_payload(form)
        };
        assert_eq!(client.send(post("forged".into(), NEW_PASSWORD)).await.status, StatusCode::FORBIDDEN);
        let weak = client.send(post(csrf.clone(), "short")).await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", weak.text);
        assert!(weak.text.contains("name=\"new_password\""), "the form again: {}", weak.text);
        let done = client.send(post(csrf.clone(), NEW_PASSWORD)).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        assert!(done.text.contains("Password changed"), "{}", done.text);

        // Used once; every earlier sign-in is over; the new password works, the old does not.
        let reused = client.send(post(csrf.clone(), "yet another secret")).await;
        assert_eq!(reused.status, StatusCode::BAD_REQUEST);
        assert!(reused.text.contains("already used"), "{}", reused.text);
        for old in [&here, &elsewhere] {
            let refresh = json!({ "refresh_token": old.str("refresh_token") });
            let refused = client.json(Method::POST, "/acme/auth/refresh", Some(&refresh), Auth::None).await;
            assert_eq!(refused.json["error"], "invalid_grant", "{}", refused.json);
            let me = call(client, Method::GET, "/acme/auth/me", None, &old.str("access_token")).await;
            assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(login(client, "bob", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        let now = login(client, "bob", NEW_PASSWORD).await;
        assert_eq!(now.status, StatusCode::OK, "{}", now.json);
        one_mail(sink, "bob@example.com", 1, "Your password was reset").await;
        let token = now.str("access_token");
        let me = call(client, Method::GET, "/acme/auth/me", None, &token).await;
        assert_eq!(me.json["email_verified"], true, "following the link proved the address");
        let log = events(client, &token).await;
        assert_eq!(event_types(&log).iter().filter(|t| **t == "password.reset").count(), 1, "{log:?}");

        // The JSON equivalent: expired links are refused, a fresh one works.
        forgot("bob").await;
        let expiring = one_mail(sink, "bob@example.com", 2, "Reset your password").await;
        expire_links(client).await;
        let reset = |token: String| async move {
            let body = json!({ "token": token, "new_password": "third secret here" });
            client.json(Method::POST, "/acme/auth/password/reset", Some(&body), Auth::None).await
        };
        let expired = reset(token_of(&expiring.link("token="))).await;
        assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", expired.json);
        assert!(expired.json.to_string().contains("expired"));
        // Housekeeping deletes expired links (both of them here, the used one too).
        let pruned = keygate_runtime::maintenance::prune(&client.rt, keygate_api::entities::EXPIRING).await.unwrap();
        assert_eq!(pruned.rows("email_tokens"), 2, "{pruned:?}");
        forgot("bob").await;
        let fresh = one_mail(sink, "bob@example.com", 3, "Reset your password").await;
        assert_eq!(reset(token_of(&fresh.link("token="))).await.status, StatusCode::NO_CONTENT);
        assert_eq!(reset(token_of(&fresh.link("token="))).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reset("made-up".into()).await.error_fields(), ["token"]);
        assert_eq!(login(client, "bob", "third secret here").await.status, StatusCode::OK);
    })
    .await;
}

#[actix_web::test]
async fn a_new_password_or_email_ends_the_reset_links_sent_before() {
    each_backend_with_mail(async |client: &Client<'_>, sink: &MailSink| {
        client.tenant("acme").await;
        register(client, "carol").await;
        let forgot = async || {
            let body = json!({ "username": "carol" });
            let reply = client.json(Method::POST, "/acme/auth/password/forgot", Some(&body), Auth::None).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.json);
        };
        let reset = |token: String, password: &'static str| async move {
            let body = json!({ "token": token, "new_password": password });
            client.json(Method::POST, "/acme/auth/password/reset", Some(&body), Auth::None).await
        };
        let link = async |count: usize| {
            token_of(&one_mail(sink, "carol@example.com", count, "Reset your password").await.link("token="))
        };

        // Two links asked for; the second resets the password: the first no longer works.
        forgot().await;
        let first = link(1).await;
        forgot().await;
        let second = link(2).await;
        assert_eq!(reset(second, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
        let stale = reset(first, "the attackers choice").await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", stale.json);
        assert_eq!(stale.error_fields(), ["token"]);
        assert_eq!(login(client, "carol", NEW_PASSWORD).await.status, StatusCode::OK);

        // A link asked for, then the password changed while signed in: the link is over.
        forgot().await;
        let before_change = link(3).await;
        let token = login(client, "carol", NEW_PASSWORD).await.str("access_token");
        let change = json!({ "current_password": NEW_PASSWORD, "new_password": PASSWORD });
        assert_eq!(
            call(client, Method::POST, "/acme/auth/password", Some(change), &token).await.status,
            StatusCode::NO_CONTENT
        );
        let stale = reset(before_change, "the attackers choice").await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", stale.json);

        // A link sent to the old address does not reset the password once the email changed.
        forgot().await;
        let to_old_address = link(4).await;
        let token = login(client, "carol", PASSWORD).await.str("access_token");
        let moved =
            call(client, Method::PATCH, "/acme/auth/me", Some(json!({ "email": "carol@new.example" })), &token).await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.json);
        let stale = reset(to_old_address, "the attackers choice").await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", stale.json);
        assert_eq!(login(client, "carol", PASSWORD).await.status, StatusCode::OK, "the password is unchanged");
    })
    .await;
}

#[actix_web::test]
async fn reset_requests_are_throttled_per_name_and_ip() {
    each_backend_with_mail(async |client: &Client<'_>, _sink: &MailSink| {
        client.tenant("acme").await;
        let ask = |name: &'static str| async move {
            let request = TestRequest::post()
                .uri("/acme/auth/password/forgot")
                .peer_addr("198.51.100.9:40000".parse().unwrap())
                .insert_header(("content-type", "application/json"))
                .set_payload(json!({ "username": name }).to_string());
            client.send(request).await
        };
        for _ in 0..5 {
            assert_eq!(ask("carol").await.status, StatusCode::ACCEPTED);
        }
        let throttled = ask("carol").await;
        assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{}", throttled.json);
        assert!(throttled.headers.contains_key("retry-after"));
        assert_eq!(ask("dave").await.status, StatusCode::ACCEPTED, "another name from that IP is still served");
        // Sign-in keeps its own counters.
        assert_eq!(login(client, "carol", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        // Let the requests' background lookups finish before the app stops.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    })
    .await;
}

/// `POST /acme/auth/password/forgot` for `name` from `ip`.
async fn forgot_from(client: &Client<'_>, name: &str, ip: &str) -> Reply {
    let request = TestRequest::post()
        .uri("/acme/auth/password/forgot")
        .peer_addr(format!("{ip}:40000").parse().unwrap())
        .insert_header(("content-type", "application/json"))
        .set_payload(json!({ "username": name }).to_string());
    client.send(request).await
}

#[actix_web::test]
async fn reset_requests_are_throttled_per_ip_per_name_and_per_account_alike_for_unknown_names() {
    each_backend_with_mail(async |client: &Client<'_>, sink: &MailSink| {
        client.tenant("acme").await;
        register(client, "erin").await;
        register(client, "gina").await;

        // Per name and IP: a real account's name is throttled exactly as an unknown one, so a
        // 429 tells nothing either.
        for name in ["erin", "nobody-here"] {
            let mut statuses = Vec::new();
            for _ in 0..6 {
                statuses.push(forgot_from(client, name, "192.0.2.60").await.status.as_u16());
            }
            assert_eq!(statuses, [202, 202, 202, 202, 202, 429], "[{}] {name}", client.backend);
        }

        // Per IP across names: fifty requests from one address, whatever they name.
        for n in 0..50 {
            let reply = forgot_from(client, &format!("stranger{n}"), "192.0.2.61").await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "[{}] name {n}: {}", client.backend, reply.json);
        }
        let flooded = forgot_from(client, "stranger-new", "192.0.2.61").await;
        assert_eq!(flooded.status, StatusCode::TOO_MANY_REQUESTS, "[{}] {}", client.backend, flooded.json);
        assert!(flooded.headers.contains_key("retry-after"));

        // Per name from any address: twenty, then the name waits wherever it is asked from.
        for n in 0..20 {
            let reply = forgot_from(client, "frank", &format!("198.51.100.{n}")).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "[{}] address {n}", client.backend);
        }
        assert_eq!(forgot_from(client, "frank", "198.51.100.99").await.status, StatusCode::TOO_MANY_REQUESTS);

        // Per account: its two names from many addresses are all answered alike, but the
        // account is mailed five links an hour at most.
        for n in 0..8 {
            let name = if n % 2 == 0 { "gina" } else { "GINA@example.com" };
            let reply = forgot_from(client, name, &format!("203.0.113.{n}")).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "[{}] request {n}", client.backend);
        }
        one_mail(sink, "gina@example.com", 5, "Reset your password").await;
        // Let every request's background work finish, then count.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(sink.to("gina@example.com").len(), 5, "[{}] five links, not eight", client.backend);
        let stored =
            client.scalar("SELECT CAST(COUNT(*) AS TEXT) FROM email_tokens WHERE purpose = 'reset_password'").await;
        assert_eq!(stored.as_deref(), Some("10"), "[{}] gina's five and erin's five", client.backend);
    })
    .await;
}

#[actix_web::test]
async fn a_sign_in_from_a_new_device_is_logged_and_mailed() {
    each_backend_with_mail(async |client: &Client<'_>, sink: &MailSink| {
        client.tenant("acme").await;
        let dee = register(client, "dee").await;
        let first = client.send(login_request("dee", PASSWORD, "Firefox/140", None)).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);
        let header = first
            .headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("kg_device="))
            .expect("a device cookie")
            .to_owned();
        assert!(
            header.contains("HttpOnly") && header.contains("Path=/acme") && header.contains("Max-Age="),
            "{header}"
        );
        let cookie = header.split(';').next().unwrap().to_owned();
        let again = client.send(login_request("dee", PASSWORD, "Firefox/141", Some(&cookie))).await;
        assert_eq!(again.status, StatusCode::OK);
        let token = again.str("access_token");
        assert!(events(client, &token).await.is_empty(), "a first device and a known one are no news");

        let other = client.send(login_request("dee", PASSWORD, "curl/8.0", None)).await;
        assert_eq!(other.status, StatusCode::OK);
        let mail = one_mail(sink, "dee@example.com", 1, "New sign-in to your account").await;
        assert!(mail.text().contains("curl/8.0") && mail.text().contains("192.0.2.10"), "{}", mail.text());
        let log = events(client, &token).await;
        assert_eq!(event_types(&log), ["sign_in.new_device"]);
        assert_eq!(log[0]["data"]["via"], "account_api");
        assert_eq!(log[0]["user_agent"], "curl/8.0");
        let device = log[0]["device_id"].as_str().expect("the new device").to_owned();
        // A client that keeps no cookies is known by its agent and address the next time.
        let cookieless = client.send(login_request("dee", PASSWORD, "curl/8.0", None)).await;
        assert_eq!(cookieless.status, StatusCode::OK);
        assert_eq!(event_types(&events(client, &token).await), ["sign_in.new_device"], "no news the second time");

        let mine = call(client, Method::GET, "/acme/auth/me/devices", None, &token).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
        let items = mine.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{}", mine.json);
        assert_eq!(items[0]["id"], device.as_str(), "most recently seen first");
        assert_eq!(items[1]["user_agent"], "Firefox/141", "a known device keeps its latest agent");
        let admin = client.get(&format!("/admin/tenants/acme/devices?user_id={dee}")).await;
        assert_eq!(admin.status, StatusCode::OK, "{}", admin.json);
        assert_eq!(admin.json["items"].as_array().unwrap().len(), 2);
        assert!(!admin.json.to_string().contains("digest"), "never the cookie's digest: {}", admin.json);
    })
    .await;
}

/// An authorization request of `client_id` at the live `server` (PKCE, `prompt` as given).
fn authorize_url(server: &support::LiveServer, client_id: &str, prompt: &str) -> String {
    let verifier = openidconnect::PkceCodeVerifier::new("a-fixed-pkce-code-verifier-of-at-least-43-characters".into());
    let challenge = openidconnect::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", support::live::REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256")
        .append_pair("prompt", prompt)
        .finish();
    format!("{}/acme/oauth2/authorize?{query}", server.base)
}

#[actix_web::test]
async fn a_browser_sign_in_from_a_new_device_is_logged_and_mailed() {
    use oidc::browser::{Browser, sign_in};
    use support::live::{Admin, PASSWORD as ALICE_PASSWORD};
    for db in support::databases().await {
        let sink = MailSink::start().await;
        let server = support::LiveServer::start_with_mail(&db, &sink).await;
        let admin = Admin::new(&server);
        admin.tenant("acme").await;
        let (client_id, _) = admin.client("acme", json!({})).await;
        let alice = admin.get("/admin/tenants/acme/users?username=alice").await["items"][0]["id"].clone();

        // The first device is no news; the same browser again (a new sign-in) is known by its
        // device cookie, HttpOnly and scoped to the tenant.
        let firefox = Browser::with_user_agent("Firefox/140");
        let done = sign_in(&firefox, &authorize_url(&server, &client_id, "login"), "alice", ALICE_PASSWORD).await;
        assert_eq!(done.status, 303, "[{}] {}", db.backend, done.body);
        assert!(firefox.has_cookie("kg_device"), "a device cookie");
        let asked = firefox.get(&authorize_url(&server, &client_id, "login")).await;
        assert!(asked.body.contains("id=\"password\""), "prompt=login asks for the password again: {}", asked.body);
        let again = sign_in(&firefox, &authorize_url(&server, &client_id, "login"), "alice", ALICE_PASSWORD).await;
        assert_eq!(again.status, 303, "[{}] {}", db.backend, again.body);

        // Another browser: logged as `sign_in.new_device` (via the browser) and mailed.
        let safari = Browser::with_user_agent("Safari/18.0");
        let other = sign_in(&safari, &authorize_url(&server, &client_id, "login"), "alice", ALICE_PASSWORD).await;
        assert_eq!(other.status, 303, "[{}] {}", db.backend, other.body);
        let mail = one_mail(&sink, "alice@example.com", 1, "New sign-in to your account").await;
        assert!(mail.text().contains("Safari/18.0") && mail.text().contains("127.0.0.1"), "{}", mail.text());
        let path = format!("/admin/tenants/acme/security_events?user_id={}", alice.as_str().unwrap());
        let events = admin.get(&path).await;
        let items = events["items"].as_array().unwrap();
        assert_eq!(event_types(items), ["sign_in.new_device"], "[{}] {events}", db.backend);
        assert_eq!(
            (items[0]["data"]["via"].as_str(), items[0]["user_agent"].as_str()),
            (Some("browser"), Some("Safari/18.0"))
        );
        let notices = sink.all().into_iter().filter(|mail| mail.subject() == "New sign-in to your account").count();
        assert_eq!(notices, 1, "[{}] the first and the known device were no news", db.backend);
        let devices = admin.get(&format!("/admin/tenants/acme/devices?user_id={}", alice.as_str().unwrap())).await;
        assert_eq!(devices["items"].as_array().map(Vec::len), Some(2), "{devices}");
        server.stop().await;
    }
}

/// A link survives its transfer encoding whole, wherever a soft line break falls: a token is
/// base64url, so `--` can start a quoted-printable continuation line, and a reader that ends a
/// MIME part at any line beginning with `--` (instead of at the boundary) cut such links short
/// (a rare flake of the verification test above, one token in a few thousand).
#[actix_web::test]
async fn links_of_any_shape_arrive_whole() {
    let sink = MailSink::start().await;
    let mailer = keygate_runtime::mail::Mailer::smtp(&sink.url(), "Keygate <noreply@keygate.test>").expect("mailer");
    for shift in 0..4 {
        let token = format!("{}{}", "A".repeat(shift), "-".repeat(60));
        let url = format!("http://127.0.0.1:8080/acme/verify-email?token={token}");
        let to = format!("shift{shift}@example.com");
        mailer.send(&to, &keygate_runtime::mail::notices::verify_email("acme", url.clone(), 24));
        let mail = one_mail(&sink, &to, 1, "Verify your email address").await;
        assert_eq!(mail.link("token="), url, "the plain-text part");
        assert!(mail.part("text/html").contains(&url), "the HTML part: {}", mail.part("text/html"));
    }
}
