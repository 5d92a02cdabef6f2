//! conda environment files: conda specs, the `pip:` subsection (which may `-r` a file).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let folder = common::write_files(data, &["environment.yml", "requirements-pip.txt"]);
    common::scan_and_assess(&folder.join("environment.yml"));
});
