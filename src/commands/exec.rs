//! `exec -- COMMAND...`: run relay (or any command) with its credentials and keep them
//! current. A thin front end: the core fetches and says what changed, `supervisor`
//! runs the child; this file only turns reports into launches and log lines.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};

use super::init::RelayDirWriter;
use super::relay_upstream::{relay_upstream, Template};
use super::{conclude, fetch_gated, fetch_with_feedback, settings, start_rule, verify_settings};
use crate::cli::{ExecArgs, FetchArgs, MIN_INTERVAL};
use crate::exit::Exit;
use crate::fetch::{Found, Outcome, Problem, Report, Status};
use crate::preflight::Delivery;
use crate::render::{relay_env, CREDENTIAL_VARS};
use crate::secret::Secret;
use crate::settings::{is_loopback_host, parse_duration, Settings};
use crate::supervisor::{self, Launch, Poll};
use crate::supervisor::{say, say_error};
use crate::upstream::{UpstreamSettings, Verdict};

/// Lowers the --interval floor, for the dev server only (tests, demos): honoured only
/// when the API base is a loopback address, where WorkOS's rate limit does not apply.
pub const DEV_FLOOR_VAR: &str = "VAULT_FETCH_DEV_INTERVAL_FLOOR";

/// Never passed on: the child has no use for the WorkOS key, and relay should not be
/// able to read more than its own credentials.
const NOT_FOR_THE_CHILD: [&str; 3] = crate::cli::API_KEY_VARS;

pub(crate) fn run(args: &ExecArgs) -> anyhow::Result<Exit> {
    let Some((program, rest)) = args.command.split_first() else {
        bail!("exec needs the command to run after `--`, e.g. `vault-fetch-relay exec -- relay run --config /etc/relay`");
    };
    // Everything a user can get wrong is checked before the first request.
    let settings = settings(&args.fetch)?;
    // No API key follows the rule of every mode (README, "One rule per question"): a
    // no_api_key warning and a child in proxy mode, or with --strict no child and exit 1.
    if !args.once {
        check_interval(args.interval, &settings)?;
    }
    let target = match args.dir.as_ref().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => Target::Dir(RelayDirWriter::new(dir.clone(), "exec --dir", &args.files)?),
        None => {
            // Without --dir no config.yml is written and RELAY_MODE decides the mode:
            // a template or upstream given for it would be silently ignored.
            if crate::cli::path_or_alias(
                args.files.config_template.clone(),
                "RELAY_CONFIG_TEMPLATE",
            )
            .is_some()
            {
                bail!("a config template (--config-template, VAULT_FETCH_CONFIG_TEMPLATE or RELAY_CONFIG_TEMPLATE) is used only with exec --dir DIR; add --dir, or unset it (without --dir the child gets RELAY_MODE in its environment)");
            }
            // (RELAY_UPSTREAM_URL alone is fine: relay itself reads that variable.)
            if args.files.upstream.is_some() {
                bail!("--upstream (or VAULT_FETCH_UPSTREAM_URL) is used only with exec --dir DIR, which writes config.yml; add --dir, or set RELAY_UPSTREAM_URL, which relay reads itself");
            }
            Target::Env
        }
    };
    // The upstream relay will use: with --dir, the files' (relay_upstream's rule); without,
    // RELAY_UPSTREAM_URL, which relay reads itself, else relay's default.
    let upstream = match &target {
        Target::Dir(writer) => writer.upstream().clone(),
        Target::Env => relay_upstream(
            None,
            std::env::var("RELAY_UPSTREAM_URL").ok(),
            Template::NotGiven,
        )?,
    };
    let verify = verify_settings(args.verify_upstream, &upstream, &settings)?;
    let mut watcher = Watcher {
        fetch_args: args.fetch.clone(),
        verify,
        refused: None,
        target,
        program: program.clone(),
        args: rest.to_vec(),
        started: false,
        current: None,
    };
    if args.once {
        // As in init: a signal during the --dir write takes effect after it (the
        // handler goes with this process image at exec).
        if matches!(watcher.target, Target::Dir(_)) {
            crate::interrupt::exit_between_writes()?;
        }
        return Ok(match watcher.first() {
            Ok(launch) => {
                let e = supervisor::exec(&launch);
                say_error(&e.message);
                Exit::Child(e.code)
            }
            Err(code) => code,
        });
    }
    let options = supervisor::Options {
        interval: args.interval,
        grace: args.grace,
    };
    let code = supervisor::run(options, move || watcher.poll());
    // A `--dir` write in progress on the watch thread finishes first, and none starts
    // after: the guard is kept until the process exits.
    std::mem::forget(crate::interrupt::hold());
    code.map(Exit::Child)
}

