//! The Terraform query on stdin: any bytes, never a panic; an accepted query came
//! from a JSON object, and a rejection never echoes a string value it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vault_fetch_relay::query::parse_query;

fuzz_target!(|data: &[u8]| {
    match parse_query(data) {
        Ok(_) => {
            let v: serde_json::Value =
                serde_json::from_slice(data).expect("accepted input is JSON");
            assert!(v.is_object(), "accepted input is an object");
        }
        Err(e) => {
            // Values of 8+ characters (a key could be one) never show up in the message.
            if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(data) {
                for v in m.values().filter_map(|v| v.as_str()) {
                    // A value that is also a key may show up as the key's name.
                    if v.len() >= 8 && !m.keys().any(|k| k.contains(v)) {
                        assert!(!e.0.contains(v), "error echoes a value: {}", e.0);
                    }
                }
            }
        }
    }
});
