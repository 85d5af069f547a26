//! Where bcrypt runs: a pool of its own, one thread per core, at a lower scheduling priority
//! (nice 10) than the threads that answer requests.
//!
//! bcrypt is slow on purpose: a quarter of a second of CPU per login at cost 12. Off the async
//! workers it cannot block them, but on a busy machine it still competes with them for the
//! cores. At a lower priority the kernel runs a worker with a request ready before a hash, so
//! cheap endpoints like `/hello/` keep answering in milliseconds while logins saturate the CPU
//! (the `login_flood` benchmark measures it). Logins lose nothing: they are CPU-bound either way.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The niceness of the hashing threads (0 is normal, 19 the lowest priority).
pub const HASHING_NICENESS: i32 = 10;

/// A fixed pool of low-priority threads for password hashing.
pub struct HashingPool {
    jobs: Sender<Job>,
}

/// The pool's threads are gone (only during shutdown).
#[derive(Debug, thiserror::Error)]
#[error("the password hashing pool has stopped")]
pub struct PoolStopped;

impl HashingPool {
    /// Starts `threads` threads (at least one).
    pub fn new(threads: usize) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("bcrypt-{index}"))
                .spawn(move || work(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        Self { jobs: sender }
    }

    /// A pool with one thread per core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `job` on the pool and waits for its result without blocking the caller's thread.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolStopped> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(job());
        });
        self.jobs.send(job).map_err(|_| PoolStopped)?;
        result.await.map_err(|_| PoolStopped)
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Lowers the calling thread's priority (on Linux, `setpriority` with `who = 0` applies to
/// the calling thread only).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority(2) changes a scheduling attribute of this thread; no memory is
        // involved, and a failure (reported through the return value) only means we keep the
        // normal priority.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICENESS) };
        if result != 0 {
            tracing::debug!("could not lower the priority of a hashing thread");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn jobs_run_and_return_their_result() {
        let pool = HashingPool::new(2);
        assert_eq!(pool.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[actix_web::test]
    async fn jobs_run_on_the_low_priority_threads() {
        let pool = HashingPool::new(1);
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("bcrypt-0"));
    }

    #[cfg(target_os = "linux")]
    #[actix_web::test]
    async fn the_threads_run_at_a_lower_priority() {
        let pool = HashingPool::new(1);
        // SAFETY: getpriority(2) reads this thread's niceness; no memory is involved.
        let niceness = pool
            .run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
            .await
            .unwrap();
        assert_eq!(niceness, HASHING_NICENESS);
    }
}
