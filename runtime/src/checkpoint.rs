//! SQLite WAL checkpoints, off the write path. In WAL mode a commit appends pages to the `-wal`
//! file, and a *checkpoint* copies them back into the database file, with an `fsync` of each.
//! By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages, so every
//! so often one commit, and every writer queued behind Keygate's write gate ([`crate::writer`]),
//! waits for those copies and `fsync`s: the slowest requests of a write-heavy load
//! (`docs/benchmarks.md`). Here [`run`] checkpoints from a reader connection instead, a few times
//! a second while writes arrive, and the writer's own automatic checkpoint stays as a backstop
//! for a WAL of [`WRITER_CHECKPOINT_PAGES`] (when nothing else checkpoints: a process other than
//! `keygate serve`, or a checkpointer that cannot keep up).
//!
//! A `PASSIVE` checkpoint takes no lock a writer or reader waits for: it copies what no open read
//! still needs and leaves the rest for the next one. Durability is unchanged: a commit is in the
//! WAL when acknowledged either way (`synchronous=NORMAL`: it survives a crash of the process;
//! a power loss may take the commits since the last checkpoint, as before).
//!
//! Under a steady stream of writes such a checkpoint never finishes: the writer appends while
//! it copies. SQLite starts the WAL over from its beginning only when a write transaction
//! begins with every page of it copied, so the WAL then grew until the writer's backstop took
//! over, inside a commit, every third of a second (the refresh scenario's slowest requests,
//! `docs/benchmarks.md`). So when the writer committed while a checkpoint ran, a second one
//! follows during a pause of the writer ([`crate::state::Runtime::write_turn`]): it copies only
//! what was committed meanwhile, and the next write starts the WAL over.

use std::future::Future;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

use crate::state::Runtime;
use crate::writer::WriteTurn;

/// How often [`run`] looks for new commits to checkpoint.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// The WAL size, in pages, at which a commit checkpoints by itself (SQLite's
/// `wal_autocheckpoint`; its default is 1,000): a backstop, far above what [`run`] lets build up
/// under load.
pub const WRITER_CHECKPOINT_PAGES: u32 = 10_000;

/// What one checkpoint did, from `PRAGMA wal_checkpoint(PASSIVE)`: the WAL's size and how much
/// of it is now in the database file, in pages (frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// Pages in the WAL.
    pub wal_pages: i64,
    /// Pages of it copied into the database file, by this checkpoint or earlier ones.
    pub copied_pages: i64,
}

/// Runs one `PASSIVE` checkpoint on a connection of `db`'s pool. Errors: the database's (a full
/// disk, an I/O error).
pub async fn checkpoint(db: &DatabaseConnection) -> Result<Checkpointed, DbErr> {
    let statement = Statement::from_string(db.get_database_backend(), "PRAGMA wal_checkpoint(PASSIVE)");
    let row = db.query_one_raw(statement).await?.ok_or_else(|| DbErr::Custom("no checkpoint result".into()))?;
    // Columns: busy (always 0 for PASSIVE), WAL pages, pages checkpointed.
    Ok(Checkpointed { wal_pages: row.try_get_by_index(1)?, copied_pages: row.try_get_by_index(2)? })
}

/// Forever, on SQLite: every [`INTERVAL`] in which the writer committed, a checkpoint. A failure
/// is logged once (until a checkpoint succeeds again) and retried at the next interval; the WAL
/// keeps every commit meanwhile. Returns at once on PostgreSQL.
pub async fn run(rt: &Runtime) {
    keep_up(rt.db(), || rt.commit_stats().map(|stats| stats.batches), || rt.write_turn()).await;
}

/// [`run`], with `commits` counting the writer's commits (`None`: not SQLite) and `pause`
/// holding the writer back until the turn it returns is dropped.
async fn keep_up<P: Future<Output = WriteTurn>>(
    db: &DatabaseConnection,
    commits: impl Fn() -> Option<u64>,
    pause: impl Fn() -> P,
) {
    if commits().is_none() {
        return;
    }
    let mut checkpointed = 0;
    let mut every = tokio::time::interval(INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        every.tick().await;
        let committed = commits().unwrap_or(checkpointed);
        if committed == checkpointed {
            continue;
        }
        match checkpoint_all(db, &commits, &pause).await {
            Ok(done) => {
                checkpointed = committed;
                if std::mem::take(&mut failing) {
                    tracing::info!(?done, "WAL checkpoints work again");
                }
            }
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "WAL checkpoint failed; retrying every {} ms", INTERVAL.as_millis());
            }
            Err(_) => {}
        }
    }
}

