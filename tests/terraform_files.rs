//! Checks for the Terraform files under `terraform/` (std only).
//!
//! - `terraform fmt -check -recursive -diff terraform/`
//! - `terraform init -backend=false -plugin-dir=...` + `terraform validate` for every root or module whose
//!   providers are all in the plugin dir (`TF_PLUGIN_DIR`, default `/opt/tf-plugins`), in a copy of the tree
//!   under a temp dir so no `.terraform` directory is left in the repository.
//! - Directories that need `hashicorp/external` when it is absent are reported as skipped, then validated once
//!   more against a stub of `modules/relay-credentials` (same variables and outputs, no data source).
//! - An offline `terraform plan` of `modules/relay-task-definition` checks the proxy/managed environment.
//!
//! A missing `terraform` binary skips everything, unless `VFR_REQUIRE_TERRAFORM=1` (set by the GitHub
//! workflow, which installs terraform; no package registry reachable here provides it).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{repo, run_tool, tool_available, Run};

fn plugin_dir() -> PathBuf {
    std::env::var_os("TF_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"))
}

/// Runs terraform in `dir` with an empty CLI config and no prompts, bounded by crate::support::CHILD_TIMEOUT.
fn terraform(args: &[&str], dir: &Path, scratch: &Path) -> Run {
    let cli_config = scratch.join("empty.tfrc");
    fs::write(&cli_config, "").expect("write empty CLI config");
    let mut cmd = Command::new("terraform");
    cmd.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", &cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG");
    run_tool(cmd)
}

fn terraform_available() -> bool {
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

fn copy_tree(from: &Path, to: &Path) {
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

/// Offline plan of the aws-only task-definition module: proxy without credentials, managed with them.
#[test]
fn task_definition_plan_sets_mode_and_omits_empty_credentials() {
    if !terraform_available() {
        return;
    }
    let plugins = plugin_dir();
    if !provider_present(&plugins, "aws") {
        crate::support::note_skip(&format!(
            "task-definition plan: provider hashicorp/aws not available in {}",
            plugins.display()
        ));
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    copy_tree(
        &repo().join("terraform/modules/relay-task-definition"),
        &root.join("module"),
    );
    fs::write(
        root.join("main.tf"),
        r#"
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

module "proxy" {
  source        = "./module"
  family        = "proxy"
  backend_image = "backend"
}

module "managed" {
  source            = "./module"
  family            = "managed"
  backend_image     = "backend"
  relay_credentials = { id = "id-1", public_key = "pk-1", secret_key = "sk-1" }
}

module "secrets_manager" {
  source                       = "./module"
  family                       = "secrets-manager"
  backend_image                = "backend"
  execution_role_arn           = "arn:aws:iam::123456789012:role/exec"
  relay_credentials_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay"
}
"#,
    )
    .expect("write root");
    let plugin_arg = format!("-plugin-dir={}", plugins.display());
    let init = terraform(
        &[
            "init",
            "-backend=false",
            "-input=false",
            "-no-color",
            &plugin_arg,
        ],
        &root,
        scratch.path(),
    );
    assert!(init.success(), "terraform init failed:\n{}", init.text());
    let plan = terraform(
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-lock=false",
            "-refresh=false",
            "-out=plan.bin",
        ],
        &root,
        scratch.path(),
    );
    assert!(plan.success(), "terraform plan failed:\n{}", plan.text());
    let show = terraform(&["show", "-json", "plan.bin"], &root, scratch.path());
    assert!(show.success(), "terraform show failed:\n{}", show.text());
    println!("ran: offline terraform plan of modules/relay-task-definition (proxy, managed, secrets manager)");

    // container_definitions is a JSON string inside the plan JSON: compare without escapes and spaces.
    let plain: String = show
        .text()
        .chars()
        .filter(|c| *c != '\\' && !c.is_whitespace())
        .collect();
    let definitions = |family: &str| -> String {
        let marker = format!("\"family\":\"{family}\"");
        let resource = plain
            .split("\"address\":\"module.")
            .find(|chunk| chunk.contains(&marker) && chunk.contains("container_definitions"))
            .unwrap_or_else(|| panic!("no planned task definition for {family}"));
        let start = resource.find("\"container_definitions\":").unwrap();
        resource[start..].to_string()
    };
    let env = |name: &str, value: &str| format!("{{\"name\":\"{name}\",\"value\":\"{value}\"}}");

    let proxy = definitions("proxy");
    assert!(proxy.contains(&env("RELAY_MODE", "proxy")), "{proxy}");
    for var in ["RELAY_ID", "RELAY_PUBLIC_KEY", "RELAY_SECRET_KEY"] {
        assert!(
            !proxy.contains(var),
            "proxy mode must not set {var}: {proxy}"
        );
    }

    let managed = definitions("managed");
    assert!(managed.contains(&env("RELAY_MODE", "managed")), "{managed}");
    assert!(managed.contains(&env("RELAY_ID", "id-1")), "{managed}");
    assert!(
        managed.contains(&env("RELAY_PUBLIC_KEY", "pk-1")),
        "{managed}"
    );
    assert!(
        managed.contains(&env("RELAY_SECRET_KEY", "sk-1")),
        "{managed}"
    );

    let sm = definitions("secrets-manager");
    assert!(sm.contains(&env("RELAY_MODE", "managed")), "{sm}");
    assert!(
        sm.contains("{\"name\":\"RELAY_PUBLIC_KEY\",\"valueFrom\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:relay:public_key::\"}"),
        "{sm}"
    );
    assert!(!sm.contains("\"value\":\"sk-1\""), "{sm}");
}

/// Text of the `KIND "NAME" {` block (up to the first line that is a lone `}`).
fn block<'a>(text: &'a str, header: &str) -> &'a str {
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("missing block {header}"));
    let end = text[start..].find("\n}").map_or(text.len(), |e| start + e);
    &text[start..end]
}

