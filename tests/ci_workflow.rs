//! The GitHub workflows, read with a YAML parser (and checked by actionlint): every action pinned to a
//! commit, CI running the README's test command with fmt and clippy once, the image built and tested on
//! pull requests, and a tag-triggered release that builds, checksums, signs and attests what it ships.
//! One toolchain everywhere: rust-toolchain.toml, Cargo.toml's rust-version and the Dockerfile agree.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{repo, run_tool};

fn workflow_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap();
    let mut docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

fn workflow(name: &str) -> Yaml {
    load(&repo().join(".github/workflows").join(name))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap()
}

fn jobs(wf: &Yaml) -> Vec<(&str, &Yaml)> {
    wf["jobs"]
        .as_hash()
        .expect("jobs")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap(), v))
        .collect()
}

fn steps<'a>(wf: &'a Yaml, job: &str) -> &'a [Yaml] {
    wf["jobs"][job]["steps"]
        .as_vec()
        .unwrap_or_else(|| panic!("job {job} has no steps"))
}

/// The `run:` scripts of a job, joined.
fn runs(wf: &Yaml, job: &str) -> String {
    steps(wf, job)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The steps of a job that use `action` (owner/name, any ref).
fn uses<'a>(wf: &'a Yaml, job: &str, action: &str) -> Vec<&'a Yaml> {
    steps(wf, job)
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next() == Some(action))
        })
        .collect()
}

fn strings(y: &Yaml) -> Vec<&str> {
    match y {
        Yaml::String(s) => vec![s.as_str()],
        Yaml::Array(a) => a.iter().filter_map(Yaml::as_str).collect(),
        _ => vec![],
    }
}

#[test]
fn every_action_in_every_workflow_is_pinned_to_a_full_commit_sha() {
    let files = workflow_files();
    assert!(files.len() >= 2, "{files:?}");
    let mut seen = 0;
    for file in &files {
        let wf = load(file);
        for (job, body) in jobs(&wf) {
            // A reusable workflow (`jobs.X.uses`) is pinned the same way.
            let job_uses = body["uses"].as_str().into_iter();
            let step_uses = body["steps"]
                .as_vec()
                .into_iter()
                .flatten()
                .filter_map(|s| s["uses"].as_str());
            for u in job_uses.chain(step_uses) {
                seen += 1;
                let (_, rev) = u
                    .split_once('@')
                    .unwrap_or_else(|| panic!("{}: {job}: {u} has no @ref", file.display()));
                assert!(
                    rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()),
                    "{}: {job}: {u} is not pinned to a 40-hex commit SHA",
                    file.display()
                );
            }
        }
    }
    assert!(seen > 10, "only {seen} actions found");
}

#[test]
fn actionlint_and_shellcheck_accept_every_workflow() {
    let Some((actionlint, shellcheck)) = crate::support::actionlint() else {
        return;
    };
    let mut c = Command::new(actionlint);
    c.current_dir(repo())
        .arg("-no-color")
        .arg(format!("-shellcheck={}", shellcheck.display()))
        .args(workflow_files());
    let run = run_tool(c);
    assert!(run.success(), "actionlint:\n{}", run.text());
}

#[test]
fn ci_runs_the_readme_test_command_with_fmt_and_clippy_once() {
    let wf = workflow("ci.yml");
    // yaml_rust2 reads YAML 1.2, where `on` is a plain string key (GitHub agrees).
    assert!(
        !wf["on"]["pull_request"].is_badvalue(),
        "ci runs on pull requests"
    );
    assert!(
        strings(&wf["on"]["push"]["branches"]).contains(&"main"),
        "ci runs on pushes to main"
    );
    let test = runs(&wf, "test");
    assert!(test.contains("bash scripts/test"), "{test}");
    assert!(test.contains("terraform fmt -check"), "{test}");
    // fmt and clippy are in scripts/test (so a local run checks them too); the workflow must not repeat them.
    let script = read("scripts/test");
    for tool in ["cargo fmt", "cargo clippy"] {
        assert!(script.contains(tool), "scripts/test runs {tool}");
        for (job, _) in jobs(&wf) {
            assert!(
                !runs(&wf, job).contains(tool),
                "ci job {job} runs {tool} a second time"
            );
        }
    }
    assert!(
        script.contains("cargo clippy --no-default-features"),
        "scripts/test checks the lean build"
    );
    assert!(
        script.contains("cargo build --quiet --locked --no-default-features")
            && script.contains("is not in this build"),
        "scripts/test runs the lean binary: dev-server and demo refused in one line"
    );
    assert!(
        read(".ci/run").contains("bash scripts/test"),
        ".ci/run must run the README's test command"
    );
    assert!(
        read("README.md").contains("\n$ bash scripts/test "),
        "README must give the test command"
    );
    // Everyday CI publishes nothing: binaries come from releases.
    for (job, _) in jobs(&wf) {
        assert!(
            uses(&wf, job, "actions/upload-artifact").is_empty(),
            "ci job {job} uploads artifacts"
        );
    }
}

