//! A replica killed mid-traffic: 8 clients send `GET /hello/` through nginx while replica 2 is
//! killed (SIGKILL) and started again. With the project's `proxy_next_upstream`, nginx sends a
//! request the dead replica could not take to the live one: no GET fails. Run once more with it
//! off, to show what the safeguard is worth.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::client::get_as;
use super::{Outcome, Stack, user_with_tokens};
use crate::bench::stacks::libc_kill;

pub(super) fn run(stack: &mut Stack, next_upstream: bool) -> Result<Outcome, String> {
    if !next_upstream {
        stack.restart_nginx(false)?;
    }
    let (access, _) = user_with_tokens(&stack.nginx.base, "replica-kill")?;
    let stop = AtomicBool::new(false);
    let (sent, failed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let victim = stack.replicas[1].child.id() as i32;
    let base = stack.nginx.base.clone();
    let killed: Result<(), &str> = std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let answer = get_as(&base, "/hello/", &access);
                    sent.fetch_add(1, Ordering::Relaxed);
                    if answer.status != 200 {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs(2));
        // SAFETY: kill(2) on the process group of the replica this command started.
        let killed = unsafe { libc_kill(-victim, 9) } == 0;
        std::thread::sleep(Duration::from_secs(4));
        stop.store(true, Ordering::Relaxed);
        killed
    })
    .then_some(())
    .ok_or("could not kill replica 2");
    killed?;
    stack.restart_replica(1)?;
    let (sent, failed) = (sent.into_inner(), failed.into_inner());
    let (name, passed) = if next_upstream {
        ("a replica killed mid-traffic", failed == 0)
    } else {
        // The figure is the point: it shows what proxy_next_upstream prevents.
        ("the same, without proxy_next_upstream", true)
    };
    let setting = if next_upstream {
        "proxy_next_upstream error timeout http_502 http_503 (the project's)"
    } else {
        "proxy_next_upstream off"
    };
    Ok(Outcome::new(
        name,
        passed,
        format!("{failed} of {sent} GETs failed with {setting}"),
    ))
}
