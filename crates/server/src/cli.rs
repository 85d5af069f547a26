//! The command line, in the spirit of Django's `manage.py`: `serve` (the default), `migrate`,
//! `createuser`, `changepassword`, `deactivateuser`/`activateuser`, `flushexpiredtokens`,
//! `token`, `keys` and `healthcheck`. Changes to users take effect on running servers: at once on
//! PostgreSQL (the command announces them), within `AUTH_CACHE_TTL` on SQLite.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use claims::Credentials;
use clap::{Parser, Subcommand};
use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::keyset::{self, KeyState};
use crate::auth::password::PasswordHasher;
use crate::auth::{TokenCodec, datetime, keys};
use crate::clock::system_now as now;
use crate::configuration::{ConfigError, Settings};
use crate::db::{self, families, tokens as token_store, users};
use crate::services::tokens::{self, mint_pair};
use crate::services::{ServiceError, accounts};
use crate::startup::Application;

/// The JWT tutorial API server. Settings come from the environment and `.env`
/// (see the README's settings table).
#[derive(Debug, Parser)]
#[command(name = "server", version)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the API on BIND_ADDR (default 127.0.0.1:8000).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a user (like `manage.py createsuperuser`); asks for the password twice.
    Createuser {
        /// The new user's username.
        #[arg(allow_hyphen_values = true)]
        username: String,
        /// Mark the user as staff.
        #[arg(long)]
        staff: bool,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (like `manage.py changepassword`); every session of theirs ends.
    Changepassword {
        /// Whose password.
        #[arg(allow_hyphen_values = true)]
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Mark a user inactive: they cannot log in, and their tokens stop working.
    Deactivateuser {
        /// Whom.
        #[arg(allow_hyphen_values = true)]
        username: String,
    },
    /// Mark a user active again.
    Activateuser {
        /// Whom.
        #[arg(allow_hyphen_values = true)]
        username: String,
    },
    /// Delete outstanding and blacklisted tokens, denied access tokens and token families that
    /// have expired.
    Flushexpiredtokens,
    /// Print a fresh refresh/access pair for USERNAME as JSON, for curl experiments.
    Token {
        /// Whose tokens to issue.
        #[arg(allow_hyphen_values = true)]
        username: String,
    },
    /// Manage the signing keys of JWT_KEYS_DIR: generate (rotate), list, retire.
    Keys {
        /// What to do with them.
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Exit 0 when the server on BIND_ADDR answers `GET /healthz` with 200 (for container
    /// health checks, which then need no curl in the image).
    Healthcheck {
        /// Another address to ask (the notes service's, say); default BIND_ADDR.
        #[arg(long)]
        addr: Option<String>,
        /// Another path to ask; default /healthz.
        #[arg(long, default_value = "/healthz")]
        path: String,
    },
}

/// `server keys ...`: the rotation of a key directory. Running servers follow within a few
/// seconds, without a restart.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new key and make it current: new tokens are signed with it, tokens of the
    /// previous keys keep verifying until they expire.
    Generate {
        /// ES256, ES384, EdDSA, RS256, RS384 or RS512; default JWT_ALGORITHM, or ES256 when
        /// that is an HMAC algorithm.
        #[arg(long)]
        algorithm: Option<String>,
        /// The key directory; default JWT_KEYS_DIR.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Show every key: kid, algorithm, created, and current, verifying or retired.
    List {
        /// The key directory; default JWT_KEYS_DIR.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Stop a key's tokens from verifying (once they have expired, nobody notices).
    Retire {
        /// The key's kid, as `keys list` shows it (a kid may begin with `-`: base64url).
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// The key directory; default JWT_KEYS_DIR.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// A failed command: the message to print and the process exit code.
#[derive(Debug)]
pub struct Failure {
    /// One line for the user.
    pub message: String,
    /// 2 for a setting or usage problem, 1 for anything else.
    pub exit_code: u8,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: 2,
        }
    }

    fn runtime(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: 1,
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Self::usage(error.to_string())
    }
}

impl From<db::DbError> for Failure {
    fn from(error: db::DbError) -> Self {
        Self::runtime(format!("database: {error}"))
    }
}

/// Runs one command to completion.
pub fn execute(command: Command, settings: Settings) -> Result<(), Failure> {
    match command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Createuser {
            username,
            staff,
            password_stdin,
        } => create_user(&settings, &username, staff, password_stdin),
        Command::Changepassword {
            username,
            password_stdin,
        } => change_password(&settings, &username, password_stdin),
        Command::Deactivateuser { username } => set_active(&settings, &username, false),
        Command::Activateuser { username } => set_active(&settings, &username, true),
        Command::Flushexpiredtokens => flush_expired_tokens(&settings),
        Command::Token { username } => print_token(&settings, &username),
        Command::Keys { action } => manage_keys(&settings, action),
        Command::Healthcheck { addr, path } => {
            healthcheck(addr.as_deref().unwrap_or(&settings.bind_addr), &path)
        }
    }
}

fn serve(settings: Settings) -> Result<(), Failure> {
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings).map_err(|error| match error {
            crate::startup::StartupError::Config(error) => Failure::from(error),
            other => Failure::runtime(other.to_string()),
        })?;
        application
            .run_until_stopped()
            .await
            .map_err(|error| Failure::runtime(format!("server stopped: {error}")))
    })
}

