//! Relay's config directory: `credentials.json` (only with valid credentials) and
//! `config.yml` (always: relay refuses `--config DIR` without it).

use super::yaml::{comment, quote};
use super::{header, relay_mode};
use crate::fetch::Report;
use crate::secret::Secret;

pub const CREDENTIALS_FILE: &str = "credentials.json";
pub const CONFIG_FILE: &str = "config.yml";
pub const DEFAULT_UPSTREAM: &str = "https://sentry.io/";

/// What to write. `credentials_json` is `None` when there are no valid credentials:
/// an empty credentials.json is a parse error for relay, not "no credentials".
pub struct RelayFiles {
    pub credentials_json: Option<Secret>,
    pub config_yml: String,
}

pub struct RelayDir {
    /// The user's own config.yml; its `relay.mode` is set to match the credentials.
    pub config_template: Option<String>,
    pub upstream: String,
}

impl Default for RelayDir {
    fn default() -> Self {
        RelayDir {
            config_template: None,
            upstream: DEFAULT_UPSTREAM.into(),
        }
    }
}

impl RelayDir {
    pub fn plan(&self, report: &Report) -> anyhow::Result<RelayFiles> {
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
pub fn parse_upstream(text: &str) -> anyhow::Result<String> {
    let hint = "use an http(s) URL with no path, like https://sentry.io/ (--upstream / RELAY_UPSTREAM_URL)";
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
pub fn set_relay_mode(template: &str, mode: &str) -> anyhow::Result<String> {
    let lines: Vec<&str> = template.lines().collect();
    let is_top = |l: &str| !l.is_empty() && !l.starts_with([' ', '\t', '#']);
    // `relay:` alone on its line, or followed only by a comment.
    let opens_block = |l: &str| {
        l.strip_prefix("relay:")
            .map(str::trim_start)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('#'))
    };
    let Some(start) = lines.iter().position(|l| opens_block(l)) else {
        if lines.iter().any(|l| l.starts_with("relay:")) {
            anyhow::bail!("config template: write the relay section as a block (relay: then indented keys), not inline");
        }
        let mut out = template.trim_end().to_string();
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("relay:\n  mode: {mode}\n"));
        return Ok(out);
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| is_top(l))
        .map_or(lines.len(), |i| start + 1 + i);
    let indent = lines[start + 1..end]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .unwrap_or("  ")
        .to_string();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mode_line = format!("{indent}mode: {mode}");
    match (start + 1..end).find(|&i| {
        let l = lines[i];
        l.starts_with(&indent) && l[indent.len()..].starts_with("mode:")
    }) {
        Some(i) => out[i] = mode_line,
        None => out.insert(start + 1, mode_line),
    }
    Ok(out.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;
    use yaml_rust2::YamlLoader;

    #[test]
    fn found_plans_both_files() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let f = RelayDir::default().plan(&r).unwrap();
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
        let f = RelayDir::default()
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
    }
}
