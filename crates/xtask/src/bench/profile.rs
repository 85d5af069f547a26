//! `cargo xtask bench profile`: where `/hello/`'s time goes that `/ping/`'s does not.
//!
//! The server runs pinned to core 0 and wrk (one thread) to core 1. For each path, `perf record`
//! samples the server's CPU (the `cpu-clock` event, which works where hardware counters are not
//! exposed, as in most virtual machines) while wrk keeps it busy; each function's samples become
//! CPU time per request. The difference between the two paths, function by function, grouped
//! into the steps of the check, is what checking a token costs. Each step's figure is the
//! median over five rounds of both paths, so that one disturbed round does not decide it. The
//! kernel's share is its own line: it differs from round to round by more than some steps cost.
//! `BENCH_SERVER=path` profiles another build of the server (an older commit's, for a before
//! and after); `BENCH_SECONDS` sets each round's length (default 5). With `--save`, the table
//! goes to `docs/src/benchmarks-profile.md`, which the book's benchmarks page includes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::client::login;
use super::ratio::median;
use super::report::{machine, today};
use super::stacks::{Side, on_core, start_ours_on};
use super::wrk::{Scripts, parse_wrk};
use super::{env_number, server_binary, which};
use crate::step;

/// How often perf samples the server, per second of its CPU time.
const SAMPLES_PER_SECOND: u64 = 2_000;

/// Rounds of each path.
const ROUNDS: usize = 5;

/// The steps of the check, each recognised by its functions' names (the first match wins);
/// a function none names goes to the last line.
const STEPS: &[(&str, &[&str])] = &[
    (
        "reading the `Authorization` header (`apikit::bearer`, the UTF-8 check, the HTTP \
         parser's work on 300 more bytes; before, actix-web-httpauth's typed header)",
        &[
            "apikit::bearer",
            "actix_web_httpauth",
            "httparse",
            "HeaderName",
            "core::str::converts::from_utf8",
            "Utf8Chunks",
            "from_utf8_lossy",
            "SpecFromIterNested",
        ],
    ),
    (
        "the four in-memory lookups: the verified token, its `jti`, its family, its user \
         (hashing, comparing keys, locks, and before `server::memo` moka's bookkeeping)",
        &[
            "server::memo",
            "foldhash",
            "__memcmp",
            "RwLock",
            "moka",
            "crossbeam",
            "sip::Hasher",
            "hash_one",
        ],
    ),
    (
        "reading the clock (each lookup's expiry, the request's `now`)",
        &[
            "clock_gettime",
            "Timespec",
            "Instant",
            "SystemTime",
            "auth::now",
            "chrono",
        ],
    ),
    (
        "the token's time and type checks (`TokenCodec::decode`, `claims::check`)",
        &["TokenCodec", "claims::check"],
    ),
    (
        "the user's checks (the user id claim, active, sessions ended, the password fingerprint)",
        &[
            "auth::check::user_id",
            "claims::payload",
            "ended_sessions",
            "carries_password",
            "sha2",
        ],
    ),
    (
        "the guard itself (the extractor, its boxed future, `authenticate`)",
        &["AuthenticatedUser", "authenticate"],
    ),
    (
        "the response (a typed `HelloResponse` where `/ping/` writes a `json!` value)",
        &["HelloResponse", "serde_json", "serde_core", "json::Json"],
    ),
    (
        "allocating and copying (the token handed on as a `String`)",
        &["malloc", "free", "memmove", "memcpy", "memset"],
    ),
];
const KERNEL: &str = "the kernel (sockets, wakeups: fewer requests share each as the rate drops)";
const REST: &str = "everything else in the process (the runtime, the noise of sampling)";

/// What perf saw of one path in one round.
struct Profile {
    requests: f64,
    seconds: f64,
    /// Samples by function, `[k] ` before the kernel's.
    samples: BTreeMap<String, u64>,
}

impl Profile {
    /// CPU time per request, in nanoseconds, spent in `function`.
    fn per_request(&self, function: &str) -> f64 {
        let samples = self.samples.get(function).copied().unwrap_or(0);
        samples as f64 * (1e9 / SAMPLES_PER_SECOND as f64) / self.requests.max(1.0)
    }

