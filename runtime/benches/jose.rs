//! Raw signing and verification rates per algorithm, single-threaded: the ceiling that token
//! issuance is measured against. Run with `cargo bench -p keygate-runtime --bench jose`.

use std::time::{Duration, Instant};

use keygate_runtime::jose::{Algorithm, SigningKey, sign_jwt, verify_jwt};
use serde_json::json;

fn rate(mut work: impl FnMut(), budget: Duration) -> f64 {
    // Warm up, then count whole iterations for `budget`.
    for _ in 0..20 {
        work();
    }
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < budget {
        work();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let budget = Duration::from_millis(std::env::var("BENCH_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000));
    let claims = json!({
        "iss": "https://id.example.com/acme", "sub": "client-123", "aud": "https://api.example.com",
        "exp": 1_900_000_000, "iat": 1_800_000_000, "jti": "2f1c7a3e-4b0d-4c58-9a57-0d7b3b1f9f11",
        "client_id": "client-123", "scope": "read write"
    });
    println!("{:<6} {:>14} {:>14} {:>14}", "alg", "sign/s", "jwt sign/s", "jwt verify/s");
    for algorithm in Algorithm::ALL {
        let key = SigningKey::generate(algorithm).expect("key");
        let jwks = [key.public_jwk()];
        let message = [7u8; 300];
        let sign = rate(
            || {
                key.sign(&message).expect("sign");
            },
            budget,
        );
        let token = sign_jwt(&key, "at+jwt", &claims).expect("jwt");
        let jwt_sign = rate(
            || {
                sign_jwt(&key, "at+jwt", &claims).expect("jwt");
            },
            budget,
        );
        let jwt_verify = rate(
            || {
                verify_jwt(&token, &jwks).expect("verify");
            },
            budget,
        );
        println!("{:<6} {:>14.0} {:>14.0} {:>14.0}", algorithm.as_str(), sign, jwt_sign, jwt_verify);
    }
}
