//! The Terraform examples and the module's exec variant applied for real: hashicorp/aws from the plugin dir,
//! pointed by a `moto_override.tf` at moto (AWS's ECS, Secrets Manager, IAM and STS APIs on loopback, with AWS's
//! managed policies loaded), read back through boto3 (tests/aws_readback.py), destroyed, and, where a Secrets
//! Manager secret is written, applied and destroyed once more (a destroyed secret must not block its name).
//!
//! moto: $VFR_MOTO_URL (scripts/test starts one server for the run), else a server started here for the test
//! from the Python in $VFR_PYTHON (tests/requirements.txt). The cases run in parallel on that server, each
//! under its own names. A missing provider (hashicorp/external, hashicorp/local) records a skip, or fails under
//! VFR_REQUIRE_TF_PROVIDERS=1 (the GitHub workflow).
//!
//! Also here: the Dockerfile's VOLUME paths (read with buildkit's parser) are exactly the containerPaths of the
//! task definitions the module plans (terraform's own `show -json` of a saved plan).

use std::collections::BTreeSet;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{
    bin, python_with, repo, run_with, seed, server, RelayCredentials, Run, CANARY_KEY, NAME,
};
use crate::terraform_files::{
    copy_tree, init, providers_present, terraform_available, terraform_command,
};

/// One terraform command against moto (apply, destroy) on a busy 2-core machine, several at once.
const TF_LIMIT: Duration = Duration::from_secs(420);
const REGION: &str = "us-east-1";
const EXEC_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
const VFR_IMAGE: &str = "ghcr.io/OWNER/vault-fetch-relay:0.1.0";

/// The moto server the cases talk to; one started here is stopped on drop.
struct Moto {
    url: String,
    own: Option<Child>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = self.own.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn moto(py: &Path) -> Moto {
    if let Ok(url) = std::env::var("VFR_MOTO_URL") {
        return Moto { url, own: None };
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let child = Command::new(py)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let mut moto = Moto {
        url: format!("http://127.0.0.1:{port}"),
        own: Some(child),
    };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = moto.own.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            panic!(
                "moto ({} -m moto.server) exited with {status}",
                py.display()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto did not listen on 127.0.0.1:{port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

/// Everything a case needs: the judges' Python, moto's address, and this run's name suffix (a shared moto
/// outlives a test run, and may serve several at once).
struct Aws {
    py: PathBuf,
    url: String,
    run: String,
}

impl Aws {
    /// `base` made unique to this run.
    fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.run)
    }

    /// tests/aws_readback.py ACTION ARG (stdin: `input`), parsed. Only moto's address and test keys reach it.
    fn readback(&self, action: &str, arg: &str, input: &str) -> Value {
        let mut c = Command::new(&self.py);
        c.arg(repo().join("tests/aws_readback.py"))
            .args([action, arg])
            .env_clear()
            .envs(aws_env(&self.url));
        let run = run_with(c, input, Duration::from_secs(120));
        assert!(
            run.success(),
            "aws_readback.py {action} {arg}:\n{}",
            run.text()
        );
        serde_json::from_str(&run.stdout).expect("aws_readback.py prints JSON")
    }

    /// A Secrets Manager secret made outside Terraform (the WorkOS API key an operator stores), its ARN.
    fn create_secret(&self, name: &str, value: &str) -> String {
        self.readback("create-secret", name, value)["arn"]
            .as_str()
            .expect("arn")
            .to_string()
    }

    fn delete_secret(&self, arn: &str) {
        self.readback("delete-secret", arn, "");
    }
}

/// Test credentials and moto's address for boto3; nothing of the machine's AWS configuration.
fn aws_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", url.to_string()),
        ("AWS_ACCESS_KEY_ID", "moto-test".into()),
        ("AWS_SECRET_ACCESS_KEY", "moto-test".into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        ("AWS_CONFIG_FILE", "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// The provider block merged into the root's own: moto's endpoints, test keys, no AWS account look-ups.
fn override_tf(url: &str) -> String {
    format!(
        r#"provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "moto-test"
  secret_key                  = "moto-test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {{
    ecs            = "{url}"
    iam            = "{url}"
    secretsmanager = "{url}"
    sts            = "{url}"
  }}
}}
"#
    )
}

/// A root ready to apply: a copy of terraform/ in a temp dir (module paths resolve), the override, init.
struct Root {
    scratch: tempfile::TempDir,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Root {
    /// `terraform/<rel>`, or with `main_tf` a new root at terraform/<rel> beside the modules.
    fn new(rel: &str, main_tf: Option<&str>, url: &str, env: &[(&str, &str)]) -> Root {
        let scratch = tempfile::tempdir().unwrap();
        copy_tree(&repo().join("terraform"), &scratch.path().join("terraform"));
        let dir = scratch.path().join("terraform").join(rel);
        if let Some(main) = main_tf {
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("main.tf"), main).unwrap();
        }
        fs::write(dir.join("moto_override.tf"), override_tf(url)).unwrap();
        init(&dir, scratch.path());
        let mut all: Vec<(String, String)> = aws_env(url)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Root {
            scratch,
            dir,
            env: all,
        }
    }

