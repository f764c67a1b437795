//! The vault value: any text, never a panic; whatever parses is a real key pair.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vault_fetch_relay::credentials::parse_vault_value;
use vault_fetch_relay::keys::{check_pair, is_uuid};
use vault_fetch_relay::secret::Secret;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    match parse_vault_value(&Secret::new(text.clone())) {
        Ok(c) => {
            assert!(is_uuid(&c.relay_id));
            check_pair(&c.public_key, &c.secret_key).expect("parsed credentials are a pair");
        }
        Err(e) => {
            // Reasons name fields, never the value: no long run of the input shows up.
            let reason = e.to_string();
            for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
                if word.len() >= 20 {
                    assert!(!reason.contains(word), "reason echoes input: {reason}");
                }
            }
        }
    }
});
