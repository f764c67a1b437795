//! Settings: everything a fetch needs, resolved once from flags, environment and (in
//! Terraform mode) the stdin query, and validated before any network traffic.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::secret::Secret;

pub(crate) const DEFAULT_API_BASE: &str = "https://api.workos.com";
pub const DEFAULT_SECRET_NAME: &str = "runlayer-sentry-credentials";
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest run a user may ask for; a deploy step that waits longer is stuck, not patient.
pub(crate) const MAX_DEADLINE: Duration = Duration::from_secs(600);
/// WorkOS limits object names to 200 characters.
pub(crate) const MAX_SECRET_NAME_LEN: usize = 200;

/// The one rule for every input we read (flag, environment variable, query key): an
/// empty value means "not set", so `SSL_CERT_FILE=` in a manifest falls back to the
/// default instead of failing.
pub(crate) fn non_empty<T: Blank>(value: Option<T>) -> Option<T> {
    value.filter(|v| !v.is_blank())
}

/// What [`non_empty`] treats as not set.
pub(crate) trait Blank {
    fn is_blank(&self) -> bool;
}

impl Blank for String {
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
}

impl Blank for Path {
    fn is_blank(&self) -> bool {
        self.as_os_str().is_empty()
    }
}

impl Blank for PathBuf {
    fn is_blank(&self) -> bool {
        self.as_os_str().is_empty()
    }
}

impl Blank for Secret {
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
}

impl<T: Blank + ?Sized> Blank for &T {
    fn is_blank(&self) -> bool {
        (**self).is_blank()
    }
}

/// Raw, unvalidated inputs. Each front end fills what it has; `resolve` checks them.
#[derive(Debug, Default, Clone)]
pub struct SettingsInput {
    pub api_key: Option<Secret>,
    pub api_base: Option<String>,
    pub secret_name: Option<String>,
    pub strict: Option<bool>,
    pub timeout_seconds: Option<String>,
    pub ca_file: Option<PathBuf>,
}

impl SettingsInput {
    /// Values set in `over` win; the rest keep what `self` had.
    pub(crate) fn overlay(self, over: SettingsInput) -> SettingsInput {
        SettingsInput {
            api_key: over.api_key.or(self.api_key),
            api_base: over.api_base.or(self.api_base),
            secret_name: over.secret_name.or(self.secret_name),
            strict: over.strict.or(self.strict),
            timeout_seconds: over.timeout_seconds.or(self.timeout_seconds),
            ca_file: over.ca_file.or(self.ca_file),
        }
    }
}

/// Validated settings for one run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub api_base: Url,
    pub secret_name: String,
    /// `None` is a valid state: the run reports `no_api_key` instead of failing.
    pub api_key: Option<Secret>,
    pub strict: bool,
    pub deadline: Duration,
    pub connect_timeout: Duration,
    pub ca_file: Option<PathBuf>,
}

/// A setting the user got wrong. Each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

fn err(msg: impl Into<String>) -> SettingsError {
    SettingsError(msg.into())
}

impl Settings {
    pub(crate) fn resolve(input: SettingsInput) -> Result<Settings, SettingsError> {
        let api_base = parse_api_base(input.api_base.as_deref().unwrap_or(DEFAULT_API_BASE))?;
        let secret_name = input
            .secret_name
            .unwrap_or_else(|| DEFAULT_SECRET_NAME.to_string());
        if secret_name == "." || secret_name == ".." {
            // URL parsers resolve dot segments even when percent-encoded: not one segment.
            return Err(err(
                "secret name must not be \".\" or \"..\"; set WORKOS_VAULT_SECRET_NAME or secret_name",
            ));
        }
        if secret_name.is_empty() || secret_name.chars().count() > MAX_SECRET_NAME_LEN {
            return Err(err(format!(
                "secret name must be 1 to {MAX_SECRET_NAME_LEN} characters; set WORKOS_VAULT_SECRET_NAME or secret_name"
            )));
        }
        let deadline = match input.timeout_seconds.as_deref() {
            None | Some("") => DEFAULT_DEADLINE,
            Some(text) => parse_timeout(text)?,
        };
        Ok(Settings {
            api_base,
            secret_name,
            api_key: check_api_key(input.api_key)?,
            strict: input.strict.unwrap_or(false),
            deadline,
            connect_timeout: CONNECT_TIMEOUT.min(deadline),
            ca_file: input.ca_file,
        })
    }
}

/// Surrounding whitespace (a trailing newline from a mounted file or `echo`) is
/// dropped; anything else that cannot go into an HTTP header is refused here, before
/// an HTTP library quotes the header in an error. The key itself is never echoed.
fn check_api_key(key: Option<Secret>) -> Result<Option<Secret>, SettingsError> {
    let Some(key) = key else { return Ok(None) };
    let trimmed = key.expose().trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(err(
            "the WorkOS API key contains a space, control or non-ASCII character, which an HTTP header cannot carry; check WORKOS_API_KEY / api_key for a stray pasted character",
        ));
    }
    Ok(Some(Secret::new(trimmed)))
}

