//! A Sentry envelope, split as relay splits one (relay-server `envelope/mod.rs`,
//! `Envelope::parse_bytes`): a header line (a JSON object), then items, each an item header
//! line (a JSON object with a `type` and, optionally, `length`) and its payload. With `length`
//! the payload is exactly that many **bytes**, then `\n` or the end; without it the payload runs
//! to the next `\n`. Anything else is refused with relay's words, so a client that counts
//! characters, forgets a newline or writes broken JSON fails here as it would against Sentry.

use serde_json::{Map, Value};

/// Why an envelope was refused: relay's `EnvelopeError` texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvelopeError {
    MissingHeader,
    InvalidHeader,
    InvalidItemHeader,
    UnexpectedEof,
    MissingNewline,
    /// An event or transaction item whose payload is not a JSON object.
    InvalidPayload,
}

impl EnvelopeError {
    pub(crate) fn text(&self) -> &'static str {
        match self {
            EnvelopeError::MissingHeader => "missing envelope header",
            EnvelopeError::InvalidHeader => "invalid envelope header",
            EnvelopeError::InvalidItemHeader => "invalid item header",
            EnvelopeError::UnexpectedEof => "unexpected end of file",
            EnvelopeError::MissingNewline => "missing newline after header or payload",
            EnvelopeError::InvalidPayload => "invalid item payload",
        }
    }
}

/// One item: its header and its payload bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub header: Map<String, Value>,
    pub kind: String,
    pub payload: Vec<u8>,
}

/// A parsed envelope; `event_id` is the header's, normalized to 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Envelope {
    pub header: Map<String, Value>,
    pub event_id: Option<String>,
    pub items: Vec<Item>,
}

/// The item types that carry an event (a JSON object payload).
pub(crate) fn is_event(kind: &str) -> bool {
    matches!(kind, "event" | "transaction")
}

/// An event id as Sentry takes one (32 hex digits, or a hyphenated UUID), as 32 lowercase hex.
pub(crate) fn event_id(text: &str) -> Option<String> {
    let hex: String = match text.len() {
        32 => text.to_string(),
        36 if [8, 13, 18, 23].iter().all(|&i| text.as_bytes()[i] == b'-') => text.replace('-', ""),
        _ => return None,
    };
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// Split `bytes` into its header and items, strictly.
pub(crate) fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    if bytes.is_empty() {
        return Err(EnvelopeError::MissingHeader);
    }
    let (first, mut rest) = line(bytes);
    let header = object(first).ok_or(EnvelopeError::InvalidHeader)?;
    let event_id = match header.get("event_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(event_id(s).ok_or(EnvelopeError::InvalidHeader)?),
        Some(_) => return Err(EnvelopeError::InvalidHeader),
    };
    let mut items = Vec::new();
    while let Some(rest_after_newline) = rest {
        if rest_after_newline.is_empty() {
            break;
        }
        let (item_line, after) = line(rest_after_newline);
        let item_header = object(item_line).ok_or(EnvelopeError::InvalidItemHeader)?;
        let kind = match item_header.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => return Err(EnvelopeError::InvalidItemHeader),
        };
        let body = after.unwrap_or(&[]);
        let (payload, next) = match item_header.get("length") {
            None | Some(Value::Null) => line(body),
            Some(v) => {
                let len = v.as_u64().ok_or(EnvelopeError::InvalidItemHeader)?;
                let len = usize::try_from(len).map_err(|_| EnvelopeError::UnexpectedEof)?;
                if body.len() < len {
                    return Err(EnvelopeError::UnexpectedEof);
                }
                let (p, tail) = body.split_at(len);
                match tail.first() {
                    None => (p, None),
                    Some(b'\n') => (p, Some(&tail[1..])),
                    Some(_) => return Err(EnvelopeError::MissingNewline),
                }
            }
        };
        if is_event(&kind) && object(payload).is_none() {
            return Err(EnvelopeError::InvalidPayload);
        }
        items.push(Item {
            header: item_header,
            kind,
            payload: payload.to_vec(),
        });
        rest = next;
    }
    Ok(Envelope {
        header,
        event_id,
        items,
    })
}

/// The bytes up to the next `\n`, and what follows it (`None`: there was no newline).
fn line(bytes: &[u8]) -> (&[u8], Option<&[u8]>) {
    match bytes.iter().position(|b| *b == b'\n') {
        Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
        None => (bytes, None),
    }
}

fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

    fn envelope(payload: &str, length: usize, end: &str) -> Vec<u8> {
        format!(
            "{{\"event_id\":\"{ID}\",\"sent_at\":\"2026-01-01T00:00:00Z\"}}\n{{\"type\":\"transaction\",\"length\":{length}}}\n{payload}{end}"
        )
        .into_bytes()
    }

    #[test]
    fn a_transaction_with_its_length_in_bytes() {
        let payload = r#"{"transaction":"deployment.completion","tags":{"c":"ünï \"q\""}}"#;
        let e = parse(&envelope(payload, payload.len(), "\n")).unwrap();
        assert_eq!(e.event_id.as_deref(), Some(ID));
        assert_eq!(e.items.len(), 1);
        assert_eq!(e.items[0].kind, "transaction");
        assert_eq!(e.items[0].payload, payload.as_bytes());
        // The last newline may be left out.
        assert_eq!(parse(&envelope(payload, payload.len(), "")).unwrap(), e);
    }

    #[test]
    fn a_length_counted_in_characters_is_refused() {
        let payload = r#"{"tags":{"c":"ünïcødé"}}"#;
        let chars = payload.chars().count();
        assert!(chars < payload.len());
        assert_eq!(
            parse(&envelope(payload, chars, "\n")).unwrap_err(),
            EnvelopeError::MissingNewline
        );
        assert_eq!(
            parse(&envelope(payload, payload.len() + 5, "\n")).unwrap_err(),
            EnvelopeError::UnexpectedEof
        );
    }

    #[test]
    fn items_without_length_run_to_the_newline_and_several_items_parse() {
        let bytes = format!(
            "{{}}\n{{\"type\":\"event\"}}\n{{\"event_id\":\"{ID}\"}}\n{{\"type\":\"attachment\",\"length\":3}}\nab\n\n"
        );
        let e = parse(bytes.as_bytes()).unwrap();
        assert_eq!(e.event_id, None);
        let kinds: Vec<&str> = e.items.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["event", "attachment"]);
        assert_eq!(e.items[1].payload, b"ab\n", "bytes, newlines included");
        // A header alone is an envelope with no items.
        assert!(parse(b"{}").unwrap().items.is_empty());
    }

    #[test]
    fn broken_headers_and_payloads_are_refused_with_relays_words() {
        let cases: &[(&[u8], EnvelopeError)] = &[
            (b"", EnvelopeError::MissingHeader),
            (b"not json\n", EnvelopeError::InvalidHeader),
            (b"[1]\n", EnvelopeError::InvalidHeader),
            (b"{\"event_id\":\"xyz\"}\n", EnvelopeError::InvalidHeader),
            (b"{\"event_id\":7}\n", EnvelopeError::InvalidHeader),
            (
                b"{}\n{\"length\":2}\n{}\n",
                EnvelopeError::InvalidItemHeader,
            ),
            (
                b"{}\n{\"type\":\"event\",\"length\":-1}\n",
                EnvelopeError::InvalidItemHeader,
            ),
            (
                b"{}\n{\"type\":\"event\"\n",
                EnvelopeError::InvalidItemHeader,
            ),
            (
                b"{}\n{\"type\":\"event\",\"length\":2}\n[]\n",
                EnvelopeError::InvalidPayload,
            ),
            (
                b"{}\n{\"type\":\"transaction\"}\nnot json\n",
                EnvelopeError::InvalidPayload,
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                parse(bytes).unwrap_err(),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(
            EnvelopeError::MissingNewline.text(),
            "missing newline after header or payload"
        );
    }

    #[test]
    fn event_ids_in_both_of_sentrys_forms() {
        assert_eq!(event_id(ID).as_deref(), Some(ID));
        assert_eq!(
            event_id("9EC79C33-EC99-42AB-8353-589FCB2E04DC").as_deref(),
            Some(ID)
        );
        for bad in [
            "",
            "9ec79c33",
            "9ec79c33ec9942ab8353589fcb2e04dg",
            "9ec79c33-ec99-42ab-8353589fcb2e04dc0",
        ] {
            assert_eq!(event_id(bad), None, "{bad}");
        }
    }
}
