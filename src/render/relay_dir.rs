//! Relay's config directory: `credentials.json` (only with valid credentials) and
//! `config.yml` (always: relay refuses `--config DIR` without it).

use super::yaml::{comment, quote};
use super::{header, relay_mode};
use crate::fetch::Report;
use crate::secret::Secret;

pub(crate) const CREDENTIALS_FILE: &str = "credentials.json";
pub(crate) const CONFIG_FILE: &str = "config.yml";
pub(crate) const DEFAULT_UPSTREAM: &str = "https://sentry.io/";

/// What to write. `credentials_json` is `None` when there are no valid credentials:
/// an empty credentials.json is a parse error for relay, not "no credentials".
pub(crate) struct RelayFiles {
    pub credentials_json: Option<Secret>,
    pub config_yml: String,
}

pub(crate) struct RelayDir {
    /// The user's own config.yml; its `relay.mode` is set to match the credentials.
    pub config_template: Option<String>,
    pub upstream: String,
}

impl RelayDir {
    pub(crate) fn plan(&self, report: &Report) -> anyhow::Result<RelayFiles> {
        let mode = relay_mode(report);
        let body = match &self.config_template {
            Some(template) => set_relay_mode(template, mode)?,
            None => format!(
                "relay:\n  mode: {mode}\n  upstream: {}\n  host: 0.0.0.0\n  port: 3000\n",
                quote(&self.upstream)
            ),
        };
        let mut config_yml = comment(&header(report));
        if report.credentials().is_none() {
            config_yml.push_str(&comment(&format!(
                "credentials unavailable: {}",
                report.reason()
            )));
            config_yml.push_str(&comment(
                "relay runs in proxy mode: it forwards events without credentials",
            ));
        }
        config_yml.push_str(&body);
        let credentials_json = report.credentials().map(|c| {
            let doc = serde_json::json!({
                "secret_key": c.secret_key.expose(),
                "public_key": c.public_key,
                "id": c.relay_id,
            });
            Secret::new(format!("{doc:#}\n"))
        });
        Ok(RelayFiles {
            credentials_json,
            config_yml,
        })
    }
}

/// Check an upstream the way relay will: an http(s) URL with a host and no path,
/// user info, query or fragment (relay refuses those at start, long after the init
/// container said all was well). Returns it normalised (`https://sentry.io/`).
pub(crate) fn parse_upstream(text: &str) -> anyhow::Result<String> {
    let hint = "use an http(s) URL with no path, like https://sentry.io/ (--upstream / VAULT_FETCH_UPSTREAM_URL)";
    let url = url::Url::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("upstream {text:?} is not a URL ({e}); {hint}"))?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        anyhow::bail!("upstream {text:?} is not accepted by relay; {hint}");
    }
    Ok(url.to_string())
}

