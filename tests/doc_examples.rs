//! The documentation, held to the code: every console example in README.md and docs/ runs
//! against the dev server, every relative link and heading anchor in the repository's Markdown
//! resolves, and docs/reference.md lists every flag, variable and exit code `--help` knows.
//!
//! Why not trycmd: its Markdown mode runs one program per `$` line with no shell, so no pipe
//! (`echo '{...}' | vault-fetch-relay`, which is how Terraform calls us), no redirection and no
//! `cd`; and it has no dev server to point the examples at. This harness runs the examples in a
//! real `sh`, keeps trycmd's look (`$ ` lines, output below, `[..]` and `...` wildcards), and
//! reports a broken example by file and line.
//!
//! The convention (docs/development.md, "Examples in the docs", says it for writers):
//! - A fence whose info string is `console` is run. Every Markdown file under test is ONE shell
//!   session: the blocks run in order in one `sh`, in a new empty directory, with `PATH` starting
//!   at the built binary and the two exports `dev-server --seed` prints (`WORKOS_API_BASE`,
//!   `WORKOS_API_KEY`) in the environment. Files, variables and `cd` carry from one block to the
//!   next, as in a terminal.
//! - `$ ` starts a command; a line ending in `\` continues it. The lines after it, up to the next
//!   `$ ` or the end of the block, are its output, stdout and stderr together, compared line by
//!   line (trailing spaces ignored). No output lines: the command must print nothing.
//! - In an output line `[..]` stands for any text; `[KEY]`, `[ID]`, `[UUID]`, `[TIME]`, `[N]`,
//!   `[PORT]` and `[HEX]` for a key, an id, a UUID, a timestamp, a number, a port, hex digits. A
//!   line `...` alone stands for any number of lines. `[exit N]` as the last line: the command
//!   must exit N (without it: 0).
//! - `console ignore` is shown but not run. The paragraph just before it must say so visibly,
//!   with the words "not run by the tests" and why. Other shell fences (`sh`, `bash`, `shell`)
//!   are refused in these files, so a command cannot escape both the run and the mark.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{bin, hermetic, repo, DevServerProcess};

/// The DSN key the dev server serves a project for, so `check --upstream --dsn` examples can
/// show a served project: `dev-server --dsn-key` takes it, the docs' DSN uses it.
const DOC_DSN_KEY: &str = "7f3a0c2e5b8d4f6a9e1c3b5d7f9a2c4e";
/// One command may take this long; then its session is killed and the command named.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);
/// Printed after every command with its index and exit status, to cut the session's output.
const MARK: &str = "@@vfr-doc-example@@";
/// The files whose console examples run: the front door and the guides.
fn example_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    files.extend(guides());
    files
}

/// docs/*.md, relative to the repository, sorted.
fn guides() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| p.strip_prefix(repo()).unwrap().to_path_buf())
        .collect();
    v.sort();
    v
}

