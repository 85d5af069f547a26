//! A lost notification: replica 1's LISTEN connection is cut (its PostgreSQL backend
//! terminated) just before replica 2 revokes a family, a deactivation ends a user's sessions
//! and a password change ends another's, all at once. Replica 1 never hears those `NOTIFY`s; it
//! must refuse each token within `AUTH_CACHE_TTL` + 1 s all the same.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{get_as, send};
use super::{
    CACHE_TTL_SECONDS, Outcome, PASSWORD, POSTGRES_PORT, Stack, time_until_refused,
    user_with_tokens,
};

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
    // The three writes at once, while replica 1 is reconnecting (it waits a second first).
    let (logout, deactivation, change) = std::thread::scope(|scope| {
        let logout = scope.spawn(|| {
            let answer = send(
                second,
                "POST",
                "/api/token/blacklist/",
                Some(&logged_out),
                Some(&json!({"refresh": logged_out_refresh})),
                super::client::DEADLINE,
            );
            (answer, Instant::now())
        });
        let deactivation = scope.spawn(|| {
            let done = stack.server_command(&["deactivateuser", "lost-deactivated"]);
            (done, Instant::now())
        });
        let change = send(
            second,
            "POST",
            "/api/password/change/",
            Some(&changed),
            Some(&json!({"old_password": PASSWORD, "new_password": "lantern-orbit-staple"})),
            super::client::DEADLINE,
        );
        let change = (change, Instant::now());
        let joined = (logout.join(), deactivation.join());
        match joined {
            (Ok(logout), Ok(deactivation)) => Ok((logout, deactivation, change)),
            _ => Err("a write's thread failed".to_owned()),
        }
    })?;
    let ((logout, logout_done), (deactivated_result, deactivation_done)) = (logout, deactivation);
    let (change, change_done) = change;
    deactivated_result?;
    if logout.status != 200 || change.status != 200 {
        return Err(format!(
            "on replica 2: log out {} {}, password change {} {}",
            logout.status, logout.body, change.status, change.body
        ));
    }
    let limit = Duration::from_secs(CACHE_TTL_SECONDS + 10);
    let stale: Vec<Option<Duration>> = std::thread::scope(|scope| {
        [
            (&logged_out, logout_done),
            (&deactivated, deactivation_done),
            (&changed, change_done),
        ]
        .map(|(token, since)| scope.spawn(move || time_until_refused(first, token, since, limit)))
        .into_iter()
        .map(|poll| poll.join().unwrap_or(None))
        .collect()
    });
    let log = std::fs::read_to_string(stack.folder("replica1").join("server.log"));
    let noticed = log.is_ok_and(|log| log.contains("lost its connection"));
    let bound = Duration::from_secs(CACHE_TTL_SECONDS + 1);
    let passed = stale.iter().all(|s| s.is_some_and(|s| s <= bound));
    let shown = |s: &Option<Duration>| match s {
        Some(s) => format!("{:.2} s", s.as_secs_f64()),
        None => format!("still accepted after {} s", limit.as_secs()),
    };
    Ok(Outcome::new(
        "a lost notification",
        passed,
        format!(
            "replica 1's LISTEN connection cut ({cut} backend terminated); it refused the logged-out family's token {}, \
             the deactivated user's {}, the changed password's {} after replica 2's write \
             (bound: AUTH_CACHE_TTL {CACHE_TTL_SECONDS} s + 1 s); its listener {} the cut",
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

/// Terminates the PostgreSQL backend of process `pid`'s LISTEN connection: of the connections
/// it holds (found by their local ports, with `ss`), the one whose last statement was `LISTEN`
/// or the listener's ping (`SELECT 1`). Returns how many backends were terminated.
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
         WHERE client_port IN ({}) AND (query ILIKE 'LISTEN%' OR query = 'SELECT 1')",
        ports.join(",")
    ))?;
    cut.parse()
        .map_err(|e| format!("counting cut connections: {e}"))
}
