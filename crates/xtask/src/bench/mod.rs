//! `cargo xtask bench`: this server and the tutorial's Django + simplejwt + gunicorn stack,
//! side by side on loopback, driven by wrk, alternating the two so machine noise hits both.
//! Prints one table; with `--save`, writes it to the book's benchmarks page with a chart.
//!
//! Tune with `BENCH_SECONDS` (per run, default 5), `BENCH_ROUNDS` (default 2),
//! `BENCH_RATIO_ROUNDS` (rounds of the `/hello/` ÷ `/ping/` studies, default 5, see [`ratio`])
//! and `BENCH_CONNECTIONS` (default 32); `BENCH_ONLY=hello` runs only the scenarios whose name
//! contains "hello"; `BENCH_SERVER=path` measures another build of the server (an older
//! commit's, for a before and after). With `BENCH_DATABASE_URL=postgres://...` (a database of its own: the
//! server creates its tables there), this server also runs on PostgreSQL.
//!
//! `cargo xtask bench rotation` is another benchmark: a key rotation under load
//! ([`rotation`]); `cargo xtask bench abandoned` times a log in during abandoned password
//! changes ([`abandoned`]); `cargo xtask bench profile` shows where `/hello/`'s time goes
//! that `/ping/`'s does not ([`profile`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::{binaries, step};

mod abandoned;
pub(crate) mod client;
mod profile;
mod ratio;
pub(crate) mod report;
mod rotation;
pub(crate) mod rss;
pub(crate) mod stacks;
mod wrk;

use client::{login, raw_bcrypt_rate, user_id};
use ratio::{Paths, Placement, RatioStudy};
use report::Report;
use stacks::{Side, peer_virtualenv, start_ours, start_ours_on, start_peer};
use wrk::{Scripts, hello_during_flood, mean, measure};

const USERNAME: &str = "bench";
const PASSWORD: &str = "correct-horse-battery";
const SECRET: &str = "bench-6e39bcb73a3122ffc3512de80a42f9eae9144d50d0ceef6b";
const BCRYPT_COST: u32 = 12;

/// What one wrk run measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct Figures {
    pub(crate) requests_per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Failed requests: non-2xx/3xx answers and socket errors.
    pub(crate) errors: u64,
    pub(crate) peak_rss_mib: f64,
}

pub(crate) use wrk::parse_wrk;

/// One row of the table: a scenario on both sides.
struct Row {
    name: String,
    ours: Figures,
    peer: Figures,
}

