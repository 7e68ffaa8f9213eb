//! `keygate-bench`: a closed-loop load generator. `--connections` workers each run one iteration,
//! wait for it to finish, and run the next, for `--warmup` then `--duration` seconds. Prints one
//! line: iterations/s, p50 and p99 latency per iteration, and errors (failed iterations). The
//! first failure is also described on stderr.
//!
//! Several URLs, one per replica of the server, spread the connections round-robin over them:
//! connection `i` sends all its iterations to URL `i mod n`, as a layer-4 balancer does with
//! keep-alive connections. With more than one URL, lines after the result line give each URL's
//! share (`of which URL: N/s (P%)`).
//!
//! What an iteration is depends on `--scenario`:
//! - `fixed`: one request (`--method`, `--header`, `--body`) to the URL, expecting a 2xx answer.
//! - `auth-code`: an authorization-code round trip against the tenant whose issuer is the URL: the
//!   authorization request with the `--session` cookie of a user who has already consented,
//!   expecting a `303` to the redirect URI with a code, then that code exchanged at the token
//!   endpoint with the client's Basic credentials and the PKCE verifier, expecting an access
//!   token and an ID token. Printed as round trips per second (`rt/s`).
//! - `refresh`: each connection first obtains its own refresh token with one authorization-code
//!   round trip, then each iteration exchanges the current refresh token and keeps the new one
//!   the answer rotates in. A failed refresh breaks the chain and ends that connection.
//!
//! `--cooldown` keeps the load going, unmeasured, after the measured window.
//!
//! Redirects are never followed. The process exits with status 1, after its result line and a
//! message naming the scenario (`--label`), when any iteration failed (warm-up and cool-down
//! included) or none succeeded, so a broken scenario cannot pass for a slow one.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use awc::http::{StatusCode, header};
use clap::{Parser, ValueEnum};
use serde_json::Value;

/// `--scenario` values that need the authorization-code flags.
const FLOW_SCENARIOS: [(&str, &str); 2] = [("scenario", "auth-code"), ("scenario", "refresh")];

/// The `state` sent with every authorization request.
const STATE: &str = "bench";

#[derive(Debug, Parser)]
struct Args {
    /// Target URLs, one per replica (connections are spread round-robin over them). For
    /// `auth-code` and `refresh`, each is the tenant's base URL at that replica
    /// (`http://host:port/tenant`), and the first is also the issuer every replica must name in
    /// `iss` (replicas behind one balancer share a public URL).
    #[arg(required = true, num_args = 1..)]
    urls: Vec<String>,
    /// What one iteration does.
    #[arg(long, value_enum, default_value_t = Scenario::Fixed)]
    scenario: Scenario,
    /// HTTP method (`fixed`).
    #[arg(long, default_value = "GET")]
    method: String,
    /// Request header, `Name: value` (`fixed`; repeatable).
    #[arg(long = "header", short = 'H', allow_hyphen_values = true)]
    headers: Vec<String>,
    /// Request body (`fixed`); each `{n}` in it becomes a number unique to the request.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    body: String,
    /// Value of the `kg_session` cookie of a signed-in user who has consented to `openid`. Values
    /// may start with `-` (base64url), here and in the other flow flags; `--session=VALUE` is the
    /// unambiguous spelling.
    #[arg(long, required_if_eq_any = FLOW_SCENARIOS, allow_hyphen_values = true)]
    session: Option<String>,
    /// The confidential client's id.
    #[arg(long, required_if_eq_any = FLOW_SCENARIOS, allow_hyphen_values = true)]
    client_id: Option<String>,
    /// The confidential client's secret.
    #[arg(long, required_if_eq_any = FLOW_SCENARIOS, allow_hyphen_values = true)]
    client_secret: Option<String>,
    /// A redirect URI registered for the client.
    #[arg(long, required_if_eq_any = FLOW_SCENARIOS, allow_hyphen_values = true)]
    redirect_uri: Option<String>,
    /// PKCE code verifier, used for every authorization request.
    #[arg(long, required_if_eq_any = FLOW_SCENARIOS, allow_hyphen_values = true)]
    code_verifier: Option<String>,
    /// PKCE S256 code challenge: base64url-no-pad(SHA-256(code verifier)).
    #[arg(long, required_if_eq_any = FLOW_SCENARIOS, allow_hyphen_values = true)]
    code_challenge: Option<String>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Warm-up seconds (not measured).
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Measured seconds.
    #[arg(long, default_value_t = 15)]
    duration: u64,
    /// Seconds the load goes on after the measured window, not measured: an observer that samples
    /// the servers' CPU over the window then sees them loaded to its end.
    #[arg(long, default_value_t = 0)]
    cooldown: u64,
    /// Label printed first.
    #[arg(long, default_value = "")]
    label: String,
}

