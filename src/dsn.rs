//! A Sentry DSN, `{scheme}://{public_key}[:{secret}]@{host}[:{port}]{path_prefix}/{project_id}`: the one
//! parser for every DSN a run reads (deployment events send to it; the upstream preflight asks for its
//! project by its key), and the envelope endpoint it names. The secret part (deprecated, unused for
//! sending) is dropped at parse time; no message ever shows the user part.

use url::Url;

use crate::settings::safe_in_transit;

/// A usable DSN: what sending needs, nothing else.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Dsn {
    /// The project's public key (the DSN's user part).
    pub public_key: String,
    /// `{scheme}://{host}[:{port}]`, for messages and the proxy choice.
    pub origin: String,
    /// Everything between the host and the project id, `""` or `/prefix`.
    pub path_prefix: String,
    pub project_id: String,
}

impl std::fmt::Debug for Dsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dsn({})", self.shown())
    }
}

impl Dsn {
    /// `https://host/7`, never the key: what messages name.
    pub(crate) fn shown(&self) -> String {
        format!("{}{}/{}", self.origin, self.path_prefix, self.project_id)
    }

    /// `POST` here: `{origin}{path_prefix}/api/{project_id}/envelope/`.
    pub(crate) fn envelope_url(&self) -> String {
        format!(
            "{}{}/api/{}/envelope/",
            self.origin, self.path_prefix, self.project_id
        )
    }

    /// The `X-Sentry-Auth` header's value.
    pub(crate) fn auth_header(&self) -> String {
        format!(
            "Sentry sentry_version=7, sentry_key={}, sentry_client=vault-fetch-relay/{}",
            self.public_key,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// A DSN to send to: its shape, and the transport rule (https, or http only to loopback).
/// Errors say what is wrong in words that never quote it (its user part may hold a secret).
pub(crate) fn parse(text: &str) -> Result<Dsn, String> {
    parse_shape(text, true)
}

/// The public key of a DSN that is named, not sent to (the preflight asks Sentry for the
/// project of this key): the same shape, any http(s) host.
pub(crate) fn public_key_of(text: &str) -> Result<String, String> {
    parse_shape(text, false).map(|d| d.public_key)
}

fn parse_shape(text: &str, sending: bool) -> Result<Dsn, String> {
    const SHAPE: &str = "expected https://<public key>@<host>[:port][/path]/<project id>";
    let text = text.trim();
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("it contains a space or control character; {SHAPE}"));
    }
    let url = Url::parse(text).map_err(|_| format!("it is not a URL; {SHAPE}"))?;
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!("it has no host; {SHAPE}"));
    };
    match url.scheme() {
        // The one transport rule: https, or http only to a loopback host.
        _ if safe_in_transit(&url) => {}
        "http" if !sending => {}
        "http" => {
            return Err(format!(
                "it uses plain http to {host}, a non-loopback host; use the https:// DSN Sentry shows (http is allowed only for 127.0.0.1, ::1 and localhost)"
            ))
        }
        other => return Err(format!("its scheme {other:?} is not http(s); {SHAPE}")),
    }
    let key = url.username();
    if key.is_empty() {
        return Err(format!("it has no public key (the part before @); {SHAPE}"));
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(
            "its public key (the part before @) is not a Sentry key (letters and digits)".into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("it has a query or fragment; {SHAPE}"));
    }
    let path = url.path();
    let (prefix, project) = path.rsplit_once('/').unwrap_or(("", path));
    if project.is_empty() || !project.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "it does not end with a numeric project id; {SHAPE}"
        ));
    }
    let origin = match url.port() {
        Some(port) => format!("{}://{}:{port}", url.scheme(), bracketed(&url)),
        None => format!("{}://{}", url.scheme(), bracketed(&url)),
    };
    Ok(Dsn {
        public_key: key.to_string(),
        origin,
        path_prefix: prefix.trim_end_matches('/').to_string(),
        project_id: project.to_string(),
    })
}

/// The host as a URL writes it (an IPv6 address in brackets).
fn bracketed(url: &Url) -> String {
    match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_port_and_path_prefix() {
        let d = parse("https://abc123@sentry.example.com:8443/sentry/7").unwrap();
        assert_eq!(d.public_key, "abc123");
        assert_eq!(
            d.envelope_url(),
            "https://sentry.example.com:8443/sentry/api/7/envelope/"
        );
        let d = parse("https://0123abcd@o42.ingest.us.sentry.io/4505").unwrap();
        assert_eq!(
            d.envelope_url(),
            "https://o42.ingest.us.sentry.io/api/4505/envelope/"
        );
        let d = parse("http://k@[::1]:9000/a/b/12").unwrap();
        assert_eq!(d.envelope_url(), "http://[::1]:9000/a/b/api/12/envelope/");
        assert!(d.auth_header().starts_with(
            "Sentry sentry_version=7, sentry_key=k, sentry_client=vault-fetch-relay/"
        ));
    }

    #[test]
    fn the_secret_part_is_dropped_and_never_shown() {
        let d = parse("https://pub:hunter2@o1.ingest.sentry.io/2").unwrap();
        assert_eq!(d.public_key, "pub");
        let all = format!(
            "{d:?} {} {} {}",
            d.shown(),
            d.envelope_url(),
            d.auth_header()
        );
        assert!(!all.contains("hunter2"), "{all}");
        assert!(!format!("{d:?}").contains("pub"));
    }

    #[test]
    fn bad_dsns_are_named_without_their_user_part() {
        for (bad, why) in [
            ("https://o1.ingest.sentry.io/2", "no public key"),
            ("https://k@o1.ingest.sentry.io/", "project id"),
            ("https://k@o1.ingest.sentry.io", "project id"),
            ("https://k@o1.ingest.sentry.io/2/", "project id"),
            ("https://k@o1.ingest.sentry.io/abc", "project id"),
            ("http://k@sentry.example.com/2", "plain http"),
            ("ftp://k@h/2", "scheme"),
            ("not a dsn", "space"),
            ("nota url", "space"),
            ("https://k@h/2?x=1", "query"),
            ("https://k\u{2028}@h/2", "control"),
            ("https://k-y@h/2", "not a Sentry key"),
            ("relative/2", "not a URL"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains("k@"), "{bad}: {e}");
        }
        for good in [
            "http://k@127.0.0.1:1/1",
            "http://k@localhost/1",
            " https://k:s@h/1 ",
        ] {
            assert!(parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_named_dsn_gives_its_key_whatever_the_transport() {
        assert_eq!(
            public_key_of("https://abc123@o1.ingest.sentry.io/7").as_deref(),
            Ok("abc123")
        );
        assert_eq!(
            public_key_of("http://abc123@sentry.internal/7").as_deref(),
            Ok("abc123")
        );
        for bad in [
            "https://o1.ingest.sentry.io/7",
            "nonsense",
            "https://k@h/",
            "https://abc@h/notanumber?x=1",
            "https://abc@h/7?x=1",
        ] {
            assert!(public_key_of(bad).is_err(), "{bad}");
        }
    }
}
