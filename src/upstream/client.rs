//! The preflight's requests: register challenge, register response, project configs,
//! each signed with the relay secret key and sent through the shared transport, and
//! the classification of what Sentry answered. Retries follow the one retry policy.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use super::{
    sign, Cause, StepName, StepReport, UpstreamReport, UpstreamSettings, Verdict, CHALLENGE_PATH,
    PROJECT_CONFIGS_PATH, RESPONSE_PATH,
};
use crate::credentials::RelayCredentials;
use crate::deadline::{within, Late};
use crate::http::retry::{self, is_retryable_status};
use crate::http::{
    self as http, sanitize_line, Failure, Http, Method, Reply, Request, RetryEvent, RetryPolicy,
    Step,
};

/// Sentry's answers here are small JSON documents (a partial project config for one
/// key is a few KiB); anything this large is not one.
const MAX_BODY_BYTES: u64 = 256 * 1024;

/// Run the preflight for `credentials`, ending by `deadline`. The worker thread is the
/// backstop for what a request timeout cannot bound (a DNS lookup that hangs).
/// `Err` only for a configuration error found before any request (the CA bundle).
pub(crate) fn preflight(
    settings: &UpstreamSettings,
    credentials: &RelayCredentials,
    deadline: Instant,
) -> anyhow::Result<UpstreamReport> {
    let started = Instant::now();
    let http = Http::new(
        &settings.url,
        settings.ca_file.as_deref(),
        settings.connect_timeout,
    )?;
    let client = Client {
        http,
        base: settings.url.as_str().trim_end_matches('/').to_string(),
        credentials: credentials.clone(),
        version: settings.relay_version.clone(),
        policy: RetryPolicy::default(),
    };
    let dsn = settings.dsn.clone().map(|d| (d, "--dsn")).or_else(|| {
        credentials
            .sentry_dsn
            .clone()
            .map(|d| (d, "the secret's sentry_dsn"))
    });
    let budget = deadline.saturating_duration_since(Instant::now());
    let (steps, attempts) = match within(deadline, move || client.run(dsn, deadline)) {
        Ok(done) => done,
        // A panic in the worker is a bug, not an answer: never read as "unreachable" (which
        // lets a start go on with the credentials).
        Err(Late::Lost) => anyhow::bail!(
            "the upstream preflight failed unexpectedly; run with RUST_LOG=debug and report it"
        ),
        Err(Late::Timeout { .. }) => (
            vec![StepReport {
                step: StepName::Challenge,
                result: Verdict::Unreachable,
                http_status: None,
                detail: format!(
                    "no answer within the {:.1} s deadline",
                    budget.as_secs_f64()
                ),
            }],
            0,
        ),
    };
    Ok(conclude(settings, steps, attempts, started.elapsed()))
}

/// The verdict and its one line from the steps taken.
fn conclude(
    settings: &UpstreamSettings,
    steps: Vec<StepReport>,
    attempts: u32,
    elapsed: Duration,
) -> UpstreamReport {
    let url = settings.url.as_str().trim_end_matches('/').to_string();
    let last = steps.last().cloned();
    let project = steps
        .iter()
        .find(|s| s.step == StepName::ProjectConfig)
        .map(|s| match s.result {
            Verdict::Accepted => s.detail.clone(),
            Verdict::Refused => "disabled".to_string(),
            _ => "not_checked".to_string(),
        })
        .unwrap_or_else(
            || match steps.iter().all(|s| s.result == Verdict::Accepted) {
                true => "not_checked (no DSN: pass --dsn or store sentry_dsn)".into(),
                false => "not_checked".into(),
            },
        );
    let (verdict, cause, reason) = match last {
        Some(s) if s.result != Verdict::Accepted => {
            let step = s.step.as_str().replace('_', " ");
            match s.result {
                Verdict::Refused => {
                    let cause = cause_of(&s);
                    (
                        Verdict::Refused,
                        Some(cause),
                        format!(
                            "upstream {url} refused the {step} ({}): {}",
                            s.detail,
                            cause.hint()
                        ),
                    )
                }
                Verdict::Unreachable => (
                    Verdict::Unreachable,
                    None,
                    format!(
                        "upstream {url} is unreachable ({step}: {}); check network, DNS, proxy and CA settings, or raise --timeout-seconds",
                        s.detail
                    ),
                ),
                _ => (
                    Verdict::NotSentry,
                    None,
                    format!(
                        "upstream {url} does not answer as Sentry does ({step}: {}); check --upstream / RELAY_UPSTREAM_URL",
                        s.detail
                    ),
                ),
            }
        }
        _ => (
            Verdict::Accepted,
            None,
            format!("upstream {url} accepted the registration (project: {project})"),
        ),
    };
    UpstreamReport {
        url,
        relay_version: settings.relay_version.clone(),
        steps,
        verdict,
        cause,
        reason,
        project,
        elapsed,
        attempts,
    }
}

