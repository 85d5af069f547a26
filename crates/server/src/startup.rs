//! Puts the server together: keys, database, password hasher, routes and middleware, bound to
//! a listener before it runs so that tests can ask for port 0 and read the port back.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, TryIntoHeaderValue, WWW_AUTHENTICATE};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpServer, web};
use actix_web_httpauth::headers::www_authenticate::bearer::Bearer;
use tracing_actix_web::TracingLogger;

use crate::auth::hashing::HashingPool;
use crate::auth::keys::{self, KeyOrigin};
use crate::auth::password::PasswordHasher;
use crate::auth::tokens::TokenCodec;
use crate::configuration::{ConfigError, Settings};
use crate::db::{Database, DbError};
use crate::routes;
use crate::state::AppState;
use crate::telemetry::RequestSpan;

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
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// `BIND_ADDR`.
        addr: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// A server that is bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Loads the keys, opens (and migrates) the database, binds `settings.bind_addr` and builds
    /// the server. Nothing is served until [`Application::run_until_stopped`].
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        let state = build_state(&settings)?;
        let listener =
            TcpListener::bind(&settings.bind_addr).map_err(|source| StartupError::Bind {
                addr: settings.bind_addr.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: settings.bind_addr.clone(),
                source,
            })?
            .port();
        if !settings.frontend_dir.join("index.html").is_file() {
            tracing::info!(
                "no frontend in {} (build it with `cargo xtask serve`); serving the API only",
                settings.frontend_dir.display()
            );
        }
        let server = run(listener, state, settings.frontend_dir.clone()).map_err(|source| {
            StartupError::Bind {
                addr: settings.bind_addr.clone(),
                source,
            }
        })?;
        tracing::info!(
            "serving the API at http://{}",
            display_addr(&settings.bind_addr, port)
        );
        Ok(Self { port, server })
    }

    /// The port the server listens on (useful when `BIND_ADDR` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
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

/// Everything the handlers share, from the settings.
pub fn build_state(settings: &Settings) -> Result<AppState, StartupError> {
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
    }
    let db = Database::connect(&settings.database_url, settings.database_pool_size).map_err(
        |source| StartupError::Database {
            url: settings.database_url.redacted(),
            source,
        },
    )?;
    let hasher = PasswordHasher::new(settings.bcrypt_cost).map_err(|_| {
        ConfigError::new(
            "BCRYPT_COST",
            "a cost from 4 to 31",
            settings.bcrypt_cost.to_string(),
        )
    })?;
    let challenge = challenge(&settings.jwt.auth_header_types[0]);
    Ok(AppState {
        db,
        tokens: Arc::new(TokenCodec::new(
            settings.jwt.clone(),
            keys.encoding,
            keys.decoding,
        )),
        hasher: Arc::new(hasher),
        hashing: Arc::new(HashingPool::per_core()),
        challenge,
        trusted_proxies: settings.trusted_proxies.clone(),
    })
}

/// Builds the HTTP server on an already bound listener.
pub fn run(
    listener: TcpListener,
    state: AppState,
    frontend_dir: PathBuf,
) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(from_fn(www_authenticate))
            .wrap(TracingLogger::<RequestSpan>::new())
            .configure(routes::configure)
            .configure(|cfg| routes::frontend::configure(cfg, &frontend_dir))
            .default_service(web::to(routes::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

/// Adds the `WWW-Authenticate` challenge to every 401, as DRF does.
async fn www_authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let challenge = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.challenge.clone());
    let mut response = next.call(req).await?;
    if response.status() == StatusCode::UNAUTHORIZED
        && let Some(challenge) = challenge
    {
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    Ok(response)
}

/// `Bearer realm="api"`, or the first of `JWT_AUTH_HEADER_TYPES` in its place.
fn challenge(header_type: &str) -> HeaderValue {
    let bearer = Bearer::build().realm("api").finish();
    if header_type == "Bearer"
        && let Ok(value) = bearer.try_into_value()
    {
        return value;
    }
    HeaderValue::from_str(&format!("{header_type} realm=\"api\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"api\""))
}

fn display_addr(bind_addr: &str, port: u16) -> String {
    match bind_addr.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => bind_addr.to_owned(),
    }
}