    fn tf(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        run_with(
            terraform_command(args, &self.dir, self.scratch.path(), &env),
            "",
            TF_LIMIT,
        )
    }

    /// apply; then the state file.
    fn apply(&self) -> String {
        let apply = self.tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert!(apply.success(), "terraform apply failed:\n{}", apply.text());
        fs::read_to_string(self.dir.join("terraform.tfstate")).expect("a state file after apply")
    }

    /// `terraform show -json` of the state.
    fn show(&self) -> Value {
        let show = self.tf(&["show", "-json", "-no-color"]);
        assert!(show.success(), "terraform show -json:\n{}", show.text());
        serde_json::from_str(&show.stdout).expect("show -json is JSON")
    }

    fn destroy(&self) {
        let run = self.tf(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
        assert!(run.success(), "terraform destroy failed:\n{}", run.text());
    }
}

/// The attribute `attr` of the resource at `address` (`[module.M[0].]TYPE.NAME`) in the state file.
fn attr(state: &str, address: &str, attr: &str) -> String {
    let state: Value = serde_json::from_str(state).expect("the state is JSON");
    let (module, resource) = match address
        .rsplit_once('.')
        .and_then(|(a, _)| a.rsplit_once('.'))
    {
        Some((module, _)) if module.starts_with("module.") => {
            (Some(module), &address[module.len() + 1..])
        }
        _ => (None, address),
    };
    let (kind, name) = resource.split_once('.').expect("TYPE.NAME");
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| {
            r["module"].as_str() == module
                && r["type"] == kind
                && r["name"] == name
                && r["mode"] == "managed"
        })
        .and_then(|r| r["instances"][0]["attributes"][attr].as_str())
        .unwrap_or_else(|| panic!("{address}.{attr} not in the state"))
        .to_string()
}

fn container<'a>(td: &'a Value, name: &str) -> &'a Value {
    td["containerDefinitions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no container {name} in {td}"))
}

