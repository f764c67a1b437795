//! A reader that closes our stdout early (`vault-fetch-relay env | head -1`): the
//! modes a person pipes (env, helm-values -o -, check, completions, man) end quietly with the exit code
//! the run earned, as ripgrep does; Terraform mode fails, because Terraform must never
//! take a truncated object for a result. Each child's stdout is a real pipe whose read
//! end is closed before the child starts, so every write gets EPIPE.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::support::*;

/// Run the binary against `s` with a stdout nobody reads.
fn closed_stdout(s: &DevServer, args: &[&str], stdin: &str) -> Run {
    let (reader, writer) = std::io::pipe().expect("make a pipe");
    drop(reader);
    run_to(s, args, stdin, writer.into())
}

fn run_to(s: &DevServer, args: &[&str], stdin: &str, stdout: Stdio) -> Run {
    let mut c = cmd(args);
    c.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
    run_with_stdout(c, stdin, Duration::from_secs(60), stdout)
}

#[test]
fn piped_modes_exit_with_their_own_code_when_the_reader_is_gone() {
    let s = server();
    seed(&s, NAME);
    for args in [
        &["env"][..],
        &["env", "--format", "shell"],
        &["helm-values", "-o", "-"],
        &["check"],
        &["completions", "bash"],
        &["man"],
    ] {
        let run = closed_stdout(&s, args, "");
        assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
        assert!(!run.stderr.contains("error"), "{args:?}: {}", run.stderr);
    }
    // check's answer stands: a closed stdout does not turn "not found" into 0.
    let empty = server();
    let run = closed_stdout(&empty, &["check"], "");
    assert_eq!(run.code, Some(2), "{run:?}");
}

#[test]
fn terraform_mode_fails_when_its_object_cannot_be_delivered() {
    let s = server();
    seed(&s, NAME);
    let run = closed_stdout(&s, &[], &json!({}).to_string());
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("cannot write to stdout"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_stdout_that_fails_otherwise_is_still_an_error() {
    let s = server();
    seed(&s, NAME);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let run = run_to(&s, &["env"], "", full.into());
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("cannot write to stdout"),
        "{}",
        run.stderr
    );
}
