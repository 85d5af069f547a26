//! Floor 3, storage: the connection, pool and errors of the `dbkit` crate (the notes service
//! opens its database with the same), this server's migrations, the queries ([`users`],
//! [`tokens`], [`families`]), and the per-process [`view`] of what requests check, kept current
//! by [`events`] and the [`listen`]er.

pub mod events;
pub mod families;
pub mod listen;
pub mod schema;
pub mod tokens;
pub mod users;
pub mod view;

pub use dbkit::{AnyConnection, Database, DbError, connect_once};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// The auth server's migrations, one folder per backend.
pub const MIGRATIONS: dbkit::Migrations = dbkit::Migrations {
    sqlite: SQLITE_MIGRATIONS,
    postgres: POSTGRES_MIGRATIONS,
};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Applies the auth server's migrations that have not run yet; returns their names.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    MIGRATIONS.run(conn)
}
