//! `init --config-template`: setting relay.mode in any text never panics, and whatever
//! is accepted reads back as one document with exactly the mode asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vault_fetch_relay::render::set_relay_mode;
use yaml_rust2::YamlLoader;

fuzz_target!(|input: (bool, String)| {
    let (managed, template) = input;
    let mode = if managed { "managed" } else { "proxy" };
    if let Ok(out) = set_relay_mode(&template, mode) {
        let docs = YamlLoader::load_from_str(&out).expect("accepted output parses");
        assert_eq!(docs.len(), 1, "{out:?}");
        assert_eq!(docs[0]["relay"]["mode"].as_str(), Some(mode), "{out:?}");
    }
});
