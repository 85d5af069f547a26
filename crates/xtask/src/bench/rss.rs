//! The memory a server uses while wrk loads it: the peak resident set of its process group.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Samples the resident memory of a process group every 50 ms; keeps the peak.
pub(crate) struct RssSampler {
    pub(super) running: Arc<AtomicBool>,
    pub(super) peak_kib: Arc<AtomicU64>,
    pub(super) thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    pub(crate) fn start(group: u32) -> Self {
        let running = Arc::new(AtomicBool::new(true));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let (flag, peak) = (running.clone(), peak_kib.clone());
        let thread = std::thread::spawn(move || {
            while flag.load(Ordering::Relaxed) {
                peak.fetch_max(group_rss_kib(group), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self {
            running,
            peak_kib,
            thread,
        }
    }

    /// Stops sampling; returns the peak in MiB.
    pub(crate) fn stop(self) -> f64 {
        self.running.store(false, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

/// The summed VmRSS of every process in process group `group` (gunicorn's master and
/// workers; the server's single process).
pub(crate) fn group_rss_kib(group: u32) -> u64 {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|entry| {
            entry
                .ok()?
                .file_name()
                .into_string()
                .ok()?
                .parse::<u32>()
                .ok()
        })
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // Fields after the command name (which may hold spaces): state ppid pgrp ...
                    let rest = stat.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(2)?.parse::<u32>().ok()
                })
                == Some(group)
        })
        .filter_map(|pid| {
            let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .sum()
}
