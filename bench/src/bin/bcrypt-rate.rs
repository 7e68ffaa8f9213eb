//! `bcrypt-rate COST SECONDS`: bcrypt verifications per second on one thread, the ceiling the
//! login benchmark compares against (run it pinned to the server's core).

use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let cost: u32 = args.next().and_then(|c| c.parse().ok()).unwrap_or(12);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let hash = bcrypt::hash("bench-password-1", cost).expect("hash");
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        assert!(bcrypt::verify("bench-password-1", &hash).expect("verify"));
        count += 1;
    }
    println!("{:.2}", count as f64 / started.elapsed().as_secs_f64());
}
