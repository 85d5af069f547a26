//! The notes service's own database: one table, `notes`, on SQLite (a file, the default) or
//! PostgreSQL, with its own migrations. It holds no users: a note belongs to the `user_id` the
//! auth server wrote into the token, and this service never asks anyone else about it.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::sql_types::BigInt;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a request waits for a connection before the answer is a 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(1000);

diesel::table! {
    notes (id) {
        id -> BigInt,
        user_id -> Text,
        text -> Text,
        created_at -> Timestamp,
    }
}

/// A connection to either database.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL (`postgres://` URLs).
    Postgresql(diesel::PgConnection),
    /// SQLite (a file).
    Sqlite(diesel::SqliteConnection),
}

/// Why the database did not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection in time, or it broke: the database is down or overloaded.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("query failed: {0}")]
    Query(#[from] diesel::result::Error),
}

/// A note as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notes)]
pub struct StoredNote {
    /// Its id.
    pub id: i64,
    /// Whose it is: the `user_id` claim of the token that wrote it.
    pub user_id: String,
    /// The text.
    pub text: String,
    /// When it was written (UTC).
    pub created_at: NaiveDateTime,
}

/// Where the notes live: `NOTES_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `postgres://...`.
    Postgres(String),
    /// A file path, with or without `sqlite://`.
    Sqlite(String),
}

impl StoreUrl {
    /// Reads a URL the way the auth server reads `DATABASE_URL`.
    pub fn parse(raw: &str) -> Self {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Self::Postgres(raw.to_owned())
        } else {
            Self::Sqlite(raw.strip_prefix("sqlite://").unwrap_or(raw).to_owned())
        }
    }
}

#[derive(Debug, Clone)]
struct Factory(StoreUrl);

impl ManageConnection for Factory {
    type Connection = AnyConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        match &self.0 {
            StoreUrl::Postgres(url) => {
                diesel::PgConnection::establish(url).map(AnyConnection::Postgresql)
            }
            StoreUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)?;
                conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
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

/// The pool, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Factory>,
}

impl Store {
    /// Opens the pool and applies pending migrations (the first connection is made now, so a
    /// wrong URL fails at start).
    pub fn open(url: &StoreUrl) -> Result<Self, StoreError> {
        let factory = Factory(url.clone());
        let mut first = factory
            .connect()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        migrate(&mut first)?;
        let pool = r2d2::Pool::builder()
            .max_size(4)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .build_unchecked(factory);
        Ok(Self { pool })
    }

    /// Runs `query` on a pooled connection, off the async workers.
    async fn run<T: Send + 'static>(
        &self,
        query: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            query(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// The user's notes, oldest first.
    pub async fn notes_of(&self, user_id: String) -> Result<Vec<StoredNote>, StoreError> {
        self.run(move |conn| {
            Ok(notes::table
                .filter(notes::user_id.eq(user_id))
                .order(notes::id)
                .select(StoredNote::as_select())
                .load(conn)?)
        })
        .await
    }

    /// Stores a note and returns it as stored.
    pub async fn add(
        &self,
        user_id: String,
        text: String,
        created_at: NaiveDateTime,
    ) -> Result<StoredNote, StoreError> {
        self.run(move |conn| {
            conn.transaction(|conn| {
                diesel::insert_into(notes::table)
                    .values((
                        notes::user_id.eq(&user_id),
                        notes::text.eq(&text),
                        notes::created_at.eq(created_at),
                    ))
                    .execute(conn)?;
                // The id this connection just inserted, whatever other connections did since.
                let id = match conn {
                    AnyConnection::Postgresql(pg) => diesel::select(diesel::dsl::sql::<BigInt>(
                        "currval(pg_get_serial_sequence('notes', 'id'))",
                    ))
                    .get_result(pg)?,
                    AnyConnection::Sqlite(sqlite) => {
                        diesel::select(diesel::dsl::sql::<BigInt>("last_insert_rowid()"))
                            .get_result(sqlite)?
                    }
                };
                Ok(StoredNote {
                    id,
                    user_id,
                    text,
                    created_at,
                })
            })
        })
        .await
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

fn migrate(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let outcome = match conn {
        AnyConnection::Postgresql(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop),
        AnyConnection::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
    };
    outcome.map_err(|e| StoreError::Unavailable(format!("migrations failed: {e}")))
}
