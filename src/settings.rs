//! Settings: everything a fetch needs, resolved once from flags, environment and (in
//! Terraform mode) the stdin query, and validated before any network traffic.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::secret::Secret;

pub(crate) const DEFAULT_API_BASE: &str = "https://api.workos.com";
pub use vfr_credentials::DEFAULT_SECRET_NAME;
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

/// Where the API key came from (or was looked for and found empty). Messages name it,
/// so a user fixes the source actually used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The Terraform query's `api_key`.
    Query,
    /// `--api-key-file FILE`.
    FileFlag(PathBuf),
    /// A file named by a variable (`VAULT_FETCH_API_KEY_FILE` or `WORKOS_API_KEY_FILE`).
    FileEnv(&'static str, PathBuf),
    /// `WORKOS_API_KEY`.
    Env,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Query => f.write_str("the Terraform query's api_key"),
            KeySource::FileFlag(p) => write!(f, "--api-key-file {}", p.display()),
            KeySource::FileEnv(var, p) => write!(f, "the file {var} names ({})", p.display()),
            KeySource::Env => f.write_str("WORKOS_API_KEY"),
        }
    }
}

/// Which front end a run serves; it decides the words a hint uses (a query key in
/// Terraform mode, a flag and its variable on the command line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FrontEnd {
    #[default]
    Cli,
    Terraform,
}

/// A setting a hint can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Knob {
    ApiBase,
    SecretName,
    Timeout,
    ApiKey,
}

impl FrontEnd {
    /// How the user changes `knob` in this front end.
    pub(crate) fn name(self, knob: Knob) -> &'static str {
        match (self, knob) {
            (FrontEnd::Terraform, Knob::ApiBase) => {
                "the query key api_base (or VAULT_FETCH_API_BASE)"
            }
            (FrontEnd::Terraform, Knob::SecretName) => {
                "the query key secret_name (or VAULT_FETCH_SECRET_NAME)"
            }
            (FrontEnd::Terraform, Knob::Timeout) => {
                "the query key timeout_seconds (or VAULT_FETCH_TIMEOUT_SECONDS)"
            }
            (FrontEnd::Terraform, Knob::ApiKey) => {
                "pass api_key in the Terraform query or set WORKOS_API_KEY"
            }
            (FrontEnd::Cli, Knob::ApiBase) => "--api-base / VAULT_FETCH_API_BASE",
            (FrontEnd::Cli, Knob::SecretName) => "--secret-name / VAULT_FETCH_SECRET_NAME",
            (FrontEnd::Cli, Knob::Timeout) => "--timeout-seconds / VAULT_FETCH_TIMEOUT_SECONDS",
            (FrontEnd::Cli, Knob::ApiKey) => {
                "set WORKOS_API_KEY or pass --api-key-file FILE (or VAULT_FETCH_API_KEY_FILE)"
            }
        }
    }
}

/// Raw, unvalidated inputs. Each front end fills what it has; `resolve` checks them.
#[derive(Debug, Default, Clone)]
pub struct SettingsInput {
    pub api_key: Option<Secret>,
    /// Set whenever a source was given, even one that held nothing.
    pub key_source: Option<KeySource>,
    pub api_base: Option<String>,
    pub secret_name: Option<String>,
    pub strict: Option<bool>,
    pub timeout_seconds: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub front_end: FrontEnd,
}