#[test]
fn relay_credentials_module_interface() {
    let module = repo().join("terraform/modules/relay-credentials");
    let variables = fs::read_to_string(module.join("variables.tf")).unwrap();
    let main = fs::read_to_string(module.join("main.tf")).unwrap();
    let outputs = fs::read_to_string(module.join("outputs.tf")).unwrap();
    let versions = fs::read_to_string(module.join("versions.tf")).unwrap();

    let key = block(&variables, "variable \"workos_api_key\"");
    assert!(
        key.lines()
            .any(|l| l.split_whitespace().collect::<String>() == "sensitive=true"),
        "workos_api_key must be sensitive:\n{key}"
    );
    for (name, default) in [
        ("secret_name", "\"runlayer-sentry-credentials\""),
        ("api_base", "\"https://api.workos.com\""),
        ("strict", "false"),
        ("timeout_seconds", "30"),
        ("program", "\"vault-fetch-relay\""),
    ] {
        let b = block(&variables, &format!("variable \"{name}\""));
        assert!(
            b.lines()
                .any(|l| l.split_whitespace().collect::<String>() == format!("default={default}")),
            "{name} should default to {default}:\n{b}"
        );
    }

    for name in ["credentials", "found", "status", "version_id", "reason"] {
        block(&outputs, &format!("output \"{name}\""));
    }
    let credentials = block(&outputs, "output \"credentials\"");
    assert!(credentials.contains("sensitive   = true"), "{credentials}");
    for field in ["public_key", "secret_key", "relay_id", "sentry_dsn"] {
        assert!(credentials.contains(field), "credentials lacks {field}");
    }

    let data = block(&main, "data \"external\" \"relay\"");
    assert!(data.contains("program = [var.program]"), "{data}");
    assert!(data.contains("tostring(var.strict)"), "{data}");
    assert!(data.contains("tostring(var.timeout_seconds)"), "{data}");
    let check = block(&main, "check \"");
    assert!(
        check.contains("assert {") && check.contains("\"found\""),
        "{check}"
    );
    assert!(
        !check.contains("data \""),
        "the check must not scope its own data source"
    );

    assert!(versions.contains("\"hashicorp/external\""));
    assert!(versions.contains("\"~> 2.3\""));
    assert!(versions.contains("\">= 1.5\""));
}

#[test]
fn ecs_examples_never_pass_empty_relay_credentials() {
    for example in ["ecs", "ecs-secrets-manager"] {
        let text = read_tf(&repo().join("terraform/examples").join(example));
        assert!(
            text.contains("source = \"../../modules/relay-credentials\""),
            "{example} must use the module"
        );
        // Credentials reach the task definition only behind the `found` switch.
        assert!(text.contains("module.relay_credentials.found"), "{example}");
    }
    let sm = read_tf(&repo().join("terraform/modules/relay-secret"));
    assert!(
        sm.contains("secret_string_wo "),
        "relay-secret must use secret_string_wo"
    );
    assert!(sm.contains("secret_string_wo_version"));
    assert!(
        !sm.contains("secret_string ="),
        "relay-secret must not store the value in state"
    );
}
