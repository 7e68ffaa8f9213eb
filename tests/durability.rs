//! A `2xx` means committed, even when the disk fills up: a failed write leaves no transaction
//! open and no poisoned connection behind, later writes either fail or are stored, and the
//! service recovers by itself once space is free again. SQLite's `max_page_count` makes the
//! database "full" at a chosen size, so the fault needs no root and no special filesystem
//! (`scripts/fault-tests` does the same on a real, tiny filesystem).

mod support;

use actix_web::http::StatusCode;
use actix_web::{test, web};
use futures_util::future::join_all;
use keygate_runtime::Runtime;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::json;
use support::Client;

/// A pool like the server's whose database cannot grow past `max_pages` pages.
async fn capped(url: &str, max_pages: u64) -> DatabaseConnection {
    let mut options = keygate_runtime::db::options(url);
    options.map_sqlx_sqlite_opts(move |o| {
        keygate_runtime::db::sqlite_settings(o).pragma("max_page_count", max_pages.to_string())
    });
    Database::connect(options).await.expect("connect")
}

async fn page_count(db: &DatabaseConnection) -> u64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "PRAGMA page_count"))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap() as u64
}

async fn stored(db: &DatabaseConnection, id: &str) -> bool {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT count(*) FROM users WHERE id = ?",
        [uuid::Uuid::parse_str(id).unwrap().into()],
    );
    let row = db.query_one_raw(statement).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap() == 1
}

/// A capped database's app (see [`capped`]), its admin client and a connection to check what
/// was stored; `concurrency` creations at a time until the database fills up.
async fn fill_up(concurrency: usize) {
    let db = support::databases().await.into_iter().find(|db| db.backend == "sqlite").unwrap();
    // Migrate with room to spare, then cap the file a little above its size.
    let setup = support::runtime(&db).await;
    let base = page_count(setup.db()).await;
    let verify = Database::connect(keygate_runtime::db::options(&db.url)).await.unwrap();
    let pool = capped(&db.url, base + 24).await;
    let config = keygate_runtime::RuntimeConfig { bcrypt_cost: 4, ..Default::default() };
    let master = keygate_runtime::jose::MasterKey::from_bytes(&[7u8; 32]).unwrap();
    let credentials =
        keygate_runtime::admin_credential::bootstrap(&pool, Some(support::ADMIN_TOKEN)).await.unwrap().credentials;
    let rt = web::Data::new(
        Runtime::new(pool, config, credentials, master).with_endpoints(keygate_api::routes::ENDPOINT_PATHS),
    );
    let app = test::init_service(keygate::server::app(rt.clone())).await;
    let client = Client::new(&app, "sqlite", rt.clone());
    client.tenant("acme").await;

    let client = &client;
    let create = |i: usize| async move {
        let body = json!({
            "username": format!("user{i}"), "email": format!("user{i}@example.com"),
            "password": "correct horse battery", "name": "x".repeat(190),
        });
        client.post("/admin/tenants/acme/users", &body).await
    };
    let mut acknowledged = Vec::new();
    let mut first_failure = None;
    let mut rounds_after_failure = 0;
    for round in 0..400 / concurrency {
        // With several at once, the writers of a round share commits (group commit): the
        // database fills up inside a batch of several writers.
        let replies = join_all((0..concurrency).map(|k| create(round * concurrency + k))).await;
        for reply in replies {
            if reply.status == StatusCode::CREATED {
                acknowledged.push(reply.str("id"));
            } else if first_failure.is_none() {
                first_failure = Some(reply);
            }
        }
        if first_failure.is_some() {
            rounds_after_failure += 1;
            if rounds_after_failure * concurrency > 20 {
                break;
            }
        }
    }
    let failure = first_failure.expect("the capped database fills up");
    assert_eq!(failure.status, StatusCode::SERVICE_UNAVAILABLE, "a full disk is an outage: {}", failure.json);
    assert!(failure.headers.contains_key("retry-after"));
    for id in &acknowledged {
        assert!(stored(&verify, id).await, "user {id} was acknowledged with 201 but is not in the database");
    }

    // Free space (as an operator would), and the service recovers by itself.
    verify.execute_unprepared("DELETE FROM users WHERE username LIKE 'user1%'").await.unwrap();
    let again = create(1000).await;
    assert_eq!(again.status, StatusCode::CREATED, "writes succeed once there is room: {}", again.json);
    assert!(stored(&verify, &again.str("id")).await, "and what is acknowledged is stored");
}

#[actix_web::test]
async fn a_full_disk_never_acknowledges_a_lost_write() {
    fill_up(1).await;
}

#[actix_web::test]
async fn a_full_disk_never_acknowledges_a_lost_write_of_a_shared_commit() {
    fill_up(8).await;
}
