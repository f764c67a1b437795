//! Setting `relay.mode` in the user's own config.yml, found by a real YAML parser.
//!
//! The template is parsed (yaml-rust2, which also refuses duplicate keys), the mode's
//! value (or the place to add one) is located from the parser's positions, and only
//! that span of text is replaced, so the user's comments, layout and other settings
//! stay as written. The result is parsed again and must equal the template with only
//! `relay.mode` changed; anything else is refused with a message, never written.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::{Yaml, YamlLoader};

/// A parsed node with where it starts in the text (a byte offset).
enum Node {
    Scalar {
        value: String,
        style: TScalarStyle,
        at: usize,
    },
    Map {
        at: usize,
        flow: bool,
        entries: Vec<(Node, Node)>,
    },
    Other,
}

impl Node {
    fn is_str(&self, s: &str) -> bool {
        matches!(self, Node::Scalar { value, .. } if value == s)
    }
}

/// The `relay.upstream` a template sets, if any: the upstream relay will use when
/// RELAY_UPSTREAM_URL does not override it (what `--verify-upstream` must ask).
pub(crate) fn upstream_of(template: &str) -> Option<String> {
    let text = template.strip_prefix('\u{feff}').unwrap_or(template);
    let docs = YamlLoader::load_from_str(text).ok()?;
    docs.first()?["relay"]["upstream"]
        .as_str()
        .map(str::to_string)
}

/// The template with `relay.mode` set to `mode` (added when absent), or why that
/// cannot be done without risk of relay reading something else.
pub fn set_relay_mode(template: &str, mode: &str) -> anyhow::Result<String> {
    let refuse = |why: String| {
        anyhow::anyhow!(
            "{why}; write relay's settings as a mapping, e.g. `relay:` with `mode: managed` under it"
        )
    };
    let text = template.strip_prefix('\u{feff}').unwrap_or(template);
    // Relay's loader (serde_yaml on libyaml, YAML 1.1) breaks lines at NEL, LS and
    // PS where a YAML 1.2 parser does not, and refuses non-printable characters:
    // where the two could read different keys, nothing is rewritten.
    // Tabs too: libyaml refuses them in places a YAML 1.2 parser allows (before a
    // comment or a key at the start of a line).
    // The same character rule as everything we write (yaml::inline_safe), LF and CR
    // apart: those are the line breaks every version agrees on.
    if let Some(c) = text
        .chars()
        .find(|&c| !super::yaml::inline_safe(c) && !matches!(c, '\n' | '\r'))
    {
        let hint = if c == '\t' {
            " (indent with spaces)"
        } else {
            ""
        };
        return Err(refuse(format!(
            "it contains the character U+{:04X}, which YAML parsers read differently (or refuse){hint}",
            c as u32
        )));
    }
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| refuse(format!("it is not valid YAML ({e})")))?;
    if docs.len() > 1 {
        return Err(refuse("only a single YAML document is supported".into()));
    }
    let root = parse_tree(text).map_err(|e| refuse(format!("it is not valid YAML ({e})")))?;
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let out = match root {
        None => append_relay(text, 0, nl, mode),
        Some(Node::Scalar { ref value, .. })
            if value.is_empty() || value == "~" || value == "null" =>
        {
            append_relay(text, 0, nl, mode)
        }
        Some(Node::Map {
            at,
            flow,
            ref entries,
        }) => {
            // Relay reads its config into structs: a key that is a mapping or a list
            // makes it refuse the file, so such a template is refused here.
            let complex_key =
                |e: &[(Node, Node)]| e.iter().any(|(k, _)| !matches!(k, Node::Scalar { .. }));
            if complex_key(entries) {
                return Err(refuse(
                    "a top-level key is a mapping or a list, not a name".into(),
                ));
            }
            let relay: Vec<&(Node, Node)> =
                entries.iter().filter(|(k, _)| k.is_str("relay")).collect();
            if let [(_, Node::Map { entries, .. })] = relay.as_slice() {
                if complex_key(entries) {
                    return Err(refuse(
                        "a key under relay: is a mapping or a list, not a name".into(),
                    ));
                }
            }
            match relay.as_slice() {
                [] if flow => insert_at(
                    text,
                    at + 1,
                    &format!("relay: {{mode: {mode}}}{}", sep(entries)),
                ),
                // A block mapping's own position is its first `:`; its keys' are exact.
                [] => {
                    let first_key = match entries.first() {
                        Some((Node::Scalar { at, .. }, _)) => *at,
                        _ => at,
                    };
                    append_relay(text, column(text, first_key), nl, mode)
                }
                [(_, Node::Map { at, flow, entries })] => {
                    set_in_relay(text, *at, *flow, entries, nl, mode).map_err(refuse)?
                }
                // `relay:` with nothing after it: the mode goes on a line of its own.
                [(
                    Node::Scalar { at: key_at, .. },
                    Node::Scalar {
                        value,
                        style: TScalarStyle::Plain,
                        ..
                    },
                )] if value.is_empty() && !flow => {
                    let line_end = text[*key_at..]
                        .find(['\n', '\r'])
                        .map_or(text.len(), |i| key_at + i);
                    let pad = " ".repeat(column(text, *key_at) + 2);
                    insert_at(text, line_end, &format!("{nl}{pad}mode: {mode}"))
                }
                [_] => return Err(refuse("`relay:` is not a mapping of settings".into())),
                _ => return Err(refuse("`relay:` appears more than once".into())),
            }
        }
        Some(_) => return Err(refuse("its top level is not a mapping".into())),
    };
    verify(docs.first(), &out, mode).map_err(refuse)?;
    Ok(out)
}

