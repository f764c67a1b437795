//! Shell quoting as `env --format shell` writes it: for any value without NUL, the
//! `export` line read with POSIX quoting rules gives back exactly the value.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use vault_fetch_relay::credentials::RelayCredentials;
use vault_fetch_relay::fetch::{Found, Outcome, Report};
use vault_fetch_relay::render::{EnvFile, EnvFormat, Render};
use vault_fetch_relay::secret::Secret;

/// POSIX word reading for what the renderer may produce: '...' literal spans,
/// backslash-escaped characters outside quotes, nothing else allowed.
fn posix_unquote(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            '\\' => out.push(chars.next()?),
            // Anything else unquoted could expand or split: the renderer must not emit it.
            _ => return None,
        }
    }
    Some(out)
}

fuzz_target!(|dsn: String| {
    if dsn.contains('\0') {
        return;
    }
    let report = Report {
        outcome: Outcome::Found(Found {
            credentials: RelayCredentials {
                relay_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8".into(),
                public_key: "p".into(),
                secret_key: Secret::new("s"),
                sentry_dsn: Some(dsn.clone()),
            },
            version_id: None,
            updated_at: None,
            request_id: None,
        }),
        api_base: "https://api.workos.com".into(),
        secret_name: "n".into(),
        elapsed: Duration::ZERO,
        attempts: 1,
    };
    let out = EnvFile {
        format: EnvFormat::Shell,
    }
    .render(&report);
    let (_, word) = out
        .split_once("export SENTRY_DSN=")
        .expect("SENTRY_DSN is written");
    let word = word.strip_suffix('\n').expect("ends with a newline");
    assert_eq!(
        posix_unquote(word).as_deref(),
        Some(dsn.as_str()),
        "{word:?}"
    );
});
