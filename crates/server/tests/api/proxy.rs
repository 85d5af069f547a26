//! A TCP proxy in front of PostgreSQL that a test can cut and restore, to see what the API does
//! while its database is down. Runs on its own threads, so a test blocked in a synchronous call
//! cannot stall it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Forwards connections to a target address while up; while down, closes new connections at
/// once and has cut the open ones.
pub struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Starts forwarding from a free local port to `target` (`host:port`).
    pub fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let up = Arc::new(AtomicBool::new(true));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (up_flag, registry) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !up_flag.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&target) else {
                    continue;
                };
                // Checked again under the lock `cut` takes: a connection accepted while the
                // proxy was being cut must not slip through.
                let mut open = registry.lock().expect("not poisoned");
                if !up_flag.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    let _ = upstream.shutdown(Shutdown::Both);
                    continue;
                }
                for stream in [&client, &upstream] {
                    if let Ok(clone) = stream.try_clone() {
                        open.push(clone);
                    }
                }
                pipe(&client, &upstream);
                pipe(&upstream, &client);
            }
        });
        Self { port, up, open }
    }

    /// The local port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every open connection and refuses new ones: the database is "down".
    pub fn cut(&self) {
        let mut open = self.open.lock().expect("not poisoned");
        self.up.store(false, Ordering::SeqCst);
        for stream in open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Forwards new connections again: the database is "back".
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Copies bytes from `from` to `to` on a thread of its own until either side closes.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read @ 1..) = from.read(&mut buffer) {
            if to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}