#[test]
fn ci_builds_the_image_without_pushing_and_tests_it() {
    let wf = workflow("ci.yml");
    let builds = uses(&wf, "image", "docker/build-push-action");
    assert_eq!(builds.len(), 2, "the image and its dev-server twin");
    for b in &builds {
        assert_eq!(b["with"]["push"].as_bool(), Some(false), "{b:?}");
        assert_eq!(b["with"]["load"].as_bool(), Some(true), "{b:?}");
    }
    let tag = |b: &Yaml| b["with"]["tags"].as_str().unwrap().to_string();
    assert_eq!(
        builds[0]["with"]["build-args"],
        Yaml::BadValue,
        "the image under test is the default (minimal) build"
    );
    assert_eq!(
        builds[1]["with"]["build-args"].as_str(),
        Some("CARGO_FEATURES=")
    );
    let test = runs(&wf, "image");
    assert!(
        test.contains(&format!(
            "bash scripts/test-image.sh {} {}",
            tag(builds[0]),
            tag(builds[1])
        )),
        "{test}"
    );
    assert!(repo().join("scripts/test-image.sh").is_file());
}

#[test]
fn release_runs_on_version_tags_only_and_builds_every_target_in_both_flavours() {
    let wf = workflow("release.yml");
    let on = wf["on"].as_hash().unwrap();
    assert_eq!(on.len(), 1, "release runs on tag pushes only: {on:?}");
    assert_eq!(strings(&wf["on"]["push"]["tags"]), ["v*.*.*"]);
    assert!(wf["on"]["push"]["branches"].is_badvalue());
    // Nothing by default; jobs ask for what they need.
    assert!(wf["permissions"].as_hash().is_some_and(|h| h.is_empty()));

    let targets: Vec<&str> = wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    for want in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(
            targets.contains(&want),
            "release builds {want}: {targets:?}"
        );
    }
    let build = runs(&wf, "build");
    assert!(
        build.contains("--no-default-features"),
        "the minimal flavour"
    );
    for flavor in ["--flavor full", "--flavor minimal"] {
        assert!(build.contains(flavor), "package step with {flavor}");
    }
    assert!(build.contains("bash scripts/package-release.sh"), "{build}");
    assert!(runs(&wf, "plan").contains("bash scripts/release-notes.sh"));
    assert!(
        runs(&wf, "sbom").contains("cargo cyclonedx"),
        "a CycloneDX SBOM"
    );
}

