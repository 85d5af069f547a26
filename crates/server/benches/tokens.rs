//! Micro benchmarks of the per-request work: signing and checking tokens with each supported
//! algorithm, decoding with every claim check, and bcrypt at the configured cost.
//!
//! `cargo bench -p server --bench tokens`; `BCRYPT_COST` sets the bcrypt cost (default 12).

use std::hint::black_box;

use claims::TokenType;
use criterion::{Criterion, criterion_group, criterion_main};
use server::auth::TokenCodec;
use server::auth::keys;
use server::auth::password::PasswordHasher;
use server::configuration::Settings;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A codec for `algorithm`, with the test fixtures' keys for the asymmetric ones.
fn codec(algorithm: &str) -> TokenCodec {
    let pem = |name: &str| format!("{FIXTURES}/{name}.pem");
    let (private, public) = match algorithm {
        "RS256" => (pem("rsa_private"), pem("rsa_public")),
        "ES256" => (pem("ec_private"), pem("ec_public")),
        "EdDSA" => (pem("ed25519_private"), pem("ed25519_public")),
        _ => (String::new(), String::new()),
    };
    let settings = Settings::from_lookup(|name| match name {
        "JWT_ALGORITHM" => Some(algorithm.to_owned()),
        "SECRET_KEY" => Some("bench-c4ce99ea59410cefe99a65d10412b1f213b26890987bf2ae".to_owned()),
        "JWT_SIGNING_KEY" if !private.is_empty() => Some(private.clone()),
        "JWT_VERIFYING_KEY" if !public.is_empty() => Some(public.clone()),
        _ => None,
    })
    .expect("valid settings");
    let keys = keys::load(&settings).expect("the fixture keys load");
    TokenCodec::with_keys(settings.jwt, keys.set)
}

fn tokens(c: &mut Criterion) {
    let now = chrono::Utc::now().timestamp();
    for algorithm in ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"] {
        let codec = codec(algorithm);
        let claims = codec.user_claims(1, "$2b$12$unused");
        c.bench_function(&format!("sign an access token ({algorithm})"), |b| {
            b.iter(|| {
                codec
                    .mint(TokenType::Access, black_box(&claims), now, i64::MAX)
                    .expect("signs")
            })
        });
        let token = codec
            .mint(TokenType::Access, &claims, now, i64::MAX)
            .expect("signs")
            .token;
        c.bench_function(
            &format!("decode and validate an access token, every claim ({algorithm})"),
            |b| {
                b.iter(|| {
                    let payload = codec.decode(black_box(&token), now).expect("valid");
                    payload
                        .verify(Some(TokenType::Access))
                        .expect("an access token");
                })
            },
        );
    }
}

fn passwords(c: &mut Criterion) {
    let cost = std::env::var("BCRYPT_COST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let hasher = PasswordHasher::new(cost).expect("a valid cost");
    let hash = hasher.hash("correct-horse-battery").expect("hashes");
    let mut group = c.benchmark_group("bcrypt");
    group.sample_size(10);
    group.bench_function(format!("hash at cost {cost}"), |b| {
        b.iter(|| {
            hasher
                .hash(black_box("correct-horse-battery"))
                .expect("hashes")
        })
    });
    group.bench_function(format!("verify at cost {cost}"), |b| {
        b.iter(|| hasher.verify(black_box("correct-horse-battery"), &hash))
    });
    group.finish();
}

criterion_group!(benches, tokens, passwords);
criterion_main!(benches);
