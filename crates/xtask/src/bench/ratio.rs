//! `/hello/` ÷ `/ping/`: what checking a token costs, as a share of a whole request.
//!
//! One round measures both paths back to back, the order alternating from round to round, and
//! gives one ratio. One round's ratio swings with whatever else the machine does (with wrk and
//! the server sharing two cores, from 0.67 to 0.91 within one run), so the figure is the median
//! of the rounds, printed with the lowest and highest.
//!
//! Pinned, the server runs on core 0 and wrk (one thread) on core 1, so that wrk's own CPU use
//! does not decide the figure. That needs `taskset` and two cores; without them the pinned study
//! is skipped, and the report says so.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::Figures;
use super::stacks::Side;
use super::wrk::measure;

/// Where the server and wrk run: pinned to a core each, or sharing every core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    /// The server on this core, wrk on the other.
    Pinned {
        server: usize,
        wrk: usize,
    },
    Shared,
}

impl Placement {
    /// The pinned placement, when `taskset` is there and the machine has two cores.
    pub(super) fn pinned(cores: usize, have_taskset: bool) -> Option<Self> {
        (have_taskset && cores >= 2).then_some(Self::Pinned { server: 0, wrk: 1 })
    }

    /// The core the server runs on, if pinned.
    pub(super) fn server_core(self) -> Option<usize> {
        match self {
            Self::Pinned { server, .. } => Some(server),
            Self::Shared => None,
        }
    }

    fn wrk_core(self) -> Option<usize> {
        match self {
            Self::Pinned { wrk, .. } => Some(wrk),
            Self::Shared => None,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Pinned { server, wrk } => {
                format!("pinned (server on core {server}, wrk with one thread on core {wrk})")
            }
            Self::Shared => "unpinned (server and wrk share every core)".to_owned(),
        }
    }
}

/// Both paths of each round, measured on one side in one placement.
pub(super) struct RatioStudy {
    pub(super) side: &'static str,
    pub(super) placement: Placement,
    /// `(ping, hello)` per round.
    pub(super) rounds: Vec<(Figures, Figures)>,
}

/// What a study needs to send: the two wrk scripts, and the header carrying the token.
pub(super) struct Paths<'a> {
    pub(super) ping: &'a Path,
    pub(super) hello: &'a Path,
    pub(super) bearer: &'a [String],
}

impl RatioStudy {
    /// Measures `rounds` rounds of both paths on `side`, alternating which goes first.
    pub(super) fn measure(
        side_name: &'static str,
        side: &Side,
        placement: Placement,
        paths: &Paths<'_>,
        rounds: u64,
        duration: Duration,
        connections: u64,
    ) -> Result<Self, String> {
        let core = placement.wrk_core();
        let ping = || measure(core, side, paths.ping, &[], duration, connections);
        let hello = || measure(core, side, paths.hello, paths.bearer, duration, connections);
        let mut measured = Vec::new();
        for round in 0..rounds {
            measured.push(if round % 2 == 0 {
                let ping = ping()?;
                (ping, hello()?)
            } else {
                let hello = hello()?;
                (ping()?, hello)
            });
        }
        Ok(Self {
            side: side_name,
            placement,
            rounds: measured,
        })
    }

    /// Each round's `/hello/` ÷ `/ping/`.
    pub(super) fn ratios(&self) -> Vec<f64> {
        self.rounds
            .iter()
            .map(|(ping, hello)| {
                hello.requests_per_second / ping.requests_per_second.max(f64::MIN_POSITIVE)
            })
            .collect()
    }

    /// The median round's ratio.
    pub(super) fn median(&self) -> f64 {
        median(&self.ratios())
    }

    /// The line of the report: the median, the spread, and both paths' range of requests/s.
    pub(super) fn line(&self) -> String {
        let ratios = self.ratios();
        let (low, high) = spread(&ratios);
        let pings: Vec<f64> = self
            .rounds
            .iter()
            .map(|r| r.0.requests_per_second)
            .collect();
        let hellos: Vec<f64> = self
            .rounds
            .iter()
            .map(|r| r.1.requests_per_second)
            .collect();
        let (ping_low, ping_high) = spread(&pings);
        let (hello_low, hello_high) = spread(&hellos);
        let mut line = format!(
            "- {}, {}: **{:.2}**, the median of {} rounds (lowest {low:.2}, highest {high:.2}); `/ping/` {ping_low:.0}–{ping_high:.0} req/s, `/hello/` {hello_low:.0}–{hello_high:.0} req/s.",
            self.side,
            self.placement.describe(),
            median(&ratios),
            ratios.len(),
        );
        let errors: u64 = self.rounds.iter().map(|r| r.0.errors + r.1.errors).sum();
        if errors > 0 {
            let _ = write!(line, " {errors} failed requests.");
        }
        line
    }
}

/// The middle value (the mean of the middle two for an even count); 0 for none.
pub(super) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The lowest and the highest value.
fn spread(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(low, high), v| {
            (low.min(*v), high.max(*v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(ping: f64, hello: f64) -> (Figures, Figures) {
        let rate = |requests_per_second| Figures {
            requests_per_second,
            ..Figures::default()
        };
        (rate(ping), rate(hello))
    }

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_one_and_of_an_even_count_the_mean_of_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[3.0, 1.0, 2.0, 4.0]), 2.5);
    }

    #[test]
    fn a_study_reports_the_median_ratio_with_its_spread_and_each_paths_range() {
        let study = RatioStudy {
            side: "this server",
            placement: Placement::Pinned { server: 0, wrk: 1 },
            rounds: vec![
                round(100.0, 90.0),
                round(100.0, 60.0),
                round(80.0, 76.0),
                round(90.0, 81.0),
                round(100.0, 93.0),
            ],
        };
        assert_eq!(study.median(), 0.9);
        assert_eq!(
            study.line(),
            "- this server, pinned (server on core 0, wrk with one thread on core 1): **0.90**, \
             the median of 5 rounds (lowest 0.60, highest 0.95); `/ping/` 80–100 req/s, \
             `/hello/` 60–93 req/s."
        );
    }

    #[test]
    fn pinning_needs_taskset_and_two_cores() {
        assert_eq!(Placement::pinned(1, true), None);
        assert_eq!(Placement::pinned(2, false), None);
        assert_eq!(
            Placement::pinned(2, true),
            Some(Placement::Pinned { server: 0, wrk: 1 })
        );
    }
}
