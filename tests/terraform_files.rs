//! Checks for the Terraform files under `terraform/` (std only).
//!
//! - `terraform fmt -check -recursive -diff terraform/`
//! - `terraform init -backend=false -plugin-dir=...` + `terraform validate` for every root or module whose
//!   providers are all in the plugin dir (`TF_PLUGIN_DIR`, default `/opt/tf-plugins`), in a copy of the tree
//!   under a temp dir so no `.terraform` directory is left in the repository.
//! - Directories that need `hashicorp/external` when it is absent are reported as skipped, then validated once
//!   more against a stub of `modules/relay-credentials` (same variables and outputs, no data source).
//! - `terraform test` in every directory with a `tests/` folder of `.tftest.hcl` files (mocked AWS provider;
//!   the ephemeral example also runs the real hashicorp/external and hashicorp/local against the dev server).
//! - The state proof: after `terraform apply`, a root using `ephemeral "local_command"` keeps no credential in
//!   its state or `terraform show -json`, while the same read through `data "external"` does.
//!
//! A missing `terraform` binary skips everything, unless `VFR_REQUIRE_TERRAFORM=1` (set by the GitHub
//! workflow, which installs terraform; no package registry reachable here provides it). A provider missing
//! from the plugin dir skips what needs it, unless `VFR_REQUIRE_TF_PROVIDERS=1` (set by the workflow, which
//! mirrors hashicorp/aws, hashicorp/external and hashicorp/local).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{repo, run_tool, tool_available, DevServer, Run, CANARY_KEY};
use serde_json::Value;

pub(crate) fn plugin_dir() -> PathBuf {
    std::env::var_os("TF_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"))
}

/// Runs terraform in `dir` with an empty CLI config and no prompts, bounded by support::CHILD_TIMEOUT.
fn terraform(args: &[&str], dir: &Path, scratch: &Path) -> Run {
    terraform_env(args, dir, scratch, &[])
}

/// Same, with extra environment (WORKOS_*, TF_VAR_*). Nothing of the machine's WORKOS_* leaks in.
fn terraform_env(args: &[&str], dir: &Path, scratch: &Path, env: &[(&str, &str)]) -> Run {
    run_tool(terraform_command(args, dir, scratch, env))
}

