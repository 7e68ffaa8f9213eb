//! Group commit: on SQLite, writers that queue behind each other share one transaction, each in
//! a savepoint of its own, and every one of them is answered only once that transaction has
//! committed (`runtime/src/writer.rs`). Each writer still keeps its own verdict: one that fails
//! (a duplicate username, 409) leaves no trace and does not take the others down with it.

mod support;

use actix_web::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;
use support::{Client, each_backend};

#[actix_web::test]
async fn concurrent_writers_share_commits_and_each_keeps_its_own_verdict() {
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let before = client.rt.commit_stats();
        // 48 creations at once: 32 usernames, 16 of them asked for twice.
        let creations = (0..48).map(|i| {
            let name = format!("user{}", i % 32);
            let body = json!({ "username": name, "email": format!("{name}-{i}@example.com"), "password": "correct horse battery" });
            async move { (name, client.post("/admin/tenants/acme/users", &body).await) }
        });
        let replies = join_all(creations).await;
        let mut created = std::collections::BTreeMap::new();
        let mut conflicts = 0;
        for (name, reply) in &replies {
            match reply.status {
                StatusCode::CREATED => assert!(created.insert(name.clone(), reply.str("id")).is_none(), "{name} created twice"),
                StatusCode::CONFLICT => conflicts += 1,
                other => panic!("[{}] {name}: {other} {}", client.backend, reply.json),
            }
        }
        assert_eq!((created.len(), conflicts), (32, 16), "[{}] each username once, each repeat refused", client.backend);
        for (name, id) in &created {
            let stored = client.get(&format!("/admin/tenants/acme/users/{id}")).await;
            assert_eq!(stored.status, StatusCode::OK, "[{}] acknowledged {name} is stored", client.backend);
            assert_eq!(stored.str("username"), *name);
        }
        let count = client.scalar("SELECT CAST(count(*) AS TEXT) FROM users WHERE username LIKE 'user%'").await;
        assert_eq!(count.as_deref(), Some("32"), "[{}] the refused repeats left no row", client.backend);
        if let (Some(before), Some(after)) = (before, client.rt.commit_stats()) {
            let (batches, writers) = (after.batches - before.batches, after.writers - before.writers);
            assert!(writers >= 48, "every creation committed in a batch: {writers} writers");
            assert!(batches < writers, "concurrent writers shared commits: {batches} commits for {writers} writers");
        }
    })
    .await;
}
