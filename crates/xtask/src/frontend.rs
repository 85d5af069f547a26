//! Builds the Leptos frontend into `dist/`: cargo for wasm32 (in its own target dir, so native
//! and wasm builds never evict each other), wasm-bindgen as a library (pinned to the same
//! version as the `wasm-bindgen` crate, so the two always match), then content-hashed file
//! names so that browsers and nginx may cache them forever.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasm_bindgen_cli_support::Bindgen;

use crate::{cargo, run, step};

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";

/// Builds `frontend/` into `root/dist/`; returns the dist directory.
pub fn build(root: &Path) -> Result<PathBuf, String> {
    let started = Instant::now();
    ensure_wasm_target()?;
    step(
        "frontend 1/3: compiling to WebAssembly (profile wasm-release; the first build takes a few minutes)",
    );
    // Beside the native builds, wherever cargo puts those (CARGO_TARGET_DIR, say).
    let target = crate::binaries::target_dir(root)?;
    let target_dir = target.join("wasm");
    cargo(&[
        "build",
        "-p",
        "frontend",
        "--target",
        TARGET,
        "--profile",
        PROFILE,
        "--target-dir",
        &target_dir.to_string_lossy(),
    ])?;
    let wasm = target_dir.join(TARGET).join(PROFILE).join("frontend.wasm");

    step("frontend 2/3: generating the JavaScript bindings (wasm-bindgen)");
    let generated = target_dir.join("bindgen");
    let _ = fs::remove_dir_all(&generated);
    Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .omit_default_module_path(false)
        .typescript(false)
        .generate(&generated)
        .map_err(|e| format!("wasm-bindgen: {e}"))?;

    step("frontend 3/3: writing dist/");
    let dist = root.join("dist");
    let staging = target.join("dist-staging");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;

    let wasm_bytes = read(&generated.join("frontend_bg.wasm"))?;
    let wasm_name = hashed_name("frontend", "wasm", &wasm_bytes);
    let js = String::from_utf8(read(&generated.join("frontend.js"))?)
        .map_err(|_| "wasm-bindgen wrote JavaScript that is not UTF-8".to_owned())?;
    let js = with_start_call(&js, &wasm_name)?;
    let js_name = hashed_name("frontend", "js", js.as_bytes());
    let css = read(&root.join("frontend/style.css"))?;
    let css_name = hashed_name("style", "css", &css);
    let index = String::from_utf8(read(&root.join("frontend/index.html"))?)
        .map_err(|_| "frontend/index.html is not UTF-8".to_owned())?
        .replace("{{script}}", &js_name)
        .replace("{{style}}", &css_name);

    write(&staging.join(&wasm_name), &wasm_bytes)?;
    write(&staging.join(&js_name), js.as_bytes())?;
    write(&staging.join(&css_name), &css)?;
    write(&staging.join("index.html"), index.as_bytes())?;
    // The footer links the README, for the curl walkthrough beside the app (as text: no
    // browser shows Markdown).
    write(&staging.join("README.txt"), &read(&root.join("README.md"))?)?;
    for asset in fs::read_dir(root.join("frontend/assets")).map_err(|e| e.to_string())? {
        let asset = asset.map_err(|e| e.to_string())?.path();
        if let Some(name) = asset.file_name() {
            write(&staging.join(name), &read(&asset)?)?;
        }
    }
    // Swap the finished directory in, so a running server never sees a half-written dist/. A
    // target directory on another file system (CARGO_TARGET_DIR on a tmpfs, say) cannot be
    // renamed across: the files are copied beside dist/ first, then renamed.
    let _ = fs::remove_dir_all(&dist);
    if fs::rename(&staging, &dist).is_err() {
        let beside = root.join(".dist-staging");
        let _ = fs::remove_dir_all(&beside);
        copy_dir(&staging, &beside)?;
        fs::rename(&beside, &dist).map_err(|e| format!("cannot move dist/ into place: {e}"))?;
        let _ = fs::remove_dir_all(&staging);
    }

    step(&format!(
        "frontend built in {:.1} s: {wasm_name} {} ({} gzip), {js_name} {} ({} gzip)",
        started.elapsed().as_secs_f64(),
        kib(wasm_bytes.len()),
        kib(gzip_len(&wasm_bytes)),
        kib(js.len()),
        kib(gzip_len(js.as_bytes())),
    ));
    Ok(dist)
}

/// Installs the wasm target when missing: with `RUSTUP_AUTO_INSTALL=0`, rustup does not add
/// the targets `rust-toolchain.toml` lists by itself. A toolchain without rustup (a build
/// container's) must already have it.
fn ensure_wasm_target() -> Result<(), String> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(crate::workspace_root())
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .is_dir()
    {
        return Ok(());
    }
    step(&format!(
        "installing the {TARGET} target (rustup target add)"
    ));
    run(Command::new("rustup").args(["target", "add", TARGET]))
        .map_err(|error| format!("{error}; the {TARGET} target is missing from {sysroot}"))
}

/// The bindings plus the call that starts the app with the hashed wasm file.
fn with_start_call(js: &str, wasm_name: &str) -> Result<String, String> {
    if !js.contains("export default __wbg_init") {
        return Err(
            "the wasm-bindgen output has no `export default __wbg_init`; update xtask/src/frontend.rs for this wasm-bindgen version"
                .to_owned(),
        );
    }
    Ok(format!(
        "{js}\nawait __wbg_init({{ module_or_path: new URL('{wasm_name}', import.meta.url) }});\n"
    ))
}

/// `stem-<16 hex digits of SHA-256>.ext`, the shape the server and nginx cache forever.
fn hashed_name(stem: &str, extension: &str, content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    format!("{stem}-{}.{extension}", &hex::encode(digest)[..16])
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(bytes);
    encoder.finish().map_or(0, |compressed| compressed.len())
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// Copies the files of `from` (no subfolders: dist/ has none) into a new folder `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if let Some(name) = path.file_name() {
            write(&to.join(name), &read(&path)?)?;
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