/// What one iteration does (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// One fixed request.
    Fixed,
    /// Authorization request, then code exchange.
    AuthCode,
    /// Refresh-token exchange with rotation.
    Refresh,
}

/// The authorization-code flow's fixed inputs, derived once from the arguments.
struct Flow {
    issuer: String,
    authorize_url: String,
    token_url: String,
    cookie: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    code_verifier: String,
}

impl Flow {
    /// The flow for the `auth-code` and `refresh` scenarios against the replica at `base` (clap has
    /// checked the flags); the expected issuer is the first URL.
    fn new(args: &Args, base: &str) -> Self {
        let required = |value: &Option<String>| value.clone().expect("required by clap for this scenario");
        let issuer = args.urls[0].trim_end_matches('/').to_owned();
        let base = base.trim_end_matches('/');
        let client_id = required(&args.client_id);
        let redirect_uri = required(&args.redirect_uri);
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", "openid")
            .append_pair("state", STATE)
            .append_pair("code_challenge", &required(&args.code_challenge))
            .append_pair("code_challenge_method", "S256")
            .finish();
        Self {
            authorize_url: format!("{base}/oauth2/authorize?{query}"),
            token_url: format!("{base}/oauth2/token"),
            cookie: format!("kg_session={}", required(&args.session)),
            client_secret: required(&args.client_secret),
            code_verifier: required(&args.code_verifier),
            issuer,
            client_id,
            redirect_uri,
        }
    }

    /// The code from an authorization response's `Location`, after checking it goes to the
    /// redirect URI with our `state` and the issuer's `iss`.
    fn code_from(&self, location: &str) -> Option<String> {
        let query = location.strip_prefix(&self.redirect_uri)?.strip_prefix('?')?;
        let (mut code, mut state, mut iss) = (None, None, None);
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*name {
                "code" => code = Some(value.into_owned()),
                "state" => state = Some(value),
                "iss" => iss = Some(value),
                _ => {}
            }
        }
        let expected = state.as_deref() == Some(STATE) && iss.as_deref() == Some(self.issuer.as_str());
        code.filter(|code| expected && !code.is_empty())
    }
}

/// Latencies of the measured iterations that succeeded, and the count of those that failed.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

impl Tally {
    /// Records an iteration that started at `sent`, if it started inside the measured window.
    fn record(&mut self, ok: bool, sent: Instant, window: &Window) {
        if sent < window.measure_from || sent >= window.measure_to {
            return;
        }
        if ok {
            self.latencies_us.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            self.errors += 1;
        }
    }
}

/// When iterations count, and when they stop.
struct Window {
    /// The end of the warm-up.
    measure_from: Instant,
    /// The end of the measured window (`--duration` after `measure_from`).
    measure_to: Instant,
    /// The end of the run (`--cooldown` after `measure_to`).
    stop: Instant,
}

/// An answer, read in full.
struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: actix_web::web::Bytes,
}

/// A failed iteration's description: the request and what came back.
type Failure = String;

