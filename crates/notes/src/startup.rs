//! Building the service: settings in, a bound server out (port 0 picks a free port, for tests).

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use apikit::error::www_authenticate;
use apikit::listen::{self, BindError};
use apikit::log::RequestSpan;
use apikit::middleware::{limit_header_fields, negotiate};
use tracing_actix_web::TracingLogger;

use crate::auth::Verifier;
use crate::settings::Settings;
use crate::store::{DbError, Store};

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
    Store(#[from] DbError),
    /// The address.
    #[error("NOTES_BIND_ADDR: {0}")]
    Bind(#[from] BindError),
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
        let (listener, port) = listen::bind(&settings.bind_addr)?;
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
                .wrap(from_fn(negotiate))
                .wrap(from_fn(www_authenticate))
                .wrap(from_fn(limit_header_fields))
                .wrap(TracingLogger::<RequestSpan>::new())
                .configure(crate::routes::configure)
        })
        .listen(listener)
        .map_err(|source| BindError {
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
