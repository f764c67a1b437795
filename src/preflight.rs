//! The one preflight gate (`--verify-upstream`), the same for `init`, exec's first start
//! and exec's restarts: found credentials are shown to the Sentry upstream before relay
//! gets them, inside the run's one deadline, and the verdict travels beside the fetch's
//! report as a [`Delivery`]: the report itself is never rewritten.

use std::time::Instant;

use crate::credentials::RelayCredentials;
use crate::fetch::{Found, Report, Status};
use crate::upstream::{UpstreamReport, UpstreamSettings, Verdict};

/// What a front end delivers: the fetch's report and, when the gate ran, the upstream's
/// verdict on its credentials. Credentials the upstream refused are withheld: every
/// front end then treats the run as one without credentials (proxy mode; --strict
/// fails), with the status `upstream_refused`.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub report: Report,
    pub upstream: Option<UpstreamReport>,
}

impl From<Report> for Delivery {
    fn from(report: Report) -> Delivery {
        Delivery {
            report,
            upstream: None,
        }
    }
}

impl Delivery {
    pub(crate) fn verdict(&self) -> Option<Verdict> {
        self.upstream.as_ref().map(|u| u.verdict)
    }

    fn refused(&self) -> bool {
        self.verdict() == Some(Verdict::Refused)
    }

    /// The credentials relay gets: the report's, unless the upstream refused them.
    pub(crate) fn found(&self) -> Option<&Found> {
        self.report.found().filter(|_| !self.refused())
    }

    pub(crate) fn credentials(&self) -> Option<&RelayCredentials> {
        self.found().map(|f| &f.credentials)
    }

    pub(crate) fn status(&self) -> Status {
        match self.refused() {
            true => Status::UpstreamRefused,
            false => self.report.status(),
        }
    }

    /// One line for stderr or a file header: status, what happened, what to do.
    pub(crate) fn reason(&self) -> String {
        match (&self.upstream, self.refused()) {
            (Some(upstream), true) => {
                let request_id = self.report.found().and_then(|f| f.request_id.as_deref());
                match request_id {
                    Some(id) => format!("{} (WorkOS request id {id})", upstream.reason),
                    None => upstream.reason.clone(),
                }
            }
            _ => self.report.reason(),
        }
    }
}

/// The gate: ask `upstream` about the report's credentials, ending by `deadline` (the
/// run's, which the fetch before it shared). Without credentials, or with verification
/// off, there is nothing to ask. `Err` only for a configuration error found before any
/// request (the CA bundle).
pub(crate) fn gate(
    report: Report,
    upstream: Option<&UpstreamSettings>,
    deadline: Instant,
) -> anyhow::Result<Delivery> {
    let verdict = match (upstream, report.credentials()) {
        (Some(upstream), Some(credentials)) => {
            Some(crate::upstream::preflight(upstream, credentials, deadline)?)
        }
        _ => None,
    };
    Ok(Delivery {
        report,
        upstream: verdict,
    })
}