/// A container's list field of {name, <value key>} entries as (name, value) pairs.
fn named_values(c: &Value, list: &str, value_key: &str) -> Vec<(String, String)> {
    c[list]
        .as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    (
                        v["name"].as_str().unwrap_or_default().to_string(),
                        v[value_key].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn env_of(c: &Value) -> Vec<(String, String)> {
    named_values(c, "environment", "value")
}

fn env_value(c: &Value, name: &str) -> Option<String> {
    env_of(c)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `secrets` as (name, valueFrom).
fn secrets_of(c: &Value) -> Vec<(String, String)> {
    named_values(c, "secrets", "valueFrom")
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The execution role may read exactly `resource` (GetSecretValue) and carries AWS's execution policy.
fn assert_reads_exactly(read: &Value, policy: &str, resource: &str) {
    let policies = read["role_policies"].as_object().expect("role_policies");
    assert_eq!(
        policies.keys().collect::<Vec<_>>(),
        vec![policy],
        "inline policies"
    );
    let statements = policies[policy]["Statement"].as_array().expect("Statement");
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(
        statements[0]["Action"],
        json!(["secretsmanager:GetSecretValue"])
    );
    assert_eq!(statements[0]["Resource"], json!([resource]));
    assert_eq!(read["attached_policies"], json!([EXEC_POLICY]));
}

/// None of `values` in the state file or `show -json`.
fn assert_absent(state: &str, show: &Value, values: &[(&str, &str)]) {
    let show = show.to_string();
    assert!(state.contains("\"resources\""), "no state: {state}");
    for (what, value) in values {
        assert!(!state.contains(value), "{what} in the state file");
        assert!(!show.contains(value), "{what} in terraform show -json");
    }
}

/// After destroy: no active revision of `family`, no role, none of `secrets`.
fn assert_gone(aws: &Aws, family: &str, role: Option<&str>, secrets: &[&str]) {
    let q = json!({"family": family, "role": role, "secrets": secrets}).to_string();
    let gone = aws.readback("gone", &q, "");
    assert_eq!(gone["active_task_definitions"], json!([]), "{gone}");
    assert_eq!(gone["role_exists"], false, "{gone}");
    assert_eq!(gone["secrets_existing"], json!([]), "{gone}");
}

fn read(aws: &Aws, family: &str, role: Option<&str>, secrets: &[&str]) -> Value {
    let q = json!({"family": family, "role": role, "secrets": secrets}).to_string();
    aws.readback("read", &q, "")
}

fn common_relay_env() -> Vec<(String, String)> {
    pairs(&[
        ("RELAY_UPSTREAM_URL", "https://sentry.io/"),
        ("RELAY_HOST", "0.0.0.0"),
        ("RELAY_PORT", "3000"),
        ("RELAY_LOG_LEVEL", "info"),
        ("RELAY_LOG_FORMAT", "json"),
    ])
}

/// examples/ecs-init-container: fetch-credentials gets the API key by reference and writes /relay; relay waits
/// for its success and reads /relay as the same uid. Terraform never holds a credential.
fn init_container(aws: &Aws) -> String {
    let family = &aws.name("vfr-init");
    let key_arn = aws.create_secret(
        &aws.name("vfr-moto/init-container/workos-api-key"),
        CANARY_KEY,
    );
    let root = Root::new(
        "examples/ecs-init-container",
        None,
        &aws.url,
        &[
            ("TF_VAR_family", family),
            ("TF_VAR_workos_api_key_arn", &key_arn),
        ],
    );
    let state = root.apply();
    let show = root.show();
    let role = attr(&state, "aws_iam_role.execution", "name");
    let got = read(aws, family, Some(&role), &[]);
    let td = &got["task_definition"];
    assert_eq!(td["requiresCompatibilities"], json!(["FARGATE"]));
    assert_eq!(td["volumes"].as_array().map(Vec::len), Some(1), "{td}");
    assert_eq!(td["volumes"][0]["name"], "relay-config");
    assert!(
        td["volumes"][0].get("host").is_none(),
        "task storage, not a host path: {td}"
    );

    let fetch = container(td, "fetch-credentials");
    assert_eq!(fetch["essential"], false);
    assert_eq!(fetch["command"], json!(["init", "--dir", "/relay"]));
    assert_eq!(fetch["user"], "65532:65532");
    assert_eq!(fetch["readonlyRootFilesystem"], true);
    assert_eq!(secrets_of(fetch), pairs(&[("WORKOS_API_KEY", &key_arn)]));
    assert_eq!(
        env_of(fetch),
        pairs(&[
            ("WORKOS_VAULT_SECRET_NAME", NAME),
            ("WORKOS_API_BASE", "https://api.workos.com"),
            ("RELAY_UPSTREAM_URL", "https://sentry.io/"),
            ("VAULT_FETCH_STRICT", "false"),
            ("VAULT_FETCH_VERIFY_UPSTREAM", "false"),
        ])
    );
    assert_eq!(
        fetch["mountPoints"],
        json!([{"sourceVolume": "relay-config", "containerPath": "/relay", "readOnly": false}])
    );

    let relay = container(td, "sentry-relay");
    assert_eq!(relay["essential"], true);
    assert_eq!(relay["command"], json!(["run", "--config", "/relay"]));
    assert_eq!(
        relay["user"], fetch["user"],
        "relay reads the 0600 files as their owner"
    );
    assert_eq!(
        relay["mountPoints"],
        json!([{"sourceVolume": "relay-config", "containerPath": "/relay", "readOnly": true}])
    );
    assert_eq!(
        relay["dependsOn"],
        json!([{"containerName": "fetch-credentials", "condition": "SUCCESS"}])
    );
    assert_eq!(secrets_of(relay), vec![]);
    assert_eq!(
        env_of(relay),
        common_relay_env(),
        "config.yml decides the mode"
    );
    assert_eq!(secrets_of(container(td, "backend")), vec![]);
    assert_reads_exactly(&got, "read-workos-api-key", &key_arn);
    assert_absent(&state, &show, &[("API key", CANARY_KEY)]);

    root.destroy();
    assert_gone(aws, family, Some(&role), &[]);
    format!(
        "ecs-init-container: applied, read back ({} containers), destroyed",
        3
    )
}

/// The module's relay_exec with install_image: install-vault-fetch-relay copies the binary into /vfr, relay
/// runs it as its entry point with the API key by reference.
fn exec_install(aws: &Aws) -> String {
    let family = &aws.name("vfr-exec");
    let key_arn = aws.create_secret(&aws.name("vfr-moto/exec/workos-api-key"), CANARY_KEY);
    let main = format!(
        r#"
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = ">= 5.88, < 6.0" }}
  }}
}}

