//! YAML double-quoting: any string reads back as exactly itself, on one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vault_fetch_relay::render::yaml::quote;
use yaml_rust2::{Yaml, YamlLoader};

fuzz_target!(|s: String| {
    let q = quote(&s);
    assert!(!q.contains('\n'));
    let doc = format!("k: {q}\n");
    let parsed = YamlLoader::load_from_str(&doc).expect("quoted YAML parses");
    assert_eq!(parsed[0]["k"], Yaml::String(s), "{doc:?}");
});
