//! Puts the server together: keys, database, password hasher, routes and middleware, bound to
//! a listener before it runs so that tests can ask for port 0 and read the port back.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use apikit::error::www_authenticate;
use apikit::listen::{self, BindError};
use apikit::log::RequestSpan;
use apikit::middleware::{ApiRoutes, limit_header_fields, negotiate};
use tracing_actix_web::TracingLogger;

use crate::auth::TokenCodec;
use crate::auth::hashing::HashingPool;
use crate::auth::keys::{self, KeyOrigin};
use crate::auth::password::PasswordHasher;
use crate::auth::throttle::Throttle;
use crate::clock::Clock;
use crate::configuration::{ConfigError, DatabaseUrl, Settings};
use crate::db::view::AuthView;
use crate::db::{self, Database, DbError};
use crate::http::HttpSettings;
use crate::http::middleware::{append_slash, is_api_route};
use crate::routes;
use crate::routes::notes::NotesUpstream;
use crate::services::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting has a value the server cannot use.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("database {url}: {source}")]
    Database {
        /// The database URL without its password.
        url: String,
        /// What went wrong.
        source: DbError,
    },
    /// `BIND_ADDR` could not be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
}

/// A server that is bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    view: AuthView,
}

impl Application {
    /// Loads the keys, opens (and migrates) the database, binds `settings.bind_addr` and builds
    /// the server. Nothing is served until [`Application::run_until_stopped`].
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Clock::system())
    }

    /// [`Application::build`], reading the time from `clock` (a test's
    /// [`crate::clock::ManualClock`], to move time past a token's lifetime without waiting).
    pub fn build_with_clock(settings: Settings, clock: Clock) -> Result<Self, StartupError> {
        let state = build_state(&settings, clock)?;
        let view = state.view.clone();
        let (listener, port) = listen::bind(&settings.bind_addr)?;
        if !settings.frontend_dir.join("index.html").is_file() {
            tracing::info!(
                "no frontend in {} (build it with `cargo xtask serve`); serving the API only",
                settings.frontend_dir.display()
            );
        }
        let http = HttpSettings::new(&settings);
        let server = run(
            listener,
            state,
            http,
            settings.frontend_dir.clone(),
            settings.notes_url.clone(),
        )
        .map_err(|source| BindError {
            addr: settings.bind_addr.clone(),
            source,
        })?;
        tracing::info!(
            "serving the API at http://{}",
            display_addr(&settings.bind_addr, port)
        );
        Ok(Self { port, server, view })
    }

    /// The port the server listens on (useful when `BIND_ADDR` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's view of users and revocations (tests that write to the database behind
    /// the server's back tell it, as a write through the server would).
    pub fn view(&self) -> AuthView {
        self.view.clone()
    }

    /// A handle to stop the server from outside (tests stop theirs when they end).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the process is told to stop (Ctrl-C or SIGTERM), finishing requests in
    /// flight first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Everything the handlers share, from the settings, reading the time from `clock`.
pub fn build_state(settings: &Settings, clock: Clock) -> Result<AppState, StartupError> {
    let keys = keys::load(settings)?;
    match &keys.origin {
        KeyOrigin::Configured => {}
        KeyOrigin::Generated(path) => tracing::warn!(
            "SECRET_KEY is not set: generated a development signing key in {} (set SECRET_KEY in production)",
            path.display()
        ),
        KeyOrigin::DevelopmentFile(path) => tracing::info!(
            "SECRET_KEY is not set: using the development signing key in {}",
            path.display()
        ),
        KeyOrigin::Directory(path) => tracing::info!(
            kid = keys.set.signing().1.unwrap_or_default(),
            "signing with the current key of {} (rotate with: server keys generate)",
            path.display()
        ),
    }
    let db = Database::connect(
        &settings.database_url,
        settings.database_pool_size,
        db::MIGRATIONS,
    )
    .map_err(|source| StartupError::Database {
        url: settings.database_url.redacted(),
        source,
    })?;
    let hasher = PasswordHasher::new(settings.bcrypt_cost).map_err(|_| {
        ConfigError::new(
            "BCRYPT_COST",
            "a cost from 4 to 31",
            settings.bcrypt_cost.to_string(),
        )
    })?;
    let view = AuthView::new(db.clone(), settings.auth_cache_ttl);
    if let DatabaseUrl::Postgres(url) = &settings.database_url {
        db::listen::spawn(url.clone(), &view).map_err(|source| StartupError::Database {
            url: settings.database_url.redacted(),
            source: DbError::unavailable("cannot start the event listener", source),
        })?;
    }
    let tokens = Arc::new(TokenCodec::with_keys(settings.jwt.clone(), keys.set));
    TokenCodec::watch_key_directory(&tokens);
    Ok(AppState {
        clock,
        db,
        view,
        tokens,
        hasher: Arc::new(hasher),
        hashing: Arc::new(HashingPool::per_core()),
        login_failures: Arc::new(Throttle::new(
            settings.throttles.login_failures,
            settings.throttles.login_window,
        )),
        password_change_failures: Arc::new(Throttle::new(
            settings.throttles.password_change_failures,
            settings.throttles.password_change_window,
        )),
    })
}

/// Builds the HTTP server on an already bound listener. Middleware runs outermost first:
/// the request log, the header limit, `APPEND_SLASH`, the 401 challenge, content negotiation,
/// then routing.
pub fn run(
    listener: TcpListener,
    state: AppState,
    http: HttpSettings,
    frontend_dir: PathBuf,
    notes_url: Option<String>,
) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let challenge = web::Data::new(http.challenge.clone());
    let trusted_proxies = web::Data::new(http.trusted_proxies.clone());
    let http = web::Data::new(http);
    let schema = web::Data::new(routes::openapi::Rendered::new().map_err(std::io::Error::other)?);
    // ANCHOR: http_server
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(http.clone())
            .app_data(challenge.clone())
            .app_data(trusted_proxies.clone())
            .app_data(schema.clone())
            .app_data(web::Data::new(ApiRoutes(is_api_route)))
            .wrap(from_fn(negotiate))
            .wrap(from_fn(www_authenticate))
            .wrap(from_fn(append_slash))
            .wrap(from_fn(limit_header_fields))
            .wrap(TracingLogger::<RequestSpan>::new())
            .configure(routes::configure)
            .configure(|cfg| {
                routes::notes::configure(cfg, notes_url.clone().map(NotesUpstream::new))
            })
            .configure(|cfg| routes::frontend::configure(cfg, &frontend_dir))
            .default_service(web::to(routes::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(10)
    .run();
    // ANCHOR_END: http_server
    Ok(server)
}

fn display_addr(bind_addr: &str, port: u16) -> String {
    match bind_addr.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => bind_addr.to_owned(),
    }
}
