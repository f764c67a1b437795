//! A small process supervisor for `exec`: one child, signals forwarded, zombies reaped,
//! the child's exit code passed on, and a restart when the watcher asks for one.
//!
//! It knows nothing of WorkOS or relay: it is handed a `poll` function ("fetch again
//! and say what changed") and runs it on a worker thread, so the main thread is always
//! free to forward a signal or reap a child. Between events it sleeps in `poll(2)`.
//!
//! Linux only (signalfd, PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER), which is where
//! relay runs.

mod child;
mod signals;

use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use child::{exec, Launch};

use signals::Signals;

/// What a poll found. No `Debug`: a launch holds the child's argv, which may carry a
/// secret (`relay run --secret-key ...`).
pub enum Poll {
    /// Nothing for the child to change; poll again after the interval.
    Keep,
    /// The read failed: leave the child alone and poll again after a longer wait.
    Failed,
    /// Start the child with `launch`, replacing the running one (SIGTERM, up to
    /// `grace`, SIGKILL). `reason` is logged.
    Start { reason: String, launch: Launch },
    /// Do not start (only meaningful before the first start): exit with this code.
    Stop(u8),
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Time between polls on the steady path (jitter is added on top).
    pub interval: Duration,
    /// How long a child may take to stop after SIGTERM before it gets SIGKILL.
    pub grace: Duration,
}

/// After this many failed polls in a row the wait stops growing: 1x, 2x, 4x the interval.
const MAX_BACKOFF_DOUBLINGS: u32 = 2;

/// What exec did (fetches, starts, restarts): silenced by -q like every mode's "wrote ..." lines.
pub(crate) fn say(line: &str) {
    crate::console::info(&format!("vault-fetch-relay: exec: {line}"));
}

/// Something went wrong: shown even with -q.
pub(crate) fn say_error(line: &str) {
    crate::console::error(&format!("vault-fetch-relay: error: exec: {line}"));
}

/// The wait before the next poll: the interval (doubled per failure, up to 4x) plus up
/// to a fifth more at random, so pods started together drift apart. Never shorter than
/// the interval, so the documented floor holds.
pub fn next_wait(interval: Duration, failures: u32, random: u64) -> Duration {
    let base = interval.saturating_mul(1 << failures.min(MAX_BACKOFF_DOUBLINGS));
    let span = (base / 5).as_millis() as u64;
    let jitter = if span == 0 { 0 } else { random % (span + 1) };
    base + Duration::from_millis(jitter)
}

/// The wait before the first poll after exec starts: the interval plus up to one more
/// interval at random (the start-up splay, like consul-template's `splay` and Vault Agent's
/// randomised re-reads). A rollout starts every pod within seconds; without the splay their
/// polls would stay bunched into one fifth of an interval for many rounds, and a fleet
/// that fits the key's budget on average would still overrun it in those bursts.
pub fn first_wait(interval: Duration, random: u64) -> Duration {
    let span = interval.as_millis() as u64;
    let splay = if span == 0 { 0 } else { random % (span + 1) };
    interval + Duration::from_millis(splay)
}

fn random_u64() -> u64 {
    u64::from_le_bytes(crate::keys::random_bytes::<8>())
}

enum Phase {
    /// The first poll is running; no child yet.
    NotStarted,
    Running(libc::pid_t),
    /// The old child got SIGTERM; `next` starts when it is gone.
    Restarting {
        pid: libc::pid_t,
        next: Box<Launch>,
        reason: String,
        kill_at: Instant,
        killed: bool,
    },
    /// We passed on a terminating signal: exit with the child's status, start nothing.
    Stopping(libc::pid_t),
}

impl Phase {
    fn pid(&self) -> Option<libc::pid_t> {
        match self {
            Phase::NotStarted => None,
            Phase::Running(p) | Phase::Stopping(p) => Some(*p),
            Phase::Restarting { pid, .. } => Some(*pid),
        }
    }
}

