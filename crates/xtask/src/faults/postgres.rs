//! A PostgreSQL of the command's own, never the machine's: `initdb` and `pg_ctl` from
//! `/usr/lib/postgresql/*/bin`, its data and socket in a temporary folder, run as an
//! unprivileged user (both refuse root), on a port of its own. Stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::run;

/// A running PostgreSQL server of this command's.
pub(super) struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    /// The user the server runs as, when this command runs as root.
    user: Option<&'static str>,
}

impl OwnPostgres {
    /// Makes a cluster in `dir` and starts it on `port`, with a database `faults`.
    pub(super) fn start(dir: &Path, port: u16) -> Result<Self, String> {
        let bin = newest_bin()?;
        // SAFETY: geteuid(2) has no preconditions.
        let root = unsafe { geteuid() } == 0;
        let user = root.then(unprivileged_user);
        let postgres = Self {
            bin,
            data: dir.join("data"),
            log: dir.join("postgres.log"),
            port,
            user,
        };
        std::fs::create_dir_all(dir).map_err(|e| format!("making {}: {e}", dir.display()))?;
        if let Some(user) = user {
            run(Command::new("chown").args(["-R", user]).arg(dir))?;
        }
        run(postgres
            .as_owner("initdb")
            .args([
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "-D",
            ])
            .arg(&postgres.data)
            .stdout(Stdio::null()))?;
        postgres.start_again()?;
        run(Command::new("psql")
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-c", "CREATE DATABASE faults"])
            .stdout(Stdio::null()))?;
        Ok(postgres)
    }

    /// The URL of database `faults`.
    pub(super) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/faults", self.port)
    }

    /// The URL of the `postgres` database, where tests create databases of their own.
    pub(super) fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the stopped server and waits until it accepts connections.
    pub(super) fn start_again(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            self.port
        );
        run(self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-o", &options, "-w", "start"])
            .stdout(Stdio::null()))
    }

    /// Stops the server as a crash would (`-m immediate`: no shutdown checkpoint; on its next
    /// start it recovers what was committed from its write-ahead log).
    pub(super) fn crash(&self) -> Result<(), String> {
        run(self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null()))
    }

    /// Runs `sql` on database `faults` and returns what it printed (unaligned, tuples only).
    pub(super) fn query(&self, sql: &str) -> Result<String, String> {
        let output = Command::new("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
            ])
            .args(["-U", "postgres", "-d", "faults", "-c", sql])
            .output()
            .map_err(|e| format!("running psql: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "psql {sql:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// `program` of the server's version, run as the unprivileged user when this is root.
    fn as_owner(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

unsafe extern "C" {
    fn geteuid() -> u32;
}

/// `postgres` where the packages made that user, otherwise `nobody`.
fn unprivileged_user() -> &'static str {
    let known = Command::new("id")
        .arg("-u")
        .arg("postgres")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if known { "postgres" } else { "nobody" }
}

/// The `bin` folder of the newest PostgreSQL installed under `/usr/lib/postgresql`.
fn newest_bin() -> Result<PathBuf, String> {
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "no PostgreSQL under /usr/lib/postgresql (apt install postgresql)")?;
    versions
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_owned())
}
