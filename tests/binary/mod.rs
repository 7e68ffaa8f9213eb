//! The real `keygate` binary, started as an operator starts it: `keygate serve` on a free
//! loopback port, in its own working directory, with only the environment a test gives it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The binary Cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_keygate");

/// A running `keygate serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, also its public URL.
    pub base: String,
    /// The `KEYGATE_ADMIN_TOKEN=...` line a first start prints, if it printed one.
    pub token_line: Option<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// What the server wrote to stderr so far (its log), one entry per line.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|lines| lines.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `keygate` in `dir`, logging warnings, with cheap bcrypt and none of the caller's `KEYGATE_*`
/// settings leaking in.
pub fn keygate(dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir).env("KEYGATE_LOG", "warn").env("KEYGATE_BCRYPT_COST", "4");
    for var in ["KEYGATE_ADMIN_TOKEN", "KEYGATE_DATABASE_URL", "KEYGATE_BIND", "KEYGATE_CONFIG", "KEYGATE_WORKERS"] {
        command.env_remove(var);
    }
    command
}

/// Starts `keygate serve` in `dir` with `env` set and waits until `/healthz` answers.
pub async fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut child = keygate(dir)
        .envs(env.iter().copied())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keygate");
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("KEYGATE_ADMIN_TOKEN=") {
                let _ = sender.send(line.trim().to_owned());
            } else if let Ok(mut lines) = lines.lock() {
                lines.push(line);
            }
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::default();
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await
            && response.status().is_success()
        {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("keygate exited with {status} before answering /healthz: {:?}", log.lock().unwrap());
        }
        assert!(started.elapsed() < Duration::from_secs(30), "keygate did not answer /healthz");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let token_line = receiver.recv_timeout(Duration::from_millis(500)).ok();
    Server { child, base, token_line, log }
}
