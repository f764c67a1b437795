//! Files that hold secrets survive `kill -9` at any moment: the destination is absent,
//! the old complete file or the new complete file, never a part, and always 0600 (even
//! under `umask 000`). Symlinks and other non-regular destinations are refused without
//! touching what they point to, and `init` writes nothing outside its directory.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use vault_fetch_relay::keys::random_bytes;

fn mode_bits(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

/// The binary under `umask 000`, with the server's settings in the environment.
fn umask0(s: &DevServer, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", "umask 000; exec \"$0\" \"$@\"", bin()])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WORKOS_API_KEY", CANARY_KEY)
        .env("WORKOS_API_BASE", s.base_url())
        .env("VAULT_FETCH_TIMEOUT_SECONDS", "10");
    hermetic(&mut c);
    c
}

fn run_bounded(c: Command) -> Run {
    run_with(c, "", Duration::from_secs(30))
}

/// A uniformly random duration below `max_ms` milliseconds.
fn random_ms(max_ms: u64) -> Duration {
    Duration::from_millis(u64::from_le_bytes(random_bytes::<8>()) % max_ms)
}

/// Start the command, SIGKILL it after `after` (if still running); true if killed.
fn kill_after(mut c: Command, after: Duration) -> bool {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    killed && status.code().is_none()
}

/// Which of `known` the credentials.json at `p` is; panics on anything else.
fn which_credentials(p: &Path, known: &[RelayCredentials]) -> Option<usize> {
    let text = match fs::read_to_string(p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot read {}: {e}", p.display()),
    };
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("torn credentials.json ({e}): {text:?}"));
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.len(), 3, "{text}");
    let idx = known
        .iter()
        .position(|c| {
            v["id"] == c.relay_id.as_str()
                && v["public_key"] == c.public_key.as_str()
                && v["secret_key"] == c.secret_key.expose()
        })
        .unwrap_or_else(|| panic!("credentials.json holds credentials nobody wrote: {text}"));
    Some(idx)
}

/// Temp files a killed run may leave: `.NAME.tmpXXXX`, always private.
fn check_leftovers(dir: &Path, names: &[&str]) -> usize {
    let mut n = 0;
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if names.contains(&name.as_str()) {
            continue;
        }
        assert!(
            names.iter().any(|f| name.starts_with(&format!(".{f}.tmp"))),
            "unexpected file {name} in {}",
            dir.display()
        );
        assert_eq!(mode_bits(&e.path()), 0o600, "{name} is not private");
        n += 1;
    }
    n
}

