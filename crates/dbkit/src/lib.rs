//! The database both services open, written once: one connection type for SQLite and
//! PostgreSQL ([`AnyConnection`]), set up alike (SQLite in WAL mode with a busy timeout), a
//! pool whose checkout gives up quickly ([`Database`]), migrations per backend, and the errors
//! ([`DbError`]) that tell a database that is down (a 503) from a bug.
//!
//! Diesel is synchronous, so every query runs on the runtime's blocking thread pool through
//! [`Database::run`]; the async workers never wait on the database.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// Where the data lives. `Debug` shows a PostgreSQL URL without its password.
#[derive(Clone)]
pub enum DatabaseUrl {
    /// An SQLite database file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host:port/name`), kept secret
    /// because it may carry a password.
    Postgres(SecretString),
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Sqlite(a), Self::Sqlite(b)) => a == b,
            (Self::Postgres(a), Self::Postgres(b)) => a.expose_secret() == b.expose_secret(),
            _ => false,
        }
    }
}

impl Eq for DatabaseUrl {}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl DatabaseUrl {
    /// What [`DatabaseUrl::parse`] reads, for a setting's error message.
    pub const EXPECTED: &str = "sqlite://PATH, a file path, or postgres://USER@HOST:PORT/NAME";

    /// Reads `sqlite://PATH`, `sqlite:PATH`, `postgres://...`, `postgresql://...`, or a plain
    /// file path (SQLite); `None` for anything else (another scheme, nothing at all).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Some(Self::Postgres(SecretString::from(value)));
        }
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .unwrap_or(value);
        if path.is_empty() || path.contains("://") {
            return None;
        }
        Some(Self::Sqlite(PathBuf::from(path)))
    }

    /// The URL with any password replaced by `***`, for log lines.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => redact_password(url.expose_secret()),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// How long a request waits for a connection before the API answers 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(1000);

/// The longest one statement on a pooled PostgreSQL connection may run, waiting for locks
/// included, before PostgreSQL cancels it and the API answers 503: SQLite's busy timeout. A
/// locked table then costs a request five seconds, not as long as the lock lasts.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// No connection could be had in time, the connection died, SQLite stayed locked past its
    /// busy timeout, a PostgreSQL statement ran past [`STATEMENT_TIMEOUT`], or the database
    /// refuses writes (read-only, or its disk or size limit is
    /// full): the database is down, overloaded or out of room, and trying later may work.
    #[error("database unavailable: {what}")]
    Unavailable {
        /// What could not be done.
        what: String,
        /// The failure underneath, kept for the log.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A unique constraint refused a row (a taken username, say). Callers that can meet one
    /// handle it where it happens.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Any other failure of a query: a bug, or a database in a state the code does not expect.
    #[error("query failed: {0}")]
    Query(#[source] diesel::result::Error),
}

impl DbError {
    /// The database could not do `what`, because of `source`.
    pub fn unavailable(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Unavailable {
            what: what.into(),
            source: Some(source.into()),
        }
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::UniqueViolation(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                Self::unavailable("the connection closed", error)
            }
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                Self::unavailable("SQLite stayed locked", error)
            }
            Error::DatabaseError(_, info)
                if info
                    .message()
                    .contains("canceling statement due to statement timeout") =>
            {
                Self::unavailable("a statement ran past its timeout", error)
            }
            Error::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
                Self::unavailable("the database is read-only", error)
            }
            Error::DatabaseError(_, info) if info.message().contains("readonly database") => {
                Self::unavailable("the database is read-only", error)
            }
            Error::DatabaseError(_, info)
                if ["database or disk is full", "could not extend file"]
                    .iter()
                    .any(|full| info.message().contains(full)) =>
            {
                Self::unavailable("the database is full", error)
            }
            Error::BrokenTransactionManager => {
                Self::unavailable("the connection's transaction state is broken", error)
            }
            _ => Self::Query(error),
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

    /// A pooled connection: on PostgreSQL, with the [`STATEMENT_TIMEOUT`] (migrations, on the
    /// first connection, run without one).
    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        let mut conn = ConnectionFactory::connect(self)?;
        if let AnyConnection::Postgresql(pg) = &mut conn {
            let timeout = STATEMENT_TIMEOUT.as_millis();
            pg.batch_execute(&format!("SET statement_timeout = {timeout}"))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
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
    pub fn connect(
        url: &DatabaseUrl,
        pool_size: u32,
        migrations: Migrations,
    ) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                DbError::unavailable(format!("cannot make {}", parent.display()), e)
            })?;
        }
        let factory = ConnectionFactory { url: url.clone() };
        let mut first = factory
            .connect()
            .map_err(|e| DbError::unavailable("cannot connect", e))?;
        migrations.run(&mut first)?;
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
            .map_err(|e| DbError::unavailable("every connection is busy", e))?
            .map_err(|e| DbError::unavailable("the pool is closed", e))?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let mut conn = pool
                .get()
                .map_err(|e| DbError::unavailable("no connection in time", e))?;
            query(&mut conn)
        })
        .await
        .map_err(|e| DbError::unavailable("the query's thread failed", e))?
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

