//! Driving wrk: the Lua scripts of each scenario, one measured run, and reading its output.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use super::client::mint_refresh_tokens;
use super::rss::RssSampler;
use super::stacks::{Side, on_core};
use super::{Figures, PASSWORD, USERNAME};

/// The wrk Lua scripts, each written once.
pub(super) struct Scripts {
    pub(super) dir: PathBuf,
    pub(super) hello: PathBuf,
    pub(super) ping: PathBuf,
    pub(super) login: PathBuf,
    /// Each request takes the next unused refresh token from `tokens` (with rotation, a token
    /// works once); the file is refilled before every run.
    pub(super) rotating_refresh: PathBuf,
    pub(super) tokens: PathBuf,
}

impl Scripts {
    pub(super) fn write(dir: &Path, connections: u64) -> Result<Self, String> {
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
    pub(super) fn refresh(&self, name: &str, token: &str) -> Result<PathBuf, String> {
        let file = self.dir.join(name);
        let body = json!({"refresh": token}).to_string();
        fs::write(&file, post_script("/api/token/refresh/", &body)).map_err(|e| e.to_string())?;
        Ok(file)
    }

    /// Refills the token file with `count` refresh tokens for `user_id` never used before.
    pub(super) fn fresh_tokens(
        &self,
        run: u64,
        count: usize,
        user_id: i64,
    ) -> Result<&Path, String> {
        mint_refresh_tokens(&self.tokens, run, count, user_id)?;
        Ok(&self.rotating_refresh)
    }
}

pub(super) fn post_script(path: &str, body: &str) -> String {
    format!(
        "wrk.method = \"POST\"\nwrk.path = \"{path}\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
    )
}

pub(super) fn threads(connections: u64) -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    cores.min(connections).max(1)
}

/// Runs wrk against `side` while sampling its memory; with a `core`, wrk runs there alone, with
/// one thread.
pub(super) fn measure(
    core: Option<usize>,
    side: &Side,
    script: &Path,
    extra: &[String],
    duration: Duration,
    connections: u64,
) -> Result<Figures, String> {
    let threads = if core.is_some() {
        1
    } else {
        threads(connections)
    };
    let sampler = RssSampler::start(side.child.id());
    let output = on_core(core, "wrk")
        .arg(format!("--threads={threads}"))
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
pub(super) fn hello_during_flood(
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
    let figures = measure(None, side, &scripts.hello, extra, duration, 4);
    let mut flood = flood;
    let _ = flood.wait();
    figures
}

pub(crate) fn parse_wrk(text: &str) -> Option<Figures> {
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
pub(super) fn duration_ms(text: &str) -> Option<f64> {
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

pub(super) fn mean(runs: &[Figures]) -> Figures {
    let n = runs.len().max(1) as f64;
    Figures {
        requests_per_second: runs.iter().map(|f| f.requests_per_second).sum::<f64>() / n,
        p50_ms: runs.iter().map(|f| f.p50_ms).sum::<f64>() / n,
        p99_ms: runs.iter().map(|f| f.p99_ms).sum::<f64>() / n,
        errors: runs.iter().map(|f| f.errors).sum(),
        peak_rss_mib: runs.iter().map(|f| f.peak_rss_mib).fold(0.0, f64::max),
    }
}