/// Run the first poll, start the child, and supervise it until it exits; returns the
/// exit code for this process.
pub fn run(options: Options, poll: impl FnMut() -> Poll + Send + 'static) -> anyhow::Result<u8> {
    // Before any thread exists, so every thread inherits the mask.
    let signals =
        Signals::block().map_err(|e| anyhow::anyhow!("cannot set up signal handling: {e}"))?;
    become_subreaper();
    let (jobs, results) = start_worker(poll, signals.waker());
    let mut sup = Supervisor {
        options,
        phase: Phase::NotStarted,
        in_flight: true,
        next_poll: None,
        failures: 0,
        jobs,
    };
    sup.jobs
        .send(())
        .map_err(|_| anyhow::anyhow!("the watch worker did not start"))?;
    loop {
        let events = signals
            .wait(sup.timeout())
            .map_err(|e| anyhow::anyhow!("waiting for signals failed: {e}"))?;
        for sig in events.signals {
            if let Some(code) = sup.on_signal(sig) {
                return Ok(code);
            }
        }
        if events.woken {
            while let Ok(result) = results.try_recv() {
                if let Some(code) = sup.on_poll(result) {
                    return Ok(code);
                }
            }
        }
        if let Some(code) = sup.on_time() {
            return Ok(code);
        }
    }
}

/// Orphans of the child (a process it forked and left) are re-parented to us rather
/// than to the host's init, and we reap them: no zombies pile up when we are PID 1 of a
/// container or anywhere else. Best effort: without it we still reap our own child.
fn become_subreaper() {
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    // Our environment holds the WorkOS API key. Not dumpable: a process of the same
    // user (the child) cannot read /proc/<our pid>/environ or ptrace us.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
}

fn start_worker(
    mut poll: impl FnMut() -> Poll + Send + 'static,
    waker: signals::Waker,
) -> (mpsc::Sender<()>, mpsc::Receiver<Poll>) {
    let (job_tx, job_rx) = mpsc::channel::<()>();
    let (result_tx, result_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for () in job_rx {
            if result_tx.send(poll()).is_err() {
                return;
            }
            waker.wake();
        }
    });
    (job_tx, result_rx)
}

struct Supervisor {
    options: Options,
    phase: Phase,
    in_flight: bool,
    next_poll: Option<Instant>,
    failures: u32,
    jobs: mpsc::Sender<()>,
}

