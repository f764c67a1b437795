//! Which proxy a request goes through (curl's rules over HTTPS_PROXY, HTTP_PROXY,
//! ALL_PROXY and NO_PROXY), checked before any request, and masked in every line shown.

use anyhow::bail;
use url::Url;

use crate::settings::{is_loopback_host, is_scheme, mask_userinfo};

/// A proxy setting and the environment variable it came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyChoice {
    pub variable: String,
    pub url: String,
}

/// The proxy to use for `target`, from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (either
/// case, lower case first as curl does) unless NO_PROXY matches. Loopback is never
/// proxied, as in Go and most CLIs, so a local dev server works behind a corporate
/// proxy setting.
pub fn proxy_for(target: &Url, env: &dyn Fn(&str) -> Option<String>) -> Option<ProxyChoice> {
    if is_loopback_host(target) {
        return None;
    }
    let get = |name: &str| {
        let lower = name.to_ascii_lowercase();
        let found = [lower.as_str(), name].into_iter().find_map(|n| {
            env(n)
                .filter(|v| !v.trim().is_empty())
                .map(|v| ProxyChoice {
                    variable: n.to_string(),
                    url: v.trim().to_string(),
                })
        });
        found
    };
    let proxy = if target.scheme() == "https" {
        get("HTTPS_PROXY")
    } else {
        get("HTTP_PROXY")
    }
    .or_else(|| get("ALL_PROXY"))?;
    let host = target
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    if let Some(no_proxy) = get("NO_PROXY") {
        if no_proxy_matches(&no_proxy.url, host, target.port_or_known_default()) {
            return None;
        }
    }
    Some(proxy)
}

/// Check a proxy setting before any request: an `http://` URL (or a bare `host:port`,
/// which curl also takes) with a host and a valid port, nothing else. A malformed one
/// is a configuration error naming the variable, not a network failure to retry.
pub fn parse_proxy(choice: &ProxyChoice) -> anyhow::Result<Url> {
    let var = &choice.variable;
    let shown = format!("{:?}", mask_userinfo(&choice.url));
    let fix = "use http://host:port (or http://user:password@host:port)";
    let text = match choice.url.split_once("://") {
        // Only a scheme's own letters are quoted as one: text before a "://" inside a
        // password is not a scheme, and is never shown.
        Some((scheme, _))
            if is_scheme(scheme) && !scheme.eq_ignore_ascii_case("http") => bail!(
            "the proxy in {var} uses {scheme}://; only http:// proxies are supported (HTTPS is still end to end through them)"
        ),
        Some(_) => choice.url.clone(),
        None => format!("http://{}", choice.url),
    };
    let url = Url::parse(&text)
        .map_err(|e| anyhow::anyhow!("{var} is not a valid proxy URL ({shown}: {e}); {fix}"))?;
    let host_ok = url.host_str().is_some_and(|h| !h.is_empty());
    let plain = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !host_ok || !plain || url.scheme() != "http" {
        bail!("{var} is not a valid proxy URL ({shown}: it needs a host and nothing after the port); {fix}");
    }
    Ok(url)
}

