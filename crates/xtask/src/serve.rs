//! `cargo xtask serve`: the frontend, the server and the notes service, built and run side by
//! side as a student's development setup. The server serves the frontend and forwards
//! `/notes/api/` to the notes service, as nginx routes them in production.
//!
//! Both follow the addresses the student chose (`BIND_ADDR`, `NOTES_BIND_ADDR`, from the
//! environment or `.env`): the server is told where the notes service listens, and the notes
//! service where the server publishes its keys.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{binaries, frontend, step};

/// Where `serve` runs the two processes, as addresses a client on this machine connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    /// The server (`BIND_ADDR`, default `127.0.0.1:8000`).
    pub server: String,
    /// The notes service (`NOTES_BIND_ADDR`, default `127.0.0.1:8001`).
    pub notes: String,
}

impl Addresses {
    /// The addresses that `setting` (the environment over `.env`) gives.
    pub fn from_settings(setting: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let address = |name: &str, default: &str| {
            let bind = setting(name).unwrap_or_else(|| default.to_owned());
            if bind.ends_with(":0") {
                return Err(format!(
                    "{name}={bind}: cargo xtask serve needs a fixed port, since the server and \
                     the notes service must know where the other listens"
                ));
            }
            // A process bound to every interface is reached on loopback.
            Ok(bind
                .replacen("0.0.0.0:", "127.0.0.1:", 1)
                .replacen("[::]:", "[::1]:", 1))
        };
        // Without BIND_ADDR the server listens where PORT says, as on a hosting platform.
        let server_default = setting("PORT").map_or_else(
            || "127.0.0.1:8000".to_owned(),
            |port| format!("0.0.0.0:{}", port.trim()),
        );
        Ok(Self {
            server: address("BIND_ADDR", &server_default)?,
            notes: address("NOTES_BIND_ADDR", "127.0.0.1:8001")?,
        })
    }

    /// Where the server forwards `/notes/api/` (its `NOTES_URL`).
    pub fn notes_url(&self) -> String {
        format!("http://{}", self.notes)
    }

    /// Where the notes service fetches the server's keys (its `AUTH_JWKS_URL`).
    pub fn jwks_url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.server)
    }
}

