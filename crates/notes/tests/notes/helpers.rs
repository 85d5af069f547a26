//! Starting an auth server and a notes service, and the requests the tests make.

use std::collections::HashMap;
use std::path::Path;

use actix_web::dev::ServerHandle;
use reqwest::Response;
use serde_json::{Value, json};

pub use crate::answers::{access_token_refused, assert_json, header_of, json_body, payload_of};

/// The password of every test user.
pub const PASSWORD: &str = "correct-horse-battery";

/// A running auth server signing with ES256 keys from a directory, stopped when dropped.
pub struct AuthServer {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    handle: ServerHandle,
    _database: tempfile::TempDir,
}

impl AuthServer {
    /// Starts one on SQLite with the key directory `keys` and `overrides` on top.
    pub fn start(keys: &Path, overrides: &[(&str, &str)]) -> Self {
        let database = tempfile::tempdir().expect("a temporary directory");
        let database_url = database.path().join("auth.sqlite3").display().to_string();
        let keys = keys.display().to_string();
        let vars: HashMap<String, String> = [
            ("DATABASE_URL", database_url.as_str()),
            ("BIND_ADDR", "127.0.0.1:0"),
            ("BCRYPT_COST", "4"),
            ("JWT_ALGORITHM", "ES256"),
            ("JWT_KEYS_DIR", keys.as_str()),
        ]
        .iter()
        .chain(overrides)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        // Later entries win: the overrides.
        .collect();
        let settings = server::configuration::Settings::from_lookup(|name| vars.get(name).cloned())
            .expect("valid auth settings");
        let application =
            server::startup::Application::build(settings).expect("the auth server starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        actix_web::rt::spawn(application.run_until_stopped());
        Self {
            address,
            handle,
            _database: database,
        }
    }

    /// Its JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.address)
    }

    /// Registers `username` and returns a fresh access token for them.
    pub async fn access_token_for(&self, username: &str) -> String {
        let client = reqwest::Client::new();
        let credentials = json!({"username": username, "password": PASSWORD});
        let registered = client
            .post(format!("{}/api/register/", self.address))
            .json(&credentials)
            .send()
            .await
            .expect("registers");
        assert_eq!(registered.status(), 201, "registering {username}");
        self.log_in(username).await["access"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Logs `username` in again: the new pair.
    pub async fn log_in(&self, username: &str) -> Value {
        let pair = reqwest::Client::new()
            .post(format!("{}/api/token/", self.address))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("logs in");
        assert_eq!(pair.status(), 200, "logging {username} in");
        pair.json().await.expect("a pair")
    }

    /// Stops it (what "the auth server is down" means in a test).
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A running notes service, stopped when dropped.
pub struct NotesService {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client.
    pub client: reqwest::Client,
    handle: ServerHandle,
    _database: tempfile::TempDir,
}

impl NotesService {
    /// Starts one on SQLite that trusts the keys at `jwks_url`, with `overrides` on top.
    pub fn start(jwks_url: &str, overrides: &[(&str, &str)]) -> Self {
        let database = tempfile::tempdir().expect("a temporary directory");
        let database_url = database.path().join("notes.sqlite3").display().to_string();
        let vars: HashMap<String, String> = [
            ("NOTES_DATABASE_URL", database_url.as_str()),
            ("NOTES_BIND_ADDR", "127.0.0.1:0"),
            ("AUTH_JWKS_URL", jwks_url),
            ("AUTH_JWKS_TIMEOUT", "500"),
        ]
        .iter()
        .chain(overrides)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        // Later entries win: the overrides.
        .collect();
        let settings = notes::settings::Settings::from_lookup(|name| vars.get(name).cloned())
            .expect("valid notes settings");
        let application =
            notes::startup::Application::build(settings).expect("the notes service starts");
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        actix_web::rt::spawn(application.run_until_stopped());
        Self {
            address,
            client: reqwest::Client::new(),
            handle,
            _database: database,
        }
    }

    /// `GET /notes/api/notes/` with `Authorization: Bearer <token>`.
    pub async fn list(&self, token: &str) -> Response {
        self.client
            .get(format!("{}/notes/api/notes/", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /notes/api/notes/` with a JSON body.
    pub async fn create(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}/notes/api/notes/", self.address))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }
}

impl Drop for NotesService {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// An auth server on a fresh key directory, and a notes service trusting it.
pub fn both() -> (tempfile::TempDir, AuthServer, NotesService) {
    let keys = tempfile::tempdir().expect("a temporary directory");
    let auth = AuthServer::start(keys.path(), &[]);
    let notes = NotesService::start(&auth.jwks_url(), &[]);
    (keys, auth, notes)
}
