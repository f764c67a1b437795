//! The dev server's Sentry upstream side: relay's registration endpoints (register
//! challenge, register response) and project configs, on the same listener as the
//! WorkOS API, under `/api/0/relays/`. It judges requests as Sentry's endpoints do
//! (signature, its age, the id in the header, a relay id registered with another
//! key), with a trusted-relays list, a set of known DSN keys, and a fault script of
//! its own so a test can script WorkOS and upstream separately. The same side is Sentry's
//! ingest (`/api/{project_id}/envelope/`, under a DSN path prefix too), which records the
//! events it accepts.

mod endpoints;
mod envelope;
mod ingest;
pub mod verify;

pub use ingest::ReceivedEvent;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use super::http::{Request, Response};
use super::lock;
use super::Fault;

/// What the upstream does instead of answering the next upstream request normally.
#[derive(Clone, Debug)]
pub enum UpstreamFault {
    /// 403 "Relay is not allowed to register" (Sentry with closed registration).
    Refuse,
    /// 400 "Attempted to register agent with a different public key".
    DifferentKey,
    /// The next project-config answer serves no project (`{"disabled": true}`).
    DisabledProject,
    /// Any transport fault of the WorkOS side: a 5xx, a hang, a reset...
    Http(Fault),
}

/// Who the upstream knows and trusts.
#[derive(Debug, Default)]
pub struct State {
    /// Relay id -> the public key it registered with.
    registered: HashMap<String, String>,
    /// Public keys of the organization's trusted relays: served projects.
    trusted: HashSet<String>,
    /// DSN public keys of the projects it serves.
    dsn_keys: HashSet<String>,
    /// Registration only for trusted keys (Sentry without open registration).
    closed: bool,
    /// Challenge token -> (relay id, public key, issued at).
    challenges: HashMap<String, (String, String, Instant)>,
    faults: VecDeque<UpstreamFault>,
    disable_next_projects: bool,
    /// Events the ingest accepted, oldest first (the most recent 1,000).
    events: VecDeque<ReceivedEvent>,
    /// One stderr line per accepted event (the dev server's request log is on).
    log_events: bool,
}

/// The upstream side's state, shared by the connection threads; tests and `dev-server`
/// seed it through these methods.
#[derive(Debug, Default)]
pub struct Upstream(Mutex<State>);

/// What `dev-server` seeds the upstream side with (its --trust-relay, --dsn-key and
/// --closed-registration flags).
#[derive(Clone, Debug, Default)]
pub struct UpstreamSeed {
    pub trusted: Vec<String>,
    pub dsn_keys: Vec<String>,
    pub closed: bool,
}

impl UpstreamSeed {
    pub fn apply(&self, upstream: &Upstream) {
        for key in &self.trusted {
            upstream.trust(key);
        }
        for key in &self.dsn_keys {
            upstream.add_dsn_key(key);
        }
        upstream.set_closed(self.closed);
    }
}

/// The three requests relay makes, in order: this server's table (the product's client has its
/// own; tests/upstream.rs drives that client against this server, so the two must agree).
const CHALLENGE_PATH: &str = "/api/0/relays/register/challenge/";
const RESPONSE_PATH: &str = "/api/0/relays/register/response/";
const PROJECT_CONFIGS_PATH: &str = "/api/0/relays/projectconfigs/";

/// Paths this side answers: relay's endpoints and the envelope endpoint.
pub(crate) fn is_upstream_path(path: &str) -> bool {
    path.starts_with("/api/0/relays/") || ingest::envelope_path(path).is_some()
}

impl Upstream {
    pub fn trust(&self, public_key: &str) {
        lock(&self.0).trusted.insert(public_key.to_string());
    }

    pub fn distrust(&self, public_key: &str) {
        lock(&self.0).trusted.remove(public_key);
    }

    pub fn add_dsn_key(&self, key: &str) {
        lock(&self.0).dsn_keys.insert(key.to_string());
    }

    pub fn set_closed(&self, closed: bool) {
        lock(&self.0).closed = closed;
    }

    pub fn push_fault(&self, fault: UpstreamFault) {
        lock(&self.0).faults.push_back(fault);
    }

    pub fn registered(&self, relay_id: &str) -> Option<String> {
        lock(&self.0).registered.get(relay_id).cloned()
    }

    /// Every event and transaction the envelope endpoint accepted, oldest first.
    pub fn events(&self) -> Vec<ReceivedEvent> {
        lock(&self.0).events.iter().cloned().collect()
    }

    pub(crate) fn set_log_events(&self, on: bool) {
        lock(&self.0).log_events = on;
    }

    /// The next upstream fault as a transport fault the connection applies; the
    /// Sentry refusals become their answers, `DisabledProject` a flag for `handle`.
    pub(crate) fn next_fault(&self) -> Option<Fault> {
        let mut state = lock(&self.0);
        let detail = |status: u16, text: &str| {
            Some(Fault::Respond {
                status,
                headers: Vec::new(),
                body: serde_json::json!({ "detail": text }).to_string(),
            })
        };
        match state.faults.pop_front()? {
            UpstreamFault::Refuse => detail(403, "Relay is not allowed to register"),
            UpstreamFault::DifferentKey => detail(
                400,
                "Attempted to register agent with a different public key",
            ),
            UpstreamFault::DisabledProject => {
                state.disable_next_projects = true;
                None
            }
            UpstreamFault::Http(f) => Some(f),
        }
    }

    /// Answer one upstream request.
    pub(crate) fn handle(&self, req: &Request) -> Response {
        let mut state = lock(&self.0);
        match ingest::envelope_path(req.path_only()) {
            Some((prefix, project_id)) => ingest::handle(&mut state, req, prefix, project_id),
            None => endpoints::handle(&mut state, req),
        }
    }
}