fn migrate(settings: &Settings) -> Result<(), Failure> {
    let mut conn = db::connect_once(&settings.database_url)?;
    let applied = db::run_migrations(&mut conn)?;
    if applied.is_empty() {
        println!("No migrations to apply.");
    }
    for version in applied {
        println!("Applied migration {version}");
    }
    Ok(())
}

fn create_user(
    settings: &Settings,
    username: &str,
    is_staff: bool,
    password_stdin: bool,
) -> Result<(), Failure> {
    let password = if password_stdin {
        password_from_stdin()?
    } else {
        prompt_password()?
    };
    let hasher = PasswordHasher::new(settings.bcrypt_cost)
        .map_err(|error| Failure::runtime(error.to_string()))?;
    let mut conn = migrated_connection(settings)?;
    let credentials = Credentials {
        username: username.to_owned(),
        password,
    };
    match accounts::create_user(&mut conn, &hasher, &credentials, is_staff, now()) {
        Ok(user) => {
            println!("Created user {:?} (id {}).", user.username, user.id);
            Ok(())
        }
        Err(ServiceError::Invalid(fields)) => {
            let problems: Vec<String> = fields
                .into_iter()
                .flat_map(|(field, messages)| {
                    messages.into_iter().map(move |m| format!("{field}: {m}"))
                })
                .collect();
            Err(Failure::usage(problems.join("\n")))
        }
        Err(other) => Err(Failure::runtime(failure_text(&other))),
    }
}

/// An error and its causes, for a command's one line of failure.
fn failure_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn change_password(
    settings: &Settings,
    username: &str,
    password_stdin: bool,
) -> Result<(), Failure> {
    let mut conn = migrated_connection(settings)?;
    let user = existing_user(&mut conn, username)?;
    let password = if password_stdin {
        password_from_stdin()?
    } else {
        prompt_password()?
    };
    let problems =
        crate::auth::password::password_problems(password.expose_secret(), &user.username);
    if !problems.is_empty() {
        return Err(Failure::usage(
            problems
                .iter()
                .map(|m| format!("password: {m}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    let hasher = PasswordHasher::new(settings.bcrypt_cost)
        .map_err(|error| Failure::runtime(error.to_string()))?;
    let hash = hasher
        .hash(password.expose_secret())
        .map_err(|error| Failure::runtime(error.to_string()))?;
    let changed =
        accounts::set_password_ending_sessions(&mut conn, user.id, &user.password, &hash, now())?;
    if changed.is_none() {
        return Err(Failure::runtime(format!(
            "the password of {:?} changed while this command ran; run it again",
            user.username
        )));
    }
    println!(
        "Password changed for user {:?}; every session of theirs ended.",
        user.username
    );
    Ok(())
}

fn set_active(settings: &Settings, username: &str, active: bool) -> Result<(), Failure> {
    let mut conn = migrated_connection(settings)?;
    let user = existing_user(&mut conn, username)?;
    if active {
        users::set_active(&mut conn, user.id, true)?;
        println!("User {:?} is active.", user.username);
    } else {
        accounts::deactivate(&mut conn, user.id, now())?;
        println!(
            "User {:?} is inactive; every session of theirs ended.",
            user.username
        );
    }
    Ok(())
}

fn existing_user(conn: &mut db::AnyConnection, username: &str) -> Result<users::User, Failure> {
    users::find_by_username(conn, username)?
        .ok_or_else(|| Failure::usage(format!("no user named {username:?}")))
}

fn password_from_stdin() -> Result<SecretString, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| Failure::runtime(format!("cannot read standard input: {error}")))?;
    Ok(SecretString::from(line.trim_end_matches(['\r', '\n'])))
}

fn prompt_password() -> Result<SecretString, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "no terminal to ask for the password on: pass --password-stdin and pipe it in",
        ));
    }
    let read = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|error| Failure::runtime(format!("cannot read the password: {error}")))
    };
    let password = read("Password: ")?;
    if read("Password (again): ")? != password {
        return Err(Failure::usage("the two passwords did not match"));
    }
    Ok(SecretString::from(password))
}

fn flush_expired_tokens(settings: &Settings) -> Result<(), Failure> {
    let mut conn = migrated_connection(settings)?;
    let deleted = token_store::flush_expired(&mut conn, datetime(now()))?;
    let ended = families::flush_expired(&mut conn, datetime(now()))?;
    println!("Deleted {deleted} expired tokens and {ended} token families past their lifetime.");
    Ok(())
}