/// Builds everything and serves it until the server stops (Ctrl-C stops both). `args`:
/// `[--es256] [server args...]`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let es256 = args.first().is_some_and(|arg| arg == "--es256");
    let server_args = if es256 { &args[1..] } else { args };
    let serving = server_args.is_empty() || server_args[0] == "serve";
    let settings = settings(root);
    let setting = |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| settings.get(name).cloned())
    };
    let addresses = Addresses::from_settings(setting)?;
    if serving {
        // Said before minutes of building, not after.
        port_free(&addresses.server, "BIND_ADDR")?;
        port_free(&addresses.notes, "NOTES_BIND_ADDR")?;
    }
    frontend::build(root)?;
    step("building the server and the notes service (the first build takes a few minutes)");
    let binaries = binaries::build(root, &["-p", "server", "-p", "notes"])?;
    let server_binary = binaries.path("server")?;
    let mut server = Command::new(server_binary);
    server
        .args(if server_args.is_empty() {
            vec!["serve".to_owned()]
        } else {
            server_args.to_vec()
        })
        .current_dir(root)
        .env("NOTES_URL", addresses.notes_url());
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
    step(&format!(
        "starting the server on {} (it applies pending migrations first)",
        addresses.server
    ));
    let mut server = Running::spawn("the server", &mut server)?;
    if !serving {
        return server.wait();
    }
    // The notes service fetches the server's published keys as it starts: it starts once the
    // server answers, rather than logging that the keys cannot be fetched yet.
    wait_until_serving(server_binary, &addresses.server, "/healthz", &mut server)?;
    let mut notes = Command::new(binaries.path("notes")?);
    notes.current_dir(root);
    if setting("AUTH_JWKS_URL").is_none() {
        notes.env("AUTH_JWKS_URL", addresses.jwks_url());
    }
    step(&format!(
        "starting the notes service on {}",
        addresses.notes
    ));
    let notes = Running::spawn("the notes service", &mut notes).and_then(|mut notes| {
        wait_until_serving(
            server_binary,
            &addresses.notes,
            "/notes/healthz",
            &mut notes,
        )?;
        Ok(notes)
    });
    let mut notes = match notes {
        Ok(notes) => notes,
        Err(error) => {
            server.stop();
            return Err(error);
        }
    };
    eprintln!(
        "\n    Open http://{} in your browser    (Ctrl-C stops the server and the notes service)\n",
        addresses.server
    );
    // Whichever stops first stops the other: a half-running setup only confuses.
    loop {
        if let Some(outcome) = server.stopped()? {
            notes.stop();
            return outcome;
        }
        if let Some(outcome) = notes.stopped()? {
            server.stop();
            return outcome;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether `address` can be listened on now; the error says what to do when it cannot.
fn port_free(address: &str, variable: &str) -> Result<(), String> {
    match TcpListener::bind(address) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => Err(format!(
            "{address} is in use: is another `cargo xtask serve` running? Stop it, or set \
             {variable} to use another port"
        )),
        Err(error) => Err(format!(
            "{variable}={address} cannot be listened on: {error}"
        )),
    }
}

/// A process `serve` started, named for its messages.
struct Running {
    name: &'static str,
    child: Child,
}

impl Running {
    fn spawn(name: &'static str, command: &mut Command) -> Result<Self, String> {
        let program = PathBuf::from(command.get_program());
        let child = command
            .spawn()
            .map_err(|error| format!("cannot start {name} ({}): {error}", program.display()))?;
        Ok(Self { name, child })
    }

    /// `Some(outcome)` once the process has exited: `Ok` for a clean exit, else what happened.
    fn stopped(&mut self) -> Result<Option<Result<(), String>>, String> {
        let status = self
            .child
            .try_wait()
            .map_err(|error| format!("waiting for {}: {error}", self.name))?;
        Ok(status.map(|status| self.outcome(status)))
    }

    fn wait(mut self) -> Result<(), String> {
        let status = self
            .child
            .wait()
            .map_err(|error| format!("waiting for {}: {error}", self.name))?;
        self.outcome(status)
    }

    fn outcome(&self, status: ExitStatus) -> Result<(), String> {
        if status.success() {
            step(&format!("{} stopped", self.name));
            Ok(())
        } else {
            Err(format!(
                "{} stopped ({status}); see its log above",
                self.name
            ))
        }
    }

    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            step(&format!("stopping {}", self.name));
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The variables of the workspace's `.env`, which both processes read too (an unreadable one
/// is theirs to report).
fn settings(root: &Path) -> HashMap<String, String> {
    dotenvy::from_path_iter(root.join(".env"))
        .map(|pairs| pairs.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

/// Waits until `process` answers 200 on `path` at `address` (the server applies migrations
/// first), polling for at most a minute; fails when it stops instead. The port was free before
/// it started, and it is checked to be running after the answer, so another process's server
/// cannot pass for it. `server healthcheck` asks.
fn wait_until_serving(
    server_binary: &Path,
    address: &str,
    path: &str,
    process: &mut Running,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let name = process.name;
        let stopped_early = |outcome: Result<(), String>| {
            outcome.and(Err(format!("{name} stopped before it answered")))
        };
        if let Some(outcome) = process.stopped()? {
            return stopped_early(outcome);
        }
        let healthy = Command::new(server_binary)
            .args(["healthcheck", "--addr", address, "--path", path])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if healthy {
            return match process.stopped()? {
                Some(outcome) => stopped_early(outcome),
                None => Ok(()),
            };
        }
        if Instant::now() > deadline {
            step(&format!(
                "{} has not answered its health check for a minute; going on anyway",
                process.name
            ));
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(settings: &[(&str, &str)]) -> Result<Addresses, String> {
        Addresses::from_settings(|name| {
            settings
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn by_default_the_server_is_on_8000_and_the_notes_service_on_8001() {
        let addresses = addresses(&[]).unwrap();
        assert_eq!(addresses.notes_url(), "http://127.0.0.1:8001");
        assert_eq!(
            addresses.jwks_url(),
            "http://127.0.0.1:8000/.well-known/jwks.json"
        );
    }

    #[test]
    fn each_process_is_told_where_the_other_was_moved() {
        let addresses = addresses(&[
            ("BIND_ADDR", "127.0.0.1:9000"),
            ("NOTES_BIND_ADDR", "127.0.0.1:9001"),
        ])
        .unwrap();
        assert_eq!(addresses.notes_url(), "http://127.0.0.1:9001");
        assert_eq!(
            addresses.jwks_url(),
            "http://127.0.0.1:9000/.well-known/jwks.json"
        );
    }

    #[test]
    fn every_interface_is_reached_on_loopback() {
        let addresses = addresses(&[
            ("BIND_ADDR", "0.0.0.0:8000"),
            ("NOTES_BIND_ADDR", "[::]:8001"),
        ])
        .unwrap();
        assert_eq!(addresses.server, "127.0.0.1:8000");
        assert_eq!(addresses.notes, "[::1]:8001");
    }

    #[test]
    fn without_bind_addr_the_server_is_where_port_says_as_the_server_reads_it() {
        let platform = addresses(&[("PORT", "9100")]).unwrap();
        assert_eq!(platform.server, "127.0.0.1:9100");
        let chosen = addresses(&[("PORT", "9100"), ("BIND_ADDR", "127.0.0.1:9200")]).unwrap();
        assert_eq!(chosen.server, "127.0.0.1:9200");
    }

    #[test]
    fn a_port_chosen_at_start_is_refused_with_the_reason() {
        let error = addresses(&[("BIND_ADDR", "127.0.0.1:0")]).unwrap_err();
        assert_eq!(
            error,
            "BIND_ADDR=127.0.0.1:0: cargo xtask serve needs a fixed port, since the server and \
             the notes service must know where the other listens"
        );
    }
}
