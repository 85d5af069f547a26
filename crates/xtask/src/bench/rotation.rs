//! `cargo xtask bench rotation`: a key rotation under load. The auth server (release build,
//! ES256 keys in a directory) and the notes service run side by side; wrk reads the notes API
//! with a token of the first key while `server keys generate` makes a second key current; as
//! soon as the auth server signs with it, a second wrk joins with a token of the new key, whose
//! first requests make the notes service fetch the key set again. Both runs must see zero
//! failed requests.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::client::{http_get, login};
use super::stacks::{Side, spawn, start_ours};
use super::wrk::measure;
use super::{Figures, env_number, which};
use crate::{binaries, run, step};

const AUTH_PORT: u16 = 18090;
const NOTES_PORT: u16 = 18091;

/// Runs it and prints the figures.
pub fn run_rotation(root: &Path) -> Result<(), String> {
    which("wrk").ok_or("wrk not found: install it (Debian/Ubuntu: sudo apt install wrk)")?;
    let seconds = env_number("BENCH_SECONDS", 10).max(3);
    let connections = env_number("BENCH_CONNECTIONS", 32);
    step("building the server and the notes service (release)");
    let binaries = binaries::build(root, &["--release", "-p", "server", "-p", "notes"])?;
    let server = binaries.path("server")?;
    let work = root.join("target/bench/rotation");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let keys = work.join("keys");
    let keys_setting = keys.display().to_string();

    step("starting the auth server (ES256, JWT_KEYS_DIR) and the notes service");
    let auth = start_ours(
        server,
        &work,
        "auth",
        AUTH_PORT,
        &[("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_DIR", &keys_setting)],
    )?;
    let mut notes = Command::new(binaries.path("notes")?);
    notes
        .current_dir(&work)
        .env("NOTES_BIND_ADDR", format!("127.0.0.1:{NOTES_PORT}"))
        .env("NOTES_DATABASE_URL", work.join("notes.sqlite3"))
        .env(
            "AUTH_JWKS_URL",
            format!("{}/.well-known/jwks.json", auth.base),
        )
        .env("RUST_LOG", "warn");
    let notes = spawn(notes, NOTES_PORT, "/notes/healthz")?;
    let old_token = access(&login(&auth.base)?)?;
    let old_kid = kid(&old_token)?;

    let script = work.join("notes.lua");
    fs::write(
        &script,
        "wrk.method = \"GET\"\nwrk.path = \"/notes/api/notes/\"\n",
    )
    .map_err(|e| e.to_string())?;
    let bearer = |token: &str| vec!["-H".to_owned(), format!("Authorization: Bearer {token}")];
    let total = Duration::from_secs(seconds * 2);
    step(&format!(
        "wrk on GET /notes/api/notes/ with a token of key {old_kid} for {} s, {connections} connections",
        total.as_secs()
    ));
    let old_args = bearer(&old_token);
    let (old_run, rotated) = std::thread::scope(|scope| {
        let old_run = scope.spawn(|| measure(None, &notes, &script, &old_args, total, connections));
        std::thread::sleep(Duration::from_secs(seconds / 2));
        let rotated = rotate_under_load(
            server,
            &auth,
            &notes,
            &keys_setting,
            &old_kid,
            &script,
            seconds,
            connections,
            &bearer,
        );
        (
            old_run
                .join()
                .map_err(|_| "the wrk thread panicked".to_owned()),
            rotated,
        )
    });
    let old_run = old_run??;
    let (new_kid, signing_after, new_run) = rotated?;

    println!();
    println!("| run | key | requests/s | p99 | failed requests |");
    println!("|---|---|---:|---:|---:|");
    print_row("old token, across the rotation", &old_kid, &old_run);
    print_row("new token, from the first one minted", &new_kid, &new_run);
    println!();
    println!(
        "`keys generate` to the auth server signing with the new key: {:.1} s (it reads the directory every 5 s)",
        signing_after.as_secs_f64()
    );
    let failed = old_run.errors + new_run.errors;
    if failed > 0 {
        return Err(format!("{failed} requests failed during the rotation"));
    }
    step("zero failed requests during the rotation");
    Ok(())
}

/// Makes a new key current, waits until the auth server signs with it, then loads the notes
/// service with a token of the new key; returns the new kid, how long the auth server took to
/// sign with it, and the second run's figures.
#[allow(clippy::too_many_arguments)]
fn rotate_under_load(
    server: &Path,
    auth: &Side,
    notes: &Side,
    keys: &str,
    old_kid: &str,
    script: &Path,
    seconds: u64,
    connections: u64,
    bearer: &dyn Fn(&str) -> Vec<String>,
) -> Result<(String, Duration, Figures), String> {
    step("server keys generate (while wrk runs)");
    let started = Instant::now();
    run(Command::new(server).args(["keys", "generate", "--algorithm", "ES256", "--dir", keys]))?;
    // The set lists the new key once the server has read the directory again, which is when
    // it starts signing with it (polled there: a log in costs a bcrypt).
    let deadline = started + Duration::from_secs(15);
    while published_keys(auth)? < 2 {
        if Instant::now() > deadline {
            return Err("the auth server did not take the new key within 15 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let signing_after = started.elapsed();
    let new_token = access(&login(&auth.base)?)?;
    if kid(&new_token)? == old_kid {
        return Err("the auth server publishes the new key but does not sign with it".into());
    }
    let new_kid = kid(&new_token)?;
    step(&format!(
        "a second wrk with a token of the new key {new_kid}"
    ));
    let figures = measure(
        None,
        notes,
        script,
        &bearer(&new_token),
        Duration::from_secs(seconds / 2),
        connections,
    )?;
    Ok((new_kid, signing_after, figures))
}

/// How many keys the auth server publishes.
fn published_keys(auth: &Side) -> Result<usize, String> {
    let (_, body) = http_get(&auth.base, "/.well-known/jwks.json")?;
    let set: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    Ok(set["keys"].as_array().map_or(0, Vec::len))
}

fn print_row(name: &str, kid: &str, figures: &Figures) {
    println!(
        "| {name} | `{}…` | {:.0} | {:.2} ms | {} |",
        &kid[..8.min(kid.len())],
        figures.requests_per_second,
        figures.p99_ms,
        figures.errors
    );
}

fn access(pair: &Value) -> Result<String, String> {
    pair["access"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no access token in {pair}"))
}

/// The `kid` of a token's header.
fn kid(token: &str) -> Result<String, String> {
    jsonwebtoken::decode_header(token)
        .map_err(|e| e.to_string())?
        .kid
        .ok_or_else(|| "a token without a kid".to_owned())
}