provider "aws" {{
  region = "{REGION}"
}}

variable "workos_api_key_arn" {{
  type = string
}}

resource "aws_iam_role" "execution" {{
  name_prefix = "vfr-exec-"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ecs-tasks.amazonaws.com" }} }}]
  }})
}}

resource "aws_iam_role_policy_attachment" "execution" {{
  role       = aws_iam_role.execution.name
  policy_arn = "{EXEC_POLICY}"
}}

resource "aws_iam_role_policy" "read_workos_api_key" {{
  name   = "read-workos-api-key"
  role   = aws_iam_role.execution.id
  policy = module.task_definition.relay_exec_policy_json
}}

module "task_definition" {{
  source             = "../modules/relay-task-definition"
  family             = "{family}"
  backend_image      = "ghcr.io/example/backend:latest"
  execution_role_arn = aws_iam_role.execution.arn
  relay_exec = {{
    workos_api_key_arn = var.workos_api_key_arn
    install_image      = "{VFR_IMAGE}"
  }}
}}
"#
    );
    let root = Root::new(
        "exec-root",
        Some(&main),
        &aws.url,
        &[("TF_VAR_workos_api_key_arn", &key_arn)],
    );
    let state = root.apply();
    let show = root.show();
    let role = attr(&state, "aws_iam_role.execution", "name");
    let got = read(aws, family, Some(&role), &[]);
    let td = &got["task_definition"];
    assert_eq!(td["volumes"].as_array().map(Vec::len), Some(1), "{td}");
    assert_eq!(td["volumes"][0]["name"], "vault-fetch-relay");

    let install = container(td, "install-vault-fetch-relay");
    assert_eq!(install["essential"], false);
    assert_eq!(install["image"], VFR_IMAGE);
    assert_eq!(install["command"], json!(["install", "/vfr"]));
    assert_eq!(install["user"], "65532:65532");
    assert_eq!(install["readonlyRootFilesystem"], true);
    assert_eq!(secrets_of(install), vec![], "the copy needs no API key");
    assert_eq!(
        install["mountPoints"],
        json!([{"sourceVolume": "vault-fetch-relay", "containerPath": "/vfr", "readOnly": false}])
    );

    let relay = container(td, "sentry-relay");
    assert_eq!(
        relay["entryPoint"],
        json!(["/vfr/vault-fetch-relay", "exec", "--", "/bin/relay"])
    );
    assert_eq!(relay["command"], json!(["run"]));
    assert_eq!(
        relay["user"], install["user"],
        "relay runs the copy as the user that wrote it"
    );
    assert_eq!(
        relay["mountPoints"],
        json!([{"sourceVolume": "vault-fetch-relay", "containerPath": "/vfr", "readOnly": true}])
    );
    assert_eq!(
        relay["dependsOn"],
        json!([{"containerName": "install-vault-fetch-relay", "condition": "SUCCESS"}])
    );
    assert_eq!(secrets_of(relay), pairs(&[("WORKOS_API_KEY", &key_arn)]));
    let mut expected = pairs(&[
        ("WORKOS_VAULT_SECRET_NAME", NAME),
        ("WORKOS_API_BASE", "https://api.workos.com"),
        ("VAULT_FETCH_INTERVAL", "5m"),
        ("VAULT_FETCH_GRACE", "30s"),
        ("VAULT_FETCH_STRICT", "false"),
        ("VAULT_FETCH_VERIFY_UPSTREAM", "false"),
    ]);
    expected.extend(common_relay_env());
    assert_eq!(
        env_of(relay),
        expected,
        "exec sets RELAY_MODE and the credentials itself"
    );
    assert_eq!(secrets_of(container(td, "backend")), vec![]);
    assert_reads_exactly(&got, "read-workos-api-key", &key_arn);
    assert_absent(&state, &show, &[("API key", CANARY_KEY)]);

    root.destroy();
    assert_gone(aws, family, Some(&role), &[]);
    aws.delete_secret(&key_arn);
    "relay-task-definition relay_exec (install_image): applied, read back, destroyed".to_string()
}

