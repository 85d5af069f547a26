//! Queries on `outstanding_tokens` and `blacklisted_tokens`: simplejwt's token_blacklist app.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{blacklisted_tokens, outstanding_tokens};
use super::{AnyConnection, DbError};

/// The columns of a newly issued refresh token.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outstanding_tokens)]
pub struct NewOutstandingToken<'a> {
    /// The user it was issued to, when known.
    pub user_id: Option<i32>,
    /// The token's `jti` claim.
    pub jti: &'a str,
    /// The encoded token.
    pub token: &'a str,
    /// When it was recorded (UTC).
    pub created_at: Option<NaiveDateTime>,
    /// Its `exp` claim (UTC).
    pub expires_at: NaiveDateTime,
}

/// Records an issued refresh token.
pub fn record_outstanding(
    conn: &mut AnyConnection,
    token: &NewOutstandingToken<'_>,
) -> Result<(), DbError> {
    diesel::insert_into(outstanding_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
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

/// What [`blacklist`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistOutcome {
    /// This call revoked the token.
    Revoked,
    /// The token was already revoked (possibly by a concurrent call a moment ago).
    AlreadyRevoked,
}

/// Revokes a refresh token, recording it as outstanding first when it is not (simplejwt's
/// `get_or_create`s). The unique index on `blacklisted_tokens.token_id` decides races: of two
/// concurrent calls for one token exactly one gets [`BlacklistOutcome::Revoked`].
pub fn blacklist(
    conn: &mut AnyConnection,
    token: &NewOutstandingToken<'_>,
    now: NaiveDateTime,
) -> Result<BlacklistOutcome, DbError> {
    let token_id = match outstanding_id(conn, token.jti)? {
        Some(id) => id,
        None => {
            match record_outstanding(conn, token) {
                Ok(()) | Err(DbError::UniqueViolation(_)) => {}
                Err(other) => return Err(other),
            }
            outstanding_id(conn, token.jti)?
                .ok_or(DbError::Query(diesel::result::Error::NotFound))?
        }
    };
    let inserted = diesel::insert_into(blacklisted_tokens::table)
        .values((
            blacklisted_tokens::token_id.eq(token_id),
            blacklisted_tokens::blacklisted_at.eq(now),
        ))
        .execute(conn);
    match inserted.map_err(DbError::from) {
        Ok(_) => Ok(BlacklistOutcome::Revoked),
        Err(DbError::UniqueViolation(_)) => Ok(BlacklistOutcome::AlreadyRevoked),
        Err(other) => Err(other),
    }
}

fn outstanding_id(conn: &mut AnyConnection, jti: &str) -> Result<Option<i32>, DbError> {
    Ok(outstanding_tokens::table
        .filter(outstanding_tokens::jti.eq(jti))
        .select(outstanding_tokens::id)
        .first(conn)
        .optional()?)
}

/// Deletes outstanding tokens (and so their blacklist entries) that expired before `now`;
/// returns how many (simplejwt's `flushexpiredtokens`).
pub fn flush_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    conn.transaction(|conn| {
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
