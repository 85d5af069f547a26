//! Layer 3, storage: one connection type for SQLite and PostgreSQL, a pool, embedded
//! migrations, the queries ([`users`], [`tokens`], [`families`]), and the per-process
//! [`view`] of what requests check, kept current by [`events`] and the [`listen`]er.
//!
//! Diesel is synchronous, so every query runs on the runtime's blocking thread pool through
//! [`Database::run`]; the async workers never wait on the database.

pub mod events;
pub mod families;
pub mod listen;
pub mod schema;
pub mod tokens;
pub mod users;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

use crate::configuration::DatabaseUrl;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a request waits for a connection before the API answers 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(1000);

/// A connection to either database; queries written once run on both.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL (`postgres://` URLs).
    Postgresql(diesel::PgConnection),
    /// SQLite (a file).
    Sqlite(diesel::SqliteConnection),
}

/// Why the database could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had in time, the connection died, or SQLite stayed locked past
    /// its busy timeout: the database is down or overloaded, and trying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused a row (a taken username, say). Callers that can meet one
    /// handle it where it happens.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Any other failure of a query: a bug, or a database in a state the code does not expect.
    #[error("query failed: {0}")]
    Query(#[source] diesel::result::Error),
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::UniqueViolation(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                Self::Unavailable(info.message().to_owned())
            }
            Error::BrokenTransactionManager => {
                Self::Unavailable("the connection's transaction state is broken".to_owned())
            }
            other => Self::Query(other),
        }
    }
}

/// Opens connections of the configured kind, so a `postgres://` URL never falls back to
/// creating an SQLite file of that name, and sets SQLite up for concurrent use.
#[derive(Debug, Clone)]
pub struct ConnectionFactory {
    url: DatabaseUrl,
}

impl ConnectionFactory {
    /// Opens one connection.
    pub fn connect(&self) -> ConnectionResult<AnyConnection> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                diesel::PgConnection::establish(url.expose_secret()).map(AnyConnection::Postgresql)
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL lets readers run beside the one writer; the busy timeout (set first, since
                // switching to WAL takes a lock too) makes a writer wait for the lock instead of
                // failing with "database is locked".
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionFactory {
    type Connection = AnyConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        ConnectionFactory::connect(self)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// The connection pool, cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionFactory>,
    /// One permit per pooled connection: a query waits here, on the async side, rather than
    /// on a blocking thread of its own, so a burst of requests does not start a thread each.
    slots: Arc<Semaphore>,
}

impl Database {
    /// Opens the pool (one connection at once, so a wrong URL fails here) and applies pending
    /// migrations.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| DbError::Unavailable(e.to_string()))?;
        }
        let factory = ConnectionFactory { url: url.clone() };
        let mut first = factory
            .connect()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        run_migrations(&mut first)?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build_unchecked(factory);
        let slots = Arc::new(Semaphore::new(pool_size as usize));
        Ok(Self { pool, slots })
    }

    /// Runs `query` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, query: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        // As long a wait as for a connection: a database that is down is a quick 503 either way.
        let slot = tokio::time::timeout(CHECKOUT_TIMEOUT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| DbError::Unavailable("every connection is busy".to_owned()))?
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let mut conn = pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            query(&mut conn)
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("blocking pool: {e}")))?
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

/// Applies the migrations of the connection's backend that have not run yet; returns their names.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        AnyConnection::Postgresql(pg) => {
            // Replicas starting together would race to create the same tables: the first to
            // take this lock migrates, the others wait and then find nothing left to do.
            diesel::sql_query("SELECT pg_advisory_lock(7243)").execute(pg)?;
            let applied = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect());
            diesel::sql_query("SELECT pg_advisory_unlock(7243)").execute(pg)?;
            applied
        }
        AnyConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect()),
    };
    applied.map_err(|e| DbError::Unavailable(format!("migrations failed: {e}")))
}

/// Opens a single connection (for CLI commands) without a pool.
pub fn connect_once(url: &DatabaseUrl) -> Result<AnyConnection, DbError> {
    ConnectionFactory { url: url.clone() }
        .connect()
        .map_err(|e| DbError::Unavailable(e.to_string()))
}