/// examples/ecs: the credentials, read at plan time, in relay's environment (managed mode); the apply
/// reports a deployment event (`deployment_event`) to the vault's DSN, here a capturing ingest.
fn ecs_env(aws: &Aws) -> String {
    let family = &aws.name("vfr-ecs");
    let vault = server();
    let ingest = crate::deployment_event::Ingest::start(vec![]);
    let dsn = ingest.dsn("/8");
    let creds = RelayCredentials::generate(Some(dsn.clone())).unwrap();
    vault.set_value(NAME, &creds.to_vault_value()).unwrap();
    let base = vault.base_url();
    let event =
        r#"{"customer_id": "acme \"corp\"", "infra_version": "2.1.0", "environment": "staging"}"#;
    let root = Root::new(
        "examples/ecs",
        None,
        &aws.url,
        &[
            ("TF_VAR_family", family),
            ("WORKOS_API_KEY", CANARY_KEY),
            ("TF_VAR_workos_api_base", &base),
            ("TF_VAR_vault_fetch_relay_program", bin()),
            ("TF_VAR_deployment_event", event),
        ],
    );
    root.apply();
    let events = ingest.envelopes(1, Duration::from_secs(10));
    assert_eq!(events.len(), 1, "one deployment event per apply");
    let (_, _, sent) = crate::deployment_event::parse_strictly(&events[0].body);
    assert_eq!(sent["tags"]["customer_id"], "acme \"corp\"");
    assert_eq!(sent["tags"]["deployment_type"], "ecs");
    assert_eq!(sent["tags"]["deployment_status"], "success");
    assert_eq!(sent["tags"]["environment"], "staging");
    assert_eq!(
        sent["measurements"]["duration"]["unit"], "millisecond",
        "plantimestamp() is the start"
    );
    let got = read(aws, family, None, &[]);
    let td = &got["task_definition"];
    let relay = container(td, "sentry-relay");
    assert_eq!(env_value(relay, "RELAY_MODE").as_deref(), Some("managed"));
    assert_eq!(
        env_value(relay, "RELAY_ID").as_deref(),
        Some(creds.relay_id.as_str())
    );
    assert_eq!(
        env_value(relay, "RELAY_PUBLIC_KEY").as_deref(),
        Some(creds.public_key.as_str())
    );
    assert_eq!(
        env_value(relay, "RELAY_SECRET_KEY").as_deref(),
        Some(creds.secret_key.expose())
    );
    assert_eq!(secrets_of(relay), vec![]);
    assert_eq!(
        env_value(container(td, "backend"), "SENTRY_DSN").as_deref(),
        Some(dsn.as_str())
    );
    assert!(td["volumes"].as_array().is_none_or(Vec::is_empty), "{td}");
    root.destroy();
    assert_gone(aws, family, None, &[]);
    "ecs: applied, relay's environment holds the vault's credentials, the apply's deployment event sent, destroyed".to_string()
}