/// The command [`terraform_env`] runs, for callers that bound it differently.
pub(crate) fn terraform_command(
    args: &[&str],
    dir: &Path,
    scratch: &Path,
    env: &[(&str, &str)],
) -> Command {
    let cli_config = scratch.join("empty.tfrc");
    fs::write(&cli_config, "").expect("write empty CLI config");
    let mut cmd = Command::new("terraform");
    cmd.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", &cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("WORKOS_") || k.to_string_lossy().starts_with("TF_VAR_")
        {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd
}

pub(crate) fn terraform_available() -> bool {
    tool_available(Path::new("terraform"), "terraform", "VFR_REQUIRE_TERRAFORM")
}

fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "tf"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn read_tf(dir: &Path) -> String {
    tf_files(dir)
        .iter()
        .map(|p| fs::read_to_string(p).expect("read .tf file"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every directory under `root` holding .tf files (skipping .terraform).
fn terraform_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if !tf_files(&dir).is_empty() {
            out.push(dir.clone());
        }
        for entry in fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() && entry.file_name() != ".terraform" {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The value of a `source = "..."` line, if the line is one.
fn source_value(line: &str) -> Option<&str> {
    let rest = line
        .trim()
        .strip_prefix("source")?
        .trim_start()
        .strip_prefix('=')?;
    rest.trim().strip_prefix('"')?.split('"').next()
}

/// hashicorp/NAME providers required by `dir` and the local modules it calls.
fn required_providers(dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in read_tf(dir).lines() {
        match source_value(line) {
            Some(s) if s.starts_with("hashicorp/") => {
                names.insert(s["hashicorp/".len()..].to_string());
            }
            Some(s) if s.starts_with("./") || s.starts_with("../") => {
                names.extend(required_providers(&dir.join(s)));
            }
            _ => {}
        }
    }
    names
}

fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

fn provider_present(plugins: &Path, name: &str) -> bool {
    let base = plugins.join("registry.terraform.io/hashicorp").join(name);
    fs::read_dir(base)
        .map(|rd| rd.flatten().any(|v| v.path().join(platform()).is_dir()))
        .unwrap_or(false)
}

pub(crate) fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create copy dir");
    for entry in fs::read_dir(from).expect("read dir").flatten() {
        let name = entry.file_name();
        if name == ".terraform" || name == ".terraform.lock.hcl" || name == "terraform.tfstate" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            fs::copy(&path, to.join(&name)).expect("copy file");
        }
    }
}

fn init_and_validate(dir: &Path, scratch: &Path, plugins: &Path) -> Result<(), String> {
    let plugin_arg = format!("-plugin-dir={}", plugins.display());
    let init = terraform(
        &[
            "init",
            "-backend=false",
            "-input=false",
            "-no-color",
            &plugin_arg,
        ],
        dir,
        scratch,
    );
    if !init.success() {
        return Err(format!("terraform init failed:\n{}", init.text()));
    }
    let validate = terraform(&["validate", "-no-color"], dir, scratch);
    if !validate.success() {
        return Err(format!("terraform validate failed:\n{}", validate.text()));
    }
    Ok(())
}

#[test]
fn terraform_files_are_formatted() {
    if !terraform_available() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let out = terraform(
        &[
            "fmt",
            "-check",
            "-recursive",
            "-diff",
            "-no-color",
            "terraform/",
        ],
        &repo(),
        scratch.path(),
    );
    println!("ran: terraform fmt -check -recursive -diff terraform/");
    assert!(
        out.success(),
        "terraform fmt found unformatted files:\n{}",
        out.text()
    );
}

#[test]
fn terraform_dirs_validate() {
    if !terraform_available() {
        return;
    }
    let plugins = plugin_dir();
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("copy");
    copy_tree(&repo().join("terraform"), &tree.join("terraform"));
    let stubbed = scratch.path().join("stubbed");

    let mut failures = Vec::new();
    let mut validated = 0;
    for dir in terraform_dirs(&tree.join("terraform")) {
        let rel = dir.strip_prefix(&tree).unwrap().display().to_string();
        // Terraform refuses ephemeral outputs in a root module: this one is validated by its callers
        // (examples/ecs-ephemeral and the roots below).
        if rel.ends_with("modules/relay-credentials-ephemeral") {
            continue;
        }
        let providers = required_providers(&dir);
        let missing: Vec<&String> = providers
            .iter()
            .filter(|p| !provider_present(&plugins, p))
            .collect();
        if missing.is_empty() {
            match init_and_validate(&dir, scratch.path(), &plugins) {
                Ok(()) => {
                    validated += 1;
                    println!("validated {rel} (providers: {providers:?})");
                }
                Err(e) => failures.push(format!("{rel}: {e}")),
            }
            continue;
        }
        for p in &missing {
            crate::support::note_skip(&format!(
                "terraform validate of {rel}: provider hashicorp/{p} not available in {}",
                plugins.display()
            ));
        }
        // Everything but hashicorp/external is here: check the rest of the configuration against a stub.
        if missing.iter().all(|p| *p == "external") && !rel.ends_with("modules/relay-credentials") {
            if !stubbed.exists() {
                copy_tree(&tree.join("terraform"), &stubbed.join("terraform"));
                stub_relay_credentials(&stubbed.join("terraform/modules/relay-credentials"));
            }
            let stub_dir = stubbed.join(&rel);
            strip_external_requirement(&stub_dir);
            match init_and_validate(&stub_dir, scratch.path(), &plugins) {
                Ok(()) => {
                    validated += 1;
                    println!("validated {rel} with modules/relay-credentials replaced by a stub (no data \"external\")");
                }
                Err(e) => failures.push(format!("{rel} (stubbed): {e}")),
            }
        }
    }
    println!("terraform validate passed in {validated} configuration(s)");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Same variables and outputs, but the result map comes from a variable instead of `data "external"`.
fn stub_relay_credentials(module: &Path) {
    let main = fs::read_to_string(module.join("main.tf")).expect("read main.tf");
    let start = main
        .find("data \"external\" \"relay\" {")
        .expect("data \"external\" \"relay\" block");
    let end = start + main[start..].find("\n}\n").expect("end of data block") + 3;
    let stub = format!(
        "{}{}\nvariable \"stub_result\" {{\n  type    = map(string)\n  default = {{ status = \"not_found\", reason = \"stub\" }}\n}}\n",
        &main[..start],
        &main[end..]
    )
    .replace("data.external.relay.result", "var.stub_result");
    fs::write(module.join("main.tf"), stub).expect("write stub main.tf");
    fs::write(
        module.join("versions.tf"),
        "terraform {\n  required_version = \">= 1.5\"\n}\n",
    )
    .expect("write stub versions.tf");
}

/// Drops the `external = { ... }` entry from required_providers blocks in `dir`.
fn strip_external_requirement(dir: &Path) {
    for file in tf_files(dir) {
        let text = fs::read_to_string(&file).expect("read .tf");
        let mut out = String::new();
        let mut skipping = false;
        for line in text.lines() {
            if !skipping && line.trim() == "external = {" {
                skipping = true;
                continue;
            }
            if skipping {
                if line.trim() == "}" {
                    skipping = false;
                }
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        fs::write(&file, out).expect("write .tf");
    }
}

/// True when every hashicorp provider `what` needs is in the plugin dir; otherwise records a skip (or
/// panics under VFR_REQUIRE_TF_PROVIDERS=1, as in the GitHub workflow).
pub(crate) fn providers_present(providers: &[&str], what: &str) -> bool {
    let plugins = plugin_dir();
    let missing: Vec<&&str> = providers
        .iter()
        .filter(|p| !provider_present(&plugins, p))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{what}: provider(s) {} not available in {} (TF_PLUGIN_DIR)",
        missing
            .iter()
            .map(|p| format!("hashicorp/{p}"))
            .collect::<Vec<_>>()
            .join(", "),
        plugins.display()
    );
    if std::env::var("VFR_REQUIRE_TF_PROVIDERS").as_deref() == Ok("1") {
        panic!("{why} and VFR_REQUIRE_TF_PROVIDERS=1");
    }
    crate::support::note_skip(&why);
    false
}

pub(crate) fn init(dir: &Path, scratch: &Path) {
    let plugin_arg = format!("-plugin-dir={}", plugin_dir().display());
    let init = terraform(
        &[
            "init",
            "-backend=false",
            "-input=false",
            "-no-color",
            &plugin_arg,
        ],
        dir,
        scratch,
    );
    assert!(init.success(), "terraform init failed:\n{}", init.text());
}

/// `terraform test` in `terraform/<rel>` (a copy of the tree, so module paths resolve and nothing is left in
/// the repository), initialised once from the plugin dir.
fn run_terraform_tests(rel: &str, env: &[(&str, &str)]) {
    let scratch = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("terraform"), &scratch.path().join("terraform"));
    let dir = scratch.path().join("terraform").join(rel);
    init(&dir, scratch.path());
    let test = terraform_env(&["test", "-no-color"], &dir, scratch.path(), env);
    let summary = test
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("Success!") || l.starts_with("Failure!"))
        .unwrap_or("(no summary)")
        .to_string();
    println!("ran: terraform test in terraform/{rel}: {summary}");
    assert!(
        test.success(),
        "terraform test in terraform/{rel} failed:\n{}",
        test.text()
    );
    assert!(
        summary.starts_with("Success!") && !summary.contains(" 0 passed"),
        "{summary}"
    );
}

/// `terraform test` in `terraform/<rel>` when terraform and `providers` are here (else a recorded skip).
fn terraform_tests_with(rel: &str, providers: &[&str]) {
    if terraform_available() && providers_present(providers, &format!("terraform test of {rel}")) {
        run_terraform_tests(rel, &[]);
    }
}

#[test]
fn relay_task_definition_terraform_tests() {
    terraform_tests_with("modules/relay-task-definition", &["aws"]);
}

#[test]
fn relay_credentials_terraform_tests() {
    terraform_tests_with("modules/relay-credentials", &["external"]);
}

#[test]
fn ecs_terraform_tests() {
    terraform_tests_with("examples/ecs", &["aws", "external"]);
}

#[test]
fn ecs_secrets_manager_terraform_tests() {
    terraform_tests_with("examples/ecs-secrets-manager", &["aws", "external"]);
}

#[test]
fn ecs_init_container_terraform_tests() {
    terraform_tests_with("examples/ecs-init-container", &["aws"]);
}

/// Every directory with terraform tests has a driver here (a new tests/ folder must not go unrun).
#[test]
fn every_terraform_test_folder_is_driven() {
    let driven = [
        "examples/ecs",
        "examples/ecs-ephemeral",
        "examples/ecs-init-container",
        "examples/ecs-secrets-manager",
        "modules/relay-credentials",
        "modules/relay-task-definition",
    ];
    let root = repo().join("terraform");
    let mut found: Vec<String> = terraform_dirs(&root)
        .into_iter()
        .filter(|d| d.join("tests").is_dir())
        .map(|d| d.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    found.sort();
    assert_eq!(found, driven);
}

/// The ephemeral example end to end (AWS mocked): found -> Secrets Manager by reference, not found -> proxy.
#[test]
fn ecs_ephemeral_terraform_tests() {
    if !terraform_available()
        || !providers_present(
            &["aws", "external", "local"],
            "terraform test of examples/ecs-ephemeral",
        )
    {
        return;
    }
    let server = crate::support::server();
    let creds = crate::support::seed(&server, crate::support::NAME);
    let forbidden = serde_json::json!([
        creds.relay_id.as_str(),
        creds.public_key.as_str(),
        creds.secret_key.expose()
    ])
    .to_string();
    run_terraform_tests(
        "examples/ecs-ephemeral",
        &[
            ("WORKOS_API_KEY", CANARY_KEY),
            ("TF_VAR_workos_api_base", &server.base_url()),
            ("TF_VAR_vault_fetch_relay_program", crate::support::bin()),
            ("TF_VAR_credential_values", &forbidden),
        ],
    );
}

/// How often `needle` occurs in `haystack`.
fn hits(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// A root module in a fresh directory, initialised, applied against `server` with the canary API key in
/// Terraform's environment. Returns the apply run, the state file and `terraform show -json`.
fn apply_root(main_tf: &str, server: &DevServer) -> (Run, String, String) {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    copy_tree(&repo().join("terraform/modules"), &root.join("modules"));
    fs::write(root.join("main.tf"), main_tf).expect("write main.tf");
    init(&root, scratch.path());
    let base = server.base_url();
    let env = [
        ("WORKOS_API_KEY", CANARY_KEY),
        ("TF_VAR_api_base", base.as_str()),
        ("TF_VAR_program", crate::support::bin()),
    ];
    let apply = terraform_env(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &root,
        scratch.path(),
        &env,
    );
    let state = fs::read_to_string(root.join("terraform.tfstate")).unwrap_or_default();
    let show = terraform_env(&["show", "-json", "-no-color"], &root, scratch.path(), &env);
    (apply, state, show.stdout)
}

const ROOT_VARIABLES: &str = r#"
variable "program" { type = string }
variable "api_base" { type = string }
"#;

/// Passes only when the consumer received all three credential values with their real lengths.
fn length_check(expr: &str, creds: &crate::support::RelayCredentials) -> String {
    format!(
        r#"
check "consumer_got_credentials" {{
  assert {{
    condition     = {expr}.status == "found" && length({expr}.relay_id) == {} && length({expr}.public_key) == {} && length({expr}.secret_key) == {}
    error_message = "the consumer did not get the credentials"
  }}
}}
"#,
        creds.relay_id.as_str().len(),
        creds.public_key.as_str().len(),
        creds.secret_key.expose().len()
    )
}

fn check_status(doc: &str, name: &str) -> Option<String> {
    let v: Value = serde_json::from_str(doc).ok()?;
    v["check_results"]
        .as_array()?
        .iter()
        .find(|c| c["config_addr"] == format!("check.{name}"))
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

/// The proof of issue 15: the ephemeral read leaves nothing in the state; `data "external"` leaves everything.
#[test]
fn ephemeral_read_keeps_credentials_out_of_state() {
    if !terraform_available() || !providers_present(&["local"], "the ephemeral state proof") {
        return;
    }
    let server = crate::support::server();
    let creds = crate::support::seed(&server, crate::support::NAME);
    let secrets = [
        ("secret key", creds.secret_key.expose()),
        ("public key", creds.public_key.as_str()),
        ("relay id", creds.relay_id.as_str()),
        ("API key", CANARY_KEY),
    ];

    let ephemeral = format!(
        r#"
terraform {{
  required_providers {{
    local = {{ source = "hashicorp/local", version = ">= 2.7.0, < 3.0" }}
  }}
}}
{ROOT_VARIABLES}
ephemeral "local_command" "relay" {{
  command = var.program
  stdin   = jsonencode({{ api_base = var.api_base }})
}}

locals {{
  relay = jsondecode(ephemeral.local_command.relay.stdout)
}}
{}"#,
        length_check("local.relay", &creds)
    );
    let (apply, state, show) = apply_root(&ephemeral, &server);
    assert!(apply.success(), "terraform apply failed:\n{}", apply.text());
    assert_eq!(
        check_status(&state, "consumer_got_credentials").as_deref(),
        Some("pass"),
        "the ephemeral consumer must have had the credentials:\n{}",
        apply.text()
    );
    assert!(
        state.contains("check_results") && show.contains("\"format_version\""),
        "{show}"
    );
    for (what, value) in secrets {
        assert_eq!(hits(&state, value), 0, "{what} in the state file:\n{state}");
        assert_eq!(
            hits(&show, value),
            0,
            "{what} in terraform show -json:\n{show}"
        );
        assert_eq!(
            hits(&apply.text(), value),
            0,
            "{what} in terraform's output"
        );
    }
    println!("ephemeral \"local_command\": check passed (lengths {}/{}/{}); secret key, public key, relay id, API key: 0 hits in state ({} bytes) and show -json ({} bytes)",
        creds.relay_id.as_str().len(), creds.public_key.as_str().len(), creds.secret_key.expose().len(), state.len(), show.len());

    if !providers_present(
        &["external"],
        "the data \"external\" half of the state proof",
    ) {
        return;
    }
    let external = format!(
        r#"
terraform {{
  required_providers {{
    external = {{ source = "hashicorp/external", version = ">= 2.3, < 3.0" }}
  }}
}}
{ROOT_VARIABLES}
data "external" "relay" {{
  program = [var.program]
  query   = {{ api_base = var.api_base }}
}}
{}"#,
        length_check("data.external.relay.result", &creds)
    );
    let (apply, state, show) = apply_root(&external, &server);
    assert!(apply.success(), "terraform apply failed:\n{}", apply.text());
    for (what, value) in &secrets[..3] {
        assert!(
            hits(&state, value) > 0,
            "{what} should be in the data \"external\" state"
        );
        assert!(
            hits(&show, value) > 0,
            "{what} should be in show -json with data \"external\""
        );
    }
    println!(
        "data \"external\": secret key {} hit(s) in state, {} in show -json",
        hits(&state, secrets[0].1),
        hits(&show, secrets[0].1)
    );
}

fn ephemeral_module_root(extra: &str) -> String {
    format!(
        r#"
{ROOT_VARIABLES}
module "relay" {{
  source   = "./modules/relay-credentials-ephemeral"
  program  = var.program
  api_base = var.api_base
  {extra}
}}

output "status" {{
  value = module.relay.status
}}

output "reason" {{
  value = module.relay.reason
}}
"#
    )
}

/// Bad input through the ephemeral module: strict with the secret missing fails with our one line; the
/// outcome read with a key the vault refuses says unauthorized, never not_found.
#[test]
fn ephemeral_module_reports_bad_input() {
    if !terraform_available()
        || !providers_present(
            &["external", "local"],
            "the ephemeral module's bad-input runs",
        )
    {
        return;
    }
    let server = crate::support::server();
    let (apply, state, _) = apply_root(
        &ephemeral_module_root(
            r#"secret_name = "no-such-secret"
  strict      = true"#,
        ),
        &server,
    );
    assert!(
        !apply.success(),
        "strict with a missing secret must fail:\n{}",
        apply.text()
    );
    // Terraform wraps the program's stderr: compare with whitespace collapsed.
    let text = apply
        .text()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let line = "error: not_found: secret \"no-such-secret\" does not exist in WorkOS Vault";
    assert!(text.contains(line), "{text}");
    // Both reads fail: the outcome read and the ephemeral one (hashicorp/local shows all of stderr).
    assert!(text.contains("External Program Execution Failed"), "{text}");
    assert!(
        text.contains("Command Execution Failed")
            && text.contains(&format!("Command Error: vault-fetch-relay: {line}")),
        "{text}"
    );
    assert!(!state.contains("\"found\""), "{state}");

    // The dev server knows only CANARY_KEY: another key is refused with 401.
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    copy_tree(&repo().join("terraform/modules"), &root.join("modules"));
    fs::write(root.join("main.tf"), ephemeral_module_root("")).unwrap();
    init(&root, scratch.path());
    let base = server.base_url();
    let apply = terraform_env(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &root,
        scratch.path(),
        &[
            ("WORKOS_API_KEY", "sk_test_wrong_key_0123456789"),
            ("TF_VAR_api_base", &base),
            ("TF_VAR_program", crate::support::bin()),
        ],
    );
    assert!(
        apply.success(),
        "a refused key degrades (not strict):\n{}",
        apply.text()
    );
    let output = terraform(&["output", "-raw", "status"], &root, scratch.path());
    assert_eq!(output.stdout, "unauthorized", "{}", apply.text());
    assert!(
        apply.text().contains("status unauthorized"),
        "{}",
        apply.text()
    );
    assert!(!apply.text().contains("not_found"), "{}", apply.text());
}
