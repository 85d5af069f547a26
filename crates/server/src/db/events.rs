//! What one process tells the others when it changes something a request check depends on:
//! a user, a token family, a token. On PostgreSQL each write announces its event with
//! `NOTIFY auth_events` in its own transaction (delivered when it commits); every process
//! listens ([`crate::db::listen`]) and forgets what it knew. SQLite has no such channel: there
//! the cache's time to live bounds how long another process may go on believing the old state.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use super::{AnyConnection, DbError};

/// The channel the events go out on.
pub const CHANNEL: &str = "auth_events";

/// Something a request check depends on changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// The user's row (active flag, password) changed, or the user is gone.
    User(i32),
    /// The token family was revoked.
    Family(String),
    /// The token with this `jti` was blacklisted (a refresh token) or denied (an access token).
    Token(String),
}

impl Event {
    /// The `NOTIFY` payload: `user:7`, `family:<id>`, `token:<jti>`.
    pub fn payload(&self) -> String {
        match self {
            Self::User(id) => format!("user:{id}"),
            Self::Family(id) => format!("family:{id}"),
            Self::Token(jti) => format!("token:{jti}"),
        }
    }

    /// The event a payload names, if it names one.
    pub fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':')? {
            ("user", id) => id.parse().ok().map(Self::User),
            ("family", id) if !id.is_empty() => Some(Self::Family(id.to_owned())),
            ("token", jti) if !jti.is_empty() => Some(Self::Token(jti.to_owned())),
            _ => None,
        }
    }
}

/// Tells every process listening on the same PostgreSQL database, when the surrounding
/// transaction commits. Does nothing on SQLite.
pub fn announce(conn: &mut AnyConnection, event: &Event) -> Result<(), DbError> {
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(event.payload())
            .execute(pg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_as_their_events() {
        for event in [
            Event::User(7),
            Event::Family("f00d".into()),
            Event::Token("0123abcd".into()),
        ] {
            assert_eq!(Event::parse(&event.payload()), Some(event));
        }
    }

    #[test]
    fn other_payloads_are_ignored() {
        for payload in ["", "user:", "user:x", "family:", "nothing:1", "plain"] {
            assert_eq!(Event::parse(payload), None, "{payload}");
        }
    }
}