/// `, ` when a flow mapping already has entries after the insertion point.
fn sep(entries: &[(Node, Node)]) -> &'static str {
    if entries.is_empty() {
        ""
    } else {
        ", "
    }
}

fn set_in_relay(
    text: &str,
    at: usize,
    flow: bool,
    entries: &[(Node, Node)],
    nl: &str,
    mode: &str,
) -> Result<String, String> {
    let modes: Vec<&(Node, Node)> = entries.iter().filter(|(k, _)| k.is_str("mode")).collect();
    match modes.as_slice() {
        [(key, Node::Scalar { value, style, at })] => {
            if value.is_empty() && matches!(style, TScalarStyle::Plain) {
                return Err("relay.mode has no value".into());
            }
            // Only the `:` indicator (and white space) may stand between the key and its
            // value: an anchor, tag or nested `:` there is where yaml-rust2 and relay's
            // libyaml can disagree on what the value is (`? mode` / `: &m: managed` is a
            // mapping to libyaml, a string to yaml-rust2).
            if !key_then_value_only(text, key, *at, flow) {
                return Err("relay.mode's value has a comment, an anchor or a tag YAML parsers read differently before it; write it plain, e.g. `mode: managed`".into());
            }
            let end = scalar_end(text, *at, style, flow).ok_or_else(|| {
                "relay.mode's value is not written on one line (a block or multi-line scalar)"
                    .to_string()
            })?;
            Ok(format!("{}{mode}{}", &text[..*at], &text[end..]))
        }
        [_] => Err("relay.mode is not a plain value".into()),
        [] if flow => Ok(insert_at(
            text,
            at + 1,
            &format!("mode: {mode}{}", sep(entries)),
        )),
        [] => {
            // A new first line of the block, indented like the first key.
            let Some((key, _)) = entries.first() else {
                return Err("relay: has no settings".into());
            };
            let key_at = match key {
                Node::Scalar { at, .. } => *at,
                _ => return Err("relay:'s first key is not a plain key".into()),
            };
            let line_start = text[..key_at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
            let indent = &text[line_start..key_at];
            if !indent.chars().all(|c| c == ' ') {
                return Err("cannot add relay.mode before relay:'s first key".into());
            }
            Ok(insert_at(
                text,
                line_start,
                &format!("{indent}mode: {mode}{nl}"),
            ))
        }
        _ => Err("relay.mode appears more than once".into()),
    }
}

/// Append `relay:` with the mode at the end, at the top-level mapping's indentation.
fn append_relay(text: &str, indent: usize, nl: &str, mode: &str) -> String {
    let pad = " ".repeat(indent);
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with(['\n', '\r']) {
        out.push_str(nl);
    }
    out.push_str(&format!("{pad}relay:{nl}{pad}  mode: {mode}{nl}"));
    out
}

fn insert_at(text: &str, at: usize, what: &str) -> String {
    format!("{}{what}{}", &text[..at], &text[at..])
}

/// The column (in characters) of byte offset `at`.
fn column(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    text[line_start..at].chars().count()
}

/// Whether the text between the key `key` and its value at `value_at` is the `:`
/// indicator, white space (line breaks included, for `? key` / `: value`) and at most an
/// anchor and a tag of plain names: nothing (a `:` in an anchor's name, a verbatim tag)
/// that YAML 1.1 and 1.2 parsers read differently (`: &m: managed` is a mapping to relay's
/// libyaml, a string anchored `m:` to yaml-rust2).
fn key_then_value_only(text: &str, key: &Node, value_at: usize, flow: bool) -> bool {
    let Node::Scalar { at, style, value } = key else {
        return false;
    };
    // A plain key on one line is its own text; a quoted one ends at its closing quote.
    let key_end = match style {
        TScalarStyle::Plain => Some(at + value.len()),
        _ => scalar_end(text, *at, style, flow),
    };
    let Some(gap) = key_end.and_then(|end| text.get(end..value_at)) else {
        return false;
    };
    let plain_name = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let mut words = gap.split_whitespace();
    words.next() == Some(":")
        && words.all(|w| match w.strip_prefix('&') {
            Some(anchor) => !anchor.is_empty() && plain_name(anchor),
            None => w
                .strip_prefix('!')
                .is_some_and(|t| plain_name(t.trim_start_matches('!'))),
        })
}

/// Where a one-line scalar starting at `at` ends; None when it continues on the next
/// line (or is a block scalar), which one span replacement could not rewrite whole.
fn scalar_end(text: &str, at: usize, style: &TScalarStyle, flow: bool) -> Option<usize> {
    let rest = &text[at..];
    let mut chars = rest.char_indices().peekable();
    match style {
        TScalarStyle::DoubleQuoted => {
            chars.next();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => return Some(at + i + 1),
                    '\n' | '\r' => return None,
                    _ => {}
                }
            }
            None
        }
        TScalarStyle::SingleQuoted => {
            chars.next();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\'' if chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                        chars.next();
                    }
                    '\'' => return Some(at + i + 1),
                    '\n' | '\r' => return None,
                    _ => {}
                }
            }
            None
        }
        TScalarStyle::Plain => {
            let mut end = rest.len();
            let mut prev_space = false;
            for (i, c) in rest.char_indices() {
                let stop = matches!(c, '\n' | '\r')
                    || (c == '#' && prev_space)
                    || (flow && matches!(c, ',' | '}' | ']'));
                if stop {
                    end = i;
                    break;
                }
                prev_space = c == ' ' || c == '\t';
            }
            // A plain scalar continued on the next line keeps its tail here; the
            // verification then refuses the result.
            Some(at + rest[..end].trim_end_matches([' ', '\t']).len())
        }
        _ => None,
    }
}