#[test]
fn init_credentials_survive_sigkill_at_any_moment() {
    let s = server();
    let gens: Vec<RelayCredentials> = (0..3)
        .map(|_| RelayCredentials::generate(None).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let relay = dir.path().join("relay");
    let relay_arg = relay.to_str().unwrap().to_string();
    s.set_value(NAME, &gens[0].to_vault_value()).unwrap();
    let first = run_bounded(umask0(&s, &["init", "--dir", &relay_arg]));
    assert_eq!(first.code, Some(0), "{first:?}");
    assert_eq!(mode_bits(&relay), 0o700);

    let creds = relay.join("credentials.json");
    let config = relay.join("config.yml");
    let (mut killed, mut finished, mut seen) = (0, 0, [0usize; 3]);
    for i in 0..30 {
        s.set_value(NAME, &gens[(i + 1) % 3].to_vault_value())
            .unwrap();
        s.push_fault(Fault::Delay(random_ms(8)));
        if kill_after(umask0(&s, &["init", "--dir", &relay_arg]), random_ms(40)) {
            killed += 1;
        } else {
            finished += 1;
        }
        let which = which_credentials(&creds, &gens).expect("credentials.json never vanishes");
        seen[which] += 1;
        assert_eq!(mode_bits(&creds), 0o600, "run {i}");
        let yml = fs::read_to_string(&config).unwrap();
        let y = yaml_rust2::YamlLoader::load_from_str(&yml).expect("config.yml is whole");
        assert_eq!(y[0]["relay"]["mode"].as_str(), Some("managed"), "{yml}");
        assert_eq!(mode_bits(&config), 0o600);
        check_leftovers(&relay, &["credentials.json", "config.yml"]);
    }
    let leftovers = check_leftovers(&relay, &["credentials.json", "config.yml"]);
    eprintln!(
        "init under SIGKILL: {killed} killed, {finished} finished; credentials seen {seen:?}; {leftovers} private temp file(s) left"
    );
    assert!(
        killed > 0,
        "no run was killed mid-way; the test proves nothing"
    );
}

/// Start the command, send `signal` (KILL or TERM) after `after` if it still runs;
/// returns whether it was signalled and how it ended.
fn signal_after(mut c: Command, after: Duration, signal: &str) -> (bool, std::process::ExitStatus) {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < after {
        if let Some(status) = child.try_wait().unwrap() {
            return (false, status);
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let running = child.try_wait().unwrap().is_none();
    if running {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success() || child.try_wait().unwrap().is_some());
    }
    let waited = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (running, status);
        }
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "SIGTERM must end the run (after its write)"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The directory is one relay can start from: config.yml is whole, and in managed
/// mode a whole credentials.json of known credentials is next to it.
fn assert_startable(relay: &Path, known: &[RelayCredentials], when: &str) -> &'static str {
    let yml = fs::read_to_string(relay.join("config.yml"))
        .unwrap_or_else(|e| panic!("{when}: no config.yml ({e})"));
    let y = yaml_rust2::YamlLoader::load_from_str(&yml).expect("config.yml is whole");
    let creds = which_credentials(&relay.join("credentials.json"), known);
    match y[0]["relay"]["mode"].as_str() {
        Some("managed") => {
            assert!(
                creds.is_some(),
                "{when}: managed mode without credentials.json: relay exits"
            );
            "managed"
        }
        Some("proxy") => "proxy",
        other => panic!("{when}: mode {other:?} in {yml}"),
    }
}

/// Issue 11: a degraded init removed credentials.json before the proxy config.yml was
/// in place, and SIGTERM killed it mid-write. Runs alternate between found and not
/// found (so both transitions happen) and are killed (SIGKILL) or stopped (SIGTERM)
/// at random moments; after each the directory must be startable, and SIGTERM must
/// leave no temp file. One clean run at the end leaves no temp file at all.
#[test]
fn init_stays_startable_under_sigkill_and_sigterm_between_found_and_missing() {
    let s = server();
    let known: Vec<RelayCredentials> = (0..2)
        .map(|_| RelayCredentials::generate(None).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let relay = dir.path().join("relay");
    let relay_arg = relay.to_str().unwrap().to_string();
    s.set_value(NAME, &known[0].to_vault_value()).unwrap();
    let first = run_bounded(umask0(&s, &["init", "--dir", &relay_arg]));
    assert_eq!(first.code, Some(0), "{first:?}");

    let names = ["credentials.json", "config.yml"];
    let (mut kills, mut terms, mut term_exits, mut modes) = (0, 0, 0, BTreeMap::new());
    let (mut most_temps, mut prev_temps) = (0, 0);
    for i in 0..120 {
        s.set_value(NAME, &known[i % 2].to_vault_value()).unwrap();
        let mut c = umask0(&s, &["init", "--dir", &relay_arg]);
        // Odd runs ask for an object that does not exist: the degraded path.
        if (i / 2) % 2 == 1 {
            c.env("WORKOS_VAULT_SECRET_NAME", "missing");
        }
        let signal = if i % 3 == 0 { "TERM" } else { "KILL" };
        let (signalled, status) = signal_after(c, random_ms(12), signal);
        let when = format!("run {i} (SIG{signal})");
        *modes
            .entry(assert_startable(&relay, &known, &when))
            .or_insert(0) += 1;
        let temps = check_leftovers(&relay, &names);
        match (signalled, signal) {
            (true, "KILL") => kills += 1,
            (true, _) => {
                terms += 1;
                // Handled (exit 143) once the handler is in; before that, nothing
                // had been written, so there is no temp of this run either way.
                term_exits += (status.code() == Some(143)) as usize;
            }
            _ => assert!(status.success(), "{when}: {status:?}"),
        }
        if signal == "TERM" {
            assert!(temps <= prev_temps, "{when}: SIGTERM left a temp file");
        }
        prev_temps = temps;
        most_temps = most_temps.max(temps);
    }
    let clean = run_bounded(umask0(&s, &["init", "--dir", &relay_arg]));
    assert_eq!(clean.code, Some(0), "{clean:?}");
    let after_clean = check_leftovers(&relay, &names);
    eprintln!(
        "init found/missing under signals: {kills} SIGKILLed, {terms} SIGTERMed ({term_exits} exited 143 after finishing the write); modes seen {modes:?}; at most {most_temps} stale temp(s) between runs, {after_clean} after one clean run"
    );
    assert_eq!(after_clean, 0, "a clean run removes every stale temp");
    assert!(
        kills > 0 && terms > 0,
        "no run was signalled; the test proves nothing"
    );
}

#[test]
fn helm_values_file_survives_sigkill_at_any_moment() {
    let s = server();
    let gens: Vec<RelayCredentials> = (0..3)
        .map(|_| RelayCredentials::generate(None).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("values.yaml");
    let out_arg = out.to_str().unwrap().to_string();
    let (mut killed, mut absent) = (0, 0);
    for i in 0..20 {
        s.set_value(NAME, &gens[i % 3].to_vault_value()).unwrap();
        s.push_fault(Fault::Delay(random_ms(8)));
        killed += kill_after(umask0(&s, &["helm-values", "-o", &out_arg]), random_ms(40)) as usize;
        match fs::read_to_string(&out) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => absent += 1,
            Err(e) => panic!("{e}"),
            Ok(text) => {
                assert_eq!(mode_bits(&out), 0o600);
                let y = &yaml_rust2::YamlLoader::load_from_str(&text).expect("whole YAML")[0];
                let id = y["relay"]["credentials"]["id"]
                    .as_str()
                    .expect("complete file");
                let sk = y["relay"]["credentials"]["secretKey"].as_str().unwrap();
                assert!(
                    gens.iter()
                        .any(|c| c.relay_id == id && c.secret_key.expose() == sk),
                    "{text}"
                );
            }
        }
        check_leftovers(dir.path(), &["values.yaml"]);
    }
    eprintln!("helm-values under SIGKILL: {killed} of 20 killed, file absent after {absent}");
}

#[test]
fn files_are_0600_and_the_dir_0700_whatever_the_umask() {
    let s = server();
    seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();
    let relay = dir.path().join("a/b/relay");
    let values = dir.path().join("values.yaml");
    let envf = dir.path().join("relay.env");
    let r = run_bounded(umask0(&s, &["init", "--dir", relay.to_str().unwrap()]));
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = run_bounded(umask0(&s, &["helm-values", "-o", values.to_str().unwrap()]));
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = run_bounded(umask0(&s, &["env", "-o", envf.to_str().unwrap()]));
    assert_eq!(r.code, Some(0), "{r:?}");
    for f in [
        relay.join("credentials.json"),
        relay.join("config.yml"),
        values.clone(),
        envf.clone(),
    ] {
        assert_eq!(mode_bits(&f), 0o600, "{}", f.display());
    }
    assert_eq!(mode_bits(&relay), 0o700);
    // An existing world-readable file is replaced by a private one.
    fs::set_permissions(&values, fs::Permissions::from_mode(0o644)).unwrap();
    run_bounded(umask0(&s, &["helm-values", "-o", values.to_str().unwrap()]));
    assert_eq!(mode_bits(&values), 0o600);
}

/// A symlink planted where a secret goes is never followed.
#[test]
fn symlinked_destinations_are_refused_and_their_targets_untouched() {
    let s = server();
    seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.txt");
    let keep = "not yours\n";

    // helm-values -o, env -o: refused, exit 1, target unchanged.
    for (args, file) in [
        (vec!["helm-values", "-o"], "values.yaml"),
        (vec!["env", "-o"], "relay.env"),
    ] {
        fs::write(&outside, keep).unwrap();
        let link = dir.path().join(file);
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let mut a = args.clone();
        a.push(link.to_str().unwrap());
        let r = run_bounded(umask0(&s, &a));
        assert_eq!(r.code, Some(1), "{r:?}");
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
        assert_eq!(fs::read_to_string(&outside).unwrap(), keep);
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_no_leak(&r.stderr, None);
    }

    // init and exec --dir: a planted credentials.json (or config.yml) link is refused
    // before any request, whether the secret is there (it would be written) or missing
    // (it would only be removed): one rule, which the vault's answer cannot change.
    let front_ends: [&[&str]; 2] = [&["init", "--dir"], &["exec", "--once", "--dir"]];
    for front_end in front_ends {
        for planted in ["credentials.json", "config.yml"] {
            for secret in [NAME, "missing"] {
                fs::write(&outside, keep).unwrap();
                let relay = dir
                    .path()
                    .join(format!("relay-{}-{planted}-{secret}", front_end[0]));
                fs::create_dir_all(&relay).unwrap();
                let link = relay.join(planted);
                std::os::unix::fs::symlink(&outside, &link).unwrap();
                let mut a = front_end.to_vec();
                a.push(relay.to_str().unwrap());
                if front_end[0] == "exec" {
                    a.extend(["--", "true"]);
                }
                let before = s.request_count();
                let mut c = umask0(&s, &a);
                c.env("WORKOS_VAULT_SECRET_NAME", secret);
                let r = run_bounded(c);
                let case = format!("{a:?}, secret {secret}");
                assert_eq!(r.code, Some(1), "{case}: {r:?}");
                assert!(r.stderr.contains("symbolic link"), "{case}: {}", r.stderr);
                assert_eq!(r.stderr.lines().count(), 1, "{case}: {}", r.stderr);
                assert_eq!(
                    s.request_count(),
                    before,
                    "{case}: refused before any request"
                );
                assert_eq!(fs::read_to_string(&outside).unwrap(), keep, "{case}");
                assert!(fs::symlink_metadata(&link).unwrap().is_symlink(), "{case}");
                assert_eq!(
                    fs::read_dir(&relay).unwrap().count(),
                    1,
                    "{case}: nothing written"
                );
            }
        }
    }
}

#[test]
fn non_regular_destinations_are_refused_without_blocking() {
    let s = server();
    seed(&s, NAME);
    let dir = tempfile::tempdir().unwrap();

    // A FIFO would block an open for writing forever; it must be refused unopened.
    let fifo = dir.path().join("values.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let started = Instant::now();
    let r = run_bounded(umask0(&s, &["helm-values", "-o", fifo.to_str().unwrap()]));
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // A directory where credentials.json goes: refused with credentials...
    let relay = dir.path().join("relay");
    fs::create_dir_all(relay.join("credentials.json")).unwrap();
    let r = run_bounded(umask0(&s, &["init", "--dir", relay.to_str().unwrap()]));
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    // ...and without (it would only be removed): refused the same, before any request.
    let before = s.request_count();
    let mut c = umask0(&s, &["init", "--dir", relay.to_str().unwrap()]);
    c.env("WORKOS_VAULT_SECRET_NAME", "missing");
    let r = run_bounded(c);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    assert_eq!(s.request_count(), before, "refused before any request");
    assert!(relay.join("credentials.json").is_dir());

    // --dir naming a file is refused.
    let file = dir.path().join("plain");
    fs::write(&file, "x").unwrap();
    let r = run_bounded(umask0(&s, &["init", "--dir", file.to_str().unwrap()]));
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
}

/// Every file under `root` with its contents (symlinks as their target).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let t = fs::symlink_metadata(&p).unwrap().file_type();
            if t.is_dir() {
                out.insert(p.clone(), b"<dir>".to_vec());
                stack.push(p);
            } else if t.is_symlink() {
                out.insert(
                    p.clone(),
                    fs::read_link(&p)
                        .unwrap()
                        .to_string_lossy()
                        .as_bytes()
                        .to_vec(),
                );
            } else {
                out.insert(p.clone(), fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn init_writes_nothing_outside_its_directory() {
    let s = server();
    seed(&s, NAME);
    let world = tempfile::tempdir().unwrap();
    let root = world.path();
    for d in ["home", "tmp", "cwd", "sibling"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("sibling/credentials.json"), "sibling's").unwrap();
    // Found, then not found (removes the stale file), then a hang that hits the deadline.
    let relay = root.join("cwd/../relay");
    let before = snapshot(root);
    for (secret, fault) in [(NAME, None), ("missing", None), (NAME, Some(Fault::Hang))] {
        if let Some(f) = fault {
            s.push_fault(f);
        }
        let mut c = umask0(&s, &["init", "--dir", relay.to_str().unwrap()]);
        c.current_dir(root.join("cwd"))
            .env("HOME", root.join("home"))
            .env("TMPDIR", root.join("tmp"))
            .env("WORKOS_VAULT_SECRET_NAME", secret)
            .env("VAULT_FETCH_TIMEOUT_SECONDS", "1");
        let r = run_bounded(c);
        assert_eq!(r.code, Some(0), "{r:?}");
        let after = snapshot(root);
        let relay_dir = root.join("relay");
        let changed: Vec<&PathBuf> = after
            .keys()
            .chain(before.keys())
            .filter(|p| before.get(*p) != after.get(*p))
            .filter(|p| !p.starts_with(&relay_dir) && **p != relay_dir)
            .collect();
        assert!(
            changed.is_empty(),
            "init wrote outside its dir: {changed:?}"
        );
    }
    let names: Vec<_> = fs::read_dir(root.join("relay"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["config.yml"],
        "only config.yml after the degraded runs"
    );
}

/// `exec --once --dir` writes init's files, then becomes the child: a SIGTERM during
/// its write must, as for init, wait for the write (no temp left behind, the directory
/// startable), not kill it half-way.
#[test]
fn exec_once_dir_finishes_its_write_on_sigterm() {
    let s = server();
    let known: Vec<RelayCredentials> = (0..2)
        .map(|_| RelayCredentials::generate(None).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let relay = dir.path().join("relay");
    let relay_arg = relay.to_str().unwrap().to_string();
    let args = ["exec", "--once", "--dir", &relay_arg, "--", "true"];
    s.set_value(NAME, &known[0].to_vault_value()).unwrap();
    let first = run_bounded(umask0(&s, &args));
    assert_eq!(first.code, Some(0), "{first:?}");
    let names = ["credentials.json", "config.yml"];
    let (mut terms, mut prev_temps) = (0, 0);
    for i in 0..60 {
        s.set_value(NAME, &known[i % 2].to_vault_value()).unwrap();
        let mut c = umask0(&s, &args);
        if (i / 2) % 2 == 1 {
            c.env("WORKOS_VAULT_SECRET_NAME", "missing");
        }
        let (signalled, _) = signal_after(c, random_ms(12), "TERM");
        terms += signalled as usize;
        let when = format!("run {i} (SIGTERM)");
        assert_startable(&relay, &known, &when);
        let temps = check_leftovers(&relay, &names);
        assert!(temps <= prev_temps, "{when}: SIGTERM left a temp file");
        prev_temps = temps;
    }
    assert!(terms > 0, "no run was signalled; the test proves nothing");
}

/// helm-values -o and env -o write one file holding the secret key: a SIGTERM during
/// that write waits for it, as in init, and leaves no temp file behind.
#[test]
fn single_file_outputs_finish_their_write_on_sigterm() {
    let s = server();
    let creds = RelayCredentials::generate(None).unwrap();
    s.set_value(NAME, &creds.to_vault_value()).unwrap();
    for (mode, file) in [("helm-values", "values.yaml"), ("env", "relay.env")] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(file);
        let out_arg = out.to_str().unwrap().to_string();
        let mut terms = 0;
        for i in 0..40 {
            let c = umask0(&s, &[mode, "-o", &out_arg]);
            let (signalled, _) = signal_after(c, random_ms(12), "TERM");
            terms += signalled as usize;
            let temps = check_leftovers(dir.path(), &[file]);
            assert_eq!(temps, 0, "{mode} run {i}: SIGTERM left a temp file");
        }
        assert!(
            terms > 0,
            "{mode}: no run was signalled; the test proves nothing"
        );
    }
}