/// Refuse an interval that, multiplied by a fleet of pods, would eat WorkOS's limit.
fn check_interval(interval: Duration, settings: &Settings) -> anyhow::Result<()> {
    let floor = match std::env::var(DEV_FLOOR_VAR) {
        Ok(v) if !v.trim().is_empty() => {
            if !is_loopback_host(&settings.api_base) {
                bail!("{DEV_FLOOR_VAR} lowers the --interval floor for the local dev server only, but the API base {} is not a loopback address; unset {DEV_FLOOR_VAR}", settings.api_base.as_str().trim_end_matches('/'));
            }
            parse_duration(&v).map_err(|e| anyhow!("{DEV_FLOOR_VAR}: {e}"))?
        }
        _ => MIN_INTERVAL,
    };
    if interval < floor {
        bail!(
            "--interval / VAULT_FETCH_INTERVAL {:.1} s is below the floor of {} s: WorkOS allows 6,000 requests per minute per API key, shared by every pod polling with it; use --interval {}s or more (default 5m)",
            interval.as_secs_f64(),
            floor.as_secs_f64(),
            floor.as_secs_f64()
        );
    }
    Ok(())
}

/// Where the credentials go: the child's environment, or relay's files on disk.
enum Target {
    Env,
    Dir(RelayDirWriter),
}

/// The watch state the supervisor's worker thread owns: what the child was started with.
struct Watcher {
    fetch_args: FetchArgs,
    /// `--verify-upstream`: the upstream to ask before credentials reach the child.
    verify: Option<UpstreamSettings>,
    /// The last credentials upstream refused: warned about once, retried every poll.
    refused: Option<Found>,
    target: Target,
    program: OsString,
    args: Vec<OsString>,
    started: bool,
    /// The credentials the running child has; `None`: it runs in proxy mode.
    current: Option<Found>,
}

impl Watcher {
    /// Settings are resolved again on every read, so a rotated WORKOS_API_KEY_FILE
    /// (a mounted Kubernetes secret) is picked up. The poll's deadline starts here and
    /// holds the preflight after the fetch too.
    fn fetch(&self) -> anyhow::Result<(Report, Instant)> {
        let settings = settings(&self.fetch_args)?;
        let deadline = Instant::now() + settings.deadline;
        // The same retry lines as every CLI mode (on a terminal or with -v).
        let report = fetch_with_feedback(&settings, deadline)?;
        Ok((report, deadline))
    }

    /// What to start for `delivery`. With --dir the files are written here, before the
    /// old child (if any) is stopped, so a failed write leaves it untouched.
    fn launch(&self, delivery: &Delivery) -> anyhow::Result<Launch> {
        let mut remove_env: Vec<&'static str> = NOT_FOR_THE_CHILD.to_vec();
        // Inherited credential variables would override what we give (or, in proxy
        // mode, make relay refuse to start with "incomplete credentials").
        remove_env.extend(CREDENTIAL_VARS);
        let mode = match delivery.credentials() {
            Some(c) => format!("mode managed, relay {}", c.masked_id()),
            None => "mode proxy, no credentials".to_string(),
        };
        let (set_env, description) = match &self.target {
            Target::Env => (
                relay_env(delivery.credentials())
                    .into_iter()
                    .map(|(k, v)| (k, Secret::new(v)))
                    .collect(),
                match delivery.credentials() {
                    Some(_) => format!("{mode}, credentials in its environment"),
                    None => format!("{mode} in its environment"),
                },
            ),
            Target::Dir(writer) => {
                say(&writer.write(delivery)?);
                // The files decide the mode; an inherited RELAY_MODE would override them.
                remove_env.push("RELAY_MODE");
                (
                    Vec::new(),
                    format!("{mode}, files in {}", writer.dir().display()),
                )
            }
        };
        Ok(Launch {
            program: self.program.clone(),
            args: self.args.clone(),
            remove_env,
            set_env,
            description,
        })
    }

    /// The first read: what to start, or the exit code when nothing may start.
    fn first(&mut self) -> Result<Launch, Exit> {
        self.started = true;
        let fetched = settings(&self.fetch_args).and_then(|settings| {
            let delivery = fetch_gated(&settings, self.verify.as_ref())?;
            start_rule(&delivery)?;
            Ok((delivery, settings.strict))
        });
        let (delivery, strict) = match fetched {
            Ok(fetched) => fetched,
            Err(e) => {
                crate::console::error(&format!("vault-fetch-relay: error: {e:#}"));
                return Err(Exit::Failure);
            }
        };
        if delivery.status() == Status::UpstreamRefused {
            // Proxy mode until upstream accepts them (or they change).
            self.refused = delivery.report.found().cloned();
        }
        if delivery.credentials().is_some() {
            // exec's own line; `conclude` would log the same reason again (-v).
            say(&format!("fetch: {}", delivery.reason()));
        } else {
            // The warning (or, strict, the error) line for a start without credentials.
            let code = conclude(&delivery, strict);
            if code != Exit::Success {
                return Err(code);
            }
        }
        match self.launch(&delivery) {
            Ok(launch) => {
                self.current = delivery.found().cloned();
                Ok(launch)
            }
            Err(e) => {
                crate::console::error(&format!("vault-fetch-relay: error: {e:#}"));
                Err(Exit::Failure)
            }
        }
    }

