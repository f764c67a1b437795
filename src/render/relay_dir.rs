//! Relay's config directory: `credentials.json` (only with valid credentials) and
//! `config.yml` (always: relay refuses `--config DIR` without it).

use super::config_template::set_relay_mode;
use super::yaml::{comment, quote};
use super::{header, relay_mode, FileChange, RenderFiles};
use crate::preflight::Delivery;
use crate::secret::Secret;
use crate::settings::DEFAULT_UPSTREAM;

pub(crate) const CREDENTIALS_FILE: &str = "credentials.json";
pub(crate) const CONFIG_FILE: &str = "config.yml";

/// Relay's config directory for a report. The config body for each mode is made when
/// the target is built, so a template that cannot be rewritten is refused before any
/// request is made, and rendering itself cannot fail.
pub struct RelayDir {
    managed_config: String,
    proxy_config: String,
}

impl Default for RelayDir {
    fn default() -> Self {
        RelayDir::new(None, DEFAULT_UPSTREAM).expect("the built-in config needs no template")
    }
}

impl RelayDir {
    /// `config_template` is the user's own config.yml (its `relay.mode` is set to
    /// match the credentials); without one, a config for `upstream` is written.
    pub fn new(config_template: Option<&str>, upstream: &str) -> anyhow::Result<RelayDir> {
        let body = |mode: &str| match config_template {
            Some(template) => set_relay_mode(template, mode),
            None => Ok(format!(
                "relay:\n  mode: {mode}\n  upstream: {}\n  host: 0.0.0.0\n  port: 3000\n",
                quote(upstream)
            )),
        };
        Ok(RelayDir {
            managed_config: body("managed")?,
            proxy_config: body("proxy")?,
        })
    }

    fn config_yml(&self, delivery: &Delivery) -> String {
        let mut config_yml = comment(&header(&delivery.report.secret_name, delivery.status()));
        if delivery.credentials().is_none() {
            config_yml.push_str(&comment(&format!(
                "credentials unavailable: {}",
                delivery.reason()
            )));
            config_yml.push_str(&comment(
                "relay runs in proxy mode: it forwards events without credentials",
            ));
        }
        config_yml.push_str(match relay_mode(delivery.credentials()) {
            "managed" => &self.managed_config,
            _ => &self.proxy_config,
        });
        config_yml
    }
}

impl RenderFiles for RelayDir {
    /// With credentials: credentials.json first, then config.yml in managed mode (in
    /// between, the old config reads the new credentials, or proxy mode ignores them).
    /// Without: config.yml in proxy mode first, then credentials.json removed (in
    /// between, proxy mode ignores the stale file). Never managed mode without
    /// credentials, which makes relay exit. An empty credentials.json is a parse error
    /// for relay, not "no credentials", so absent means removed.
    fn render_files(&self, delivery: &Delivery) -> Vec<FileChange> {
        let config = FileChange {
            name: CONFIG_FILE,
            contents: Some(Secret::new(self.config_yml(delivery))),
        };
        match delivery.credentials() {
            Some(c) => {
                let doc = serde_json::json!({
                    "secret_key": c.secret_key.expose(),
                    "public_key": c.public_key,
                    "id": c.relay_id,
                });
                let credentials = FileChange {
                    name: CREDENTIALS_FILE,
                    contents: Some(Secret::new(format!("{doc:#}\n"))),
                };
                vec![credentials, config]
            }
            None => vec![
                config,
                FileChange {
                    name: CREDENTIALS_FILE,
                    contents: None,
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;
    use yaml_rust2::YamlLoader;

    fn contents<'a>(files: &'a [FileChange], name: &str) -> Option<&'a str> {
        let f = files.iter().find(|f| f.name == name).unwrap();
        f.contents.as_ref().map(|c| c.expose())
    }

    #[test]
    fn found_writes_credentials_then_managed_config() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let files = RelayDir::default().render_files(&r.clone().into());
        let names: Vec<_> = files.iter().map(|f| f.name).collect();
        assert_eq!(names, [CREDENTIALS_FILE, CONFIG_FILE]);
        let creds: serde_json::Value =
            serde_json::from_str(contents(&files, CREDENTIALS_FILE).unwrap()).unwrap();
        assert_eq!(creds["secret_key"], c.secret_key.expose());
        assert_eq!(creds["id"], c.relay_id.as_str());
        assert_eq!(creds.as_object().unwrap().len(), 3);
        let y = &YamlLoader::load_from_str(contents(&files, CONFIG_FILE).unwrap()).unwrap()[0];
        assert_eq!(y["relay"]["mode"].as_str(), Some("managed"));
        assert_eq!(y["relay"]["host"].as_str(), Some("0.0.0.0"));
        assert_eq!(y["relay"]["upstream"].as_str(), Some("https://sentry.io/"));
    }

    #[test]
    fn missing_writes_proxy_config_then_removes_credentials() {
        let files =
            RelayDir::default().render_files(&fixtures::missing(Status::Unauthorized).into());
        let names: Vec<_> = files.iter().map(|f| f.name).collect();
        assert_eq!(names, [CONFIG_FILE, CREDENTIALS_FILE]);
        assert!(contents(&files, CREDENTIALS_FILE).is_none());
        let y = &YamlLoader::load_from_str(contents(&files, CONFIG_FILE).unwrap()).unwrap()[0];
        assert_eq!(y["relay"]["mode"].as_str(), Some("proxy"));
    }
}
