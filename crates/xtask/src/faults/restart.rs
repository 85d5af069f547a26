//! The database crashed and restarted under load: registrations, rotating refreshes and log
//! outs run while PostgreSQL is stopped without a shutdown (`pg_ctl stop -m immediate`, as a
//! crash: it recovers from its log when started) and started again. While it is down every
//! answer is the documented 503 JSON within 2 s; within 5 s of its start everything is served
//! again; and nothing acknowledged is lost: every registration answered 201 exists, each
//! session's last refresh token answered 200 is its current one, and no refresh token that was
//! rotated out or logged out with a 200 works again.

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

/// A rotating session: where it refreshes, its last refresh token answered 200, and the one
/// that answer rotated out.
struct Session {
    base: String,
    current: String,
    rotated_out: Option<String>,
}

pub(super) fn run(stack: &Stack) -> Result<Outcome, String> {
    let mut sessions = Vec::new();
    for n in 0..4 {
        let base = stack.replica(n % 2).to_owned();
        let (_, refresh) = user_with_tokens(&base, &format!("restart-rotating{n}"))?;
        sessions.push(Mutex::new(Session {
            base,
            current: refresh,
            rotated_out: None,
        }));
    }
    let mut to_log_out = Vec::new();
    for n in 0..16 {
        let base = stack.replica(n % 2).to_owned();
        to_log_out.push((base.clone(), user_with_tokens(&base, "restart-logout")?.1));
    }
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let sent = Mutex::new(Vec::<Sent>::new());
    let registered = Mutex::new(Vec::<String>::new());
    let logged_out = Mutex::new(Vec::<(String, String)>::new());
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
                    if let Some(next) = answer.field("refresh").filter(|_| answer.status == 200) {
                        let mut session = session.lock().expect("not poisoned");
                        session.rotated_out = Some(std::mem::replace(&mut session.current, next));
                    }
                    record(at, answer);
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        let (stop, record, logged_out) = (&stop, &record, &logged_out);
        let to_log_out = &to_log_out;
        scope.spawn(move || {
            for (base, refresh) in to_log_out {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let at = started.elapsed();
                let answer = post(base, "/api/token/blacklist/", &json!({"refresh": refresh}));
                if answer.status == 200 {
                    let token = (base.clone(), refresh.clone());
                    logged_out.lock().expect("not poisoned").push(token);
                }
                record(at, answer);
                std::thread::sleep(Duration::from_millis(700));
            }
        });
        std::thread::sleep(Duration::from_secs(3));
        let crashing = started.elapsed();
        let crashed = stack.database.crash();
        std::thread::sleep(Duration::from_secs(3));
        let starting = stack.database.start_again().map(|()| started.elapsed());
        std::thread::sleep(Duration::from_secs(8));
        stop.store(true, Ordering::Relaxed);
        (crashed.map(|()| crashing), starting)
    });
    let (down, up) = (down?, up?);
    let sent = sent.into_inner().expect("not poisoned");

    let while_down: Vec<&Sent> = sent.iter().filter(|s| s.at > down && s.at < up).collect();
    let undocumented = while_down
        .iter()
        .filter(|s| !(200..300).contains(&s.answer.status))
        .filter(|s| !s.answer.is_documented_503())
        .count();
    let slowest_down = while_down
        .iter()
        .map(|s| s.answer.took)
        .max()
        .unwrap_or_default();
    let recovered = sent
        .iter()
        .filter(|s| s.at > up && !(200..300).contains(&s.answer.status))
        .map(|s| s.at + s.answer.took - up)
        .max()
        .unwrap_or_default();
    let failures = sent.iter().filter(|s| s.answer.is_failure()).count();

    let registered = registered.into_inner().expect("not poisoned");
    let lost_registrations = registered.len() - count_users(stack, &registered)?;
    let mut lost_rotations = 0;
    let mut revoked = logged_out.into_inner().expect("not poisoned");
    let logged_out_count = revoked.len();
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
        revoked.extend(session.rotated_out.map(|token| (session.base, token)));
    }
    let revived = revoked
        .iter()
        .filter(|(base, token)| {
            post(base, "/api/token/refresh/", &json!({"refresh": token})).status != 401
        })
        .count();
    let passed = undocumented == 0
        && failures == 0
        && slowest_down <= Duration::from_secs(2)
        && recovered <= Duration::from_secs(5)
        && lost_registrations == 0
        && lost_rotations == 0
        && !revoked.is_empty()
        && revived == 0;
    Ok(Outcome::new(
        "database crash and restart under load",
        passed,
        format!(
            "down {:.1} s; {} answers while down, {} not the documented 503 JSON, slowest {:.2} \
             s; every answer 2xx {:.1} s after the start; {} acknowledged registrations, {} \
             lost; 4 rotating sessions, {} lost their last rotation; {} revoked refresh tokens \
             ({} logged out with a 200, the rest rotated out) tried again, {} not refused; {} \
             failed requests",
            (up - down).as_secs_f64(),
            while_down.len(),
            undocumented,
            slowest_down.as_secs_f64(),
            recovered.as_secs_f64(),
            registered.len(),
            lost_registrations,
            lost_rotations,
            revoked.len(),
            logged_out_count,
            revived,
            failures,
        ),
    ))
}

/// How many of `usernames` are in the database.
fn count_users(stack: &Stack, usernames: &[String]) -> Result<usize, String> {
    if usernames.is_empty() {
        return Ok(0);
    }
    let names = usernames
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(",");
    let found: usize = stack
        .database
        .query(&format!(
            "SELECT count(*) FROM users WHERE username IN ({names})"
        ))?
        .parse()
        .map_err(|e| format!("counting users: {e}"))?;
    Ok(found.min(usernames.len()))
}
