//! A lost notification: replica 1's LISTEN connection (named `auth-events`) is cut (its
//! PostgreSQL backend terminated) just before replica 2 revokes a family, a deactivation ends a
//! user's sessions and a password change ends another's, all at once, while replica 1 is asked
//! about each token every 10 ms. Replica 1 never hears those `NOTIFY`s; it must refuse each
//! token within `AUTH_CACHE_TTL` + 1 s of the write all the same.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{DEADLINE, get_as, send};
use super::{CACHE_TTL_SECONDS, Outcome, PASSWORD, POSTGRES_PORT, Stack, user_with_tokens};

pub(super) fn run(stack: &Stack) -> Result<Outcome, String> {
    let (first, second) = (stack.replica(0), stack.replica(1));
    let (logged_out, logged_out_refresh) = user_with_tokens(second, "lost-logout")?;
    let (deactivated, _) = user_with_tokens(second, "lost-deactivated")?;
    let (changed, _) = user_with_tokens(second, "lost-password")?;
    // Replica 1 learns each token and user, and would trust them for AUTH_CACHE_TTL.
    for token in [&logged_out, &deactivated, &changed] {
        let answer = get_as(first, "/hello/", token);
        if answer.status != 200 {
            return Err(format!(
                "/hello/ on replica 1: {} {}",
                answer.status, answer.body
            ));
        }
    }
    let cut = cut_listener(stack, stack.replicas[0].child.id())?;
    let limit = Instant::now() + Duration::from_secs(CACHE_TTL_SECONDS + 10);
    // Replica 1 is asked about each token every 10 ms from the cut on, while the three writes
    // happen at once on the other side.
    let (refused_at, written) = std::thread::scope(|scope| {
        let pollers = [&logged_out, &deactivated, &changed]
            .map(|token| scope.spawn(move || first_refusal(first, token, limit)));
        let logout = scope.spawn(|| {
            let answer = send(
                second,
                "POST",
                "/api/token/blacklist/",
                Some(&logged_out),
                Some(&json!({"refresh": logged_out_refresh})),
                DEADLINE,
            );
            (answer.status == 200, Instant::now())
        });
        let deactivation = scope.spawn(|| {
            let done = stack.server_command(&["deactivateuser", "lost-deactivated"]);
            (done.is_ok(), Instant::now())
        });
        let change = send(
            second,
            "POST",
            "/api/password/change/",
            Some(&changed),
            Some(&json!({"old_password": PASSWORD, "new_password": "lantern-orbit-staple"})),
            DEADLINE,
        );
        let change = (change.status == 200, Instant::now());
        let written = [
            logout.join().unwrap_or((false, Instant::now())),
            deactivation.join().unwrap_or((false, Instant::now())),
            change,
        ];
        let refused_at = pollers.map(|poller| poller.join().unwrap_or(None));
        (refused_at, written)
    });
    if written.iter().any(|(done, _)| !done) {
        return Err(
            "a write on replica 2 (log out, deactivateuser, password change) failed".into(),
        );
    }
    let stale: Vec<Option<Duration>> = refused_at
        .iter()
        .zip(&written)
        .map(|(refused, (_, done))| refused.map(|at| at.saturating_duration_since(*done)))
        .collect();
    let log = std::fs::read_to_string(stack.folder("replica1").join("server.log"));
    let noticed = log.is_ok_and(|log| log.contains("lost its connection"));
    let bound = Duration::from_secs(CACHE_TTL_SECONDS + 1);
    let passed = cut == 1 && stale.iter().all(|s| s.is_some_and(|s| s <= bound));
    let shown = |s: &Option<Duration>| match s {
        Some(s) => format!("{:.2} s", s.as_secs_f64()),
        None => "never, within the time allowed".to_owned(),
    };
    Ok(Outcome::new(
        "a lost notification",
        passed,
        format!(
            "replica 1's LISTEN connection cut ({cut} backend terminated), replica 1 asked every \
             10 ms from then on; it refused the logged-out family's token {}, the deactivated \
             user's {}, the changed password's {} after the write was acknowledged (bound: \
             AUTH_CACHE_TTL {CACHE_TTL_SECONDS} s + 1 s); its listener {} the cut",
            shown(&stale[0]),
            shown(&stale[1]),
            shown(&stale[2]),
            if noticed {
                "logged"
            } else {
                "had not yet noticed"
            },
        ),
    ))
}

/// When replica `base` first refused `token` on `/hello/`, asked every 10 ms until `limit`.
fn first_refusal(base: &str, token: &str, limit: Instant) -> Option<Instant> {
    while Instant::now() < limit {
        if get_as(base, "/hello/", token).status == 401 {
            return Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Terminates the PostgreSQL backend of process `pid`'s LISTEN connection: of the connections
/// it holds (found by their local ports, with `ss`), the one named `auth-events`. Returns how
/// many backends were terminated.
fn cut_listener(stack: &Stack, pid: u32) -> Result<usize, String> {
    let output = Command::new("ss")
        .args(["-Htnp", "state", "established"])
        .arg(format!("( dport = :{POSTGRES_PORT} )"))
        .output()
        .map_err(|e| format!("running ss: {e}"))?;
    let marker = format!("pid={pid},");
    let ports: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&marker))
        .filter_map(|line| {
            let local = line.split_whitespace().nth(2)?;
            Some(local.rsplit_once(':')?.1.to_owned())
        })
        .collect();
    if ports.is_empty() {
        return Err(format!(
            "ss shows no PostgreSQL connection of process {pid}"
        ));
    }
    let cut = stack.database.query(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE client_port IN ({}) AND application_name = 'auth-events'",
        ports.join(",")
    ))?;
    cut.parse()
        .map_err(|e| format!("counting cut connections: {e}"))
}
