//! Issue 22: every line break YAML 1.1 or 1.2 knows (LF, CR, NEL, LS, PS, and mixes), in
//! text a server or a user supplies, reaches config.yml (init, exec --dir) and every
//! helm-values layout only as text: in a comment it cannot end the line, in a key or a
//! scalar it is escaped. Judged by PyYAML and serde_yaml (relay's loader, libyaml
//! underneath), in every status that writes a file.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

/// Each break alone, then mixes (CRLF, and every one in a row).
const BREAKS: [&str; 7] = [
    "\n",
    "\r",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\r\n\u{2028}",
    "\u{2029}\u{85}\r\u{2028}\n",
];

/// The statuses that write a file (wrong_api_base is a configuration error: exit 1,
/// nothing written, tested in fault_matrix).
const STATUSES: [&str; 7] = [
    "found",
    "not_found",
    "invalid_secret",
    "unauthorized",
    "forbidden",
    "unavailable",
    "no_api_key",
];

/// The outputs; each writes one YAML file at the path the closure gives.
const OUTPUTS: [&str; 5] = [
    "init",
    "exec --dir",
    "helm default",
    "helm anysource",
    "helm --set-path",
];

/// The user-supplied --set-path key holding `brk`.
fn set_path_key(brk: &str) -> String {
    format!("on{brk}off: [1]")
}

/// Run `output` for `status` against `s`, with the secret `name` and, where the status
/// comes from an answer, the server saying `message`. Returns the YAML written.
fn render(
    s: &DevServer,
    work: &Path,
    output: &str,
    status: &str,
    name: &str,
    message: &str,
    brk: &str,
) -> String {
    let fault = |code: u16| Fault::status(code, json!({ "message": message }).to_string());
    match status {
        "found" => drop(seed(s, name)),
        "not_found" | "no_api_key" => drop(s.remove(name)),
        "invalid_secret" => drop(s.set_value(name, "not json").unwrap()),
        "unauthorized" => s.push_fault(fault(401)),
        "forbidden" => s.push_fault(fault(403)),
        // An unexpected status is `unavailable` at once (no retries), message quoted.
        "unavailable" => s.push_fault(fault(418)),
        _ => unreachable!("{status}"),
    }
    let dir = work.join("relay");
    let file = work.join("values.yaml");
    let (dirs, files) = (dir.to_str().unwrap(), file.to_str().unwrap());
    let key = format!("{}.mode=relay_mode", set_path_key(brk));
    let args: Vec<&str> = match output {
        "init" => vec!["init", "--dir", dirs],
        "exec --dir" => vec!["exec", "--once", "--dir", dirs, "--", "true"],
        "helm default" => vec!["helm-values", "-o", files],
        "helm anysource" => vec!["helm-values", "--layout", "anysource", "-o", files],
        "helm --set-path" => vec![
            "helm-values",
            "-o",
            files,
            "--set-path",
            &key,
            "--set-path",
            "enabled=found",
        ],
        _ => unreachable!("{output}"),
    };
    let mut c = cmd(&args);
    c.env("WORKOS_API_BASE", s.base_url())
        .env("VAULT_FETCH_SECRET_NAME", name);
    if status != "no_api_key" {
        c.env("WORKOS_API_KEY", CANARY_KEY);
    }
    let r = run_with(c, "", Duration::from_secs(30));
    assert_eq!(r.code, Some(0), "{output}, {status}, {brk:?}: {}", r.text());
    assert!(
        r.stderr.contains(&format!(": {status}:")) || status == "found",
        "{output}: expected {status}: {}",
        r.stderr
    );
    let path = match output {
        "init" | "exec --dir" => dir.join("config.yml"),
        _ => file,
    };
    fs::read_to_string(path).unwrap()
}

/// One output's file: (status, output, YAML).
type Rendered = (String, String, String);

