//! setup.cfg and setup.py, read as text (a setup.py is never run): the first byte picks which.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = if pick % 2 == 0 {
        "setup.cfg"
    } else {
        "setup.py"
    };
    let folder = common::write_files(rest, &[name, "requirements-extra.txt"]);
    common::scan_and_assess(folder);
});
