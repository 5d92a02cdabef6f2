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
    embed_index_snapshot(Path::new(&out).join("index_snapshot.rs"));
    wording(&root.join("wording/engine.yaml"), &out.join("wording.rs"));
}

/// Writes one function per message of `wording/engine.yaml`: its parameters are the message's
/// placeholders in alphabetical order, so a call that misses or misnames one does not compile,
/// and the text is a format string that captures them.
fn wording(source: &Path, target: &Path) {
    println!("cargo::rerun-if-changed={}", source.display());
    let text = std::fs::read_to_string(source).expect("wording/engine.yaml is readable");
    let messages: std::collections::BTreeMap<String, String> = serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("wording/engine.yaml is not a map of messages: {e}"));
    let mut code = String::new();
    for (key, message) in &messages {
        let name = key.replace('-', "_");
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "wording/engine.yaml: `{key}` is not a lowercase key"
        );
        let mut placeholders = placeholders(key, message);
        placeholders.sort();
        placeholders.dedup();
        let parameters: Vec<String> = placeholders
            .iter()
            .map(|p| format!("{p}: impl std::fmt::Display"))
            .collect();
        let body = if placeholders.is_empty() {
            format!("String::from({message:?})")
        } else {
            format!("format!({message:?})")
        };
        writeln!(
            code,
            "/// {message:?}\n#[must_use]\npub fn {name}({}) -> String {{\n    {body}\n}}\n",
            parameters.join(", ")
        )
        .expect("writing to a String cannot fail");
    }
    std::fs::write(target, code).expect("OUT_DIR is writable");
}

/// The `{placeholder}` names of a message; panics (failing the build) on a brace that does not
/// enclose a lowercase identifier.
fn placeholders(key: &str, message: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = message;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open + 1..];
        let close = after.find('}').filter(|_| rest[open..].starts_with('{'));
        let Some(close) = close else {
            panic!("wording/engine.yaml: `{key}` has an unmatched brace");
        };
        let name = &after[..close];
        assert!(
            !name.is_empty()
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "wording/engine.yaml: `{key}` has a placeholder `{{{name}}}` that is not a lowercase identifier"
        );
        found.push(name.to_string());
        rest = &after[close + 1..];
    }
    found
}

/// Writes `&[(stem, include_str!(file))]` for `index/snapshot/*.txt`, sorted by stem so that
/// `src/index/knowledge.rs` finds a package by binary search and parses only that one.
fn embed_index_snapshot(target: std::path::PathBuf) {
    let dir = "index/snapshot";
    println!("cargo::rerun-if-changed={dir}");
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut stems: Vec<String> = std::fs::read_dir(Path::new(&root).join(dir))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".txt").map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    stems.sort();
    let mut code = String::from("&[\n");
    for stem in stems {
        let path = Path::new(&root).join(dir).join(format!("{stem}.txt"));
        writeln!(
            code,
            "    ({stem:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    code.push(']');
    std::fs::write(target, code).expect("OUT_DIR is writable");
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
                let each = strings(rule.get("for_each"));
                let needs = rule.get("when").and_then(|when| needs(when, &each));
                let mut keys = Vec::new();
                if let Some(when) = rule.get("when") {
                    setting_keys(when, &each, &mut keys);
                }
                for change in rule
                    .get("changes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(key) = change.pointer("/set/key").and_then(Value::as_str) {
                        add_key(key, &each, &mut keys);
                    }
                }
                serde_json::json!({
                    "line": spanned.referenced.line(),
                    "id": rule.get("id"),
                    "needs": needs,
                    "keys": keys,
                    "rule": rule,
                    "prose": prose,
                })
            })
            .collect();
        document.insert("file".to_string(), Value::String(name));
        document.insert("rules".to_string(), Value::Array(rules));
        documents.push(Value::Object(document));
    }
    let json = serde_json::to_string(&documents).expect("JSON values serialize");
    std::fs::write(target, json).expect("OUT_DIR is writable");
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The packages one of which a project must declare for a condition to hold, or `None` when it
/// may hold without any: the first requirement of an `all`, the union of an `any` whose every
/// branch has one. `check` judges a rule only for projects that declare one of them. The engine
/// computes the same from a compiled rule (`needs` in src/rules/catalogue.rs), and a test holds
/// the two equal.
fn needs(when: &Value, each: &[String]) -> Option<Vec<String>> {
    let (kind, value) = when.as_object()?.iter().next()?;
    match kind.as_str() {
        "package" => {
            let name = value
                .as_str()
                .or_else(|| value.get("name").and_then(Value::as_str))?;
            Some(if name == "{each}" {
                each.to_vec()
            } else {
                vec![name.to_string()]
            })
        }
        "all" => value.as_array()?.iter().find_map(|item| needs(item, each)),
        "any" => {
            let mut union: Vec<String> = Vec::new();
            for item in value.as_array()? {
                for name in needs(item, each)? {
                    if !union.contains(&name) {
                        union.push(name);
                    }
                }
            }
            (!union.is_empty()).then_some(union)
        }
        _ => None,
    }
}

/// The setting keys a condition tests, `{each}` standing for each `for_each` entry.
fn setting_keys(when: &Value, each: &[String], keys: &mut Vec<String>) {
    let Some((kind, value)) = when.as_object().and_then(|o| o.iter().next()) else {
        return;
    };
    match kind.as_str() {
        "all" | "any" => {
            for item in value.as_array().into_iter().flatten() {
                setting_keys(item, each, keys);
            }
        }
        "not" => setting_keys(value, each, keys),
        "setting" => {
            if let Some(key) = value.get("key").and_then(Value::as_str) {
                add_key(key, each, keys);
            }
        }
        _ => {}
    }
}

fn add_key(key: &str, each: &[String], keys: &mut Vec<String>) {
    let names: Vec<String> = if key == "{each}" {
        each.to_vec()
    } else {
        vec![key.to_string()]
    };
    for name in names {
        if !keys.contains(&name) {
            keys.push(name);
        }
    }
}
