//! Where bcrypt runs: a pool of its own, one thread per core, at a lower scheduling priority
//! (nice 10) than the threads that answer requests.
//!
//! bcrypt is slow on purpose: a quarter of a second of CPU per login at cost 12. Off the async
//! workers it cannot block them, but on a busy machine it still competes with them for the
//! cores. At a lower priority the kernel runs a worker with a request ready before a hash, so
//! cheap endpoints like `/hello/` keep answering in milliseconds while logins saturate the CPU
//! (the `login_flood` benchmark measures it). Logins lose nothing: they are CPU-bound either way.
//!
//! The queue is bounded: when [`QUEUED_PER_THREAD`] jobs per thread are waiting, a new one is
//! refused at once ([`PoolError::Busy`], a quick 503) rather than waiting seconds behind them.
//! The queue's length is a ceiling, not a promise: on a machine busier than it assumes, the
//! jobs ahead would take longer than [`MAX_QUEUE_WAIT`], so a job is also refused at once when
//! the jobs waiting ahead of it, at the recent time per job, would take longer than that; and
//! one that waited past it anyway is refused when its turn comes. No login waits past it. A job whose request went away (the client gave up) is skipped, not hashed for
//! nobody.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The niceness of the hashing threads (0 is normal, 19 the lowest priority).
pub const HASHING_NICENESS: i32 = 10;

/// How many jobs may wait per hashing thread: at bcrypt cost 12 (a quarter of a second each)
/// the last of them starts about four seconds later.
pub const QUEUED_PER_THREAD: usize = 16;

/// The longest a job may wait for its turn: one refused after it is answered 503 at once
/// (`cargo xtask faults` measured logins waiting over 15 s, at twice what two servers could
/// hash, before there was a limit).
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// A fixed pool of low-priority threads for password hashing.
pub struct HashingPool {
    jobs: SyncSender<Job>,
    max_wait: Duration,
    threads: usize,
    load: Arc<Load>,
}

/// How busy the pool is: the jobs waiting, and how long a job has recently taken.
#[derive(Default)]
struct Load {
    waiting: AtomicUsize,
    /// A moving average of the time a job runs, in nanoseconds (0 until one has run).
    job_nanos: AtomicU64,
}

impl Load {
    /// Counts a job's run time into the average (each new one weighs an eighth).
    fn ran_for(&self, took: Duration) {
        let took = took.as_nanos().min(u128::from(u64::MAX)) as u64;
        let _ = self
            .job_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |average| {
                Some(if average == 0 {
                    took
                } else {
                    average - average / 8 + took / 8
                })
            });
    }

    /// How long the jobs waiting now would keep a new one waiting on `threads` threads.
    fn expected_wait(&self, threads: usize) -> Duration {
        let waiting = self.waiting.load(Ordering::Relaxed) as u64;
        let per_job = self.job_nanos.load(Ordering::Relaxed);
        Duration::from_nanos(waiting.saturating_mul(per_job) / threads as u64)
    }
}

/// Why a job did not run.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The queue is full: too many logins at once for this server.
    #[error("the password hashing queue is full")]
    Busy,
    /// The pool's threads are gone (only during shutdown).
    #[error("the password hashing pool has stopped")]
    Stopped,
}

impl HashingPool {
    /// Starts `threads` threads (at least one).
    pub fn new(threads: usize) -> Self {
        Self::with_max_wait(threads, MAX_QUEUE_WAIT)
    }

