//! The base images: the public ones the Dockerfiles name by default when they are here or can
//! be pulled, otherwise local ones made from Debian packages. `mmdebstrap --variant=minbase`
//! writes a root file system into a tarball (kept under `target/stack/bases/`, so a second run
//! reuses it), and `docker import` turns it into an image (with a `PATH`, which an imported
//! image lacks).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::engine::{Engine, find, output};
use crate::step;

/// The images the stack is built on.
#[derive(Debug, Clone)]
pub struct Bases {
    /// For building in a container (`--from-source` only).
    pub rust: String,
    /// The backend's runtime.
    pub runtime: String,
    /// nginx.
    pub nginx: String,
    /// PostgreSQL, ready to run (the compose file's `db`).
    pub postgres: String,
    /// Whether these are the local stand-ins.
    pub local: bool,
}

const PUBLIC: [&str; 4] = [
    "rust:1.95-slim-bookworm",
    "debian:bookworm-slim",
    "nginx:1.28-alpine",
    "postgres:17-alpine",
];

/// Debian's packages, without documentation, manuals and translations.
const SLIM: [&str; 3] = [
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
];

/// The public images when every one needed is here or can be pulled; else local ones.
pub fn ensure(
    engine: &Engine,
    root: &Path,
    state: &Path,
    from_source: bool,
) -> Result<Bases, String> {
    let needed: Vec<&str> = PUBLIC
        .iter()
        .copied()
        .filter(|image| from_source || !image.starts_with("rust:"))
        .collect();
    if needed.iter().all(|image| present_or_pulled(engine, image)) {
        step("the public base images are here");
        return Ok(Bases {
            rust: PUBLIC[0].into(),
            runtime: PUBLIC[1].into(),
            nginx: PUBLIC[2].into(),
            postgres: PUBLIC[3].into(),
            local: false,
        });
    }
    let mmdebstrap = find("MMDEBSTRAP", "mmdebstrap").ok_or(
        "the public base images cannot be pulled, and mmdebstrap (apt install mmdebstrap) is \
         missing to make local ones",
    )?;
    let dir = state.join("bases");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let started = Instant::now();
    step(
        "making local base images from Debian packages (mmdebstrap; about a minute each, in parallel)",
    );
    let user_nginx = "--customize-hook=chroot \"$1\" useradd --system --uid 101 --user-group \
                      --no-create-home --shell /usr/sbin/nologin nginx";
    let clean_lists = "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/*";
    let mut jobs: Vec<(&str, &str, String, Vec<String>)> = vec![
        (
            "jwt-tutorial-base/debian:bookworm",
            "bookworm",
            "ca-certificates,passwd".into(),
            vec![clean_lists.into()],
        ),
        (
            "jwt-tutorial-base/nginx:bookworm",
            "bookworm",
            "nginx,openssl,gettext-base,ca-certificates".into(),
            vec![user_nginx.into(), clean_lists.into()],
        ),
        (
            "jwt-tutorial-base/postgres:17",
            "trixie",
            "postgresql-17,ca-certificates".into(),
            vec![clean_lists.into()],
        ),
    ];
    if from_source {
        jobs.push((
            "jwt-tutorial-base/rust:1.95",
            "bookworm",
            "ca-certificates,gcc,libc6-dev,make,git".into(),
            vec![
                format!(
                    "--customize-hook=copy-in {} /opt",
                    host_toolchain(root)?.display()
                ),
                clean_lists.into(),
            ],
        ));
    }
    let toolchain = toolchain_name(root);
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(image, suite, include, hooks)| {
                let tarball = dir.join(format!("{}.tar", image.replace(['/', ':'], "_")));
                let (mmdebstrap, toolchain) = (mmdebstrap.clone(), toolchain.clone());
                scope.spawn(move || {
                    make_tarball(&mmdebstrap, suite, include, hooks, &tarball)?;
                    import(engine, &tarball, image, &image_path(image, &toolchain))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a base image thread panicked".into()))
            })
            .collect()
    });
    for result in results {
        result?;
    }
    output(&mut engine.docker(&[
        "build",
        "-q",
        "-t",
        "jwt-tutorial-postgres",
        &root.join("postgres").display().to_string(),
    ]))?;
    step(&format!(
        "local base images ready in {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(Bases {
        rust: "jwt-tutorial-base/rust:1.95".into(),
        runtime: "jwt-tutorial-base/debian:bookworm".into(),
        nginx: "jwt-tutorial-base/nginx:bookworm".into(),
        postgres: "jwt-tutorial-postgres".into(),
        local: true,
    })
}

/// Whether `image` is here, or could be pulled within 20 s (no registry answers here).
fn present_or_pulled(engine: &Engine, image: &str) -> bool {
    let here = engine
        .docker(&["image", "inspect", "--format", "{{.Id}}", image])
        .output()
        .is_ok_and(|o| o.status.success());
    if here {
        return true;
    }
    let Ok(mut pull) = engine
        .docker(&["pull", "--quiet", image])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match pull.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                let _ = pull.kill();
                let _ = pull.wait();
                return false;
            }
        }
    }
}

fn make_tarball(
    mmdebstrap: &Path,
    suite: &str,
    include: &str,
    hooks: &[String],
    tarball: &Path,
) -> Result<(), String> {
    if tarball.is_file() {
        return Ok(());
    }
    let partial = tarball.with_extension("partial.tar");
    let mut command = Command::new(mmdebstrap);
    command
        .args(["--variant=minbase", "--quiet"])
        .arg(format!("--include={include}"))
        .args(SLIM)
        .args(hooks)
        .arg(suite)
        .arg(&partial);
    output(&mut command)?;
    std::fs::rename(&partial, tarball).map_err(|e| e.to_string())
}

fn import(engine: &Engine, tarball: &Path, image: &str, path: &str) -> Result<(), String> {
    output(&mut engine.docker(&[
        "import",
        "--change",
        &format!("ENV PATH={path}"),
        &tarball.display().to_string(),
        image,
    ]))
    .map(drop)
}

/// The `PATH` of an imported image: the usual one, with the copied toolchain first in the Rust
/// image.
fn image_path(image: &str, toolchain: &str) -> String {
    let usual = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    if image.contains("rust") {
        format!("/opt/{toolchain}/bin:{usual}")
    } else {
        usual.to_owned()
    }
}

/// The toolchain the workspace pins (rust-toolchain.toml), as installed on this host: copied
/// into the local Rust image, since rustup cannot download one here.
fn host_toolchain(root: &Path) -> Result<PathBuf, String> {
    let sysroot = output(
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .current_dir(root),
    )?;
    Ok(PathBuf::from(sysroot.trim()))
}

fn toolchain_name(root: &Path) -> String {
    host_toolchain(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}
