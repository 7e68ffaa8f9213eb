//! `keygate-bench`: a closed-loop load generator. `--connections` workers each send one request,
//! wait for the answer, and send the next, for `--warmup` then `--duration` seconds. Prints one
//! line: requests/s, p50 and p99 latency, and errors (non-2xx or transport failures).

use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Debug, Parser)]
struct Args {
    /// Target URL.
    url: String,
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// Request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Request body.
    #[arg(long, default_value = "")]
    body: String,
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

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

fn main() {
    let args = Args::parse();
    let tally = actix_web::rt::System::new().block_on(run(&args));
    let mut latencies = tally.latencies_us;
    latencies.sort_unstable();
    let percentile =
        |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0);
    println!(
        "{:<28} {:>10.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}",
        args.label,
        latencies.len() as f64 / args.duration as f64,
        f64::from(percentile(0.50)) / 1000.0,
        f64::from(percentile(0.99)) / 1000.0,
        tally.errors
    );
}

async fn run(args: &Args) -> Tally {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .connector(awc::Connector::new().limit(args.connections))
        .finish();
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop = measure_from + Duration::from_secs(args.duration);
    let workers = (0..args.connections).map(|_| worker(&client, args, measure_from, stop));
    let tallies = futures_util::future::join_all(workers).await;
    tallies.into_iter().fold(Tally::default(), |mut all, one| {
        all.latencies_us.extend(one.latencies_us);
        all.errors += one.errors;
        all
    })
}

async fn worker(client: &awc::Client, args: &Args, measure_from: Instant, stop: Instant) -> Tally {
    let mut tally = Tally::default();
    let method = awc::http::Method::from_bytes(args.method.as_bytes()).expect("a valid HTTP method");
    loop {
        let sent = Instant::now();
        if sent >= stop {
            return tally;
        }
        let mut request = client.request(method.clone(), &args.url);
        for header in &args.headers {
            if let Some((name, value)) = header.split_once(':') {
                request = request.insert_header((name.trim(), value.trim()));
            }
        }
        let ok = match request.send_body(args.body.clone()).await {
            Ok(mut response) => {
                let success = response.status().is_success();
                success && response.body().limit(1 << 20).await.is_ok()
            }
            Err(_) => false,
        };
        if sent >= measure_from {
            if ok {
                tally.latencies_us.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
            } else {
                tally.errors += 1;
            }
        }
    }
}
