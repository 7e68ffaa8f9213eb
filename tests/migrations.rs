//! Schema upgrades are additive: an existing database gains new tables, columns and indexes
//! without losing rows, and re-running a migration changes nothing.

mod support;

use actix_web::http::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;
use support::{Client, each_backend};

#[actix_web::test]
async fn an_older_database_is_upgraded_without_losing_rows() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let ann = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "ann", "email": "ann@example.com", "password": "correct horse battery" }),
            )
            .await;
        let key =
            client.post("/admin/tenants/acme/api_keys", &json!({ "user_id": ann.str("id"), "label": "old" })).await;
        assert_eq!(key.status, StatusCode::CREATED);
        let old_app = client.post("/admin/tenants/acme/clients", &json!({ "name": "legacy" })).await;
        assert_eq!(old_app.status, StatusCode::CREATED);

        // Make the database look like it came from an older schema: a column, a table and a
        // uniqueness index that the current schema declares are missing.
        let db = client.rt.db();
        db.execute_unprepared("ALTER TABLE api_keys DROP COLUMN last_used_at").await.unwrap();
        db.execute_unprepared("DROP TABLE initial_access_tokens").await.unwrap();
        db.execute_unprepared("DROP INDEX ux_users_tenant_id_username").await.unwrap();
        // A NOT NULL column with a literal default, on a table with rows.
        db.execute_unprepared("ALTER TABLE clients DROP COLUMN is_active").await.unwrap();

        keygate_api::migrate(db).await.expect("upgrade");
        keygate_api::migrate(db).await.expect("a second run is a no-op");

        // Rows survived; the column, table and index are back and in use.
        assert_eq!(client.list_all("/admin/tenants/acme/users").await.len(), 1, "[{}] users kept", client.backend);
        let keys = client.list_all("/admin/tenants/acme/api_keys").await;
        assert_eq!(keys.len(), 1);
        assert!(keys[0]["last_used_at"].is_null(), "new nullable column reads as null on old rows");
        let dup = client
            .post(
                "/admin/tenants/acme/users",
                &json!({ "username": "ann", "email": "x@example.com", "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT, "per-tenant uniqueness is enforced again");
        let legacy = client.get(&format!("/admin/tenants/acme/clients/{}", old_app.str("id"))).await;
        assert_eq!(legacy.json["is_active"], true, "an added NOT NULL column takes its default on old rows");
        let token = client.post("/admin/tenants/acme/initial_access_tokens", &json!({ "label": "ci" })).await;
        assert_eq!(token.status, StatusCode::CREATED, "recreated table works: {}", token.json);
        assert_eq!(client.list_all("/admin/tenants/acme/initial_access_tokens").await.len(), 1);
    })
    .await;
}

/// Replicas starting together on an empty database all come up: concurrent migrations take
/// turns instead of racing on the catalogue (PostgreSQL failed with a duplicate `pg_type` row).
#[actix_web::test]
async fn concurrent_migrations_of_an_empty_database_all_succeed() {
    for db in support::databases().await {
        let mut pools = Vec::new();
        for _ in 0..4 {
            pools.push(keygate_runtime::db::connect(&db.url).await.expect("connect"));
        }
        let runs = pools.iter().map(|pool| async move {
            keygate_api::migrate(pool).await.map_err(|e| e.to_string())?;
            keygate_runtime::tenancy::ensure_default::<keygate_api::entities::Roles>(pool)
                .await
                .map_err(|e| e.to_string())
        });
        let results = futures_util::future::join_all(runs).await;
        for result in &results {
            assert!(result.is_ok(), "[{}] every replica migrates: {result:?}", db.backend);
        }
        let created = results.iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(created, 1, "[{}] exactly one replica creates the default tenant", db.backend);
        keygate_api::migrate(&pools[0]).await.expect("a later run is a no-op");
    }
}
