//! Builds the book in `docs/` with mdBook into `target/book/`, installing mdBook with cargo
//! into `target/tools/` the first time (nothing is downloaded at run time but crates).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, run, step};

/// The mdBook release the book is written for.
const MDBOOK_VERSION: &str = "0.5.4";

/// Builds the book; returns the directory of the HTML.
pub fn build(root: &Path) -> Result<PathBuf, String> {
    let mdbook = mdbook(root)?;
    step("building the book (mdBook) into target/book/");
    run(Command::new(mdbook).arg("build").arg(root.join("docs")))?;
    Ok(root.join("target/book"))
}

/// `mdbook` from `PATH` when it is the expected version, else from `target/tools/`.
fn mdbook(root: &Path) -> Result<PathBuf, String> {
    let local = root.join("target/tools/bin/mdbook");
    for candidate in [PathBuf::from("mdbook"), local.clone()] {
        let version = Command::new(&candidate).arg("--version").output();
        if let Ok(output) = version
            && String::from_utf8_lossy(&output.stdout).contains(MDBOOK_VERSION)
        {
            return Ok(candidate);
        }
    }
    step(&format!(
        "installing mdBook {MDBOOK_VERSION} into target/tools/ (once; a few minutes)"
    ));
    cargo(&[
        "install",
        "mdbook",
        "--locked",
        "--version",
        MDBOOK_VERSION,
        "--root",
        &root.join("target/tools").to_string_lossy(),
    ])?;
    Ok(local)
}
