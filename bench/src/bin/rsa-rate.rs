//! `rsa-rate SECONDS`: RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second on one thread with
//! aws-lc-rs over a 300-byte message (the size of an access token's JWS signing input): the raw
//! ceiling that `bench/run` compares client_credentials RS256 against (run it pinned to the
//! server's core).

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

fn main() {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA-2048 key generation");
    let rng = SystemRandom::new();
    let message = [7u8; 300];
    let mut signature = vec![0; key.public_modulus_len()];
    for _ in 0..20 {
        key.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature).expect("sign");
    }
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        key.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature).expect("sign");
        count += 1;
    }
    println!("{:.0}", count as f64 / started.elapsed().as_secs_f64());
}