#[test]
fn release_checksums_signs_and_attests_archives_and_the_image() {
    let wf = workflow("release.yml");
    let perms = |job: &str, scope: &str| {
        wf["jobs"][job]["permissions"][scope]
            .as_str()
            .map(str::to_owned)
    };
    for job in ["publish", "image"] {
        assert_eq!(
            perms(job, "id-token").as_deref(),
            Some("write"),
            "{job}: keyless signing"
        );
        assert_eq!(
            perms(job, "attestations").as_deref(),
            Some("write"),
            "{job}: attestations"
        );
        assert_eq!(
            uses(&wf, job, "actions/attest-build-provenance").len(),
            1,
            "{job}"
        );
        assert_eq!(
            uses(&wf, job, "sigstore/cosign-installer").len(),
            1,
            "{job}"
        );
    }
    let publish = runs(&wf, "publish");
    assert!(
        publish.contains("SHA256SUMS") && publish.contains("sha256sum -c"),
        "{publish}"
    );
    assert!(
        publish.contains("cosign sign-blob --yes --bundle"),
        "{publish}"
    );
    assert!(publish.contains("gh release create"), "{publish}");
    let attest = &uses(&wf, "publish", "actions/attest-build-provenance")[0]["with"];
    assert_eq!(
        attest["subject-checksums"].as_str(),
        Some("dist/SHA256SUMS")
    );

    assert_eq!(perms("image", "packages").as_deref(), Some("write"));
    let push = &uses(&wf, "image", "docker/build-push-action")[0]["with"];
    assert_eq!(push["push"].as_bool(), Some(true));
    let platforms = push["platforms"].as_str().unwrap();
    assert!(
        platforms.contains("linux/amd64") && platforms.contains("linux/arm64"),
        "{platforms}"
    );
    assert!(runs(&wf, "image").contains("cosign sign --yes"));
    let attest = &uses(&wf, "image", "actions/attest-build-provenance")[0]["with"];
    assert_eq!(attest["push-to-registry"].as_bool(), Some(true));
    // The image name the docs give: ghcr.io/OWNER/vault-fetch-relay, OWNER = the repository's owner.
    let name = runs(&wf, "image");
    assert!(
        name.contains("ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/vault-fetch-relay"),
        "{name}"
    );
    assert!(read("README.md").contains("ghcr.io/OWNER/vault-fetch-relay"));
    assert!(read("docs/install.md").contains("cosign verify ghcr.io/OWNER/vault-fetch-relay"));
}

#[test]
fn one_toolchain_in_rust_toolchain_toml_cargo_toml_and_the_dockerfile() {
    let toolchain = read("rust-toolchain.toml");
    let channel = toolchain
        .lines()
        .find_map(|l| l.strip_prefix("channel = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("rust-toolchain.toml names a channel");
    assert!(
        channel.split('.').count() == 3 && channel.split('.').all(|p| p.parse::<u32>().is_ok()),
        "a pinned X.Y.Z, not {channel:?}"
    );
    let cargo = read("Cargo.toml");
    let rust_version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("Cargo.toml states rust-version");
    assert!(
        channel.starts_with(rust_version),
        "{channel} vs rust-version {rust_version}"
    );
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.contains(&format!(" rust:{channel}-")),
        "the Dockerfile's builder is rust:{channel}"
    );
    // The toolchain action is pinned to the commit of its branch for the same version.
    for file in workflow_files() {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            if line.contains("uses: dtolnay/rust-toolchain@") {
                assert!(
                    line.contains(&format!("# {channel}")),
                    "{}: {line}",
                    file.display()
                );
            }
        }
    }
}

/// The workflow mirrors pinned providers, hashicorp/local new enough for ephemeral "local_command" (2.7.0),
/// and the step that runs the tests makes a missing provider a failure instead of a skip.
#[test]
fn the_test_job_pins_and_requires_the_terraform_providers() {
    let wf = workflow("ci.yml");
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

/// The Dockerfile's base images are pinned by tag and by digest (a tag can be re-pushed), and
/// Dependabot's docker ecosystem is what keeps the digests current.
#[test]
fn base_images_are_pinned_by_tag_and_digest_with_an_update_path() {
    let dockerfile = read("Dockerfile");
    let mut stages: Vec<String> = Vec::new();
    let mut images = 0;
    for line in dockerfile.lines().filter(|l| l.starts_with("FROM ")) {
        let words: Vec<&str> = line
            .split_whitespace()
            .skip(1)
            .filter(|w| !w.starts_with("--platform="))
            .collect();
        let image = words[0];
        if let Some(i) = words.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
            stages.push(words[i + 1].to_string());
        }
        if stages.iter().any(|s| s == image) {
            continue;
        }
        images += 1;
        let (reference, digest) = image
            .split_once("@sha256:")
            .unwrap_or_else(|| panic!("{line}: not pinned by digest"));
        assert!(
            digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()),
            "{line}: the digest is not 64 hex digits"
        );
        let tag = reference.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        assert!(
            !tag.is_empty() && !tag.contains('/'),
            "{line}: name a tag too"
        );
    }
    assert_eq!(images, 2, "the builder and the runtime image");
    let dependabot = load(&repo().join(".github/dependabot.yml"));
    let docker = dependabot["updates"]
        .as_vec()
        .expect("dependabot.yml lists updates")
        .iter()
        .find(|u| u["package-ecosystem"].as_str() == Some("docker"))
        .expect("dependabot.yml updates the docker ecosystem");
    assert_eq!(docker["directory"].as_str(), Some("/"));
}