/// Build the document's tree with byte positions from the parser's events.
fn parse_tree(text: &str) -> Result<Option<Node>, String> {
    // Markers count characters; edits need byte offsets.
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let byte = |chars: usize| offsets.get(chars).copied().unwrap_or(text.len());
    let mut parser = Parser::new_from_str(text);
    let mut events = Vec::new();
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| e.to_string())?;
        if ev == Event::StreamEnd {
            break;
        }
        events.push((ev, byte(mark.index())));
    }
    let mut it = events.into_iter().peekable();
    let mut root = None;
    while let Some((ev, _)) = it.next() {
        if ev == Event::DocumentStart {
            if let Some(&(Event::DocumentEnd, _)) = it.peek() {
                continue;
            }
            root = Some(node(text, &mut it)?);
        }
    }
    Ok(root)
}

type Events = std::iter::Peekable<std::vec::IntoIter<(Event, usize)>>;

fn node(text: &str, it: &mut Events) -> Result<Node, String> {
    let (ev, at) = it.next().ok_or("unexpected end of the document")?;
    Ok(match ev {
        Event::Scalar(value, style, _, _) => Node::Scalar { value, style, at },
        Event::MappingStart(..) => {
            let flow = text[at..].starts_with('{');
            let mut entries = Vec::new();
            loop {
                match it.peek() {
                    Some((Event::MappingEnd, _)) => {
                        it.next();
                        break;
                    }
                    None => return Err("unexpected end of a mapping".into()),
                    _ => {}
                }
                let k = node(text, it)?;
                let v = node(text, it)?;
                entries.push((k, v));
            }
            Node::Map { at, flow, entries }
        }
        Event::SequenceStart(..) => {
            let mut depth = 1;
            while depth > 0 {
                match it.next().ok_or("unexpected end of a sequence")?.0 {
                    Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                    Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                    _ => {}
                }
            }
            Node::Other
        }
        _ => Node::Other,
    })
}