/// Sentry's 401 "Challenge expired" to the register response (register_response.py).
fn is_expired(step: &StepReport) -> bool {
    step.step == StepName::Response
        && step.result == Verdict::Refused
        && cause_of(step) == Cause::Expired
}

/// The refusal's likely cause, from Sentry's own words (its endpoints' `detail`).
fn cause_of(step: &StepReport) -> Cause {
    let detail = step.detail.to_ascii_lowercase();
    match step.step {
        StepName::ProjectConfig if step.http_status == Some(200) => Cause::ProjectNotServed,
        _ if detail.contains("different public key") => Cause::DifferentKey,
        _ if detail.contains("not allowed to register") => Cause::NotAllowed,
        _ if detail.contains("version") && step.http_status == Some(403) => Cause::Version,
        _ if detail.contains("expired") => Cause::Expired,
        _ => Cause::Other,
    }
}

/// What relay makes of the project-config answer for the DSN's key.
#[derive(Debug, PartialEq, Eq)]
enum ProjectState {
    /// A config: relay serves the project.
    Served,
    /// Listed under `pending`: Sentry is still computing it; relay asks again.
    Pending,
    /// Relay will not serve it: why, in Sentry's terms.
    Disabled(&'static str),
}

/// The one classification of a project-config answer, in the order relay 26.9.0 reads
/// one (relay-server `services/projects/source/upstream.rs`, `handle_responses`; each
/// config is an `ErrorBoundary<Option<ParsedProjectState>>`):
///
/// | the answer for the DSN's key                           | relay reads   | here                              |
/// |--------------------------------------------------------|---------------|-----------------------------------|
/// | listed under `pending`                                 | pending       | `pending`, exit 0                 |
/// | missing from `configs` (or no `configs` at all)        | disabled      | `disabled`, exit 6 `project_not_served` |
/// | `null`                                                 | disabled      | `disabled`, exit 6                |
/// | an object with `"disabled": true`                      | disabled      | `disabled`, exit 6                |
/// | an object whose `disabled` is false or absent          | a config      | `served`, exit 0 (other fields ignored, as relay's `#[serde(default)]` fields are) |
/// | anything else: a number, a string, `{"disabled": "yes"}` | a parse error (logged, then pending) | not Sentry's answer: exit 1 `not_sentry` |
/// | `configs` not a map, `pending` not a list of keys      | the whole answer fails | not Sentry's answer: exit 1 |
///
/// `Err` says what was not Sentry's, for "HTTP 200 but ...".
fn project_state(answer: &Value, key: &str) -> Result<ProjectState, String> {
    let Some(answer) = answer.as_object() else {
        return Err("the answer is not a JSON object".into());
    };
    let configs = match answer.get("configs") {
        None => None,
        Some(Value::Object(configs)) => Some(configs),
        Some(_) => return Err("its configs is not a map of DSN keys".into()),
    };
    let pending = match answer.get("pending") {
        None => false,
        Some(Value::Array(keys)) if keys.iter().all(Value::is_string) => {
            keys.iter().any(|k| k.as_str() == Some(key))
        }
        Some(_) => return Err("its pending is not a list of DSN keys".into()),
    };
    if pending {
        return Ok(ProjectState::Pending);
    }
    match configs.and_then(|c| c.get(key)) {
        None => Ok(ProjectState::Disabled(
            "the answer has no config for the DSN's key (relay reads that as disabled)",
        )),
        Some(Value::Null) => Ok(ProjectState::Disabled(
            "the config for the DSN's key is null (relay reads that as disabled)",
        )),
        Some(Value::Object(config)) => match config.get("disabled") {
            None | Some(Value::Bool(false)) => Ok(ProjectState::Served),
            Some(Value::Bool(true)) => Ok(ProjectState::Disabled(
                "the project config came back disabled",
            )),
            Some(_) => Err(
                "the config for the DSN's key has a disabled field that is not true or false, which relay cannot read"
                    .into(),
            ),
        },
        Some(_) => Err(
            "the config for the DSN's key is not an object, which relay cannot read".into(),
        ),
    }
}

struct Client {
    http: Http,
    base: String,
    credentials: RelayCredentials,
    version: String,
    policy: RetryPolicy,
}

impl Client {
    fn run(&self, dsn: Option<(String, &str)>, deadline: Instant) -> (Vec<StepReport>, u32) {
        let mut attempts = 0;
        let mut steps = self.register(deadline, &mut attempts);
        if steps.last().is_some_and(is_expired) {
            // Relay registers again after any failed registration (relay-server
            // services/upstream.rs, AuthMonitor::run): one fresh challenge, as it will.
            // A second expiry is the refusal (cause `expired`).
            crate::console::progress(
                "vault-fetch-relay: upstream register response: the challenge expired; asking a fresh one",
            );
            steps = self.register(deadline, &mut attempts);
            if let Some(response) = steps.last_mut().filter(|s| s.result == Verdict::Accepted) {
                response
                    .detail
                    .push_str(" (after a fresh challenge: the first had expired)");
            }
        }
        if steps.iter().any(|s| s.result != Verdict::Accepted) {
            return (steps, attempts);
        }
        let key = match dsn
            .map(|(d, from)| crate::dsn::public_key_of(&d).map_err(|e| format!("{from}: {e}")))
        {
            None => return (steps, attempts),
            Some(Err(why)) => {
                steps.push(StepReport {
                    step: StepName::ProjectConfig,
                    result: Verdict::Accepted,
                    http_status: None,
                    detail: format!("not_checked ({why})"),
                });
                return (steps, attempts);
            }
            Some(Ok(key)) => key,
        };
        let path = format!("{PROJECT_CONFIGS_PATH}?version=3");
        // An external relay must not ask fullConfig (Sentry answers 403).
        let request = json!({"publicKeys": [key], "fullConfig": false});
        let (mut step, state) = self.step(
            StepName::ProjectConfig,
            &path,
            &request,
            deadline,
            &mut attempts,
            |v| Some(project_state(v, &key)),
        );
        match state {
            Some(Ok(ProjectState::Served)) => step.detail = "served".into(),
            Some(Ok(ProjectState::Pending)) => step.detail = "pending".into(),
            Some(Ok(ProjectState::Disabled(why))) => {
                step.result = Verdict::Refused;
                step.detail = why.into();
            }
            Some(Err(why)) => {
                step.result = Verdict::NotSentry;
                step.detail = format!("HTTP 200 but {why}");
            }
            None => {}
        }
        steps.push(step);
        (steps, attempts)
    }

