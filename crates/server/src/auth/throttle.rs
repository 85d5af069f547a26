//! Limits on guessing passwords, in the server itself (not only in nginx: `cargo xtask serve`
//! has no nginx in front of it). Every path that checks a password counts its failures here:
//!
//! - logging in (`/api/token/`, `/api/session/`), per username *and* client address, as
//!   django-axes counts them: a limit per username alone would let anyone lock anyone out;
//! - changing a password, per user: a stolen access token must not become unlimited guesses
//!   at the old password, and so a permanent takeover.
//!
//! Every attempt counts as a failure from the moment it starts, until it succeeds: a key that
//! made `limit` attempts within `window` without succeeding is refused, before any password is
//! checked, until the window (which starts at its first attempt) has passed. So concurrent
//! guesses cannot all slip past the check while their bcrypt runs; a success forgets them. Counts live in this process's
//! memory: a check costs a hash lookup and no database write, and with N replicas an attacker
//! gets at most N times the limit (nginx's `limit_req` in front holds them all to one rate).

use std::hash::Hash;
use std::time::Duration;

use moka::sync::Cache;

/// The most keys remembered; past that the least used are forgotten first.
const CAPACITY: u64 = 100_000;

/// Failures of one key since the window began.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: i64,
}

/// A key used up its failures: it may try again in `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the window ends.
    pub retry_after: u64,
}

/// Failed attempts per key, within a window.
pub struct Throttle<K> {
    failures: Cache<K, Failures>,
    limit: u32,
    window: i64,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Throttle<K> {
    /// At most `limit` failures per key within `window` (a `limit` of 0 turns the limit off).
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            failures: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(window.max(Duration::from_secs(1)))
                .build(),
            limit,
            window: window.as_secs() as i64,
        }
    }

    /// Counts an attempt of `key` at `now` (seconds since the epoch), or refuses it when `key`
    /// has used up its attempts. Checking and counting are one step, so no two concurrent
    /// attempts can both take the last one.
    pub fn attempt(&self, key: K, now: i64) -> Result<(), Throttled> {
        if self.limit == 0 {
            return Ok(());
        }
        let (limit, window) = (self.limit, self.window);
        let mut refused = None;
        self.failures.entry(key).and_upsert_with(|entry| {
            match entry.map(|entry| entry.into_value()) {
                Some(failures) if now < failures.since + window => {
                    if failures.count >= limit {
                        refused = Some(Throttled {
                            retry_after: (failures.since + window - now) as u64,
                        });
                        failures
                    } else {
                        Failures {
                            count: failures.count + 1,
                            since: failures.since,
                        }
                    }
                }
                _ => Failures {
                    count: 1,
                    since: now,
                },
            }
        });
        refused.map_or(Ok(()), Err)
    }

    /// Forgets the failures of `key`: it just succeeded.
    pub fn succeed(&self, key: &K) {
        self.failures.invalidate(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn throttle() -> Throttle<&'static str> {
        Throttle::new(3, Duration::from_secs(60))
    }

    #[test]
    fn a_key_may_attempt_up_to_the_limit() {
        let throttle = throttle();
        for _ in 0..3 {
            assert_eq!(throttle.attempt("ada", NOW), Ok(()));
        }
        assert_eq!(
            throttle.attempt("ada", NOW + 10),
            Err(Throttled { retry_after: 50 })
        );
    }

    #[test]
    fn the_window_starts_at_the_first_attempt_and_ends_by_itself() {
        let throttle = throttle();
        for _ in 0..3 {
            throttle.attempt("ada", NOW).unwrap();
        }
        assert!(throttle.attempt("ada", NOW + 59).is_err());
        assert_eq!(throttle.attempt("ada", NOW + 60), Ok(()));
    }

    #[test]
    fn a_success_forgets_the_attempts() {
        let throttle = throttle();
        for _ in 0..3 {
            throttle.attempt("ada", NOW).unwrap();
        }
        throttle.succeed(&"ada");
        assert_eq!(throttle.attempt("ada", NOW), Ok(()));
    }

    #[test]
    fn keys_are_counted_apart() {
        let throttle = throttle();
        for _ in 0..3 {
            throttle.attempt("ada", NOW).unwrap();
        }
        assert_eq!(throttle.attempt("bob", NOW), Ok(()));
    }

    #[test]
    fn concurrent_attempts_cannot_all_take_the_last_one() {
        let throttle = std::sync::Arc::new(throttle());
        let allowed = std::thread::scope(|scope| {
            let attempts: Vec<_> = (0..32)
                .map(|_| {
                    let throttle = throttle.clone();
                    scope.spawn(move || throttle.attempt("ada", NOW).is_ok())
                })
                .collect();
            attempts
                .into_iter()
                .filter_map(|attempt| attempt.join().ok())
                .filter(|allowed| *allowed)
                .count()
        });
        assert_eq!(allowed, 3);
    }

    #[test]
    fn a_limit_of_zero_is_no_limit() {
        let throttle = Throttle::new(0, Duration::from_secs(60));
        for _ in 0..100 {
            assert_eq!(throttle.attempt("ada", NOW), Ok(()));
        }
    }
}
