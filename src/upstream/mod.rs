//! The Sentry upstream client: does the upstream relay registers with accept these
//! credentials, and does it serve the DSN's project to this relay? The same two
//! registration steps relay makes at every start (register challenge, register
//! response), then a project-config request for the DSN's public key. Front ends get
//! an `UpstreamReport`; none of them sees HTTP.

mod client;
mod sign;

use std::time::Duration;

use url::Url;

pub(crate) use client::preflight;

/// The relay version announced in the register requests unless `--relay-version`
/// says otherwise: a current relay release (26.9.0: relay-server's Cargo.toml and CHANGELOG in the sentry-relay 0.10.1 sdist). Sentry refuses
/// versions it no longer supports (`is_version_supported`).
pub(crate) const DEFAULT_RELAY_VERSION: &str = "26.9.0";

/// The three requests, in order.
pub(crate) const CHALLENGE_PATH: &str = "/api/0/relays/register/challenge/";
pub(crate) const RESPONSE_PATH: &str = "/api/0/relays/register/response/";
pub(crate) const PROJECT_CONFIGS_PATH: &str = "/api/0/relays/projectconfigs/";

/// What the preflight needs besides the credentials, validated before any request.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamSettings {
    pub url: Url,
    /// `--dsn`: wins over the secret's `sentry_dsn`.
    pub dsn: Option<String>,
    pub relay_version: String,
    pub ca_file: Option<std::path::PathBuf>,
    pub connect_timeout: Duration,
}

impl UpstreamSettings {
    /// Check the upstream URL (https, or http to a loopback host; scheme, host and port
    /// only, as relay reads it), the DSN and the version, before any request.
    /// `named_by` is where `url` came from (a flag and its variables, a template), for
    /// messages.
    pub(crate) fn resolve(
        url: &str,
        named_by: &str,
        dsn: Option<String>,
        relay_version: Option<String>,
        ca_file: Option<std::path::PathBuf>,
        connect_timeout: Duration,
    ) -> anyhow::Result<UpstreamSettings> {
        let url = crate::settings::parse_upstream_url(url, named_by)?;
        if let Some(dsn) = &dsn {
            crate::dsn::public_key_of(dsn).map_err(|e| anyhow::anyhow!("--dsn: {e}"))?;
        }
        let relay_version = relay_version.unwrap_or_else(|| DEFAULT_RELAY_VERSION.into());
        if !is_version(&relay_version) {
            anyhow::bail!(
                "--relay-version must be a relay version like {DEFAULT_RELAY_VERSION} (major.minor.patch)"
            );
        }
        Ok(UpstreamSettings {
            url,
            dsn,
            relay_version,
            ca_file,
            connect_timeout,
        })
    }
}

fn is_version(v: &str) -> bool {
    let core = v.split_once('-').map_or(v, |(c, _)| c);
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

/// How a preflight ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Registration accepted and, with a DSN, the project served (or still pending).
    Accepted,
    /// Sentry answered no: these credentials will not work there.
    Refused,
    /// No answer from Sentry: DNS, connect, TLS, timeout, or 5xx after retries.
    Unreachable,
    /// Something answered, but not as Sentry does (a redirect, not JSON, too large):
    /// the upstream URL is wrong, a configuration error.
    NotSentry,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Refused => "refused",
            Verdict::Unreachable => "unreachable",
            Verdict::NotSentry => "not_sentry",
        }
    }
}

/// Why Sentry refused, when it is one of the refusals we know the fix for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The relay id is registered with another public key (a rotation kept the id).
    DifferentKey,
    /// Open registration is off and the key is not allowed (not a trusted relay).
    NotAllowed,
    /// The announced relay version is no longer supported.
    Version,
    /// The DSN's project is not served to this relay (`disabled`).
    ProjectNotServed,
    /// The challenge expired between the two steps (a clock or a slow network).
    Expired,
    Other,
}

impl Cause {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Cause::DifferentKey => "different_key",
            Cause::NotAllowed => "not_allowed",
            Cause::Version => "version",
            Cause::ProjectNotServed => "project_not_served",
            Cause::Expired => "expired",
            Cause::Other => "other",
        }
    }

    /// The likely cause and the fix, in one clause.
    pub(crate) fn hint(self) -> &'static str {
        match self {
            Cause::DifferentKey => "this relay id is registered upstream with another public key (a rotation that kept the old id): give the new key pair a new relay id",
            Cause::NotAllowed => "upstream does not let this relay register: add its public key to the organization's trusted relays in Sentry",
            Cause::Version => "upstream no longer supports the relay version announced: set --relay-version to the relay you run",
            Cause::ProjectNotServed => "Sentry does not serve the DSN's project to this relay: add the relay's public key to the organization's trusted relays in Sentry, and check that the DSN's key is active",
            Cause::Expired => "the challenge expired before the response, also after a fresh one: check this host's clock and the network's latency",
            Cause::Other => "see Sentry's detail",
        }
    }
}

/// One request of the preflight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepName {
    Challenge,
    Response,
    ProjectConfig,
}

impl StepName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StepName::Challenge => "register_challenge",
            StepName::Response => "register_response",
            StepName::ProjectConfig => "project_config",
        }
    }
}

/// What one step got back. `detail` is one line, safe to show (Sentry's own words
/// for a refusal).
#[derive(Debug, Clone)]
pub(crate) struct StepReport {
    pub step: StepName,
    /// `Accepted` for a step that succeeded, whatever it was; the project step says
    /// `served`, `pending` or `disabled` in `detail`.
    pub result: Verdict,
    pub http_status: Option<u16>,
    pub detail: String,
}

/// The preflight's result: what `check` renders, what `exec` and `init` consult.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamReport {
    pub url: String,
    pub relay_version: String,
    pub steps: Vec<StepReport>,
    pub verdict: Verdict,
    pub cause: Option<Cause>,
    /// One line: what happened and, for a refusal, the likely cause and the fix.
    pub reason: String,
    /// `served`, `pending`, `disabled`, or why it was not checked.
    pub project: String,
    pub elapsed: Duration,
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked() {
        assert!(is_version("26.9.0") && is_version("0.0.0") && is_version("21.1.0-beta"));
        assert!(!is_version("26.4") && !is_version("latest") && !is_version("1.2.300"));
    }
}