fn manage_keys(settings: &Settings, action: KeysCommand) -> Result<(), Failure> {
    let directory = |dir: Option<PathBuf>| {
        dir.or_else(|| settings.jwt.keys_dir.clone())
            .ok_or_else(|| Failure::usage("no key directory: set JWT_KEYS_DIR, or pass --dir"))
    };
    match action {
        KeysCommand::Generate { algorithm, dir } => {
            let directory = directory(dir)?;
            let algorithm = match algorithm {
                Some(name) => key_pair_algorithm(&name)?,
                None => match settings.jwt.algorithm {
                    Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Algorithm::ES256,
                    configured => configured,
                },
            };
            std::fs::create_dir_all(&directory)
                .map_err(|error| Failure::runtime(format!("{}: {error}", directory.display())))?;
            let kid = keyset::add_key(&directory, algorithm).map_err(Failure::runtime)?;
            println!(
                "Generated {algorithm:?} key {kid}; it signs new tokens from now on (servers follow within seconds)."
            );
            Ok(())
        }
        KeysCommand::List { dir } => {
            let directory = directory(dir)?;
            let keys = keyset::list_keys(&directory).map_err(Failure::runtime)?;
            println!(
                "{:<43}  {:<9}  {:<19}  STATE",
                "KID", "ALGORITHM", "CREATED (UTC)"
            );
            for key in keys {
                let created: chrono::DateTime<chrono::Utc> = key.created.into();
                let state = match key.state {
                    KeyState::Current => "current",
                    KeyState::Verifying => "verifying",
                    KeyState::Retired => "retired",
                };
                println!(
                    "{:<43}  {:<9}  {:<19}  {state}",
                    key.kid,
                    key.kind,
                    created.format("%Y-%m-%d %H:%M:%S")
                );
            }
            Ok(())
        }
        KeysCommand::Retire { kid, dir } => {
            let directory = directory(dir)?;
            keyset::retire_key(&directory, &kid).map_err(Failure::usage)?;
            println!(
                "Retired key {kid}: running servers refuse its tokens within {} seconds, when \
                 they next read the key directory.",
                crate::auth::codec::RELOAD_EVERY.as_secs()
            );
            Ok(())
        }
    }
}

fn key_pair_algorithm(name: &str) -> Result<Algorithm, Failure> {
    match name.parse::<Algorithm>() {
        Ok(algorithm) if claims::KEY_PAIR_ALGORITHMS.contains(&name) => Ok(algorithm),
        _ => Err(Failure::usage(format!(
            "--algorithm: expected one of {}, got {name:?}",
            claims::KEY_PAIR_ALGORITHMS.join(", ")
        ))),
    }
}

fn print_token(settings: &Settings, username: &str) -> Result<(), Failure> {
    let keys = keys::load(settings)?;
    let codec = TokenCodec::with_keys(settings.jwt.clone(), keys.set);
    let mut conn = migrated_connection(settings)?;
    let user = users::find_by_username(&mut conn, username)?
        .filter(|user| user.is_active)
        .ok_or_else(|| Failure::usage(format!("no active user named {username:?}")))?;
    // Not in the second the user's sessions ended in (a changepassword just before, say): a
    // token of that second counts as ended.
    if let Some(ended) = tokens::second_to_wait_out(&user, now()) {
        while now() <= ended {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    // A pair outside any family, as simplejwt issues them: logging out revokes just it.
    let (pair, outstanding, _) = mint_pair(&codec, &user, None, now()).map_err(|error| {
        Failure::runtime(format!("cannot sign the token: {}", failure_text(&error)))
    })?;
    token_store::record_outstanding(&mut conn, &outstanding)?;
    // One line of JSON, as curl gets it from /api/token/, so the same recipes read it.
    let json = serde_json::to_string(&pair).map_err(|error| Failure::runtime(error.to_string()))?;
    println!("{json}");
    Ok(())
}

fn healthcheck(bind_addr: &str, path: &str) -> Result<(), Failure> {
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err(Failure::usage(format!(
            "--path: expected a path such as /healthz, got {path:?}"
        )));
    }
    // A server bound to every interface is reached on loopback.
    let addr = bind_addr
        .replacen("0.0.0.0:", "127.0.0.1:", 1)
        .replacen("[::]:", "[::1]:", 1);
    let unhealthy = |why: String| Failure::runtime(format!("unhealthy: {why}"));
    let socket = addr
        .to_socket_addrs()
        .map_err(|e| unhealthy(e.to_string()))?
        .next()
        .ok_or_else(|| unhealthy(format!("{addr} resolves to nothing")))?;
    let timeout = Duration::from_secs(3);
    let mut stream =
        TcpStream::connect_timeout(&socket, timeout).map_err(|e| unhealthy(e.to_string()))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| unhealthy(e.to_string()))?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .map_err(|e| unhealthy(e.to_string()))?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        println!("healthy");
        Ok(())
    } else {
        Err(unhealthy(format!("{path} answered {status:?}")))
    }
}

fn migrated_connection(settings: &Settings) -> Result<db::AnyConnection, Failure> {
    let mut conn = db::connect_once(&settings.database_url)?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}
