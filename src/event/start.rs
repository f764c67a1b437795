//! When the deployment started, for the `duration` measurement. First found wins:
//!
//! 1. `--started-at` (RFC 3339 or seconds since the epoch): the chart's hooks pass the render time,
//!    Terraform its `plantimestamp()`;
//! 2. a start recorded by an earlier `deployment-event --record-start` in the same workspace: one
//!    small file per deployment type and customer in the start directory (`--start-dir` /
//!    `VAULT_FETCH_START_DIR`, default `$TMPDIR/vault-fetch-relay-<uid>`, mode 0700), removed when a
//!    completion reads it; one older than a day is stale and removed by the next call;
//! 3. the start files Runlayer's `capture-deployment-telemetry.sh` writes
//!    (`/tmp/runlayer-deployments/{customer}-{type}-{epoch}-{pid}.json`, or its `-start.json` link),
//!    the newest of them, removed once read as the script's completion does; so a half-migrated
//!    pipeline keeps its durations.
//!
//! A start file is read only when it is a regular file of ours (uid), at most 64 KiB, whose
//! `customer_id` and `deployment_type` are this deployment's.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::{json, Value};

use super::DeploymentType;
use crate::clock::{format_timestamp, micros_since_epoch};

/// A recorded start older than this belongs to a deployment that never reported: ignored, removed.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// A start this far ahead of our clock is a wrong value (milliseconds given as seconds?), not skew.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(300);
/// Where the script writes its start files (fixed in the script).
pub(crate) const SCRIPT_DIR: &str = "/tmp/runlayer-deployments";
const PREFIX: &str = "deployment-start-";

/// An RFC 3339 time, through the one time parser (the shared clock's).
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    micros_since_epoch(text.trim()).map(|m| UNIX_EPOCH + Duration::from_micros(m))
}

/// Seconds since the epoch as a time; `None` for a negative, non-finite or unrepresentable one.
fn from_epoch_secs(secs: f64) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
}

/// `--started-at`: RFC 3339, or seconds since the epoch (a fraction allowed).
pub(crate) fn parse_started_at(text: &str) -> Result<SystemTime, String> {
    let t = text.trim();
    let fix = "give RFC 3339 (2026-12-03T10:00:00Z) or seconds since the epoch (1796292000)";
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = t
            .parse()
            .map_err(|_| format!("--started-at is not a time; {fix}"))?;
        if secs >= 1e11 {
            return Err(format!("--started-at is out of range; {fix}"));
        }
        return from_epoch_secs(secs).ok_or_else(|| format!("--started-at is out of range; {fix}"));
    }
    parse_rfc3339(t).ok_or_else(|| format!("--started-at is not a time; {fix}"))
}

/// Check a start against the end: later than the end by more than a clock's skew is an error; a
/// little later (another machine's clock) counts as the end itself.
pub(crate) fn checked(start: SystemTime, end: SystemTime) -> Result<SystemTime, String> {
    match start.duration_since(end) {
        Ok(ahead) if ahead > MAX_SKEW => Err(format!(
            "--started-at is {} s in the future; give the deployment's start (seconds, not milliseconds, since the epoch)",
            ahead.as_secs()
        )),
        Ok(_) => Ok(end),
        Err(_) => Ok(start),
    }
}

/// The default start directory: private to this user under the temp directory.
pub(crate) fn default_dir() -> PathBuf {
    let uid = unsafe { libc::geteuid() };
    std::env::temp_dir().join(format!("vault-fetch-relay-{uid}"))
}

/// The file of one deployment's start: type and a digest of the customer id (any text).
fn file_name(kind: DeploymentType, customer_id: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, customer_id.as_bytes());
    let hex: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{PREFIX}{}-{hex}.json", kind.as_str())
}

/// Refuse a start directory someone else could write (a planted one in a shared /tmp).
fn check_private(dir: &Path) -> anyhow::Result<()> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", dir.display())),
    };
    let uid = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
        anyhow::bail!(
            "the start directory {} is not a private directory of this user (uid {uid}); remove it or set --start-dir / VAULT_FETCH_START_DIR",
            dir.display()
        );
    }
    Ok(())
}

