//! The house rule of the server crate (see `src/lib.rs`): each module imports only from its own
//! floor and the floors below it, and the floors below HTTP know nothing of actix-web. This
//! reads every source file and checks each `crate::...` path it names.

use std::path::{Path, PathBuf};

/// The floor of each top-level module, from the ground up.
const FLOORS: &[(&str, u8)] = &[
    ("configuration", 1),
    ("clock", 1),
    ("memo", 1),
    ("auth", 2),
    ("db", 3),
    ("services", 4),
    ("http", 5),
    ("routes", 6),
    ("startup", 7),
    ("cli", 8),
];

/// The first floor allowed to use actix-web.
const HTTP_FLOOR: u8 = 5;

/// Files of one floor that must not import each other: minting and checking tokens share the
/// codec (`auth/codec.rs`) and nothing else.
const STRANGERS: &[(&str, &str)] = &[
    ("auth/check.rs", "auth::mint"),
    ("auth/mint.rs", "auth::check"),
];

fn floor_of(module: &str) -> u8 {
    FLOORS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, floor)| *floor)
        .unwrap_or_else(|| panic!("module `{module}` has no floor: add it to FLOORS"))
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

/// The top-level module of a file (by its path under `src/`), or `None` for the crate roots.
fn module_of(relative: &str) -> Option<String> {
    let first = relative.split('/').next()?;
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

/// Every path named after `crate::`, up to the item (`auth::mint::TokenCodec`).
fn crate_paths(code: &str) -> Vec<String> {
    code.match_indices("crate::")
        .map(|(at, _)| {
            code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '{' || *c == ':')
                .collect()
        })
        .collect()
}

/// What breaks the house rule in one file, given as its path under `src/` and its text.
fn violations_in(relative: &str, text: &str) -> Vec<String> {
    let Some(module) = module_of(relative) else {
        return Vec::new();
    };
    let own = floor_of(&module);
    let code = code_of(text);
    let mut found = Vec::new();
    for path in crate_paths(&code) {
        assert!(
            !path.starts_with('{'),
            "{relative}: name one module per `use crate::...` line"
        );
        let named = path.split("::").next().unwrap_or_default();
        let floor = floor_of(named);
        if floor > own {
            found.push(format!(
                "{relative} (floor {own}) uses crate::{named} (floor {floor})"
            ));
        }
        for (file, stranger) in STRANGERS {
            if relative == *file && path.starts_with(stranger) {
                found.push(format!("{relative} uses crate::{stranger}"));
            }
        }
    }
    if own < HTTP_FLOOR && code.contains("actix_web") {
        found.push(format!(
            "{relative} (floor {own}) uses actix_web, which belongs to the HTTP floor"
        ));
    }
    found
}

#[test]
fn no_module_imports_from_a_floor_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&src)
            .expect("under src/")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(file).expect("readable");
        violations.extend(violations_in(&relative, &text));
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn a_planted_upward_import_is_found() {
    let planted = "use crate::routes::API_PREFIXES;\nfn f() {}";
    assert_eq!(
        violations_in("http/middleware.rs", planted),
        ["http/middleware.rs (floor 5) uses crate::routes (floor 6)"]
    );
    let planted = "use crate::http::HttpSettings;";
    assert_eq!(
        violations_in("configuration.rs", planted),
        ["configuration.rs (floor 1) uses crate::http (floor 5)"]
    );
}

#[test]
fn minting_and_checking_may_not_import_each_other() {
    assert_eq!(
        violations_in("auth/check.rs", "use crate::auth::mint::TokenCodec;"),
        ["auth/check.rs uses crate::auth::mint"]
    );
    assert!(violations_in("auth/check.rs", "use crate::auth::codec::TokenCodec;").is_empty());
}

#[test]
fn actix_web_below_the_http_floor_is_found() {
    assert_eq!(
        violations_in("services/tokens.rs", "use actix_web::web;"),
        ["services/tokens.rs (floor 4) uses actix_web, which belongs to the HTTP floor"]
    );
}

#[test]
fn comments_and_unit_tests_are_not_imports() {
    let code =
        code_of("use crate::db::Database;\n// use crate::http::x;\n#[cfg(test)]\nuse crate::cli;");
    assert_eq!(crate_paths(&code), ["db::Database"]);
}