    /// The two registration steps relay makes at every start (the second only when the
    /// first gave a challenge).
    fn register(&self, deadline: Instant, attempts: &mut u32) -> Vec<StepReport> {
        let id = &self.credentials.relay_id;
        let challenge = json!({
            "relay_id": id,
            "public_key": self.credentials.public_key,
            "version": self.version,
        });
        let (step, token) = self.step(
            StepName::Challenge,
            CHALLENGE_PATH,
            &challenge,
            deadline,
            attempts,
            |v| {
                let token = v.get("token").and_then(Value::as_str)?;
                (v.get("relay_id").and_then(Value::as_str) == Some(id)).then(|| token.to_string())
            },
        );
        let Some(token) = token else {
            return vec![step];
        };
        let response = json!({"relay_id": id, "token": token, "version": self.version});
        let (answer, _) = self.step(
            StepName::Response,
            RESPONSE_PATH,
            &response,
            deadline,
            attempts,
            |v| v.get("relay_id").and_then(Value::as_str).map(|_| ()),
        );
        vec![step, answer]
    }

    /// POST `body` to `path`; a 200 whose JSON `accept` takes is the step's success.
    fn step<T>(
        &self,
        name: StepName,
        path: &str,
        body: &Value,
        deadline: Instant,
        attempts: &mut u32,
        accept: impl FnOnce(&Value) -> Option<T>,
    ) -> (StepReport, Option<T>) {
        let body = body.to_string().into_bytes();
        let url = format!("{}{path}", self.base);
        log::debug!("POST {url} (relay {})", self.credentials.masked_id());
        let (result, made) = retry::run(
            &self.policy,
            deadline,
            |_| self.attempt(&url, &body, deadline),
            std::thread::sleep,
            // Announced like the WorkOS fetch's retries: on a terminal or with -v (only
            // the CLI front ends run a preflight; Terraform mode never does).
            |event| {
                if let RetryEvent::Retry { .. } = event {
                    crate::console::progress(&format!("vault-fetch-relay: upstream {event}"));
                }
            },
        );
        *attempts += made;
        let report = |result, http_status, detail: String| StepReport {
            step: name,
            result,
            http_status,
            detail,
        };
        let reply = match result {
            Ok(reply) => reply,
            Err(e) => {
                let verdict = match e.kind {
                    Failed::NotSentry => Verdict::NotSentry,
                    Failed::Unreachable => Verdict::Unreachable,
                };
                return (report(verdict, None, sanitize_line(&e.detail)), None);
            }
        };
        let status = Some(reply.status);
        let parsed: Option<Value> = serde_json::from_slice(&reply.body).ok();
        match (reply.status, parsed) {
            (200, Some(v)) => match accept(&v) {
                Some(t) => (
                    report(Verdict::Accepted, status, "HTTP 200".into()),
                    Some(t),
                ),
                None => (
                    report(
                        Verdict::NotSentry,
                        status,
                        "HTTP 200 but not the answer Sentry gives".into(),
                    ),
                    None,
                ),
            },
            (200, None) => (
                report(
                    Verdict::NotSentry,
                    status,
                    format!(
                        "HTTP 200 but the body is not JSON ({})",
                        excerpt(&reply.body)
                    ),
                ),
                None,
            ),
            (s @ 400..=499, Some(v)) => (
                report(
                    Verdict::Refused,
                    status,
                    format!("HTTP {s}: {}", sentry_detail(&v)),
                ),
                None,
            ),
            (s, _) => (
                report(
                    Verdict::NotSentry,
                    status,
                    format!("unexpected HTTP {s} ({})", excerpt(&reply.body)),
                ),
                None,
            ),
        }
    }

