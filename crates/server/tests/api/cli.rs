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
    assert!(message.contains("a key of 32 to 4096 bytes"), "{message}");
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
    assert_eq!(stdout(&issued).lines().count(), 1, "one line of JSON");
    let pair: Value = serde_json::from_str(&stdout(&issued)).expect("JSON on stdout");
    assert_eq!(payload_of(pair["access"].as_str().unwrap())["user_id"], "1");
    assert_eq!(
        payload_of(pair["refresh"].as_str().unwrap())["token_type"],
        "refresh"
    );
    // The development key was generated on first use and kept for the next start.
    assert!(dir.path().join(".secret_key").exists());
}

/// A user "ada" with the tests' password, made with `createuser` in `dir`.
fn make_ada(dir: &std::path::Path) {
    let created = server(
        dir,
        &["createuser", "ada", "--password-stdin"],
        &[],
        &format!("{PASSWORD}\n"),
    );
    assert!(created.status.success(), "{}", stderr(&created));
}

#[test]
fn changepassword_sets_a_password_that_logs_in_and_ends_the_sessions() {
    let dir = tempfile::tempdir().unwrap();
    make_ada(dir.path());
    let issued = server(dir.path(), &["token", "ada"], &[], "");
    assert!(issued.status.success(), "{}", stderr(&issued));

    let changed = server(
        dir.path(),
        &["changepassword", "ada", "--password-stdin"],
        &[],
        "a-brand-new-passphrase\n",
    );

    assert_eq!(
        stdout(&changed),
        "Password changed for user \"ada\"; every session of theirs ended.\n",
        "{}",
        stderr(&changed)
    );
    let mut conn = server::db::connect_once(&server::configuration::DatabaseUrl::Sqlite(
        dir.path().join("db.sqlite3"),
    ))
    .unwrap();
    let user = server::db::users::find_by_username(&mut conn, "ada")
        .unwrap()
        .unwrap();
    let hasher = server::auth::password::PasswordHasher::new(4).unwrap();
    assert!(hasher.verify("a-brand-new-passphrase", &user.password));
    // The pair `token` printed (outside any family) was blacklisted with the rest.
    let pair: Value = serde_json::from_str(&stdout(&issued)).unwrap();
    let jti = payload_of(pair["refresh"].as_str().unwrap())["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(server::db::tokens::is_blacklisted(&mut conn, &jti).unwrap());
}

#[test]
fn changepassword_applies_the_password_rules() {
    let dir = tempfile::tempdir().unwrap();
    make_ada(dir.path());

    let changed = server(
        dir.path(),
        &["changepassword", "ada", "--password-stdin"],
        &[],
        "ada\n",
    );

    assert_eq!(changed.status.code(), Some(2));
    assert_eq!(
        stderr(&changed),
        "error: password: The password is too similar to the username.\n\
         password: This password is too short. It must contain at least 8 characters.\n\
         password: This password is too common.\n"
    );
}

#[test]
fn deactivateuser_and_activateuser_say_what_they_did() {
    let dir = tempfile::tempdir().unwrap();
    make_ada(dir.path());

    let off = server(dir.path(), &["deactivateuser", "ada"], &[], "");
    let token = server(dir.path(), &["token", "ada"], &[], "");
    let on = server(dir.path(), &["activateuser", "ada"], &[], "");

    assert_eq!(
        stdout(&off),
        "User \"ada\" is inactive; every session of theirs ended.\n"
    );
    assert_eq!(stderr(&token), "error: no active user named \"ada\"\n");
    assert_eq!(stdout(&on), "User \"ada\" is active.\n");
}

#[test]
fn deactivating_an_unknown_user_says_so() {
    let dir = tempfile::tempdir().unwrap();

    let output = server(dir.path(), &["deactivateuser", "nobody"], &[], "");

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "error: no user named \"nobody\"\n");
}