    fn total(&self) -> f64 {
        self.samples.keys().map(|f| self.per_request(f)).sum()
    }

    fn requests_per_second(&self) -> f64 {
        self.requests / self.seconds.max(f64::MIN_POSITIVE)
    }
}

/// Profiles both paths and prints the difference by step.
pub(super) fn run_profile(root: &Path, save: bool) -> Result<(), String> {
    which("perf").ok_or("perf not found: install it (Debian: apt install linux-perf)")?;
    which("taskset").ok_or("taskset not found: install util-linux")?;
    which("wrk").ok_or("wrk not found: install it (Debian/Ubuntu: apt install wrk)")?;
    let seconds = env_number("BENCH_SECONDS", 5);
    let server = server_binary(root)?;
    let work = root.join("target/bench/profile");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let side = start_ours_on(Some(0), &server, &work, "ours", 18084, &[])?;
    let scripts = Scripts::write(&work, 32)?;
    let pair = login(&side.base)?;
    let token = pair["access"].as_str().unwrap_or_default();
    let bearer = ["-H".to_owned(), format!("Authorization: Bearer {token}")];

    let duration = Duration::from_secs(seconds);
    let mut rounds = Vec::new();
    for round in 1..=ROUNDS {
        step(&format!(
            "round {round} of {ROUNDS}: GET /ping/ then GET /hello/, {seconds} s each"
        ));
        let data = work.join("perf.data");
        let ping = profile(&side, &scripts.ping, &[], duration, &data)?;
        let hello = profile(&side, &scripts.hello, &bearer, duration, &data)?;
        rounds.push((ping, hello));
    }
    let table = breakdown(&rounds);
    println!("\n{table}");
    if save {
        let page = format!(
            "Measured on {}, {}, {} cores.\n\n{table}",
            machine(),
            today(),
            std::thread::available_parallelism().map_or(1, usize::from)
        );
        fs::write(root.join("docs/src/benchmarks-profile.md"), page).map_err(|e| e.to_string())?;
        step("saved docs/src/benchmarks-profile.md");
    }
    Ok(())
}

/// wrk on core 1 for `duration` plus a second either side; perf records the middle.
fn profile(
    side: &Side,
    script: &Path,
    extra: &[String],
    duration: Duration,
    data: &Path,
) -> Result<Profile, String> {
    let load = on_core(Some(1), "wrk")
        .args(["--threads=1", "--connections=32", "--latency"])
        .arg(format!("--duration={}s", duration.as_secs() + 2))
        .arg("--script")
        .arg(script)
        .args(extra)
        .arg(&side.base)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running wrk: {e}"))?;
    std::thread::sleep(Duration::from_secs(1));
    let recorded = Command::new("perf")
        .args(["record", "--quiet", "-e", "cpu-clock"])
        .arg(format!("-F{SAMPLES_PER_SECOND}"))
        .arg(format!("--pid={}", side.child.id()))
        .arg("-o")
        .arg(data)
        .arg("--")
        .args(["sleep", &duration.as_secs().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("running perf record: {e}"))?;
    let output = load
        .wait_with_output()
        .map_err(|e| format!("waiting for wrk: {e}"))?;
    if !recorded.success() {
        return Err(format!(
            "perf record failed ({recorded}); is perf_event_paranoid above 1? (sysctl kernel.perf_event_paranoid=1)"
        ));
    }
    let figures =
        parse_wrk(&String::from_utf8_lossy(&output.stdout)).ok_or("cannot read wrk's output")?;
    let report = Command::new("perf")
        .args(["report", "--stdio", "--no-children", "-g", "none"])
        .args(["--sort", "symbol", "-F", "sample,symbol", "-i"])
        .arg(data)
        .output()
        .map_err(|e| format!("running perf report: {e}"))?;
    Ok(Profile {
        requests: figures.requests_per_second * duration.as_secs_f64(),
        seconds: duration.as_secs_f64(),
        samples: samples_by_function(&String::from_utf8_lossy(&report.stdout)),
    })
}

/// `perf report -F sample,symbol` lines: `  1234  [.] name`.
fn samples_by_function(report: &str) -> BTreeMap<String, u64> {
    let mut samples = BTreeMap::new();
    for line in report.lines().filter(|line| !line.starts_with('#')) {
        let mut fields = line.split_whitespace();
        let (Some(count), Some(kind)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else {
            continue;
        };
        let name = fields.collect::<Vec<_>>().join(" ");
        let function = if kind == "[k]" {
            format!("[k] {name}")
        } else {
            name
        };
        *samples.entry(function).or_default() += count;
    }
    samples
}

fn step_of(function: &str) -> &'static str {
    if function.starts_with("[k] ") {
        return KERNEL;
    }
    STEPS
        .iter()
        .find(|(_, names)| names.iter().any(|name| function.contains(name)))
        .map_or(REST, |(step, _)| step)
}

/// What `/hello/` spends beyond `/ping/` in each step, in nanoseconds per request.
fn extra_by_step(ping: &Profile, hello: &Profile) -> BTreeMap<&'static str, f64> {
    let mut by_step = BTreeMap::new();
    let functions = ping.samples.keys().chain(hello.samples.keys());
    for function in functions.collect::<BTreeSet<_>>() {
        let extra = hello.per_request(function) - ping.per_request(function);
        *by_step.entry(step_of(function)).or_default() += extra;
    }
    by_step
}

