//! `keygate-bench`: a closed-loop load generator. `--connections` workers each run one iteration,
//! wait for it to finish, and run the next, for `--warmup` then `--duration` seconds. Prints one
//! line: iterations/s, p50 and p99 latency per iteration, and errors (failed iterations). The
//! first failure is also described on stderr.
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
//! Redirects are never followed. The process exits with status 1, after its result line and a
//! message naming the scenario (`--label`), when any iteration failed (warm-up included) or none
//! succeeded, so a broken scenario cannot pass for a slow one.

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
    /// Target URL; for `auth-code` and `refresh`, the tenant's issuer (`http://host:port/tenant`).
    url: String,
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
    /// The flow for the `auth-code` and `refresh` scenarios (clap has checked the flags).
    fn new(args: &Args) -> Self {
        let required = |value: &Option<String>| value.clone().expect("required by clap for this scenario");
        let issuer = args.url.trim_end_matches('/').to_owned();
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
            authorize_url: format!("{issuer}/oauth2/authorize?{query}"),
            token_url: format!("{issuer}/oauth2/token"),
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
    fn record(&mut self, ok: bool, sent: Instant, measure_from: Instant) {
        if sent < measure_from {
            return;
        }
        if ok {
            self.latencies_us.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        } else {
            self.errors += 1;
        }
    }
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
    let tally = actix_web::rt::System::new().block_on(run(&args));
    let mut latencies = tally.latencies_us;
    latencies.sort_unstable();
    let percentile =
        |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0);
    let unit = if args.scenario == Scenario::AuthCode { "rt/s" } else { "req/s" };
    let rate = latencies.len() as f64 / args.duration as f64;
    // Slow scenarios (bcrypt-bound logins) need the decimals.
    let rate = if rate < 100.0 { format!("{rate:.2}") } else { format!("{rate:.0}") };
    println!(
        "{:<30} {:>10} {unit:<5}   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}",
        args.label,
        rate,
        f64::from(percentile(0.50)) / 1000.0,
        f64::from(percentile(0.99)) / 1000.0,
        tally.errors
    );
    let failures = FAILURES.load(Ordering::Relaxed);
    if failures > 0 || latencies.is_empty() {
        eprintln!(
            "keygate-bench: scenario `{}` FAILED: {failures} failed iterations (warm-up included), {} succeeded; \
             the first error is above",
            args.label,
            latencies.len()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs `--connections` workers over one client and merges their tallies.
async fn run(args: &Args) -> Tally {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .disable_redirects()
        .connector(awc::Connector::new().limit(args.connections))
        .finish();
    let workload = match args.scenario {
        Scenario::Fixed => Workload::Fixed(FixedRequest::new(args)),
        Scenario::AuthCode => Workload::AuthCode(Flow::new(args)),
        Scenario::Refresh => Workload::Refresh(Flow::new(args)),
    };
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop = measure_from + Duration::from_secs(args.duration);
    let workers = (0..args.connections).map(|_| worker(&client, &workload, measure_from, stop));
    let tallies = futures_util::future::join_all(workers).await;
    tallies.into_iter().fold(Tally::default(), |mut all, one| {
        all.latencies_us.extend(one.latencies_us);
        all.errors += one.errors;
        all
    })
}

/// The scenario with its fixed inputs.
enum Workload {
    Fixed(FixedRequest),
    AuthCode(Flow),
    Refresh(Flow),
}

/// One connection: iterations back to back until `stop`.
async fn worker(client: &awc::Client, workload: &Workload, measure_from: Instant, stop: Instant) -> Tally {
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
    while Instant::now() < stop {
        let sent = Instant::now();
        let outcome = match workload {
            Workload::Fixed(request) => request.send(client).await,
            Workload::AuthCode(flow) => authorization_code_round_trip(client, flow).await.map(drop),
            Workload::Refresh(flow) => refresh(client, flow, &refresh_token).await.map(|next| refresh_token = next),
        };
        let ok = report(outcome).is_some();
        tally.record(ok, sent, measure_from);
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
    fn new(args: &Args) -> Self {
        let headers = args.headers.iter().filter_map(|header| header.split_once(':'));
        Self {
            what: format!("{} {}", args.method, args.url),
            method: awc::http::Method::from_bytes(args.method.as_bytes()).expect("a valid HTTP method"),
            url: args.url.clone(),
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

/// Failed iterations, warm-up included (the exit status).
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
