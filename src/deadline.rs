//! The backstop that holds every run to its deadline: the work runs on a worker thread
//! and the caller stops waiting at the deadline, whatever the work is stuck in (a DNS
//! lookup that hangs, a caller that never closes stdin). The work keeps its own
//! deadline too; this is for what it cannot bound.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long past the deadline the caller waits: the work's own deadline ends it first
/// when it can, with its own, better message.
const GRACE: Duration = Duration::from_millis(200);

/// Why `within` has no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Late {
    /// The deadline passed; `budget` is the time the work had.
    Timeout { budget: Duration },
    /// The worker ended without a result (only a panic does that: a bug).
    Lost,
}

/// Run `work` and wait for its result until `deadline` (plus a short grace). A worker
/// still running then is left behind; the process ends soon after.
pub(crate) fn within<T: Send + 'static>(
    deadline: Instant,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Late> {
    let budget = deadline.saturating_duration_since(Instant::now());
    let (tx, rx) = mpsc::channel();
    spawn(Box::new(move || {
        let _ = tx.send(work());
    }));
    rx.recv_timeout(budget + GRACE).map_err(|e| match e {
        mpsc::RecvTimeoutError::Timeout => Late::Timeout { budget },
        mpsc::RecvTimeoutError::Disconnected => Late::Lost,
    })
}

/// How many attempts a worker has started, shared with the caller: a run the backstop ends
/// still reports the attempts really sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attempts(Arc<AtomicU32>);

impl Attempts {
    /// Attempt `number` (1-based) is about to start.
    pub(crate) fn starting(&self, number: u32) {
        self.0.store(number, Ordering::SeqCst);
    }

    pub(crate) fn started(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

/// One thread-spawning path for every caller (a boxed job, so the spawn machinery is
/// compiled once, not once per result type).
fn spawn(job: Box<dyn FnOnce() + Send>) {
    std::thread::spawn(job);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_and_stuck_work_is_left_behind_at_the_deadline() {
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(within(soon, || 7), Ok(7));
        let started = Instant::now();
        let late = within(started + Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(30))
        });
        assert!(matches!(late, Err(Late::Timeout { .. })), "{late:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(within(soon, || -> u8 { panic!("a bug") }), Err(Late::Lost));
    }
}
