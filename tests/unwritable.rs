//! A destination directory this process cannot write into is refused before any
//! request, with one line naming the directory, the uid and the fix (README, "One rule
//! per question"). The case that matters: a non-root container (uid 65532, our image's)
//! writing a volume that starts owned by root with mode 0755, as a Fargate bind mount
//! does. The binary runs as uid 65532 here, which needs root to arrange.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::*;

/// The image's user.
const UID: u32 = 65532;

/// A scratch directory every uid can traverse (tempfile's are 0700, and so may be the
/// TMPDIR the suite was started with): under cargo's target tmp dir, mode 0755.
fn open_scratch() -> Option<tempfile::TempDir> {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let traversable = base
        .ancestors()
        .all(|a| fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    if !traversable {
        note_skip(&format!(
            "unwritable: {} is not traversable by other uids",
            base.display()
        ));
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("unwritable-")
        .tempdir_in(&base)
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    Some(dir)
}

/// The binary, copied where uid 65532 may run it (cargo's copy has the mode the
/// launching umask gave it, 0700 under `umask 077`), run as that uid and gid.
fn as_uid(binary: &Path, s: &DevServer, args: &[&str]) -> Command {
    let mut c = Command::new(binary);
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url());
    hermetic(&mut c);
    unsafe {
        c.pre_exec(|| {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(UID) != 0
                || libc::setuid(UID) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c
}

#[test]
fn a_non_root_run_into_a_root_owned_0755_directory_is_refused_before_any_request() {
    if unsafe { libc::geteuid() } != 0 {
        note_skip("unwritable: not root, so the binary cannot be run as uid 65532");
        return;
    }
    let Some(scratch) = open_scratch() else {
        return;
    };
    let binary = scratch.path().join("vault-fetch-relay");
    fs::copy(bin(), &binary).unwrap();
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
    // Root-owned (we are root), 0755: what a Fargate bind mount starts as.
    let volume = scratch.path().join("relay");
    fs::create_dir(&volume).unwrap();
    fs::set_permissions(&volume, fs::Permissions::from_mode(0o755)).unwrap();
    let s = server();
    seed(&s, NAME);
    let v = volume.to_str().unwrap().to_string();
    let missing = format!("{v}/sub");
    let values = format!("{v}/values.yaml");
    let envf = format!("{v}/relay.env");
    let cases: [(&[&str], &str); 7] = [
        (&["init", "--dir", &v], "--dir"),
        (&["init", "--dir", &missing], "--dir"),
        (&["exec", "--dir", &v, "--", "true"], "exec --dir"),
        (&["exec", "--once", "--dir", &v, "--", "true"], "exec --dir"),
        (&["helm-values", "-o", &values], "-o"),
        (&["env", "-o", &envf], "-o"),
        // Fetches nothing, but the ECS exec path's copy container is such a run too.
        (&["install", &v], "install DIR"),
    ];
    for (args, named_by) in cases {
        let r = run_with(as_uid(&binary, &s, args), "", Duration::from_secs(30));
        assert_eq!(r.code, Some(1), "{args:?}: {}", r.text());
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        for needle in [
            &format!("cannot write into {v} ({named_by}"),
            "uid 65532",
            "owned by uid 0",
            "mode 0755",
            "emptyDir",
            "VOLUME",
        ] {
            assert!(
                r.stderr.contains(needle),
                "{args:?}: no {needle:?} in {}",
                r.stderr
            );
        }
        assert_no_leak(&r.stderr, None);
    }
    assert_eq!(
        s.request_count(),
        0,
        "every case is refused before any request"
    );
    assert_eq!(fs::read_dir(&volume).unwrap().count(), 0, "nothing written");

    // The same directory owned by that uid works: the check refuses only what would fail.
    std::os::unix::fs::chown(&volume, Some(UID), Some(UID)).unwrap();
    let r = run_with(
        as_uid(&binary, &s, &["init", "--dir", &v]),
        "",
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert!(volume.join("credentials.json").is_file());
}
