//! The per-process view of what every protected request checks: the user (active? which
//! password?), and whether a token or a token family was revoked. Kept in memory, so a request
//! costs no database round trip, and kept current three ways:
//!
//! 1. a write this process makes updates it at once ([`AuthView::learn`]);
//! 2. a write another process makes on PostgreSQL reaches it through `LISTEN/NOTIFY`
//!    ([`crate::db::listen`]), within milliseconds;
//! 3. anything else (SQL typed by hand, the command line against SQLite) is picked up when the
//!    entry's time to live (`AUTH_CACHE_TTL`, default 2 s) runs out.
//!
//! Entries are filled on a miss, and the caches are bounded in size ([`Memo`] drops the
//! expired entries, then those not read lately). Evicting is always safe: the database is the truth, and a miss asks it again.
//! Revocation is forever, so a revoked entry is never overwritten by a "not revoked" read that
//! raced the revoking write. A user read that raced a write to that user may keep the old row
//! until its time to live runs out.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::events::Event;
use super::users::{self, User};
use super::{Database, DbError, families, tokens};
use crate::memo::Memo;

/// How many entries each cache holds at most (an evicted entry is read again on its next use).
const CAPACITY: usize = 10_000;

/// What this process knows of users and revocations; cheap to clone (clones share it).
#[derive(Clone)]
pub struct AuthView(Arc<Inner>);

/// A view that does not keep the view alive: the listener holds one, and stops once nobody
/// else holds the view.
pub struct WeakView(Weak<Inner>);

impl WeakView {
    /// The view, while someone still uses it.
    pub fn get(&self) -> Option<AuthView> {
        self.0.upgrade().map(AuthView)
    }
}

struct Inner {
    db: Database,
    /// `None` when `AUTH_CACHE_TTL` is 0: every check then asks the database.
    caches: Option<Caches>,
}

struct Caches {
    users: Memo<i32, Option<Arc<User>>>,
    revoked_tokens: Memo<String, bool>,
    revoked_families: Memo<String, bool>,
}

impl AuthView {
    /// A view of `db` whose entries live `ttl` (no caching at all when zero).
    pub fn new(db: Database, ttl: Duration) -> Self {
        let caches = (!ttl.is_zero()).then(|| Caches {
            users: Memo::new(CAPACITY, ttl),
            revoked_tokens: Memo::new(CAPACITY, ttl),
            revoked_families: Memo::new(CAPACITY, ttl),
        });
        Self(Arc::new(Inner { db, caches }))
    }

    /// A handle that does not keep this view alive.
    pub fn downgrade(&self) -> WeakView {
        WeakView(Arc::downgrade(&self.0))
    }

    /// The user with this id (`None`: there is none).
    pub async fn user(&self, id: i32) -> Result<Option<Arc<User>>, DbError> {
        if let Some(known) = self.0.caches.as_ref().and_then(|c| c.users.get(&id)) {
            return Ok(known);
        }
        let user = self
            .0
            .db
            .run(move |conn| users::find_by_id(conn, id))
            .await?
            .map(Arc::new);
        if let Some(caches) = &self.0.caches {
            caches.users.insert(id, user.clone());
        }
        Ok(user)
    }

    /// Whether the token with this `jti` was revoked (a blacklisted refresh token, a denied
    /// access token).
    pub async fn is_token_revoked(&self, jti: &str) -> Result<bool, DbError> {
        let caches = self.0.caches.as_ref();
        if let Some(known) = caches.and_then(|c| c.revoked_tokens.get(jti)) {
            return Ok(known);
        }
        let owned = jti.to_owned();
        let revoked = self
            .0
            .db
            .run(move |conn| tokens::is_revoked(conn, &owned))
            .await?;
        if let Some(caches) = caches {
            remember(&caches.revoked_tokens, jti, revoked);
        }
        Ok(revoked)
    }

    /// Whether the token family with this id was revoked. A family the database does not know
    /// (flushed after it ended, or never issued here) counts as revoked.
    pub async fn is_family_revoked(&self, id: &str) -> Result<bool, DbError> {
        let caches = self.0.caches.as_ref();
        if let Some(known) = caches.and_then(|c| c.revoked_families.get(id)) {
            return Ok(known);
        }
        let owned = id.to_owned();
        let revoked = self
            .0
            .db
            .run(move |conn| {
                Ok(families::find(conn, &owned)?.is_none_or(|family| family.revoked_at.is_some()))
            })
            .await?;
        if let Some(caches) = caches {
            remember(&caches.revoked_families, id, revoked);
        }
        Ok(revoked)
    }

    /// What a write (this process's, or one it heard of) changed. A user is forgotten, to be
    /// read again; a token or family event is a revocation, remembered as such.
    pub fn learn(&self, event: &Event) {
        let Some(caches) = &self.0.caches else {
            return;
        };
        match event {
            Event::User(id) => caches.users.invalidate(id),
            Event::Token(jti) => caches.revoked_tokens.insert(jti.clone(), true),
            Event::Family(id) => caches.revoked_families.insert(id.clone(), true),
        }
    }

    /// A token this process just minted: nobody can have revoked it yet, so its first check
    /// need not ask the database.
    pub fn learn_fresh_token(&self, jti: &str) {
        if let Some(caches) = &self.0.caches {
            remember(&caches.revoked_tokens, jti, false);
        }
    }

    /// Forgets everything (after the event channel was down, anything may have changed).
    pub fn forget_all(&self) {
        if let Some(caches) = &self.0.caches {
            caches.users.invalidate_all();
            caches.revoked_tokens.invalidate_all();
            caches.revoked_families.invalidate_all();
        }
    }
}

/// Stores what a read found, unless a revocation got there first: revoked stays revoked.
fn remember(memo: &Memo<String, bool>, key: &str, revoked: bool) {
    memo.insert_with(key.to_owned(), |known| known == Some(&true) || revoked);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> Memo<String, bool> {
        Memo::new(10, Duration::from_secs(3600))
    }

    #[test]
    fn a_read_that_raced_a_revocation_does_not_undo_it() {
        let cache = cache();
        cache.insert("jti".to_owned(), true);

        remember(&cache, "jti", false);

        assert_eq!(cache.get("jti"), Some(true));
    }

    #[test]
    fn a_read_is_remembered_when_nothing_was_known() {
        let cache = cache();

        remember(&cache, "jti", false);

        assert_eq!(cache.get("jti"), Some(false));
    }
}
