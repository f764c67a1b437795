//! How requests reach WorkOS: the rustls configuration (webpki roots plus an optional
//! PEM bundle) and the proxy choice. Built once per run.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use url::Url;

use crate::settings::{is_loopback_host, non_empty};

/// rustls client configuration trusting the Mozilla roots and, when given, every
/// certificate in `extra_ca_file` (corporate TLS-inspecting proxies, private CAs).
pub(crate) fn build_tls_config(
    extra_ca_file: Option<&Path>,
) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca_file {
        // System bundles are a few hundred KiB; 16 MiB is generous and still bounded.
        let pem = crate::files::read_input(
            path,
            16 * 1024 * 1024,
            "the CA bundle (--ca-file / SSL_CERT_FILE)",
        )?;
        let mut added = 0usize;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.with_context(|| {
                format!(
                    "CA bundle {} is not valid PEM; expected BEGIN CERTIFICATE blocks",
                    path.display()
                )
            })?;
            roots.add(cert).with_context(|| {
                format!(
                    "CA bundle {} holds a certificate rustls cannot use as a trust anchor",
                    path.display()
                )
            })?;
            added += 1;
        }
        if added == 0 {
            bail!(
                "CA bundle {} holds no certificates; expected PEM BEGIN CERTIFICATE blocks",
                path.display()
            );
        }
        log::debug!(
            "trusting {added} extra CA certificate(s) from {}",
            path.display()
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup failed: no usable protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The proxy URL to use for `target`, from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY
/// (either case) unless NO_PROXY matches. Loopback is never proxied, as in Go and
/// most CLIs, so a local dev server works behind a corporate proxy setting.
pub(crate) fn proxy_for(target: &Url, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if is_loopback_host(target) {
        return None;
    }
    let get = |name: &str| {
        non_empty(
            env(&name.to_ascii_lowercase())
                .or_else(|| env(name))
                .map(|v| v.trim().to_string()),
        )
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
        if no_proxy_matches(&no_proxy, host, target.port_or_known_default()) {
            return None;
        }
    }
    Some(proxy.trim().to_string())
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

/// A proxy URL for log lines: credentials in it are masked.
pub(crate) fn redact_proxy(proxy: &str) -> String {
    match Url::parse(proxy) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => String::from("(unparsable proxy URL)"),
    }
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
        assert_eq!(proxy_for(&api, &e).as_deref(), Some("http://proxy:3128"));
        let e = env(&[
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:1"),
        ]);
        assert_eq!(proxy_for(&api, &e).as_deref(), Some("http://lower:1"));
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
        assert_eq!(proxy_for(&api, &e).as_deref(), Some("http://all:1"));
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
        let r = redact_proxy("http://user:hunter2@proxy:3128");
        assert!(!r.contains("hunter2") && !r.contains("user"), "{r}");
    }

    #[test]
    fn bad_ca_files_are_explained() {
        let dir = std::env::temp_dir().join(format!("vfr-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "nothing here").unwrap();
        let e = build_tls_config(Some(&empty)).unwrap_err().to_string();
        assert!(e.contains("holds no certificates"), "{e}");
        let e = build_tls_config(Some(&dir.join("missing.pem")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read the CA bundle"), "{e}");
        assert!(build_tls_config(None).is_ok());
    }
}
