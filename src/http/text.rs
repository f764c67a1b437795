//! Server text on its way to a user: every line any client quotes from a server
//! passes here first.

/// One printable line, at most 200 characters: safe to put in a log or an error.
pub(crate) fn sanitize_line(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if reshapes_a_line(c) { ' ' } else { c })
        .take(200)
        .collect();
    out.truncate(out.trim_end().len());
    out
}

/// The one test of a character in text shown on one line (server text on stderr,
/// `check`'s rows, which escape instead of replacing): true for what would let the text
/// end the line or reshape it for the reader. Control characters (LF, CR, NEL, ESC,
/// NUL...), the Unicode line and paragraph separators (U+2028, U+2029: line breaks to
/// YAML 1.1, JavaScript and any reader that splits on Unicode breaks, and not
/// `is_control`), the bidirectional overrides and isolates.
pub(crate) fn reshapes_a_line(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The start of a body a client cannot use, quoted: at most `chars` characters of it
/// as one sanitized line, or "empty body".
pub(crate) fn excerpt(body: &str, chars: usize) -> String {
    if body.is_empty() {
        return "empty body".into();
    }
    let start: String = body.chars().take(chars).collect();
    format!("body starts {:?}", sanitize_line(&start))
}

/// Replace every run of 40 or more key-alphabet characters (`A-Za-z0-9_-`) with a
/// marker. Relay keys are 43 or 86 such characters and API keys are long tokens too,
/// so a body that quotes any secret cannot carry it into a message; request ids and
/// UUIDs (36) survive.
pub(crate) fn redact_tokens(text: &str) -> String {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 40 {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_key_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sanitized() {
        assert_eq!(sanitize_line("a\nb\tc  "), "a b c");
        assert_eq!(sanitize_line(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn every_line_break_and_override_becomes_a_space() {
        for c in [
            '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}', '\u{1b}', '\0',
            '\u{202e}', '\u{2066}',
        ] {
            assert_eq!(sanitize_line(&format!("a{c}b")), "a b", "{c:?}");
        }
        assert_eq!(
            sanitize_line("caf\u{e9} \u{2014} ok"),
            "caf\u{e9} \u{2014} ok"
        );
    }

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt("", 80), "empty body");
        assert_eq!(excerpt("<html>\n<p>x", 4), "body starts \"<htm\"");
        assert!(!excerpt(&"ab\n".repeat(100), 120).contains('\n'));
    }
}
