//! Where the server reads the time from: the system's clock, or, in tests, a clock that stands
//! still until the test moves it (so a test can let a token expire without waiting for it).
//!
//! Every request reads the time once, from [`Clock::now`], and passes it on: the services take
//! `now` as an argument and never read a clock of their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The current time in whole seconds since the Unix epoch, the unit of `exp` and `iat`, by the
/// system's clock.
pub fn system_now() -> i64 {
    // The clock read directly: every protected request calls this, and a calendar date is
    // not needed to count seconds.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

/// The server's source of the time: cheap to clone, shared by every worker.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system's clock: what a server runs on.
    pub fn system() -> Self {
        Self(None)
    }

    /// Seconds since the Unix epoch, by this clock.
    pub fn now(&self) -> i64 {
        match &self.0 {
            None => system_now(),
            Some(seconds) => seconds.load(Ordering::Relaxed),
        }
    }

    /// Waits until the clock shows a second after `second`, and returns the time then. A manual
    /// clock, like tokio's paused time, jumps to that second instead of sleeping through it (it
    /// would never get there by itself).
    pub async fn after(&self, second: i64) -> i64 {
        let next = second.saturating_add(1);
        match &self.0 {
            Some(seconds) => seconds.fetch_max(next, Ordering::Relaxed).max(next),
            None => loop {
                let now = system_now();
                if now >= next {
                    return now;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            },
        }
    }
}

/// A clock that reads `start` until it is moved: the hand a test holds, while the server it
/// started reads the same time through [`ManualClock::clock`].
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `start` (seconds since the Unix epoch).
    pub fn starting_at(start: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }

    /// The time it shows.
    pub fn now(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Moves the clock `seconds` forward.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::Relaxed);
    }

    /// The clock a server reads, showing whatever this hand sets.
    pub fn clock(&self) -> Clock {
        Clock(Some(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_it_is_moved() {
        let hand = ManualClock::starting_at(1_800_000_000);
        let clock = hand.clock();
        assert_eq!(clock.now(), 1_800_000_000);
        hand.advance(301);
        assert_eq!(clock.now(), 1_800_000_301);
        assert_eq!(hand.now(), 1_800_000_301);
    }

    #[tokio::test]
    async fn waiting_on_a_manual_clock_moves_it_to_the_next_second_and_never_back() {
        let hand = ManualClock::starting_at(100);
        assert_eq!(hand.clock().after(100).await, 101);
        assert_eq!(hand.now(), 101);
        assert_eq!(hand.clock().after(50).await, 101);
        assert_eq!(hand.now(), 101);
    }

    #[tokio::test]
    async fn waiting_on_the_system_clock_returns_once_the_second_has_turned() {
        let now = system_now();
        let after = Clock::system().after(now).await;
        assert!(now < after && after <= system_now(), "{now} {after}");
    }

    #[test]
    fn the_system_clock_reads_the_systems_time() {
        let before = system_now();
        let read = Clock::system().now();
        assert!(before <= read && read <= system_now(), "{before} {read}");
        assert!(read > 1_700_000_000, "{read}");
    }
}
