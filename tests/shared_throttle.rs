//! Brute-force throttling across replicas: with Redis configured, two runtimes on one database
//! count the same failures, so wrong passwords alternated between them are throttled as they
//! would be at one. Runs when `TEST_REDIS_URL` is set (`.ci/run` sets it), like PostgreSQL's
//! `TEST_DATABASE_URL`.

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::{test, web};
use keygate_runtime::Runtime;
use keygate_runtime::account::throttle::Throttle;
use serde_json::json;
use support::{Auth, Client};

const PASSWORD: &str = "correct horse battery";

/// Two runtimes (replicas) on `db` at `public_url`, sharing a throttle in the Redis at `redis`
/// under a key prefix of their own, so runs never share records.
async fn replicas(db: &support::TestDb, redis: &str, public_url: &str) -> (web::Data<Runtime>, web::Data<Runtime>) {
    let prefix = format!("keygate-test:{}:", uuid::Uuid::new_v4().simple());
    let config =
        || keygate_runtime::RuntimeConfig { bcrypt_cost: 4, public_url: public_url.into(), ..Default::default() };
    let key = [9u8; 32];
    let mut pair = Vec::new();
    for _ in 0..2 {
        let shared = Throttle::redis(redis, &prefix).await.expect("Redis");
        pair.push(web::Data::new(support::runtime_unshared(db, config(), &key).await.with_throttle(shared)));
    }
    let b = pair.pop().unwrap();
    (pair.pop().unwrap(), b)
}

#[actix_web::test]
async fn failures_alternated_between_replicas_are_counted_together() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("TEST_REDIS_URL is not set: shared throttling is not tested");
        return;
    };
    assert!(Throttle::redis("redis://127.0.0.1:1", "x:").await.is_err(), "an unreachable Redis fails at start");
    for db in support::databases().await {
        let (rt_a, rt_b) = replicas(&db, &redis, "http://127.0.0.1:8080").await;
        let app_a = test::init_service(keygate::server::app(rt_a.clone())).await;
        let app_b = test::init_service(keygate::server::app(rt_b.clone())).await;
        let a = Client::new(&app_a, db.backend, rt_a.clone());
        let b = Client::new(&app_b, db.backend, rt_b.clone());
        a.tenant("acme").await;
        let user = json!({ "username": "ann", "email": "ann@example.com", "password": PASSWORD });
        assert_eq!(a.post("/admin/tenants/acme/users", &user).await.status, StatusCode::CREATED);

        let wrong = json!({ "username": "ann", "password": "not the password" });
        let mut statuses = Vec::new();
        for attempt in 0..10 {
            let replica = if attempt % 2 == 0 { &a } else { &b };
            let reply = replica.json(Method::POST, "/acme/auth/login", Some(&wrong), Auth::None).await;
            statuses.push(reply.status.as_u16());
        }
        // Five failures from one address against one account are free; the sixth waits, at
        // whichever replica it arrives.
        assert_eq!(statuses[..5], [401; 5], "[{}] {statuses:?}", db.backend);
        assert_eq!(statuses[5], 429, "[{}] the sixth failure is throttled: {statuses:?}", db.backend);
    }
}

#[actix_web::test]
async fn ceremony_windows_are_shared_by_replicas() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("TEST_REDIS_URL is not set: shared request windows are not tested");
        return;
    };
    for db in support::databases().await {
        // A domain name: WebAuthn has no relying party at an IP address.
        let (rt_a, rt_b) = replicas(&db, &redis, "http://localhost:8080").await;
        let app_a = test::init_service(keygate::server::app(rt_a.clone())).await;
        let app_b = test::init_service(keygate::server::app(rt_b.clone())).await;
        let a = Client::new(&app_a, db.backend, rt_a.clone());
        let b = Client::new(&app_b, db.backend, rt_b.clone());
        let acme = a.tenant("acme").await.str("id");
        a.patch(&format!("/admin/tenants/{acme}"), &json!({ "passkey_sign_in": true })).await;

        // One address's ceremonies, alternated between the replicas, count in one window.
        let limit = keygate_runtime::mfa::ceremony::PER_IP.limit;
        let request = || {
            test::TestRequest::post()
                .uri("/acme/auth/login/passkey/options")
                .peer_addr("192.0.2.44:40000".parse().unwrap())
        };
        async fn start(replica: &Client<'_>, request: test::TestRequest) -> support::Reply {
            replica.send(request).await
        }
        for n in 0..limit {
            let reply = start(if n % 2 == 0 { &a } else { &b }, request()).await;
            assert_eq!(reply.status, StatusCode::OK, "[{}] call {n}: {}", db.backend, reply.json);
        }
        let refused = start(&a, request()).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "[{}] {}", db.backend, refused.json);
        assert!(refused.headers.contains_key("retry-after"));
        assert_eq!(
            start(&b, request()).await.status,
            StatusCode::TOO_MANY_REQUESTS,
            "[{}] at either replica",
            db.backend
        );
    }
}