#[test]
fn flushexpiredtokens_deletes_ended_sessions() {
    let dir = tempfile::tempdir().unwrap();
    make_ada(dir.path());
    let mut conn = server::db::connect_once(&server::configuration::DatabaseUrl::Sqlite(
        dir.path().join("db.sqlite3"),
    ))
    .unwrap();
    // A session that ended five seconds ago, with its one refresh token.
    let user = server::db::users::find_by_username(&mut conn, "ada")
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let family = server::db::families::Family {
        id: "f".repeat(32),
        user_id: Some(user.id),
        created_at: server::auth::datetime(now - 10),
        expires_at: server::auth::datetime(now - 5),
        current_jti: "j".repeat(32),
        previous_jti: None,
        rotated_at: None,
        revoked_at: None,
        reason: None,
    };
    let first = server::db::tokens::OutstandingToken {
        user_id: Some(user.id),
        jti: "j".repeat(32),
        token: "a.b.c".into(),
        created_at: Some(server::auth::datetime(now - 10)),
        expires_at: server::auth::datetime(now - 5),
        family_id: Some("f".repeat(32)),
    };
    server::db::families::start(&mut conn, &family, &first).unwrap();

    let output = server(dir.path(), &["flushexpiredtokens"], &[], "");

    assert_eq!(
        stdout(&output),
        "Deleted 1 expired tokens and 1 token families past their lifetime.\n"
    );
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
        "Deleted 0 expired tokens and 0 token families past their lifetime.\n"
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

#[test]
fn keys_generate_list_and_retire_rotate_a_key_directory() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_DIR", "keys")];

    let first = server(dir.path(), &["keys", "generate"], &env, "");
    let second = server(dir.path(), &["keys", "generate"], &env, "");
    let kid = |output: &Output| {
        stdout(output)
            .strip_prefix("Generated ES256 key ")
            .and_then(|rest| rest.split(';').next())
            .expect("the new kid")
            .to_owned()
    };
    let (old, new) = (kid(&first), kid(&second));
    let retired = server(dir.path(), &["keys", "retire", &old], &env, "");
    let listed = server(dir.path(), &["keys", "list"], &env, "");

    assert_eq!(
        stdout(&retired),
        format!(
            "Retired key {old}: running servers refuse its tokens within 5 seconds, when they \
             next read the key directory.\n"
        )
    );
    let rows: Vec<Vec<String>> = stdout(&listed)
        .lines()
        .map(|line| {
            line.split("  ")
                .filter(|c| !c.is_empty())
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(rows[0], ["KID", "ALGORITHM", "CREATED (UTC)", "STATE"]);
    let mut states: Vec<(&str, &str, &str)> = rows[1..]
        .iter()
        .map(|row| (row[3].as_str(), row[0].as_str(), row[1].as_str()))
        .collect();
    states.sort_unstable();
    assert_eq!(
        states,
        [
            ("current", new.as_str(), "ES256"),
            ("retired", old.as_str(), "ES256")
        ]
    );
}

#[test]
fn a_kid_that_begins_with_a_hyphen_is_a_kid_not_an_option() {
    // A kid is base64url: one in 64 begins with "-".
    let dir = tempfile::tempdir().unwrap();
    let env = [("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_DIR", "keys")];
    server(dir.path(), &["keys", "generate"], &env, "");

    let output = server(dir.path(), &["keys", "retire", "-Yw2AQtb6kL6ue"], &env, "");

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: no key \"-Yw2AQtb6kL6ue\" in keys\n"
    );
}

#[test]
fn keys_retire_refuses_the_current_key() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("JWT_ALGORITHM", "EdDSA"), ("JWT_KEYS_DIR", "keys")];
    let generated = server(dir.path(), &["keys", "generate"], &env, "");
    let kid = stdout(&generated)
        .strip_prefix("Generated EdDSA key ")
        .and_then(|rest| rest.split(';').next())
        .expect("the new kid")
        .to_owned();

    let output = server(dir.path(), &["keys", "retire", &kid], &env, "");

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: {kid} is the current key: generate a new one first (server keys generate)\n"
        )
    );
}

#[test]
fn a_key_directory_with_an_hmac_algorithm_is_refused() {
    let dir = tempfile::tempdir().unwrap();

    let output = server(dir.path(), &[], &[("JWT_KEYS_DIR", "keys")], "");

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: JWT_KEYS_DIR: expected unset with an HMAC JWT_ALGORITHM (a key directory holds key pairs: set JWT_ALGORITHM=ES256, RS256 or EdDSA), got \"keys\"\n"
    );
}
