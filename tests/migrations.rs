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
        // A NOT NULL column with a literal default, on a table with rows (and, older still, without
        // the listing index on it, which SQLite would not drop the column from under).
        db.execute_unprepared("DROP INDEX lx_clients_is_active_created_at").await.unwrap();
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
        let indexed = match client.backend {
            "postgres" => "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'lx_clients_is_active_created_at'",
            _ => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'lx_clients_is_active_created_at'",
        };
        let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), indexed)).await.unwrap();
        assert_eq!(
            row.unwrap().try_get_by_index::<i64>(0).unwrap(),
            1,
            "[{}] the listing index is added",
            client.backend
        );
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

/// Schema `enum` fields are Rust enums, stored in the same string column as before: the DDL of
/// every enum column is what a `String` field with that default declares, on both backends, and
/// values written as plain text (as earlier builds stored them) read back as their variants.
#[actix_web::test]
async fn enum_columns_keep_their_type_and_their_rows() {
    use keygate_api::entities::{client, tenant};
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
    use sea_orm::{DbBackend, Schema};

    let expected = [
        r#""default_signing_alg" varchar NOT NULL DEFAULT 'RS256'"#,
        r#""registration" varchar NOT NULL DEFAULT 'token'"#,
        r#""access_token_signed_response_alg" varchar,"#,
        r#""id_token_signed_response_alg" varchar,"#,
        r#""token_endpoint_auth_method" varchar NOT NULL DEFAULT 'client_secret_basic'"#,
        r#""application_type" varchar NOT NULL DEFAULT 'web'"#,
    ];
    let sqlite = Schema::new(DbBackend::Sqlite);
    let postgres = Schema::new(DbBackend::Postgres);
    let ddl = [
        sqlite.create_table_from_entity(tenant::Entity).to_string(SqliteQueryBuilder),
        sqlite.create_table_from_entity(client::Entity).to_string(SqliteQueryBuilder),
        postgres.create_table_from_entity(tenant::Entity).to_string(PostgresQueryBuilder),
        postgres.create_table_from_entity(client::Entity).to_string(PostgresQueryBuilder),
    ]
    .join("\n");
    for column in expected {
        assert_eq!(ddl.matches(column).count(), 2, "`{column}` on SQLite and PostgreSQL:\n{ddl}");
    }

    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let app = client.post("/admin/tenants/acme/clients", &json!({ "name": "written-as-text" })).await;
        assert_eq!(app.status, StatusCode::CREATED);
        let id = app.str("id");
        let db = client.rt.db();
        db.execute_unprepared(
            "UPDATE clients SET application_type = 'native', id_token_signed_response_alg = 'EdDSA' \
             WHERE name = 'written-as-text'",
        )
        .await
        .unwrap();
        let read = client.get(&format!("/admin/tenants/acme/clients/{id}")).await;
        assert_eq!(read.status, StatusCode::OK, "[{}] {}", client.backend, read.json);
        assert_eq!(read.json["application_type"], "native");
        assert_eq!(read.json["id_token_signed_response_alg"], "EdDSA");
    })
    .await;
}

/// Planner statistics after migrating: on PostgreSQL a table of 10 pages or more that was never
/// analysed is analysed (once: a later run finds it current), and a small one is left
/// unanalysed, so keyed lookups on it are planned as index scans; SQLite runs `PRAGMA optimize`.
#[actix_web::test]
async fn migrations_leave_large_tables_analysed_and_small_ones_unanalysed() {
    for db in support::databases().await {
        let pool = keygate_runtime::db::connect(&db.url).await.expect("connect");
        keygate_api::migrate(&pool).await.expect("migrate");
        keygate_runtime::tenancy::ensure_default::<keygate_api::entities::Roles>(&pool).await.expect("default tenant");
        // 2,000 revocation records: some 30 pages.
        let fill = if db.backend == "postgres" {
            "INSERT INTO revoked_tokens (id, tenant_id, token_digest, expires_at, created_at, updated_at) \
             SELECT gen_random_uuid(), (SELECT id FROM tenants LIMIT 1), 'digest-' || n, now(), now(), now() \
             FROM generate_series(1, 2000) AS n"
        } else {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO revoked_tokens (id, tenant_id, token_digest, expires_at, created_at, updated_at) \
             SELECT randomblob(16), (SELECT id FROM tenants LIMIT 1), 'digest-' || i, '2030-01-01', '2030-01-01', '2030-01-01' FROM n"
        };
        pool.execute_unprepared(fill).await.expect("fill");
        let backend = pool.get_database_backend();
        if db.backend == "postgres" {
            // The inserts' counters reach the statistics views when their backend flushes them
            // (within a second or so); only then is "no change since" a fair question.
            let live = "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'revoked_tokens'";
            for _ in 0..100 {
                let row = pool.query_one_raw(sea_orm::Statement::from_string(backend, live)).await.unwrap().unwrap();
                if row.try_get_by_index::<i64>(0).unwrap() >= 2000 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        keygate_api::migrate(&pool).await.expect("migrate again");

        if db.backend == "postgres" {
            let stats = async |table: &str| {
                let sql = format!(
                    "SELECT s.last_analyze IS NOT NULL, c.reltuples::float8 FROM pg_stat_user_tables s \
                     JOIN pg_class c ON c.oid = s.relid WHERE s.relname = '{table}'"
                );
                let row = pool.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await.unwrap().unwrap();
                (row.try_get_by_index::<bool>(0).unwrap(), row.try_get_by_index::<f64>(1).unwrap())
            };
            assert_eq!(stats("revoked_tokens").await, (true, 2000.0), "a large table is analysed");
            assert_eq!(stats("device_codes").await, (false, -1.0), "an empty table stays unanalysed");
            let when = "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'revoked_tokens'";
            let analysed_at = async || {
                let row = pool.query_one_raw(sea_orm::Statement::from_string(backend, when)).await.unwrap().unwrap();
                row.try_get_by_index::<chrono::DateTime<chrono::Utc>>(0).unwrap()
            };
            let first = analysed_at().await;
            keygate_api::migrate(&pool).await.expect("a third run");
            assert_eq!(analysed_at().await, first, "current statistics are not gathered again");
        } else {
            let sql = "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'revoked_tokens'";
            let row = pool.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await.unwrap().unwrap();
            assert!(row.try_get_by_index::<i64>(0).unwrap() > 0, "PRAGMA optimize analysed the filled table");
        }
    }
}
