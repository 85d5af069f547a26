//! `cargo xtask bench`: this server and the tutorial's Django + simplejwt + gunicorn stack,
//! side by side on loopback, driven by wrk, alternating the two so machine noise hits both.
//! Prints one table; with `--save`, writes it to the book's benchmarks page with a chart.
//!
//! Tune with `BENCH_SECONDS` (per run, default 5), `BENCH_ROUNDS` (default 2) and
//! `BENCH_CONNECTIONS` (default 32); `BENCH_ONLY=hello` runs only the scenarios whose name
//! contains "hello". With `BENCH_DATABASE_URL=postgres://...` (a database of its own: the
//! server creates its tables there), this server also runs on PostgreSQL.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{cargo, run, step};

const USERNAME: &str = "bench";
const PASSWORD: &str = "correct-horse-battery";
const SECRET: &str = "benchmark-signing-key-0123456789abcdef0123";
const BCRYPT_COST: u32 = 12;

/// What one wrk run measured.
#[derive(Debug, Clone, Default)]
struct Figures {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    peak_rss_mib: f64,
}

/// One row of the table: a scenario on both sides.
struct Row {
    name: String,
    ours: Figures,
    peer: Figures,
}

/// A server under test: its base URL and its process (group) for RSS.
struct Side {
    base: String,
    child: Child,
}

