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
            HelmValues::anysource().render(&report_with(id, pk, sk, dsn)),
        )
        .unwrap();
        let out = helm_template(&helm, &values);
        let relay = secret_data(&out, "sentry-relay-secret");
        assert_eq!(relay["id"], id.as_bytes(), "id {id:?}");
        assert_eq!(relay["public_key"], pk.as_bytes(), "public_key {pk:?}");
        assert_eq!(relay["secret_key"], sk.as_bytes(), "secret_key {sk:?}");
        let backend = secret_data(&out, "backend-secret");
        assert_eq!(backend["SENTRY_DSN"], dsn.as_bytes(), "dsn {dsn:?}");
    }
}

/// Kinds and names of the rendered objects, e.g. ("Deployment", "sentry-relay").
fn objects(manifests: &str) -> Vec<(String, String)> {
    yaml_rust2::YamlLoader::load_from_str(manifests)
        .unwrap()
        .iter()
        .filter_map(|d| {
            Some((
                d["kind"].as_str()?.to_string(),
                d["metadata"]["name"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn has(manifests: &str, kind: &str, name: &str) -> bool {
    objects(manifests)
        .iter()
        .any(|(k, n)| k == kind && n == name)
}

/// `vault-fetch-relay ARGS` against `s`, reading the secret `secret_name`.
fn run_against(s: &DevServer, secret_name: &str, args: &[&str]) -> Run {
    let mut cmd = cmd(args);
    cmd.env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url())
        .env("WORKOS_VAULT_SECRET_NAME", secret_name);
    run_with(cmd, "", Duration::from_secs(30))
}

#[test]
fn the_anysource_layout_drives_the_chart_found_missing_and_strict() {
    let Some(helm) = helm() else { return };
    let s = server();
    let c = RelayCredentials::generate(Some(
        "https://k'ey\"$x@o1.ingest.sentry.io/2#no: yes".into(),
    ))
    .unwrap();
    s.set_value(NAME, &c.to_vault_value()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    let v = values.to_str().unwrap();
    let layout = ["helm-values", "--layout", "anysource", "-o", v];

    // Found: inline Secret, relay in managed mode reading it, and the DSN for the backend.
    assert_eq!(run_against(&s, NAME, &layout).code, Some(0));
    let out = helm_template(&helm, &values);
    let relay = secret_data(&out, "sentry-relay-secret");
    assert_eq!(relay["secret_key"], c.secret_key.expose().as_bytes());
    assert_eq!(relay["public_key"], c.public_key.as_bytes());
    assert_eq!(relay["id"], c.relay_id.as_bytes());
    assert_eq!(
        secret_data(&out, "backend-secret")["SENTRY_DSN"],
        c.sentry_dsn.as_deref().unwrap().as_bytes()
    );
    assert!(has(&out, "Deployment", "sentry-relay") && has(&out, "Service", "sentry-relay"));
    assert!(out.contains("value: \"managed\""), "{out}");
    assert!(!out.contains("initContainers"), "{out}");

    // Missing: relay.enabled false, so the chart renders no relay at all.
    assert_eq!(run_against(&s, "missing", &layout).code, Some(0));
    let out = helm_template(&helm, &values);
    assert!(
        objects(&out).is_empty(),
        "nothing may be rendered without credentials (no DSN either):\n{out}"
    );

    // Strict and missing: exit 1, and the last file is left as it was (nothing half-written).
    let before = std::fs::read(&values).unwrap();
    let strict = ["helm-values", "--layout", "anysource", "--strict", "-o", v];
    assert_eq!(run_against(&s, "missing", &strict).code, Some(1));
    assert_eq!(std::fs::read(&values).unwrap(), before);
}

#[test]
fn a_set_path_mapping_drives_the_chart_like_the_layout() {
    let Some(helm) = helm() else { return };
    let s = server();
    let c = seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    let mut args = vec!["helm-values", "-o", values.to_str().unwrap()];
    for m in [
        "relay.enabled=found",
        "relay.config.mode=relay_mode",
        "relay.secrets.id=relay_id",
        "relay.secrets.public_key=public_key",
        "relay.secrets.secret_key=secret_key",
    ] {
        args.extend(["--set-path", m]);
    }
    assert_eq!(run_against(&s, NAME, &args).code, Some(0));
    let out = helm_template(&helm, &values);
    assert_eq!(
        secret_data(&out, "sentry-relay-secret")["secret_key"],
        c.secret_key.expose().as_bytes()
    );
    assert!(out.contains("value: \"managed\""), "{out}");
    assert_eq!(run_against(&s, "missing", &args).code, Some(0));
    assert!(objects(&helm_template(&helm, &values)).is_empty());
}

#[test]
fn the_init_container_path_leaves_the_mode_to_config_yml() {
    let Some(helm) = helm() else { return };
    let values = Path::new(CHART).join("ci/vault-values.yaml");
    let out = helm_template(&helm, &values);
    assert!(out.contains("args: [\"init\"]"), "{out}");
    assert!(
        out.contains("args: [\"run\", \"--config\", \"/.relay\"]"),
        "{out}"
    );
    assert!(
        !out.contains("RELAY_MODE"),
        "relay's mode must come from config.yml:\n{out}"
    );

    // What the init container writes into /.relay decides it: managed when found, proxy when not.
    let s = server();
    seed(&s, NAME);
    for (secret, mode, credentials) in [(NAME, "managed", true), ("missing", "proxy", false)] {
        let relay_dir = tempfile::tempdir().unwrap();
        let run = run_against(
            &s,
            secret,
            &["init", "--dir", relay_dir.path().to_str().unwrap()],
        );
        assert_eq!(run.code, Some(0), "{run:?}");
        let config = std::fs::read_to_string(relay_dir.path().join("config.yml")).unwrap();
        let config = &yaml_rust2::YamlLoader::load_from_str(&config).unwrap()[0];
        assert_eq!(config["relay"]["mode"].as_str(), Some(mode), "{secret}");
        assert_eq!(
            relay_dir.path().join("credentials.json").exists(),
            credentials
        );
    }
}

/// The deployment-event hook Jobs as rendered, run as the kubelet would: the container's args to
/// our binary (no shell), its environment from the rendered backend-secret. Each reaches the ingest
/// with the chart's customer id, version, environment and status, and the render time as the start.
#[test]
fn the_rendered_deployment_event_hooks_report_each_upgrade_and_rollback() {
    use crate::deployment_event::{parse_strictly, Ingest};
    let Some(helm) = helm() else { return };
    let ingest = Ingest::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        format!(
            "global:\n  domain: \"mcp.acme.example\"\n  environment: staging\n  deployment:\n    infraVersion: \"2.1.0\"\ntelemetry:\n  enabled: true\nbackend:\n  secrets:\n    SENTRY_DSN: {:?}\n",
            ingest.dsn("/4")
        ),
    )
    .unwrap();
    let out = helm_template(&helm, &values);
    let backend = secret_data(&out, "backend-secret");
    let docs = yaml_rust2::YamlLoader::load_from_str(&out).unwrap();
    let jobs: Vec<_> = docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("Job"))
        .collect();
    assert_eq!(jobs.len(), 2, "{out}");
    for job in jobs {
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        let args: Vec<&str> = c["args"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let mut run = cmd(&args);
        for e in c["env"].as_vec().unwrap() {
            let name = e["name"].as_str().unwrap();
            if let Some(v) = e["value"].as_str() {
                run.env(name, v);
            }
            let key = e["valueFrom"]["secretKeyRef"]["key"].as_str();
            if let Some(v) = key.and_then(|k| backend.get(k)) {
                run.env(name, String::from_utf8(v.clone()).unwrap());
            }
        }
        let done = run_with(run, "", Duration::from_secs(60));
        assert_eq!(done.code, Some(0), "{args:?}: {}", done.text());
        assert!(!done.stderr.contains("warning"), "{}", done.stderr);
    }
    let got = ingest.envelopes(2, Duration::ZERO);
    assert_eq!(got.len(), 2);
    let mut statuses = Vec::new();
    for r in &got {
        let (_, _, event) = parse_strictly(&r.body);
        assert_eq!(event["tags"]["customer_id"], "mcp.acme.example");
        assert_eq!(event["tags"]["infra_version"], "2.1.0");
        assert_eq!(event["tags"]["environment"], "staging");
        assert_eq!(event["tags"]["deployment_type"], "eks");
        assert_eq!(
            event["measurements"]["duration"]["unit"], "millisecond",
            "{event}"
        );
        let status = event["tags"]["deployment_status"]
            .as_str()
            .unwrap()
            .to_string();
        let message = &event["extra"]["deployment_metadata"]["error_message"];
        match status.as_str() {
            "failure" => assert_eq!(message, "Helm rollback occurred"),
            _ => assert_eq!(message, ""),
        }
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(statuses, ["failure", "success"]);
}