/// examples/ecs-secrets-manager and examples/ecs-ephemeral: the credentials in a Secrets Manager secret
/// (equal to the vault's), relay gets them by reference, the execution role reads exactly that secret.
/// Destroyed and applied again under the same secret name. `ephemeral`: nothing of them in the state.
fn secrets_manager(aws: &Aws, example: &str, ephemeral: bool) -> String {
    // Short: the example's role name_prefix is "<family>-exec-", at most 38 characters.
    let family = aws.name(if ephemeral { "vfr-eph" } else { "vfr-sm" });
    let secret_name = aws.name(&format!("vfr-moto/{example}/relay"));
    let vault = server();
    let creds = seed(&vault, NAME);
    let base = vault.base_url();
    let root = Root::new(
        &format!("examples/{example}"),
        None,
        &aws.url,
        &[
            ("TF_VAR_family", &family),
            ("TF_VAR_secret_name", &secret_name),
            ("WORKOS_API_KEY", CANARY_KEY),
            ("TF_VAR_workos_api_base", &base),
            ("TF_VAR_vault_fetch_relay_program", bin()),
        ],
    );
    for round in ["first apply", "apply after destroy"] {
        let state = root.apply();
        let role = attr(&state, "aws_iam_role.execution", "name");
        let arn = attr(
            &state,
            "module.relay_secret[0].aws_secretsmanager_secret.this",
            "arn",
        );
        let got = read(aws, &family, Some(&role), &[&arn]);
        let stored: Value = serde_json::from_str(got["secrets"][&arn].as_str().expect("value"))
            .expect("the secret is JSON");
        assert_eq!(
            stored,
            json!({
                "relay_id": creds.relay_id.as_str(),
                "public_key": creds.public_key.as_str(),
                "secret_key": creds.secret_key.expose(),
            }),
            "{example}, {round}: Secrets Manager holds the vault's credentials"
        );
        let td = &got["task_definition"];
        let relay = container(td, "sentry-relay");
        assert_eq!(
            secrets_of(relay),
            pairs(&[
                ("RELAY_ID", &format!("{arn}:relay_id::")),
                ("RELAY_PUBLIC_KEY", &format!("{arn}:public_key::")),
                ("RELAY_SECRET_KEY", &format!("{arn}:secret_key::")),
            ])
        );
        assert_eq!(env_value(relay, "RELAY_MODE").as_deref(), Some("managed"));
        for k in ["RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"] {
            assert_eq!(env_value(relay, k), None, "{k} by reference only");
        }
        assert_reads_exactly(&got, "read-relay-credentials", &arn);
        if ephemeral {
            assert_absent(
                &state,
                &root.show(),
                &[
                    ("secret key", creds.secret_key.expose()),
                    ("public key", creds.public_key.as_str()),
                    ("relay id", creds.relay_id.as_str()),
                    ("API key", CANARY_KEY),
                ],
            );
        }
        root.destroy();
        assert_gone(aws, &family, Some(&role), &[&arn]);
    }
    format!("{example}: applied, read back, destroyed, applied again, destroyed")
}

type Case = (&'static str, &'static [&'static str], fn(&Aws) -> String);

/// Every example and the exec variant against moto, in parallel (distinct names on one server).
#[test]
fn terraform_examples_apply_against_aws() {
    let cases: [Case; 5] = [
        ("examples/ecs-init-container", &["aws"], init_container),
        (
            "modules/relay-task-definition relay_exec",
            &["aws"],
            exec_install,
        ),
        ("examples/ecs", &["aws", "external"], ecs_env),
        ("examples/ecs-secrets-manager", &["aws", "external"], |a| {
            secrets_manager(a, "ecs-secrets-manager", false)
        }),
        (
            "examples/ecs-ephemeral",
            &["aws", "external", "local"],
            |a| secrets_manager(a, "ecs-ephemeral", true),
        ),
    ];
    if !terraform_available() {
        return;
    }
    // moto brings boto3 along.
    let Some(py) = python_with("moto") else {
        return;
    };
    let runnable: Vec<&Case> = cases
        .iter()
        .filter(|(what, providers, _)| {
            providers_present(
                providers,
                &format!("terraform apply of {what} against moto"),
            )
        })
        .collect();
    if runnable.is_empty() {
        return;
    }
    let moto = moto(&py);
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let aws = Aws {
        py,
        url: moto.url.clone(),
        run: format!(
            "{}-{}",
            std::process::id() % 100_000,
            since_epoch.as_millis() % 1_000_000
        ),
    };
    let started = Instant::now();
    let results: Vec<(&str, Result<String, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = runnable
            .iter()
            .map(|(what, _, case)| {
                let aws = &aws;
                (*what, s.spawn(move || case(aws)))
            })
            .collect();
        handles
            .into_iter()
            .map(|(what, h)| {
                let result = h.join().map_err(|e| {
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                });
                (what, result)
            })
            .collect()
    });
    let mut failed = Vec::new();
    for (what, result) in &results {
        match result {
            Ok(summary) => println!("{summary}"),
            Err(e) => failed.push(format!("{what}: {e}")),
        }
    }
    println!(
        "{} of {} terraform cases against moto in {:?}",
        results.len() - failed.len(),
        cases.len(),
        started.elapsed()
    );
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// The paths the Dockerfile declares as VOLUME, read with buildkit's own parser (PyPI `dockerfile`).
fn dockerfile_volumes(py: &Path) -> BTreeSet<String> {
    let script = "import dockerfile, json, sys\n\
        cmds = dockerfile.parse_file(sys.argv[1])\n\
        print(json.dumps([v for c in cmds if c.cmd == 'VOLUME' for v in c.value]))";
    let mut c = Command::new(py);
    c.args(["-c", script]).arg(repo().join("Dockerfile"));
    let run = run_with(c, "", Duration::from_secs(60));
    assert!(run.success(), "parsing the Dockerfile:\n{}", run.text());
    serde_json::from_str::<Vec<String>>(&run.stdout)
        .expect("a JSON list")
        .into_iter()
        .collect()
}

/// The image provides every task-volume mount path the module uses, and only those: on Fargate the volume
/// starts with the image's directory (owner 65532) only when containerPath is a VOLUME path of the image.
#[test]
fn dockerfile_volumes_are_the_modules_mount_paths() {
    let Some(py) = python_with("dockerfile") else {
        return;
    };
    if !terraform_available() || !providers_present(&["aws"], "the VOLUME / containerPath check") {
        return;
    }
    let volumes = dockerfile_volumes(&py);
    let main = format!(
        r#"
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = ">= 5.88, < 6.0" }}
  }}
}}