    fn attempt(&self, url: &str, body: &[u8], deadline: Instant) -> Step<Answered, UpstreamError> {
        let build = || {
            // Signed per attempt: the signature carries the time it was made.
            let signature = sign::signature(&self.credentials.secret_key, body, SystemTime::now())
                .map_err(UpstreamError::unreachable)?;
            Ok(Request {
                method: Method::POST,
                url: url.to_string(),
                headers: vec![
                    ("X-Sentry-Relay-Id", self.credentials.relay_id.clone()),
                    ("X-Sentry-Relay-Signature", signature),
                    ("Content-Type", "application/json".into()),
                    ("Accept", "application/json".into()),
                ],
                body: Some(body.to_vec()),
                max_body: MAX_BODY_BYTES,
            })
        };
        http::attempt(
            &self.http,
            deadline,
            build,
            UpstreamError::unreachable,
            classify,
        )
    }
}

/// A complete answer: the status and the body (which may be Sentry's refusal).
struct Answered {
    status: u16,
    body: Vec<u8>,
}

/// Why a step got no answer to judge.
#[derive(Debug)]
struct UpstreamError {
    kind: Failed,
    detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failed {
    /// No answer: DNS, connect, TLS, timeouts, 5xx after retries.
    Unreachable,
    /// An answer, but not as Sentry gives one (a redirect, a body over the cap, framing
    /// that cannot be trusted).
    NotSentry,
}

impl UpstreamError {
    fn unreachable(detail: String) -> Self {
        UpstreamError {
            kind: Failed::Unreachable,
            detail,
        }
    }

    fn not_sentry(detail: String) -> Self {
        UpstreamError {
            kind: Failed::NotSentry,
            detail,
        }
    }
}

impl Failure for UpstreamError {
    fn deadline_reached() -> Self {
        UpstreamError::unreachable("run deadline reached".into())
    }

    /// An answer, but not HTTP whose framing can be trusted: not Sentry.
    fn not_http(detail: String) -> Self {
        UpstreamError::not_sentry(detail)
    }

    fn detail(&self) -> &str {
        &self.detail
    }