/// Runs the benchmark.
pub fn run_all(root: &Path, args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("rotation") => return rotation::run_rotation(root),
        Some("abandoned") => return abandoned::run_abandoned(root),
        Some("profile") => return profile::run_profile(root, args.iter().any(|a| a == "--save")),
        _ => {}
    }
    let save = args.iter().any(|a| a == "--save");
    let seconds = env_number("BENCH_SECONDS", 5);
    let rounds = env_number("BENCH_ROUNDS", 2);
    let ratio_rounds = env_number("BENCH_RATIO_ROUNDS", 5);
    let connections = env_number("BENCH_CONNECTIONS", 32);
    let only = std::env::var("BENCH_ONLY").ok();
    which("wrk").ok_or("wrk not found: install it (Debian/Ubuntu: sudo apt install wrk)")?;
    which("python3").ok_or("python3 not found: the Django peer needs it")?;

    let server = &server_binary(root)?;
    let venv = peer_virtualenv(root)?;

    let work = root.join("target/bench/run");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let peer_workers = 2 * cores + 1;
    let pinned = Placement::pinned(cores, which("taskset").is_some());

    step("starting both stacks");
    let ours = start_ours(server, &work, "ours", 18080, &[])?;
    let ours_plain = start_ours(
        server,
        &work,
        "ours-simplejwt-defaults",
        18081,
        &[
            ("JWT_ROTATE_REFRESH_TOKENS", "false"),
            ("JWT_BLACKLIST_AFTER_ROTATION", "false"),
        ],
    )?;
    let peer = start_peer(root, &venv, &work, "peer", 18180, peer_workers, None)?;
    let ours_pinned = match pinned {
        Some(placement) => Some(start_ours_on(
            placement.server_core(),
            server,
            &work,
            "ours-pinned",
            18083,
            &[],
        )?),
        None => None,
    };
    let peer_bcrypt = start_peer(
        root,
        &venv,
        &work,
        "peer-bcrypt",
        18181,
        peer_workers,
        Some("bcrypt"),
    )?;

    let ours_pair = login(&ours.base)?;
    let ours_plain_pair = login(&ours_plain.base)?;
    let peer_pair = login(&peer.base)?;
    let access = |pair: &Value| pair["access"].as_str().unwrap_or_default().to_owned();
    let refresh = |pair: &Value| pair["refresh"].as_str().unwrap_or_default().to_owned();

    let scripts = Scripts::write(&work, connections)?;
    let run_time = Duration::from_secs(seconds);
    let wrk = |side: &Side, script: &Path, extra: &[String]| {
        measure(None, side, script, extra, run_time, connections)
    };
    // bcrypt takes a quarter second a core: a few connections per core keep it saturated.
    let login_connections = 2 * cores as u64;
    let wrk_login =
        |side: &Side| measure(None, side, &scripts.login, &[], run_time, login_connections);
    let bearer = |token: String| vec!["-H".to_owned(), format!("Authorization: Bearer {token}")];

    let mut rows = Vec::new();
    let mut compare = |name: &str,
                       a: &dyn Fn() -> Result<Figures, String>,
                       b: &dyn Fn() -> Result<Figures, String>|
     -> Result<(), String> {
        if only.as_deref().is_some_and(|only| !name.contains(only)) {
            return Ok(());
        }
        step(&format!(
            "{name} ({rounds} rounds of {seconds} s each side)"
        ));
        let mut ours_runs = Vec::new();
        let mut peer_runs = Vec::new();
        for round in 0..rounds {
            // Alternate who goes first, so drift in the machine's state hits both.
            if round % 2 == 0 {
                ours_runs.push(a()?);
                peer_runs.push(b()?);
            } else {
                peer_runs.push(b()?);
                ours_runs.push(a()?);
            }
        }
        rows.push(Row {
            name: name.to_owned(),
            ours: mean(&ours_runs),
            peer: mean(&peer_runs),
        });
        Ok(())
    };

    compare(
        "GET /hello/ with a token",
        &|| wrk(&ours, &scripts.hello, &bearer(access(&ours_pair))),
        &|| wrk(&peer, &scripts.hello, &bearer(access(&peer_pair))),
    )?;
    compare(
        "GET /ping/ (no token)",
        &|| wrk(&ours, &scripts.ping, &[]),
        &|| wrk(&peer, &scripts.ping, &[]),
    )?;

    let mut ratios = Vec::new();
    let ratio_name = "/hello/ ÷ /ping/";
    if only.as_deref().is_none_or(|only| ratio_name.contains(only)) {
        let sides = [
            ("this server", ours_pinned.as_ref(), pinned),
            ("this server", Some(&ours), Some(Placement::Shared)),
            ("Django peer", Some(&peer), Some(Placement::Shared)),
        ];
        for (name, side, placement) in sides {
            let (Some(side), Some(placement)) = (side, placement) else {
                continue;
            };
            step(&format!(
                "{ratio_name}: {name}, {ratio_rounds} rounds of {seconds} s each path"
            ));
            // A token of its own, minted now: the pair from the start may be near its expiry.
            let bearer = bearer(access(&login(&side.base)?));
            let paths = Paths {
                ping: &scripts.ping,
                hello: &scripts.hello,
                bearer: &bearer,
            };
            ratios.push(RatioStudy::measure(
                name,
                side,
                placement,
                &paths,
                ratio_rounds,
                run_time,
                connections,
            )?);
        }
    }

    let peer_refresh = scripts.refresh("refresh-peer.lua", &refresh(&peer_pair))?;
    let plain_refresh = scripts.refresh("refresh-ours-plain.lua", &refresh(&ours_plain_pair))?;
    let runs = AtomicU64::new(0);
    let tokens_per_run = 40_000 * seconds as usize;
    let rotating = |side: &Side, user_id: i64| {
        let run = runs.fetch_add(1, Ordering::Relaxed);
        wrk(
            side,
            scripts.fresh_tokens(run, tokens_per_run, user_id)?,
            &[],
        )
    };
    compare(
        "POST /api/token/refresh/ (ours rotating + blacklisting; peer: simplejwt defaults)",
        &|| rotating(&ours, 1),
        &|| wrk(&peer, &peer_refresh, &[]),
    )?;
    compare(
        "POST /api/token/refresh/ (both: simplejwt defaults, same work)",
        &|| wrk(&ours_plain, &plain_refresh, &[]),
        &|| wrk(&peer, &peer_refresh, &[]),
    )?;
    compare(
        "POST /api/token/ (each side's default hasher: bcrypt 12 vs PBKDF2)",
        &|| wrk_login(&ours),
        &|| wrk_login(&peer),
    )?;
    compare(
        "POST /api/token/ (both bcrypt, cost 12)",
        &|| wrk_login(&ours),
        &|| wrk_login(&peer_bcrypt),
    )?;
    // Tokens of their own, minted now: the pairs from the start may have expired by here.
    let ours_flood_pair = login(&ours.base)?;
    let peer_bcrypt_pair = login(&peer_bcrypt.base)?;
    compare(
        "GET /hello/ during a login flood (p99 is the figure)",
        &|| hello_during_flood(&ours, &scripts, &bearer(access(&ours_flood_pair)), run_time),
        &|| {
            hello_during_flood(
                &peer_bcrypt,
                &scripts,
                &bearer(access(&peer_bcrypt_pair)),
                run_time,
            )
        },
    )?;

    if let Some(url) = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
    {
        let ours_pg = start_ours(
            server,
            &work,
            "ours-postgres",
            18082,
            &[("DATABASE_URL", &url)],
        )?;
        let pg_pair = login(&ours_pg.base)?;
        let pg_user = user_id(&ours_pg.base, &access(&pg_pair))?;
        compare(
            "PostgreSQL: GET /hello/ with a token",
            &|| wrk(&ours_pg, &scripts.hello, &bearer(access(&pg_pair))),
            &|| wrk(&peer, &scripts.hello, &bearer(access(&peer_pair))),
        )?;
        compare(
            "PostgreSQL: POST /api/token/refresh/ (ours rotating + blacklisting; peer: simplejwt defaults)",
            &|| rotating(&ours_pg, pg_user),
            &|| wrk(&peer, &peer_refresh, &[]),
        )?;
    }

    step("raw bcrypt verify rate at cost 12 on every core");
    let raw_bcrypt = raw_bcrypt_rate(cores, Duration::from_secs(3));

    let report = Report {
        rows,
        ratios,
        pinning: pinned.is_some(),
        raw_bcrypt,
        cores,
        peer_workers,
        seconds,
        rounds,
        connections,
    };
    let table = report.markdown();
    println!("\n{table}");
    if save {
        report.save(root)?;
        step("saved docs/src/benchmarks.md and docs/src/images/benchmarks.svg");
    }
    Ok(())
}

/// The server to measure: `BENCH_SERVER`, or this checkout's, built in release mode.
fn server_binary(root: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("BENCH_SERVER") {
        return Ok(PathBuf::from(path));
    }
    step("building this server (release)");
    Ok(binaries::build(root, &["--release", "-p", "server"])?
        .path("server")?
        .to_owned())
}

fn which(tool: &str) -> Option<PathBuf> {
    crate::find_tool("", tool)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
