//! `cargo xtask serve`: the frontend, the server and the notes service, built and run side by
//! side as a student's development setup. The server serves the frontend and forwards
//! `/notes/api/` to the notes service, as nginx routes them in production.
//!
//! Both follow the addresses the student chose (`BIND_ADDR`, `NOTES_BIND_ADDR`, from the
//! environment or `.env`): the server is told where the notes service listens, and the notes
//! service where the server publishes its keys.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{cargo, frontend, step};

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
        Ok(Self {
            server: address("BIND_ADDR", "127.0.0.1:8000")?,
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
    let settings = settings(root);
    let setting = |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| settings.get(name).cloned())
    };
    let addresses = Addresses::from_settings(setting)?;
    frontend::build(root)?;
    step("building the server and the notes service (the first build takes a few minutes)");
    cargo(&["build", "-p", "server", "-p", "notes"])?;
    let mut server = Command::new(root.join("target/debug/server"));
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
    step("starting the server; Ctrl-C stops it and the notes service");
    let mut server = server
        .spawn()
        .map_err(|error| format!("cannot start the server: {error}"))?;
    // The notes service fetches the server's published keys as it starts: it starts once the
    // server answers, rather than logging that the keys cannot be fetched yet.
    if let Some(status) = wait_until_serving(root, &mut server)? {
        return exited(status);
    }
    let mut notes = Command::new(root.join("target/debug/notes"));
    notes.current_dir(root);
    if setting("AUTH_JWKS_URL").is_none() {
        notes.env("AUTH_JWKS_URL", addresses.jwks_url());
    }
    let mut notes = notes
        .spawn()
        .map_err(|error| format!("cannot start the notes service: {error}"))?;
    step(&format!(
        "notes service on {}, reached through http://{}/notes/api/",
        addresses.notes_url(),
        addresses.server
    ));
    let outcome = server
        .wait()
        .map_err(|error| format!("waiting for the server: {error}"))
        .and_then(exited);
    let _ = notes.kill();
    let _ = notes.wait();
    outcome
}

/// The variables of the workspace's `.env`, which both processes read too (an unreadable one
/// is theirs to report).
fn settings(root: &Path) -> HashMap<String, String> {
    dotenvy::from_path_iter(root.join(".env"))
        .map(|pairs| pairs.filter_map(Result::ok).collect())
        .unwrap_or_default()
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
                "the server has not answered its health check for a minute; starting the notes \
                 service anyway",
            );
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The outcome of a server that ended with `status`.
fn exited(status: ExitStatus) -> Result<(), String> {
    if status.success() {
        Ok(())
    } else {
        Err(format!("the server stopped ({status})"))
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
    fn a_port_chosen_at_start_is_refused_with_the_reason() {
        let error = addresses(&[("BIND_ADDR", "127.0.0.1:0")]).unwrap_err();
        assert_eq!(
            error,
            "BIND_ADDR=127.0.0.1:0: cargo xtask serve needs a fixed port, since the server and \
             the notes service must know where the other listens"
        );
    }
}
