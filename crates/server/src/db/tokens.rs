//! Where tokens are stored: `outstanding_tokens` (every refresh token issued) and
//! `blacklisted_tokens` (the revoked ones), simplejwt's token_blacklist app.
//!
//! Each write that touches more than one row runs in one transaction whose first statement is a
//! write, so SQLite takes its write lock up front (waiting out the busy timeout) instead of
//! failing a read-then-write upgrade. An insert that may meet a row already there runs in a
//! savepoint of its own, so that PostgreSQL's unique violation does not abort the transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::events::{self, Event};
use super::schema::{blacklisted_tokens, denied_access_tokens, outstanding_tokens, users};
use super::{AnyConnection, DbError};

/// A row of `outstanding_tokens`: a refresh token that was issued (or presented, for one this
/// database never saw issued).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outstanding_tokens)]
pub struct OutstandingToken {
    /// The user it was issued to; `None` when unknown or deleted.
    pub user_id: Option<i32>,
    /// The token's `jti` claim.
    pub jti: String,
    /// The encoded token.
    pub token: String,
    /// When it was recorded (UTC).
    pub created_at: Option<NaiveDateTime>,
    /// Its `exp` claim (UTC).
    pub expires_at: NaiveDateTime,
    /// The family it belongs to, with reuse detection.
    pub family_id: Option<String>,
}

/// What [`blacklist`] and [`rotate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// This call revoked the token.
    Revoked,
    /// The token was already revoked (possibly by a concurrent call a moment ago).
    AlreadyRevoked,
}

/// Records an issued refresh token. Its user is recorded only while that user exists
/// (simplejwt records `None` for a deleted user), so a user deleted a moment ago is no
/// foreign-key violation.
pub fn record_outstanding(
    conn: &mut AnyConnection,
    token: &OutstandingToken,
) -> Result<(), DbError> {
    insert_outstanding(conn, token)?;
    Ok(())
}

fn insert_outstanding(conn: &mut AnyConnection, token: &OutstandingToken) -> QueryResult<usize> {
    let existing_user = users::table
        .filter(users::id.nullable().eq(token.user_id))
        .select(users::id)
        .single_value();
    diesel::insert_into(outstanding_tokens::table)
        .values((
            outstanding_tokens::user_id.eq(existing_user),
            outstanding_tokens::jti.eq(&token.jti),
            outstanding_tokens::token.eq(&token.token),
            outstanding_tokens::created_at.eq(token.created_at),
            outstanding_tokens::expires_at.eq(token.expires_at),
            outstanding_tokens::family_id.eq(&token.family_id),
        ))
        .execute(conn)
}

