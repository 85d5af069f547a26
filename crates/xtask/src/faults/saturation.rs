//! Saturation: logins at twice the rate the servers can hash passwords at, rotating refreshes,
//! and `/hello/` through nginx, all at once. Answers may be 503 (by design: the hashing pool
//! is full), never another 5xx or no answer; `/hello/` keeps every answer a 200 with p99 under
//! 50 ms; the servers' memory stays bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{Answer, failures, percentile_of, post};
use super::{Outcome, PASSWORD, Stack, user_with_tokens, wrk_hello};
use crate::bench::rss::RssSampler;

/// What the scenario's load got back, by kind of request.
#[derive(Default)]
struct Tally {
    answers: Vec<Answer>,
}

impl Tally {
    fn count(&self, status: u16) -> usize {
        self.answers.iter().filter(|a| a.status == status).count()
    }

    /// No answer, a 5xx other than 503, or (a session refreshing its own current token
    /// should never get one) a 401.
    fn failures(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| a.is_failure() || a.status == 401)
            .count()
    }

    fn failed(&self) -> String {
        format!("{}, {} 401", failures(&self.answers), self.count(401))
    }

    /// The p-th percentile of how long the 503s took, in milliseconds.
    fn refusal_ms(&self, p: f64) -> f64 {
        let refusals: Vec<Answer> = self
            .answers
            .iter()
            .filter(|a| a.status == 503)
            .cloned()
            .collect();
        percentile_of(&refusals, p)
    }
}

pub(super) fn run(stack: &Stack, duration: Duration) -> Result<Outcome, String> {
    let users: Vec<String> = (0..8).map(|n| format!("saturation{n}")).collect();
    for (n, user) in users.iter().enumerate() {
        user_with_tokens(stack.replica(n % 2), user)?;
    }
    let capacity = login_capacity(stack, &users, Duration::from_secs(5));
    let offered = (capacity * 2.0).max(1.0);
    let (access, _) = user_with_tokens(&stack.nginx.base, "saturation-hello")?;
    let mut sessions = Vec::new();
    for n in 0..4 {
        let base = stack.replica(n % 2);
        sessions.push((base, user_with_tokens(base, &format!("rotating{n}"))?.1));
    }

    let samplers: Vec<RssSampler> = stack
        .replicas
        .iter()
        .map(|side| RssSampler::start(side.child.id()))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let logins = Arc::new(Mutex::new(Tally::default()));
    let refreshes = Arc::new(Mutex::new(Tally::default()));
    let hello = std::thread::scope(|scope| {
        // Logins, open loop: one sent every 1/offered seconds, whatever the answers do.
        scope.spawn(|| {
            let interval = Duration::from_secs_f64(1.0 / offered);
            let started = Instant::now();
            let mut sent = 0u32;
            std::thread::scope(|senders| {
                while !stop.load(Ordering::Relaxed) {
                    let due = started + interval * sent;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let user = &users[sent as usize % users.len()];
                    let base = stack.replica(sent as usize % 2);
                    let logins = logins.clone();
                    senders.spawn(move || {
                        let credentials = json!({"username": user, "password": PASSWORD});
                        let answer = post(base, "/api/token/", &credentials);
                        logins.lock().expect("not poisoned").answers.push(answer);
                    });
                    sent += 1;
                }
            });
        });
        // Refreshes, closed loop: four sessions rotating their refresh tokens.
        for (base, mut refresh) in sessions {
            let (stop, refreshes) = (stop.clone(), refreshes.clone());
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let answer = post(base, "/api/token/refresh/", &json!({"refresh": refresh}));
                    if let Some(next) = answer.field("refresh") {
                        refresh = next;
                    }
                    refreshes.lock().expect("not poisoned").answers.push(answer);
                }
            });
        }
        let hello = wrk_hello(&format!("{}/hello/", stack.nginx.base), &access, duration);
        stop.store(true, Ordering::Relaxed);
        hello
    });
    let peak_mib: Vec<f64> = samplers.into_iter().map(RssSampler::stop).collect();
    let hello = hello?;
    let logins = logins.lock().expect("not poisoned");
    let refreshes = refreshes.lock().expect("not poisoned");
    let peak = peak_mib.iter().copied().fold(0.0, f64::max);
    let passed = logins.failures() == 0
        && refreshes.failures() == 0
        && hello.errors == 0
        && hello.p99_ms < 50.0
        && peak < 256.0;
    let slowest_login = logins
        .answers
        .iter()
        .map(|a| a.took)
        .max()
        .unwrap_or_default();
    Ok(Outcome::new(
        "saturation",
        passed,
        format!(
            "{}s; logins offered at {offered:.1}/s (twice the {capacity:.1}/s the servers \
             answered with nothing else to do): {} answered 200, {} 503 (by design, p50 {:.0} \
             ms, p99 {:.0} ms), {}, the slowest answer in {:.1} s; refreshes: {} 200, {} 503, \
             {}; /hello/ through nginx: {:.0} req/s, p99 {:.1} ms, {} errors; peak RSS per \
             replica {:.0} MiB",
            duration.as_secs(),
            logins.count(200),
            logins.count(503),
            logins.refusal_ms(50.0),
            logins.refusal_ms(99.0),
            logins.failed(),
            slowest_login.as_secs_f64(),
            refreshes.count(200),
            refreshes.count(503),
            refreshes.failed(),
            hello.requests_per_second,
            hello.p99_ms,
            hello.errors,
            peak,
        ),
    ))
}

/// Logins per second the two replicas answer with 200, from closed-loop clients.
fn login_capacity(stack: &Stack, users: &[String], duration: Duration) -> f64 {
    let started = Instant::now();
    let answered: usize = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..8)
            .map(|n| {
                let user = &users[n % users.len()];
                let base = stack.replica(n % 2);
                scope.spawn(move || {
                    let mut count = 0;
                    while started.elapsed() < duration {
                        let credentials = json!({"username": user, "password": PASSWORD});
                        if post(base, "/api/token/", &credentials).status == 200 {
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap_or(0)).sum()
    });
    answered as f64 / started.elapsed().as_secs_f64()
}
