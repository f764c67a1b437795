//! `deployment-event`: report a deployment to Sentry. Inputs are checked first (a bad flag or
//! `--dsn` exits 1 before anything is read or sent); the DSN comes from `--dsn` / SENTRY_DSN, else
//! from the vault secret through the one fetch; then one envelope is sent. Reporting is optional,
//! as in the script: everything that keeps the event from Sentry is one warning and exit 0
//! (`--strict`: one error and exit 1).

use std::time::{Instant, SystemTime};

use anyhow::anyhow;

use super::{fetch_with_feedback, settings};
use crate::cli::{or_alias, DeploymentEventArgs, DeploymentStatusArg, DeploymentTypeArg};
use crate::dsn::{self, Dsn};
use crate::event::envelope::{self, Occasion};
use crate::event::{self, start, Deployment, DeploymentStatus, DeploymentType, Sent};
use crate::exit::Exit;
use crate::fetch::{Outcome, Problem, Status};
use crate::settings::{non_empty, Settings};

pub(crate) fn run(args: &DeploymentEventArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let now = SystemTime::now();
    let strict = args.fetch.strict;
    let kind = match args.deployment_type {
        DeploymentTypeArg::Ecs => DeploymentType::Ecs,
        DeploymentTypeArg::Eks => DeploymentType::Eks,
    };
    let customer_id =
        event::tag_value(&args.customer_id, "--customer-id").map_err(|e| anyhow!(e))?;
    let start_dir = non_empty(args.start_dir.clone()).unwrap_or_else(start::default_dir);
    if args.record_start {
        return Ok(match start::record(&start_dir, kind, &customer_id, now) {
            Ok(path) => {
                crate::console::info(&format!(
                    "vault-fetch-relay: recorded the start of the {} deployment in {}",
                    kind.as_str(),
                    path.display()
                ));
                Exit::Success
            }
            Err(e) => optional(strict, &format!("the start was not recorded: {e:#}")),
        });
    }
    let deployment = deployment(args, kind, customer_id)?;
    let given = given_dsn(args)?;
    let settings = settings(&args.fetch)?;
    let start = match &args.started_at {
        Some(text) => Some((
            start::parse_started_at(text)
                .and_then(|t| start::checked(t, now))
                .map_err(|e| anyhow!(e))?,
            None,
        )),
        None => recorded_start(&start_dir, &deployment, now),
    };
    let (start, start_file) = match start {
        Some((t, file)) => (Some(t), file),
        None => (None, None),
    };
    let dsn = match given {
        Some(dsn) => dsn,
        None => match dsn_from_vault(&settings, started + settings.deadline)? {
            Ok(dsn) => dsn,
            Err(why) => return Ok(optional(strict, &why)),
        },
    };
    let occasion = Occasion::new(start, now);
    let event = envelope::event(&deployment, &occasion);
    let bytes = envelope::envelope(&event, &occasion.event_id, SystemTime::now());
    let delivery = event::send(
        &dsn,
        bytes,
        &occasion.event_id,
        settings.ca_file.as_deref(),
        settings.connect_timeout,
        started + settings.deadline,
    )?;
    Ok(match delivery {
        Sent::Accepted { event_id, attempts } => {
            // Read once: the start goes when its event is sent, not before (a failed run
            // leaves it for the retry; a day-old one is swept).
            if let Some(file) = &start_file {
                let _ = std::fs::remove_file(file);
            }
            crate::console::out_unless_closed(&format!("{event_id}\n"))?;
            crate::console::info(&format!(
                "vault-fetch-relay: sent the {} deployment event to {} ({} attempt{})",
                deployment.status.as_str(),
                dsn.shown(),
                attempts,
                if attempts == 1 { "" } else { "s" }
            ));
            Exit::Success
        }
        Sent::Refused { reason, .. } => optional(
            strict,
            &format!("Sentry at {} refused the deployment event: {reason}", dsn.shown()),
        ),
        Sent::Unreachable { reason, .. } => optional(
            strict,
            &format!(
                "the deployment event did not reach Sentry at {}: {reason}; check network, proxy and CA settings, or raise --timeout-seconds",
                dsn.shown()
            ),
        ),
    })
}