impl Drop for Side {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group we created for this child.
        unsafe {
            libc_kill(-(self.child.id() as i32), 9);
        }
        let _ = self.child.wait();
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

/// Runs the benchmark.
pub fn run_all(root: &Path, args: &[String]) -> Result<(), String> {
    let save = args.iter().any(|a| a == "--save");
    let seconds = env_number("BENCH_SECONDS", 5);
    let rounds = env_number("BENCH_ROUNDS", 2);
    let connections = env_number("BENCH_CONNECTIONS", 32);
    let only = std::env::var("BENCH_ONLY").ok();
    which("wrk").ok_or("wrk not found: install it (Debian/Ubuntu: sudo apt install wrk)")?;
    which("python3").ok_or("python3 not found: the Django peer needs it")?;

    step("building this server (release)");
    cargo(&["build", "--release", "-p", "server"])?;
    let venv = peer_virtualenv(root)?;

    let work = root.join("target/bench/run");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let peer_workers = 2 * cores + 1;

    step("starting both stacks");
    let ours = start_ours(root, &work, "ours", 18080, &[])?;
    let ours_plain = start_ours(
        root,
        &work,
        "ours-simplejwt-defaults",
        18081,
        &[
            ("JWT_ROTATE_REFRESH_TOKENS", "false"),
            ("JWT_BLACKLIST_AFTER_ROTATION", "false"),
        ],
    )?;
    let peer = start_peer(root, &venv, &work, "peer", 18180, peer_workers, None)?;
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
        measure(side, script, extra, run_time, connections)
    };
    // bcrypt takes a quarter second a core: a few connections per core keep it saturated.
    let login_connections = 2 * cores as u64;
    let wrk_login = |side: &Side| measure(side, &scripts.login, &[], run_time, login_connections);
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
    let peer_bcrypt_pair = login(&peer_bcrypt.base)?;
    compare(
        "GET /hello/ during a login flood (p99 is the figure)",
        &|| hello_during_flood(&ours, &scripts, &bearer(access(&ours_pair)), run_time),
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
            root,
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

fn start_ours(
    root: &Path,
    work: &Path,
    name: &str,
    port: u16,
    settings: &[(&str, &str)],
) -> Result<Side, String> {
    let dir = work.join(name);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut command = Command::new(root.join("target/release/server"));
    command
        .arg("serve")
        .current_dir(&dir)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", dir.join("db.sqlite3"))
        .env("SECRET_KEY", SECRET)
        .env("BCRYPT_COST", BCRYPT_COST.to_string())
        .env("FRONTEND_DIR", "/nonexistent")
        .env("RUST_LOG", "warn")
        .envs(settings.iter().copied());
    let side = spawn(command, port)?;
    let created = http_post_json(
        &side.base,
        "/api/register/",
        &json!({"username": USERNAME, "password": PASSWORD}),
    )?;
    // 400: the user exists already (a PostgreSQL database kept from an earlier run).
    if created.0 != 201 && created.0 != 400 {
        return Err(format!("registering on {name}: {}", created.0));
    }
    Ok(side)
}

fn start_peer(
    root: &Path,
    venv: &Path,
    work: &Path,
    name: &str,
    port: u16,
    workers: usize,
    hasher: Option<&str>,
) -> Result<Side, String> {
    let dir = work.join(name);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let project = root.join("bench/django-peer");
    let python = venv.join("bin/python");
    let envs = |command: &mut Command| {
        command
            .current_dir(&project)
            .env("PEER_DATABASE", dir.join("db.sqlite3"))
            .env("PEER_PASSWORD_HASHER", hasher.unwrap_or("default"));
    };
    let mut migrate = Command::new(&python);
    migrate.args(["manage.py", "migrate", "-v0"]);
    envs(&mut migrate);
    run(&mut migrate)?;
    let mut create = Command::new(&python);
    create
        .args([
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            USERNAME,
            "--email",
            "bench@example.com",
        ])
        .env("DJANGO_SUPERUSER_PASSWORD", PASSWORD);
    envs(&mut create);
    run(create.stdout(Stdio::null()))?;
    let mut gunicorn = Command::new(venv.join("bin/gunicorn"));
    gunicorn
        .args([
            "--workers",
            &workers.to_string(),
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--log-level", "warning", "peer.wsgi:application"]);
    envs(&mut gunicorn);
    spawn(gunicorn, port)
}

fn spawn(mut command: Command, port: u16) -> Result<Side, String> {
    use std::os::unix::process::CommandExt;
    let child = command
        .process_group(0)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {command:?}: {e}"))?;
    let side = Side {
        base: format!("http://127.0.0.1:{port}"),
        child,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(&side.base, "/ping/").map(|(status, _)| status) != Ok(200) {
        if Instant::now() > deadline {
            return Err(format!("{} did not come up", side.base));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(side)
}

/// The peer's virtualenv, created (and the pinned requirements installed) when missing.
fn peer_virtualenv(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target/bench/venv");
    let requirements = root.join("bench/django-peer/requirements.txt");
    let stamp = venv.join("requirements.installed");
    let wanted = fs::read_to_string(&requirements).map_err(|e| e.to_string())?;
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(venv);
    }
    step("installing the Django peer into target/bench/venv (pip, pinned requirements)");
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(venv)
}

/// The wrk Lua scripts, each written once.
struct Scripts {
    dir: PathBuf,
    hello: PathBuf,
    ping: PathBuf,
    login: PathBuf,
    /// Each request takes the next unused refresh token from `tokens` (with rotation, a token
    /// works once); the file is refilled before every run.
    rotating_refresh: PathBuf,
    tokens: PathBuf,
}

impl Scripts {
    fn write(dir: &Path, connections: u64) -> Result<Self, String> {
        let write = |name: &str, script: String| -> Result<PathBuf, String> {
            let file = dir.join(name);
            fs::write(&file, script).map_err(|e| e.to_string())?;
            Ok(file)
        };
        let credentials = json!({"username": USERNAME, "password": PASSWORD}).to_string();
        let tokens = dir.join("refresh-tokens.txt");
        let rotating = format!(
            r#"local made = 0
function setup(thread)
  thread:set("offset", made)
  made = made + 1
end
local tokens = {{}}
local sent = 0
function init(args)
  for line in io.lines("{tokens}") do tokens[#tokens + 1] = line end
end
function request()
  local index = (offset + sent * {threads}) % #tokens + 1
  sent = sent + 1
  return wrk.format("POST", "/api/token/refresh/", {{["Content-Type"] = "application/json"}},
    '{{"refresh":"' .. tokens[index] .. '"}}')
end
"#,
            tokens = tokens.display(),
            threads = threads(connections),
        );
        Ok(Self {
            dir: dir.to_owned(),
            hello: write("hello.lua", "wrk.path = \"/hello/\"\n".to_owned())?,
            ping: write("ping.lua", "wrk.path = \"/ping/\"\n".to_owned())?,
            login: write("login.lua", post_script("/api/token/", &credentials))?,
            rotating_refresh: write("rotating-refresh.lua", rotating)?,
            tokens,
        })
    }

    /// A script that refreshes with one (reusable) `token`, written as `name`.
    fn refresh(&self, name: &str, token: &str) -> Result<PathBuf, String> {
        let file = self.dir.join(name);
        let body = json!({"refresh": token}).to_string();
        fs::write(&file, post_script("/api/token/refresh/", &body)).map_err(|e| e.to_string())?;
        Ok(file)
    }

    /// Refills the token file with `count` refresh tokens for `user_id` never used before.
    fn fresh_tokens(&self, run: u64, count: usize, user_id: i64) -> Result<&Path, String> {
        mint_refresh_tokens(&self.tokens, run, count, user_id)?;
        Ok(&self.rotating_refresh)
    }
}

fn post_script(path: &str, body: &str) -> String {
    format!(
        "wrk.method = \"POST\"\nwrk.path = \"{path}\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
    )
}

fn threads(connections: u64) -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    cores.min(connections).max(1)
}

/// Runs wrk against `side` while sampling its memory.
fn measure(
    side: &Side,
    script: &Path,
    extra: &[String],
    duration: Duration,
    connections: u64,
) -> Result<Figures, String> {
    let sampler = RssSampler::start(side.child.id());
    let output = Command::new("wrk")
        .arg(format!("--threads={}", threads(connections)))
        .arg(format!("--connections={connections}"))
        .arg(format!("--duration={}s", duration.as_secs()))
        .arg("--latency")
        .arg("--timeout=10s")
        .arg("--script")
        .arg(script)
        .args(extra)
        .arg(&side.base)
        .output()
        .map_err(|e| format!("running wrk: {e}"))?;
    let peak = sampler.stop();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut figures =
        parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))?;
    figures.peak_rss_mib = peak;
    Ok(figures)
}

/// `/hello/` measured while another wrk floods the login endpoint.
fn hello_during_flood(
    side: &Side,
    scripts: &Scripts,
    extra: &[String],
    duration: Duration,
) -> Result<Figures, String> {
    let flood = Command::new("wrk")
        .args(["--threads=1", "--connections=8", "--timeout=10s"])
        .arg(format!("--duration={}s", duration.as_secs() + 2))
        .arg("--script")
        .arg(&scripts.login)
        .arg(&side.base)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("running wrk: {e}"))?;
    std::thread::sleep(Duration::from_secs(1));
    let figures = measure(side, &scripts.hello, extra, duration, 4);
    let mut flood = flood;
    let _ = flood.wait();
    figures
}

fn parse_wrk(text: &str) -> Option<Figures> {
    let mut figures = Figures::default();
    for line in text.lines().map(str::trim) {
        if let Some(rate) = line.strip_prefix("Requests/sec:") {
            figures.requests_per_second = rate.trim().parse().ok()?;
        } else if let Some(value) = line.strip_prefix("50%") {
            figures.p50_ms = duration_ms(value.trim())?;
        } else if let Some(value) = line.strip_prefix("99%") {
            figures.p99_ms = duration_ms(value.trim())?;
        } else if let Some(count) = line.strip_prefix("Non-2xx or 3xx responses:") {
            figures.errors += count.trim().parse::<u64>().ok()?;
        } else if let Some(errors) = line.strip_prefix("Socket errors:") {
            figures.errors += errors
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    (figures.requests_per_second > 0.0).then_some(figures)
}

/// wrk prints `812.00us`, `1.23ms` or `2.01s`.
fn duration_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn mean(runs: &[Figures]) -> Figures {
    let n = runs.len().max(1) as f64;
    Figures {
        requests_per_second: runs.iter().map(|f| f.requests_per_second).sum::<f64>() / n,
        p50_ms: runs.iter().map(|f| f.p50_ms).sum::<f64>() / n,
        p99_ms: runs.iter().map(|f| f.p99_ms).sum::<f64>() / n,
        errors: runs.iter().map(|f| f.errors).sum(),
        peak_rss_mib: runs.iter().map(|f| f.peak_rss_mib).fold(0.0, f64::max),
    }
}

/// Samples the resident memory of a process group every 50 ms; keeps the peak.
struct RssSampler {
    running: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    fn start(group: u32) -> Self {
        let running = Arc::new(AtomicBool::new(true));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let (flag, peak) = (running.clone(), peak_kib.clone());
        let thread = std::thread::spawn(move || {
            while flag.load(Ordering::Relaxed) {
                peak.fetch_max(group_rss_kib(group), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self {
            running,
            peak_kib,
            thread,
        }
    }

    /// Stops sampling; returns the peak in MiB.
    fn stop(self) -> f64 {
        self.running.store(false, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

/// The summed VmRSS of every process in process group `group` (gunicorn's master and
/// workers; the server's single process).
fn group_rss_kib(group: u32) -> u64 {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|entry| {
            entry
                .ok()?
                .file_name()
                .into_string()
                .ok()?
                .parse::<u32>()
                .ok()
        })
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // Fields after the command name (which may hold spaces): state ppid pgrp ...
                    let rest = stat.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(2)?.parse::<u32>().ok()
                })
                == Some(group)
        })
        .filter_map(|pid| {
            let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}

/// Valid refresh tokens for user 1, signed with the server's key, each used once by the
/// rotating-refresh run (the server records a token it never issued and blacklists it).
fn mint_refresh_tokens(path: &Path, run: u64, count: usize, user_id: i64) -> Result<(), String> {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let mut lines = String::with_capacity(count * 300);
    for index in 0..count {
        let claims = json!({
            "token_type": "refresh",
            "exp": now + 86_400,
            "iat": now,
            "jti": format!("{run:08x}{index:024x}"),
            "user_id": user_id.to_string(),
        });
        let token = jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())?;
        lines.push_str(&token);
        lines.push('\n');
    }
    fs::write(path, lines).map_err(|e| e.to_string())
}

/// bcrypt verifications per second at cost 12 with every core busy: the ceiling for logins.
fn raw_bcrypt_rate(cores: usize, duration: Duration) -> f64 {
    let hash = bcrypt::hash(PASSWORD, BCRYPT_COST).unwrap_or_default();
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let done: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        let _ = bcrypt::verify(PASSWORD, &hash);
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}

fn login(base: &str) -> Result<Value, String> {
    let (status, body) = http_post_json(
        base,
        "/api/token/",
        &json!({"username": USERNAME, "password": PASSWORD}),
    )?;
    if status != 200 {
        return Err(format!("logging in on {base}: {status} {body}"));
    }
    serde_json::from_str(&body).map_err(|e| e.to_string())
}

/// The id of the user an access token belongs to (`GET /api/me/`).
fn user_id(base: &str, access: &str) -> Result<i64, String> {
    let (status, body) = http(
        base,
        &format!(
            "GET /api/me/ HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer {access}\r\n\r\n"
        ),
    )?;
    let me: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    me["id"]
        .as_i64()
        .ok_or_else(|| format!("GET /api/me/ answered {status} {body}"))
}

fn http_get(base: &str, path: &str) -> Result<(u16, String), String> {
    http(
        base,
        &format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n"),
    )
}

fn http_post_json(base: &str, path: &str, body: &Value) -> Result<(u16, String), String> {
    let body = body.to_string();
    http(
        base,
        &format!(
            "POST {path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// One HTTP/1.0 exchange (the xtask needs no HTTP client crate for a few set-up calls).
fn http(base: &str, request: &str) -> Result<(u16, String), String> {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The results, as a table and a chart.
struct Report {
    rows: Vec<Row>,
    raw_bcrypt: f64,
    cores: usize,
    peer_workers: usize,
    seconds: u64,
    rounds: u64,
    connections: u64,
}

impl Report {
    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| scenario | this server req/s | p50 ms | p99 ms | errors | peak RSS MiB | Django peer req/s | p50 ms | p99 ms | errors | peak RSS MiB | ratio |"
        );
        let _ = writeln!(
            out,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for row in &self.rows {
            let (o, p) = (&row.ours, &row.peer);
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {:.1}× |",
                row.name,
                o.requests_per_second,
                o.p50_ms,
                o.p99_ms,
                o.errors,
                o.peak_rss_mib,
                p.requests_per_second,
                p.p50_ms,
                p.p99_ms,
                p.errors,
                p.peak_rss_mib,
                o.requests_per_second / p.requests_per_second.max(f64::MIN_POSITIVE),
            );
        }
        let by_name: BTreeMap<&str, &Row> =
            self.rows.iter().map(|r| (r.name.as_str(), r)).collect();
        if let (Some(hello), Some(ping)) = (
            by_name.get("GET /hello/ with a token"),
            by_name.get("GET /ping/ (no token)"),
        ) {
            let _ = writeln!(
                out,
                "\n`/hello/` ÷ `/ping/`: this server {:.0}%, Django peer {:.0}%.",
                100.0 * hello.ours.requests_per_second / ping.ours.requests_per_second,
                100.0 * hello.peer.requests_per_second / ping.peer.requests_per_second,
            );
        }
        if let Some(login) = by_name.get("POST /api/token/ (both bcrypt, cost 12)") {
            let _ = writeln!(
                out,
                "Logins at bcrypt cost 12: {:.1}/s; raw bcrypt verify rate on {} cores: {:.1}/s ({:.0}%).",
                login.ours.requests_per_second,
                self.cores,
                self.raw_bcrypt,
                100.0 * login.ours.requests_per_second / self.raw_bcrypt,
            );
        }
        let _ = writeln!(
            out,
            "\n{} cores; {} s per run, {} rounds alternating the two stacks, {} connections (wrk); Django peer: gunicorn with {} sync workers, simplejwt defaults, DEBUG off, SQLite; this server: release build, SQLite, bcrypt cost 12.",
            self.cores, self.seconds, self.rounds, self.connections, self.peer_workers
        );
        out
    }

    /// The project's performance targets, each with the measured figure and whether it is met.
    fn targets(&self) -> String {
        let row = |name: &str| self.rows.iter().find(|r| r.name.starts_with(name));
        let rate = |f: &Figures| f.requests_per_second;
        let mut lines = Vec::new();
        let mut check = |target: &str, figure: String, met: bool| {
            lines.push(format!(
                "- {target}: {figure}, {}.",
                if met { "met" } else { "**not met**" }
            ));
        };
        if let Some(hello) = row("GET /hello/ with a token") {
            let ratio = rate(&hello.ours) / rate(&hello.peer);
            check(
                "`/hello/` at least 50× the peer's requests/s",
                format!("{ratio:.1}×"),
                ratio >= 50.0,
            );
            if let Some(ping) = row("GET /ping/") {
                let share = rate(&hello.ours) / rate(&ping.ours);
                check(
                    "`/hello/` at least 85% of this server's own `/ping/`",
                    format!("{:.0}%", 100.0 * share),
                    share >= 0.85,
                );
            }
        }
        if let Some(refresh) = row("POST /api/token/refresh/ (both") {
            let ratio = rate(&refresh.ours) / rate(&refresh.peer);
            check(
                "refresh with the same work at least 20× the peer",
                format!("{ratio:.1}×"),
                ratio >= 20.0,
            );
        }
        if let Some(login) = row("POST /api/token/ (both bcrypt") {
            let share = rate(&login.ours) / self.raw_bcrypt;
            check(
                "logins within 10% of the raw bcrypt verify rate",
                format!("{:.0}% of {:.1}/s", 100.0 * share, self.raw_bcrypt),
                share >= 0.9,
            );
        }
        if let Some(flood) = row("GET /hello/ during a login flood") {
            check(
                "`/hello/` p99 under 10 ms during the login flood",
                format!("{:.2} ms", flood.ours.p99_ms),
                flood.ours.p99_ms < 10.0,
            );
        }
        let peak = self
            .rows
            .iter()
            .map(|r| r.ours.peak_rss_mib)
            .fold(0.0, f64::max);
        check(
            "peak RSS under load under 30 MB",
            format!("{peak:.1} MiB"),
            peak * 1.048_576 < 30.0,
        );
        lines.join("\n")
    }

    fn save(&self, root: &Path) -> Result<(), String> {
        let machine = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let date = Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let page = format!(
            "# Benchmarks\n\n\
             What does the Rust rewrite buy over the tutorial's Django REST Framework + simplejwt + gunicorn stack? \
             Both ran side by side on one machine, on loopback, driven by [wrk](https://github.com/wg/wrk), \
             alternating the two so that noise hits both.\n\n\
             - **Machine**: {machine}, {cores} cores.\n- **Date**: {date}.\n\
             - **Command**: `cargo xtask bench --save` (figures only: `cargo xtask bench`); the \
             PostgreSQL rows appear with `BENCH_DATABASE_URL=postgres://…` naming a database of their own.\n\
             - **Peak RSS** counts the server's own processes (gunicorn's master and workers for the \
             peer), not the database server's.\n\n\
             ![Requests per second per scenario, both stacks](images/benchmarks.svg)\n\n{table}\n\
             ## Against the project's targets\n\n{targets}\n\n\
             Where `/hello/` falls short, the cost is its database read: like simplejwt's \
             `JWTAuthentication`, every request loads the user to check that the account still exists \
             and is active. That read runs on actix's blocking thread pool (diesel is synchronous), and \
             handing each request to another thread and back costs more than checking the token \
             itself (about 2 µs for HS256, see below), while wrk competes for the same cores. `/ping/` \
             does no such read.\n\n\
             The peer is `bench/django-peer/`: the tutorial's project with simplejwt's default settings. \
             Micro benchmarks of token signing and checking and of bcrypt are in \
             `crates/server/benches/tokens.rs` (`cargo bench -p server --bench tokens`).\n",
            cores = self.cores,
            table = self.markdown(),
            targets = self.targets(),
        );
        fs::write(root.join("docs/src/benchmarks.md"), page).map_err(|e| e.to_string())?;
        fs::write(root.join("docs/src/images/benchmarks.svg"), self.chart())
            .map_err(|e| e.to_string())
    }

    /// Two bars per scenario (this server, the peer), each row scaled to its larger value,
    /// labelled with the figures.
    fn chart(&self) -> String {
        let (width, row_height, label_width) = (900.0, 62.0, 330.0);
        let height = 60.0 + row_height * self.rows.len() as f64;
        let bar_room = width - label_width - 120.0;
        let font = r#"font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif""#;
        let mut svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="title"><title id="title">Requests per second: this server and the Django peer</title><rect width="{width}" height="{height}" fill="#ffffff"/><text x="20" y="28" font-size="16" font-weight="700" fill="#1f2328" {font}>Requests per second (each row scaled to its larger bar)</text><rect x="{lx}" y="12" width="14" height="14" fill="#0b5cad"/><text x="{tx}" y="24" font-size="12" {font}>this server</text><rect x="{lx2}" y="12" width="14" height="14" fill="#c2255c"/><text x="{tx2}" y="24" font-size="12" {font}>Django peer</text>"##,
            lx = width - 230.0,
            tx = width - 212.0,
            lx2 = width - 130.0,
            tx2 = width - 112.0,
        );
        for (index, row) in self.rows.iter().enumerate() {
            let y = 50.0 + row_height * index as f64;
            let top = row
                .ours
                .requests_per_second
                .max(row.peer.requests_per_second)
                .max(1.0);
            let name = row.name.replace('&', "&amp;").replace('<', "&lt;");
            let _ = write!(
                svg,
                r##"<text x="20" y="{}" font-size="12" fill="#1f2328" {font}>{}</text>"##,
                y + 22.0,
                shorten(&name, 48)
            );
            for (offset, figures, color) in
                [(0.0, &row.ours, "#0b5cad"), (24.0, &row.peer, "#c2255c")]
            {
                let bar = (bar_room * figures.requests_per_second / top).max(1.0);
                let _ = write!(
                    svg,
                    r##"<rect x="{label_width}" y="{}" width="{bar:.1}" height="20" fill="{color}"/><text x="{:.1}" y="{}" font-size="12" fill="#1f2328" {font}>{:.0}/s</text>"##,
                    y + offset,
                    label_width + bar + 6.0,
                    y + offset + 15.0,
                    figures.requests_per_second,
                );
            }
        }
        svg.push_str("</svg>\n");
        svg
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}
