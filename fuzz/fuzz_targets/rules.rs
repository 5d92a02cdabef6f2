//! Rule files from the internet: parsed, linted, and their own test cases run through the
//! engine, so a hostile rule exercises conditions, templates and the memory model too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlcompat::rules::Catalogue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut catalogue = Catalogue::default();
    match catalogue.add("fuzz.yaml", text) {
        Ok(()) => {
            let _ = catalogue.lint();
            let _ = mlcompat::rules::run_tests(&catalogue);
        }
        Err(error) => assert!(error.to_string().starts_with("fuzz.yaml")),
    }
});