/// Runs one insert in a savepoint; `false` when a unique index refused it (the row exists).
fn insert_unless_present(
    conn: &mut AnyConnection,
    insert: impl FnOnce(&mut AnyConnection) -> QueryResult<usize>,
) -> Result<bool, DbError> {
    match conn.transaction(|conn| insert(conn).map_err(DbError::from)) {
        Ok(_) => Ok(true),
        Err(DbError::UniqueViolation(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Whether the token with this `jti` is blacklisted.
pub fn is_blacklisted(conn: &mut AnyConnection, jti: &str) -> Result<bool, DbError> {
    let count: i64 = blacklisted_tokens::table
        .inner_join(outstanding_tokens::table)
        .filter(outstanding_tokens::jti.eq(jti))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Whether the token with this `jti` was revoked: a blacklisted refresh token or a denied
/// access token.
pub fn is_revoked(conn: &mut AnyConnection, jti: &str) -> Result<bool, DbError> {
    let denied: i64 = denied_access_tokens::table
        .find(jti)
        .count()
        .get_result(conn)?;
    Ok(denied > 0 || is_blacklisted(conn, jti)?)
}

/// An access token revoked before its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = denied_access_tokens)]
pub struct DeniedAccessToken {
    /// Its `jti`.
    pub jti: String,
    /// Whose it was.
    pub user_id: Option<i32>,
    /// Its `exp`: the entry is useless after it (UTC).
    pub expires_at: NaiveDateTime,
    /// When it was denied (UTC).
    pub denied_at: NaiveDateTime,
}

/// Refuses an access token from now on (denying it twice is denying it once); tells the other
/// processes.
pub fn deny_access(conn: &mut AnyConnection, token: &DeniedAccessToken) -> Result<(), DbError> {
    conn.transaction(|conn| {
        let existing_user = users::table
            .filter(users::id.nullable().eq(token.user_id))
            .select(users::id)
            .single_value();
        insert_unless_present(conn, |conn| {
            diesel::insert_into(denied_access_tokens::table)
                .values((
                    denied_access_tokens::jti.eq(&token.jti),
                    denied_access_tokens::user_id.eq(existing_user),
                    denied_access_tokens::expires_at.eq(token.expires_at),
                    denied_access_tokens::denied_at.eq(token.denied_at),
                ))
                .execute(conn)
        })?;
        events::announce(conn, &Event::Token(token.jti.clone()))
    })
}

/// Revokes a refresh token, recording it as outstanding first when it is not (simplejwt's
/// `get_or_create`s; a user who no longer exists is recorded as no user). The unique index on
/// `blacklisted_tokens.token_id` decides races: of two concurrent calls for one token exactly
/// one gets [`Revocation::Revoked`].
pub fn blacklist(
    conn: &mut AnyConnection,
    token: &OutstandingToken,
    now: NaiveDateTime,
) -> Result<Revocation, DbError> {
    conn.transaction(|conn| blacklist_within(conn, token, now))
}

/// A refresh with rotation, in one transaction: revokes `old` (when `blacklist_old`) and
/// records its successor `new`. When `old` was already revoked nothing is recorded; when
/// recording `new` fails, `old` stays valid, so a failed rotation never logs anyone out.
pub fn rotate(
    conn: &mut AnyConnection,
    old: &OutstandingToken,
    new: &OutstandingToken,
    blacklist_old: bool,
    now: NaiveDateTime,
) -> Result<Revocation, DbError> {
    conn.transaction(|conn| {
        if blacklist_old && blacklist_within(conn, old, now)? == Revocation::AlreadyRevoked {
            return Ok(Revocation::AlreadyRevoked);
        }
        record_outstanding(conn, new)?;
        Ok(Revocation::Revoked)
    })
}

/// [`blacklist`] within a transaction the caller holds.
pub(super) fn blacklist_within(
    conn: &mut AnyConnection,
    token: &OutstandingToken,
    now: NaiveDateTime,
) -> Result<Revocation, DbError> {
    // Recorded already when this database issued it; recorded now when another one did.
    insert_unless_present(conn, |conn| insert_outstanding(conn, token))?;
    let token_id: i32 = outstanding_tokens::table
        .filter(outstanding_tokens::jti.eq(&token.jti))
        .select(outstanding_tokens::id)
        .first(conn)?;
    let inserted = insert_unless_present(conn, |conn| {
        diesel::insert_into(blacklisted_tokens::table)
            .values((
                blacklisted_tokens::token_id.eq(token_id),
                blacklisted_tokens::blacklisted_at.eq(now),
            ))
            .execute(conn)
    })?;
    if !inserted {
        return Ok(Revocation::AlreadyRevoked);
    }
    events::announce(conn, &Event::Token(token.jti.clone()))?;
    Ok(Revocation::Revoked)
}

/// Blacklists the outstanding tokens (id and `jti`) that are not blacklisted yet, and tells the
/// other processes.
pub(super) fn blacklist_all(
    conn: &mut AnyConnection,
    tokens: &[(i32, String)],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let ids: Vec<i32> = tokens.iter().map(|(id, _)| *id).collect();
    let already: Vec<i32> = blacklisted_tokens::table
        .filter(blacklisted_tokens::token_id.eq_any(&ids))
        .select(blacklisted_tokens::token_id)
        .load(conn)?;
    for (token_id, jti) in tokens.iter().filter(|(id, _)| !already.contains(id)) {
        diesel::insert_into(blacklisted_tokens::table)
            .values((
                blacklisted_tokens::token_id.eq(token_id),
                blacklisted_tokens::blacklisted_at.eq(now),
            ))
            .execute(conn)?;
        events::announce(conn, &Event::Token(jti.clone()))?;
    }
    Ok(())
}

/// Deletes outstanding tokens (and so their blacklist entries) and denied access tokens that
/// expired before `now`; returns how many outstanding tokens (simplejwt's
/// `flushexpiredtokens`).
pub fn flush_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    conn.transaction(|conn| {
        diesel::delete(
            denied_access_tokens::table.filter(denied_access_tokens::expires_at.lt(now)),
        )
        .execute(conn)?;
        let expired = outstanding_tokens::table
            .filter(outstanding_tokens::expires_at.lt(now))
            .select(outstanding_tokens::id);
        diesel::delete(
            blacklisted_tokens::table.filter(blacklisted_tokens::token_id.eq_any(expired)),
        )
        .execute(conn)?;
        diesel::delete(outstanding_tokens::table.filter(outstanding_tokens::expires_at.lt(now)))
            .execute(conn)
    })
    .map_err(DbError::from)
}
