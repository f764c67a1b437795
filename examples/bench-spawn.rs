//! Per-invocation measurement for `bench/measure.py`: run one command with inherited
//! stdio, time it from spawn to reap, and record its peak RSS via `wait4`.
//!
//! Usage: bench-spawn RESULT_FILE PROGRAM [ARGS...]
//! Writes `wall_ns maxrss_kb exit_code user_us sys_us` to RESULT_FILE and exits 0
//! (the child's exit code is in the file, not ours).
//!
//! Why a separate launcher: Linux folds the address space a process had just before
//! `exec` into its `ru_maxrss`, so a child spawned straight from Python reports at least
//! the interpreter's own RSS (~14 MB). This launcher is ~1-2 MB, well below what it
//! measures, and `wait4` reports the child together with every descendant it waited for
//! (so a shell script's figure covers its curl and jq too).

use std::process::Command;
use std::time::Instant;

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod sys {
    #[repr(C)]
    pub struct Timeval {
        pub sec: i64,
        pub usec: i64,
    }

    /// `struct rusage` on 64-bit Linux: two timevals, then 14 longs.
    #[repr(C)]
    pub struct Rusage {
        pub utime: Timeval,
        pub stime: Timeval,
        pub maxrss: i64,
        pub rest: [i64; 13],
    }

    extern "C" {
        fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    }

    /// Reap `pid`: (raw wait status, rusage).
    pub fn reap(pid: u32) -> std::io::Result<(i32, Rusage)> {
        let mut status = 0i32;
        let mut ru = Rusage {
            utime: Timeval { sec: 0, usec: 0 },
            stime: Timeval { sec: 0, usec: 0 },
            maxrss: 0,
            rest: [0; 13],
        };
        loop {
            // SAFETY: both pointers are valid, exclusively borrowed locals of the layout
            // the C declaration expects on this target.
            let r = unsafe { wait4(pid as i32, &mut status, 0, &mut ru) };
            if r >= 0 {
                return Ok((status, ru));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(result_file), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: bench-spawn RESULT_FILE PROGRAM [ARGS...]");
        std::process::exit(2);
    };
    let rest: Vec<_> = args.collect();
    let started = Instant::now();
    let child = match Command::new(&program).args(&rest).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "bench-spawn: cannot start {}: {e}",
                program.to_string_lossy()
            );
            std::process::exit(127);
        }
    };
    let line = measure(child, started);
    if let Err(e) = std::fs::write(&result_file, line) {
        eprintln!("bench-spawn: cannot write the result file: {e}");
        std::process::exit(2);
    }
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn measure(child: std::process::Child, started: Instant) -> String {
    let (status, ru) = match sys::reap(child.id()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-spawn: wait4 failed: {e}");
            std::process::exit(2);
        }
    };
    let wall = started.elapsed();
    // Exited: the code; killed by a signal: 128 + signal, as shells report it.
    let code = if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    };
    let us = |t: &sys::Timeval| t.sec * 1_000_000 + t.usec;
    format!(
        "{} {} {} {} {}\n",
        wall.as_nanos(),
        ru.maxrss,
        code,
        us(&ru.utime),
        us(&ru.stime)
    )
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn measure(mut child: std::process::Child, started: Instant) -> String {
    // No wait4 binding here: wall time and exit code only; RSS reported as -1.
    let status = child.wait().expect("wait for the child");
    let wall = started.elapsed();
    format!(
        "{} -1 {} -1 -1\n",
        wall.as_nanos(),
        status.code().unwrap_or(128)
    )
}
