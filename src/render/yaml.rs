//! Writing YAML that every parser reads back to exactly the same strings.
//!
//! Every scalar is double-quoted, with anything outside YAML's printable set escaped.
//! Plain scalars are where YAML's traps live (`no`, `0123`, `1e3`, `*ref`, `: `); a
//! double-quoted scalar is always a string, in YAML 1.1 and 1.2 alike.

/// Every line break YAML recognises: LF and CR (1.1 and 1.2), NEL, LS and PS (1.1 only,
/// but relay's loader, libyaml, is a 1.1 parser, and so is PyYAML).
pub const LINE_BREAKS: [char; 5] = ['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'];

/// The one sanitizer for text that reaches our YAML (a comment, a key, a scalar): true
/// when `c` stands for itself inside one line for every parser. That is YAML 1.2's
/// printable set (§5.1) minus every line break of either version and the BOM (which
/// some parsers strip); everything else is escaped in a scalar and blanked in a comment.
pub fn inline_safe(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
        && !LINE_BREAKS.contains(&c)
        && c != '\u{FEFF}'
}

/// `s` as a double-quoted YAML scalar.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if inline_safe(c) => out.push(c),
            c if (c as u32) <= 0xFF => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A mapping key: plain when it is an identifier-like word, else quoted.
pub(crate) fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && k.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && !is_yaml11_special(k);
    if plain {
        k.to_string()
    } else {
        quote(k)
    }
}

fn is_yaml11_special(k: &str) -> bool {
    matches!(
        k.to_ascii_lowercase().as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "nan" | "inf"
    )
}

/// A tiny ordered tree of mappings with string and boolean leaves: all a values file
/// needs. Booleans are for switches a chart tests with `if` (a quoted "false" is true there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Map(Vec<(String, Node)>),
    Str(String),
    Bool(bool),
}

impl Node {
    pub(crate) fn map() -> Node {
        Node::Map(Vec::new())
    }

    /// Set `path` to `value`, creating mappings on the way (a leaf on the way is replaced).
    pub(crate) fn set(&mut self, path: &[&str], value: Node) {
        let Some((first, rest)) = path.split_first() else {
            *self = value;
            return;
        };
        if !matches!(self, Node::Map(_)) {
            *self = Node::map();
        }
        let Node::Map(entries) = self else { return };
        let idx = match entries.iter().position(|(k, _)| k == first) {
            Some(i) => i,
            None => {
                entries.push((first.to_string(), Node::map()));
                entries.len() - 1
            }
        };
        entries[idx].1.set(rest, value);
    }

    /// Block-style YAML with two-space indentation.
    pub(crate) fn to_yaml(&self) -> String {
        let mut out = String::new();
        self.write(0, &mut out);
        out
    }

    fn write(&self, indent: usize, out: &mut String) {
        let Node::Map(entries) = self else { return };
        for (k, v) in entries {
            out.push_str(&" ".repeat(indent));
            out.push_str(&key(k));
            match v {
                Node::Str(s) => {
                    out.push_str(": ");
                    out.push_str(&quote(s));
                    out.push('\n');
                }
                Node::Bool(b) => out.push_str(if *b { ": true\n" } else { ": false\n" }),
                Node::Map(children) if children.is_empty() => out.push_str(": {}\n"),
                Node::Map(_) => {
                    out.push_str(":\n");
                    v.write(indent + 2, out);
                }
            }
        }
    }
}

/// `text` as one `#` comment line: whatever is not [`inline_safe`] (a line break of
/// any kind, a control character) becomes a space, so the comment can never end early
/// and let the rest of a server's message be read as YAML.
pub(crate) fn comment(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if inline_safe(c) { c } else { ' ' })
        .collect();
    format!("# {line}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::{Yaml, YamlLoader};

    #[test]
    fn scalars_that_look_like_other_types_stay_strings() {
        // The full trap list runs through yaml_rust2 and real helm in tests/helm_chart.rs.
        for s in ["yes", "0123", "null", "a: b", "new\nline", "nel\u{85}"] {
            let doc = format!("k: {}\n", quote(s));
            let parsed = YamlLoader::load_from_str(&doc).unwrap();
            assert_eq!(
                parsed[0]["k"],
                Yaml::String(s.to_string()),
                "{s:?} as {doc}"
            );
        }
        assert_eq!(quote("\u{2028}\u{feff}\u{0}"), "\"\\u2028\\uFEFF\\x00\"");
    }

    #[test]
    fn trees_render_nested_block_yaml() {
        let mut n = Node::map();
        n.set(&["relay", "credentials", "id"], Node::Str("x".into()));
        n.set(&["relay", "config", "mode"], Node::Str("managed".into()));
        n.set(&["backend", "secrets", "SENTRY_DSN"], Node::Str("d".into()));
        n.set(&["weird key", "yes"], Node::Str("v".into()));
        n.set(&["relay", "enabled"], Node::Bool(false));
        let y = n.to_yaml();
        assert_eq!(
            y,
            "relay:\n  credentials:\n    id: \"x\"\n  config:\n    mode: \"managed\"\n  enabled: false\nbackend:\n  secrets:\n    SENTRY_DSN: \"d\"\n\"weird key\":\n  \"yes\": \"v\"\n"
        );
        let parsed = &YamlLoader::load_from_str(&y).unwrap()[0];
        assert_eq!(parsed["weird key"]["yes"].as_str(), Some("v"));
        assert_eq!(parsed["relay"]["enabled"].as_bool(), Some(false));
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment("a\nb"), "# a b\n");
        for brk in LINE_BREAKS {
            let line = comment(&format!("denied{brk}injected: 1{brk}"));
            assert!(!line[..line.len() - 1].contains(LINE_BREAKS), "{line:?}");
            let doc = format!("{line}k: 1\n");
            let parsed = &YamlLoader::load_from_str(&doc).unwrap()[0];
            assert!(parsed["injected"].is_badvalue(), "{brk:?}: {doc:?}");
        }
    }
}