    /// [`HashingPool::new`], refusing jobs that waited longer than `max_wait` for their turn.
    pub fn with_max_wait(threads: usize, max_wait: Duration) -> Self {
        let threads = threads.max(1);
        let (sender, receiver) = mpsc::sync_channel::<Job>(threads * QUEUED_PER_THREAD);
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("bcrypt-{index}"))
                .spawn(move || work(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        Self {
            jobs: sender,
            max_wait,
            threads,
            load: Arc::default(),
        }
    }

    /// A pool with one thread per core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `job` on the pool and waits for its result without blocking the caller's thread.
    /// When the caller stops waiting (its request was dropped) before the job starts, the job
    /// is skipped.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        if self.load.expected_wait(self.threads) > self.max_wait {
            return Err(PoolError::Busy);
        }
        let (done, result) = oneshot::channel();
        let (queued, max_wait, load) = (Instant::now(), self.max_wait, self.load.clone());
        let job: Job = Box::new(move || {
            load.waiting.fetch_sub(1, Ordering::Relaxed);
            if done.is_closed() {
                return;
            }
            if queued.elapsed() > max_wait {
                let _ = done.send(Err(PoolError::Busy));
                return;
            }
            let started = Instant::now();
            let output = job();
            load.ran_for(started.elapsed());
            let _ = done.send(Ok(output));
        });
        self.load.waiting.fetch_add(1, Ordering::Relaxed);
        self.jobs.try_send(job).map_err(|error| {
            self.load.waiting.fetch_sub(1, Ordering::Relaxed);
            match error {
                TrySendError::Full(_) => PoolError::Busy,
                TrySendError::Disconnected(_) => PoolError::Stopped,
            }
        })?;
        result.await.map_err(|_| PoolError::Stopped)?
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

    /// Keeps the pool's one thread busy until `release` is sent; `blocking` ends with it.
    async fn occupy(
        pool: &Arc<HashingPool>,
    ) -> (
        std::sync::mpsc::Sender<()>,
        actix_web::rt::task::JoinHandle<Result<(), PoolError>>,
    ) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let blocker = pool.clone();
        let blocking = actix_web::rt::spawn(async move {
            blocker
                .run(move || {
                    let _ = started.send(());
                    let _ = held.recv();
                })
                .await
        });
        running.await.unwrap();
        (release, blocking)
    }

    #[actix_web::test]
    async fn a_full_queue_refuses_a_job_at_once() {
        let pool = Arc::new(HashingPool::new(1));
        let (release, blocking) = occupy(&pool).await;
        for _ in 0..QUEUED_PER_THREAD {
            assert!(pool.jobs.try_send(Box::new(|| ())).is_ok());
        }

        assert!(matches!(pool.run(|| ()).await, Err(PoolError::Busy)));
        release.send(()).unwrap();
        assert!(blocking.await.unwrap().is_ok());
    }

    #[actix_web::test]
    async fn a_job_that_waited_past_the_limit_is_refused_not_run() {
        let pool = Arc::new(HashingPool::with_max_wait(1, Duration::from_millis(50)));
        let (release, blocking) = occupy(&pool).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let late = actix_web::rt::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
                    .await
            }
        });
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        release.send(()).unwrap();

        assert!(matches!(late.await.unwrap(), Err(PoolError::Busy)));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        assert!(blocking.await.unwrap().is_ok());
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }

    #[actix_web::test]
    async fn a_job_the_jobs_ahead_would_keep_past_the_limit_is_refused_at_once() {
        let pool = Arc::new(HashingPool::with_max_wait(1, Duration::from_secs(2)));
        pool.run(|| std::thread::sleep(Duration::from_millis(1200)))
            .await
            .unwrap();
        let (release, blocking) = occupy(&pool).await;
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                actix_web::rt::spawn(async move { pool.run(|| ()).await })
            })
            .collect();
        // Both are queued (1.2 s each, by the last job's time), then the next is refused
        // without waiting for them: its turn would come after the 2 s limit.
        while pool.load.waiting.load(Ordering::Relaxed) < 2 {
            actix_web::rt::task::yield_now().await;
        }
        assert!(matches!(pool.run(|| ()).await, Err(PoolError::Busy)));

        release.send(()).unwrap();
        assert!(blocking.await.unwrap().is_ok());
        for job in queued {
            assert!(job.await.unwrap().is_ok());
        }
    }

    #[actix_web::test]
    async fn a_job_whose_caller_stopped_waiting_is_skipped() {
        let pool = Arc::new(HashingPool::new(1));
        let (release, blocking) = occupy(&pool).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let abandoned = pool.run(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
        // Polled once (queued), then dropped: the request went away.
        let _ = futures_util::FutureExt::now_or_never(Box::pin(abandoned));

        release.send(()).unwrap();
        assert!(blocking.await.unwrap().is_ok());
        pool.run(|| ()).await.unwrap();
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
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
