//! The notes service's own database: one table, `notes`, on SQLite (a file, the default) or
//! PostgreSQL, with its own migrations. It holds no users: a note belongs to the `user_id` the
//! auth server wrote into the token, and this service never asks anyone else about it.

use chrono::NaiveDateTime;
pub use dbkit::{AnyConnection, Database, DatabaseUrl, DbError};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How many connections the pool keeps.
const POOL_SIZE: u32 = 4;

diesel::table! {
    notes (id) {
        id -> BigInt,
        user_id -> Text,
        text -> Text,
        created_at -> Timestamp,
    }
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

/// The notes, in a pool of connections (cheap to clone).
#[derive(Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens the pool and applies pending migrations (the first connection is made now, so a
    /// wrong URL fails at start).
    pub fn open(url: &DatabaseUrl) -> Result<Self, DbError> {
        let migrations = dbkit::Migrations {
            sqlite: SQLITE_MIGRATIONS,
            postgres: POSTGRES_MIGRATIONS,
        };
        Ok(Self {
            db: Database::connect(url, POOL_SIZE, migrations)?,
        })
    }

    /// The user's notes, oldest first.
    pub async fn notes_of(&self, user_id: String) -> Result<Vec<StoredNote>, DbError> {
        self.db
            .run(move |conn| {
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
    ) -> Result<StoredNote, DbError> {
        self.db
            .run(move |conn| {
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
                        AnyConnection::Postgresql(pg) => {
                            diesel::select(diesel::dsl::sql::<BigInt>(
                                "currval(pg_get_serial_sequence('notes', 'id'))",
                            ))
                            .get_result(pg)?
                        }
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
    pub async fn ping(&self) -> Result<(), DbError> {
        self.db.ping().await
    }
}
