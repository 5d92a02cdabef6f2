//! Compiles the rule catalogue (`rules/*.yaml`) and the test machines its rules name
//! (`fixtures/profiles/*.yaml`) into the binary, so mlcompat needs no files at run time.
//!
//! The rule files are parsed here, once, at build time: a file that is not valid YAML fails the
//! build with its line. What `check` loads is a compact form of them as Rust data, without the
//! rules' test cases (which only `rules test` needs), because reading YAML at every run cost
//! most of `check`'s time, and parsing even JSON at every run a tenth of it. The YAML texts are embedded too, for `rules test`, `lint` and `show`.

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
    compact(&rules, &out);
    embed(
        &yaml_files(&root, "fixtures/profiles"),
        &out.join("test_profiles.rs"),
    );
    embed_index_snapshot(&out);
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

/// Writes the snapshot `index/snapshot/*.txt` for `src/index/knowledge.rs`: the files' stems
/// end to end (`snapshot_names.txt`), their texts end to end (`snapshot_texts.txt`), and
/// `index_snapshot.rs`, `&[(name range, text range)]` sorted by stem, so that a package is found
/// by binary search over a few kilobytes of names and only its own text is read.
fn embed_index_snapshot(out: &Path) {
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
    let (mut names, mut texts) = (StringTable::default(), StringTable::default());
    let mut code = String::from("&[\n");
    for stem in stems {
        let path = Path::new(&root).join(dir).join(format!("{stem}.txt"));
        let text = std::fs::read_to_string(&path).expect("snapshot files are readable");
        let (name, text) = (names.add(&stem), texts.add(&text));
        writeln!(code, "    ({name:?}, {text:?}),").expect("writing to a String cannot fail");
    }
    code.push(']');
    std::fs::write(out.join("index_snapshot.rs"), code).expect("OUT_DIR is writable");
    std::fs::write(out.join("snapshot_names.txt"), names.text).expect("OUT_DIR is writable");
    std::fs::write(out.join("snapshot_texts.txt"), texts.text).expect("OUT_DIR is writable");
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

/// Strings laid end to end in one text, each named by its byte range: generated data that
/// refers to them holds plain numbers, so loading it needs no relocation, and the strings a run
/// reads sit together instead of scattered among the large ones it does not.
#[derive(Default)]
struct StringTable {
    text: String,
    seen: std::collections::HashMap<String, (usize, usize)>,
}

impl StringTable {
    /// The range of `value` in the table, adding it the first time.
    fn add(&mut self, value: &str) -> (usize, usize) {
        if let Some(range) = self.seen.get(value) {
            return *range;
        }
        let range = (self.text.len(), self.text.len() + value.len());
        self.text.push_str(value);
        self.seen.insert(value.to_string(), range);
        range
    }
}

/// The built-in rule files as build.rs compacts them for `check` (see src/rules/builtin.rs):
/// each rule's id, line, needs, setting keys, component, status and title as plain values, and
/// its condition and texts as JSON left for the rules a project needs. Nothing is parsed when
/// `check` starts.
#[derive(Default)]
struct Compact {
    /// The generated Rust (`FILES`, `RULES`, `LISTS`).
    files: String,
    rules: String,
    lists: Vec<(usize, usize)>,
    /// Short strings: ids, names, keys, titles.
    names: StringTable,
    /// The rules' JSON and the files' other keys.
    json: StringTable,
}

/// A string value of a JSON object, or `""`.
fn text(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or_default()
}

/// Writes [`Compact`]'s Rust to `out/builtin_compact.rs`, its tables beside it.
fn compact(files: &[PathBuf], out: &Path) {
    let mut compact = Compact::default();
    let mut rules = 0;
    for path in files {
        let name = format!(
            "rules/{}",
            path.file_name().expect("a file").to_string_lossy()
        );
        let text = std::fs::read_to_string(path).expect("rule files are readable");
        let file: RuleFile = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not a valid rule file: {e}"));
        let mut shared: Map<String, Value> = serde_saphyr::from_str::<Option<_>>(&text)
            .unwrap_or_else(|e| panic!("{name} is not a valid rule file: {e}"))
            .unwrap_or_default();
        shared.remove("rules");
        let shared = if shared.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&shared).expect("JSON values serialize")
        };
        let first = rules;
        for spanned in file.rules {
            let line = spanned.referenced.line();
            compact.rule(&name, line, spanned.value);
            rules += 1;
        }
        let file_name = compact.names.add(&name);
        let shared = compact.json.add(&shared);
        writeln!(
            compact.files,
            "BuiltinFile {{ file: Name{file_name:?}, shared: Json{shared:?}, rules: {first}..{rules} }},"
        )
        .expect("writing to a String cannot fail");
    }
    let lists: Vec<String> = compact
        .lists
        .iter()
        .map(|range| format!("Name{range:?}"))
        .collect();
    let code = format!(
        "/// The built-in rule files.\npub(super) const FILES: &[BuiltinFile] = &[\n{}];\n\
         /// Their rules, in file order.\npub(super) const RULES: &[BuiltinRule] = &[\n{}];\n\
         /// The lists rules refer to by range (needs, keys).\nconst LISTS: &[Name] = &[{}];\n",
        compact.files,
        compact.rules,
        lists.join(", ")
    );
    std::fs::write(out.join("builtin_compact.rs"), code).expect("OUT_DIR is writable");
    std::fs::write(out.join("builtin_names.txt"), &compact.names.text)
        .expect("OUT_DIR is writable");
    std::fs::write(out.join("builtin_json.txt"), &compact.json.text).expect("OUT_DIR is writable");
}

impl Compact {
    /// One `BuiltinRule { .. }`.
    fn rule(&mut self, file: &str, line: u64, mut rule: Map<String, Value>) {
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
        let status = match text(rule.get("status")) {
            "ok" => "Ok",
            "warn" => "Warn",
            "fail" => "Fail",
            "unknown" => "Unknown",
            other => panic!("{file}:{line}: `{other}` is not a status"),
        };
        // Rules about what pip can install (`partial: ignore`) and `ok` rules say nothing about
        // how a package runs once installed.
        let judges_running = status != "Ok" && text(rule.get("partial")) != "ignore";
        let needs = match needs {
            Some(names) => format!("Some(List{:?})", self.list(&names)),
            None => "None".to_string(),
        };
        let keys = self.list(&keys);
        let id = self.names.add(text(rule.get("id")));
        let component = self.names.add(text(rule.get("component")));
        let title = self.names.add(text(prose.get("title")));
        let rule_json = self
            .json
            .add(&serde_json::to_string(&rule).expect("JSON values serialize"));
        let prose_json = self
            .json
            .add(&serde_json::to_string(&prose).expect("JSON values serialize"));
        writeln!(
            self.rules,
            "BuiltinRule {{ line: {line}, id: Name{id:?}, needs: {needs}, keys: List{keys:?}, \
             component: Name{component:?}, status: Status::{status}, title: Name{title:?}, \
             judges_running: {judges_running}, rule: Json{rule_json:?}, prose: Json{prose_json:?} }},"
        )
        .expect("writing to a String cannot fail");
    }

    /// The range of `LISTS` that holds `items`.
    fn list(&mut self, items: &[String]) -> (usize, usize) {
        let start = self.lists.len();
        for item in items {
            let range = self.names.add(item);
            self.lists.push(range);
        }
        (start, self.lists.len())
    }
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