provider "aws" {{
  region = "{REGION}"
}}

locals {{
  key  = "arn:aws:secretsmanager:{REGION}:123456789012:secret:workos-api-key-AbCdEf"
  role = "arn:aws:iam::123456789012:role/relay-exec"
}}

module "init" {{
  source             = "../modules/relay-task-definition"
  family             = "init"
  backend_image      = "backend"
  execution_role_arn = local.role
  init_container     = {{ image = "{VFR_IMAGE}", workos_api_key_arn = local.key }}
}}

module "exec" {{
  source             = "../modules/relay-task-definition"
  family             = "exec"
  backend_image      = "backend"
  execution_role_arn = local.role
  relay_exec         = {{ workos_api_key_arn = local.key, install_image = "{VFR_IMAGE}" }}
}}
"#
    );
    // Planned only: no API is called (the override's skip_* flags), so no moto is needed.
    let root = Root::new("volumes-root", Some(&main), "http://127.0.0.1:9", &[]);
    let plan = root.tf(&["plan", "-out=tfplan", "-input=false", "-no-color"]);
    assert!(plan.success(), "terraform plan:\n{}", plan.text());
    let show = root.tf(&["show", "-json", "-no-color", "tfplan"]);
    assert!(
        show.success(),
        "terraform show -json tfplan:\n{}",
        show.text()
    );
    let doc: Value = serde_json::from_str(&show.stdout).expect("plan JSON");

    let mut paths = BTreeSet::new();
    let mut writers = BTreeSet::new();
    let mut tasks = 0;
    for change in doc["resource_changes"]
        .as_array()
        .expect("resource_changes")
    {
        if change["type"] != "aws_ecs_task_definition" {
            continue;
        }
        tasks += 1;
        let defs = change["change"]["after"]["container_definitions"]
            .as_str()
            .expect("container_definitions known at plan");
        let defs: Value = serde_json::from_str(defs).expect("container definitions JSON");
        for c in defs.as_array().expect("a list") {
            for m in c["mountPoints"].as_array().into_iter().flatten() {
                let path = m["containerPath"]
                    .as_str()
                    .expect("containerPath")
                    .to_string();
                if m["readOnly"] == false {
                    // Our image writes there, as its user (65532).
                    assert_eq!(c["image"], VFR_IMAGE, "{c}");
                    assert_eq!(c["user"], "65532:65532", "{c}");
                    writers.insert(path.clone());
                }
                paths.insert(path);
            }
        }
    }
    assert_eq!(tasks, 2, "two task definitions planned");
    assert_eq!(
        volumes, paths,
        "the Dockerfile's VOLUME paths must be exactly the module's containerPaths"
    );
    assert_eq!(writers, paths, "every task volume is written by our image");
    println!("Dockerfile VOLUME {volumes:?} == module containerPaths {paths:?}");
}