/// The table: each step's median over the rounds.
fn breakdown(rounds: &[(Profile, Profile)]) -> String {
    let of_rounds = |figure: &dyn Fn(&Profile, &Profile) -> f64| {
        median(&rounds.iter().map(|(p, h)| figure(p, h)).collect::<Vec<_>>())
    };
    let ping_ns = of_rounds(&|ping, _| ping.total());
    let hello_ns = of_rounds(&|_, hello| hello.total());
    let by_round: Vec<_> = rounds.iter().map(|(p, h)| extra_by_step(p, h)).collect();
    let in_process = median(
        &by_round
            .iter()
            .map(|steps| {
                let outside = steps.get(KERNEL).copied().unwrap_or(0.0);
                steps.values().sum::<f64>() - outside
            })
            .collect::<Vec<_>>(),
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Server CPU time per request, pinned, sampled by perf, medians of {} rounds: `/ping/` {ping_ns:.0} ns ({:.0} req/s), `/hello/` {hello_ns:.0} ns ({:.0} req/s). Checking the token adds **{in_process:.0} ns in the process**, step by step:\n",
        rounds.len(),
        of_rounds(&|ping, _| ping.requests_per_second()),
        of_rounds(&|_, hello| hello.requests_per_second()),
    );
    let _ = writeln!(out, "| step of the check | ns per request |");
    let _ = writeln!(out, "|---|---:|");
    let steps = STEPS.iter().map(|(step, _)| *step);
    for step in steps.chain([REST, KERNEL]) {
        let figures: Vec<f64> = by_round
            .iter()
            .map(|round| round.get(step).copied().unwrap_or(0.0))
            .collect();
        let _ = writeln!(out, "| {step} | {:.0} |", median(&figures));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_report_lines_give_samples_by_function() {
        let report = "# Samples: 3K of event 'cpu-clock'\n#\n     1200  [k] tcp_ack\n       30  [.] server::memo::Memo<K,V>::get\n       12  [.] server::memo::Memo<K,V>::get\n\n";
        let samples = samples_by_function(report);
        assert_eq!(samples.get("[k] tcp_ack"), Some(&1200));
        assert_eq!(samples.get("server::memo::Memo<K,V>::get"), Some(&42));
    }

    #[test]
    fn each_function_falls_in_the_first_step_that_names_it() {
        assert!(step_of("apikit::bearer::access_token").starts_with("reading the `Authorization`"));
        assert!(step_of("server::memo::Memo<K,V>::get").starts_with("the four in-memory"));
        assert_eq!(step_of("[k] tcp_ack"), KERNEL);
        assert_eq!(step_of("tokio::runtime::task::raw::poll"), REST);
    }
}
