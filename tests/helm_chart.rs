//! Real `helm template` of the example chart with values we generated: every value
//! must come out of the rendered Secrets byte for byte, YAML traps included.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use vault_fetch_relay::fetch::{Found, Outcome, Report};
use vault_fetch_relay::render::{HelmValues, Render};
use vault_fetch_relay::secret::Secret;

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/helm/relay");

fn report_with(id: &str, public_key: &str, secret_key: &str, dsn: &str) -> Report {
    Report {
        outcome: Outcome::Found(Found {
            credentials: RelayCredentials {
                relay_id: id.into(),
                public_key: public_key.into(),
                secret_key: Secret::new(secret_key),
                sentry_dsn: Some(dsn.into()),
            },
            version_id: None,
            updated_at: None,
            request_id: None,
        }),
        api_base: "https://api.workos.com".into(),
        secret_name: NAME.into(),
        elapsed: Duration::ZERO,
        attempts: 1,
    }
}

/// `helm template` with one values file; returns the rendered manifests.
fn helm_template(helm: &Path, values: &Path) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut c = Command::new(helm);
    c.args(["template", "relay", CHART, "-f", values.to_str().unwrap()])
        .env_clear()
        .env("HOME", home.path())
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"));
    let out = run_with(c, "", Duration::from_secs(60));
    assert_eq!(out.code, Some(0), "helm template failed: {}", out.stderr);
    out.stdout
}

/// Decoded `data` of the Secret named `name` in a multi-document manifest.
fn secret_data(manifests: &str, name: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let docs = yaml_rust2::YamlLoader::load_from_str(manifests).unwrap();
    let doc = docs
        .iter()
        .find(|d| {
            d["kind"].as_str() == Some("Secret") && d["metadata"]["name"].as_str() == Some(name)
        })
        .unwrap_or_else(|| panic!("no Secret {name} in:\n{manifests}"));
    doc["data"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                STANDARD.decode(v.as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_trap_round_trips_through_yaml_rust2() {
    for s in YAML_TRAPS
        .iter()
        .chain(&["", "nul\u{0}byte", "bom\u{feff}", "c1\u{9f}"])
    {
        let doc = format!("k: {}\n", vault_fetch_relay::render::yaml::quote(s));
        let parsed =
            yaml_rust2::YamlLoader::load_from_str(&doc).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        assert_eq!(parsed[0]["k"].as_str(), Some(*s), "{s:?} as {doc}");
    }
}

#[test]
fn hostile_values_survive_helm_byte_for_byte() {
    let Some(helm) = helm() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Each trap goes through every slot: rotate so each slot sees each string once.
    for (i, trap) in YAML_TRAPS.iter().enumerate() {
        let next = |k: usize| YAML_TRAPS[(i + k) % YAML_TRAPS.len()];
        let (id, pk, sk, dsn) = (*trap, next(1), next(2), next(3));
        let values = dir.path().join(format!("values-{i}.yaml"));
        std::fs::write(
            &values,
            HelmValues::new("relay.credentials")
                .unwrap()
                .render(&report_with(id, pk, sk, dsn)),
        )
        .unwrap();
        let out = helm_template(&helm, &values);
        let relay = secret_data(&out, "sentry-relay-secret");
        assert_eq!(relay["id"], id.as_bytes(), "id {id:?}");
        assert_eq!(relay["public_key"], pk.as_bytes(), "public_key {pk:?}");
        assert_eq!(relay["secret_key"], sk.as_bytes(), "secret_key {sk:?}");
        let backend = secret_data(&out, "sentry-backend-dsn");
        assert_eq!(backend["SENTRY_DSN"], dsn.as_bytes(), "dsn {dsn:?}");
    }
}

#[test]
fn the_binary_values_file_drives_the_chart_in_both_modes() {
    let Some(helm) = helm() else { return };
    let s = server();
    let c = RelayCredentials::generate(Some(
        "https://k'ey\"$x@o1.ingest.sentry.io/2#no: yes".into(),
    ))
    .unwrap();
    s.set_value(NAME, &c.to_vault_value()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    let run_mode = |secret_name: &str| {
        let mut cmd = cmd(&["helm-values", "-o", values.to_str().unwrap()]);
        cmd.env("WORKOS_API_KEY", CANARY_KEY)
            .env("WORKOS_API_BASE", s.base_url())
            .env("WORKOS_VAULT_SECRET_NAME", secret_name);
        run_with(cmd, "", Duration::from_secs(30))
    };
    assert_eq!(run_mode(NAME).code, Some(0));
    let out = helm_template(&helm, &values);
    let relay = secret_data(&out, "sentry-relay-secret");
    assert_eq!(relay["secret_key"], c.secret_key.expose().as_bytes());
    assert_eq!(relay["id"], c.relay_id.as_bytes());
    assert_eq!(
        secret_data(&out, "sentry-backend-dsn")["SENTRY_DSN"],
        c.sentry_dsn.as_deref().unwrap().as_bytes()
    );
    assert!(out.contains("value: \"managed\""), "{out}");

    // Degraded: no credential keys, proxy mode; the chart renders relay without secrets.
    assert_eq!(run_mode("missing").code, Some(0));
    let out = helm_template(&helm, &values);
    let docs = yaml_rust2::YamlLoader::load_from_str(&out).unwrap();
    assert!(
        docs.iter().all(|d| d["kind"].as_str() != Some("Secret")),
        "no Secret may be rendered without credentials:\n{out}"
    );
    assert!(out.contains("value: \"proxy\""), "{out}");
    assert!(!out.contains("RELAY_SECRET_KEY"), "{out}");
}