    fn poll(&mut self) -> Poll {
        if !self.started {
            return match self.first() {
                Ok(launch) => Poll::Start {
                    reason: "first start".into(),
                    launch,
                },
                Err(exit) => Poll::Stop(exit.code()),
            };
        }
        let (report, deadline) = match self.fetch() {
            Ok(fetched) => fetched,
            Err(e) => {
                say(&format!("fetch failed: {e:#}; the child keeps running"));
                return Poll::Failed;
            }
        };
        match (&report.outcome, &self.current) {
            (Outcome::Found(new), Some(old)) => match new.change_from(old) {
                Some(why) => self.verified_restart(report, why, deadline),
                None => {
                    say(&format!(
                        "fetch: {} (secret version {}): unchanged",
                        report.reason(),
                        new.version_id.as_deref().unwrap_or("unknown")
                    ));
                    self.current = Some(new.clone());
                    Poll::Keep
                }
            },
            (Outcome::Found(_), None) => self.verified_restart(
                report,
                "credentials are now available (the child ran in proxy mode)".into(),
                deadline,
            ),
            (Outcome::Missing(m), current) => {
                let keeps = match current {
                    Some(_) => "the child keeps the credentials it has",
                    None => "the child stays in proxy mode",
                };
                say(&format!(
                    "fetch: {}: {}; {keeps}",
                    m.status,
                    report.reason()
                ));
                match m.status {
                    // The vault or the key is in trouble: back off.
                    Problem::Unavailable
                    | Problem::Unauthorized
                    | Problem::Forbidden
                    | Problem::WrongApiBase => Poll::Failed,
                    // An answer, just not a usable one: keep the steady interval.
                    Problem::NotFound | Problem::InvalidSecret | Problem::NoApiKey => Poll::Keep,
                }
            }
        }
    }

    /// `restart`, after the preflight gate with --verify-upstream (README, "One rule per
    /// question"), inside the poll's deadline: refused credentials never replace the
    /// child's, with one warning line per change and a retry at every poll; an
    /// unreachable upstream keeps what runs.
    fn verified_restart(&mut self, report: Report, why: String, deadline: Instant) -> Poll {
        let keeps = match self.current {
            Some(_) => "the child keeps the credentials it has",
            None => "the child stays in proxy mode",
        };
        let delivery = match crate::preflight::gate(report, self.verify.as_ref(), deadline) {
            Ok(delivery) => delivery,
            Err(e) => {
                say(&format!("upstream check failed: {e:#}; {keeps}"));
                return Poll::Failed;
            }
        };
        let Some(upstream) = &delivery.upstream else {
            return self.restart(&delivery, why);
        };
        match upstream.verdict {
            Verdict::Accepted => {
                self.refused = None;
                self.restart(&delivery, why)
            }
            Verdict::Refused => {
                let found = delivery.report.found();
                let seen = self.refused.as_ref().map(|r| &r.credentials);
                if seen != found.map(|f| &f.credentials) {
                    crate::console::warn(&format!(
                        "vault-fetch-relay: warning: exec: upstream_refused: {}; {keeps}; asking again at every poll",
                        upstream.reason
                    ));
                    self.refused = found.cloned();
                } else {
                    log::debug!("upstream still refuses the new credentials; {keeps}");
                }
                Poll::Keep
            }
            Verdict::Unreachable | Verdict::NotSentry => {
                say(&format!(
                    "{}; {keeps}; asking again at the next poll",
                    upstream.reason
                ));
                Poll::Failed
            }
        }
    }

    fn restart(&mut self, delivery: &Delivery, why: String) -> Poll {
        say(&format!("fetch: {}: {why}", delivery.reason()));
        match self.launch(delivery) {
            Ok(launch) => {
                self.current = delivery.found().cloned();
                Poll::Start {
                    reason: why,
                    launch,
                }
            }
            Err(e) => {
                say_error(&format!(
                    "cannot prepare the restart: {e:#}; the child keeps running"
                ));
                Poll::Failed
            }
        }
    }
}
