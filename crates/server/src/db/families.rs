//! Token families: every log in starts one, every rotation stays in it. A family knows its
//! current refresh token and the one before; a rotated-out token that comes back is reuse, and
//! the whole family is revoked (RFC 9700 §4.14.2).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::events::{self, Event};
use super::schema::{outstanding_tokens, token_families};
use super::tokens::{self as token_store, OutstandingToken};
use super::users;
use super::{AnyConnection, DbError};

/// A row of `token_families`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = token_families)]
pub struct Family {
    /// The family id, also the `family_id` claim of its tokens.
    pub id: String,
    /// Whose session it is.
    pub user_id: Option<i32>,
    /// When the log in happened (UTC).
    pub created_at: NaiveDateTime,
    /// The family's absolute end: no rotation carries it past this (UTC).
    pub expires_at: NaiveDateTime,
    /// The `jti` of the family's newest refresh token, the only one that may be used.
    pub current_jti: String,
    /// The `jti` of the token the current one replaced.
    pub previous_jti: Option<String>,
    /// When the current token replaced the previous one (UTC).
    pub rotated_at: Option<NaiveDateTime>,
    /// When the family was revoked, if it was (UTC).
    pub revoked_at: Option<NaiveDateTime>,
    /// Why: one of [`Reason`]'s names.
    pub reason: Option<String>,
}

/// Why a family was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A rotated-out refresh token was presented again.
    Reuse,
    /// The session logged out.
    Logout,
    /// The user logged out everywhere.
    LogoutAll,
    /// The user changed their password.
    PasswordChange,
}

impl Reason {
    /// The reason stored as `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Reuse,
            Self::Logout,
            Self::LogoutAll,
            Self::PasswordChange,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == name)
    }

    /// The name stored in `token_families.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reuse => "reuse",
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::PasswordChange => "password_change",
        }
    }
}

/// What [`rotate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The family moved on to the new token.
    Rotated,
    /// The old token was no longer the family's current one (a concurrent rotation won, or the
    /// family was revoked): nothing was written.
    Lost,
}

/// The family with this id.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Family>, DbError> {
    Ok(token_families::table
        .find(id)
        .select(Family::as_select())
        .first(conn)
        .optional()?)
}

/// Starts a family with its first refresh token, in one transaction.
pub fn start(
    conn: &mut AnyConnection,
    family: &Family,
    first: &OutstandingToken,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::insert_into(token_families::table)
            .values(family)
            .execute(conn)?;
        token_store::record_outstanding(conn, first)
    })
}

/// A rotation in one transaction: the family moves from `old` to `new` only if `old` is still
/// its current token (so of concurrent rotations exactly one wins), `old` is blacklisted and
/// `new` recorded. When recording fails, nothing changed.
pub fn rotate(
    conn: &mut AnyConnection,
    family_id: &str,
    old: &OutstandingToken,
    new: &OutstandingToken,
    now: NaiveDateTime,
) -> Result<Rotation, DbError> {
    conn.transaction(|conn| {
        let moved = diesel::update(
            token_families::table
                .find(family_id)
                .filter(token_families::current_jti.eq(&old.jti))
                .filter(token_families::revoked_at.is_null()),
        )
        .set((
            token_families::previous_jti.eq(Some(&old.jti)),
            token_families::current_jti.eq(&new.jti),
            token_families::rotated_at.eq(Some(now)),
        ))
        .execute(conn)?;
        if moved == 0 {
            return Ok(Rotation::Lost);
        }
        token_store::blacklist_within(conn, old, now)?;
        token_store::record_outstanding(conn, new)?;
        Ok(Rotation::Rotated)
    })
}

/// The encoded token of the family's current refresh token: what a retry within the grace
/// period gets again.
pub fn current_token(conn: &mut AnyConnection, family: &Family) -> Result<Option<String>, DbError> {
    Ok(outstanding_tokens::table
        .filter(outstanding_tokens::jti.eq(&family.current_jti))
        .select(outstanding_tokens::token)
        .first(conn)
        .optional()?)
}

