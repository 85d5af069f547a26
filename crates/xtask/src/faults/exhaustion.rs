//! Exhaustion: the database pool held by slow queries, the hashing pool flooded, and a database
//! that refuses writes. Each must be a quick, documented answer (503 or 429 JSON), never a
//! hang or a 500, while `/hello/` (answered from memory) stays fast.

use std::time::Duration;

use serde_json::json;

use super::client::{Answer, percentile_ms, percentile_of, post, steady_gets};
use super::{Outcome, PASSWORD, Stack, user_with_tokens};

/// How long the table lock lasts: longer than the statement timeout (5 s).
const LOCK: Duration = Duration::from_secs(10);

/// The longest any answer may take while the lock lasts: PostgreSQL's statement timeout on the
/// pooled connections (5 s), and a second.
const BOUND: Duration = Duration::from_secs(6);

/// The database pool held by slow queries: a transaction locks the `users` table for [`LOCK`],
/// so every registration's query waits, holding its pooled connection. 30 registrations at once
/// on one replica (10 connections) must each be answered within [`BOUND`], however long the
/// lock lasts: those without a connection by a 503 within the pool's 1 s checkout timeout, those
/// with one by a 503 when the statement timeout cancels their query.
pub(super) fn pool(stack: &Stack) -> Result<Outcome, String> {
    let (access, _) = user_with_tokens(stack.replica(0), "pool-hello")?;
    let base = stack.replica(0);
    let (answers, hello, locked) = std::thread::scope(|scope| {
        let lock = scope.spawn(|| {
            stack.database.query(&format!(
                "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({}); COMMIT;",
                LOCK.as_secs()
            ))
        });
        std::thread::sleep(Duration::from_millis(300));
        let registrations: Vec<_> = (0..30)
            .map(|n| {
                scope.spawn(move || {
                    let credentials = json!({"username": format!("pool{n}"), "password": PASSWORD});
                    post(base, "/api/register/", &credentials)
                })
            })
            .collect();
        let hello = steady_gets(base, "/hello/", &access, LOCK);
        let answers: Vec<Answer> = registrations
            .into_iter()
            .filter_map(|r| r.join().ok())
            .collect();
        let locked = lock
            .join()
            .unwrap_or_else(|_| Err("the lock's thread failed".into()));
        (answers, hello, locked)
    });
    locked.map_err(|error| format!("the lock was not taken: {error}"))?;
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    let undocumented = refused.iter().filter(|a| !a.is_documented_503()).count();
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    let created = answers.iter().filter(|a| a.status == 201).count();
    let failures = answers.iter().filter(|a| a.is_failure()).count();
    let hello_refused = hello.iter().filter(|a| a.status == 503).count();
    let hello_slowest = hello.iter().map(|a| a.took).max().unwrap_or_default();
    let quick = refused
        .iter()
        .filter(|a| a.took <= Duration::from_millis(1500))
        .count();
    let passed = failures == 0
        && created == 0
        && refused.len() == answers.len()
        && quick > 0
        && undocumented == 0
        && slowest <= BOUND
        && hello
            .iter()
            .all(|a| a.status == 200 || a.is_documented_503())
        && hello_slowest <= BOUND;
    Ok(Outcome::new(
        "exhaustion: database pool held",
        passed,
        format!(
            "users locked {} s; of 30 registrations {created} created, {} answered 503 JSON \
             ({quick} within the 1 s checkout timeout, the rest when the 5 s statement timeout \
             cancelled their query; slowest {:.1} s), {failures} failed; /hello/ meanwhile: {} \
             answers, {} of them 503 (when its user's AUTH_CACHE_TTL ran out, reading the user \
             needs the locked table), p99 {:.1} ms, slowest {:.2} s",
            LOCK.as_secs(),
            refused.len(),
            slowest.as_secs_f64(),
            hello.len(),
            hello_refused,
            percentile_of(&hello, 99.0),
            hello_slowest.as_secs_f64(),
        ),
    ))
}

/// The hashing pool flooded: 64 logins at once on one replica. The ones bcrypt has no room for
/// are refused at once (503), and `/hello/` stays fast.
pub(super) fn hashing(stack: &Stack) -> Result<Outcome, String> {
    let base = stack.replica(1);
    let (access, _) = user_with_tokens(base, "flood")?;
    let (answers, hello) = std::thread::scope(|scope| {
        let logins: Vec<_> = (0..64)
            .map(|_| {
                scope.spawn(move || {
                    post(
                        base,
                        "/api/token/",
                        &json!({"username": "flood", "password": PASSWORD}),
                    )
                })
            })
            .collect();
        let hello = steady_gets(base, "/hello/", &access, Duration::from_secs(4));
        let answers: Vec<Answer> = logins.into_iter().filter_map(|l| l.join().ok()).collect();
        (answers, hello)
    });
    let hello_p99 = percentile_of(&hello, 99.0);
    let hello_failed = hello.iter().filter(|a| a.status != 200).count();
    let mut refusals: Vec<Duration> = answers
        .iter()
        .filter(|a| a.status == 503 || a.status == 429)
        .map(|a| a.took)
        .collect();
    let refused = refusals.len();
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let failures = answers.iter().filter(|a| a.is_failure()).count();
    let refusal_p99 = percentile_ms(&mut refusals, 99.0);
    let passed = failures == 0
        && ok + refused == answers.len()
        && refusal_p99 < 1000.0
        && hello_failed == 0
        && hello_p99 < 50.0;
    Ok(Outcome::new(
        "exhaustion: hashing pool flooded",
        passed,
        format!(
            "64 logins at once: {ok} answered 200, {refused} refused (503/429) with p99 \
             {refusal_p99:.0} ms, {failures} failed; /hello/ meanwhile: {} answers, p99 \
             {hello_p99:.1} ms, {hello_failed} not 200",
            hello.len()
        ),
    ))
}

/// A database that refuses writes: an SQLite file opened read-only (`mode=ro`, since file
/// permissions do not stop root). A registration is a 503 JSON and one log line says why; a
/// full database (`max_page_count`) is the same error class, tested in `dbkit`.
pub(super) fn read_only_sqlite(stack: &Stack) -> Result<Outcome, String> {
    let dir = stack.folder("read-only");
    let file = dir.join("db.sqlite3");
    // A server makes and migrates the database, then stops.
    drop(stack.spare_server("read-only", &file.to_string_lossy(), &[])?);
    let url = format!("file:{}?mode=ro", file.display());
    let server = stack.spare_server("read-only", &url, &[])?;
    let answer = post(
        &server.base,
        "/api/register/",
        &json!({"username": "reader", "password": PASSWORD}),
    );
    drop(server);
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("ERROR") || line.contains("WARN"))
        .collect();
    let passed = answer.is_documented_503() && lines.len() == 1;
    Ok(Outcome::new(
        "exhaustion: read-only SQLite",
        passed,
        format!(
            "a registration answered {} {}; the log's warnings and errors: {}",
            answer.status,
            answer.body.trim(),
            if lines.is_empty() {
                "none".to_owned()
            } else {
                lines.join(" | ")
            }
        ),
    ))
}
