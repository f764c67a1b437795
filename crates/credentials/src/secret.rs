//! A string that must never be printed: API keys and relay secret keys.

use std::fmt;

/// Holds a secret. `Debug` and `Display` print a mask, so a secret inside a struct
/// that gets logged or put into an error cannot leak by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The clear value. Call sites are the only places a secret leaves this type:
    /// the Authorization header and the renderers that are meant to output it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// First four characters then a fixed mask: enough to tell two keys apart in a log
    /// (`sk_l****` vs `sk_t****`), never enough to use.
    pub fn masked(&self) -> String {
        mask(&self.0, 4)
    }
}

/// Keep the first `keep` characters of `value` and replace the rest with `****`.
/// Whether a word the user typed may be echoed in a message: short and made only of
/// the bytes names are made of, so it cannot be a secret pasted in the wrong place.
pub fn echoable(word: &str, name_byte: impl Fn(u8) -> bool) -> bool {
    word.len() <= 32 && word.bytes().all(name_byte)
}

/// Whether text the user typed may hold a secret: a WorkOS API key (`sk_...`), a relay
/// key (43 or 86 URL-safe base64 characters, see keys.rs), or a URL with userinfo (a
/// password, a DSN's key). Messages quote other text as it was typed, so the user sees
/// what was wrong.
pub fn looks_like_a_secret(text: &str) -> bool {
    let key_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let key = text.split(|c| !key_char(c)).any(|word| {
        let bare = word.trim_start_matches('-');
        bare.starts_with("sk_")
            || [word.len(), bare.len()]
                .iter()
                .any(|n| [43, 86].contains(n))
    });
    let userinfo = text.split("://").skip(1).any(|rest| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        authority.contains('@')
    });
    key || userinfo
}

pub fn mask(value: &str, keep: usize) -> String {
    if value.is_empty() {
        return String::from("(empty)");
    }
    let prefix: String = value.chars().take(keep).collect();
    format!("{prefix}****")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("sk_test_canary_1234567890");
        assert_eq!(format!("{s:?}"), "Secret(sk_t****)");
        assert_eq!(format!("{s}"), "sk_t****");
        assert!(!format!("{s:?} {s} {s:#?}").contains("canary"));
        assert_eq!(s.expose(), "sk_test_canary_1234567890");
    }

    #[test]
    fn mask_handles_short_and_empty_values() {
        assert_eq!(mask("", 4), "(empty)");
        assert_eq!(mask("ab", 4), "ab****");
        assert_eq!(mask("ñandú-key", 4), "ñand****");
    }
}
