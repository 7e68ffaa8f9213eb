//! A small Chrome DevTools Protocol client for the browser tests: starts headless Chromium,
//! opens one page (a flattened target session over the browser's WebSocket), sends commands and
//! records events. Every wait has a deadline, and a missing browser fails the test loudly.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium with one page.
pub struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
    outgoing: mpsc::UnboundedSender<String>,
    pending: Pending,
    events: Arc<Mutex<Vec<Value>>>,
    next_id: Mutex<u64>,
    session: String,
}

impl Chromium {
    /// Starts the browser and opens a blank page. Panics when Chromium is missing (install
    /// Debian's `chromium`; `.ci/run` does), unless `KEYGATE_SKIP_BROWSER_TESTS=1` says to
    /// skip: then `None`, with a warning.
    pub async fn start() -> Option<Self> {
        if !std::path::Path::new(CHROMIUM).exists() {
            if std::env::var("KEYGATE_SKIP_BROWSER_TESTS").as_deref() == Ok("1") && std::env::var("CI").is_err() {
                eprintln!("WARNING: {CHROMIUM} is missing; browser test skipped (KEYGATE_SKIP_BROWSER_TESTS=1)");
                return None;
            }
            panic!("{CHROMIUM} is missing: `apt-get install -y chromium` (the browser tests need it)");
        }
        let profile = tempfile::tempdir().expect("profile directory");
        let mut child = Command::new(CHROMIUM)
            .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"])
            .args(["--disable-dev-shm-usage", "--remote-debugging-port=0", "about:blank"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let url = devtools_url(&mut child);
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("DevTools WebSocket");
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<String>();
        actix_web::rt::spawn(async move {
            while let Some(text) = queue.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (replies, log) = (pending.clone(), events.clone());
        actix_web::rt::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Ok(text) = message.into_text() else { continue };
                let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
                match value["id"].as_u64() {
                    Some(id) => {
                        if let Some(reply) = replies.lock().unwrap().remove(&id) {
                            let _ = reply.send(value);
                        }
                    }
                    None => log.lock().unwrap().push(value),
                }
            }
        });
        let mut browser = Self {
            child,
            _profile: profile,
            outgoing,
            pending,
            events,
            next_id: Mutex::new(0),
            session: String::new(),
        };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" })).await;
        let attach = json!({ "targetId": target["targetId"], "flatten": true });
        let attached = browser.call("Target.attachToTarget", attach).await;
        browser.session = attached["sessionId"].as_str().expect("a page session").to_owned();
        Some(browser)
    }

    /// Sends `method` (to the page once attached); its `result`. Panics on a protocol error or
    /// after 20 s.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let answer = self.request(method, params).await;
        assert!(answer.get("error").is_none(), "{method}: {}", answer["error"]);
        answer["result"].clone()
    }

    /// Sends `method`; the whole answer (`result` or `error`).
    async fn request(&self, method: &str, params: Value) -> Value {
        let id = {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            *next
        };
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        let (reply, answer) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, reply);
        self.outgoing.send(message.to_string()).expect("DevTools connection");
        let answer = tokio::time::timeout(Duration::from_secs(20), answer).await;
        answer.unwrap_or_else(|_| panic!("{method}: no answer in 20 s")).expect("an answer")
    }

    /// Evaluates `expression` in the page (awaiting a promise); its value.
    pub async fn eval(&self, expression: &str) -> Value {
        let params = json!({ "expression": expression, "awaitPromise": true, "returnByValue": true });
        let result = self.call("Runtime.evaluate", params).await;
        assert!(result.get("exceptionDetails").is_none(), "{expression}: {}", result["exceptionDetails"]);
        result["result"]["value"].clone()
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) {
        self.call("Page.navigate", json!({ "url": url })).await;
    }

    /// Polls `expression` until it is truthy (a string other than empty, `true`, a number
    /// other than 0); its value. Panics after `seconds`, showing `context`'s value then.
    pub async fn wait_for(&self, expression: &str, seconds: u64, context: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let guarded = format!("(() => {{ try {{ return {expression}; }} catch (e) {{ return null; }} }})()");
        let params = json!({ "expression": guarded, "returnByValue": true });
        loop {
            // A page being replaced has no context to evaluate in: not yet.
            let answer = self.request("Runtime.evaluate", params.clone()).await;
            let value = answer["result"]["result"]["value"].clone();
            let truthy = match &value {
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::Null => false,
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let seen = self.request("Runtime.evaluate", json!({ "expression": context, "returnByValue": true }));
                panic!("waited {seconds} s for `{expression}`; {context}: {}", seen.await["result"]["result"]["value"]);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The params of the event `method` whose params `matches` and whose `key` is the `nth`
    /// (from 0) distinct key among those recorded (a repeat of an earlier key does not count),
    /// waiting up to `seconds`.
    pub async fn nth_distinct(
        &self,
        method: &str,
        nth: usize,
        seconds: u64,
        matches: impl Fn(&Value) -> bool,
        key: impl Fn(&Value) -> String,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let found = {
                let events = self.events.lock().unwrap();
                let mut seen = std::collections::HashSet::new();
                events
                    .iter()
                    .filter(|e| e["method"] == method && matches(&e["params"]))
                    .filter(|e| seen.insert(key(&e["params"])))
                    .nth(nth)
                    .cloned()
            };
            if let Some(event) = found {
                return event["params"].clone();
            }
            assert!(Instant::now() < deadline, "no {method} event #{nth} in {seconds} s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads Chromium's stderr until it prints its DevTools WebSocket URL.
fn devtools_url(child: &mut Child) -> String {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().expect("stderr");
    let (found, url) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let (false, Some(at)) = (sent, line.find("ws://")) {
                let _ = found.send(line[at..].trim().to_owned());
                sent = true;
            }
        }
    });
    url.recv_timeout(Duration::from_secs(20)).expect("chromium printed no DevTools URL within 20 s")
}
