//! The results as a table on the terminal, and with `--save` as the book's benchmarks page
//! with an SVG chart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use super::ratio::{Placement, RatioStudy};
use super::{Figures, Row};

/// The last column of a row: requests per second, ours over the peer's; for a row whose
/// figure is the p99 latency, the peer's p99 over ours.
fn ratio(row: &Row) -> String {
    let (o, p) = (&row.ours, &row.peer);
    if row.name.contains("p99 is the figure") {
        format!("{:.1}× (p99)", p.p99_ms / o.p99_ms.max(f64::MIN_POSITIVE))
    } else {
        format!(
            "{:.1}×",
            o.requests_per_second / p.requests_per_second.max(f64::MIN_POSITIVE)
        )
    }
}

/// The results, as a table and a chart.
pub(super) struct Report {
    pub(super) rows: Vec<Row>,
    /// The `/hello/` ÷ `/ping/` studies, pinned first.
    pub(super) ratios: Vec<RatioStudy>,
    /// Whether `taskset` and two cores allowed the pinned study.
    pub(super) pinning: bool,
    pub(super) raw_bcrypt: f64,
    pub(super) cores: usize,
    pub(super) peer_workers: usize,
    pub(super) seconds: u64,
    pub(super) rounds: u64,
    pub(super) connections: u64,
}

impl Report {
    pub(super) fn markdown(&self) -> String {
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
                "| {} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {} |",
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
                ratio(row),
            );
        }
        let by_name: BTreeMap<&str, &Row> =
            self.rows.iter().map(|r| (r.name.as_str(), r)).collect();
        if !self.ratios.is_empty() {
            let _ = writeln!(
                out,
                "\n`/hello/` ÷ `/ping/`, what is left of a request's speed once it checks a token \
                 ({} s per path and round, the order alternating from round to round):\n",
                self.seconds
            );
            for study in &self.ratios {
                let _ = writeln!(out, "{}", study.line());
            }
            if !self.pinning {
                let _ = writeln!(
                    out,
                    "- pinned: not measured (it needs `taskset`, from util-linux, and two cores)."
                );
            }
            out.push('\n');
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
    pub(super) fn targets(&self) -> String {
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
        }
        let pinned = self
            .ratios
            .iter()
            .find(|study| study.placement != Placement::Shared);
        if let Some(study) = pinned {
            check(
                "pinned `/hello/` ÷ `/ping/` at least 0.90 (median of the rounds)",
                format!("{:.2}", study.median()),
                study.median() >= 0.90,
            );
        }
        if let Some(refresh) = row("POST /api/token/refresh/ (both") {
            let ratio = rate(&refresh.ours) / rate(&refresh.peer);
            check(
                "refresh with the same work at least 25× the peer",
                format!("{ratio:.1}×"),
                ratio >= 25.0,
            );
        }
        if let (Some(sqlite), Some(postgres)) = (
            row("GET /hello/ with a token"),
            row("PostgreSQL: GET /hello/ with a token"),
        ) {
            let gap = (rate(&postgres.ours) - rate(&sqlite.ours)).abs() / rate(&sqlite.ours);
            check(
                "`/hello/` on PostgreSQL within 15% of SQLite",
                format!("{:.0}% apart", 100.0 * gap),
                gap <= 0.15,
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

    pub(super) fn save(&self, root: &Path) -> Result<(), String> {
        let (machine, date) = (machine(), today());
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
             The rotating refresh writes to the database in a transaction (blacklist the old \
             token, record the new one), which is why it is the slowest row, and slower again on \
             PostgreSQL, where each commit waits for the disk.\n\n\
             ## What checking a token costs\n\n\
             `/hello/` does what `/ping/` does and checks a token, so `/hello/` ÷ `/ping/` is the \
             share of a request's speed left once it checks one. Like simplejwt's \
             `JWTAuthentication`, every request checks that the account exists and is active, and \
             here also that neither the token nor its session was revoked, but from the process's \
             memory, not with a database query (the chapter on revocation explains how it stays \
             current on every replica). An access token already verified is remembered by its exact \
             text, so a client reusing its token costs a lookup instead of an HMAC and a JSON parse \
             (about 2 µs for HS256, see below).\n\n\
             How the ratio is measured: with wrk and the server sharing the two cores, one round's \
             ratio swings by a fifth, since wrk's own CPU use decides as much as the server's. So \
             the server runs on core 0 and wrk, with one thread, on core 1 (`taskset`); each round \
             measures both paths back to back, the order alternating from round to round; the \
             figure is the median of five rounds, printed with the lowest and the highest. The \
             unpinned figures and the Django peer's are measured the same way.\n\n\
             Where the time goes, from `cargo xtask bench profile --save`: perf samples the pinned \
             server's CPU while wrk keeps it busy, each function's samples become CPU time per \
             request, and each step below is the median over five rounds of what `/hello/` spends \
             beyond `/ping/` in its functions.\n\n\
             {{{{#include benchmarks-profile.md}}}}\n\n\
             Before 2026-12-06 the same profile gave 1,682 ns in the process: 560 ns in the four \
             lookups, which went through moka, a general-purpose cache that records every read for \
             its eviction policy, reads the clock several times and hashed the whole token with \
             SipHash; 516 ns reading the header, which went through actix-web-httpauth's typed \
             header (a copy of the whole header) and copied every part of it into a `String` of its \
             own after a lossy UTF-8 pass. The pinned ratio was 0.82 (lowest 0.78, highest 0.93). \
             The lookups now go through `crates/server/src/memo.rs` (the key hashed once with \
             foldhash, one shard's read lock, one reading of the clock) and the header is read where \
             it lies, with nothing copied but the token (`crates/apikit/src/bearer.rs`): about 640 \
             ns in all, and pinned ratios of 0.92 and 0.95 in the two runs of that day's final \
             build (the rounds of one run still spread by a tenth on this virtual machine; the CPU \
             time per request says 0.95). Every check is still made on every request, and the \
             revocation tests are unchanged. What is left is the header, the clock (five readings), \
             the lookups and the guard's boxed future.\n\n\
             The peer is `bench/django-peer/`: the tutorial's project with simplejwt's default settings. \
             Micro benchmarks of token signing and checking and of bcrypt are in \
             `crates/server/benches/tokens.rs` (`cargo bench -p server --bench tokens`).\n\n\
             {{{{#include benchmarks-frontend.md}}}}\n",
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
    pub(super) fn chart(&self) -> String {
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

/// The CPU's model name, as the kernel reports it.
pub(crate) fn machine() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}