/// A service's migrations, one folder per backend (`embed_migrations!`).
pub struct Migrations {
    /// For SQLite.
    pub sqlite: EmbeddedMigrations,
    /// For PostgreSQL.
    pub postgres: EmbeddedMigrations,
}

impl Migrations {
    /// Applies the migrations of the connection's backend that have not run yet; returns their
    /// names.
    pub fn run(self, conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
        let applied = match conn {
            AnyConnection::Postgresql(pg) => {
                // Replicas starting together would race to create the same tables: the first
                // to take this lock migrates, the others wait and then find nothing left to do.
                diesel::sql_query("SELECT pg_advisory_lock(7243)").execute(pg)?;
                let applied = pg
                    .run_pending_migrations(self.postgres)
                    .map(|versions| versions.iter().map(ToString::to_string).collect());
                diesel::sql_query("SELECT pg_advisory_unlock(7243)").execute(pg)?;
                applied
            }
            AnyConnection::Sqlite(sqlite) => sqlite
                .run_pending_migrations(self.sqlite)
                .map(|versions| versions.iter().map(ToString::to_string).collect()),
        };
        applied.map_err(|e| DbError::unavailable("migrations failed", e))
    }
}

/// Opens a single connection (for CLI commands) without a pool.
pub fn connect_once(url: &DatabaseUrl) -> Result<AnyConnection, DbError> {
    ConnectionFactory { url: url.clone() }
        .connect()
        .map_err(|e| DbError::unavailable("cannot connect", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SQLite file with one table, and its path.
    fn sqlite_file() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("db.sqlite3").to_string_lossy().into_owned();
        let mut conn = diesel::SqliteConnection::establish(&path).expect("opens");
        conn.batch_execute("CREATE TABLE notes (body TEXT NOT NULL)")
            .expect("creates");
        (dir, path)
    }

    fn insert(conn: &mut diesel::SqliteConnection, body: &str) -> Result<usize, DbError> {
        diesel::sql_query("INSERT INTO notes (body) VALUES (?)")
            .bind::<diesel::sql_types::Text, _>(body)
            .execute(conn)
            .map_err(DbError::from)
    }

    #[test]
    fn a_write_to_a_read_only_sqlite_database_is_unavailable_not_a_query_failure() {
        let (_dir, path) = sqlite_file();
        // Opened read-only: file permissions would not stop root.
        let mut conn = diesel::SqliteConnection::establish(&format!("file:{path}?mode=ro"))
            .expect("opens read-only");
        let error = insert(&mut conn, "x").unwrap_err();
        assert!(
            matches!(&error, DbError::Unavailable { what, .. } if what == "the database is read-only"),
            "{error:?}"
        );
    }

    #[test]
    fn a_write_to_a_full_sqlite_database_is_unavailable_and_writes_nothing() {
        let (_dir, path) = sqlite_file();
        let mut conn = diesel::SqliteConnection::establish(&path).expect("opens");
        let pages: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT page_count FROM pragma_page_count())",
        ))
        .get_result(&mut conn)
        .expect("counts pages");
        conn.batch_execute(&format!("PRAGMA max_page_count = {pages}"))
            .expect("caps the size");
        let error = insert(&mut conn, &"x".repeat(64 * 1024)).unwrap_err();
        assert!(
            matches!(&error, DbError::Unavailable { what, .. } if what == "the database is full"),
            "{error:?}"
        );
        let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM notes)",
        ))
        .get_result(&mut conn)
        .expect("counts rows");
        assert_eq!(rows, 0, "nothing half-written");
    }

    #[test]
    fn database_urls_of_both_kinds_parse() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("data/app.sqlite3").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/app.sqlite3"))
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/app").unwrap(),
            DatabaseUrl::Postgres(SecretString::from("postgres://postgres@127.0.0.1:5432/app"))
        );
        assert_eq!(DatabaseUrl::parse("mysql://root@localhost/app"), None);
        assert_eq!(DatabaseUrl::parse("  "), None);
    }

    #[test]
    fn database_passwords_are_redacted_for_logs() {
        let url = DatabaseUrl::Postgres(SecretString::from("postgres://app:hunter2@db:5432/app"));
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/app");
        assert_eq!(format!("{url:?}"), "postgres://app:***@db:5432/app");
    }
}