fn main() -> ExitCode {
    let args = Args::parse();
    let per_url = actix_web::rt::System::new().block_on(run(&args));
    let mut latencies: Vec<u32> = per_url.iter().flat_map(|tally| tally.latencies_us.iter().copied()).collect();
    latencies.sort_unstable();
    let percentile =
        |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0);
    let unit = if args.scenario == Scenario::AuthCode { "rt/s" } else { "req/s" };
    println!(
        "{:<30} {:>10} {unit:<5}   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}",
        args.label,
        rate(latencies.len(), args.duration),
        f64::from(percentile(0.50)) / 1000.0,
        f64::from(percentile(0.99)) / 1000.0,
        per_url.iter().map(|tally| tally.errors).sum::<u64>()
    );
    if per_url.len() > 1 {
        for (url, tally) in args.urls.iter().zip(&per_url) {
            let share = 100.0 * tally.latencies_us.len() as f64 / latencies.len().max(1) as f64;
            println!("  of which {url}: {}/s ({share:.0}%)", rate(tally.latencies_us.len(), args.duration));
        }
    }
    let failures = FAILURES.load(Ordering::Relaxed);
    if failures > 0 || latencies.is_empty() {
        eprintln!(
            "keygate-bench: scenario `{}` FAILED: {failures} failed iterations (warm-up and cool-down included), {} succeeded; \
             the first error is above",
            args.label,
            latencies.len()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `iterations` over `seconds`, per second, with two decimals below 100/s (bcrypt-bound logins
/// need them).
fn rate(iterations: usize, seconds: u64) -> String {
    let rate = iterations as f64 / seconds as f64;
    if rate < 100.0 { format!("{rate:.2}") } else { format!("{rate:.0}") }
}

/// Runs `--connections` workers over one client, connection `i` against URL `i mod n`; returns
/// one merged tally per URL, in the order of the URLs.
async fn run(args: &Args) -> Vec<Tally> {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .disable_redirects()
        .connector(awc::Connector::new().limit(args.connections))
        .finish();
    let workloads: Vec<Workload> = args.urls.iter().map(|url| Workload::new(args, url)).collect();
    let measure_from = Instant::now() + Duration::from_secs(args.warmup);
    let measure_to = measure_from + Duration::from_secs(args.duration);
    let window = Window { measure_from, measure_to, stop: measure_to + Duration::from_secs(args.cooldown) };
    let workers = (0..args.connections).map(|i| worker(&client, &workloads[i % workloads.len()], &window));
    let tallies = futures_util::future::join_all(workers).await;
    let mut per_url: Vec<Tally> = workloads.iter().map(|_| Tally::default()).collect();
    for (i, one) in tallies.into_iter().enumerate() {
        let all = &mut per_url[i % workloads.len()];
        all.latencies_us.extend(one.latencies_us);
        all.errors += one.errors;
    }
    per_url
}

/// The scenario with its fixed inputs, against one URL.
enum Workload {
    Fixed(FixedRequest),
    AuthCode(Flow),
    Refresh(Flow),
}

impl Workload {
    /// The `--scenario` against `url` (one of the URLs).
    fn new(args: &Args, url: &str) -> Self {
        match args.scenario {
            Scenario::Fixed => Self::Fixed(FixedRequest::new(args, url)),
            Scenario::AuthCode => Self::AuthCode(Flow::new(args, url)),
            Scenario::Refresh => Self::Refresh(Flow::new(args, url)),
        }
    }
}

/// One connection: iterations back to back until the window's `stop`.
async fn worker(client: &awc::Client, workload: &Workload, window: &Window) -> Tally {
    let mut tally = Tally::default();
    let mut refresh_token = String::new();
    if let Workload::Refresh(flow) = workload {
        match report(start_chain(client, flow).await) {
            Some(first) => refresh_token = first,
            None => {
                tally.errors += 1;
                return tally;
            }
        }
    }
    while Instant::now() < window.stop {
        let sent = Instant::now();
        let outcome = match workload {
            Workload::Fixed(request) => request.send(client).await,
            Workload::AuthCode(flow) => authorization_code_round_trip(client, flow).await.map(drop),
            Workload::Refresh(flow) => refresh(client, flow, &refresh_token).await.map(|next| refresh_token = next),
        };
        let ok = report(outcome).is_some();
        tally.record(ok, sent, window);
        if !ok && matches!(workload, Workload::Refresh(_)) {
            break; // The chain is broken: its refresh token may be spent.
        }
    }
    tally
}

/// The `fixed` scenario's request.
struct FixedRequest {
    /// `METHOD URL`, for describing a failure.
    what: String,
    method: awc::http::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl FixedRequest {
    fn new(args: &Args, url: &str) -> Self {
        let headers = args.headers.iter().filter_map(|header| header.split_once(':'));
        Self {
            what: format!("{} {url}", args.method),
            method: awc::http::Method::from_bytes(args.method.as_bytes()).expect("a valid HTTP method"),
            url: url.to_owned(),
            headers: headers.map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned())).collect(),
            body: args.body.clone(),
        }
    }

    /// Sends the request; a 2xx answer succeeds. Each `{n}` in the body becomes a number unique
    /// to this request (so each of a series of creations names a new row).
    async fn send(&self, client: &awc::Client) -> Result<(), Failure> {
        static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut request = client.request(self.method.clone(), &self.url);
        for (name, value) in &self.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        let body = if self.body.contains("{n}") {
            let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.body.replace("{n}", &format!("{}-{n}", std::process::id()))
        } else {
            self.body.clone()
        };
        let reply = read(request.send_body(body), &self.what).await?;
        if reply.status.is_success() { Ok(()) } else { Err(unexpected(&self.what, &reply)) }
    }
}

/// One authorization-code round trip; returns the token response.
async fn authorization_code_round_trip(client: &awc::Client, flow: &Flow) -> Result<Value, Failure> {
    let what = format!("GET {}", flow.authorize_url);
    let request = client.get(&flow.authorize_url).insert_header((header::COOKIE, flow.cookie.as_str()));
    let reply = read(request.send(), &what).await?;
    let code = (reply.status == StatusCode::SEE_OTHER)
        .then(|| reply.location.as_deref().and_then(|location| flow.code_from(location)))
        .flatten()
        .ok_or_else(|| unexpected(&what, &reply))?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", &flow.redirect_uri),
        ("code_verifier", &flow.code_verifier),
    ];
    let tokens = token_request(client, flow, &form).await?;
    match (string(&tokens, "access_token"), string(&tokens, "id_token")) {
        (Some(_), Some(_)) => Ok(tokens),
        _ => Err(format!("POST {} (authorization_code): no access_token or id_token in {tokens}", flow.token_url)),
    }
}

/// Starts a connection's refresh-token chain with one authorization-code round trip.
async fn start_chain(client: &awc::Client, flow: &Flow) -> Result<String, Failure> {
    let tokens = authorization_code_round_trip(client, flow).await?;
    string(&tokens, "refresh_token")
        .ok_or_else(|| format!("POST {} (authorization_code): no refresh_token in {tokens}", flow.token_url))
}

/// Exchanges `refresh_token`; returns the one the answer rotates in.
async fn refresh(client: &awc::Client, flow: &Flow, refresh_token: &str) -> Result<String, Failure> {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    let tokens = token_request(client, flow, &form).await?;
    match (string(&tokens, "access_token"), string(&tokens, "refresh_token")) {
        (Some(_), Some(rotated)) => Ok(rotated),
        _ => Err(format!("POST {} (refresh_token): no access_token or refresh_token in {tokens}", flow.token_url)),
    }
}

/// A token request with the client's Basic credentials, expecting `200` and a JSON object.
async fn token_request(client: &awc::Client, flow: &Flow, form: &[(&str, &str)]) -> Result<Value, Failure> {
    let grant = form.first().map_or("", |(_, grant)| grant);
    let what = format!("POST {} ({grant})", flow.token_url);
    let request = client.post(&flow.token_url).basic_auth(&flow.client_id, &flow.client_secret);
    let reply = read(request.send_form(&form), &what).await?;
    if reply.status != StatusCode::OK {
        return Err(unexpected(&what, &reply));
    }
    serde_json::from_slice(&reply.body).map_err(|_| unexpected(&what, &reply))
}

/// Awaits an answer and its body (up to 1 MiB).
async fn read(sending: awc::SendClientRequest, what: &str) -> Result<Reply, Failure> {
    let mut response = sending.await.map_err(|error| format!("{what}: {error}"))?;
    let body = response.body().limit(1 << 20).await.map_err(|error| format!("{what}: reading the body: {error}"))?;
    let location = response.headers().get(header::LOCATION).and_then(|value| value.to_str().ok());
    Ok(Reply { status: response.status(), location: location.map(str::to_owned), body })
}

/// Describes an answer that was not the expected one.
fn unexpected(what: &str, reply: &Reply) -> Failure {
    let location = reply.location.as_deref().map(|l| format!(" (Location: {l})")).unwrap_or_default();
    format!("{what}: {}{location}: {}", reply.status, String::from_utf8_lossy(&reply.body))
}

/// A string member of a JSON object.
fn string(json: &Value, name: &str) -> Option<String> {
    json.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// Failed iterations, warm-up and cool-down included (the exit status).
static FAILURES: AtomicU64 = AtomicU64::new(0);

/// The success value, or `None` after counting the failure and describing it on stderr if it is
/// the first.
fn report<T>(outcome: Result<T, Failure>) -> Option<T> {
    match outcome {
        Ok(value) => Some(value),
        Err(failure) => {
            if FAILURES.fetch_add(1, Ordering::Relaxed) == 0 {
                eprintln!("first error: {failure}");
            }
            None
        }
    }
}
