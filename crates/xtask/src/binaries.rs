//! Where cargo puts what it builds. `CARGO_TARGET_DIR`, a `target-dir` in a cargo config or
//! `--target-dir` move it away from `target/`, so nothing here assumes a path: the binaries are
//! found in cargo's own report of the build (`--message-format=json`), and the target directory
//! is the one `cargo metadata` names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The executables one build produced, by name.
#[derive(Debug, Default)]
pub struct Binaries(HashMap<String, PathBuf>);

impl Binaries {
    /// Where the executable `name` is.
    pub fn path(&self, name: &str) -> Result<&Path, String> {
        let path = self
            .0
            .get(name)
            .ok_or_else(|| format!("cargo reported no executable named {name}"))?;
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "cargo reported {name} at {}, but there is no such file",
                path.display()
            ))
        }
    }
}

/// Runs `cargo build` with `args` (such as `-p server --release`) in `root`, its progress on
/// the terminal, and returns the executables it reported.
pub fn build(root: &Path, args: &[&str]) -> Result<Binaries, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--message-format=json-render-diagnostics")
        .args(args)
        .current_dir(root)
        .stdout(Stdio::piped());
    let shown = format!("{command:?}");
    let output = command
        .output()
        .map_err(|error| format!("cannot run {shown}: {error}"))?;
    if !output.status.success() {
        return Err(format!("{shown} failed ({})", output.status));
    }
    Ok(Binaries(executables(&String::from_utf8_lossy(
        &output.stdout,
    ))))
}

/// The executables that cargo's JSON messages (one per line) report, by target name.
fn executables(messages: &str) -> HashMap<String, PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|artifact| {
            let name = artifact["target"]["name"].as_str()?;
            let executable = artifact["executable"].as_str()?;
            Some((name.to_owned(), PathBuf::from(executable)))
        })
        .collect()
}

/// The directory cargo builds this workspace into (`target/` unless configured otherwise).
pub fn target_dir(root: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run cargo metadata: {error}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed ({})", output.status));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("cargo metadata printed no JSON: {error}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata names no target_directory".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executables_are_read_from_cargos_artifact_messages() {
        let messages = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/claims#0.1.0","target":{"kind":["lib"],"crate_types":["lib"],"name":"claims","src_path":"/w/crates/claims/src/lib.rs"},"filenames":["/elsewhere/debug/deps/libclaims-1.rlib"],"executable":null,"fresh":true}
{"reason":"compiler-message","package_id":"path+file:///w/crates/server#0.1.0","message":{"rendered":"warning: unused"}}
{"reason":"compiler-artifact","package_id":"path+file:///w/crates/server#0.1.0","target":{"kind":["bin"],"crate_types":["bin"],"name":"server","src_path":"/w/crates/server/src/main.rs"},"filenames":["/elsewhere/debug/server"],"executable":"/elsewhere/debug/server","fresh":false}
{"reason":"compiler-artifact","package_id":"path+file:///w/crates/notes#0.1.0","target":{"kind":["bin"],"crate_types":["bin"],"name":"notes","src_path":"/w/crates/notes/src/main.rs"},"filenames":["/elsewhere/debug/notes"],"executable":"/elsewhere/debug/notes","fresh":true}
{"reason":"build-finished","success":true}"#;

        let found = executables(messages);

        assert_eq!(
            found,
            HashMap::from([
                (
                    "server".to_owned(),
                    PathBuf::from("/elsewhere/debug/server")
                ),
                ("notes".to_owned(), PathBuf::from("/elsewhere/debug/notes")),
            ])
        );
    }

    #[test]
    fn a_missing_executable_is_named_with_its_path() {
        let binaries = Binaries(HashMap::from([(
            "server".to_owned(),
            PathBuf::from("/nowhere/debug/server"),
        )]));

        assert_eq!(
            binaries.path("server").unwrap_err(),
            "cargo reported server at /nowhere/debug/server, but there is no such file"
        );
        assert_eq!(
            binaries.path("notes").unwrap_err(),
            "cargo reported no executable named notes"
        );
    }
}
