//! Cuts the lazy routes (`#[lazy_route]`, `#[lazy]`) out of the app's wasm into modules of
//! their own, which the browser fetches the first time one of them is needed: wasm-split, as
//! `cargo leptos --split` runs it, used as a library. It reads the relocations the linker keeps
//! with `--emit-relocs` (`.cargo/config.toml`), so it knows every reference it must rewrite.

use std::fs;
use std::path::{Path, PathBuf};

/// The module the app's wasm imports the loaders from; the build puts the loader's hashed
/// name in its place.
pub const LOADER_PLACEHOLDER: &str = "./__wasm_split_loader__.js";
/// Where the loader imports `initSync` from; the build puts the app's hashed name in its place.
pub const APP_PLACEHOLDER: &str = "./__wasm_split_app__.js";

/// What wasm-split made of the app's wasm.
pub struct Split {
    /// The app without its lazy parts, for wasm-bindgen.
    pub main: PathBuf,
    /// Each lazy part: the name the loader fetches it by (`split_..`, `chunk_..`) and its file.
    pub parts: Vec<(String, PathBuf)>,
    /// The loader: JavaScript that fetches a part and links it to the app's memory and table.
    pub loader: String,
}

/// Splits `wasm` into `dir` (emptied first).
pub fn split(wasm: &Path, dir: &Path) -> Result<Split, String> {
    let input = fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let main = dir.join("main.wasm");
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = dir;
    options.main_out_path = &main;
    options.link_name = LOADER_PLACEHOLDER;
    options.main_module = APP_PLACEHOLDER;
    let split = wasm_split_cli_support::transform(options).map_err(|e| {
        format!(
            "wasm-split: {e:#} (it needs the linker's relocations: -Clink-arg=--emit-relocs, from .cargo/config.toml or added to RUSTFLAGS)"
        )
    })?;
    let loader_path = dir.join(LOADER_PLACEHOLDER);
    let loader = fs::read_to_string(&loader_path)
        .map_err(|e| format!("cannot read {}: {e}", loader_path.display()))?;
    let mut parts = Vec::new();
    for path in split.split_modules {
        let stem = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .ok_or_else(|| format!("wasm-split wrote {} without a name", path.display()))?;
        let part = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let part = without_names(&part).map_err(|e| format!("{}: {e}", path.display()))?;
        fs::write(&path, part).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        parts.push((stem, path));
    }
    parts.sort();
    Ok(Split {
        main,
        parts,
        loader,
    })
}

/// `wasm` without its `name` section: function names, for debuggers, which wasm-split copies
/// into every part (and in a form wasm-opt warns about); wasm-bindgen drops the app's own.
pub fn without_names(wasm: &[u8]) -> Result<Vec<u8>, String> {
    const HEADER: usize = 8; // b"\0asm" and the version
    if wasm.get(..4) != Some(b"\0asm") || wasm.len() < HEADER {
        return Err("not a wasm module".to_owned());
    }
    let mut kept = wasm[..HEADER].to_vec();
    let mut at = HEADER;
    while at < wasm.len() {
        let start = at;
        let id = wasm[at];
        let (size, size_length) = leb128(&wasm[at + 1..]).ok_or("a section size is cut short")?;
        let body = at + 1 + size_length;
        let end = body
            .checked_add(size)
            .filter(|&end| end <= wasm.len())
            .ok_or("a section runs past the end")?;
        let is_names = id == 0
            && leb128(&wasm[body..end]).is_some_and(|(length, length_size)| {
                wasm[body + length_size..end].get(..length) == Some(b"name")
            });
        if !is_names {
            kept.extend_from_slice(&wasm[start..end]);
        }
        at = end;
    }
    Ok(kept)
}

