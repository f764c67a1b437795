//! Signals as events: the ones we care about are blocked in every thread and read from
//! a signalfd, next to a pipe the watch worker writes to when a poll is done. One
//! `poll(2)` waits for both with a timeout, so the supervisor sleeps between events
//! (no busy loop, no async runtime, no signal handler running in odd places).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// Signals passed on to the child. TERM, INT, HUP and QUIT are the ones orchestrators and
/// terminals send; relay also acts on USR1 (it toggles its envelope buffer's dequeue).
pub const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// The forwarded signals that also mean "we are shutting down": no restart after them.
pub fn is_terminating(sig: libc::c_int) -> bool {
    matches!(sig, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT)
}

pub fn name(sig: libc::c_int) -> &'static str {
    match sig {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGKILL => "SIGKILL",
        libc::SIGCHLD => "SIGCHLD",
        _ => "signal",
    }
}

/// What one wait produced (possibly nothing: the timeout passed).
#[derive(Debug, Default)]
pub struct Events {
    pub signals: Vec<libc::c_int>,
    pub woken: bool,
}

pub struct Signals {
    signal_fd: OwnedFd,
    wake_read: OwnedFd,
    wake_write: Arc<OwnedFd>,
}

/// Lets another thread end the supervisor's wait.
#[derive(Clone)]
pub struct Waker(Arc<OwnedFd>);

impl Waker {
    pub fn wake(&self) {
        let byte = 1u8;
        // A full pipe already holds a wake-up; nothing is lost by a failed write.
        unsafe { libc::write(self.0.as_raw_fd(), (&byte as *const u8).cast(), 1) };
    }
}

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

impl Signals {
    /// Block the forwarded signals (but those ignored at start) and SIGCHLD in the
    /// calling thread (threads started later inherit the mask) and open the descriptors. Call before starting any thread,
    /// or a signal could go to a thread that has it unblocked and kill the process.
    pub fn block() -> io::Result<Signals> {
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in FORWARDED.iter().chain(&[libc::SIGCHLD]) {
                // One ignored when we started (nohup) stays ignored, here and in the
                // child, which inherits the ignore: as if exec were not there.
                if *sig != libc::SIGCHLD && crate::interrupt::is_ignored(*sig) {
                    log::info!(
                        "{} was ignored when exec started: it stays ignored, for the child too",
                        name(*sig)
                    );
                    continue;
                }
                libc::sigaddset(&mut set, *sig);
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            let sfd = cvt(libc::signalfd(
                -1,
                &set,
                libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
            ))?;
            let signal_fd = OwnedFd::from_raw_fd(sfd);
            let mut fds = [0 as RawFd; 2];
            cvt(libc::pipe2(
                fds.as_mut_ptr(),
                libc::O_CLOEXEC | libc::O_NONBLOCK,
            ))?;
            Ok(Signals {
                signal_fd,
                wake_read: OwnedFd::from_raw_fd(fds[0]),
                wake_write: Arc::new(OwnedFd::from_raw_fd(fds[1])),
            })
        }
    }

    pub fn waker(&self) -> Waker {
        Waker(Arc::clone(&self.wake_write))
    }

    /// Sleep until a signal arrives, the worker wakes us, or `timeout` passes (`None`:
    /// no timeout).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<Events> {
        let mut fds = [
            libc::pollfd {
                fd: self.signal_fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.wake_read.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ms = match timeout {
            None => -1,
            // Round up: waking a millisecond early would just loop once more.
            Some(d) => d.as_micros().div_ceil(1000).min(libc::c_int::MAX as u128) as libc::c_int,
        };
        let mut events = Events::default();
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if ready == -1 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(events),
                _ => Err(e),
            };
        }
        if fds[0].revents & libc::POLLIN != 0 {
            self.drain_signals(&mut events.signals);
        }
        if fds[1].revents & libc::POLLIN != 0 {
            let mut buf = [0u8; 64];
            while unsafe { libc::read(self.wake_read.as_raw_fd(), buf.as_mut_ptr().cast(), 64) } > 0
            {
            }
            events.woken = true;
        }
        Ok(events)
    }

    fn drain_signals(&self, out: &mut Vec<libc::c_int>) {
        loop {
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let n = unsafe {
                libc::read(
                    self.signal_fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if n != size as isize {
                return;
            }
            out.push(info.ssi_signo as libc::c_int);
        }
    }
}

/// Send `sig` to `pid`. A child that is already gone is not an error.
pub fn send(pid: libc::pid_t, sig: libc::c_int) {
    unsafe { libc::kill(pid, sig) };
}
