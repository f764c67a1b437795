//! Helm values for `helm upgrade -f`, in one of three layouts:
//! - default: credentials under `relay.credentials` (or `--values-path`), the DSN under
//!   `backend.secrets.SENTRY_DSN`, and relay's mode;
//! - anysource: exactly the keys Runlayer's anysource chart reads (`relay.enabled`,
//!   `relay.secrets.{id,public_key,secret_key}`, `relay.vault.enabled`, `relay.config.mode`,
//!   `backend.secrets.SENTRY_DSN`);
//! - a mapping of the user's own (`--set-path PATH=FIELD`), for any other chart.

use super::yaml::{comment, Node};
use super::{header, relay_mode, Render};
use crate::fetch::Report;

pub(crate) const DEFAULT_VALUES_PATH: &str = "relay.credentials";

/// What a values key is filled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    RelayId,
    PublicKey,
    SecretKey,
    /// Written only when the vault holds a DSN, so another values file's DSN survives.
    SentryDsn,
    /// "managed" with credentials, "proxy" without; always written.
    RelayMode,
    /// Boolean: were usable credentials found; always written.
    Found,
    /// Boolean `false`, written only with credentials: they are inline, so a chart's own
    /// vault init container must stay off.
    FalseWithCredentials,
}

/// The names `--set-path` accepts, as Terraform mode's output keys spell them.
const FIELD_NAMES: [(&str, Field); 6] = [
    ("relay_id", Field::RelayId),
    ("public_key", Field::PublicKey),
    ("secret_key", Field::SecretKey),
    ("sentry_dsn", Field::SentryDsn),
    ("relay_mode", Field::RelayMode),
    ("found", Field::Found),
];

fn field_names() -> String {
    FIELD_NAMES.map(|(n, _)| n).join(", ")
}

/// Which built-in layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Default,
    Anysource,
}

