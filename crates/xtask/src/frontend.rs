//! Builds the Leptos frontend into `dist/`: cargo for wasm32 (in its own target dir, so native
//! and wasm builds never evict each other), wasm-bindgen as a library (pinned to the same
//! version as the `wasm-bindgen` crate, so the two always match), then content-hashed file
//! names so that browsers and nginx may cache them forever, each with a `.gz` beside it that
//! nginx and the server send as they are (compressed once, at the best level, not per request).

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
        // Function names are for debuggers: 462 of the wasm's 1,140 KiB (93 of 349 KiB gzipped).
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&generated)
        .map_err(|e| format!("wasm-bindgen: {e}"))?;

    let wasm_bytes = optimized(&generated.join("frontend_bg.wasm"))?;

    step("frontend 3/3: writing dist/");
    let dist = root.join("dist");
    let staging = target.join("dist-staging");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;

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

    for (name, bytes) in [
        (&wasm_name, &wasm_bytes[..]),
        (&js_name, js.as_bytes()),
        (&css_name, &css[..]),
    ] {
        write(&staging.join(name), bytes)?;
        write(&staging.join(format!("{name}.gz")), &gzip(bytes))?;
    }
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

    let (wasm_gzip, js_gzip) = (gzip(&wasm_bytes).len(), gzip(js.as_bytes()).len());
    step(&format!(
        "frontend built in {:.1} s: {wasm_name} {} ({} gzip), {js_name} {} ({} gzip); wasm + js {} gzip",
        started.elapsed().as_secs_f64(),
        kib(wasm_bytes.len()),
        kib(wasm_gzip),
        kib(js.len()),
        kib(js_gzip),
        kib(wasm_gzip + js_gzip),
    ));
    Ok(dist)
}

/// The oldest wasm-opt that leaves rustc's wasm working (Debian's 108 breaks it).
const WASM_OPT_MIN_VERSION: u32 = 116;

/// The WebAssembly features rustc's `wasm32-unknown-unknown` uses, which wasm-opt must accept.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

/// The wasm at `path`, through `wasm-opt -Oz` when one of version 116 or later is found
/// (`WASM_OPT`, else `PATH`; npm's `binaryen` package has one), else as it is.
fn optimized(path: &Path) -> Result<Vec<u8>, String> {
    let wasm = read(path)?;
    let Some(wasm_opt) = crate::find_tool("WASM_OPT", "wasm-opt") else {
        step(
            "frontend: no wasm-opt (npm install --global binaryen, or set WASM_OPT): the wasm stays as wasm-bindgen wrote it",
        );
        return Ok(wasm);
    };
    let version = wasm_opt_version(&wasm_opt);
    if version.is_none_or(|version| version < WASM_OPT_MIN_VERSION) {
        step(&format!(
            "frontend: {} is version {}, and {WASM_OPT_MIN_VERSION} or later is needed (108 breaks the module): not used",
            wasm_opt.display(),
            version.map_or_else(|| "unknown".to_owned(), |v| v.to_string()),
        ));
        return Ok(wasm);
    }
    let output = path.with_extension("opt.wasm");
    run(Command::new(&wasm_opt)
        .arg("-Oz")
        .args(WASM_FEATURES)
        .arg(path)
        .arg("-o")
        .arg(&output))?;
    let smaller = read(&output)?;
    step(&format!(
        "frontend: wasm-opt {} -Oz: {} ({} gzip) before, {} ({} gzip) after",
        version.unwrap_or_default(),
        kib(wasm.len()),
        kib(gzip(&wasm).len()),
        kib(smaller.len()),
        kib(gzip(&smaller).len()),
    ));
    Ok(smaller)
}

/// The number `wasm-opt --version` prints (`wasm-opt version 132 (version_132)`).
fn wasm_opt_version(wasm_opt: &Path) -> Option<u32> {
    let output = Command::new(wasm_opt).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let after = text.split("version").nth(1)?;
    after
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())?
        .parse()
        .ok()
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

/// `bytes` gzipped at the best level, as the `.gz` files are written and as sizes are told.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
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
