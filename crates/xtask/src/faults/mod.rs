//! `cargo xtask faults`: what the stack survives, measured. nginx in front of two release
//! servers on a PostgreSQL of the command's own ([`postgres`]), every load aimed at 127.0.0.1,
//! each scenario bounded and ending by itself, one line of figures each and a summary. Like
//! `cargo xtask bench`, it measures and judges figures; no test in CI depends on it.
//!
//! The throttles are raised by their settings, so the scenarios load the server, not the
//! limiter. `FAULTS_SECONDS` shortens the saturation run (default 60); `FAULTS_ONLY=restart`
//! runs only the scenarios whose name contains "restart" (the names are in [`SCENARIOS`]).
//!
//! `cargo xtask faults --save` also writes the table to the book (`docs/src/survives-figures.md`,
//! which the "What it survives" page includes). `cargo xtask faults --long` runs the long
//! checks instead: the model-based state-machine test
//! (10,000 sequences on SQLite and on this command's PostgreSQL) and the hostile-bytes property
//! tests (1,000,000 cases each).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::bench::stacks::{Side, spawn};
use crate::bench::{Figures, parse_wrk};
use crate::{binaries, step};

mod client;
mod exhaustion;
mod nginx;
mod notification;
mod postgres;
mod replica;
mod restart;
mod saturation;
mod slow;

use client::post;
use nginx::Nginx;
use postgres::OwnPostgres;

const SECRET: &str = "faults-0c3a1e5d9b7f24681357acebdf0246813579bdf02468ace1";
const PASSWORD: &str = "correct-horse-battery";

/// The ports: PostgreSQL, the two replicas, nginx (and its redirect server), a spare server.
const POSTGRES_PORT: u16 = 18_432;
const REPLICA_PORTS: [u16; 2] = [18_101, 18_102];
const NGINX_PORT: u16 = 18_180;
const SPARE_PORT: u16 = 18_103;

/// `AUTH_CACHE_TTL` of the replicas (the default): how stale a replica may be when it has not
/// heard of another's write.
const CACHE_TTL_SECONDS: u64 = 2;

/// Every setting the replicas run with, besides their database and address.
const SETTINGS: &[(&str, &str)] = &[
    ("SECRET_KEY", SECRET),
    ("LOGIN_THROTTLE_FAILURES", "100000"),
    ("PASSWORD_CHANGE_THROTTLE_FAILURES", "100000"),
    ("TRUSTED_PROXIES", "127.0.0.1/32"),
    ("FRONTEND_DIR", "/nonexistent"),
    ("RUST_LOG", "warn"),
];

/// A scenario: it runs on the stack and says what it showed.
type Scenario = fn(&mut Stack) -> Result<Outcome, String>;