/// The anysource chart's keys (aws-helm/anysource-chart: secrets.yaml ranges over
/// relay.secrets into Secret sentry-relay-secret when relay.vault.enabled is false;
/// relay-deployment.yaml, services.yaml and hpa.yaml are gated on relay.enabled).
const ANYSOURCE: [(&str, Field); 7] = [
    ("relay.enabled", Field::Found),
    ("relay.config.mode", Field::RelayMode),
    ("relay.vault.enabled", Field::FalseWithCredentials),
    ("relay.secrets.id", Field::RelayId),
    ("relay.secrets.public_key", Field::PublicKey),
    ("relay.secrets.secret_key", Field::SecretKey),
    ("backend.secrets.SENTRY_DSN", Field::SentryDsn),
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    path: Vec<String>,
    field: Field,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmValues {
    entries: Vec<Entry>,
    /// Said in the file when credentials are missing: what the chart will do.
    missing_note: &'static str,
}

/// `path` split on dots; `what` names it in errors (the flag and value the user gave).
fn segments(path: &str, what: &str) -> anyhow::Result<Vec<String>> {
    let segments: Vec<String> = path.split('.').map(String::from).collect();
    if segments.iter().any(|s| s.trim().is_empty()) {
        anyhow::bail!("{what} has an empty segment; use a dotted path like relay.credentials");
    }
    // YAML caps implicit keys at 1024 characters; real paths are short words.
    if segments.iter().any(|s| s.chars().count() > 128) {
        anyhow::bail!("{what} has a segment over 128 characters");
    }
    Ok(segments)
}

/// One path equal to, or inside, another: the file could hold only one of them.
fn overlaps(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

impl HelmValues {
    /// The default layout with credentials under `values_path` (dot-separated `a.b.c`).
    pub fn new(values_path: &str) -> anyhow::Result<Self> {
        let base = segments(values_path, &format!("--values-path {values_path:?}"))?;
        let fixed = [
            ("relay.config.mode", Field::RelayMode),
            ("backend.secrets.SENTRY_DSN", Field::SentryDsn),
        ];
        let fixed: Vec<Entry> = fixed
            .iter()
            .map(|(p, f)| Entry {
                path: p.split('.').map(String::from).collect(),
                field: *f,
            })
            .collect();
        let mut entries = vec![fixed[0].clone()];
        for (key, field) in [
            ("id", Field::RelayId),
            ("publicKey", Field::PublicKey),
            ("secretKey", Field::SecretKey),
        ] {
            let path: Vec<String> = base.iter().cloned().chain([key.to_string()]).collect();
            // A credential key must not replace (or sit inside) a key this file also sets.
            if let Some(clash) = fixed.iter().find(|f| overlaps(&path, &f.path)) {
                anyhow::bail!(
                    "--values-path {values_path:?} collides with {}, which this file sets too; choose another path",
                    clash.path.join(".")
                );
            }
            entries.push(Entry { path, field });
        }
        entries.push(fixed[1].clone());
        Ok(HelmValues {
            entries,
            missing_note: "No credential keys are written (empty ones make relay exit); relay runs in proxy mode and forwards events unprocessed.",
        })
    }

    /// Runlayer's anysource chart: writes exactly the keys it reads.
    pub fn anysource() -> Self {
        HelmValues {
            entries: ANYSOURCE
                .iter()
                .map(|(p, f)| Entry {
                    path: p.split('.').map(String::from).collect(),
                    field: *f,
                })
                .collect(),
            missing_note: "relay.enabled is false: the chart renders no relay Deployment, Service or HPA and the backend sends to Sentry directly.",
        }
    }

    /// A mapping of the user's own: each item is `PATH=FIELD` (`--set-path`), in order.
    pub fn mapping(items: &[String]) -> anyhow::Result<Self> {
        let mut entries: Vec<(Entry, &str)> = Vec::new();
        for item in items {
            let Some((path, name)) = item.split_once('=') else {
                anyhow::bail!(
                    "--set-path {item:?} is not PATH=FIELD; e.g. --set-path relay.secrets.id=relay_id"
                );
            };
            let path = segments(path, &format!("--set-path {item:?}"))?;
            let Some((_, field)) = FIELD_NAMES.iter().find(|(n, _)| *n == name) else {
                anyhow::bail!(
                    "--set-path {item:?} names no field {name:?}; the fields are {}",
                    field_names()
                );
            };
            if let Some((_, earlier)) = entries.iter().find(|(e, _)| overlaps(&e.path, &path)) {
                anyhow::bail!(
                    "--set-path {earlier:?} and --set-path {item:?} collide (one path is, or is inside, the other); give each value its own key"
                );
            }
            entries.push((
                Entry {
                    path,
                    field: *field,
                },
                item,
            ));
        }
        if entries.is_empty() {
            anyhow::bail!("no --set-path given");
        }
        Ok(HelmValues {
            entries: entries.into_iter().map(|(e, _)| e).collect(),
            missing_note: "Only keys that do not need credentials are written.",
        })
    }

    /// From the flags: `--layout`, `--values-path` (default layout only) and `--set-path`
    /// (instead of a layout). Every bad combination is refused before anything is fetched.
    pub fn from_flags(
        layout: Option<Layout>,
        values_path: Option<&str>,
        set_paths: &[String],
    ) -> anyhow::Result<Self> {
        match (layout, values_path, set_paths.first()) {
            (Some(Layout::Anysource), Some(path), _) => anyhow::bail!(
                "--values-path {path:?} cannot be used with --layout anysource, whose keys are fixed by the chart; drop --values-path, or use --set-path for your own keys"
            ),
            (Some(l), _, Some(item)) => anyhow::bail!(
                "--set-path {item:?} cannot be used with --layout {}; a --set-path mapping replaces the layout, so drop --layout",
                match l {
                    Layout::Default => "default",
                    Layout::Anysource => "anysource",
                }
            ),
            (None, Some(path), Some(item)) => anyhow::bail!(
                "--values-path {path:?} cannot be used with --set-path {item:?}; a --set-path mapping names every key itself"
            ),
            (None, None, Some(_)) => HelmValues::mapping(set_paths),
            (Some(Layout::Anysource), None, None) => Ok(HelmValues::anysource()),
            (Some(Layout::Default) | None, path, None) => {
                HelmValues::new(path.unwrap_or(DEFAULT_VALUES_PATH))
            }
        }
    }
}

impl Default for HelmValues {
    fn default() -> Self {
        HelmValues::new(DEFAULT_VALUES_PATH).expect("the default values path is valid")
    }
}

impl Render for HelmValues {
    fn render(&self, report: &Report) -> String {
        let mut out = comment(&header(&report.secret_name, report.status()));
        let mut root = Node::map();
        let credentials = report.credentials();
        for entry in &self.entries {
            let value = match (entry.field, credentials) {
                (Field::RelayMode, _) => Some(Node::Str(relay_mode(report.credentials()).into())),
                (Field::Found, c) => Some(Node::Bool(c.is_some())),
                (Field::FalseWithCredentials, Some(_)) => Some(Node::Bool(false)),
                (Field::RelayId, Some(c)) => Some(Node::Str(c.relay_id.clone())),
                (Field::PublicKey, Some(c)) => Some(Node::Str(c.public_key.clone())),
                (Field::SecretKey, Some(c)) => Some(Node::Str(c.secret_key.expose().to_string())),
                (Field::SentryDsn, Some(c)) => c.sentry_dsn.clone().map(Node::Str),
                (_, None) => None,
            };
            if let Some(value) = value {
                let path: Vec<&str> = entry.path.iter().map(String::as_str).collect();
                root.set(&path, value);
            }
        }
        if credentials.is_none() {
            out.push_str(&comment(&format!(
                "credentials unavailable: {}",
                report.reason()
            )));
            out.push_str(&comment(self.missing_note));
        }
        out.push_str(&root.to_yaml());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Status;
    use crate::render::fixtures;
    use yaml_rust2::YamlLoader;

    #[test]
    fn found_writes_credentials_mode_and_dsn() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let y = HelmValues::new(DEFAULT_VALUES_PATH).unwrap().render(&r);
        let v = &YamlLoader::load_from_str(&y).unwrap()[0];
        assert_eq!(
            v["relay"]["credentials"]["id"].as_str(),
            Some(c.relay_id.as_str())
        );
        assert_eq!(
            v["relay"]["credentials"]["publicKey"].as_str(),
            Some(c.public_key.as_str())
        );
        assert_eq!(
            v["relay"]["credentials"]["secretKey"].as_str(),
            Some(c.secret_key.expose())
        );
        assert_eq!(v["relay"]["config"]["mode"].as_str(), Some("managed"));
        assert_eq!(
            v["backend"]["secrets"]["SENTRY_DSN"].as_str(),
            c.sentry_dsn.as_deref()
        );
        assert!(y.starts_with("# Generated by vault-fetch-relay"));
    }

    #[test]
    fn no_dsn_means_no_backend_key_and_custom_paths_work() {
        let mut c = fixtures::found().credentials().unwrap().clone();
        c.sentry_dsn = None;
        let y = HelmValues::new("sentry.relay.creds")
            .unwrap()
            .render(&fixtures::found_with(c.clone()));
        let v = &YamlLoader::load_from_str(&y).unwrap()[0];
        assert!(v["backend"].is_badvalue());
        assert_eq!(
            v["sentry"]["relay"]["creds"]["id"].as_str(),
            Some(c.relay_id.as_str())
        );
        assert!(v["relay"]["credentials"].is_badvalue());
        assert_eq!(v["relay"]["config"]["mode"].as_str(), Some("managed"));
        assert!(HelmValues::new("a..b").is_err());
        for clash in [
            "relay.config.mode",
            "relay.config.mode.x",
            "backend.secrets.SENTRY_DSN",
        ] {
            assert!(HelmValues::new(clash).is_err(), "{clash}");
        }
        for fine in ["relay", "relay.config", "backend.secrets", "sentry"] {
            assert!(HelmValues::new(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn missing_writes_proxy_mode_and_no_credentials() {
        let y = HelmValues::new(DEFAULT_VALUES_PATH)
            .unwrap()
            .render(&fixtures::missing(Status::NotFound));
        let v = &YamlLoader::load_from_str(&y).unwrap()[0];
        assert_eq!(v["relay"]["config"]["mode"].as_str(), Some("proxy"));
        assert!(v["relay"]["credentials"].is_badvalue());
        assert!(v["backend"].is_badvalue());
        assert!(y.contains("# credentials unavailable: the secret does not exist"));
    }

    #[test]
    fn anysource_writes_exactly_the_chart_keys() {
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let y = HelmValues::anysource().render(&r);
        let v = &YamlLoader::load_from_str(&y).unwrap()[0];
        assert_eq!(v["relay"]["enabled"].as_bool(), Some(true));
        assert_eq!(v["relay"]["vault"]["enabled"].as_bool(), Some(false));
        assert_eq!(v["relay"]["config"]["mode"].as_str(), Some("managed"));
        assert_eq!(
            v["relay"]["secrets"]["id"].as_str(),
            Some(c.relay_id.as_str())
        );
        assert_eq!(
            v["relay"]["secrets"]["public_key"].as_str(),
            Some(c.public_key.as_str())
        );
        assert_eq!(
            v["relay"]["secrets"]["secret_key"].as_str(),
            Some(c.secret_key.expose())
        );
        assert_eq!(
            v["backend"]["secrets"]["SENTRY_DSN"].as_str(),
            c.sentry_dsn.as_deref()
        );
        // Nothing else: relay has exactly these four keys, backend.secrets one.
        assert_eq!(v["relay"].as_hash().unwrap().len(), 4);
        assert_eq!(v["relay"]["secrets"].as_hash().unwrap().len(), 3);
        assert_eq!(v["backend"]["secrets"].as_hash().unwrap().len(), 1);

        let y = HelmValues::anysource().render(&fixtures::missing(Status::NotFound));
        let v = &YamlLoader::load_from_str(&y).unwrap()[0];
        assert_eq!(v["relay"]["enabled"].as_bool(), Some(false));
        assert_eq!(v["relay"]["config"]["mode"].as_str(), Some("proxy"));
        assert!(v["relay"]["secrets"].is_badvalue());
        assert!(v["relay"]["vault"].is_badvalue());
        assert!(v["backend"].is_badvalue());
        assert!(y.contains("# relay.enabled is false"));
    }

    #[test]
    fn a_mapping_writes_what_it_names_and_nothing_else() {
        let items: Vec<String> = [
            "sentry.relay.on=found",
            "sentry.relay.auth.relayId=relay_id",
            "sentry.relay.auth.key=secret_key",
            "app.env.SENTRY_DSN=sentry_dsn",
            "sentry.relay.mode=relay_mode",
        ]
        .map(String::from)
        .to_vec();
        let r = fixtures::found();
        let c = r.credentials().unwrap().clone();
        let m = HelmValues::mapping(&items).unwrap();
        let v = &YamlLoader::load_from_str(&m.render(&r)).unwrap()[0];
        assert_eq!(v["sentry"]["relay"]["on"].as_bool(), Some(true));
        assert_eq!(
            v["sentry"]["relay"]["auth"]["relayId"].as_str(),
            Some(c.relay_id.as_str())
        );
        assert_eq!(
            v["sentry"]["relay"]["auth"]["key"].as_str(),
            Some(c.secret_key.expose())
        );
        assert_eq!(v["sentry"]["relay"]["auth"].as_hash().unwrap().len(), 2);
        assert_eq!(
            v["app"]["env"]["SENTRY_DSN"].as_str(),
            c.sentry_dsn.as_deref()
        );
        assert_eq!(v["sentry"]["relay"]["mode"].as_str(), Some("managed"));
        assert!(v["relay"].is_badvalue() && v["backend"].is_badvalue());

        let v =
            &YamlLoader::load_from_str(&m.render(&fixtures::missing(Status::NotFound))).unwrap()[0];
        assert_eq!(v["sentry"]["relay"]["on"].as_bool(), Some(false));
        assert_eq!(v["sentry"]["relay"]["mode"].as_str(), Some("proxy"));
        assert!(v["sentry"]["relay"]["auth"].is_badvalue() && v["app"].is_badvalue());
    }

    #[test]
    fn bad_flags_are_refused_with_what_was_given() {
        let err = |layout, path, sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let e = HelmValues::from_flags(layout, path, &sets).unwrap_err();
            let text = format!("{e:#}");
            assert!(!text.contains('\n'), "{text}");
            text
        };
        let e = err(Some(Layout::Anysource), Some("relay.creds"), &[]);
        assert!(
            e.contains("--values-path \"relay.creds\"") && e.contains("--layout anysource"),
            "{e}"
        );
        let e = err(None, None, &["a.b=relay_key"]);
        assert!(
            e.contains("\"a.b=relay_key\"") && e.contains("\"relay_key\""),
            "{e}"
        );
        assert!(
            e.contains("relay_id, public_key, secret_key, sentry_dsn, relay_mode, found"),
            "{e}"
        );
        let e = err(
            None,
            None,
            &["a.b=relay_id", "a.c=public_key", "a.b.c=secret_key"],
        );
        assert!(
            e.contains("\"a.b=relay_id\"") && e.contains("\"a.b.c=secret_key\""),
            "{e}"
        );
        let e = err(None, None, &["a.b=relay_id", "a.b=public_key"]);
        assert!(e.contains("collide"), "{e}");
        let e = err(None, None, &["a.b"]);
        assert!(e.contains("PATH=FIELD"), "{e}");
        let e = err(None, None, &["a..b=found"]);
        assert!(e.contains("empty segment"), "{e}");
        let e = err(Some(Layout::Anysource), None, &["a=found"]);
        assert!(
            e.contains("--set-path \"a=found\"") && e.contains("--layout anysource"),
            "{e}"
        );
        let e = err(None, Some("x"), &["a=found"]);
        assert!(
            e.contains("--values-path \"x\"") && e.contains("--set-path \"a=found\""),
            "{e}"
        );

        assert_eq!(
            HelmValues::from_flags(None, None, &[]).unwrap(),
            HelmValues::default()
        );
        assert_eq!(
            HelmValues::from_flags(Some(Layout::Default), Some("x.y"), &[]).unwrap(),
            HelmValues::new("x.y").unwrap()
        );
        assert_eq!(
            HelmValues::from_flags(Some(Layout::Anysource), None, &[]).unwrap(),
            HelmValues::anysource()
        );
    }
}
