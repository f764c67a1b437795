//! Which upstream relay will use (README, "One rule per question"): the one `config.yml`
//! names and the one `--verify-upstream` asks, so the answer checked is the answer relay
//! gets.
//!
//! Relay reads `config.yml`'s `relay.upstream`, and its own `RELAY_UPSTREAM_URL` overrides
//! the file (relay's `extract_config_env_vars`). This assumes that we see the
//! `RELAY_UPSTREAM_URL` relay's container sees, as the example chart and the ECS module
//! set it for both containers.

use anyhow::bail;

use crate::settings::{non_empty, parse_upstream, DEFAULT_UPSTREAM};

const OURS: &str = "--upstream / VAULT_FETCH_UPSTREAM_URL";
const RELAYS: &str = "RELAY_UPSTREAM_URL";

/// The upstream relay will use, normalised (scheme, host, port, as relay writes it), and
/// where it comes from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RelayUpstream {
    pub url: String,
    pub source: &'static str,
}

/// What a config.yml template says about the upstream.
#[derive(Debug, Clone, Copy)]
pub(super) enum Template<'a> {
    /// No template: we write config.yml, and its upstream.
    NotGiven,
    /// A template without `relay.upstream`: relay's default.
    NoUpstream,
    /// The template's `relay.upstream`.
    Upstream(&'a str),
}

/// The one rule:
/// 1. `RELAY_UPSTREAM_URL` when set (relay reads it over the file);
/// 2. else a template's `relay.upstream` (relay's default when it sets none): only the
///    template's mode is ever changed;
/// 3. else `--upstream` / `VAULT_FETCH_UPSTREAM_URL`, which the default config.yml gets;
/// 4. else `https://sentry.io/`.
///
/// `--upstream` / `VAULT_FETCH_UPSTREAM_URL` given with 1 or 2 must name the same upstream:
/// any other would be written nowhere relay reads, or asked while relay uses another, so
/// it is refused in one line, before any request.
pub(super) fn relay_upstream(
    ours: Option<String>,
    relays: Option<String>,
    template: Template<'_>,
) -> anyhow::Result<RelayUpstream> {
    let ours = non_empty(ours)
        .map(|u| parse_upstream(&u, OURS))
        .transpose()?;
    let relays = non_empty(relays)
        .map(|u| parse_upstream(&u, RELAYS))
        .transpose()?;
    let used = match (relays, template) {
        (Some(url), _) => RelayUpstream {
            url,
            source: "RELAY_UPSTREAM_URL, which relay reads over config.yml",
        },
        (None, Template::Upstream(text)) => RelayUpstream {
            url: parse_upstream(text, "the config template's relay.upstream")?,
            source: "the config template's relay.upstream (only a template's relay.mode is ever changed)",
        },
        (None, Template::NoUpstream) => RelayUpstream {
            url: DEFAULT_UPSTREAM.to_string(),
            source: "relay's default, as the config template sets no relay.upstream (only a template's relay.mode is ever changed)",
        },
        (None, Template::NotGiven) => {
            return Ok(match ours {
                Some(url) => RelayUpstream { url, source: OURS },
                None => RelayUpstream {
                    url: DEFAULT_UPSTREAM.to_string(),
                    source: "the default",
                },
            })
        }
    };
    match ours {
        Some(url) if url != used.url => bail!(
            "{OURS} {url} is not the upstream relay will use, {} from {}; pass that URL, change it where relay reads it (RELAY_UPSTREAM_URL or the template's relay.upstream), or leave {OURS} unset",
            used.url,
            used.source
        ),
        _ => Ok(used),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "https://a.example/";
    const B: &str = "https://b.example/";

    fn rule(ours: Option<&str>, relays: Option<&str>, t: Template<'_>) -> Result<String, String> {
        relay_upstream(ours.map(String::from), relays.map(String::from), t)
            .map(|u| u.url)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_combination_follows_the_one_rule() {
        use Template::{NoUpstream, NotGiven, Upstream};
        let ok = |u: &str| Ok(u.to_string());
        assert_eq!(rule(None, None, NotGiven), ok(DEFAULT_UPSTREAM));
        assert_eq!(rule(Some(B), None, NotGiven), ok(B));
        assert_eq!(rule(None, Some(B), NotGiven), ok(B));
        assert_eq!(rule(Some("https://b.example"), Some(B), NotGiven), ok(B));
        assert_eq!(rule(None, None, Upstream(A)), ok(A));
        assert_eq!(rule(Some(A), None, Upstream("https://a.example")), ok(A));
        assert_eq!(rule(None, Some(B), Upstream(A)), ok(B));
        assert_eq!(rule(Some(B), Some(B), Upstream(A)), ok(B));
        assert_eq!(rule(None, None, NoUpstream), ok(DEFAULT_UPSTREAM));
        assert_eq!(rule(Some(""), Some(""), NotGiven), ok(DEFAULT_UPSTREAM));
        for (ours, relays, t, names) in [
            (B, Some(A), NotGiven, "RELAY_UPSTREAM_URL"),
            (B, None, Upstream(A), "template's relay.upstream"),
            (A, Some(B), Upstream(A), "RELAY_UPSTREAM_URL"),
            (B, None, NoUpstream, "relay's default"),
        ] {
            let e = rule(Some(ours), relays, t).unwrap_err();
            assert!(e.contains(names) && e.contains(OURS), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = rule(None, Some("https://h/api/"), NotGiven).unwrap_err();
        assert!(e.contains("RELAY_UPSTREAM_URL"), "{e}");
        let e = rule(None, None, Upstream("https://u:hunter2@h/")).unwrap_err();
        assert!(e.contains("template") && !e.contains("hunter2"), "{e}");
    }
}
