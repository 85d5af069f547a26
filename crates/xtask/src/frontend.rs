//! Builds the Leptos frontend into `dist/`: cargo for wasm32 (in its own target dir, so native
//! and wasm builds never evict each other), wasm-split (the lazy routes into modules of their
//! own, fetched when first opened), wasm-bindgen as a library (pinned to the same version as the
//! `wasm-bindgen` crate, so the two always match), then content-hashed file names so that
//! browsers and nginx may cache them forever, each with a `.gz` beside it that nginx and the
//! server send as they are (compressed once, with Zopfli, not per request).

mod split;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasm_bindgen_cli_support::Bindgen;

use crate::{run, step};

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";

/// Builds `frontend/` into `root/dist/`; returns the dist directory.
pub fn build(root: &Path) -> Result<PathBuf, String> {
    let started = Instant::now();
    ensure_wasm_target()?;
    step(
        "frontend 1/4: compiling to WebAssembly (profile wasm-release; the first build takes a few minutes)",
    );
    // Beside the native builds, wherever cargo puts those (CARGO_TARGET_DIR, say).
    let target = crate::binaries::target_dir(root)?;
    let target_dir = target.join("wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .args([
            "build",
            "-p",
            "frontend",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .envs(rustflags_with_relocations())
        .current_dir(root))?;
    let wasm = target_dir.join(TARGET).join(PROFILE).join("frontend.wasm");

    step("frontend 2/4: cutting the lazy routes into modules of their own (wasm-split)");
    let split = split::split(&wasm, &target_dir.join("split"))?;

    step("frontend 3/4: generating the JavaScript bindings (wasm-bindgen)");
    let generated = target_dir.join("bindgen");
    let _ = fs::remove_dir_all(&generated);
    Bindgen::new()
        .input_path(&split.main)
        .out_name("frontend")
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .omit_default_module_path(false)
        .typescript(false)
        // Function names are for debuggers: 462 of the wasm's 1,140 KiB (93 of 349 KiB gzipped).
        .remove_name_section(true)
        .remove_producers_section(true)
        // The lazy parts reach the app's memory, function table and shared globals through
        // exports wasm-bindgen would otherwise drop.
        .keep_lld_exports(true)
        .generate(&generated)
        .map_err(|e| format!("wasm-bindgen: {e}"))?;

    let files: Vec<PathBuf> = std::iter::once(generated.join("frontend_bg.wasm"))
        .chain(split.parts.iter().map(|(_, path)| path.clone()))
        .collect();
    let mut modules = optimized(&files)?.into_iter();
    let wasm_bytes = modules.next().unwrap_or_default();
    let parts: Vec<(String, Vec<u8>)> = split
        .parts
        .iter()
        .map(|(stem, _)| split::label(stem))
        .zip(modules)
        .collect();

    step("frontend 4/4: writing dist/");
    let dist = root.join("dist");
    let staging = target.join("dist-staging");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;

    let wasm_name = hashed_name("frontend", "wasm", &wasm_bytes);
    let part_names: Vec<(String, String)> = split
        .parts
        .iter()
        .zip(&parts)
        .map(|((stem, _), (label, bytes))| {
            (
                stem.clone(),
                hashed_name(&format!("frontend-{label}"), "wasm", bytes),
            )
        })
        .collect();
    let js = String::from_utf8(read(&generated.join("frontend.js"))?)
        .map_err(|_| "wasm-bindgen wrote JavaScript that is not UTF-8".to_owned())?;
    // The app's module and the loader import each other, so neither name can be the hash of
    // its own text: both are named by the hash of everything they are made from.
    let mut sources = Sha256::new();
    for bytes in [&wasm_bytes[..], js.as_bytes(), split.loader.as_bytes()]
        .into_iter()
        .chain(parts.iter().map(|(_, bytes)| &bytes[..]))
    {
        sources.update(Sha256::digest(bytes));
    }
    let sources = sources.finalize();
    let js_name = hashed_name("frontend", "js", &sources);
    let loader_name = hashed_name("frontend-loader", "js", &sources);
    // Only the import: the wasm asks for its imports under the placeholder's name.
    let js = split::replace_required(
        &js,
        &format!("from \"{}\"", split::LOADER_PLACEHOLDER),
        &format!("from \"./{loader_name}\""),
    )?;
    let js = with_start_call(&js, &wasm_name)?;
    let loader = split::link_loader(&split.loader, &js_name, &part_names)?;
    let css = read(&root.join("frontend/style.css"))?;
    let css_name = hashed_name("style", "css", &css);
    let index = String::from_utf8(read(&root.join("frontend/index.html"))?)
        .map_err(|_| "frontend/index.html is not UTF-8".to_owned())?
        .replace("{{script}}", &js_name)
        .replace("{{style}}", &css_name);

    let first_load: [(&String, &[u8]); 3] = [
        (&wasm_name, &wasm_bytes),
        (&js_name, js.as_bytes()),
        (&loader_name, loader.as_bytes()),
    ];
    let lazy: Vec<(&String, &[u8])> = part_names
        .iter()
        .zip(&parts)
        .map(|((_, name), (_, bytes))| (name, &bytes[..]))
        .collect();
    let style = [(&css_name, &css[..])];
    let assets: Vec<(&String, &[u8])> = first_load
        .iter()
        .chain(&style)
        .chain(&lazy)
        .copied()
        .collect();
    let twins = in_parallel(&assets, |(_, bytes)| gzip(bytes))?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    for ((name, bytes), twin) in assets.iter().zip(&twins) {
        write(&staging.join(name), bytes)?;
        write(&staging.join(format!("{name}.gz")), twin)?;
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

    // The twins are in the order of `assets`: the first load, the style, the lazy parts.
    let (first_load_twins, rest) = twins.split_at(first_load.len());
    let first_load: Vec<Size> = first_load
        .iter()
        .zip(first_load_twins)
        .map(|((name, bytes), twin)| Size {
            name: (*name).clone(),
            bytes: bytes.len(),
            gzipped: twin.len(),
        })
        .collect();
    let lazy: Vec<(String, usize)> = parts
        .iter()
        .zip(&rest[style.len()..])
        .map(|((label, _), twin)| (label.clone(), twin.len()))
        .collect();
    print_sizes(started, &first_load, &lazy);
    Ok(dist)
}

/// The linker flag wasm-split needs: `.cargo/config.toml` gives it to every wasm build.
const EMIT_RELOCS: &str = "-Clink-arg=--emit-relocs";

/// `RUSTFLAGS` or `CARGO_ENCODED_RUSTFLAGS`, when one is set, with [`EMIT_RELOCS`] added:
/// either replaces the flags of `.cargo/config.toml`.
fn rustflags_with_relocations() -> Option<(&'static str, String)> {
    if let Ok(flags) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        let separator = if flags.is_empty() { "" } else { "\x1f" };
        return Some((
            "CARGO_ENCODED_RUSTFLAGS",
            format!("{flags}{separator}{EMIT_RELOCS}"),
        ));
    }
    let flags = std::env::var("RUSTFLAGS").ok()?;
    Some(("RUSTFLAGS", format!("{flags} {EMIT_RELOCS}")))
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

/// A file of the first load, as written and as its `.gz` twin.
struct Size {
    name: String,
    bytes: usize,
    gzipped: usize,
}

/// The build's last two lines: what a browser downloads first (the app's wasm, its bindings,
/// the loader), then each lazy part (by label, and its `.gz` twin's length).
fn print_sizes(started: Instant, first_load: &[Size], parts: &[(String, usize)]) {
    let files: Vec<String> = first_load
        .iter()
        .map(|file| format!("{} {}", file.name, kib(file.bytes)))
        .collect();
    let first_load_gzip: usize = first_load.iter().map(|file| file.gzipped).sum();
    step(&format!(
        "frontend built in {:.1} s: {}; first load: wasm + js {} gzip",
        started.elapsed().as_secs_f64(),
        files.join(", "),
        kib(first_load_gzip),
    ));
    let mut pages = Vec::new();
    let (mut shared, mut shared_gzip, mut lazy_gzip) = (0, 0, 0);
    for &(ref label, gzipped) in parts {
        lazy_gzip += gzipped;
        if split::is_shared(label) {
            shared += 1;
            shared_gzip += gzipped;
        } else {
            pages.push(format!("{label} {}", kib(gzipped)));
        }
    }
    step(&format!(
        "frontend: lazy parts, gzip: {}, and {shared} shared by several of them {}; all wasm + js {} gzip",
        pages.join(", "),
        kib(shared_gzip),
        kib(first_load_gzip + lazy_gzip),
    ));
}

/// Each wasm file in `paths`, through `wasm-opt -Oz` when one of version 116 or later is found
/// (`WASM_OPT`, else `PATH`; npm's `binaryen` package has one), as many at once as there are
/// cores; else as it is. In the order given.
fn optimized(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    let Some((wasm_opt, version)) = wasm_opt() else {
        return paths.iter().map(|path| read(path)).collect();
    };
    let smaller = in_parallel(paths, |path| {
        let output = path.with_extension("opt.wasm");
        run(Command::new(&wasm_opt)
            .arg("-Oz")
            .args(WASM_FEATURES)
            .arg(path)
            .arg("-o")
            .arg(&output))?;
        read(&output)
    })?
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let before = paths
        .iter()
        .map(|path| {
            fs::metadata(path)
                .map(|meta| meta.len() as usize)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        })
        .sum::<Result<usize, _>>()?;
    let after: usize = smaller.iter().map(Vec::len).sum();
    step(&format!(
        "frontend: wasm-opt {version} -Oz on the app and its {} lazy parts: {} before, {} after",
        paths.len() - 1,
        kib(before),
        kib(after),
    ));
    Ok(smaller)
}

/// A wasm-opt of version 116 or later and its version, if there is one; says why not.
fn wasm_opt() -> Option<(PathBuf, u32)> {
    let Some(path) = crate::find_tool("WASM_OPT", "wasm-opt") else {
        step(
            "frontend: no wasm-opt (npm install --global binaryen, or set WASM_OPT): the wasm stays as wasm-bindgen and wasm-split wrote it",
        );
        return None;
    };
    match wasm_opt_version(&path) {
        Some(version) if version >= WASM_OPT_MIN_VERSION => Some((path, version)),
        version => {
            step(&format!(
                "frontend: {} is version {}, and {WASM_OPT_MIN_VERSION} or later is needed (108 breaks the module): not used",
                path.display(),
                version.map_or_else(|| "unknown".to_owned(), |v| v.to_string()),
            ));
            None
        }
    }
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
    if !js.contains("__wbg_init as default") {
        return Err(
            "the wasm-bindgen output does not export `__wbg_init as default`; update xtask/src/frontend.rs for this wasm-bindgen version"
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

/// `bytes` in gzip's format, compressed by Zopfli: any gzip reader reads it, and it is about 5%
/// smaller than gzip's best level (`gzip -9`), for a compression thirty to forty times slower
/// that the build does once. As the `.gz` files are written and as sizes are told.
fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut compressed = Vec::new();
    // Zopfli's defaults: 15 passes, which it advises for files under several megabytes.
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut compressed,
    )
    .map_err(|e| format!("zopfli: {e}"))?;
    Ok(compressed)
}

/// `work` on each of `items`, as many at once as there are cores, the results in their order;
/// an error if a worker panicked (the others finish what is left first).
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
) -> Result<Vec<R>, String> {
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut own = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            return own;
                        };
                        own.push((index, work(item)));
                    }
                })
            })
            .collect();
        // Joined here, a worker's panic is an error rather than the scope's own panic.
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|_| "a build worker panicked".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
    })?
    .into_iter()
    .flatten()
    .collect();
    done.sort_by_key(|(index, _)| *index);
    Ok(done.into_iter().map(|(_, result)| result).collect())
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Text to compress: this file.
    fn sample() -> Vec<u8> {
        include_bytes!("frontend.rs").to_vec()
    }

    #[test]
    fn a_gz_twin_reads_back_with_any_gzip_reader() {
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&sample()).unwrap()[..])
            .read_to_end(&mut unpacked)
            .expect("a valid gzip stream");
        assert_eq!(unpacked, sample());
    }

    #[test]
    fn a_gz_twin_is_smaller_than_gzips_best_level() {
        let mut best = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut best, &sample()).expect("writing to a Vec");
        let best = best.finish().expect("writing to a Vec");
        assert!(
            gzip(&sample()).unwrap().len() < best.len(),
            "zopfli {} bytes, gzip -9 {} bytes",
            gzip(&sample()).unwrap().len(),
            best.len()
        );
    }

    #[test]
    fn work_in_parallel_comes_back_in_the_order_given() {
        let items: Vec<u64> = (0..50).collect();
        // Uneven work, so that items finish out of order.
        let squares = in_parallel(&items, |n| {
            if n % 7 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            n * n
        })
        .expect("no worker panics");
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
    }

    #[test]
    fn a_worker_that_panics_is_an_error_not_a_crash() {
        let items: Vec<u64> = (0..10).collect();
        let outcome = in_parallel(&items, |n| {
            assert_ne!(*n, 3, "item 3 fails");
            n + 1
        });
        assert_eq!(outcome, Err("a build worker panicked".to_owned()));
    }

    #[test]
    fn nothing_to_do_in_parallel_is_nothing_done() {
        let items: Vec<u64> = Vec::new();
        assert_eq!(in_parallel(&items, |n| n + 1), Ok(Vec::new()));
    }
}
