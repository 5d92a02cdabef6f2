//! Saved profiles (YAML or JSON), as `--profile FILE` reads them from strangers.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = mlcompat::profile::Profile::parse(text, Path::new("p.yaml")) {
        assert!(error.to_string().starts_with("p.yaml"));
    }
});