/// The unsigned LEB128 number `bytes` start with, and how many bytes it takes.
fn leb128(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (index, &byte) in bytes.iter().enumerate().take(5) {
        value |= usize::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

/// The loader with the app's and each part's hashed names in place of the names wasm-split
/// gave them; an error if one is not found (a wasm-split that writes its loader otherwise).
pub fn link_loader(
    loader: &str,
    app_name: &str,
    part_names: &[(String, String)],
) -> Result<String, String> {
    let mut linked = replace_required(loader, APP_PLACEHOLDER, &format!("./{app_name}"))?;
    for (stem, hashed) in part_names {
        linked = replace_required(
            &linked,
            &format!("\"./{stem}.wasm\""),
            &format!("\"./{hashed}\""),
        )?;
    }
    Ok(linked)
}

/// `text` with `from` (which must occur) replaced by `to`.
pub fn replace_required(text: &str, from: &str, to: &str) -> Result<String, String> {
    if !text.contains(from) {
        return Err(format!(
            "the generated JavaScript does not name {from}; update crates/xtask/src/frontend/split.rs for this wasm-split or wasm-bindgen version"
        ));
    }
    Ok(text.replace(from, to))
}

/// A lazy part's name for its file: its split point's (`split_lab` is `lab`) without the
/// decorations `#[lazy]` adds (`split___lab_page_view_1577..` is `lab_page_view`); a shared
/// chunk's as it is (`chunk_7`).
pub fn label(stem: &str) -> String {
    let Some(name) = stem.strip_prefix("split_") else {
        return stem.to_owned();
    };
    let name = name.trim_start_matches('_');
    // The #[lazy] macro appends a hash of where it was used.
    match name.rsplit_once('_') {
        Some((label, hash)) if !label.is_empty() && hash.chars().all(|c| c.is_ascii_digit()) => {
            label.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// Whether a part holds code that several lazy pages share, not one page's own.
pub fn is_shared(label: &str) -> bool {
    label.starts_with("chunk_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_part_is_named_without_the_macros_decorations() {
        assert_eq!(
            label("split___lab_page_view_15779814002168370278"),
            "lab_page_view"
        );
        assert_eq!(label("split_lab"), "lab");
        assert_eq!(label("chunk_7"), "chunk_7");
        assert!(is_shared("chunk_7"));
        assert!(!is_shared("lab_page_view"));
    }

    /// A custom section (id 0): its name, then its bytes.
    fn custom(name: &str, bytes: &[u8]) -> Vec<u8> {
        let body: Vec<u8> = [&[name.len() as u8][..], name.as_bytes(), bytes].concat();
        [&[0, body.len() as u8][..], &body].concat()
    }

    #[test]
    fn a_parts_name_section_is_dropped_and_every_other_section_kept() {
        let header = b"\0asm\x01\0\0\0";
        let types = [1, 4, 1, 0x60, 0, 0]; // one type: fn() -> ()
        let module = [
            &header[..],
            &types,
            &custom("name", &[1, 2, 3]),
            &custom("names", &[4]),
        ]
        .concat();
        assert_eq!(
            without_names(&module).unwrap(),
            [&header[..], &types, &custom("names", &[4])].concat()
        );
    }

    #[test]
    fn a_section_that_runs_past_the_end_is_an_error() {
        let module = [&b"\0asm\x01\0\0\0"[..], &[1, 9, 0]].concat();
        assert_eq!(
            without_names(&module).unwrap_err(),
            "a section runs past the end"
        );
        assert!(without_names(b"not wasm").is_err());
    }

    #[test]
    fn the_loader_imports_the_hashed_app_and_fetches_the_hashed_parts() {
        let loader = format!(
            "import {{ initSync }} from \"{APP_PLACEHOLDER}\";\nconst a = makeLoad(new URL(\"./chunk_1.wasm\", import.meta.url), []);\n"
        );
        let linked = link_loader(
            &loader,
            "frontend-0123456789abcdef.js",
            &[(
                "chunk_1".to_owned(),
                "frontend-chunk_1-fedcba9876543210.wasm".to_owned(),
            )],
        )
        .unwrap();
        assert_eq!(
            linked,
            "import { initSync } from \"./frontend-0123456789abcdef.js\";\nconst a = makeLoad(new URL(\"./frontend-chunk_1-fedcba9876543210.wasm\", import.meta.url), []);\n"
        );
    }

    #[test]
    fn a_loader_that_does_not_name_a_part_is_an_error_not_a_broken_page() {
        let loader = format!("import {{ initSync }} from \"{APP_PLACEHOLDER}\";\n");
        let error = link_loader(
            &loader,
            "frontend-0123456789abcdef.js",
            &[(
                "chunk_1".to_owned(),
                "frontend-chunk_1-fedcba9876543210.wasm".to_owned(),
            )],
        )
        .unwrap_err();
        assert!(error.contains("\"./chunk_1.wasm\""), "{error}");
    }
}