/// A [`checkpoint`], and if the writer committed while it ran (pages it could not copy), a
/// second one while `pause`'s turn holds the writer back, so that the next write starts the WAL
/// over. Pages an open read still needs stay behind either way.
async fn checkpoint_all<P: Future<Output = WriteTurn>>(
    db: &DatabaseConnection,
    commits: &impl Fn() -> Option<u64>,
    pause: impl Fn() -> P,
) -> Result<Checkpointed, DbErr> {
    let before = commits();
    let done = checkpoint(db).await?;
    if commits() == before {
        return Ok(done);
    }
    let _paused = pause().await;
    checkpoint(db).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::invalidation::{Caches, Invalidator};
    use crate::jose::MasterKey;
    use crate::writer::Writer;

    /// A SQLite file at `path` with a table `b (x BLOB)`, its writer and an invalidator.
    struct Fixture {
        dir: tempfile::TempDir,
        path: std::path::PathBuf,
        db: DatabaseConnection,
        writer: Arc<Writer>,
        invalidator: Invalidator,
    }

    impl Fixture {
        async fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("checkpoint.db");
            let db = crate::db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
            db.execute_unprepared("CREATE TABLE b (x BLOB)").await.unwrap();
            let writer = Arc::new(Writer::new(&db));
            let master = MasterKey::from_bytes(&[1; 32]).unwrap();
            let invalidator = Invalidator::new(Arc::new(Caches::new(master)), None);
            Self { dir, path, db, writer, invalidator }
        }
    }

    /// 1,200 pages of rows, committed through the writer.
    const PAGES: u64 = 1_200;

    /// Commits beyond SQLite's default of 1,000 WAL pages leave the database file as it was (the
    /// writer no longer checkpoints them); the checkpointer then copies them in.
    #[tokio::test]
    async fn commits_are_checkpointed_by_the_checkpointer_not_the_writer() {
        let Fixture { dir: _dir, path, db, writer, invalidator } = Fixture::new().await;
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        for rows in [PAGES, 1] {
            let tx = writer.begin(&invalidator).await.unwrap();
            tx.execute_unprepared(&format!(
                "INSERT INTO b WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {rows}) \
                 SELECT randomblob(4000) FROM c"
            ))
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(size(), before, "the writer checkpointed by itself");

        let checkpointer = tokio::spawn({
            let (db, writer) = (db.clone(), writer.clone());
            async move { keep_up(&db, || writer.commit_stats().map(|stats| stats.batches), || writer.turn()).await }
        });
        let deadline = tokio::time::Instant::now() + 20 * INTERVAL;
        while size() < PAGES * 4000 {
            assert!(tokio::time::Instant::now() < deadline, "no checkpoint within {:?}", 20 * INTERVAL);
            tokio::time::sleep(INTERVAL / 5).await;
        }
        checkpointer.abort();
        let done = checkpoint(&db).await.unwrap();
        assert_eq!(done.copied_pages, done.wal_pages, "{done:?}");
    }

    /// The WAL's salts (bytes 16..24 of its header), which SQLite changes each time it starts
    /// the WAL over from its beginning.
    fn wal_salts(path: &std::path::Path) -> Vec<u8> {
        let header = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
        header.get(16..24).unwrap_or_default().to_vec()
    }

    /// While writers commit without a break, the checkpointer still gets every page of the WAL
    /// copied now and then, so that SQLite starts it over, long before it grows to the size at
    /// which the writer checkpoints by itself, inside a commit.
    #[tokio::test]
    async fn the_wal_starts_over_under_a_steady_stream_of_writes() {
        let Fixture { dir: _dir, path, db, writer, invalidator } = Fixture::new().await;
        // Eight writers, so that one always waits for the gate and the writer never pauses.
        let writing: Vec<_> = (0..8)
            .map(|_| {
                let (writer, invalidator) = (writer.clone(), invalidator.clone());
                tokio::spawn(async move {
                    loop {
                        let tx = writer.begin(&invalidator).await.unwrap();
                        tx.execute_unprepared("INSERT INTO b VALUES (randomblob(3000))").await.unwrap();
                        tx.commit().await.unwrap();
                    }
                })
            })
            .collect();
        let checkpointer = tokio::spawn({
            let (db, writer) = (db.clone(), writer.clone());
            async move { keep_up(&db, || writer.commit_stats().map(|stats| stats.batches), || writer.turn()).await }
        });
        tokio::time::sleep(INTERVAL / 2).await;
        let first = wal_salts(&path);
        let deadline = tokio::time::Instant::now() + 20 * INTERVAL;
        while wal_salts(&path) == first {
            assert!(tokio::time::Instant::now() < deadline, "the WAL never started over within {:?}", 20 * INTERVAL);
            tokio::time::sleep(INTERVAL / 5).await;
        }
        // The WAL never reached the size at which the writer's backstop runs (which would also
        // start it over): the checkpointer started it over.
        let wal_bytes = std::fs::metadata(path.with_extension("db-wal")).unwrap().len();
        assert!(wal_bytes < u64::from(WRITER_CHECKPOINT_PAGES) * 4096, "the WAL grew to {wal_bytes} bytes");
        writing.iter().for_each(|writer| writer.abort());
        checkpointer.abort();
    }
}