/// curl's NO_PROXY rules: comma-separated hosts, `*` for all, a leading dot or a bare
/// domain matches the domain and its subdomains, optional `:port`.
fn no_proxy_matches(list: &str, host: &str, port: Option<u16>) -> bool {
    let host = host.to_ascii_lowercase();
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (name, entry_port) = match entry.rsplit_once(':') {
                Some((n, p)) if !n.contains(':') || n.ends_with(']') => match p.parse::<u16>() {
                    Ok(p) => (n.to_string(), Some(p)),
                    Err(_) => (entry.clone(), None),
                },
                _ => (entry.clone(), None),
            };
            if entry_port.is_some() && entry_port != port {
                return false;
            }
            let name = name
                .trim_start_matches('.')
                .trim_start_matches('[')
                .trim_end_matches(']');
            host == name || host.ends_with(&format!(".{name}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    #[test]
    fn proxies_are_chosen_by_scheme_and_skipped_by_no_proxy() {
        let api = Url::parse("https://api.workos.com").unwrap();
        let e = env(&[("HTTPS_PROXY", "http://proxy:3128")]);
        assert_eq!(
            proxy_for(&api, &e).map(|c| c.url).as_deref(),
            Some("http://proxy:3128")
        );
        let e = env(&[
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:1"),
        ]);
        assert_eq!(
            proxy_for(&api, &e).map(|c| c.url).as_deref(),
            Some("http://lower:1")
        );
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "foo, .workos.com"),
        ]);
        assert_eq!(proxy_for(&api, &e), None);
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "workos.com"),
        ]);
        assert_eq!(proxy_for(&api, &e), None);
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "api.workos.com:8443"),
        ]);
        assert!(proxy_for(&api, &e).is_some());
        let e = env(&[("HTTPS_PROXY", "http://proxy:3128"), ("NO_PROXY", "*")]);
        assert_eq!(proxy_for(&api, &e), None);
        let e = env(&[("HTTP_PROXY", "http://proxy:3128")]);
        assert_eq!(proxy_for(&api, &e), None, "HTTP_PROXY is not for https");
        let e = env(&[("ALL_PROXY", "http://all:1")]);
        assert_eq!(
            proxy_for(&api, &e).map(|c| c.url).as_deref(),
            Some("http://all:1")
        );
    }

    #[test]
    fn the_variable_used_is_named() {
        let api = Url::parse("https://api.workos.com").unwrap();
        let e = env(&[("https_proxy", "http://:3128"), ("ALL_PROXY", "http://a:1")]);
        let c = proxy_for(&api, &e).unwrap();
        assert_eq!(c.variable, "https_proxy");
        let e = env(&[("ALL_PROXY", "http://a:1")]);
        assert_eq!(proxy_for(&api, &e).unwrap().variable, "ALL_PROXY");
    }

    #[test]
    fn a_password_is_never_quoted_as_a_scheme() {
        let choice = ProxyChoice {
            variable: "HTTPS_PROXY".into(),
            url: "user:hunter2://x@proxy:3128".into(),
        };
        let e = parse_proxy(&choice).unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("HTTPS_PROXY"), "{e}");
    }

    #[test]
    fn malformed_proxy_urls_are_configuration_errors() {
        let choice = |url: &str| ProxyChoice {
            variable: "HTTPS_PROXY".into(),
            url: url.into(),
        };
        for bad in [
            "http://:3128",
            "http://",
            "::::",
            "http://[::1",
            "foo bar",
            "http://proxy:99999",
            "http://proxy:3128/path",
            "http://proxy:port",
            "socks5://proxy:1080",
            "https://proxy:3128",
        ] {
            let e = parse_proxy(&choice(bad)).unwrap_err().to_string();
            assert!(e.contains("HTTPS_PROXY"), "{bad}: {e}");
            assert!(!e.contains('\n'), "{bad}: {e}");
        }
        let e = parse_proxy(&choice("http://u:hunter2@:1"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        for good in [
            "http://proxy:3128",
            "proxy.corp:3128",
            "http://u:p@proxy:3128/",
            "http://[::1]:3128",
            "HTTP://Proxy:8080",
        ] {
            assert!(parse_proxy(&choice(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn loopback_is_never_proxied() {
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("HTTP_PROXY", "http://proxy:3128"),
        ]);
        for u in [
            "http://127.0.0.1:9",
            "https://localhost:9",
            "http://[::1]:9",
        ] {
            assert_eq!(proxy_for(&Url::parse(u).unwrap(), &e), None, "{u}");
        }
    }

    #[test]
    fn proxy_credentials_are_redacted() {
        let r = mask_userinfo("http://user:hunter2@proxy:3128");
        assert!(!r.contains("hunter2") && !r.contains("user"), "{r}");
    }
}
