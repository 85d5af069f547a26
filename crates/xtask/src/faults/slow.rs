//! Slow clients: 200 connections through nginx and 200 straight to a replica, each sending its
//! request header a byte a second (and opening a new connection when one is closed), while
//! normal `/hello/` traffic is measured both ways at once. What ends them: nginx's
//! `client_header_timeout` (60 s by default: it holds them cheaply, and never passes a
//! half-read request on), and actix-web's client request timeout (5 s by default: the server
//! answers 408 and closes).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::{Outcome, Stack, user_with_tokens, wrk_hello};
use crate::bench::Figures;

const SLOW_CONNECTIONS: usize = 200;
const MEASURE: Duration = Duration::from_secs(10);

/// What the slow connections of one side met.
#[derive(Default)]
struct Slow {
    opened: AtomicUsize,
    closed: AtomicUsize,
    timed_out: AtomicUsize,
}

pub(super) fn run(stack: &Stack) -> Result<Outcome, String> {
    let (access, _) = user_with_tokens(&stack.nginx.base, "slow-clients")?;
    let through_nginx = format!("{}/hello/", stack.nginx.base);
    let direct = format!("{}/hello/", stack.replica(0));
    let before = both(&through_nginx, &direct, &access)?;
    let stop = AtomicBool::new(false);
    let (nginx_side, server_side) = (Slow::default(), Slow::default());
    let during = std::thread::scope(|scope| {
        for (base, side) in [
            (&stack.nginx.base, &nginx_side),
            (&stack.replicas[0].base, &server_side),
        ] {
            let addr = base.trim_start_matches("http://").to_owned();
            for _ in 0..SLOW_CONNECTIONS {
                let (addr, stop) = (addr.clone(), &stop);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        trickle(&addr, stop, side);
                    }
                });
            }
        }
        // Every slow connection has started its header before the measuring starts.
        std::thread::sleep(Duration::from_secs(2));
        let during = both(&through_nginx, &direct, &access);
        stop.store(true, Ordering::Relaxed);
        during
    })?;
    let held = |f: &Figures| f.errors == 0 && f.p99_ms < 50.0;
    let timed_out = server_side.timed_out.load(Ordering::Relaxed);
    let passed = held(&during.0) && held(&during.1) && timed_out >= SLOW_CONNECTIONS;
    let line = |f: &Figures| {
        format!(
            "{:.0} req/s, p99 {:.1} ms, {} errors",
            f.requests_per_second, f.p99_ms, f.errors
        )
    };
    let count = |n: &AtomicUsize| n.load(Ordering::Relaxed);
    Ok(Outcome::new(
        "slow clients",
        passed,
        format!(
            "{SLOW_CONNECTIONS} slow connections at a time on each side; /hello/ through nginx \
             {} (before: {}), straight to the replica {} (before: {}), measured at once; nginx \
             closed {} of the {} it was sent (client_header_timeout 60 s); the replica closed {} \
             of {}, {} of them with a 408 (actix-web's 5 s client request timeout)",
            line(&during.0),
            line(&before.0),
            line(&during.1),
            line(&before.1),
            count(&nginx_side.closed),
            count(&nginx_side.opened),
            count(&server_side.closed),
            count(&server_side.opened),
            timed_out,
        ),
    ))
}

/// `/hello/` through nginx and straight to the replica, both at once, for [`MEASURE`].
fn both(through_nginx: &str, direct: &str, access: &str) -> Result<(Figures, Figures), String> {
    std::thread::scope(|scope| {
        let nginx = scope.spawn(|| wrk_hello(through_nginx, access, MEASURE));
        let direct = wrk_hello(direct, access, MEASURE);
        let nginx = nginx.join().map_err(|_| "wrk's thread failed")?;
        Ok((nginx?, direct?))
    })
}

/// Opens a connection to `addr` and sends a request header one byte a second until `stop` or
/// until the other side closes it (counting a 408 when that is what it sent).
fn trickle(addr: &str, stop: &AtomicBool, side: &Slow) {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        std::thread::sleep(Duration::from_millis(100));
        return;
    };
    side.opened.fetch_add(1, Ordering::Relaxed);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(1)));
    let header = b"GET /hello/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    let mut buffer = [0u8; 512];
    for byte in header.iter().chain(std::iter::repeat(&b'a')) {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if stream.write_all(&[*byte]).is_err() {
            side.closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match stream.read(&mut buffer) {
            Ok(read) => {
                side.closed.fetch_add(1, Ordering::Relaxed);
                if buffer[..read].starts_with(b"HTTP/1.1 408") {
                    side.timed_out.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                side.closed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
