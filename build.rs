//! Compiles the rule catalogue (`rules/*.yaml`) and the test machines its rules name
//! (`fixtures/profiles/*.yaml`) into the binary, so mlcompat needs no files at run time.
//!
//! The rule files are parsed here, once, at build time: a file that is not valid YAML fails the
//! build with its line. What `check` loads is a compact JSON form of them, without the rules'
//! test cases (which only `rules test` needs), because reading YAML at every run cost most of
//! `check`'s time. The YAML texts are embedded too, for `rules test`, `lint` and `show`.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let rules = yaml_files(&root, "rules");
    embed(&rules, &out.join("builtin_rules.rs"));
    compact(&rules, &out.join("builtin_rules.json"));
    embed(
        &yaml_files(&root, "fixtures/profiles"),
        &out.join("test_profiles.rs"),
    );
}

/// The YAML files of `dir`, sorted by name.
fn yaml_files(root: &Path, dir: &str) -> Vec<PathBuf> {
    println!("cargo::rerun-if-changed={dir}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    files
}

/// Writes `&[(file name, include_str!(file))]`.
fn embed(files: &[PathBuf], target: &Path) {
    let mut code = String::from("&[\n");
    for path in files {
        let name = path.file_name().expect("a file").to_string_lossy();
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

/// The rules of a rule file, each with its line (the file's other keys pass through as JSON).
#[derive(Deserialize)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<Spanned<Map<String, Value>>>,
}

/// A rule's texts: `check` reads them only for the rules that fire, so they travel apart.
const PROSE: [&str; 7] = [
    "title", "summary", "problem", "impact", "solution", "source", "verified",
];

/// Writes `[{file, rules: [{line, rule, prose}], ...the file's other keys}]` as one JSON
/// document.
fn compact(files: &[PathBuf], target: &Path) {
    let mut documents = Vec::new();
    for path in files {
        let name = format!(
            "rules/{}",
            path.file_name().expect("a file").to_string_lossy()
        );
        let text = std::fs::read_to_string(path).expect("rule files are readable");
        let file: RuleFile = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not a valid rule file: {e}"));
        let mut document: Map<String, Value> = serde_saphyr::from_str::<Option<_>>(&text)
            .unwrap_or_else(|e| panic!("{name} is not a valid rule file: {e}"))
            .unwrap_or_default();
        let rules: Vec<Value> = file
            .rules
            .into_iter()
            .map(|spanned| {
                let mut rule = spanned.value;
                rule.remove("tests");
                let prose: Map<String, Value> = PROSE
                    .iter()
                    .filter_map(|key| Some((key.to_string(), rule.remove(*key)?)))
                    .collect();
                serde_json::json!({ "line": spanned.referenced.line(), "rule": rule, "prose": prose })
            })
            .collect();
        document.insert("file".to_string(), Value::String(name));
        document.insert("rules".to_string(), Value::Array(rules));
        documents.push(Value::Object(document));
    }
    let json = serde_json::to_string(&documents).expect("JSON values serialize");
    std::fs::write(target, json).expect("OUT_DIR is writable");
}