    fn annotate(mut self, note: &str, _deadline: bool) -> Self {
        self.detail = format!("{} ({note})", self.detail);
        self
    }
}

/// What one answer means before its JSON is read: throttling and gateway trouble are
/// retried, a redirect or an oversized body is not Sentry's answer.
fn classify(reply: Reply) -> Step<Answered, UpstreamError> {
    let status = reply.status;
    let retry_after = reply.headers.retry_after();
    let body = match reply.body {
        Ok(body) => body,
        Err(_) => {
            return Step::Done(Err(UpstreamError::not_sentry(format!(
                "HTTP {status} with a body larger than {} KiB",
                MAX_BODY_BYTES / 1024
            ))))
        }
    };
    if is_retryable_status(status) {
        return Step::Retry {
            error: UpstreamError::unreachable(format!("HTTP {status} ({})", excerpt(&body))),
            retry_after,
        };
    }
    if (300..400).contains(&status) {
        let location = reply.headers.location_host();
        return Step::Done(Err(UpstreamError::not_sentry(format!(
            "HTTP {status} redirect to {} was not followed; give the URL relay should use",
            sanitize_line(location.as_deref().unwrap_or("nowhere"))
        ))));
    }
    Step::Done(Ok(Answered { status, body }))
}

/// Sentry's refusal text: `detail`, else Django REST framework's field errors
/// (`{"field": ["message"]}`), else the JSON itself, shortened.
fn sentry_detail(v: &Value) -> String {
    if let Some(d) = v.get("detail").and_then(Value::as_str) {
        return sanitize_line(d);
    }
    if let Some(s) = v.as_str() {
        return sanitize_line(s);
    }
    if let Some(map) = v.as_object() {
        let fields: Vec<String> = map
            .iter()
            .map(|(k, m)| {
                let msg = m
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .map_or_else(|| m.to_string(), str::to_string);
                format!("{k}: {msg}")
            })
            .collect();
        if !fields.is_empty() {
            return sanitize_line(&fields.join("; "));
        }
    }
    sanitize_line(&v.to_string())
}

fn excerpt(body: &[u8]) -> String {
    http::excerpt(&String::from_utf8_lossy(body), 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: StepName, status: u16, detail: &str) -> StepReport {
        StepReport {
            step: name,
            result: Verdict::Refused,
            http_status: Some(status),
            detail: detail.into(),
        }
    }

    #[test]
    fn sentry_refusals_map_to_their_causes() {
        let c = |n, s, d| cause_of(&step(n, s, d));
        assert_eq!(
            c(
                StepName::Challenge,
                400,
                "HTTP 400: Attempted to register agent with a different public key"
            ),
            Cause::DifferentKey
        );
        assert_eq!(
            c(
                StepName::Challenge,
                403,
                "HTTP 403: Relay is not allowed to register"
            ),
            Cause::NotAllowed
        );
        assert_eq!(
            c(StepName::Challenge, 403, "HTTP 403: Relay version no longer supported, please upgrade to a more recent version"),
            Cause::Version
        );
        assert_eq!(
            c(StepName::Response, 401, "HTTP 401: Challenge expired"),
            Cause::Expired
        );
        assert_eq!(
            c(StepName::ProjectConfig, 200, "disabled"),
            Cause::ProjectNotServed
        );
        assert_eq!(c(StepName::Challenge, 400, "HTTP 400: bad"), Cause::Other);
    }

    /// One row per line of `project_state`'s table.
    #[test]
    fn project_config_answers_follow_the_one_table() {
        use ProjectState::*;
        let k = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
        let state = |v: Value| {
            project_state(&v, k).map(|s| match s {
                Disabled(_) => "disabled",
                Served => "served",
                Pending => "pending",
            })
        };
        let not_sentry = Err(());
        for (answer, want) in [
            (
                json!({"configs": {k: {"disabled": false, "slug": "p"}}}),
                Ok("served"),
            ),
            (
                json!({"configs": {k: {"slug": "p", "newField": [1]}}, "extra": 1}),
                Ok("served"),
            ),
            (json!({"configs": {k: {}}}), Ok("served")),
            (json!({"pending": [k]}), Ok("pending")),
            (
                json!({"configs": {k: {"disabled": true}}, "pending": [k]}),
                Ok("pending"),
            ),
            (json!({"configs": {k: {"disabled": true}}}), Ok("disabled")),
            (json!({"configs": {k: null}}), Ok("disabled")),
            (json!({"configs": {"other": {}}}), Ok("disabled")),
            (json!({"configs": {}}), Ok("disabled")),
            (json!({}), Ok("disabled")),
            (json!({"configs": {k: 5}}), not_sentry),
            (json!({"configs": {k: "served"}}), not_sentry),
            (json!({"configs": {k: [1]}}), not_sentry),
            (json!({"configs": {k: {"disabled": "yes"}}}), not_sentry),
            (json!({"configs": {k: {"disabled": null}}}), not_sentry),
            (json!({"configs": 5}), not_sentry),
            (json!({"configs": null}), not_sentry),
            (json!({"configs": {}, "pending": k}), not_sentry),
            (json!([k]), not_sentry),
        ] {
            assert_eq!(state(answer.clone()).map_err(|_| ()), want, "{answer}");
        }
    }

    #[test]
    fn field_errors_and_text_are_sanitize_line() {
        assert_eq!(
            sentry_detail(&json!({"relay_id": ["This field is required."]})),
            "relay_id: This field is required."
        );
        assert_eq!(
            sentry_detail(&json!("Relay unauthorized\nfor full config")),
            "Relay unauthorized for full config"
        );
        assert_eq!(sanitize_line(&"x".repeat(500)).len(), 200);
    }
}