/// Parse "true"/"false" (and the usual spellings) for flags that arrive as strings.
pub(crate) fn parse_bool(name: &str, text: &str) -> Result<bool, SettingsError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        // The value is not echoed: a misplaced key could be a secret.
        _ => Err(err(format!("{name} must be \"true\" or \"false\""))),
    }
}

// Values are not echoed (like every query value): a misplaced key could be a secret.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, SettingsError> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| err("timeout_seconds must be a number of seconds, e.g. \"30\""))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= MAX_DEADLINE.as_secs_f64()) {
        return Err(err(format!(
            "timeout_seconds must be more than 0 and at most {}",
            MAX_DEADLINE.as_secs()
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Accept https anywhere, and plain http only for loopback hosts (local dev server and
/// tests): the API key travels in a header, so it must not cross a network in clear.
pub(crate) fn parse_api_base(text: &str) -> Result<Url, SettingsError> {
    let trimmed = text.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| {
        err(format!(
            "api base {trimmed:?} is not a URL ({e}); use e.g. {DEFAULT_API_BASE}"
        ))
    })?;
    if url.host_str().is_none() {
        return Err(err(format!(
            "api base {trimmed:?} has no host; use e.g. {DEFAULT_API_BASE}"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(
            "api base must not contain user:password; the API key goes in WORKOS_API_KEY",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(err(format!(
            "api base {trimmed:?} must not have a query or fragment"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        "http" => Err(err(format!(
            "api base {trimmed:?} uses plain http to a non-loopback host, which would send the API key in clear; use https (http is allowed only for 127.0.0.1, ::1 and localhost)"
        ))),
        other => Err(err(format!(
            "api base scheme {other:?} is not supported; use https://"
        ))),
    }
}

pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply() {
        let s = Settings::resolve(SettingsInput::default()).unwrap();
        assert_eq!(s.api_base.as_str(), "https://api.workos.com/");
        assert_eq!(s.secret_name, DEFAULT_SECRET_NAME);
        assert_eq!(s.deadline, DEFAULT_DEADLINE);
        assert!(!s.strict);
        assert!(s.api_key.is_none());
    }

    #[test]
    fn http_only_for_loopback() {
        assert!(parse_api_base("http://127.0.0.1:8080").is_ok());
        assert!(parse_api_base("http://[::1]:8080/").is_ok());
        assert!(parse_api_base("http://localhost:1").is_ok());
        let e = parse_api_base("http://api.workos.com").unwrap_err();
        assert!(e.0.contains("use https"), "{e}");
        assert!(parse_api_base("ftp://x").is_err());
        assert!(parse_api_base("not a url").is_err());
        assert!(parse_api_base("https://u:p@h").is_err());
        assert!(parse_api_base("https://proxy.corp/workos/").is_ok());
    }

    #[test]
    fn timeouts_are_bounded() {
        let mut i = SettingsInput {
            timeout_seconds: Some("2.5".into()),
            ..Default::default()
        };
        assert_eq!(
            Settings::resolve(i.clone()).unwrap().deadline,
            Duration::from_millis(2500)
        );
        assert_eq!(
            Settings::resolve(i.clone()).unwrap().connect_timeout,
            Duration::from_millis(2500)
        );
        for bad in ["0", "-1", "abc", "NaN", "inf", "601"] {
            i.timeout_seconds = Some(bad.into());
            assert!(Settings::resolve(i.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlay_prefers_the_upper_layer() {
        let env = SettingsInput {
            api_base: Some("https://a".into()),
            secret_name: Some("x".into()),
            ..Default::default()
        };
        let q = SettingsInput {
            api_base: Some("https://b".into()),
            ..Default::default()
        };
        let merged = env.overlay(q);
        assert_eq!(merged.api_base.as_deref(), Some("https://b"));
        assert_eq!(merged.secret_name.as_deref(), Some("x"));
    }

    #[test]
    fn bools_parse() {
        assert!(parse_bool("strict", "TRUE").unwrap());
        assert!(!parse_bool("strict", "false").unwrap());
        assert!(parse_bool("strict", "maybe").is_err());
    }

    #[test]
    fn api_keys_are_trimmed_and_header_safe() {
        let with = |k: &str| {
            Settings::resolve(SettingsInput {
                api_key: Some(Secret::new(k)),
                ..Default::default()
            })
        };
        assert_eq!(
            with("  sk_test_abc\n").unwrap().api_key.unwrap().expose(),
            "sk_test_abc"
        );
        assert!(with(" \n").unwrap().api_key.is_none());
        for bad in [
            "sk_test_CANARY\u{1}",
            "sk_test CANARY",
            "sk_test_CANARY\u{a0}x",
            "sk_\u{200b}CANARY",
        ] {
            let e = with(bad).unwrap_err().0;
            assert!(e.contains("HTTP header") && !e.contains("CANARY"), "{e}");
        }
    }

    #[test]
    fn dot_names_are_refused() {
        for n in [".", ".."] {
            let i = SettingsInput {
                secret_name: Some(n.into()),
                ..Default::default()
            };
            assert!(Settings::resolve(i).is_err(), "{n}");
        }
    }

    #[test]
    fn secret_name_length_is_checked() {
        let i = SettingsInput {
            secret_name: Some("x".repeat(201)),
            ..Default::default()
        };
        assert!(Settings::resolve(i).is_err());
    }
}