impl Supervisor {
    fn timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let kill = match &self.phase {
            Phase::Restarting {
                kill_at,
                killed: false,
                ..
            } => Some(*kill_at),
            _ => None,
        };
        let poll = match (&self.phase, self.in_flight) {
            (Phase::Running(_), false) => self.next_poll,
            _ => None,
        };
        [kill, poll]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t.saturating_duration_since(now))
    }

    fn schedule(&mut self) {
        self.next_poll =
            Some(Instant::now() + next_wait(self.options.interval, self.failures, random_u64()));
    }

    fn schedule_first(&mut self) {
        self.next_poll = Some(Instant::now() + first_wait(self.options.interval, random_u64()));
    }

    fn start(&mut self, launch: &Launch, restarted: Option<&str>) -> Result<(), u8> {
        match child::spawn(launch) {
            Ok(pid) => {
                match restarted {
                    Some(reason) => say(&format!(
                        "restarted {} (pid {pid}, {}): {reason}",
                        launch.name(),
                        launch.description
                    )),
                    None => say(&format!(
                        "started {} (pid {pid}, {})",
                        launch.name(),
                        launch.description
                    )),
                }
                self.phase = Phase::Running(pid);
                self.failures = 0;
                match restarted {
                    // A restart follows a poll, which the splay already spread out.
                    Some(_) => self.schedule(),
                    None => self.schedule_first(),
                }
                Ok(())
            }
            Err(e) => {
                say_error(&e.message);
                Err(e.code)
            }
        }
    }

    fn on_signal(&mut self, sig: libc::c_int) -> Option<u8> {
        if sig == libc::SIGCHLD {
            return self.on_child_exit();
        }
        let Some(pid) = self.phase.pid() else {
            // No child yet (the first fetch is running): a terminating signal ends us
            // the way it would end any process; the user signals are not for us.
            return match sig {
                libc::SIGUSR1 | libc::SIGUSR2 => None,
                _ => {
                    say(&format!(
                        "{} before the child started; exiting",
                        signals::name(sig)
                    ));
                    Some(128 + sig as u8)
                }
            };
        };
        signals::send(pid, sig);
        if signals::is_terminating(sig) {
            if let Phase::Restarting { .. } = self.phase {
                say(&format!(
                    "{} during a restart: the new child will not be started",
                    signals::name(sig)
                ));
            }
            self.phase = Phase::Stopping(pid);
        }
        None
    }

    fn on_child_exit(&mut self) -> Option<u8> {
        let status = child::reap(self.phase.pid())?;
        match std::mem::replace(&mut self.phase, Phase::NotStarted) {
            Phase::Restarting { next, reason, .. } => self.start(&next, Some(&reason)).err(),
            Phase::Running(pid) => {
                // Its own exit: pass it on, no restart (the orchestrator owns restarts).
                say(&format!("child (pid {pid}) {}; exiting", status.describe()));
                Some(status.code())
            }
            Phase::Stopping(pid) => {
                say(&format!("child (pid {pid}) {}", status.describe()));
                Some(status.code())
            }
            Phase::NotStarted => None,
        }
    }

    fn on_poll(&mut self, result: Poll) -> Option<u8> {
        self.in_flight = false;
        match (&self.phase, result) {
            // Shutting down or mid-restart: nothing a poll says matters now.
            (Phase::Stopping(_) | Phase::Restarting { .. }, _) => None,
            (Phase::NotStarted, Poll::Start { launch, .. }) => self.start(&launch, None).err(),
            (Phase::NotStarted, Poll::Stop(code)) => Some(code),
            // A running child is never stopped because of a poll.
            (Phase::Running(_), Poll::Stop(_)) => {
                self.schedule();
                None
            }
            (Phase::NotStarted, Poll::Keep | Poll::Failed) => {
                // The first poll must start the child or stop: polling again at once
                // would send back-to-back requests to WorkOS.
                say_error("the first read neither started the command nor stopped");
                Some(1)
            }
            (Phase::Running(_), Poll::Keep) => {
                self.failures = 0;
                self.schedule();
                None
            }
            (Phase::Running(_), Poll::Failed) => {
                self.failures += 1;
                self.schedule();
                None
            }
            (Phase::Running(pid), Poll::Start { reason, launch }) => {
                let pid = *pid;
                let grace = self.options.grace;
                say(&format!(
                    "restarting {} (pid {pid}): {reason}; sent SIGTERM, SIGKILL after {:.0} s",
                    launch.name(),
                    grace.as_secs_f64()
                ));
                signals::send(pid, libc::SIGTERM);
                self.phase = Phase::Restarting {
                    pid,
                    next: Box::new(launch),
                    reason,
                    kill_at: Instant::now() + grace,
                    killed: false,
                };
                None
            }
        }
    }

    fn on_time(&mut self) -> Option<u8> {
        let now = Instant::now();
        match &mut self.phase {
            Phase::Restarting {
                pid,
                kill_at,
                killed,
                ..
            } if !*killed && now >= *kill_at => {
                say(&format!(
                    "child (pid {pid}) still running after the grace period; sent SIGKILL"
                ));
                signals::send(*pid, libc::SIGKILL);
                *killed = true;
            }
            Phase::Running(_) if !self.in_flight && self.next_poll.is_some_and(|t| now >= t) => {
                self.next_poll = None;
                self.in_flight = true;
                if self.jobs.send(()).is_err() {
                    say_error("the watch worker stopped; the child keeps running unwatched");
                    self.in_flight = false;
                }
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_never_undercut_the_interval_and_back_off_to_four_times() {
        let i = Duration::from_secs(300);
        for random in [0, 1, 59_999, 60_000, u64::MAX] {
            let w = next_wait(i, 0, random);
            assert!(w >= i && w <= i + i / 5, "{w:?}");
        }
        assert_eq!(next_wait(i, 1, 0), 2 * i);
        assert_eq!(next_wait(i, 2, 0), 4 * i);
        assert_eq!(next_wait(i, 9, 0), 4 * i);
    }

    #[test]
    fn the_first_poll_is_splayed_over_a_whole_interval_never_below_it() {
        let i = Duration::from_secs(300);
        for random in [0, 1, 150_000, 300_000, 300_001, u64::MAX] {
            let w = first_wait(i, random);
            assert!(w >= i && w <= 2 * i, "{w:?}");
        }
        assert_eq!(first_wait(i, 0), i);
        assert_eq!(first_wait(i, 300_000), 2 * i);
        // Spread evenly: 1,000 pods land in every fifth of the span.
        let mut fifths = [0u32; 5];
        for _ in 0..1000 {
            let w = first_wait(i, random_u64()) - i;
            fifths[((w.as_millis() * 5 / 300_001) as usize).min(4)] += 1;
        }
        assert!(fifths.iter().all(|&n| n > 120), "{fifths:?}");
    }

    #[test]
    fn exit_status_codes_follow_the_shell() {
        // Raw wait statuses: exit code in the high byte, signal in the low bits.
        assert_eq!(child::ExitStatus(3 << 8).code(), 3);
        assert_eq!(child::ExitStatus(libc::SIGTERM).code(), 143);
        assert_eq!(child::ExitStatus(libc::SIGKILL).code(), 137);
        assert!(child::ExitStatus(libc::SIGKILL)
            .describe()
            .contains("SIGKILL"));
    }
}
