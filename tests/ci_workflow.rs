//! The GitHub workflow: valid YAML, actions pinned by version, and the same checks
//! and test command as `.ci/run` (the README's).

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

fn workflow() -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/ci.yml");
    YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .remove(0)
}

fn steps<'a>(wf: &'a Yaml, job: &str) -> &'a Vec<Yaml> {
    wf["jobs"][job]["steps"]
        .as_vec()
        .unwrap_or_else(|| panic!("job {job} has no steps"))
}

#[test]
fn runs_on_push_and_pull_request() {
    let wf = workflow();
    // yaml_rust2 reads YAML 1.2, where `on` is a plain string key (GitHub agrees).
    let on = format!("{:?}", wf["on"]);
    assert!(on.contains("push") && on.contains("pull_request"), "{on}");
}

#[test]
fn every_action_is_pinned_to_a_version() {
    let wf = workflow();
    for (job, _) in wf["jobs"].as_hash().unwrap() {
        for step in steps(&wf, job.as_str().unwrap()) {
            if let Some(uses) = step["uses"].as_str() {
                let (_, version) = uses
                    .split_once('@')
                    .unwrap_or_else(|| panic!("{uses} has no @version"));
                let pinned = version.starts_with('v')
                    && version[1..].starts_with(|c: char| c.is_ascii_digit())
                    || version.chars().all(|c| c.is_ascii_digit() || c == '.')
                    || (version.len() == 40 && version.chars().all(|c| c.is_ascii_hexdigit()));
                assert!(pinned, "{uses} is not pinned to a version");
            }
        }
    }
}

#[test]
fn the_test_job_runs_the_checks_and_the_readme_test_command() {
    let wf = workflow();
    let runs: Vec<&str> = steps(&wf, "test")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    let all = runs.join("\n");
    for want in [
        "cargo fmt --all -- --check",
        "clippy",
        "-D warnings",
        "bash scripts/test",
        "terraform fmt -check",
    ] {
        assert!(all.contains(want), "the test job does not run {want:?}");
    }
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        ci.contains("bash scripts/test"),
        ".ci/run must run the README's test command"
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains("\nbash scripts/test "),
        "README must give the test command"
    );
    let release = format!("{:?}", wf["jobs"]["release"]);
    assert!(
        release.contains("aarch64") && release.contains("x86_64"),
        "{release}"
    );
}

/// The workflow mirrors pinned providers, hashicorp/local new enough for ephemeral "local_command" (2.7.0),
/// and the step that runs the tests makes a missing provider a failure instead of a skip.
#[test]
fn the_test_job_pins_and_requires_the_terraform_providers() {
    let wf = workflow();
    let steps = steps(&wf, "test");
    let mirror = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("terraform providers mirror"))
        .expect("a step mirrors the terraform providers");
    let pinned = |name: &str| -> Vec<u32> {
        let line = mirror
            .lines()
            .find(|l| l.contains(&format!("\"hashicorp/{name}\"")))
            .unwrap_or_else(|| panic!("hashicorp/{name} is not mirrored"));
        let version = line
            .split("version = \"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or_else(|| panic!("hashicorp/{name} has no version: {line}"));
        version
            .split('.')
            .map(|p| {
                p.parse()
                    .unwrap_or_else(|_| panic!("hashicorp/{name} is not pinned exactly: {version}"))
            })
            .collect()
    };
    assert!(
        pinned("local") >= vec![2, 7, 0],
        "hashicorp/local must be >= 2.7.0"
    );
    assert_eq!(pinned("aws")[0], 5);
    assert_eq!(pinned("external")[0], 2);
    let tests = steps
        .iter()
        .find(|s| s["run"].as_str() == Some("bash scripts/test"))
        .expect("a step runs bash scripts/test");
    assert_eq!(tests["env"]["VFR_REQUIRE_TF_PROVIDERS"].as_str(), Some("1"));
    assert_eq!(tests["env"]["VFR_REQUIRE_TERRAFORM"].as_str(), Some("1"));
}
