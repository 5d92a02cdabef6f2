//! requirements*.txt with `-r`/`-c` includes: the input is up to five files (split at `@@`
//! lines) that may include one another, in cycles, in a subfolder, or files that do not exist.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let folder = common::write_files(
        data,
        &[
            "requirements.txt",
            "a.txt",
            "sub/b.txt",
            "constraints.txt",
            "requirements-gpu.txt",
        ],
    );
    common::scan_and_assess(&folder.join("requirements.txt"));
    // The whole folder, as `mlcompat check .` reads it: variants chosen, every file once.
    common::scan_and_assess(folder);
});
