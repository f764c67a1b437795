//! How a run ends, as the process exit code. The numbers are a contract: `check`'s
//! are documented in `--help` and README (and are `check --format json`'s
//! `exit_code`); every other mode exits 0 or 1.

use std::process::ExitCode;

use crate::fetch::Status;
use crate::upstream::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Done: credentials delivered, or none and not strict (with one warning line).
    Success,
    /// A usage or configuration error (wrong_api_base included), a failed write, or no
    /// credentials when strict.
    Failure,
    /// `check`: the secret does not exist.
    NotFound,
    /// `check`: no API key, or WorkOS refused it (401, 403).
    AuthProblem,
    /// `check`: WorkOS Vault could not be reached or kept failing.
    Unavailable,
    /// `check`: the stored value is not valid relay credentials.
    InvalidSecret,
    /// `check --upstream`: Sentry refused these credentials (registration or project).
    UpstreamRefused,
    /// `check --upstream`: the Sentry upstream could not be reached.
    UpstreamUnreachable,
    /// `exec`: the command's own status (128+signal when a signal ended it; 126 or 127
    /// when it could not be started), passed through as a supervisor should.
    Child(u8),
}

impl Exit {
    /// `check`'s exit for a fetch status: one code per class of problem, so a
    /// readiness probe or a script can tell them apart.
    pub(crate) fn for_check(status: Status) -> Exit {
        match status {
            Status::Found => Exit::Success,
            Status::NotFound => Exit::NotFound,
            Status::Unauthorized | Status::Forbidden | Status::NoApiKey => Exit::AuthProblem,
            Status::Unavailable => Exit::Unavailable,
            Status::InvalidSecret => Exit::InvalidSecret,
            // The api base is not WorkOS Vault: a configuration error, as in every mode.
            Status::WrongApiBase => Exit::Failure,
            Status::UpstreamRefused => Exit::UpstreamRefused,
        }
    }

    /// `check`'s exit when the preflight ran too (it runs only on found credentials):
    /// the fetch's code unless it found them, then the preflight's. An upstream that
    /// does not answer as Sentry does is a configuration error, like wrong_api_base.
    pub(crate) fn for_check_upstream(status: Status, upstream: Option<Verdict>) -> Exit {
        match (Exit::for_check(status), upstream) {
            (Exit::Success, Some(Verdict::Refused)) => Exit::UpstreamRefused,
            (Exit::Success, Some(Verdict::Unreachable)) => Exit::UpstreamUnreachable,
            (Exit::Success, Some(Verdict::NotSentry)) => Exit::Failure,
            (exit, _) => exit,
        }
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::NotFound => 2,
            Exit::AuthProblem => 3,
            Exit::Unavailable => 4,
            Exit::InvalidSecret => 5,
            Exit::UpstreamRefused => 6,
            Exit::UpstreamUnreachable => 7,
            Exit::Child(code) => code,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_codes_are_distinct_per_class() {
        let code = |s| Exit::for_check(s).code();
        assert_eq!(code(Status::Found), 0);
        assert_eq!(code(Status::NotFound), 2);
        assert_eq!(code(Status::Unauthorized), 3);
        assert_eq!(code(Status::Forbidden), 3);
        assert_eq!(code(Status::NoApiKey), 3);
        assert_eq!(code(Status::Unavailable), 4);
        assert_eq!(code(Status::InvalidSecret), 5);
        assert_eq!(code(Status::WrongApiBase), 1);
        assert_eq!(Exit::Failure.code(), 1);
    }

    #[test]
    fn the_preflight_decides_only_for_found_credentials() {
        let code = |s, v| Exit::for_check_upstream(s, v).code();
        assert_eq!(code(Status::Found, None), 0);
        assert_eq!(code(Status::Found, Some(Verdict::Accepted)), 0);
        assert_eq!(code(Status::Found, Some(Verdict::Refused)), 6);
        assert_eq!(code(Status::Found, Some(Verdict::Unreachable)), 7);
        assert_eq!(code(Status::Found, Some(Verdict::NotSentry)), 1);
        assert_eq!(code(Status::NotFound, None), 2);
    }
}