impl SettingsInput {
    /// Values set in `over` win; the rest keep what `self` had. The front end is
    /// `over`'s (the query makes a run a Terraform run).
    pub(crate) fn overlay(self, over: SettingsInput) -> SettingsInput {
        let (api_key, key_source) = match over.api_key {
            Some(k) => (Some(k), over.key_source.or(Some(KeySource::Query))),
            None => (self.api_key, self.key_source),
        };
        SettingsInput {
            api_key,
            key_source,
            api_base: over.api_base.or(self.api_base),
            secret_name: over.secret_name.or(self.secret_name),
            strict: over.strict.or(self.strict),
            timeout_seconds: over.timeout_seconds.or(self.timeout_seconds),
            ca_file: over.ca_file.or(self.ca_file),
            // The caller (the front end that overlays) decides the words hints use.
            front_end: self.front_end,
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
    /// The source of `api_key`, or the source that was given but empty.
    pub key_source: Option<KeySource>,
    pub strict: bool,
    pub deadline: Duration,
    pub connect_timeout: Duration,
    pub ca_file: Option<PathBuf>,
    pub front_end: FrontEnd,
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
        let fe = input.front_end;
        let api_base = parse_api_base(input.api_base.as_deref().unwrap_or(DEFAULT_API_BASE))
            .map_err(|e| err(format!("{e} ({})", fe.name(Knob::ApiBase))))?;
        let secret_name = input
            .secret_name
            .unwrap_or_else(|| DEFAULT_SECRET_NAME.to_string());
        if secret_name == "." || secret_name == ".." {
            // URL parsers resolve dot segments even when percent-encoded: not one segment.
            return Err(err(format!(
                "secret name must not be \".\" or \"..\"; set {}",
                fe.name(Knob::SecretName)
            )));
        }
        if secret_name.is_empty() || secret_name.chars().count() > MAX_SECRET_NAME_LEN {
            return Err(err(format!(
                "secret name must be 1 to {MAX_SECRET_NAME_LEN} characters; set {}",
                fe.name(Knob::SecretName)
            )));
        }
        let deadline = match input.timeout_seconds.as_deref() {
            None | Some("") => DEFAULT_DEADLINE,
            Some(text) => {
                parse_timeout(text).map_err(|e| err(format!("{e} ({})", fe.name(Knob::Timeout))))?
            }
        };
        Ok(Settings {
            api_base,
            secret_name,
            api_key: check_api_key(input.api_key, input.key_source.as_ref())?,
            key_source: input.key_source,
            strict: input.strict.unwrap_or(false),
            deadline,
            connect_timeout: CONNECT_TIMEOUT.min(deadline),
            ca_file: input.ca_file,
            front_end: fe,
        })
    }

    /// The source of the API key in use, for hints ("check that X holds a valid key").
    pub(crate) fn key_source_name(&self) -> String {
        self.key_source
            .as_ref()
            .map_or_else(|| "WORKOS_API_KEY".to_string(), |s| s.to_string())
    }
}

/// Surrounding whitespace (a trailing newline from a mounted file or `echo`) is
/// dropped; anything else that cannot go into an HTTP header is refused here, before
/// an HTTP library quotes the header in an error. The key itself is never echoed.
fn check_api_key(
    key: Option<Secret>,
    source: Option<&KeySource>,
) -> Result<Option<Secret>, SettingsError> {
    let Some(key) = key else { return Ok(None) };
    let trimmed = key.expose().trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
        let source = source.map_or_else(|| "the API key".to_string(), |s| s.to_string());
        return Err(err(format!(
            "the WorkOS API key contains a space, control or non-ASCII character, which an HTTP header cannot carry; check {source} for a stray pasted character"
        )));
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
        .map_err(|_| err("the timeout must be a number of seconds, e.g. \"30\""))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= MAX_DEADLINE.as_secs_f64()) {
        return Err(err(format!(
            "the timeout must be more than 0 and at most {} seconds",
            MAX_DEADLINE.as_secs()
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration: seconds (`300`, `1.5`) or with a unit (`500ms`, `90s`, `5m`, `1h`), up to a day.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "{text:?} is not a duration; use e.g. 300, 90s, 5m or 1h"
            ))
        }
    };
    let secs: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; use e.g. 300, 90s, 5m or 1h"))?;
    let secs = secs * scale;
    if !(secs.is_finite() && (0.0..=86_400.0).contains(&secs)) {
        return Err(format!("{text:?} is out of range (0 to 24 h)"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Accept https anywhere, and plain http only for loopback hosts (local dev server and
/// tests): the API key travels in a header, so it must not cross a network in clear.
pub(crate) fn parse_api_base(text: &str) -> Result<Url, SettingsError> {
    let trimmed = text.trim().trim_end_matches('/');
    let shown = mask_userinfo(trimmed);
    let url = Url::parse(trimmed).map_err(|e| {
        err(format!(
            "api base {shown:?} is not a URL ({e}); use e.g. {DEFAULT_API_BASE}"
        ))
    })?;
    if url.host_str().is_none() {
        return Err(err(format!(
            "api base {shown:?} has no host; use e.g. {DEFAULT_API_BASE}"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(
            "api base must not contain user:password; the API key goes in WORKOS_API_KEY or a key file",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(err(format!(
            "api base {shown:?} must not have a query or fragment"
        )));
    }
    match url.scheme() {
        _ if safe_in_transit(&url) => Ok(url),
        "http" => Err(err(format!(
            "api base {shown:?} uses plain http to a non-loopback host, which would send the API key in clear; use https (http is allowed only for 127.0.0.1, ::1 and localhost)"
        ))),
        other => Err(err(format!(
            "api base scheme {other:?} is not supported; use https://"
        ))),
    }
}

/// The one transport rule for every URL a secret or a signed request goes to (the API
/// base, the Sentry upstream): https, or plain http only to a loopback host (the dev
/// server, tests), so nothing crosses a network in clear.
pub(crate) fn safe_in_transit(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(url))
}

/// Where relay sends by default (its own default upstream).
pub(crate) const DEFAULT_UPSTREAM: &str = "https://sentry.io/";

/// Check an upstream the way relay parses one (relay-config `upstream.rs`,
/// `UpstreamDescriptor::from_str`): an http or https URL with a host, the path `/` (a URL
/// without a path has it), and no query or an empty one (`/?`); a fragment is ignored.
/// Relay refuses anything else at start, long after the init container said all was
/// well. User info, which relay ignores, is refused too: it can only be a mistake.
/// Returns what relay uses, scheme, host and port, the way relay writes it
/// (`https://sentry.io/`).
/// `named_by` is where the text came from (a flag and its variable, a template), for
/// messages.
pub(crate) fn parse_upstream(text: &str, named_by: &str) -> anyhow::Result<String> {
    let hint = format!("use an http(s) URL with no path, like https://sentry.io/ ({named_by})");
    let shown = mask_userinfo(text);
    let mut url = url::Url::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("upstream {shown:?} is not a URL ({e}); {hint}"))?;
    let relay_reads_it = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.path() == "/"
        && matches!(url.query(), None | Some(""));
    if !relay_reads_it {
        anyhow::bail!("upstream {shown:?} is not accepted by relay; {hint}");
    }
    if !url.username().is_empty() || url.password().is_some() {
        anyhow::bail!(
            "upstream {shown:?} holds user info (user:password@), which relay ignores; remove it; {hint}"
        );
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.to_string())
}

/// An upstream URL as relay takes one (`https://sentry.io/`, `https://oNNN.ingest.us.sentry.io`),
/// with the WorkOS client's transport rule on top: https, or http to a loopback host.
pub(crate) fn parse_upstream_url(text: &str, named_by: &str) -> anyhow::Result<Url> {
    let url = Url::parse(&parse_upstream(text, named_by)?)?;
    match safe_in_transit(&url) {
        true => Ok(url),
        false => anyhow::bail!(
            "upstream {:?} uses plain http to a non-loopback host; use https (http is allowed only for 127.0.0.1, ::1 and localhost) ({named_by})",
            mask_userinfo(text.trim())
        ),
    }
}

/// A URL, or what a user meant as one, fit for a message: everything between the scheme
/// and the last `@` (user info: a user name, a password) becomes `***`. It works on the
/// text, so it also masks what no URL parser accepts (`https://u:p@` without a host, a
/// bad port, a password holding `/` or `#`) and may mask more than user info when an
/// `@` comes later. The one way every message and log line quotes a URL a user gave:
/// the API base, the upstream, a DSN, a proxy.
pub(crate) fn mask_userinfo(text: &str) -> String {
    let Some(at) = text.rfind('@') else {
        return text.to_string();
    };
    // After the scheme only when what precedes "://" is one: a "://" inside a password
    // must not leave the text before it shown.
    let start = match text[..at].find("://") {
        Some(i) if is_scheme(&text[..i]) => i + 3,
        _ => 0,
    };
    format!("{}***{}", &text[..start], &text[at..])
}

/// RFC 3986's scheme: a letter, then letters, digits, `+`, `-` or `.`.
pub(crate) fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
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
    fn user_info_is_masked_in_every_shape() {
        for (text, shown) in [
            ("https://u:hunter2@h/", "https://***@h/"),
            ("https://u:hunter2@", "https://***@"),
            ("http://u:hunter2@h:99999", "http://***@h:99999"),
            ("https://u:hunt/er2@h/", "https://***@h/"),
            ("https://u:hunt#er2@h/", "https://***@h/"),
            ("u:hunter2@proxy:3128", "***@proxy:3128"),
            (
                "https://k@o1.ingest.sentry.io/7",
                "https://***@o1.ingest.sentry.io/7",
            ),
            ("https://sentry.io/", "https://sentry.io/"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(mask_userinfo(text), shown, "{text}");
        }
        for bad in [
            "https://u:hunter2@",
            "https://u:hunter2@h:1?x",
            "http://u:hunter2@example.com",
        ] {
            let e = parse_api_base(bad).unwrap_err().0;
            assert!(!e.contains("hunter2") && !e.contains("u:"), "{e}");
        }
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
    const FLAG: &str = "--upstream / VAULT_FETCH_UPSTREAM_URL";

    #[test]
    fn upstream_urls_follow_the_transport_rules() {
        for good in [
            "https://o1.ingest.us.sentry.io",
            "https://sentry.io/",
            "http://127.0.0.1:9000",
            "http://[::1]:1",
            "http://localhost:3000/",
        ] {
            assert!(parse_upstream_url(good, FLAG).is_ok(), "{good}");
        }
        for (bad, words) in [
            ("http://sentry.io", "plain http"),
            ("not a url", "not a URL"),
            ("https://u:p@sentry.io", "user info"),
            ("https://sentry.io/api/0/", "no path"),
            ("ftp://sentry.io", "not accepted by relay"),
        ] {
            let e = parse_upstream_url(bad, FLAG).unwrap_err().to_string();
            assert!(e.contains(words), "{bad}: {e}");
        }
    }

    #[test]
    fn upstreams_are_checked_like_relay_does() {
        assert_eq!(
            parse_upstream(" https://sentry.io ", FLAG).unwrap(),
            "https://sentry.io/"
        );
        assert_eq!(
            parse_upstream("http://relay.internal:3000/", FLAG).unwrap(),
            "http://relay.internal:3000/"
        );
        // What relay's parser takes: an empty query, a fragment (ignored), a default port.
        for (given, relay_uses) in [
            ("https://sentry.io/?", "https://sentry.io/"),
            ("https://sentry.io?", "https://sentry.io/"),
            ("https://sentry.io/#frag", "https://sentry.io/"),
            ("https://sentry.io/?#", "https://sentry.io/"),
            ("https://sentry.io:443", "https://sentry.io/"),
            ("HTTP://[::1]:80/", "http://[::1]/"),
        ] {
            assert_eq!(parse_upstream(given, FLAG).unwrap(), relay_uses, "{given}");
        }
        for bad in [
            "https://sentry.io/api/123/",
            "ftp://x",
            "not a url",
            "https://x:99999/",
            "https://u:p@h/",
            "https://u@h/",
            "https://h/?q=1",
            "https://h/?=",
            "https://h/a/#x",
        ] {
            assert!(parse_upstream(bad, FLAG).is_err(), "{bad}");
        }
    }
}