/// Record `at` as the start of this deployment; returns the file written (0600, atomically).
pub(crate) fn record(
    dir: &Path,
    kind: DeploymentType,
    customer_id: &str,
    at: SystemTime,
) -> anyhow::Result<PathBuf> {
    check_private(dir)?;
    sweep(dir, at);
    let name = file_name(kind, customer_id);
    let secs = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let doc = json!({
        "customer_id": customer_id,
        "deployment_type": kind.as_str(),
        "started_at": format_timestamp(at),
        "started_at_epoch": secs,
    });
    crate::files::write_set(
        dir,
        &[crate::files::Change {
            name: std::ffi::OsStr::new(&name),
            contents: Some(format!("{doc}\n").as_bytes()),
        }],
    )?;
    Ok(dir.join(name))
}

/// Remove starts older than a day (deployments that never reported).
fn sweep(dir: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(PREFIX) && name.ends_with(".json")) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > MAX_AGE);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            log::info!("removed the stale start {}", entry.path().display());
        }
    }
}

/// The start recorded for this deployment, if a fresh one is there, and its file (the caller
/// removes it once the event is sent: a run that fails leaves it for the retry).
pub(crate) fn find_recorded(
    dir: &Path,
    kind: DeploymentType,
    customer_id: &str,
    now: SystemTime,
) -> Option<(SystemTime, PathBuf)> {
    if let Err(e) = check_private(dir) {
        log::warn!("{e:#}");
        return None;
    }
    sweep(dir, now);
    let path = dir.join(file_name(kind, customer_id));
    read_start(&path, kind, customer_id, now).map(|t| (t, path))
}

/// The newest start the script wrote for this deployment under `dir`, and its file (or the
/// legacy link itself), which the caller removes once the event is sent, as the script's
/// completion does.
pub(crate) fn find_script_start(
    dir: &Path,
    kind: DeploymentType,
    customer_id: &str,
    now: SystemTime,
) -> Option<(SystemTime, PathBuf)> {
    let prefix = format!("{customer_id}-{}-", kind.as_str());
    let legacy = format!("{prefix}start.json");
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(&prefix) || !name.ends_with(".json") || name == legacy {
            continue;
        }
        let path = entry.path();
        if let Some(t) = read_start(&path, kind, customer_id, now) {
            if best.as_ref().is_none_or(|(b, _)| t > *b) {
                best = Some((t, path));
            }
        }
    }
    best.or_else(|| {
        let path = dir.join(&legacy);
        read_start(&path, kind, customer_id, now).map(|t| (t, path))
    })
}

