//! Training configs, YAML and JSON: the first byte picks the file name (and so the reader's
//! view of it), the rest is the file.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = if pick % 2 == 0 {
        "config.yaml"
    } else {
        "train.json"
    };
    let folder = common::write_files(rest, &[name]);
    common::scan_and_assess(&folder.join(name));
});
