//! Slow clients: 200 connections through nginx and 200 straight to a replica, each sending its
//! request header a byte a second, while normal `/hello/` traffic is measured both ways. What
//! ends them: nginx's `client_header_timeout` (60 s by default: it holds them cheaply, and
//! never passes a half-read request on), and actix-web's client request timeout (5 s by
//! default: the server answers 408 and closes).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Outcome, Stack, user_with_tokens, wrk_hello};
use crate::bench::Figures;

const SLOW_CONNECTIONS: usize = 200;
const MEASURE: Duration = Duration::from_secs(8);

pub(super) fn run(stack: &Stack) -> Result<Outcome, String> {
    let (access, _) = user_with_tokens(&stack.nginx.base, "slow-clients")?;
    let through_nginx = format!("{}/hello/", stack.nginx.base);
    let direct = format!("{}/hello/", stack.replica(0));
    let before = (hello(&through_nginx, &access)?, hello(&direct, &access)?);
    let stop = AtomicBool::new(false);
    let closed_by_nginx = AtomicUsize::new(0);
    let closed_by_server = AtomicUsize::new(0);
    let opened = AtomicUsize::new(0);
    let started = Instant::now();
    let during = std::thread::scope(|scope| {
        for (base, closed) in [
            (&stack.nginx.base, &closed_by_nginx),
            (&stack.replicas[0].base, &closed_by_server),
        ] {
            let addr = base.trim_start_matches("http://").to_owned();
            for _ in 0..SLOW_CONNECTIONS {
                let (addr, stop, opened) = (addr.clone(), &stop, &opened);
                scope.spawn(move || {
                    if trickle(&addr, stop, opened) {
                        closed.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
        // Every slow connection has started its header before the measuring starts.
        std::thread::sleep(Duration::from_secs(2));
        let during = (hello(&through_nginx, &access), hello(&direct, &access));
        stop.store(true, Ordering::Relaxed);
        during
    });
    let during = (during.0?, during.1?);
    let elapsed = started.elapsed().as_secs_f64();
    let held = |f: &Figures| f.errors == 0 && f.p99_ms < 50.0;
    let passed = held(&during.0) && held(&during.1);
    let line = |f: &Figures| {
        format!(
            "{:.0} req/s, p99 {:.1} ms, {} errors",
            f.requests_per_second, f.p99_ms, f.errors
        )
    };
    Ok(Outcome::new(
        "slow clients",
        passed,
        format!(
            "{} of {} slow connections opened; /hello/ through nginx {} (before: {}), straight \
             to the replica {} (before: {}); in {elapsed:.0} s nginx closed {} of its {} slow \
             connections (client_header_timeout 60 s), the replica {} of its {} (actix-web's 5 s \
             client request timeout, a 408)",
            opened.load(Ordering::Relaxed),
            2 * SLOW_CONNECTIONS,
            line(&during.0),
            line(&before.0),
            line(&during.1),
            line(&before.1),
            closed_by_nginx.load(Ordering::Relaxed),
            SLOW_CONNECTIONS,
            closed_by_server.load(Ordering::Relaxed),
            SLOW_CONNECTIONS,
        ),
    ))
}

/// Opens a connection to `addr` and sends a request header one byte a second until `stop`;
/// returns whether the other side closed it first.
fn trickle(addr: &str, stop: &AtomicBool, opened: &AtomicUsize) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    opened.fetch_add(1, Ordering::Relaxed);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(1)));
    let header = b"GET /hello/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    let mut buffer = [0u8; 512];
    for byte in header.iter().chain(std::iter::repeat(&b'a')) {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        if stream.write_all(&[*byte]).is_err() {
            return true;
        }
        match stream.read(&mut buffer) {
            // An answer (a 408) or the end of the connection: either way, it was closed.
            Ok(_) => return true,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    false
}

fn hello(url: &str, access: &str) -> Result<Figures, String> {
    wrk_hello(url, access, MEASURE)
}