/// Every Markdown file of the repository (not build output, tools or hidden directories).
fn all_markdown() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || matches!(name.as_str(), "target" | "node_modules") {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else if name.ends_with(".md") {
                out.push(p.strip_prefix(repo()).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo(), &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Markdown: fenced blocks, headings, links

/// A fenced block: where it starts (1-based line of the fence), its info string, its lines
/// (with their line numbers) and the paragraph just before it.
#[derive(Debug)]
struct Block {
    line: usize,
    info: String,
    lines: Vec<(usize, String)>,
    before: String,
}

/// The fenced blocks of a Markdown text, and the lines outside them (line number, text).
fn parse_blocks(text: &str) -> (Vec<Block>, Vec<(usize, String)>) {
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut open: Option<(String, usize, Block)> = None;
    // The paragraph being read, and the last one a blank line ended (a fence follows a blank line).
    let mut paragraph: Vec<String> = Vec::new();
    let mut last = String::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        if let Some((fence, ind, mut b)) = open.take() {
            if trimmed.starts_with(&fence)
                && trimmed.trim_start_matches(fence.as_str()).trim().is_empty()
            {
                blocks.push(b);
                paragraph.clear();
                last.clear();
            } else {
                let cut = raw.len() - raw.trim_start().len();
                let content = if cut >= ind { &raw[ind..] } else { trimmed };
                b.lines.push((n, content.to_string()));
                open = Some((fence, ind, b));
            }
            continue;
        }
        let ticks = trimmed.chars().take_while(|&c| c == '`').count();
        let tildes = trimmed.chars().take_while(|&c| c == '~').count();
        if ticks >= 3 || tildes >= 3 {
            let fence = if ticks >= 3 {
                "`".repeat(ticks)
            } else {
                "~".repeat(tildes)
            };
            let info = trimmed[fence.len()..].trim().to_string();
            let before = if paragraph.is_empty() {
                last.clone()
            } else {
                paragraph.join("\n")
            };
            open = Some((
                fence,
                indent,
                Block {
                    line: n,
                    info,
                    lines: Vec::new(),
                    before,
                },
            ));
            continue;
        }
        if raw.trim().is_empty() {
            if !paragraph.is_empty() {
                last = paragraph.join("\n");
                paragraph.clear();
            }
        } else {
            paragraph.push(raw.to_string());
        }
        prose.push((n, raw.to_string()));
    }
    (blocks, prose)
}

/// `text` without its inline code spans (their content could look like a link).
fn without_code_spans(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// GitHub's heading anchor: the rendered text lower-cased, everything but letters, digits, `_`,
/// `-` and spaces dropped, spaces turned into `-`; a repeated anchor gets `-1`, `-2`, ...
fn slug(heading: &str) -> String {
    // The rendered text: code spans keep their content, links their text, emphasis markers go.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match (after.find("]("), after.find(')')) {
            (Some(close), Some(end)) if close < end => {
                text.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            _ => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.replace(['`', '*'], "")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors a Markdown file has: its headings' slugs and explicit `<a id=...>` / `name=`.
fn anchors(text: &str) -> BTreeSet<String> {
    let (_, prose) = parse_blocks(text);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in &prose {
        let t = line.trim_start();
        let hashes = t.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            let base = slug(t[hashes..].trim().trim_end_matches('#').trim());
            let n = seen.entry(base.clone()).or_insert(0);
            out.insert(if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            });
            *n += 1;
        }
        for attr in ["id=\"", "name=\""] {
            let mut rest = line.as_str();
            while let Some(i) = rest.find(attr) {
                let v = &rest[i + attr.len()..];
                if let Some(end) = v.find('"') {
                    out.insert(v[..end].to_string());
                }
                rest = &rest[i + attr.len()..];
            }
        }
    }
    out
}

/// The link targets of a Markdown file outside code: `[text](target)` and `[label]: target`.
fn links(text: &str) -> Vec<(usize, String)> {
    let (_, prose) = parse_blocks(text);
    let mut out = Vec::new();
    for (n, line) in prose {
        let line = without_code_spans(&line);
        let t = line.trim_start();
        if t.starts_with('[') {
            if let Some(i) = t.find("]: ") {
                if !t[..i].contains("](") {
                    out.push((
                        n,
                        t[i + 3..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string(),
                    ));
                    continue;
                }
            }
        }
        let mut rest = line.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let mut depth = 0;
            let mut end = after.len();
            for (j, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => {
                        end = j;
                        break;
                    }
                    ')' => depth -= 1,
                    _ => {}
                }
            }
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n, target.trim_matches(['<', '>']).to_string()));
            rest = &after[end.min(after.len())..];
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Console examples: parse, match, run

#[derive(Debug)]
struct Example {
    line: usize,
    command: String,
    expected: Vec<String>,
    exit: i32,
}

/// The examples of one file: the `console` blocks' commands in order; refusals for fences that
/// break the convention.
fn examples(file: &Path, text: &str) -> Result<Vec<Example>, Vec<String>> {
    let (blocks, _) = parse_blocks(text);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let at = |line: usize| format!("{}:{line}", file.display());
    for b in &blocks {
        let words: Vec<&str> = b.info.split_whitespace().collect();
        let first = words.first().copied().unwrap_or("");
        match first {
            "console" => {}
            "sh" | "bash" | "shell" | "zsh" | "shell-session" => {
                errors.push(format!(
                    "{}: a `{first}` block: write shell examples as `console` (run by the tests) or `console ignore` (with a note saying why not)",
                    at(b.line)
                ));
                continue;
            }
            f if f.starts_with("console") => {
                errors.push(format!(
                    "{}: fence info {:?}: write `console` or `console ignore` (words separated by a space)",
                    at(b.line),
                    b.info
                ));
                continue;
            }
            _ => continue,
        }
        match words.get(1..).unwrap_or_default() {
            [] => {}
            ["ignore"] => {
                let note = b.before.split_whitespace().collect::<Vec<_>>().join(" ");
                if !note.to_lowercase().contains("not run by the tests") {
                    errors.push(format!(
                        "{}: a `console ignore` block needs a visible note in the paragraph just before it, saying \"not run by the tests\" and why",
                        at(b.line)
                    ));
                }
                continue;
            }
            other => {
                errors.push(format!(
                    "{}: unknown fence words {other:?} after `console`",
                    at(b.line)
                ));
                continue;
            }
        }
        let mut lines = b.lines.iter().peekable();
        let mut current: Option<Example> = None;
        while let Some((n, line)) = lines.next() {
            if let Some(cmd) = line.strip_prefix("$ ") {
                out.extend(current.take());
                let mut command = cmd.to_string();
                while command.ends_with('\\') {
                    let Some((_, next)) = lines.next() else { break };
                    command.push('\n');
                    command.push_str(next);
                }
                current = Some(Example {
                    line: *n,
                    command,
                    expected: Vec::new(),
                    exit: 0,
                });
            } else if let Some(ex) = current.as_mut() {
                let t = line.trim_end();
                if let Some(code) = t.strip_prefix("[exit ").and_then(|r| r.strip_suffix(']')) {
                    match code.parse() {
                        Ok(c) => ex.exit = c,
                        Err(_) => errors.push(format!("{}: [exit N] needs a number", at(*n))),
                    }
                } else if ex.exit != 0 {
                    errors.push(format!(
                        "{}: [exit N] must be the command's last output line",
                        at(*n)
                    ));
                } else {
                    ex.expected.push(t.to_string());
                }
            } else if !line.trim().is_empty() {
                errors.push(format!("{}: output before the first `$ ` line", at(*n)));
            }
        }
        out.extend(current.take());
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// One piece of an expected line.
#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    Text(&'a str),
    /// A placeholder: the characters it may stand for, and how many at least.
    Class(fn(char) -> bool, usize),
}

/// A placeholder's text, the characters it stands for, and how many at least.
type Placeholder = (&'static str, fn(char) -> bool, usize);

fn base64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn pieces(pattern: &str) -> Vec<Piece<'_>> {
    const NAMED: [Placeholder; 8] = [
        ("[..]", |_| true, 0),
        ("[KEY]", base64url, 43),
        ("[ID]", base64url, 1),
        ("[UUID]", |c| c.is_ascii_hexdigit() || c == '-', 36),
        ("[TIME]", |c| c.is_ascii_digit() || "TZ:.+-".contains(c), 10),
        ("[N]", |c| c.is_ascii_digit(), 1),
        ("[PORT]", |c| c.is_ascii_digit(), 1),
        ("[HEX]", |c| c.is_ascii_hexdigit(), 1),
    ];
    let mut out = Vec::new();
    let mut rest = pattern;
    'outer: while !rest.is_empty() {
        for (i, _) in rest.match_indices('[') {
            if let Some((name, class, min)) =
                NAMED.iter().find(|(n, _, _)| rest[i..].starts_with(n))
            {
                if i > 0 {
                    out.push(Piece::Text(&rest[..i]));
                }
                out.push(Piece::Class(*class, *min));
                rest = &rest[i + name.len()..];
                continue 'outer;
            }
        }
        out.push(Piece::Text(rest));
        break;
    }
    out
}

fn line_matches(pattern: &str, actual: &str) -> bool {
    fn go(p: &[Piece<'_>], a: &str) -> bool {
        match p.split_first() {
            None => a.is_empty(),
            Some((Piece::Text(t), rest)) => a.strip_prefix(t).is_some_and(|a| go(rest, a)),
            Some((Piece::Class(class, min), rest)) => {
                // Try every length this placeholder can take, longest first.
                let taken: Vec<usize> = a
                    .char_indices()
                    .take_while(|(_, c)| class(*c))
                    .map(|(i, c)| i + c.len_utf8())
                    .collect();
                let mut ends = vec![0];
                ends.extend(taken);
                ends.iter()
                    .enumerate()
                    .rev()
                    .filter(|(count, _)| count >= min)
                    .any(|(_, &end)| go(rest, &a[end..]))
            }
        }
    }
    go(&pieces(pattern), actual.trim_end())
}

fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(e, a) && lines_match(rest, more)),
    }
}

/// Run one file's examples as one shell session in `dir`, with `env`; the failures, each naming
/// the file and line of its command.
fn run_session(
    file: &Path,
    examples: &[Example],
    dir: &Path,
    env: &[(String, String)],
) -> Vec<String> {
    let mut script = String::from("exec 2>&1\n");
    for (i, ex) in examples.iter().enumerate() {
        script.push_str(&ex.command);
        script.push_str(&format!("\nprintf '\\n{MARK} {i} %d\\n' \"$?\"\n"));
    }
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tmp = dir.join(".tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(&script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("TMPDIR", &tmp);
    c.env("LC_ALL", "C.UTF-8");
    for (k, v) in env {
        c.env(k, v);
    }
    hermetic(&mut c)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = c.spawn().expect("start sh");
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut bytes = Vec::new();
    let mut last = Instant::now();
    let mut done = 0;
    let mut failures = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                let marks = String::from_utf8_lossy(&bytes).matches(MARK).count();
                if marks > done {
                    done = marks;
                    last = Instant::now();
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if last.elapsed() > COMMAND_LIMIT {
            // SAFETY: kill(2) on the process group we made for this session.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let ex = &examples[done.min(examples.len() - 1)];
            failures.push(format!(
                "{}:{}: `$ {}` ran longer than {COMMAND_LIMIT:?}; the session was killed",
                file.display(),
                ex.line,
                ex.command
            ));
            break;
        }
    }
    let _ = child.wait();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut rest = text.as_str();
    for (i, ex) in examples.iter().enumerate() {
        let marker = format!("\n{MARK} {i} ");
        let Some(at) = rest.find(&marker) else {
            if failures.is_empty() {
                failures.push(format!(
                    "{}:{}: `$ {}`: the session ended before this command finished; its output:\n{rest}",
                    file.display(),
                    ex.line,
                    ex.command
                ));
            }
            break;
        };
        let output = &rest[..at];
        let after = &rest[at + marker.len()..];
        let (code, tail) = after.split_once('\n').unwrap_or((after, ""));
        rest = tail;
        let code: i32 = code.trim().parse().unwrap_or(-1);
        let actual: Vec<&str> = output.lines().collect();
        if code != ex.exit || !lines_match(&ex.expected, &actual) {
            failures.push(format!(
                "{}:{}: `$ {}`\n  expected (exit {}):\n{}\n  got (exit {code}):\n{}",
                file.display(),
                ex.line,
                ex.command,
                ex.exit,
                indent(&ex.expected.iter().map(String::as_str).collect::<Vec<_>>()),
                indent(&actual)
            ));
        }
    }
    failures
}

fn indent(lines: &[&str]) -> String {
    if lines.is_empty() {
        return "    (nothing)".into();
    }
    lines
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run the console examples of `file` (relative to `root`) against a fresh dev server; the
/// failures, each naming file and line.
fn run_file(root: &Path, file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let examples = match examples(file, &text) {
        Ok(e) => e,
        Err(errors) => return errors,
    };
    if examples.is_empty() {
        return Vec::new();
    }
    let server = DevServerProcess::start(&["--seed", "--dsn-key", DOC_DSN_KEY]);
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("WORKOS_API_BASE".to_string(), server.base.clone()),
        ("WORKOS_API_KEY".to_string(), server.key.clone()),
    ];
    run_session(file, &examples, dir.path(), &env)
}

#[test]
fn doc_console_examples_run_against_the_dev_server() {
    let files = example_files();
    // The files are independent sessions, each with its own dev server: run them side by side.
    let handles: Vec<_> = files
        .iter()
        .map(|f| {
            let f = f.clone();
            std::thread::spawn(move || run_file(&repo(), &f))
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("a file's run panicked"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} doc example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    let ran: usize = files
        .iter()
        .map(|f| {
            examples(f, &std::fs::read_to_string(repo().join(f)).unwrap())
                .unwrap()
                .len()
        })
        .sum();
    assert!(
        ran >= 10,
        "only {ran} examples ran: the harness found too few"
    );
}

/// The harness is not vacuous: a broken example fails, naming its file and line, and so do a
/// wrong exit code, an unmarked skip and a `sh` fence.
#[test]
fn doc_harness_reports_a_broken_example_by_file_and_line() {
    let root = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(root.path().join(name), text).unwrap();
    write(
        "broken.md",
        "# Broken\n\n```console\n$ echo '{}' | vault-fetch-relay --secret-nmae x\n[..]\n```\n\n```console\n$ vault-fetch-relay check --secret-name nope\n[..]\n```\n",
    );
    let failures = run_file(root.path(), Path::new("broken.md"));
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(
        failures[0].starts_with("broken.md:4: `$ echo '{}' | vault-fetch-relay --secret-nmae x`"),
        "{}",
        failures[0]
    );
    assert!(
        failures[0].contains("got (exit 1)") && failures[0].contains("'--secret-name'"),
        "{}",
        failures[0]
    );
    // Output matched by [..] but the exit code is 2, not 0.
    assert!(
        failures[1].starts_with("broken.md:9: ") && failures[1].contains("got (exit 2)"),
        "{}",
        failures[1]
    );

    write("marks.md", "Run it:\n\n```console ignore\n$ helm upgrade x\n```\n\n```sh\nvault-fetch-relay check\n```\n\n```console,ignore\n$ x\n```\n");
    let failures = run_file(root.path(), Path::new("marks.md"));
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(
        failures[0].starts_with("marks.md:3: a `console ignore` block needs a visible note"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1].starts_with("marks.md:7: a `sh` block"),
        "{}",
        failures[1]
    );
    assert!(
        failures[2].starts_with("marks.md:11: fence info \"console,ignore\""),
        "{}",
        failures[2]
    );
}

#[test]
fn doc_output_patterns_match_what_they_should_and_nothing_else() {
    assert!(line_matches("relay id:    [ID]…", "relay id:    58ad0f31…"));
    assert!(line_matches(
        "{\"status\":\"found\",[..]}",
        "{\"status\":\"found\",\"x\":\"y\"}"
    ));
    assert!(line_matches(
        "api base:    http://127.0.0.1:[PORT]",
        "api base:    http://127.0.0.1:41965"
    ));
    assert!(!line_matches(
        "api base:    http://127.0.0.1:[PORT]",
        "api base:    http://127.0.0.1:x"
    ));
    assert!(line_matches(
        "  public_key: \"[KEY]\"",
        "  public_key: \"xTdSoA9g_qzsezhrgSPtGmSlJjT7FKlvwpu1_uIvRIM\""
    ));
    assert!(!line_matches(
        "  public_key: \"[KEY]\"",
        "  public_key: \"short\""
    ));
    assert!(line_matches(
        "[UUID]",
        "58ad0f31-b52b-46af-85f1-2e2cf2f2363e"
    ));
    assert!(line_matches(
        "at [TIME] ok",
        "at 2026-12-07T17:29:52.313633Z ok"
    ));
    assert!(
        line_matches("[default: 30]", "[default: 30]"),
        "an unknown [..] is literal text"
    );
    assert!(!line_matches("found", "not_found"));
    let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(lines_match(
        &lines(&["a", "...", "d"]),
        &["a", "b", "c", "d"]
    ));
    assert!(lines_match(&lines(&["a", "...", "b"]), &["a", "b"]));
    assert!(!lines_match(&lines(&["a", "...", "d"]), &["a", "b", "c"]));
    assert!(!lines_match(&lines(&[]), &["unexpected"]));
}

// ---------------------------------------------------------------------------------------------
// Links and anchors

#[test]
fn doc_relative_links_and_anchors_resolve() {
    let mut cache: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut broken = Vec::new();
    let files = all_markdown();
    assert!(files.len() >= 10, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        for (line, target) in links(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                normalize(&file.parent().unwrap().join(path))
            };
            if !repo().join(&resolved).exists() {
                broken.push(format!(
                    "{}:{line}: {target}: {} does not exist",
                    file.display(),
                    resolved.display()
                ));
                continue;
            }
            if fragment.is_empty() || resolved.extension().is_none_or(|x| x != "md") {
                continue;
            }
            let have = cache.entry(resolved.clone()).or_insert_with(|| {
                anchors(&std::fs::read_to_string(repo().join(&resolved)).unwrap())
            });
            if !have.contains(fragment) {
                broken.push(format!(
                    "{}:{line}: {target}: {} has no heading with the anchor #{fragment}",
                    file.display(),
                    resolved.display()
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "{} broken link(s):\n{}",
        broken.len(),
        broken.join("\n")
    );
}

/// `a/b/../c` -> `a/c`, without touching the file system (a link may point outside the tree).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn doc_anchor_slugs_follow_githubs_rules() {
    assert_eq!(
        slug("2. Fetch latency against curl + jq (`bench/run.sh`)"),
        "2-fetch-latency-against-curl--jq-benchrunsh"
    );
    assert_eq!(
        slug("`exec`: run relay with its credentials"),
        "exec-run-relay-with-its-credentials"
    );
    assert_eq!(
        slug("The [chart](x.md) and VAULT_FETCH_*"),
        "the-chart-and-vault_fetch_"
    );
    let a = anchors("# A\n\n## A\n\n```\n# not a heading\n```\n<a id=\"custom\"></a>\n");
    assert_eq!(
        a,
        ["a", "a-1", "custom"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}

/// README's documentation table is the one index of the guides: a guide added to docs/ without
/// its row there fails here.
#[test]
fn doc_readme_links_every_guide() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let linked: BTreeSet<String> = links(&readme)
        .into_iter()
        .map(|(_, t)| t.split('#').next().unwrap().to_string())
        .collect();
    for guide in guides() {
        let want = guide.display().to_string();
        assert!(
            linked.contains(&want),
            "README.md does not link {want}: add its row to the Documentation table"
        );
    }
    let lines = readme.lines().count();
    assert!(lines <= 200, "README.md has {lines} lines: it is the front door, keep it at 200 or fewer and move detail to docs/");
    // The two commands, on the first screen (the first 40 lines).
    let first_screen: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
    for command in ["$ cargo run --release -- demo", "$ bash scripts/test"] {
        assert!(
            first_screen.contains(command),
            "README.md's first screen lacks `{command}`"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// --help and the reference

fn help(args: &[&str]) -> String {
    let r = crate::support::run_tool(crate::support::cmd(args));
    assert!(r.success(), "{args:?}: {}", r.text());
    r.stdout
}

/// The section of `text` under the heading whose text is `heading`, to the next heading of the
/// same or a higher level.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let mut start = None;
    let mut level = 0;
    let mut offset = 0;
    let mut in_fence = false;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let hashes = line.chars().take_while(|&c| c == '#').count();
        let is_heading = !in_fence && (1..=6).contains(&hashes) && line[hashes..].starts_with(' ');
        if let Some(s) = start {
            if is_heading && hashes <= level {
                return &text[s..offset];
            }
        } else if is_heading && line[hashes..].trim() == heading {
            start = Some(offset + line.len());
            level = hashes;
        }
        offset += line.len();
    }
    match start {
        Some(s) => &text[s..],
        None => panic!("docs/reference.md has no heading {heading:?}"),
    }
}

/// The long flags of each section (`Options:`, `Fetch options:`, ...) of a `--help` text.
fn help_flags(help: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            current = line.trim_end_matches(':').to_string();
            continue;
        }
        let t = line.trim_start();
        if !(line.starts_with("  ") && t.starts_with('-')) {
            continue;
        }
        for word in t.split([' ', ',']) {
            if let Some(flag) = word
                .strip_prefix("--")
                .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            {
                out.entry(current.clone())
                    .or_default()
                    .insert(format!("--{flag}"));
            }
        }
    }
    out
}

/// Every subcommand `--help` lists, every flag each one takes, every variable the crate reads
/// and every exit code: docs/reference.md has them, in the section for them.
#[test]
fn doc_reference_lists_every_flag_variable_and_exit_code_help_knows() {
    use vault_fetch_relay::{OTHER_VARS, SETTING_VARS};
    let reference = std::fs::read_to_string(repo().join("docs/reference.md")).unwrap();
    let top = help(&["--help"]);
    let commands: Vec<String> = top
        .split("\nCommands:\n")
        .nth(1)
        .expect("--help lists its commands")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    let commands_section = section(&reference, "Commands");
    let mut missing = Vec::new();
    for command in &commands {
        let heading = format!("`{command}`");
        let own = section(commands_section, &heading);
        for (group, flags) in help_flags(&help(&[command, "--help"])) {
            let (where_, text) = match group.as_str() {
                "Fetch options" => ("Fetch options", section(&reference, "Fetch options")),
                "Global options" => ("Global options", section(&reference, "Global options")),
                _ => (heading.as_str(), own),
            };
            for flag in flags.iter().filter(|f| *f != "--help" && *f != "--version") {
                if !text.contains(&format!("`{flag}")) {
                    missing.push(format!("{command} --help has {flag} ({group}); docs/reference.md's {where_} section lacks it"));
                }
            }
        }
    }
    // Variables: the table holds exactly what the crate reads, and --help names each.
    let env_table = section(&reference, "Environment variables");
    let mut documented = BTreeSet::new();
    for row in env_table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').collect();
        for cell in cells.iter().skip(1).take(2) {
            for part in cell.split('`').skip(1).step_by(2) {
                for name in part.split([',', ' ']).filter(|n| !n.is_empty()) {
                    documented.insert(name.to_string());
                }
            }
        }
    }
    let read: BTreeSet<String> = SETTING_VARS
        .iter()
        .chain(OTHER_VARS.iter())
        .map(|s| s.to_string())
        .collect();
    for var in read.difference(&documented) {
        missing.push(format!("{var} is read (SETTING_VARS/OTHER_VARS) but not in docs/reference.md's Environment variables table"));
    }
    for var in documented.difference(&read) {
        missing.push(format!("{var} is in docs/reference.md's Environment variables table but the crate does not list it in SETTING_VARS/OTHER_VARS"));
    }
    for var in &read {
        if !top.contains(var.as_str()) {
            missing.push(format!("{var} is not in --help"));
        }
    }
    // Exit codes: a row `| code | who | meaning |` for each; check's list row by row, and the
    // codes exec names.
    let exits = section(&reference, "Exit codes");
    let rows: Vec<(String, String, String)> = exits
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---") && !l.starts_with("| exit"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            Some((
                cells.get(1)?.to_string(),
                cells.get(2)?.to_string(),
                cells.get(3)?.to_lowercase(),
            ))
        })
        .collect();
    let check = help(&["check", "--help"]);
    let listed = check
        .split("\nExit codes:\n")
        .nth(1)
        .expect("check --help lists exit codes");
    for line in listed.lines().take_while(|l| l.starts_with("  ")) {
        let Some((code, meaning)) = line.trim_start().split_once("  ") else {
            continue;
        };
        if !code.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let first_clause = meaning
            .split([':', '(', ','])
            .next()
            .unwrap()
            .trim()
            .to_lowercase();
        let for_check: Vec<&(String, String, String)> = rows
            .iter()
            .filter(|(c, who, _)| c == code && who.contains("check"))
            .collect();
        if for_check.is_empty() {
            missing.push(format!("check --help has exit code {code}; docs/reference.md's Exit codes table has no row for it naming `check`"));
        } else if !for_check.iter().any(|(_, _, m)| m.contains(&first_clause)) {
            missing.push(format!("check exit {code}: --help says {first_clause:?}, docs/reference.md's row says {:?}", for_check[0].2));
        }
    }
    let exec = help(&["exec", "--help"]);
    for code in exec
        .split("exits ")
        .skip(1)
        .filter_map(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .filter(|c| !c.is_empty())
    {
        if !rows
            .iter()
            .any(|(c, who, _)| c == code && who.contains("exec"))
        {
            missing.push(format!("exec --help names exit code {code}; docs/reference.md's Exit codes table has no row for it naming `exec`"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/reference.md and --help disagree:\n{}",
        missing.join("\n")
    );
}