/// Set `mode:` in the top-level `relay:` block of a block-style YAML template, adding
/// the key (or the block) when absent. Line-based on purpose: the user's comments and
/// layout survive, and templates are small and hand-written.
pub(crate) fn set_relay_mode(template: &str, mode: &str) -> anyhow::Result<String> {
    let refuse = |why: &str| {
        anyhow::anyhow!(
            "config template: {why}; write a block mapping with `relay:` on its own line and `mode: <value>` on one line under it"
        )
    };
    let template = template.strip_prefix('\u{feff}').unwrap_or(template);
    let lines: Vec<&str> = template.lines().collect();
    let is_content = |l: &&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let is_top = |l: &str| !l.is_empty() && !l.starts_with([' ', '\t', '#']);
    // The top-level key, in any of YAML's spellings: relay, "relay", 'relay'.
    let top_key = |l: &str| -> Option<String> {
        let (key, _) = l.split_once(':')?;
        let key = key.trim_end();
        let unquoted = key
            .strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
            .unwrap_or(key);
        Some(unquoted.to_string())
    };
    let top: Vec<usize> = (0..lines.len()).filter(|&i| is_top(lines[i])).collect();
    if top
        .iter()
        .any(|&i| lines[i].starts_with("---") || lines[i].starts_with("..."))
    {
        return Err(refuse("only a single YAML document is supported"));
    }
    if let Some(&i) = top.iter().find(|&&i| {
        top_key(lines[i]).is_none() || lines[i].starts_with(['-', '[', '{', '&', '*', '!'])
    }) {
        return Err(refuse(&format!(
            "line {} is not a `key:` of a top-level mapping",
            i + 1
        )));
    }
    let relay: Vec<usize> = top
        .iter()
        .copied()
        .filter(|&i| top_key(lines[i]).as_deref() == Some("relay"))
        .collect();
    let start = match relay.as_slice() {
        [] => {
            let mut out = template.trim_end().to_string();
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("relay:\n  mode: {mode}\n"));
            return Ok(out);
        }
        [one] => *one,
        _ => return Err(refuse("`relay:` appears more than once")),
    };
    let rest = lines[start].split_once(':').map_or("", |(_, r)| r.trim());
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err(refuse("the relay section is written inline"));
    }
    let end = top
        .iter()
        .copied()
        .find(|&i| i > start)
        .unwrap_or(lines.len());
    let indent = lines[start + 1..end]
        .iter()
        .find(|l| is_content(l))
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .unwrap_or("  ")
        .to_string();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mode_line = format!("{indent}mode: {mode}");
    let modes: Vec<usize> = (start + 1..end)
        .filter(|&i| {
            lines[i]
                .strip_prefix(indent.as_str())
                .is_some_and(|l| l.starts_with("mode:"))
        })
        .collect();
    match modes.as_slice() {
        [] => out.insert(start + 1, mode_line),
        [i] => {
            // The old value must sit on this line: a value continued below (or a block
            // scalar) would survive the edit.
            let old = lines[*i][indent.len() + "mode:".len()..].trim();
            let continued = lines.get(i + 1).is_some_and(|next| {
                *i + 1 < end
                    && next.len() - next.trim_start().len() > indent.len()
                    && is_content(next)
            });
            if old.is_empty() || old.starts_with(['|', '>']) || continued {
                return Err(refuse("relay.mode's value is not on the `mode:` line"));
            }
            out[*i] = mode_line;
        }
        _ => return Err(refuse("relay.mode appears more than once")),
    }
    Ok(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;
    use yaml_rust2::YamlLoader;

    /// What `init` builds without --config-template or --upstream.
    fn default_dir() -> RelayDir {
        RelayDir {
            config_template: None,
            upstream: DEFAULT_UPSTREAM.into(),
        }
    }

    #[test]
    fn found_plans_both_files() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let f = default_dir().plan(&r).unwrap();
        let creds: serde_json::Value =
            serde_json::from_str(f.credentials_json.unwrap().expose()).unwrap();
        assert_eq!(creds["secret_key"], c.secret_key.expose());
        assert_eq!(creds["id"], c.relay_id.as_str());
        assert_eq!(creds.as_object().unwrap().len(), 3);
        let y = &YamlLoader::load_from_str(&f.config_yml).unwrap()[0];
        assert_eq!(y["relay"]["mode"].as_str(), Some("managed"));
        assert_eq!(y["relay"]["host"].as_str(), Some("0.0.0.0"));
        assert_eq!(y["relay"]["upstream"].as_str(), Some("https://sentry.io/"));
    }

    #[test]
    fn missing_plans_proxy_config_only() {
        let f = default_dir()
            .plan(&fixtures::missing(Status::Unauthorized))
            .unwrap();
        assert!(f.credentials_json.is_none());
        let y = &YamlLoader::load_from_str(&f.config_yml).unwrap()[0];
        assert_eq!(y["relay"]["mode"].as_str(), Some("proxy"));
    }

    #[test]
    fn upstreams_are_checked_like_relay_does() {
        assert_eq!(
            parse_upstream(" https://sentry.io ").unwrap(),
            "https://sentry.io/"
        );
        assert_eq!(
            parse_upstream("http://relay.internal:3000/").unwrap(),
            "http://relay.internal:3000/"
        );
        for bad in [
            "https://sentry.io/api/123/",
            "ftp://x",
            "not a url",
            "https://x:99999/",
            "https://u:p@h/",
            "https://h/?q=1",
        ] {
            assert!(parse_upstream(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_get_their_mode_set() {
        let t = "# mine\nrelay:\n    upstream: https://sentry.example/\n    mode: managed # keep\n    port: 3001\nlogging:\n  level: info\n";
        let out = set_relay_mode(t, "proxy").unwrap();
        let y = &YamlLoader::load_from_str(&out).unwrap()[0];
        assert_eq!(y["relay"]["mode"].as_str(), Some("proxy"));
        assert_eq!(y["relay"]["port"].as_i64(), Some(3001));
        assert_eq!(y["logging"]["level"].as_str(), Some("info"));
        assert!(out.starts_with("# mine\n"));

        let out = set_relay_mode("relay:\n  port: 1\n", "managed").unwrap();
        assert_eq!(out, "relay:\n  mode: managed\n  port: 1\n");
        let out = set_relay_mode("logging:\n  level: debug\n", "proxy").unwrap();
        let y = &YamlLoader::load_from_str(&out).unwrap()[0];
        assert_eq!(y["relay"]["mode"].as_str(), Some("proxy"));
        assert_eq!(y["logging"]["level"].as_str(), Some("debug"));
        assert!(set_relay_mode("relay: {mode: managed}\n", "proxy").is_err());
        let out = set_relay_mode("relay:  # mine\n  mode: managed\n", "proxy").unwrap();
        assert_eq!(out, "relay:  # mine\n  mode: proxy\n");
        for spelled in [
            "\"relay\":\n  mode: managed\n",
            "'relay':\n  mode: managed\n",
            "relay :\n  mode: managed\n",
            "\u{feff}relay:\n  mode: managed\n",
        ] {
            let out = set_relay_mode(spelled, "proxy").unwrap();
            let y = &YamlLoader::load_from_str(&out).unwrap()[0];
            assert_eq!(
                y["relay"]["mode"].as_str(),
                Some("proxy"),
                "{spelled:?} -> {out:?}"
            );
            assert_eq!(out.matches("mode:").count(), 1, "{out}");
        }
        for refused in [
            "relay:\n  mode:\n    managed\n",
            "relay:\n  mode: >-\n    managed\n",
            "- relay\n",
            "relay:\n  mode: a\nrelay:\n  mode: b\n",
            "relay:\n  mode: a\n---\nrelay:\n  mode: b\n",
            "relay:\n  mode: a\n  mode: b\n",
        ] {
            assert!(set_relay_mode(refused, "proxy").is_err(), "{refused:?}");
        }
    }
}
