//! The project's code and launch scripts: the first byte picks the kinds of file (a Python
//! module, a notebook, a shell script, a Makefile), the rest is split into them; the whole
//! folder is scanned, so imports are resolved against the others and judged.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let names: &[&str] = match pick % 4 {
        0 => &["train.py", "sub/model.py"],
        1 => &["analysis.ipynb", "train.py"],
        2 => &["run.sh", "train.py"],
        _ => &["Makefile", "conf.yaml"],
    };
    let folder = common::write_files(rest, names);
    common::scan_and_assess(folder);
});
