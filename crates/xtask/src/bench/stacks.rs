//! The two servers under test: this one (release build) and the Django peer under gunicorn,
//! each in a process group of its own so that its memory can be summed and it can be stopped.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{http_get, http_post_json};
use super::{BCRYPT_COST, PASSWORD, SECRET, USERNAME};
use crate::{run, step};

/// A server under test: its base URL and its process (group) for RSS.
pub(crate) struct Side {
    pub(crate) base: String,
    pub(crate) child: Child,
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
    pub(crate) fn libc_kill(pid: i32, signal: i32) -> i32;
}

pub(super) fn start_ours(
    server: &Path,
    work: &Path,
    name: &str,
    port: u16,
    settings: &[(&str, &str)],
) -> Result<Side, String> {
    start_ours_on(None, server, work, name, port, settings)
}

/// [`start_ours`], with the server confined to `core` when one is given.
pub(super) fn start_ours_on(
    core: Option<usize>,
    server: &Path,
    work: &Path,
    name: &str,
    port: u16,
    settings: &[(&str, &str)],
) -> Result<Side, String> {
    let dir = work.join(name);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut command = on_core(core, server);
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
    let side = spawn(command, port, "/ping/")?;
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

pub(super) fn start_peer(
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
    spawn(gunicorn, port, "/ping/")
}

/// `program`, confined to `core` with `taskset -c` when one is given (the program replaces
/// taskset, so the child's pid is the program's).
pub(super) fn on_core(core: Option<usize>, program: impl AsRef<OsStr>) -> Command {
    match core {
        Some(core) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(core.to_string()).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Starts `command` in a process group of its own and waits (up to 30 s) until `ready_path`
/// answers 200 on `port`.
pub(crate) fn spawn(mut command: Command, port: u16, ready_path: &str) -> Result<Side, String> {
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
    while http_get(&side.base, ready_path).map(|(status, _)| status) != Ok(200) {
        if Instant::now() > deadline {
            return Err(format!("{} did not come up", side.base));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(side)
}

/// The peer's virtualenv, created (and the pinned requirements installed) when missing.
pub(super) fn peer_virtualenv(root: &Path) -> Result<PathBuf, String> {
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
