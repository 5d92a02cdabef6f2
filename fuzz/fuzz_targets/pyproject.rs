//! pyproject.toml: PEP 621 dependencies and extras, dependency groups, Poetry, uv sources.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let folder = common::write_files(data, &["pyproject.toml", ".python-version"]);
    common::scan_and_assess(&folder.join("pyproject.toml"));
    common::scan_and_assess(folder);
});