/// The scenarios, by the name `FAULTS_ONLY` picks them by (any that contain its value).
const SCENARIOS: &[(&str, Scenario)] = &[
    ("saturation", |stack| {
        let seconds = std::env::var("FAULTS_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        saturation::run(stack, Duration::from_secs(seconds))
    }),
    ("slow", |stack| slow::run(stack)),
    ("hashing", |stack| exhaustion::hashing(stack)),
    ("notification", |stack| notification::run(stack)),
    // The database's turn last: a crash leaves it recovering (and the replicas reconnecting)
    // for a while after, which would count against the scenarios above.
    ("restart", |stack| restart::run(stack)),
    ("pool", |stack| exhaustion::pool(stack)),
    ("read-only", |stack| exhaustion::read_only_sqlite(stack)),
    ("replica", |stack| replica::run(stack, true)),
    ("replica-without-next-upstream", |stack| {
        replica::run(stack, false)
    }),
];

/// What one scenario showed: its figures, and whether each held.
struct Outcome {
    name: &'static str,
    passed: bool,
    figures: String,
}

impl Outcome {
    fn new(name: &'static str, passed: bool, figures: String) -> Self {
        let mark = if passed { "ok  " } else { "FAIL" };
        println!("{mark} {name}: {figures}");
        Self {
            name,
            passed,
            figures,
        }
    }
}

/// Runs `cargo xtask faults [--long]`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let long = args.iter().any(|arg| arg == "--long");
    let save = args.iter().any(|arg| arg == "--save");
    if let Some(other) = args.iter().find(|arg| *arg != "--long" && *arg != "--save") {
        return Err(format!(
            "unknown argument {other:?} (faults takes --save or --long)"
        ));
    }
    let work = std::env::temp_dir().join(format!("faults-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let outcome = if long {
        run_long(root, &work)
    } else {
        run_scenarios(root, &work, save)
    };
    let _ = std::fs::remove_dir_all(&work);
    outcome
}

fn run_scenarios(root: &Path, work: &Path, save: bool) -> Result<(), String> {
    let started = Instant::now();
    step("building the server (release)");
    let binaries = binaries::build(root, &["-p", "server", "--release"])?;
    let server = binaries.path("server")?.to_path_buf();
    step("starting PostgreSQL (initdb, pg_ctl) in a temporary folder");
    let postgres = OwnPostgres::start(&work.join("postgres"), POSTGRES_PORT)?;
    let mut stack = Stack::start(root, work, &server, postgres)?;
    step("running the scenarios");
    let only = std::env::var("FAULTS_ONLY").unwrap_or_default();
    if save && !only.is_empty() {
        return Err("--save keeps the table of every scenario: unset FAULTS_ONLY".into());
    }
    let mut outcomes = Vec::new();
    for (name, scenario) in SCENARIOS {
        if name.contains(only.as_str()) {
            outcomes.push(scenario(&mut stack)?);
        }
    }
    let failed = outcomes.iter().filter(|outcome| !outcome.passed).count();
    let mut table = format!(
        "Measured on {}, {}, {} cores, in {:.0} s (`cargo xtask faults --save`): {} of {} \
         scenarios held.\n\n| scenario | held | figures |\n|---|---|---|\n",
        crate::bench::report::machine(),
        crate::bench::report::today(),
        std::thread::available_parallelism().map_or(1, usize::from),
        started.elapsed().as_secs_f64(),
        outcomes.len() - failed,
        outcomes.len(),
    );
    for outcome in &outcomes {
        let held = if outcome.passed { "yes" } else { "**no**" };
        table.push_str(&format!(
            "| {} | {held} | {} |\n",
            outcome.name, outcome.figures
        ));
    }
    println!("\n{table}");
    if save {
        let page = root.join("docs/src/survives-figures.md");
        std::fs::write(&page, &table).map_err(|e| format!("writing {}: {e}", page.display()))?;
        step(&format!("saved to {}", page.display()));
    }
    if failed > 0 {
        return Err(format!("{failed} scenario(s) did not hold"));
    }
    Ok(())
}

/// nginx and the two replicas on this command's PostgreSQL. Fields drop in order: nginx and
/// the replicas stop before the database.
struct Stack {
    root: PathBuf,
    work: PathBuf,
    server: PathBuf,
    nginx: Nginx,
    replicas: Vec<Side>,
    database: OwnPostgres,
}

impl Stack {
    fn start(
        root: &Path,
        work: &Path,
        server: &Path,
        postgres: OwnPostgres,
    ) -> Result<Self, String> {
        let mut replicas = Vec::new();
        for (index, port) in REPLICA_PORTS.into_iter().enumerate() {
            step(&format!("starting replica {} on port {port}", index + 1));
            replicas.push(start_server(
                server,
                &work.join(format!("replica{}", index + 1)),
                port,
                &postgres.url(),
                &[],
            )?);
        }
        let upstreams: Vec<String> = REPLICA_PORTS
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let nginx = Nginx::start(root, &work.join("nginx"), NGINX_PORT, &upstreams, true)?;
        Ok(Self {
            root: root.to_owned(),
            work: work.to_owned(),
            server: server.to_owned(),
            nginx,
            replicas,
            database: postgres,
        })
    }

    /// Starts replica `index` again (after a scenario killed it).
    fn restart_replica(&mut self, index: usize) -> Result<(), String> {
        let port = REPLICA_PORTS[index];
        let dir = self.work.join(format!("replica{}", index + 1));
        self.replicas[index] = start_server(&self.server, &dir, port, &self.database.url(), &[])?;
        Ok(())
    }

    /// nginx again, with `proxy_next_upstream` as the project has it or off.
    fn restart_nginx(&mut self, next_upstream: bool) -> Result<(), String> {
        let upstreams: Vec<String> = REPLICA_PORTS
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let dir = self
            .work
            .join(if next_upstream { "nginx" } else { "nginx-off" });
        // On ports of its own: the old nginx lets go of its ports only once it is replaced.
        self.nginx = Nginx::start(&self.root, &dir, NGINX_PORT + 2, &upstreams, next_upstream)?;
        Ok(())
    }

    /// The base URL of replica `index`.
    fn replica(&self, index: usize) -> &str {
        &self.replicas[index].base
    }

    /// A server of its own on `database_url` (an SQLite file, say), with `settings` on top.
    fn spare_server(
        &self,
        name: &str,
        database_url: &str,
        settings: &[(&str, &str)],
    ) -> Result<Side, String> {
        start_server(
            &self.server,
            &self.work.join(name),
            SPARE_PORT,
            database_url,
            settings,
        )
    }

    /// The folder a scenario may keep files in.
    fn folder(&self, name: &str) -> PathBuf {
        let dir = self.work.join(name);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }

    /// Runs the server's command line (`server <args>`) on the stack's database.
    fn server_command(&self, args: &[&str]) -> Result<(), String> {
        let output = Command::new(&self.server)
            .args(args)
            .env("DATABASE_URL", self.database.url())
            .env("SECRET_KEY", SECRET)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "server {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

/// Starts `server serve` in `dir` on `port`, its log in `dir/server.log`.
fn start_server(
    server: &Path,
    dir: &Path,
    port: u16,
    database_url: &str,
    settings: &[(&str, &str)],
) -> Result<Side, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let mut command = Command::new(server);
    command
        .arg("serve")
        .current_dir(dir)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url)
        .envs(SETTINGS.iter().copied())
        .envs(settings.iter().copied())
        .stderr(Stdio::from(log));
    spawn(command, port, "/ping/")
}

/// Registers `username` (201, or 400 when it exists) and logs in: the pair's tokens.
fn user_with_tokens(base: &str, username: &str) -> Result<(String, String), String> {
    let credentials = json!({"username": username, "password": PASSWORD});
    let registered = post(base, "/api/register/", &credentials);
    if registered.status != 201 && registered.status != 400 {
        return Err(format!(
            "registering {username}: {} {}",
            registered.status, registered.body
        ));
    }
    let pair = post(base, "/api/token/", &credentials);
    match (pair.field("access"), pair.field("refresh")) {
        (Some(access), Some(refresh)) => Ok((access, refresh)),
        _ => Err(format!(
            "logging in {username}: {} {}",
            pair.status, pair.body
        )),
    }
}

/// The long checks: the model against 10,000 sequences on both databases, and a million
/// hostile inputs per property.
fn run_long(root: &Path, work: &Path) -> Result<(), String> {
    step("starting PostgreSQL (initdb, pg_ctl) in a temporary folder");
    // A port of its own, so that the scenarios can run beside the long checks.
    let postgres = OwnPostgres::start(&work.join("postgres"), POSTGRES_PORT + 1)?;
    let started = Instant::now();
    step("the state machine against its model: 10,000 sequences on SQLite and on PostgreSQL");
    cargo_test(
        root,
        &["-p", "server", "--test", "api", "model::"],
        &[
            ("MODEL_SEQUENCES", "10000"),
            ("TEST_DATABASE_URL", &postgres.admin_url()),
            ("E2E_REQUIRE", "1"),
        ],
    )?;
    step("hostile bytes: 1,000,000 cases per property");
    for (package, target) in [
        ("claims", "--test=hostile_bytes"),
        ("apikit", "--test=hostile_bytes"),
        ("server", "--lib"),
    ] {
        let filter = if package == "server" {
            "auth::check::tests::"
        } else {
            ""
        };
        cargo_test(
            root,
            &["--release", "-p", package, target, filter],
            &[("PROPTEST_CASES", "1000000")],
        )?;
    }
    println!(
        "\nthe long checks passed in {:.0} s: 10,000 model sequences per database, 1,000,000 \
         cases per hostile-bytes property",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `cargo test <args> -- --nocapture` with `envs`, its output on the terminal.
fn cargo_test(root: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let args: Vec<&str> = args.iter().copied().filter(|arg| !arg.is_empty()).collect();
    crate::run(
        Command::new(cargo)
            .arg("test")
            .args(&args)
            .args(["--", "--nocapture"])
            .envs(envs.iter().copied())
            .current_dir(root),
    )
}

/// `GET url` with `access` by wrk (16 connections) for `duration`: its figures.
fn wrk_hello(url: &str, access: &str, duration: Duration) -> Result<Figures, String> {
    let output = Command::new("wrk")
        .args([
            "--threads=1",
            "--connections=16",
            "--latency",
            "--timeout=10s",
        ])
        .arg(format!("--duration={}s", duration.as_secs()))
        .args(["-H", &format!("Authorization: Bearer {access}")])
        .arg(url)
        .output()
        .map_err(|e| format!("running wrk (apt install wrk): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))
}
