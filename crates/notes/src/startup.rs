//! Building the service: settings in, a bound server out (port 0 picks a free port, for tests).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::auth::Verifier;
use crate::settings::Settings;
use crate::store::{Store, StoreError};

/// What the handlers share.
pub struct State {
    /// The notes.
    pub store: Store,
    /// Checks tokens with the auth server's keys.
    pub verifier: Arc<Verifier>,
}

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database.
    #[error("NOTES_DATABASE_URL: {0}")]
    Store(#[from] StoreError),
    /// The address.
    #[error("NOTES_BIND_ADDR: cannot listen on {addr}: {source}")]
    Bind {
        /// What was asked.
        addr: String,
        /// Why not.
        source: std::io::Error,
    },
}

/// A service ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Opens the database, binds the address and starts fetching the keys in the background
    /// (the service starts even while the auth server is down: it answers 503 until the keys
    /// arrive).
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = Store::open(&settings.database_url)?;
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
        let verifier = Arc::new(Verifier::new(settings));
        let prefetch = verifier.clone();
        actix_web::rt::spawn(async move {
            let _ = prefetch.keys.refresh().await;
        });
        let state = web::Data::new(State {
            store,
            verifier: verifier.clone(),
        });
        let verifier = web::Data::from(verifier);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(verifier.clone())
                .wrap(from_fn(crate::telemetry::log_request))
                .configure(crate::routes::configure)
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: "the bound listener".into(),
            source,
        })?
        .shutdown_timeout(10)
        .run();
        Ok(Self { port, server })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop it.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
