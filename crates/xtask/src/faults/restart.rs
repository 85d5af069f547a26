//! The database restarted under load: registrations and rotating refreshes run while
//! PostgreSQL is stopped (`pg_ctl stop -m fast`) and started again. While it is down every
//! answer is the documented 503 JSON within 2 s; within 5 s of its start everything is served
//! again; and nothing acknowledged is lost: every registration answered 201 exists, each
//! session's last refresh token answered 200 is its current one, and no refresh token refused
//! as revoked works again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{Answer, post};
use super::{Outcome, PASSWORD, Stack, user_with_tokens};

/// One answer, with when its request was sent (from the start of the scenario).
struct Sent {
    at: Duration,
    answer: Answer,
}

/// What a rotating session ends with: its last refresh token answered 200, and the tokens
/// refused as revoked on the way.
struct Session {
    base: String,
    current: String,
    refused: Vec<String>,
}

pub(super) fn run(stack: &Stack) -> Result<Outcome, String> {
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let sent = Mutex::new(Vec::<Sent>::new());
    let registered = Mutex::new(Vec::<String>::new());
    let mut sessions = Vec::new();
    for n in 0..4 {
        let base = stack.replica(n % 2).to_owned();
        let (_, refresh) = user_with_tokens(&base, &format!("restart-rotating{n}"))?;
        sessions.push(Mutex::new(Session {
            base,
            current: refresh,
            refused: Vec::new(),
        }));
    }
    let record = |at: Duration, answer: Answer| {
        sent.lock().expect("not poisoned").push(Sent { at, answer });
    };
    let (down, up) = std::thread::scope(|scope| {
        for n in 0..4 {
            let (stop, record, registered) = (&stop, &record, &registered);
            scope.spawn(move || {
                let base = stack.replica(n % 2);
                let mut count = 0;
                while !stop.load(Ordering::Relaxed) {
                    let username = format!("restart{n}-{count}");
                    count += 1;
                    let at = started.elapsed();
                    let credentials = json!({"username": username, "password": PASSWORD});
                    let answer = post(base, "/api/register/", &credentials);
                    if answer.status == 201 {
                        registered.lock().expect("not poisoned").push(username);
                    }
                    record(at, answer);
                }
            });
        }
        for session in &sessions {
            let (stop, record) = (&stop, &record);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (base, token) = {
                        let session = session.lock().expect("not poisoned");
                        (session.base.clone(), session.current.clone())
                    };
                    let at = started.elapsed();
                    let answer = post(&base, "/api/token/refresh/", &json!({"refresh": token}));
                    let mut session = session.lock().expect("not poisoned");
                    match answer.field("refresh") {
                        Some(next) if answer.status == 200 => session.current = next,
                        _ if answer.status == 401 => session.refused.push(token),
                        _ => {}
                    }
                    drop(session);
                    record(at, answer);
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        std::thread::sleep(Duration::from_secs(3));
        let stopping = started.elapsed();
        let stopped = stack.database.stop().map(|()| started.elapsed());
        std::thread::sleep(Duration::from_secs(3));
        let starting = stack.database.start_again().map(|()| started.elapsed());
        std::thread::sleep(Duration::from_secs(8));
        stop.store(true, Ordering::Relaxed);
        (stopped.map(|_| stopping), starting)
    });
    let (down, up) = (down?, up?);
    let sent = sent.into_inner().expect("not poisoned");

    let while_down: Vec<&Sent> = sent.iter().filter(|s| s.at > down && s.at < up).collect();
    let undocumented = while_down
        .iter()
        .filter(|s| s.answer.status != 200 && s.answer.status != 201)
        .filter(|s| !s.answer.is_documented_503())
        .count();
    let slowest_down = while_down
        .iter()
        .map(|s| s.answer.took)
        .max()
        .unwrap_or_default();
    let failed_after_start = sent
        .iter()
        .filter(|s| s.at > up && !(200..300).contains(&s.answer.status));
    let recovered = failed_after_start
        .map(|s| s.at + s.answer.took - up)
        .max()
        .unwrap_or_default();
    let failures = sent.iter().filter(|s| s.answer.is_failure()).count();

    let registered = registered.into_inner().expect("not poisoned");
    let names = registered
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(",");
    let found: usize = if registered.is_empty() {
        0
    } else {
        stack
            .database
            .query(&format!(
                "SELECT count(*) FROM users WHERE username IN ({names})"
            ))?
            .parse()
            .map_err(|e| format!("counting users: {e}"))?
    };
    let lost_registrations = registered.len() - found.min(registered.len());
    let mut lost_rotations = 0;
    let mut revived = 0;
    for session in sessions {
        let session = session.into_inner().expect("not poisoned");
        let again = post(
            &session.base,
            "/api/token/refresh/",
            &json!({"refresh": session.current}),
        );
        if again.status != 200 {
            lost_rotations += 1;
        }
        for refused in &session.refused {
            let retried = post(
                &session.base,
                "/api/token/refresh/",
                &json!({"refresh": refused}),
            );
            if retried.status == 200 {
                revived += 1;
            }
        }
    }
    let passed = undocumented == 0
        && failures == 0
        && slowest_down <= Duration::from_secs(2)
        && recovered <= Duration::from_secs(5)
        && lost_registrations == 0
        && lost_rotations == 0
        && revived == 0;
    Ok(Outcome::new(
        "database restart under load",
        passed,
        format!(
            "down {:.1} s; {} answers while down, {} not the documented 503 JSON, slowest {:.2} \
             s; every answer 2xx {:.1} s after the start; {} acknowledged registrations, {} lost; \
             4 rotating sessions, {} lost their last rotation, {} revoked tokens worked again; \
             {} failed requests",
            (up - down).as_secs_f64(),
            while_down.len(),
            undocumented,
            slowest_down.as_secs_f64(),
            recovered.as_secs_f64(),
            registered.len(),
            lost_registrations,
            lost_rotations,
            revived,
            failures,
        ),
    ))
}
