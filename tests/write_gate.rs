//! Password hashing does not hold the write gate (SQLite's one-writer-at-a-time queue): a user
//! creation hashes its password in a prepare hook, before its write transaction opens, so other
//! writes go ahead while bcrypt runs.
//!
//! Deterministic, without timing: a tracing layer (the only test in this binary, so it can be the
//! global subscriber) holds the blocking thread that runs bcrypt (`bcrypt_hash` span) until the
//! test lets it go, and the test lets it go only once another write has committed. Had the
//! creation opened its transaction before hashing, that write would wait behind it forever; the
//! timeout only turns that deadlock into a failure.

mod support;

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::json;
use support::{Client, each_backend};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Holds each `bcrypt_hash` span, while armed, until released.
struct HashGate;

/// While armed: where to say a hash started, and where to wait for its release.
static ARMED: Mutex<Option<(tokio::sync::mpsc::UnboundedSender<()>, Receiver<()>)>> = Mutex::new(None);

impl<S: tracing::Subscriber> Layer<S> for HashGate {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() != "bcrypt_hash" {
            return;
        }
        // Disarm before waiting: only the first hash after arming is held.
        let Some((started, release)) = ARMED.lock().unwrap().take() else { return };
        let _ = started.send(());
        let _ = release.recv();
    }
}

/// Arms the gate: (a hash started, let it finish).
fn arm() -> (tokio::sync::mpsc::UnboundedReceiver<()>, Sender<()>) {
    let (started_tx, started_rx) = tokio::sync::mpsc::unbounded_channel();
    let (release_tx, release_rx) = channel();
    *ARMED.lock().unwrap() = Some((started_tx, release_rx));
    (started_rx, release_tx)
}

#[actix_web::test]
async fn other_writes_commit_while_a_user_password_is_hashed() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(HashGate)).expect("one subscriber");
    each_backend(async |client: &Client<'_>| {
        client.tenant("acme").await;
        let (mut started, release) = arm();
        let body = json!({ "username": "ann", "email": "ann@example.com", "password": "correct horse battery" });
        let create = client.post("/admin/tenants/acme/users", &body);
        let other_write = async {
            started.recv().await.expect("the creation hashes its password");
            // bcrypt is held now; this write needs the write gate.
            let written = tokio::time::timeout(Duration::from_secs(30), client.tenant("other")).await;
            release.send(()).expect("the hash is waiting");
            assert!(written.is_ok(), "[{}] a write waited behind a password hash", client.backend);
        };
        let (created, ()) = tokio::join!(create, other_write);
        assert_eq!(created.status, StatusCode::CREATED, "[{}] {}", client.backend, created.json);
        assert!(created.json.get("password_hash").is_none(), "hidden");
        let stored = client.scalar("SELECT password_hash FROM users WHERE username = 'ann'").await.expect("stored");
        assert!(bcrypt::verify("correct horse battery", &stored).unwrap(), "the prepared hash is the row's");
    })
    .await;
}