/// The flags and their variables, checked: a bad one is a usage error.
fn deployment(
    args: &DeploymentEventArgs,
    kind: DeploymentType,
    customer_id: String,
) -> anyhow::Result<Deployment> {
    let infra_version = or_alias(args.infra_version.clone(), "INFRA_VERSION").ok_or_else(|| {
        anyhow!(
            "no infra version: give --infra-version (or VAULT_FETCH_INFRA_VERSION / INFRA_VERSION)"
        )
    })?;
    let infra_version = event::tag_value(&infra_version, "--infra-version / INFRA_VERSION")
        .map_err(|e| anyhow!(e))?;
    let environment = or_alias(args.environment.clone(), "ENVIRONMENT")
        .unwrap_or_else(|| "production".to_string());
    let environment =
        event::environment(&environment, "--environment / ENVIRONMENT").map_err(|e| anyhow!(e))?;
    let status = match args.status {
        Some(DeploymentStatusArg::Success) => DeploymentStatus::Success,
        Some(DeploymentStatusArg::Failure) => DeploymentStatus::Failure,
        None => anyhow::bail!("give --status success or --status failure"),
    };
    let error_message = event::error_message(
        args.error_message.as_deref().unwrap_or(""),
        "--error-message",
    )
    .map_err(|e| anyhow!(e))?;
    Ok(Deployment {
        deployment_type: kind,
        customer_id,
        infra_version,
        environment,
        status,
        error_message,
    })
}

/// `--dsn`, else SENTRY_DSN (empty counts as unset), checked: a malformed one is a usage error.
fn given_dsn(args: &DeploymentEventArgs) -> anyhow::Result<Option<Dsn>> {
    let given = match non_empty(args.dsn.clone()) {
        Some(text) => Some((text, "--dsn")),
        None => non_empty(std::env::var("SENTRY_DSN").ok()).map(|t| (t, "SENTRY_DSN")),
    };
    given
        .map(|(text, from)| {
            dsn::parse(&text).map_err(|e| anyhow!("{from} is not a usable Sentry DSN: {e}"))
        })
        .transpose()
}

/// A start recorded by `--record-start`, else the script's start files; with its file.
fn recorded_start(
    dir: &std::path::Path,
    d: &Deployment,
    now: SystemTime,
) -> Option<(SystemTime, Option<std::path::PathBuf>)> {
    let (t, path) =
        start::find_recorded(dir, d.deployment_type, &d.customer_id, now).or_else(|| {
            start::find_script_start(
                std::path::Path::new(start::SCRIPT_DIR),
                d.deployment_type,
                &d.customer_id,
                now,
            )
        })?;
    log::info!(
        "the deployment started at {} ({})",
        crate::clock::format_timestamp(t),
        path.display()
    );
    Some((t, Some(path)))
}

/// The secret's `sentry_dsn`, read by name through the one fetch. `Ok(Err(why))`: no usable
/// DSN, which degrades like every other reporting failure; `Err`: a configuration error
/// (wrong_api_base, a bad CA bundle), exit 1.
fn dsn_from_vault(settings: &Settings, deadline: Instant) -> anyhow::Result<Result<Dsn, String>> {
    let report = fetch_with_feedback(settings, deadline)?;
    let name = &settings.secret_name;
    let stored = match &report.outcome {
        Outcome::Found(found) => found.credentials.sentry_dsn.clone(),
        Outcome::Missing(m) if m.status == Problem::InvalidSecret && m.sentry_dsn.is_some() => {
            crate::console::warn(&format!(
                "vault-fetch-relay: warning: {}: {}; its sentry_dsn is used for the event",
                m.status,
                report.reason()
            ));
            m.sentry_dsn.clone()
        }
        Outcome::Missing(m) if Status::from(m.status).is_configuration_error() => {
            anyhow::bail!("{}: {}", m.status, report.reason())
        }
        Outcome::Missing(m) => {
            return Ok(Err(format!(
                "no Sentry DSN: --dsn and SENTRY_DSN are not set, and the vault gave none ({}: {})",
                m.status,
                report.reason()
            )))
        }
    };
    Ok(match stored {
        None => Err(format!(
            "no Sentry DSN: --dsn and SENTRY_DSN are not set, and secret {name:?} holds no sentry_dsn"
        )),
        Some(text) => dsn::parse(&text)
            .map_err(|e| format!("secret {name:?} holds a sentry_dsn that is not usable: {e}")),
    })
}

/// Reporting is optional: a warning and success, or with --strict an error and failure.
fn optional(strict: bool, why: &str) -> Exit {
    if strict {
        crate::console::error(&format!("vault-fetch-relay: error: {why}"));
        Exit::Failure
    } else {
        crate::console::warn(&format!("vault-fetch-relay: warning: {why}"));
        Exit::Success
    }
}