/// A start file's time, when it is ours, fresh and this deployment's.
fn read_start(
    path: &Path,
    kind: DeploymentType,
    customer_id: &str,
    now: SystemTime,
) -> Option<SystemTime> {
    // The legacy name is a link the script makes; what it points to must be ours too.
    let meta = std::fs::metadata(path).ok()?;
    let uid = unsafe { libc::geteuid() };
    if !meta.is_file() || meta.uid() != uid {
        return None;
    }
    // Bounded, whatever the file became since: a start is a few hundred bytes.
    let bytes = crate::files::read_input(path, 64 * 1024, "the start file").ok()?;
    let doc: Value = serde_json::from_slice(&bytes).ok()?;
    if doc.get("customer_id").and_then(Value::as_str) != Some(customer_id)
        || doc.get("deployment_type").and_then(Value::as_str) != Some(kind.as_str())
    {
        return None;
    }
    let at = doc
        .get("started_at")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
        .or_else(|| {
            // Any number may be in the file: out of range is no start, never a panic.
            from_epoch_secs(doc.get("started_at_epoch")?.as_f64()?)
        })?;
    let fresh = match now.duration_since(at) {
        Ok(age) => age <= MAX_AGE,
        Err(ahead) => ahead.duration() <= MAX_SKEW,
    };
    fresh.then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn started_at_takes_rfc3339_and_epoch_seconds() {
        assert_eq!(parse_started_at("1796292000").unwrap(), at(1_796_292_000));
        assert_eq!(
            parse_started_at("1796292000.5").unwrap(),
            at(1_796_292_000) + Duration::from_millis(500)
        );
        assert_eq!(
            parse_started_at("2026-12-03T10:00:00Z").unwrap(),
            parse_rfc3339("2026-12-03T10:00:00Z").unwrap()
        );
        for bad in ["", "yesterday", "1.2.3", "-5", "1e9", "99999999999999"] {
            assert!(parse_started_at(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_start_after_the_end_is_skew_or_an_error() {
        let end = at(1_000_000);
        assert_eq!(checked(at(999_000), end).unwrap(), at(999_000));
        assert_eq!(checked(at(1_000_100), end).unwrap(), end);
        assert!(checked(at(1_000_000_000), end).is_err());
    }

    /// Find, then remove as deployment-event does once the event is sent.
    fn take_recorded(
        dir: &Path,
        kind: DeploymentType,
        customer: &str,
        now: SystemTime,
    ) -> Option<(SystemTime, PathBuf)> {
        let found = find_recorded(dir, kind, customer, now)?;
        std::fs::remove_file(&found.1).unwrap();
        Some(found)
    }

    fn take_script_start(
        dir: &Path,
        kind: DeploymentType,
        customer: &str,
        now: SystemTime,
    ) -> Option<(SystemTime, PathBuf)> {
        let found = find_script_start(dir, kind, customer, now)?;
        std::fs::remove_file(&found.1).unwrap();
        Some(found)
    }

    #[test]
    fn a_start_outside_times_range_is_no_start_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for epoch in ["1e300", "1e19", "-5", "1.8446744073709552e19"] {
            let path = dir.path().join("acme-ecs-1-1.json");
            let doc = format!(
                r#"{{"started_at_epoch": {epoch}, "customer_id": "acme", "deployment_type": "ecs"}}"#
            );
            std::fs::write(&path, doc).unwrap();
            assert!(
                find_script_start(dir.path(), DeploymentType::Ecs, "acme", now).is_none(),
                "{epoch}"
            );
            // Not read: it stays for a sweep, never removed by a lookup.
            assert!(path.exists());
        }
    }

    #[test]
    fn a_recorded_start_is_read_once_and_stale_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let starts = dir.path().join("starts");
        let now = SystemTime::now();
        let customer = "acme/\"corp\"\nü";
        record(
            &starts,
            DeploymentType::Eks,
            customer,
            now - Duration::from_secs(90),
        )
        .unwrap();
        assert!(take_recorded(&starts, DeploymentType::Ecs, customer, now).is_none());
        assert!(take_recorded(&starts, DeploymentType::Eks, "other", now).is_none());
        let (t, _) = take_recorded(&starts, DeploymentType::Eks, customer, now).unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_micros(),
            (now - Duration::from_secs(90))
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_micros()
        );
        assert!(
            take_recorded(&starts, DeploymentType::Eks, customer, now).is_none(),
            "read once"
        );
        // Two days old: ignored.
        record(&starts, DeploymentType::Ecs, "x", now - 2 * MAX_AGE).unwrap();
        assert!(take_recorded(&starts, DeploymentType::Ecs, "x", now).is_none());
    }

    #[test]
    fn the_scripts_newest_start_file_is_used_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let write = |name: &str, customer: &str, epoch: u64| {
            let doc = json!({"deployment_id": name, "started_at_epoch": epoch, "customer_id": customer, "deployment_type": "ecs"});
            std::fs::write(dir.path().join(name), doc.to_string()).unwrap();
        };
        write(
            &format!("acme-ecs-{}-11.json", secs - 300),
            "acme",
            secs - 300,
        );
        write(
            &format!("acme-ecs-{}-12.json", secs - 60),
            "acme",
            secs - 60,
        );
        // Another customer whose name the glob would also match.
        write(
            &format!("acme-ecs-{}-13.json", secs - 10),
            "acme-ecs-1",
            secs - 10,
        );
        let (t, path) = take_script_start(dir.path(), DeploymentType::Ecs, "acme", now).unwrap();
        assert_eq!(t, at(secs - 60));
        assert!(!path.exists());
        let (t, _) = take_script_start(dir.path(), DeploymentType::Ecs, "acme", now).unwrap();
        assert_eq!(t, at(secs - 300));
        assert!(take_script_start(dir.path(), DeploymentType::Ecs, "acme", now).is_none());
        assert!(take_script_start(dir.path(), DeploymentType::Eks, "acme", now).is_none());
    }
}