/// The rewrite must read back as the template with only `relay.mode` changed.
fn verify(before: Option<&Yaml>, out: &str, mode: &str) -> Result<(), String> {
    let docs = YamlLoader::load_from_str(out)
        .map_err(|e| format!("setting the mode would not leave valid YAML ({e})"))?;
    let [after] = docs.as_slice() else {
        return Err("setting the mode would not leave one YAML document".into());
    };
    let key = |k: &str| Yaml::String(k.into());
    let mut after = after.clone();
    let Some(Yaml::Hash(relay)) = after.as_mut_hash().and_then(|h| h.get_mut(&key("relay"))) else {
        return Err("setting the mode would not leave a relay: mapping".into());
    };
    if relay.remove(&key("mode")) != Some(Yaml::String(mode.into())) {
        return Err("relay.mode could not be set in place".into());
    }
    let mut before = match before {
        Some(Yaml::Hash(h)) => Yaml::Hash(h.clone()),
        _ => Yaml::Hash(Default::default()),
    };
    if let Some(h) = before.as_mut_hash() {
        match h.get_mut(&key("relay")) {
            Some(Yaml::Hash(relay)) => {
                relay.remove(&key("mode"));
            }
            _ => {
                h.insert(key("relay"), Yaml::Hash(Default::default()));
            }
        }
    }
    // Order-insensitive at the top: an appended relay: may move.
    let same = match (&before, &after) {
        (Yaml::Hash(b), Yaml::Hash(a)) => {
            b.len() == a.len() && b.iter().all(|(k, v)| a.get(k) == Some(v))
        }
        _ => false,
    };
    if !same {
        return Err(
            "relay.mode cannot be set without changing other settings (an anchor or alias on it?)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What relay's loader (relay-config: serde_yaml into serde-derived structs)
    /// reads: duplicate fields are an error there, so relay would not start.
    #[derive(serde::Deserialize)]
    struct RelayConfig {
        relay: RelaySection,
    }
    #[derive(serde::Deserialize)]
    struct RelaySection {
        mode: String,
    }

    /// The mode relay would run in, or why it would not start.
    pub(crate) fn relay_reads(yaml: &str) -> Result<String, String> {
        serde_yaml::from_str::<RelayConfig>(yaml)
            .map(|c| c.relay.mode)
            .map_err(|e| e.to_string())
    }

    /// Everything but relay.mode, as relay's YAML library reads it.
    pub(crate) fn other_settings(yaml: &str) -> serde_yaml::Value {
        let mut v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        if v.is_null() {
            v = serde_yaml::Value::Mapping(Default::default());
        }
        let m = v.as_mapping_mut().unwrap();
        let relay = m
            .entry("relay".into())
            .or_insert(serde_yaml::Value::Mapping(Default::default()));
        if relay.is_null() {
            *relay = serde_yaml::Value::Mapping(Default::default());
        }
        relay.as_mapping_mut().unwrap().remove("mode");
        v
    }

    #[test]
    fn every_spelling_of_the_mode_key_is_found() {
        for t in [
            // Terraform's yamlencode quotes every key.
            "\"relay\":\n  \"mode\": \"managed\"\n  \"port\": 3001\n",
            "'relay':\n  'mode': 'managed'\n",
            "relay:\n  mode : managed\n",
            "relay:\n  ? mode\n  : managed\n",
            "relay:\n  \"mo\\x64e\": managed\n",
            "relay:\r\n  mode: managed\r\n  port: 1\r\n",
            "  relay:\n    mode: managed\n  logging:\n    level: info\n",
            "relay:\n  mode: &m managed\n",
            "relay:\n  mode: !!str managed # keep\n",
            "relay: {mode: managed, port: 1}\n",
            "{relay: {port: 1}}\n",
            "relay: {}\n",
            "relay:\n  port: 1\n",
            "logging:\n  level: debug\n",
            "  logging:\n    level: debug\n",
            "# only a comment\n",
            "",
            "---\nrelay:\n  mode: managed\n",
            "\u{feff}relay:\n  mode: managed\n",
            "relay :\n  mode: managed\n",
            "relay:  # mine\n  mode: managed\n",
            "relay:\n  mode:\n    managed\n",
        ] {
            let out = set_relay_mode(t, "proxy").unwrap_or_else(|e| panic!("{t:?}: {e}"));
            assert_eq!(
                relay_reads(&out).as_deref(),
                Ok("proxy"),
                "{t:?} -> {out:?}"
            );
            let t = t.strip_prefix('\u{feff}').unwrap_or(t);
            assert_eq!(other_settings(&out), other_settings(t), "{t:?} -> {out:?}");
        }
        // Layout and comments survive: only the value changes.
        let t = "# mine\nrelay:\n    upstream: https://sentry.example/\n    mode: managed # keep\n    port: 3001\nlogging:\n  level: info\n";
        assert_eq!(
            set_relay_mode(t, "proxy").unwrap(),
            t.replace("mode: managed", "mode: proxy")
        );
        assert_eq!(
            set_relay_mode("relay:\n  port: 1\n", "managed").unwrap(),
            "relay:\n  mode: managed\n  port: 1\n"
        );
    }

    #[test]
    fn what_cannot_be_rewritten_safely_is_refused() {
        for t in [
            "relay:\n  mode: >-\n    managed\n",
            "relay:\n  mode: man\n    aged\n",
            "relay:\n  mode: \"man\n    aged\"\n",
            "relay:\n  - mode: managed\n",
            "- relay\n",
            "relay: managed\n",
            "relay:\n  mode: a\nrelay:\n  mode: b\n",
            "relay:\n  mode: a\n---\nrelay:\n  mode: b\n",
            "relay:\n  mode: a\n  mode: b\n",
            "relay:\n  mode: a\n  \"mode\": b\n",
            "relay:\n  mode: &m managed\nother: *m\n",
            "relay:\n  mode: managed\n  port: 1\u{2028}  mode: x\n",
            "relay:\n  port: 1\u{85}  mode: managed\n",
            "relay:\n  mode: managed\u{0}\n",
            "relay:\n\tmode: managed\n",
            "relay:\n  mode: [managed]\n",
            // Found by the property test: libyaml reads the value as a mapping.
            "relay:\n  ? mode\n  : &m: managed\n",
            "# my relay config\n  relay:\n    ? mode\n    : &m: managed\n",
            "relay:\n  mode: !<tag:yaml.org,2002:str> managed\n",
        ] {
            assert!(set_relay_mode(t, "proxy").is_err(), "{t:?}");
        }
    }
}
