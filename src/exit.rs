//! How a run ends, as the process exit code. The numbers are a contract: `check`'s
//! are documented in `--help` and README (and are `check --format json`'s
//! `exit_code`); every other mode exits 0 or 1.

use std::process::ExitCode;

use crate::fetch::Status;

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
}
