//! Queries on `users`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::events::{self, Event};
use super::schema::users;
use super::{AnyConnection, DbError};

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// Primary key; written into tokens as the `user_id` claim.
    pub id: i32,
    /// Unique account name.
    pub username: String,
    /// The bcrypt hash of the password.
    pub password: String,
    /// Inactive users cannot log in, refresh, or use their tokens.
    pub is_active: bool,
    /// Staff flag (`createuser --staff`).
    pub is_staff: bool,
    /// When the account was created (UTC).
    pub date_joined: NaiveDateTime,
    /// When the user last obtained a pair, with `JWT_UPDATE_LAST_LOGIN` (UTC).
    pub last_login: Option<NaiveDateTime>,
    /// When every session of the user last ended (UTC): tokens issued before it are refused.
    pub sessions_revoked_at: Option<NaiveDateTime>,
}

impl User {
    /// Whether a token issued at `iat` (seconds; a token without one counts as issued at the
    /// dawn of time) may have come before the user's sessions were all ended. Token times are
    /// whole seconds, so a token issued in the very second of the revocation counts as ended:
    /// it may have been issued before it. A session that starts right after waits for the
    /// second to turn (see `services::tokens::start_session`).
    pub fn ended_sessions_include(&self, iat: Option<i64>) -> bool {
        self.sessions_revoked_at
            .is_some_and(|at| iat.unwrap_or(i64::MIN) <= at.and_utc().timestamp())
    }
}

/// The columns of a new user.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Unique account name.
    pub username: &'a str,
    /// The bcrypt hash of the password.
    pub password: &'a str,
    /// Staff flag.
    pub is_staff: bool,
    /// Creation time (UTC).
    pub date_joined: NaiveDateTime,
}

/// Inserts a user; a taken username gives [`DbError::UniqueViolation`].
pub fn insert(conn: &mut AnyConnection, new_user: &NewUser<'_>) -> Result<User, DbError> {
    diesel::insert_into(users::table)
        .values(new_user)
        .execute(conn)?;
    find_by_username(conn, new_user.username)?
        .ok_or_else(|| DbError::Query(diesel::result::Error::NotFound))
}

/// The user with this id, if any.
pub fn find_by_id(conn: &mut AnyConnection, id: i32) -> Result<Option<User>, DbError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// The user with this username (exact match), if any.
pub fn find_by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Sets `last_login`.
pub fn touch_last_login(
    conn: &mut AnyConnection,
    id: i32,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::last_login.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// Sets `is_active`, and tells the other processes; returns whether the user exists.
pub fn set_active(conn: &mut AnyConnection, id: i32, active: bool) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let updated = diesel::update(users::table.find(id))
            .set(users::is_active.eq(active))
            .execute(conn)?;
        events::announce(conn, &Event::User(id))?;
        Ok(updated == 1)
    })
}

/// Takes the user's row for the rest of the transaction when the user is active and still has
/// `password_hash` (a password change waits for it, or it waits for the change and then finds
/// the new hash); returns whether it did. A log in checks this in the transaction that records
/// its session, so a session checked against a password that was changed meanwhile is never
/// recorded, and one recorded first is ended by the change.
pub fn lock_if_unchanged(
    conn: &mut AnyConnection,
    id: i32,
    password_hash: &str,
) -> Result<bool, DbError> {
    let taken = diesel::update(
        users::table
            .find(id)
            .filter(users::password.eq(password_hash))
            .filter(users::is_active.eq(true)),
    )
    .set(users::password.eq(password_hash))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Marks every token of the user issued before `now` as refused (see
/// [`User::ended_sessions_include`]), and tells the other processes.
pub fn end_sessions(conn: &mut AnyConnection, id: i32, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::sessions_revoked_at.eq(Some(now)))
        .execute(conn)?;
    events::announce(conn, &Event::User(id))
}

/// Replaces the password hash `old_hash` with `new_hash`, and tells the other processes;
/// returns whether it did: not when the user is gone, nor when the hash is no longer
/// `old_hash` (a concurrent change won: the old password this one checked is not the user's
/// any more).
pub fn set_password(
    conn: &mut AnyConnection,
    id: i32,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let updated = diesel::update(users::table.find(id).filter(users::password.eq(old_hash)))
            .set(users::password.eq(new_hash))
            .execute(conn)?;
        if updated == 1 {
            events::announce(conn, &Event::User(id))?;
        }
        Ok(updated == 1)
    })
}

/// Deletes a user (their outstanding tokens stay, with no user), and tells the other
/// processes; returns whether one existed.
pub fn delete(conn: &mut AnyConnection, id: i32) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let deleted = diesel::delete(users::table.find(id)).execute(conn)?;
        events::announce(conn, &Event::User(id))?;
        Ok(deleted == 1)
    })
}
