//! `cargo xtask bench abandoned`: how long one log in takes alone, and while 24 password changes
//! whose clients gave up (they sent the request and closed the connection) want bcrypt before
//! it. Two figures, printed side by side: a measurement, not a test.
//!
//! What keeps the second figure near the first: the limit on wrong old passwords counts every
//! attempt before its bcrypt runs, so only the first five of one user's guesses reach the
//! hashing queue; the queue itself is bounded; and a job whose request was dropped before it
//! started is skipped.

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

use super::client::login;
use super::stacks::start_ours;
use crate::{binaries, step};

const PORT: u16 = 18095;
const ABANDONED: usize = 24;

/// Runs it and prints the figures.
pub fn run_abandoned(root: &Path) -> Result<(), String> {
    step("building the server (release)");
    let binaries = binaries::build(root, &["--release", "-p", "server"])?;
    let work = root.join("target/bench/abandoned");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let ours = start_ours(binaries.path("server")?, &work, "ours", PORT, &[])?;
    let access = login(&ours.base)?["access"]
        .as_str()
        .ok_or("no access token")?
        .to_owned();

    let alone = median_login_ms(&ours.base, 3)?;
    abandon_password_changes(&ours.base, &access)?;
    let during = median_login_ms(&ours.base, 1)?;

    step(&format!(
        "a log in: {alone:.0} ms alone; {during:.0} ms right after {ABANDONED} abandoned password changes (bcrypt cost 12)"
    ));
    Ok(())
}

/// The median time of `count` log ins, in milliseconds.
fn median_login_ms(base: &str, count: usize) -> Result<f64, String> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        login(base)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Sends password changes with a wrong old password, each on a connection closed at once.
fn abandon_password_changes(base: &str, access: &str) -> Result<(), String> {
    let body: Value =
        json!({"old_password": "a-wrong-guess", "new_password": "a-new-horse-battery"});
    let body = body.to_string();
    let request = format!(
        "POST /api/password/change/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {access}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let addr = base.trim_start_matches("http://");
    for _ in 0..ABANDONED {
        let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        drop(stream);
    }
    Ok(())
}
