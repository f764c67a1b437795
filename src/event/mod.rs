//! Deployment events: a transaction in Sentry for each deployment, as Runlayer's
//! `capture-deployment-completion.sh` sends it, from a DSN given or read from the vault secret.
//! The third client of the shared HTTP layer (after WorkOS Vault and the Sentry upstream).
//!
//! - `dsn`: parse and check a DSN, its envelope endpoint and auth header;
//! - `envelope`: the transaction, field for field, and its envelope;
//! - `answer`: what Sentry's answer means (rate limits included);
//! - `start`: when the deployment started (`--started-at`, a recorded start, the script's files);
//! - `send`: the one file that sends.

pub(crate) mod answer;
pub(crate) mod envelope;
mod send;
pub(crate) mod start;

pub(crate) use send::{send, Sent};

/// `ecs` or `eks`, the script's deployment types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeploymentType {
    Ecs,
    Eks,
}

impl DeploymentType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeploymentType::Ecs => "ecs",
            DeploymentType::Eks => "eks",
        }
    }
}

/// How the deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeploymentStatus {
    Success,
    Failure,
}

impl DeploymentStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Success => "success",
            DeploymentStatus::Failure => "failure",
        }
    }

    /// The trace context's status: Sentry's span status names.
    pub(crate) fn trace_status(self) -> &'static str {
        match self {
            DeploymentStatus::Success => "ok",
            DeploymentStatus::Failure => "internal_error",
        }
    }
}

/// What the user says about the deployment, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deployment {
    pub deployment_type: DeploymentType,
    pub customer_id: String,
    pub infra_version: String,
    pub environment: String,
    pub status: DeploymentStatus,
    pub error_message: Option<String>,
}

/// Sentry drops a tag value longer than this (relay-event-schema `protocol/tags.rs`: `max_chars = 200`).
pub(crate) const MAX_TAG_CHARS: usize = 200;
/// Sentry's longest environment name (relay-event-schema `Event::environment`, `max_chars = "environment"`: 64).
pub(crate) const MAX_ENVIRONMENT_CHARS: usize = 64;
/// An error message larger than this is not a message.
pub(crate) const MAX_ERROR_MESSAGE_BYTES: usize = 64 * 1024;

/// A value that becomes a tag: one line (Sentry drops a tag value with a line break), at most 200
/// characters; surrounding whitespace is dropped (Sentry trims tag values). `named` is the flag
/// and its variable, for the message.
pub(crate) fn tag_value(text: &str, named: &str) -> Result<String, String> {
    let value = text.trim();
    if value.is_empty() {
        return Err(format!("{named} is empty; give a non-empty value"));
    }
    if value.chars().any(crate::http::text::reshapes_a_line) {
        return Err(format!(
            "{named} contains a line break, control or bidirectional-override character; it becomes a Sentry tag, which must be one plain line"
        ));
    }
    if value.chars().count() > MAX_TAG_CHARS {
        return Err(format!(
            "{named} is longer than {MAX_TAG_CHARS} characters, which Sentry drops from a tag; shorten it"
        ));
    }
    Ok(value.to_string())
}

/// An environment name as Sentry takes one: a tag value, at most 64 characters, no `/`.
pub(crate) fn environment(text: &str, named: &str) -> Result<String, String> {
    let value = tag_value(text, named)?;
    if value.chars().count() > MAX_ENVIRONMENT_CHARS || value.contains('/') {
        return Err(format!(
            "{named} must be at most {MAX_ENVIRONMENT_CHARS} characters without '/', as Sentry's environment names are"
        ));
    }
    Ok(value)
}

/// An error message: any text (line breaks included) up to 64 KiB, sent as given.
pub(crate) fn error_message(text: &str, named: &str) -> Result<Option<String>, String> {
    if text.len() > MAX_ERROR_MESSAGE_BYTES {
        return Err(format!(
            "{named} is larger than {} KiB; give the first lines of the error",
            MAX_ERROR_MESSAGE_BYTES / 1024
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// The user this process runs as (`whoami`): the passwd name, else $USER, else the uid.
pub(crate) fn whoami() -> String {
    let uid = unsafe { libc::geteuid() };
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes into `pwd` and `buf` only, within the given length.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
        // SAFETY: pw_name points into `buf`, NUL-terminated by getpwuid_r.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        let name = name.to_string_lossy();
        if !name.is_empty() {
            return name.into_owned();
        }
    }
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| uid.to_string())
}

/// This host's name (`hostname`); "unknown" when it cannot be read.
pub(crate) fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_are_one_line_of_at_most_200_characters() {
        assert_eq!(
            tag_value("  acme \"corp\" ünï ", "--customer-id").unwrap(),
            "acme \"corp\" ünï"
        );
        for bad in [
            "",
            "  ",
            "a\nb",
            "a\u{2028}b",
            "a\u{85}b",
            "a\tb",
            "acme\u{202e}oc",
        ] {
            let e = tag_value(bad, "--customer-id").unwrap_err();
            assert!(e.starts_with("--customer-id"), "{bad:?}: {e}");
        }
        assert!(tag_value(&"é".repeat(200), "x").is_ok());
        assert!(tag_value(&"é".repeat(201), "x").is_err());
        assert!(environment("staging-eu", "--environment").is_ok());
        assert!(environment("a/b", "--environment").is_err());
        assert!(environment(&"e".repeat(65), "--environment").is_err());
    }

    #[test]
    fn error_messages_keep_their_lines() {
        assert_eq!(error_message("", "m").unwrap(), None);
        assert_eq!(
            error_message("a\nb\n", "m").unwrap().as_deref(),
            Some("a\nb\n")
        );
        assert!(error_message(&"x".repeat(10 * 1024), "m").is_ok());
        assert!(error_message(&"x".repeat(65 * 1024), "m").is_err());
    }

    #[test]
    fn who_and_where_are_never_empty() {
        assert!(!whoami().is_empty());
        assert!(!hostname().is_empty());
    }
}
