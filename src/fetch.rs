//! The core every front end shares: settings in, a `Report` out. A report holds either
//! valid credentials or a status with a one-line reason that says what to do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::credentials::{parse_vault_value, InvalidSecret, RelayCredentials};
use crate::deadline::{within, Attempts, Late};
use crate::http::RetryEvent;
use crate::settings::{non_empty, Knob, Settings, DEFAULT_API_BASE};
use crate::workos::{VaultClient, VaultErrorKind, VaultObject};

/// The documented outcome of a run; `as_str` values are part of the Terraform contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Found,
    NotFound,
    NoApiKey,
    InvalidSecret,
    Unauthorized,
    Forbidden,
    Unavailable,
    /// The server at the api base is not WorkOS Vault: a configuration error, which
    /// exits 1 in every mode, strict or not.
    WrongApiBase,
    /// Valid credentials that the Sentry upstream refused (`--verify-upstream`): relay
    /// would lose its telemetry with them, so they are withheld like missing ones. The
    /// preflight gate decides it (`crate::preflight`); a fetch never reports it.
    UpstreamRefused,
}

/// Why a fetch has no credentials: the statuses a fetch itself can end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NotFound,
    NoApiKey,
    InvalidSecret,
    Unauthorized,
    Forbidden,
    Unavailable,
    WrongApiBase,
}

impl Problem {
    #[cfg(test)]
    pub(crate) const ALL: [Problem; 7] = [
        Problem::NotFound,
        Problem::NoApiKey,
        Problem::InvalidSecret,
        Problem::Unauthorized,
        Problem::Forbidden,
        Problem::Unavailable,
        Problem::WrongApiBase,
    ];
}