/// Every document parsed by PyYAML, as JSON (an error as {"error": ...}).
fn pyyaml(py: &Path, docs: &[String]) -> Vec<Value> {
    let script = r#"
import json, sys, yaml
out = []
for d in json.load(sys.stdin):
    try:
        out.append(yaml.safe_load(d))
    except Exception as e:
        out.append({"error": repr(e)})
json.dump(out, sys.stdout)
"#;
    let mut c = Command::new(py);
    c.args(["-c", script]);
    let r = run_with(c, &json!(docs).to_string(), CHILD_TIMEOUT);
    assert!(r.success(), "{}", r.text());
    serde_json::from_str(&r.stdout).unwrap()
}

fn serde_yaml_json(doc: &str) -> Value {
    match serde_yaml::from_str::<serde_yaml::Value>(doc) {
        Ok(v) => serde_json::to_value(v).unwrap(),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

#[test]
fn server_and_user_text_with_any_line_break_stays_text_in_every_yaml_output() {
    let Some(py) = python_with("yaml") else {
        return;
    };
    // brk None: the control run, plain text, whose parse is what every other must equal.
    let cases: Vec<Option<&str>> = std::iter::once(None).chain(BREAKS.map(Some)).collect();
    // One server per break (faults are queued per server), all at once.
    let rendered: Vec<(Option<&str>, Vec<Rendered>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|&brk| {
                scope.spawn(move || {
                    let s = server();
                    let work = tempfile::tempdir().unwrap();
                    let b = brk.unwrap_or(" ");
                    let (name, message) = match brk {
                        Some(b) => (
                            format!("team{b}injected: 2{b}x"),
                            format!("denied{b}injected: 1{b}relay: {{mode: managed}}{b}- item{b}"),
                        ),
                        None => ("team plain".to_string(), "denied plainly".to_string()),
                    };
                    let mut docs = Vec::new();
                    for status in STATUSES {
                        for output in OUTPUTS {
                            let doc = render(&s, work.path(), output, status, &name, &message, b);
                            docs.push((status.to_string(), output.to_string(), doc));
                        }
                    }
                    (brk, docs)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<String> = rendered
        .iter()
        .flat_map(|(_, docs)| docs.iter().map(|(_, _, d)| d.clone()))
        .collect();
    let mut py_parsed = pyyaml(&py, &all).into_iter();
    let mut expected: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut checked = 0;
    for (brk, docs) in &rendered {
        for (status, output, doc) in docs {
            let by_py = py_parsed.next().unwrap();
            let by_serde = serde_yaml_json(doc);
            let case = format!("{output}, {status}, break {brk:?}:\n{doc}");
            assert_eq!(by_py, by_serde, "PyYAML and serde_yaml disagree: {case}");
            assert!(by_py.get("error").is_none(), "{case}: {by_py}");
            assert!(!by_py.to_string().contains("injected"), "{case}: {by_py}");
            let mut got = by_py;
            if output == "helm --set-path" {
                // The key is the user's text, break and all, read back exactly.
                let key = set_path_key(brk.unwrap_or(" "));
                let inner = got.as_object_mut().unwrap().remove(&key);
                let mode = if status == "found" {
                    "managed"
                } else {
                    "proxy"
                };
                assert_eq!(inner, Some(json!({ "mode": mode })), "{case}: {got}");
            }
            // Credentials differ per server: compare the shape, with secrets masked.
            mask_credentials(&mut got);
            match brk {
                None => {
                    expected.insert((status.clone(), output.clone()), got);
                }
                Some(_) => {
                    let want = &expected[&(status.clone(), output.clone())];
                    assert_eq!(&got, want, "{case}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, (BREAKS.len() + 1) * STATUSES.len() * OUTPUTS.len());
}

/// Replace the values of the credential fields (fresh per server) with a marker.
fn mask_credentials(v: &mut Value) {
    if let Value::Object(map) = v {
        for (k, child) in map.iter_mut() {
            if ["id", "publicKey", "secretKey", "public_key", "secret_key"].contains(&k.as_str())
                && child.is_string()
            {
                *child = json!("<credential>");
            } else {
                mask_credentials(child);
            }
        }
    }
}
