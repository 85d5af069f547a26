//! Does bcrypt starve the API? Floods `POST /api/token/` with logins at the production bcrypt
//! cost while one client keeps calling `GET /hello/`, and prints the latency of `/hello/` with
//! and without the flood.
//!
//! `cargo bench -p server --bench login_flood`; tune with `FLOOD_SECONDS` (default 10),
//! `FLOOD_CLIENTS` (default 8 concurrent logins) and `BCRYPT_COST` (default 12).

use std::time::{Duration, Instant};

use serde_json::json;
use server::configuration::Settings;
use server::startup::Application;

fn main() {
    let seconds = env_number("FLOOD_SECONDS", 10);
    let clients = env_number("FLOOD_CLIENTS", 8);
    let cost = env_number("BCRYPT_COST", 12);
    actix_web::rt::System::new().block_on(run(seconds, clients, cost));
}

async fn run(seconds: u64, clients: u64, cost: u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("db.sqlite3").display().to_string();
    let cost = cost.to_string();
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(database.clone()),
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        "SECRET_KEY" => Some("bench-5a51933ee252a356746b91c2bbc37f0a66766c6715ae068e".into()),
        "BCRYPT_COST" => Some(cost.clone()),
        _ => None,
    })
    .expect("valid settings");
    let application = Application::build(settings).expect("the app starts");
    let base = format!("http://127.0.0.1:{}", application.port());
    actix_web::rt::spawn(application.run_until_stopped());
    let client = reqwest::Client::new();

    let credentials = json!({"username": "bench", "password": "correct-horse-battery"});
    let registered = client
        .post(format!("{base}/api/register/"))
        .json(&credentials)
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), 201);
    let pair: claims::TokenPair = client
        .post(format!("{base}/api/token/"))
        .json(&credentials)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("a pair");

    let probe_for = Duration::from_secs(seconds);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "login flood: bcrypt cost {cost}, {clients} concurrent login clients, \
         {seconds} s per phase, {cores} cores (one server worker each)"
    );

    let idle = probe(&client, &base, &pair.access, probe_for).await;
    report("GET /hello/ idle", &idle);

    let flood_until = Instant::now() + probe_for;
    let floods: Vec<_> = (0..clients)
        .map(|_| {
            let (client, base, credentials) = (client.clone(), base.clone(), credentials.clone());
            actix_web::rt::spawn(async move {
                let mut logins = 0u64;
                while Instant::now() < flood_until {
                    let response = client
                        .post(format!("{base}/api/token/"))
                        .json(&credentials)
                        .send()
                        .await
                        .expect("login");
                    assert_eq!(response.status(), 200, "a login failed under load");
                    logins += 1;
                }
                logins
            })
        })
        .collect();
    let flooded = probe(&client, &base, &pair.access, probe_for).await;
    let mut logins = 0;
    for flood in floods {
        logins += flood.await.expect("a flood client");
    }
    report("GET /hello/ during the flood", &flooded);
    println!(
        "logins completed during the flood: {logins} ({:.1}/s)",
        logins as f64 / seconds as f64
    );
}

/// Calls `/hello/` back to back for `duration`; returns each call's latency.
async fn probe(
    client: &reqwest::Client,
    base: &str,
    access: &str,
    duration: Duration,
) -> Vec<Duration> {
    let until = Instant::now() + duration;
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        let response = client
            .get(format!("{base}/hello/"))
            .bearer_auth(access)
            .send()
            .await
            .expect("hello");
        assert_eq!(response.status(), 200);
        latencies.push(started.elapsed());
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    latencies
}

fn report(label: &str, latencies: &[Duration]) {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index].as_secs_f64() * 1000.0
    };
    println!(
        "{label}: {} requests, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sorted.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    );
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}