/// Revokes a family and blacklists every refresh token of it, in one transaction; tells the
/// other processes. Returns whether this call revoked it (`false`: it already was).
pub fn revoke(
    conn: &mut AnyConnection,
    id: &str,
    reason: Reason,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let revoked = diesel::update(
            token_families::table
                .find(id)
                .filter(token_families::revoked_at.is_null()),
        )
        .set((
            token_families::revoked_at.eq(Some(now)),
            token_families::reason.eq(Some(reason.as_str())),
        ))
        .execute(conn)?;
        blacklist_family_tokens(conn, id, now)?;
        events::announce(conn, &Event::Family(id.to_owned()))?;
        Ok(revoked == 1)
    })
}

/// Records a new session of `user_id` (its family, when it has one, and its refresh token; its
/// last log in, when given), in one transaction, unless the password it was checked against
/// (`checked_hash`) was changed meanwhile or the user deactivated: returns whether it did (see
/// [`users::lock_if_unchanged`]).
pub fn record_session(
    conn: &mut AnyConnection,
    user_id: i32,
    checked_hash: &str,
    family: Option<&Family>,
    outstanding: &OutstandingToken,
    last_login: Option<NaiveDateTime>,
) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        if !users::lock_if_unchanged(conn, user_id, checked_hash)? {
            return Ok(false);
        }
        match family {
            Some(family) => {
                let family = Family {
                    current_jti: outstanding.jti.clone(),
                    ..family.clone()
                };
                start(conn, &family, outstanding)?;
            }
            None => token_store::record_outstanding(conn, outstanding)?,
        }
        if let Some(at) = last_login {
            users::touch_last_login(conn, user_id, at)?;
        }
        Ok(true)
    })
}

/// Ends every session of a user, in one transaction: every live family revoked, every refresh
/// token issued to them blacklisted, and the user marked so that any token issued before `now`,
/// of a family or not (an access token, a token of `server token`), is refused. Tells the
/// other processes. Returns the ids of the families it revoked.
pub fn revoke_all_of_user(
    conn: &mut AnyConnection,
    user_id: i32,
    reason: Reason,
    now: NaiveDateTime,
) -> Result<Vec<String>, DbError> {
    conn.transaction(|conn| {
        diesel::update(
            token_families::table
                .filter(token_families::user_id.eq(user_id))
                .filter(token_families::revoked_at.is_null()),
        )
        .set((
            token_families::revoked_at.eq(Some(now)),
            token_families::reason.eq(Some(reason.as_str())),
        ))
        .execute(conn)?;
        let revoked: Vec<String> = token_families::table
            .filter(token_families::user_id.eq(user_id))
            .filter(token_families::revoked_at.eq(Some(now)))
            .select(token_families::id)
            .load(conn)?;
        blacklist_user_tokens(conn, user_id, now)?;
        users::end_sessions(conn, user_id, now)?;
        for id in &revoked {
            events::announce(conn, &Event::Family(id.clone()))?;
        }
        Ok(revoked)
    })
}

/// Blacklists every refresh token of the family that is not blacklisted yet.
fn blacklist_family_tokens(
    conn: &mut AnyConnection,
    family_id: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let tokens: Vec<(i32, String)> = outstanding_tokens::table
        .filter(outstanding_tokens::family_id.eq(family_id))
        .select((outstanding_tokens::id, outstanding_tokens::jti))
        .load(conn)?;
    token_store::blacklist_all(conn, &tokens, now)
}

/// Blacklists every refresh token issued to the user that is not blacklisted yet, in a family
/// or not.
fn blacklist_user_tokens(
    conn: &mut AnyConnection,
    user_id: i32,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let tokens: Vec<(i32, String)> = outstanding_tokens::table
        .filter(outstanding_tokens::user_id.eq(user_id))
        .select((outstanding_tokens::id, outstanding_tokens::jti))
        .load(conn)?;
    token_store::blacklist_all(conn, &tokens, now)
}

/// Deletes the families that ended before `now` (their tokens have expired by then too).
pub fn flush_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(token_families::table.filter(token_families::expires_at.lt(now)))
            .execute(conn)?,
    )
}
