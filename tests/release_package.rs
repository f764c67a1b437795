//! scripts/package-release.sh, the archive step of .github/workflows/release.yml, run on this host's
//! build of the binary: the archive holds what the release promises and its checksum verifies.
//!
//! The binary packaged is a stand-in: a small executable script that runs this host's build, so
//! the script still checks the version, the flavour, and generates every completion and the man
//! page from it, and the archive's copy still runs. Packaging the 65 MB debug build itself only
//! timed `gzip -9` (most of this test's 28 s).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{bin, note_skip, repo, run_tool};

fn package(out: &Path, binary: &Path, extra: &[&str]) -> crate::support::Run {
    let mut c = Command::new("bash");
    c.arg(repo().join("scripts/package-release.sh"))
        .arg("--bin")
        .arg(binary)
        .args(["--target", "x86_64-unknown-linux-musl"])
        .arg("--out")
        .arg(out)
        .args(extra);
    run_tool(c)
}

/// The subcommands the archive's completions and man page come from (issue 12 adds them).
fn has_doc_subcommands() -> bool {
    let help = run_tool(crate::support::cmd(&["--help"])).stdout;
    help.contains("\n  completions ") && help.contains("\n  man ")
}

/// An executable stand-in for the release binary in `dir`: a script that runs this host's build.
/// A child writes it, so no write descriptor of this (threaded) process can be inherited by a
/// concurrent fork and make executing it fail with ETXTBSY.
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("vault-fetch-relay");
    let mut write = Command::new("sh");
    write
        .args([
            "-c",
            r#"printf '#!/bin/sh\nexec "%s" "$@"\n' "$2" >"$1" && chmod 0755 "$1""#,
            "sh",
        ])
        .arg(&path)
        .arg(bin());
    let run = run_tool(write);
    assert!(run.success(), "{}", run.text());
    path
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    ring::digest::digest(&ring::digest::SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_archive_holds_binary_license_docs_completions_and_man_page_with_a_verifying_checksum() {
    let out = tempfile::tempdir().unwrap();
    let input = tempfile::tempdir().unwrap();
    let binary = stand_in(input.path());
    let run = package(out.path(), &binary, &[]);
    let version = env!("CARGO_PKG_VERSION");
    if !has_doc_subcommands() {
        // Without them there is nothing honest to package: the script must refuse, saying why.
        assert!(
            !run.success(),
            "packaged without completions: {}",
            run.text()
        );
        assert!(
            run.stderr
                .contains("completions and man subcommands are needed"),
            "{}",
            run.stderr
        );
        note_skip("release archive contents: this build has no completions/man subcommands");
        return;
    }
    assert!(run.success(), "{}", run.text());
    let dir = format!("vault-fetch-relay-{version}-x86_64-unknown-linux-musl");
    let archive = out.path().join(format!("{dir}.tar.gz"));
    assert_eq!(run.stdout.trim(), archive.display().to_string());

    // The .sha256 file is what `sha256sum -c` reads, naming the file as downloaded.
    let sum_file = out.path().join(format!("{dir}.tar.gz.sha256"));
    let line = std::fs::read_to_string(&sum_file).unwrap();
    assert_eq!(line, format!("{}  {dir}.tar.gz\n", sha256_hex(&archive)));
    let mut check = Command::new("sha256sum");
    check.current_dir(out.path()).arg("-c").arg(&sum_file);
    let checked = run_tool(check);
    assert!(checked.success(), "{}", checked.text());

    let mut list = Command::new("tar");
    list.arg("-tzf").arg(&archive);
    let listing = run_tool(list);
    assert!(listing.success(), "{}", listing.text());
    let mut entries: Vec<&str> = listing.stdout.lines().collect();
    entries.sort_unstable();
    let want: Vec<String> = [
        "",
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "complete/",
        "complete/_vault-fetch-relay",
        "complete/_vault-fetch-relay.ps1",
        "complete/vault-fetch-relay.bash",
        "complete/vault-fetch-relay.fish",
        "doc/",
        "doc/vault-fetch-relay.1",
        "vault-fetch-relay",
    ]
    .iter()
    .map(|e| format!("{dir}/{e}"))
    .collect();
    assert_eq!(entries, want);

    let unpacked = tempfile::tempdir().unwrap();
    let mut untar = Command::new("tar");
    untar
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(unpacked.path());
    assert!(run_tool(untar).success());
    let root: PathBuf = unpacked.path().join(&dir);
    let same = |name: &str, original: &Path| {
        assert_eq!(
            std::fs::read(root.join(name)).unwrap(),
            std::fs::read(original).unwrap(),
            "{name} differs from {}",
            original.display()
        );
    };
    same("vault-fetch-relay", &binary);
    same("LICENSE", &repo().join("LICENSE"));
    same("README.md", &repo().join("README.md"));
    same("CHANGELOG.md", &repo().join("CHANGELOG.md"));
    let packed = root.join("vault-fetch-relay");
    let mut packed_version = Command::new(&packed);
    packed_version.arg("--version");
    let version_run = run_tool(packed_version);
    assert_eq!(
        version_run.stdout.trim(),
        format!("vault-fetch-relay {version}")
    );
    // Each generated file is what the binary prints for it.
    for (file, args) in [
        (
            "complete/vault-fetch-relay.bash",
            &["completions", "bash"][..],
        ),
        ("complete/_vault-fetch-relay", &["completions", "zsh"]),
        ("complete/vault-fetch-relay.fish", &["completions", "fish"]),
        (
            "complete/_vault-fetch-relay.ps1",
            &["completions", "powershell"],
        ),
        ("doc/vault-fetch-relay.1", &["man"]),
    ] {
        let printed = run_tool(crate::support::cmd(args)).stdout;
        assert!(printed.contains("vault-fetch-relay"), "{file}: {printed}");
        assert_eq!(std::fs::read_to_string(root.join(file)).unwrap(), printed);
    }
}

#[test]
fn a_full_build_cannot_document_a_minimal_archive_nor_another_version() {
    let out = tempfile::tempdir().unwrap();
    let input = tempfile::tempdir().unwrap();
    let binary = stand_in(input.path());
    // Checked before anything is written: a wrong generator would ship the wrong completions.
    let run = package(out.path(), &binary, &["--flavor", "minimal"]);
    assert!(!run.success());
    assert!(
        run.stderr
            .contains("is a full build but --flavor is minimal"),
        "{}",
        run.stderr
    );
    let run = package(out.path(), &binary, &["--version", "9.9.9"]);
    assert!(!run.success());
    assert!(
        run.stderr.contains("expected 'vault-fetch-relay 9.9.9'"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

/// scripts/release-notes.sh from a copy of the repository's release inputs, with `changelog`.
fn release_notes(tag: &str, changelog: Option<&str>) -> crate::support::Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    for f in ["scripts/release-notes.sh", "Cargo.toml", "CHANGELOG.md"] {
        std::fs::copy(repo().join(f), dir.path().join(f)).unwrap();
    }
    if let Some(text) = changelog {
        std::fs::write(dir.path().join("CHANGELOG.md"), text).unwrap();
    }
    let mut c = Command::new("bash");
    c.arg(dir.path().join("scripts/release-notes.sh")).arg(tag);
    run_tool(c)
}

#[test]
fn release_notes_are_the_changelog_section_of_the_tag_that_matches_cargo_toml() {
    let version = env!("CARGO_PKG_VERSION");
    let run = release_notes(&format!("v{version}"), None);
    assert!(run.success(), "{}", run.text());
    let changelog = std::fs::read_to_string(repo().join("CHANGELOG.md")).unwrap();
    let heading = format!("## [{version}]");
    let section = &changelog[changelog
        .find(&heading)
        .expect("a section for this version")..];
    let body = section[heading.len()..].trim_start();
    let first = run.stdout.lines().next().unwrap();
    assert!(body.starts_with(first), "{first:?}");
    assert!(
        !run.stdout.contains("## ["),
        "one section only: {}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("]: https://"),
        "no link references: {}",
        run.stdout
    );

    let run = release_notes("v99.0.0", None);
    assert!(!run.success());
    assert!(
        run.stderr
            .contains(&format!("Cargo.toml says version \"{version}\"")),
        "{}",
        run.stderr
    );
    let run = release_notes(version, None);
    assert!(!run.success());
    assert!(run.stderr.contains("is not vX.Y.Z"), "{}", run.stderr);
    let empty =
        format!("# Changelog\n\n## [Unreleased]\n- x\n\n## [{version}]\n\n## [0.0.1]\n- y\n");
    let run = release_notes(&format!("v{version}"), Some(&empty));
    assert!(!run.success(), "{}", run.text());
    assert!(run.stderr.contains("has no notes under"), "{}", run.stderr);
}
