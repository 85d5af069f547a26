//! `cargo xtask stack`: the production stack, really run. It builds the images (from the
//! host's build of the server and the frontend, or with `--from-source` by the Dockerfiles'
//! own build stages), brings `docker-compose.yml` up on free ports, checks it through nginx
//! over HTTPS the way a user meets it, scales it, kills a replica under load, restarts the
//! database, and takes it all down again (`down -v`). Each check prints one line.
//!
//! The engine is the one already running, or a `dockerd` started by hand ([`engine`]); the base
//! images are the public ones, or local ones made from Debian packages where no registry can
//! be reached ([`bases`]).

mod bases;
mod checks;
mod client;
mod engine;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bases::Bases;
use client::Client;
use engine::{Engine, NoEngine, output};

use crate::binaries::{self, Binaries};
use crate::{frontend, step};

/// The compose project the checks run as (a user's own `jwt-tutorial` stack is left alone).
const PROJECT: &str = "jwt-tutorial-stack";

/// The stack while it runs: `down -v` when dropped.
pub struct Stack {
    engine: Engine,
    root: PathBuf,
    /// The settings compose reads from the environment.
    env: Vec<(&'static str, String)>,
    http_port: u16,
    https_port: u16,
    /// Whether nginx is Debian's (no `resolve`: it must reload to see new replicas).
    local_nginx: bool,
    up: bool,
}

impl Stack {
    /// A compose command for this stack.
    fn compose(&self, args: &[&str]) -> Command {
        let mut command = self.engine.compose(PROJECT, args);
        command
            .current_dir(&self.root)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())));
        command
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.up {
            let _ = self.compose(&["down", "-v", "--remove-orphans"]).output();
        }
    }
}

/// `cargo xtask stack [--from-source]`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let from_source = args.iter().any(|a| a == "--from-source");
    if let Some(other) = args.iter().find(|a| *a != "--from-source") {
        return Err(format!(
            "stack: unknown argument {other:?} (only --from-source)"
        ));
    }
    run_stack(root, from_source).map_err(|failure| match failure {
        Failure::NoEngine(NoEngine(why)) => format!("no Docker engine: {why}"),
        Failure::Check(why) => why,
    })
}

/// The stack test of `cargo xtask test`: skipped, with a line saying why, when no Docker engine
/// can be had, unless `E2E_REQUIRE=1` asks for every test to run.
pub fn run_for_tests(root: &Path) -> Result<(), String> {
    match run_stack(root, false) {
        Ok(()) => Ok(()),
        Err(Failure::NoEngine(NoEngine(why)))
            if std::env::var("E2E_REQUIRE").as_deref() != Ok("1") =>
        {
            step(&format!("the Docker stack test is skipped: {why}"));
            Ok(())
        }
        Err(Failure::NoEngine(NoEngine(why))) => Err(format!(
            "no Docker engine, and E2E_REQUIRE=1 requires the stack test: {why}"
        )),
        Err(Failure::Check(why)) => Err(why),
    }
}

enum Failure {
    NoEngine(NoEngine),
    Check(String),
}

impl From<String> for Failure {
    fn from(why: String) -> Self {
        Self::Check(why)
    }
}

fn run_stack(root: &Path, from_source: bool) -> Result<(), Failure> {
    let started = Instant::now();
    let state = root.join("target/stack");
    let engine = Engine::start(&state.join("docker")).map_err(Failure::NoEngine)?;
    let bases = bases::ensure(&engine, root, &state, from_source)?;
    let built = build_images(&engine, root, &state, &bases, from_source)?;
    let (http_port, https_port) = (free_port()?, free_port()?);
    let mut env = vec![
        ("POSTGRES_IMAGE", bases.postgres.clone()),
        ("HTTP_PORT", http_port.to_string()),
        ("HTTPS_PORT", https_port.to_string()),
    ];
    if bases.local {
        // Debian's nginx is older than 1.27.3: no `resolve` in an upstream.
        env.push((
            "NGINX_UPSTREAMS",
            "server backend:8000 max_fails=1 fail_timeout=10s;".into(),
        ));
        env.push(("NGINX_NOTES_UPSTREAMS", "server notes:8001;".into()));
    }
    let mut stack = Stack {
        engine,
        root: root.to_owned(),
        env,
        http_port,
        https_port,
        local_nginx: bases.local,
        up: false,
    };
    // A stack left over from an interrupted run.
    let _ = stack.compose(&["down", "-v", "--remove-orphans"]).output();
    step(&format!(
        "docker compose up --no-build --wait (https://localhost:{https_port}, http://localhost:{http_port})"
    ));
    let up_started = Instant::now();
    stack.up = true;
    output(&mut stack.compose(&["up", "-d", "--no-build", "--wait"]))?;
    println!(
        "ok    docker compose up: db, backend, notes and web healthy in {:.0} s",
        up_started.elapsed().as_secs_f64()
    );
    let ca = state.join("tls.crt");
    let certificate =
        output(&mut stack.compose(&["exec", "-T", "web", "cat", "/etc/nginx/tls/tls.crt"]))?;
    std::fs::write(&ca, certificate).map_err(|e| e.to_string())?;
    let client = Client {
        base: format!("https://localhost:{}", stack.https_port),
        ca,
    };
    let measured = checks::all(&stack, &client)?;
    output(&mut stack.compose(&["down", "-v", "--remove-orphans"]))?;
    stack.up = false;
    println!("ok    docker compose down -v: containers, networks and volumes removed");
    step(&format!(
        "the stack passed every check in {:.0} s: {} images ({}); replica killed under load: {} of about {} GETs failed; database stopped and started: {} answers 503, recovered {:.1} s after the start, {} of {} acknowledged registrations lost",
        started.elapsed().as_secs_f64(),
        if from_source {
            "from-source"
        } else {
            "prebuilt"
        },
        built,
        measured.kill_failed,
        measured.kill_gets,
        measured.unavailable,
        measured.recovery_seconds,
        measured.lost,
        measured.acknowledged,
    ));
    Ok(())
}

