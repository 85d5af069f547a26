//! The `server` binary: its commands and how it refuses bad settings at start.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::helpers::*;

/// Runs the `server` binary in a fresh directory with only the given environment.
pub(crate) fn server(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("BCRYPT_COST", "4")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("it finishes")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_bad_setting_stops_the_server_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();

    let output = server(dir.path(), &[], &[("BCRYPT_COST", "cheap")], "");

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: BCRYPT_COST: expected a whole number from 4 to 31, got \"cheap\"\n"
    );
}

#[test]
fn a_secret_key_shorter_than_32_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();

    let output = server(dir.path(), &[], &[("SECRET_KEY", "too-short")], "");

    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: SECRET_KEY: expected "),
        "{message}"
    );
    assert!(message.contains("32 bytes"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn migrate_applies_the_migrations_once() {
    let dir = tempfile::tempdir().unwrap();

    let first = server(dir.path(), &["migrate"], &[], "");
    let second = server(dir.path(), &["migrate"], &[], "");

    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).starts_with("Applied migration "),
        "{}",
        stdout(&first)
    );
    assert_eq!(stdout(&second), "No migrations to apply.\n");
    assert!(dir.path().join("db.sqlite3").exists());
}

#[test]
fn createuser_then_token_prints_a_working_pair() {
    let dir = tempfile::tempdir().unwrap();

    let created = server(
        dir.path(),
        &["createuser", "ada", "--password-stdin"],
        &[],
        "correct-horse-battery\n",
    );
    let issued = server(dir.path(), &["token", "ada"], &[], "");

    assert_eq!(stdout(&created), "Created user \"ada\" (id 1).\n");
    assert!(issued.status.success(), "{}", stderr(&issued));
    let pair: Value = serde_json::from_str(&stdout(&issued)).expect("JSON on stdout");
    assert_eq!(payload_of(pair["access"].as_str().unwrap())["user_id"], "1");
    assert_eq!(
        payload_of(pair["refresh"].as_str().unwrap())["token_type"],
        "refresh"
    );
    // The development key was generated on first use and kept for the next start.
    assert!(dir.path().join(".secret_key").exists());
}

#[test]
fn createuser_applies_the_password_rules() {
    let dir = tempfile::tempdir().unwrap();

    let output = server(
        dir.path(),
        &["createuser", "ada", "--password-stdin"],
        &[],
        "12345\n",
    );

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: password: This password is too short. It must contain at least 8 characters.\n\
         password: This password is too common.\n\
         password: This password is entirely numeric.\n"
    );
}

#[test]
fn token_for_an_unknown_user_says_so() {
    let dir = tempfile::tempdir().unwrap();

    let output = server(dir.path(), &["token", "nobody"], &[], "");

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "error: no active user named \"nobody\"\n");
}

#[test]
fn flushexpiredtokens_reports_what_it_deleted() {
    let dir = tempfile::tempdir().unwrap();

    let output = server(dir.path(), &["flushexpiredtokens"], &[], "");

    assert_eq!(
        stdout(&output),
        "Deleted 0 expired tokens and 0 ended token families.\n"
    );
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "serve",
        "migrate",
        "createuser",
        "flushexpiredtokens",
        "token",
    ] {
        let output = server(dir.path(), &[command, "--help"], &[], "");
        assert!(output.status.success(), "{command} --help");
        assert!(
            stdout(&output).contains(&format!("Usage: server {command}")),
            "{command}"
        );
    }
}

#[actix_web::test]
async fn healthcheck_passes_against_a_running_server() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let bind = format!("0.0.0.0:{}", app.port);

    let output = actix_web::rt::task::spawn_blocking(move || {
        server(dir.path(), &["healthcheck"], &[("BIND_ADDR", &bind)], "")
    })
    .await
    .unwrap();

    assert_eq!(stdout(&output), "healthy\n", "{}", stderr(&output));
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let dir = tempfile::tempdir().unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();

    let output = server(
        dir.path(),
        &["healthcheck"],
        &[("BIND_ADDR", &free.to_string())],
        "",
    );

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: unhealthy: "),
        "{}",
        stderr(&output)
    );
}