impl From<Problem> for Status {
    fn from(problem: Problem) -> Status {
        match problem {
            Problem::NotFound => Status::NotFound,
            Problem::NoApiKey => Status::NoApiKey,
            Problem::InvalidSecret => Status::InvalidSecret,
            Problem::Unauthorized => Status::Unauthorized,
            Problem::Forbidden => Status::Forbidden,
            Problem::Unavailable => Status::Unavailable,
            Problem::WrongApiBase => Status::WrongApiBase,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Status::from(*self).fmt(f)
    }
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Found => "found",
            Status::NotFound => "not_found",
            Status::NoApiKey => "no_api_key",
            Status::InvalidSecret => "invalid_secret",
            Status::Unauthorized => "unauthorized",
            Status::Forbidden => "forbidden",
            Status::Unavailable => "unavailable",
            Status::WrongApiBase => "wrong_api_base",
            Status::UpstreamRefused => "upstream_refused",
        }
    }

    /// A status that means the configuration is wrong: the run fails whatever
    /// `strict` says, so a pipeline stops instead of degrading for good.
    pub(crate) fn is_configuration_error(self) -> bool {
        matches!(self, Status::WrongApiBase)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Valid credentials and the WorkOS metadata that came with them.
#[derive(Debug, Clone)]
pub struct Found {
    pub credentials: RelayCredentials,
    pub version_id: Option<String>,
    pub updated_at: Option<String>,
    pub request_id: Option<String>,
}

impl Found {
    /// What a consumer holding `previous` would have to restart for: `Some(reason)` when
    /// the credentials differ, `None` when they are the same (a new version with the
    /// same values changes nothing relay sees).
    pub fn change_from(&self, previous: &Found) -> Option<String> {
        if self.credentials == previous.credentials {
            return None;
        }
        let version = |f: &Found| f.version_id.clone().unwrap_or_else(|| "unknown".into());
        let id = match self.credentials.relay_id == previous.credentials.relay_id {
            true => format!("relay {}", self.credentials.masked_id()),
            false => format!(
                "relay {} -> {}",
                previous.credentials.masked_id(),
                self.credentials.masked_id()
            ),
        };
        Some(format!(
            "the credentials changed ({id}, secret version {} -> {})",
            version(previous),
            version(self)
        ))
    }
}

/// Why there are no credentials. `reason` is one line, safe to show.
#[derive(Debug, Clone)]
pub struct Missing {
    pub status: Problem,
    pub reason: String,
    pub request_id: Option<String>,
    /// Why the stored value was rejected, for status `invalid_secret`: `check` reports
    /// a key pair that does not belong together as invalid rather than unchecked.
    pub invalid: Option<InvalidSecret>,
    /// For status `invalid_secret`: the stored `sentry_dsn`, when the value is a JSON object
    /// holding one. A deployment event needs only the DSN, not the relay keys.
    pub sentry_dsn: Option<String>,
}

impl Missing {
    pub(crate) fn new(
        status: Problem,
        reason: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        Missing {
            status,
            reason: reason.into(),
            request_id,
            invalid: None,
            sentry_dsn: None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Found(Found),
    Missing(Missing),
}

/// The result of one fetch, with the context renderers and operators need.
#[derive(Debug, Clone)]
pub struct Report {
    pub outcome: Outcome,
    pub api_base: String,
    pub secret_name: String,
    pub elapsed: Duration,
    pub attempts: u32,
}

impl Report {
    pub(crate) fn status(&self) -> Status {
        match &self.outcome {
            Outcome::Found(_) => Status::Found,
            Outcome::Missing(m) => m.status.into(),
        }
    }

    pub(crate) fn found(&self) -> Option<&Found> {
        match &self.outcome {
            Outcome::Found(f) => Some(f),
            Outcome::Missing(_) => None,
        }
    }

    pub(crate) fn credentials(&self) -> Option<&RelayCredentials> {
        self.found().map(|f| &f.credentials)
    }

    /// One line for stderr or a file header: status, what happened, what to do.
    pub(crate) fn reason(&self) -> String {
        match &self.outcome {
            Outcome::Found(f) => format!(
                "found relay credentials {} in secret {:?}",
                f.credentials.masked_id(),
                self.secret_name
            ),
            Outcome::Missing(m) => match &m.request_id {
                Some(id) => format!("{} (WorkOS request id {id})", m.reason),
                None => m.reason.clone(),
            },
        }
    }
}

/// Hears of each attempt and retry wait while a fetch runs (front ends render it).
pub(crate) type Observer = Arc<dyn Fn(RetryEvent<'_>) + Send + Sync>;

/// Fetch and validate the credentials, ending by `deadline` (the run's). `Err` only for
/// configuration errors (e.g. an unreadable CA bundle); every vault or network problem is
/// a `Report` with a status.
pub(crate) fn fetch(settings: &Settings, deadline: Instant) -> anyhow::Result<Report> {
    fetch_by(settings, deadline, Arc::new(|_| {}))
}

/// `fetch`, ending by `deadline` (a run that does more after the fetch, such as the
/// preflight, shares it) and telling `observer` of every attempt and wait.
pub(crate) fn fetch_by(
    settings: &Settings,
    deadline: Instant,
    observer: Observer,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let report = |outcome, attempts| Report {
        outcome,
        api_base: settings.api_base.as_str().trim_end_matches('/').to_string(),
        secret_name: settings.secret_name.clone(),
        elapsed: started.elapsed(),
        attempts,
    };
    let Some(api_key) = settings.api_key.clone() else {
        let reason = match &settings.key_source {
            Some(source) => format!("no WorkOS API key: {source} is empty"),
            None => format!(
                "no WorkOS API key: {}",
                settings.front_end.name(Knob::ApiKey)
            ),
        };
        let missing = Missing::new(Problem::NoApiKey, reason, None);
        return Ok(report(Outcome::Missing(missing), 0));
    };
    let client = VaultClient::new(settings, api_key)?;
    let (result, attempts) = read_within(client, settings, deadline, observer);
    let outcome = match result {
        Ok(object) => classify_object(object, settings),
        Err(missing) => Outcome::Missing(missing),
    };
    Ok(report(outcome, attempts))
}

/// The read, held to the deadline by the backstop (`deadline::within`), counting the
/// attempts it starts (`deadline::Attempts`).
fn read_within(
    client: VaultClient,
    settings: &Settings,
    deadline: Instant,
    observer: Observer,
) -> (Result<VaultObject, Missing>, u32) {
    let name = settings.secret_name.clone();
    let attempts = Attempts::default();
    let counter = attempts.clone();
    let read = within(deadline, move || {
        let mut observe = |event: RetryEvent<'_>| {
            if let RetryEvent::Attempt { number, .. } = event {
                counter.starting(number);
            }
            observer(event);
        };
        client.read_by_name(&name, deadline, &mut observe)
    });
    let sent = || attempts.started();
    match read {
        Ok((Ok(object), attempts)) => (Ok(object), attempts),
        Ok((Err(e), attempts)) => (Err(missing_from_error(e, settings)), attempts),
        // The worker ended without a result: only a panic does that, and it is a bug, but
        // the user still gets the documented degraded outcome.
        Err(Late::Lost) => (
            Err(Missing::new(
                Problem::Unavailable,
                "the WorkOS Vault request failed unexpectedly; run with RUST_LOG=debug and report it",
                None,
            )),
            sent(),
        ),
        Err(Late::Timeout { budget }) => (
            Err(Missing::new(
                Problem::Unavailable,
                format!(
                    "WorkOS Vault did not answer within the {:.1} s deadline; check network, DNS and proxy settings, or raise {}",
                    budget.as_secs_f64(),
                    settings.front_end.name(Knob::Timeout)
                ),
                None,
            )),
            sent(),
        ),
    }
}

fn missing_from_error(e: crate::workos::VaultError, settings: &Settings) -> Missing {
    let name = &settings.secret_name;
    let fe = settings.front_end;
    let (status, reason) = match e.kind {
        VaultErrorKind::NotFound => (
            Problem::NotFound,
            format!("secret {name:?} does not exist in WorkOS Vault ({}); create it or set {}", e.detail, fe.name(Knob::SecretName)),
        ),
        VaultErrorKind::Unauthorized => (
            Problem::Unauthorized,
            format!("WorkOS rejected the API key ({}); check that {} holds a valid key for this environment", e.detail, settings.key_source_name()),
        ),
        VaultErrorKind::Forbidden => (
            Problem::Forbidden,
            format!("the API key may not read Vault objects ({}); grant it Vault access in the WorkOS dashboard", e.detail),
        ),
        VaultErrorKind::Unavailable => (
            Problem::Unavailable,
            format!(
                "WorkOS Vault is unavailable: {}; try again later or check network, proxy and CA settings{}",
                e.detail,
                if e.deadline_reached {
                    format!(", or raise {}", fe.name(Knob::Timeout))
                } else {
                    String::new()
                }
            ),
        ),
        VaultErrorKind::WrongApiBase => (
            Problem::WrongApiBase,
            format!("{}; check the api base {} ({}; the default is {DEFAULT_API_BASE}, with no /v1 or other path)", e.detail, settings.api_base.as_str().trim_end_matches('/'), fe.name(Knob::ApiBase)),
        ),
    };
    Missing::new(status, reason, e.request_id)
}

fn classify_object(object: VaultObject, settings: &Settings) -> Outcome {
    match parse_vault_value(&object.value) {
        Ok(credentials) => Outcome::Found(Found {
            credentials,
            version_id: non_empty(object.version_id),
            updated_at: object.updated_at,
            request_id: object.request_id,
        }),
        Err(why) => {
            let reason = format!(
                "secret {:?} does not hold valid relay credentials: {why}; store {{\"id\",\"public_key\",\"secret_key\"}} as made by `relay credentials generate`",
                settings.secret_name
            );
            Outcome::Missing(Missing {
                invalid: Some(why),
                sentry_dsn: crate::credentials::stored_dsn(&object.value),
                ..Missing::new(Problem::InvalidSecret, reason, object.request_id)
            })
        }
    }
}