/// Builds `jwt-tutorial-backend` and `jwt-tutorial-web`; returns their sizes and build times.
fn build_images(
    engine: &Engine,
    root: &Path,
    state: &Path,
    bases: &Bases,
    from_source: bool,
) -> Result<String, String> {
    let (context, target, extra) = if from_source {
        // Cargo in the build stages trusts what this machine trusts (a TLS-inspecting proxy's
        // CA included): the bundle goes into the build context, named by a build argument.
        let bundle = root.join(".stack-ca-bundle.pem");
        std::fs::copy("/etc/ssl/certs/ca-certificates.crt", &bundle)
            .map_err(|e| format!("copying the CA bundle: {e}"))?;
        (
            root.to_owned(),
            "from-source",
            vec![format!("EXTRA_CA_CERTIFICATES=.stack-ca-bundle.pem")],
        )
    } else {
        frontend::build(root)?;
        step("building the server and the notes service on the host (the test build)");
        let binaries = binaries::build(root, &["-p", "server", "-p", "notes"])?;
        (
            prebuilt_context(root, state, &binaries)?,
            "prebuilt",
            Vec::new(),
        )
    };
    let images = [
        (
            "jwt-tutorial-backend",
            "crates/server/Dockerfile",
            format!("RUNTIME_IMAGE={}", bases.runtime),
        ),
        (
            "jwt-tutorial-web",
            "nginx/Dockerfile",
            format!("NGINX_IMAGE={}", bases.nginx),
        ),
    ];
    let mut report = Vec::new();
    for (image, dockerfile, base) in images {
        step(&format!("docker build {image} (target {target})"));
        let started = Instant::now();
        let mut args = vec![
            "build".to_owned(),
            "--quiet".into(),
            "--target".into(),
            target.into(),
            "--file".into(),
            root.join(dockerfile).display().to_string(),
            "--tag".into(),
            image.into(),
            "--build-arg".into(),
            base,
            "--build-arg".into(),
            format!("RUST_IMAGE={}", bases.rust),
        ];
        for arg in &extra {
            args.push("--build-arg".into());
            args.push(arg.clone());
        }
        args.push(context.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        output(&mut engine.docker(&args))?;
        let size: f64 =
            output(&mut engine.docker(&["image", "inspect", "--format", "{{.Size}}", image]))?
                .trim()
                .parse()
                .unwrap_or(0.0);
        report.push(format!(
            "{image} {:.0} MB in {:.0} s",
            size / 1e6,
            started.elapsed().as_secs_f64()
        ));
    }
    if from_source {
        let _ = std::fs::remove_file(root.join(".stack-ca-bundle.pem"));
    }
    Ok(report.join(", "))
}

/// The build context of the `prebuilt` targets: the host's binaries, the built frontend and
/// nginx's files, and nothing else.
fn prebuilt_context(root: &Path, state: &Path, binaries: &Binaries) -> Result<PathBuf, String> {
    let context = state.join("context");
    let _ = std::fs::remove_dir_all(&context);
    std::fs::create_dir_all(context.join("nginx")).map_err(|e| e.to_string())?;
    let copy = |from: PathBuf, to: PathBuf| {
        std::fs::copy(&from, &to)
            .map(drop)
            .map_err(|e| format!("{}: {e}", from.display()))
    };
    for binary in ["server", "notes"] {
        copy(binaries.path(binary)?.to_owned(), context.join(binary))?;
    }
    for file in [
        "nginx.conf.template",
        "proxy_params.conf",
        "tls.conf",
        "render.sh",
        "healthcheck.sh",
    ] {
        copy(
            root.join("nginx").join(file),
            context.join("nginx").join(file),
        )?;
    }
    output(
        Command::new("cp")
            .arg("-r")
            .arg(root.join("dist"))
            .arg(context.join("dist")),
    )?;
    Ok(context)
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| e.to_string())
}
