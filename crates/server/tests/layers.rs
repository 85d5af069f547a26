//! The house rule of the server crate (see `src/lib.rs`): each module imports only from its own
//! layer and the layers below it, and the layers below HTTP know nothing of actix-web. This
//! reads every source file and checks each `crate::...` path it names.

use std::path::{Path, PathBuf};

/// The layer of each top-level module, from the ground up.
const LAYERS: &[(&str, u8)] = &[
    ("configuration", 1),
    ("auth", 2),
    ("db", 3),
    ("services", 4),
    ("http", 5),
    ("routes", 5),
    ("startup", 5),
    ("telemetry", 5),
    ("cli", 6),
];

/// The first layer allowed to use actix-web.
const HTTP_LAYER: u8 = 5;

fn layer_of(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("module `{module}` has no layer: add it to LAYERS"))
}

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to, or `None` for the crate roots.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).expect("under src/");
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// The code of a file without its unit tests (they sit in a `#[cfg(test)]` module at the end)
/// and without comments.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module named in a `crate::module` path.
fn crate_paths(code: &str) -> Vec<String> {
    code.match_indices("crate::")
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '{')
                .collect()
        })
        .collect()
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let own = layer_of(&module);
        let code = code_of(&std::fs::read_to_string(file).expect("readable"));
        for named in crate_paths(&code) {
            assert!(
                !named.starts_with('{'),
                "{}: name one module per `use crate::...` line",
                file.display()
            );
            let layer = layer_of(&named);
            if layer > own {
                violations.push(format!(
                    "{} (layer {own}) uses crate::{named} (layer {layer})",
                    file.display()
                ));
            }
        }
        if own < HTTP_LAYER && code.contains("actix_web") {
            violations.push(format!(
                "{} (layer {own}) uses actix_web, which belongs to the HTTP layer",
                file.display()
            ));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_import() {
    let code =
        code_of("use crate::db::Database;\n// use crate::http::x;\n#[cfg(test)]\nuse crate::cli;");
    assert_eq!(crate_paths(&code), ["db"]);
    assert!(layer_of("http") > layer_of("services"));
}
