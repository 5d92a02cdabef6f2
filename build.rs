//! Compiles the rule catalogue (`rules/*.yaml`) and the test machines its rules name
//! (`fixtures/profiles/*.yaml`) into the binary, so mlcompat needs no files at run time.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    embed("rules", Path::new(&out).join("builtin_rules.rs"));
    embed(
        "fixtures/profiles",
        Path::new(&out).join("test_profiles.rs"),
    );
}

/// Writes `&[(file name, include_str!(file))]` for the YAML files of `dir`, sorted by name.
fn embed(dir: &str, target: std::path::PathBuf) {
    println!("cargo::rerun-if-changed={dir}");
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut names: Vec<String> = std::fs::read_dir(Path::new(&root).join(dir))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".yaml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::from("&[\n");
    for name in names {
        let path = Path::new(&root).join(dir).join(&name);
        println!("cargo::rerun-if-changed={}", path.display());
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    code.push(']');
    std::fs::write(target, code).expect("OUT_DIR is writable");
}
