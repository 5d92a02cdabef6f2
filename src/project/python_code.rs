//! The project's Python code: `.py` files and the code cells of `.ipynb` notebooks, parsed with
//! tree-sitter (never matched with regular expressions), for two kinds of fact:
//!
//! - imports of packages no manifest declares. An import name maps to its distribution through
//!   `rules/imports.tsv` (data, not code: `cv2` is `opencv-python`); the standard library
//!   (`rules/python-stdlib.txt`) and the project's own modules are left aside. Such a package is
//!   added to the project as [`PackageDecl::imported`] and judged like a declared one.
//! - CUDA assumptions, each a [`Setting`] with its `file:line` that rules judge
//!   (`rules/code.yaml`): `code.cuda_device` (`.cuda()`, `device="cuda"`, `torch.device("cuda")`,
//!   `.to("cuda")`), `code.cuda_call` (a `torch.cuda.*` call that needs a device), in a file
//!   that never asks `torch.cuda.is_available()`; `code.nccl_backend` (`init_process_group(
//!   backend="nccl")` with no `gloo` alternative in the file); `code.torch_compile`
//!   (`torch.compile`); `code.bf16` (`torch.bfloat16`, `dtype="bfloat16"`, in a file that never
//!   asks `is_bf16_supported()`).
//!
//! Nothing is executed or imported. Files are read through the capped reader, parsing is bounded
//! in time per file and in bytes per project, and the syntax tree is walked without recursion,
//! so hostile input (huge, deeply nested or binary files) costs bounded time and never panics.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use tree_sitter::{Node, ParseOptions, Parser};

use super::{Evidence, Installer, PackageDecl, Project, Setting, SettingValue};
use crate::names::normalize;
use crate::source;

/// Import name → distribution (see the file's header).
const IMPORTS: &str = include_str!("../../rules/imports.tsv");
/// The standard library's top-level modules.
const STDLIB: &str = include_str!("../../rules/python-stdlib.txt");
/// `torch.cuda.*` functions that are safe without CUDA.
const CUDA_SAFE: &str = include_str!("../../rules/cuda-safe-calls.txt");

/// One Python file bigger than this is generated code or data, not something a person wrote.
pub const MAX_PYTHON_BYTES: u64 = 1 << 20;
/// How many bytes of Python one project may make mlcompat parse, all files together.
const MAX_CODE_BYTES: u64 = 48 << 20;
/// How many Python files and notebooks one project may make mlcompat parse.
const MAX_CODE_FILES: usize = 5_000;
/// How long one file may take to parse; tree-sitter's error recovery on pathological input is
/// the only slow path, and a file that hits this is left unread with a note.
const MAX_PARSE_TIME: Duration = Duration::from_millis(250);
/// How many facts of one kind one file contributes: the first few lines say enough, and a
/// file with thousands of `.cuda()` calls must not flood the report.
const MAX_PER_KEY_PER_FILE: usize = 3;
/// How many segments a dotted name (`torch.cuda.set_device`) may have before it is not one.
const MAX_DOTTED: usize = 16;
/// How far up the tree an import looks for a `try:` that makes it optional.
const MAX_ANCESTORS: usize = 64;

/// Folders whose code is not the project's own run: vendored copies, tests and documentation.
/// (Virtual environments, `site-packages`, `build` and hidden folders the walk already skips.)
const SKIPPED_CODE_DIRS: [&str; 17] = [
    "vendor",
    "vendored",
    "third_party",
    "third-party",
    "thirdparty",
    "3rdparty",
    "external",
    "externals",
    "extern",
    "site-packages",
    "venv",
    "env",
    "build",
    "tests",
    "test",
    "testing",
    "docs",
];

/// Whether the code at `relative` (`/`-separated, from the project root) is read: not below a
/// vendored, test or documentation folder, and not a test module.
pub fn is_project_code(relative: &str) -> bool {
    let mut parts: Vec<&str> = relative.split('/').collect();
    let Some(name) = parts.pop() else {
        return false;
    };
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let test_module = stem.starts_with("test_") || stem.ends_with("_test") || stem == "conftest";
    !test_module
        && !parts
            .iter()
            .any(|part| SKIPPED_CODE_DIRS.contains(&part.to_ascii_lowercase().as_str()))
}

/// An import statement's module, where it is, and how it was written.
#[derive(Clone, Debug)]
struct Import {
    module: String,
    evidence: Evidence,
    raw: String,
}

/// The state of reading a project's code: the imports seen so far (judged once every manifest
/// is read), the project's own modules, and what was not read.
pub struct CodeScan {
    imports: Vec<Import>,
    /// The project's own top-level modules and packages: every Python file's stem and every
    /// folder above one.
    local: BTreeSet<String>,
    skipped: Vec<String>,
}

/// A source file to read: its path, its name relative to the root, and whether it is a notebook.
pub struct SourceFile {
    pub path: std::path::PathBuf,
    pub relative: String,
    pub notebook: bool,
}

/// What one file yields.
#[derive(Default)]
struct FileResult {
    /// What a notebook's `!pip install` lines declare.
    packages: Vec<PackageDecl>,
    imports: Vec<Import>,
    settings: Vec<Setting>,
    note: Option<String>,
}

/// Below this many files, parsing on one thread costs less than starting others.
const PARALLEL_FROM: usize = 32;
/// At most this many parsing threads.
const MAX_THREADS: usize = 8;

fn new_parser() -> Option<Parser> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()
        .map(|()| parser)
}

impl CodeScan {
    /// `python_files` are every `.py` file the walk found (relative names), which make up the
    /// project's own importable modules.
    pub fn new<'a>(python_files: impl IntoIterator<Item = &'a str>) -> CodeScan {
        let mut local = BTreeSet::new();
        for file in python_files {
            let mut parts: Vec<&str> = file.split('/').collect();
            if let Some(name) = parts.pop() {
                local.insert(name.trim_end_matches(".py").to_string());
            }
            local.extend(parts.iter().map(|p| p.to_string()));
        }
        CodeScan {
            imports: Vec::new(),
            local,
            skipped: Vec::new(),
        }
    }

    /// Reads `files` (in parallel when there are many; results are merged in the given order,
    /// so the report does not depend on scheduling) and adds their settings to the project.
    /// Returns the files that yielded something.
    pub fn read_files(&mut self, files: &[SourceFile], project: &mut Project) -> Vec<String> {
        // The project-wide budgets are decided up front, from the sizes on disk.
        let mut admitted: Vec<(&SourceFile, u64)> = Vec::new();
        let mut bytes = 0u64;
        for file in files {
            if admitted.len() >= MAX_CODE_FILES || bytes >= MAX_CODE_BYTES {
                self.skipped.push(format!(
                    "{}: not read (past the {MAX_CODE_FILES}-file, {} MiB budget for a project's code)",
                    file.relative,
                    MAX_CODE_BYTES >> 20
                ));
                continue;
            }
            let size = std::fs::metadata(&file.path).map_or(0, |m| m.len());
            bytes += size;
            admitted.push((file, size));
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS)
            .min(admitted.len().div_ceil(PARALLEL_FROM))
            .max(1);
        let results: Vec<FileResult> = if threads == 1 {
            let mut parser = new_parser();
            admitted
                .iter()
                .map(|&(file, size)| read_one(parser.as_mut(), file, size))
                .collect()
        } else {
            let next = std::sync::atomic::AtomicUsize::new(0);
            let mut results: Vec<(usize, FileResult)> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut parser = new_parser();
                            let mut done = Vec::new();
                            loop {
                                let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(&(file, size)) = admitted.get(at) else {
                                    return done;
                                };
                                done.push((at, read_one(parser.as_mut(), file, size)));
                            }
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|worker| worker.join().unwrap_or_default())
                    .collect()
            });
            results.sort_by_key(|(at, _)| *at);
            results.into_iter().map(|(_, result)| result).collect()
        };
        let mut yielded = Vec::new();
        for ((file, _), result) in admitted.iter().zip(results) {
            if !result.imports.is_empty()
                || !result.settings.is_empty()
                || !result.packages.is_empty()
            {
                yielded.push(file.relative.clone());
            }
            for package in result.packages {
                project.declare(package, false);
            }
            self.imports.extend(result.imports);
            project.settings.extend(result.settings);
            self.skipped.extend(result.note);
        }
        yielded
    }
    /// Adds the packages the code imports and no manifest declares, once every manifest has
    /// been read; and the notes about code that was not read.
    pub fn finish(mut self, project: &mut Project) {
        const MAX_SKIP_NOTES: usize = 20;
        let skipped = self.skipped.len();
        project
            .notes
            .extend(self.skipped.into_iter().take(MAX_SKIP_NOTES));
        if skipped > MAX_SKIP_NOTES {
            project.notes.push(format!(
                "… and {} more source files not read",
                skipped - MAX_SKIP_NOTES
            ));
        }
        let data = data();
        // Modules the configs name (`_target_`) are dependencies too, after the code's imports.
        let from_configs = std::mem::take(&mut project.config_imports);
        self.imports
            .extend(from_configs.into_iter().map(|(module, evidence)| Import {
                raw: format!("_target_: {module}"),
                module,
                evidence,
            }));
        let mut declared: HashSet<String> = project
            .packages
            .iter()
            .chain(&project.constraints)
            .map(|p| normalize(&p.name))
            .collect();
        for import in self.imports {
            let top = import.module.split('.').next().unwrap_or_default();
            if top.is_empty()
                || data.stdlib.contains(top)
                || self.local.contains(top)
                || top.starts_with('_')
            {
                continue;
            }
            // A config's `_target_` often names the project's own code by a path relative to
            // where it runs (`src.models.gpt.GPTLMHeadModel`), so only a module the import map
            // knows is taken for a dependency; an import in the code is one in any case.
            let from_config = import.raw.starts_with("_target_");
            if from_config && !data.knows(&import.module) {
                continue;
            }
            let (distribution, also) = data.distribution(&import.module);
            if declared.contains(&distribution) || also.iter().any(|a| declared.contains(a)) {
                continue;
            }
            declared.insert(distribution.clone());
            let verb = if import.raw.starts_with("_target_") {
                "names"
            } else {
                "imports"
            };
            project.notes.push(format!(
                "{}: {verb} {}, which no manifest declares; judged as the package {distribution}",
                import.evidence, import.module
            ));
            project.declare(
                PackageDecl {
                    imported: true,
                    ..PackageDecl::any_version(
                        distribution,
                        Installer::Pip,
                        import.raw,
                        import.evidence,
                    )
                },
                false,
            );
        }
    }
}

/// Reads and parses one file of `size` bytes (as the budget saw it). Never fails: what cannot
/// be read is the result's note.
fn read_one(parser: Option<&mut Parser>, file: &SourceFile, size: u64) -> FileResult {
    let relative = file.relative.as_str();
    let cap = if file.notebook {
        source::MAX_FILE_BYTES
    } else {
        MAX_PYTHON_BYTES
    };
    let noted = |note: String| FileResult {
        note: Some(note),
        ..FileResult::default()
    };
    if size > cap {
        return noted(format!(
            "{relative}: not read ({size} bytes, over the {cap}-byte limit for source code)"
        ));
    }
    let text = match source::read_text(&file.path) {
        Ok(text) => text,
        Err(error) => return noted(format!("not read: {error}")),
    };
    let Some(parser) = parser else {
        return FileResult::default();
    };
    let analysed = if file.notebook {
        match notebook_code(&text) {
            Some((code, lines, installs)) => {
                analyse(parser, &code, Some(&lines), relative).map(|mut result| {
                    result.packages = installs
                        .iter()
                        .flat_map(|(magic, line)| pip_installs(magic, relative, *line))
                        .collect();
                    result
                })
            }
            None => Err(format!(
                "{relative}: not read (not a notebook in the nbformat 4 JSON format)"
            )),
        }
    } else {
        analyse(parser, &text, None, relative)
    };
    analysed.unwrap_or_else(noted)
}

/// Parses `code` and returns its facts. `lines` maps each line of `code` (0-based) to the
/// file's own 1-based line, for notebooks; `None` means they are the same.
fn analyse(
    parser: &mut Parser,
    code: &str,
    lines: Option<&[u32]>,
    relative: &str,
) -> Result<FileResult, String> {
    // What can hold a fact decides how much is parsed: nothing when no word a fact needs is in
    // the file, and only as far as its last import when no CUDA word is.
    let code = match needed(code) {
        Needed::Nothing => return Ok(FileResult::default()),
        Needed::ImportsUpTo(end) => &code[..end],
        Needed::All => code,
    };
    let started = Instant::now();
    let mut progress = |_: &tree_sitter::ParseState| {
        if started.elapsed() > MAX_PARSE_TIME {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let bytes = code.as_bytes();
    let tree = parser.parse_with_options(
        &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
        None,
        Some(ParseOptions::new().progress_callback(&mut progress)),
    );
    let Some(tree) = tree else {
        // A cancelled parse resumes on the next call unless the parser is reset.
        parser.reset();
        return Err(format!(
            "{relative}: not read (parsing took over {} ms)",
            MAX_PARSE_TIME.as_millis()
        ));
    };
    let line_of = |node: Node| -> u32 {
        let row = node.start_position().row;
        match lines {
            Some(lines) => lines.get(row).copied().unwrap_or(1),
            None => u32::try_from(row + 1).unwrap_or(u32::MAX),
        }
    };
    let mut found = FileFacts::default();
    let mut cursor = tree.walk();
    'walk: loop {
        visit(cursor.node(), code, &mut found);
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    let mut result = FileResult::default();
    for (module, node, raw) in found.imports {
        result.imports.push(Import {
            module,
            evidence: Evidence {
                file: relative.to_string(),
                line: line_of(node),
            },
            raw,
        });
    }
    let mut per_key: HashMap<&'static str, usize> = HashMap::new();
    for (key, value, node) in found.facts {
        let suppressed = match key {
            CUDA_DEVICE | CUDA_CALL => found.cuda_checked,
            BF16 => found.bf16_checked,
            NCCL => found.gloo_named,
            _ => false,
        };
        let count = per_key.entry(key).or_default();
        if suppressed || *count >= MAX_PER_KEY_PER_FILE {
            continue;
        }
        *count += 1;
        result.settings.push(Setting {
            key: key.to_string(),
            value,
            evidence: Evidence {
                file: relative.to_string(),
                line: line_of(node),
            },
            written: None,
        });
    }
    Ok(result)
}

/// Words without which the visitor finds no CUDA assumption (compared in lower case):
/// `.cuda()`, `"cuda"` and `torch.cuda.*` hold `cuda`; `backend="nccl"` holds `nccl`;
/// `torch.compile` holds `compile`; `torch.bfloat16`, `dtype="bf16"` hold `bf16`/`bfloat16`.
/// A change to [`visit`] that looks for another word must add it here.
const CUDA_WORDS: [&str; 5] = ["cuda", "nccl", "compile", "bf16", "bfloat16"];
/// The word every import statement holds (`import x`, `from x import y`).
const IMPORT_WORD: &str = "import";

/// How much of a file the parser must see.
#[derive(Debug, PartialEq, Eq)]
enum Needed {
    /// No word a fact needs is in it.
    Nothing,
    /// Only imports can be found: the file up to the end of the top-level statement that holds
    /// its last `import` (with the `except ImportError:` that may follow it).
    ImportsUpTo(usize),
    /// All of it.
    All,
}

/// A byte search, not a parse: it only decides what the parser is given. Imports are still
/// found by the parser.
fn needed(code: &str) -> Needed {
    let lower = code.to_ascii_lowercase();
    if CUDA_WORDS.iter().any(|word| lower.contains(word)) {
        return Needed::All;
    }
    let Some(last) = lower.rfind(IMPORT_WORD) else {
        return Needed::Nothing;
    };
    Needed::ImportsUpTo(statement_end(code, last))
}

/// The end of the top-level statement that holds byte `at`: the start of the first later line
/// that begins in column 0 with anything but a clause that continues a statement (`except`,
/// `else`, `elif`, `finally`), a closing bracket or a comment; the end of the file if none.
fn statement_end(code: &str, at: usize) -> usize {
    const CONTINUING: [&str; 4] = ["except", "else", "elif", "finally"];
    let mut offset = code[at..].find('\n').map_or(code.len(), |n| at + n + 1);
    while offset < code.len() {
        let line = &code[offset..];
        let starts_statement = line
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && !matches!(c, ')' | ']' | '}' | '#'))
            && !CONTINUING.iter().any(|word| line.starts_with(word));
        if starts_statement {
            return offset;
        }
        offset = line.find('\n').map_or(code.len(), |n| offset + n + 1);
    }
    code.len()
}

pub const CUDA_DEVICE: &str = "code.cuda_device";
pub const CUDA_CALL: &str = "code.cuda_call";
pub const NCCL: &str = "code.nccl_backend";
pub const TORCH_COMPILE: &str = "code.torch_compile";
pub const BF16: &str = "code.bf16";

/// What one file's syntax tree holds, before the file-wide checks decide what stands.
#[derive(Default)]
struct FileFacts<'tree> {
    imports: Vec<(String, Node<'tree>, String)>,
    facts: Vec<(&'static str, SettingValue, Node<'tree>)>,
    /// The file asks `torch.cuda.is_available()` (or about MPS, or counts CUDA devices): it has
    /// a fallback, so its CUDA lines are taken as guarded.
    cuda_checked: bool,
    /// The file asks `is_bf16_supported()`.
    bf16_checked: bool,
    /// The file names the `gloo` backend somewhere: its NCCL use has an alternative.
    gloo_named: bool,
}

fn visit<'tree>(node: Node<'tree>, code: &str, found: &mut FileFacts<'tree>) {
    match node.kind() {
        "import_statement" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                let name = match child.kind() {
                    "dotted_name" => Some(child),
                    "aliased_import" => child.child_by_field_name("name"),
                    _ => None,
                };
                if let Some(name) = name {
                    record_import(node, name, code, found);
                }
            }
        }
        "import_from_statement" => {
            // `from . import x` and `from .models import y` are the project's own code.
            if let Some(module) = node
                .child_by_field_name("module_name")
                .filter(|m| m.kind() == "dotted_name")
            {
                record_import(node, module, code, found);
            }
        }
        "attribute" => {
            let Some(name) = dotted(node, code) else {
                return;
            };
            if name.ends_with("cuda.is_available")
                || name.ends_with("mps.is_available")
                || name.ends_with("cuda.device_count")
            {
                found.cuda_checked = true;
            } else if name.ends_with("is_bf16_supported") {
                found.bf16_checked = true;
            } else if name == "torch.bfloat16" {
                found
                    .facts
                    .push((BF16, SettingValue::Text(name.clone()), node));
            }
        }
        "string" if string_value(node, code).is_some_and(|s| s == "gloo") => {
            found.gloo_named = true;
        }
        "decorator" => {
            if let Some(expression) = node.named_child(0)
                && dotted(expression, code).is_some_and(|n| n == "torch.compile")
            {
                found
                    .facts
                    .push((TORCH_COMPILE, SettingValue::Bool(true), node));
            }
        }
        "assignment" => {
            let (Some(left), Some(right)) = (
                node.child_by_field_name("left"),
                node.child_by_field_name("right"),
            ) else {
                return;
            };
            let named_device =
                dotted(left, code).is_some_and(|n| n.to_ascii_lowercase().ends_with("device"));
            if named_device && string_value(right, code).is_some_and(|v| is_cuda(&v)) {
                found
                    .facts
                    .push((CUDA_DEVICE, SettingValue::Text(snippet(node, code)), node));
            }
        }
        "call" => visit_call(node, code, found),
        _ => {}
    }
}

fn visit_call<'tree>(node: Node<'tree>, code: &str, found: &mut FileFacts<'tree>) {
    let Some(function) = node.child_by_field_name("function") else {
        return;
    };
    let name = dotted(function, code);
    let method = (function.kind() == "attribute")
        .then(|| function.child_by_field_name("attribute"))
        .flatten()
        .map(|a| text(a, code));
    let mut positional = None;
    let mut keywords: Vec<(&str, Node)> = Vec::new();
    if let Some(arguments) = node.child_by_field_name("arguments") {
        let mut cursor = arguments.walk();
        for argument in arguments.named_children(&mut cursor) {
            match argument.kind() {
                "keyword_argument" => {
                    if let (Some(key), Some(value)) = (
                        argument.child_by_field_name("name"),
                        argument.child_by_field_name("value"),
                    ) {
                        keywords.push((text(key, code), value));
                    }
                }
                "comment" => {}
                _ if positional.is_none() => positional = Some(argument),
                _ => {}
            }
        }
    }
    let first_string = positional.and_then(|p| string_value(p, code));
    let keyword_string = |wanted: &str| {
        keywords
            .iter()
            .find(|(key, _)| *key == wanted)
            .and_then(|(_, value)| string_value(*value, code))
    };
    let mut fact = |key: &'static str, value: SettingValue| found.facts.push((key, value, node));
    let cuda_device = || SettingValue::Text(snippet(node, code));
    match method {
        Some("cuda") => fact(CUDA_DEVICE, cuda_device()),
        Some("to") if first_string.as_deref().is_some_and(is_cuda) => {
            fact(CUDA_DEVICE, cuda_device())
        }
        _ => {}
    }
    if let Some(name) = name.as_deref() {
        if (name == "device" || name.ends_with(".device"))
            && first_string.as_deref().is_some_and(is_cuda)
        {
            fact(CUDA_DEVICE, cuda_device());
        }
        if let Some(rest) = name.strip_prefix("torch.cuda.")
            && !data().cuda_safe(rest)
        {
            fact(CUDA_CALL, SettingValue::Text(name.to_string()));
        }
        if name.ends_with("init_process_group") {
            let backend = keyword_string("backend").or_else(|| first_string.clone());
            if backend.is_some_and(|b| b.eq_ignore_ascii_case("nccl")) {
                fact(NCCL, SettingValue::Text("nccl".to_string()));
            }
        }
        if name == "torch.compile" {
            fact(TORCH_COMPILE, SettingValue::Bool(true));
        }
    }
    if keyword_string("device").is_some_and(|d| is_cuda(&d)) {
        fact(CUDA_DEVICE, cuda_device());
    }
    for key in ["dtype", "torch_dtype"] {
        if keyword_string(key).is_some_and(|d| d == "bfloat16" || d == "bf16") {
            fact(BF16, SettingValue::Text(format!("{key}=\"bfloat16\"")));
        }
    }
}

/// `cuda`, `cuda:0`: a CUDA device name.
fn is_cuda(device: &str) -> bool {
    device == "cuda"
        || device
            .strip_prefix("cuda:")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn record_import<'tree>(
    statement: Node<'tree>,
    name: Node<'tree>,
    code: &str,
    found: &mut FileFacts<'tree>,
) {
    if optional(statement, code) {
        return;
    }
    let module: String = text(name, code)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    found
        .imports
        .push((module, statement, snippet(statement, code)));
}

/// Whether an import is optional: inside a `try:` whose handlers catch `ImportError` (or
/// `ModuleNotFoundError`, `Exception`, or everything), or under `if TYPE_CHECKING:`.
fn optional(statement: Node, code: &str) -> bool {
    let mut node = statement;
    for _ in 0..MAX_ANCESTORS {
        let Some(parent) = node.parent() else {
            return false;
        };
        match parent.kind() {
            "try_statement"
                if parent
                    .child_by_field_name("body")
                    .is_some_and(|body| body.id() == node.id()) =>
            {
                let mut cursor = parent.walk();
                let catches = parent
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() == "except_clause")
                    .any(|clause| {
                        let caught = clause
                            .named_child(0)
                            .filter(|c| c.kind() != "block")
                            .map(|c| text(c, code));
                        caught.is_none_or(|caught| {
                            [
                                "ImportError",
                                "ModuleNotFoundError",
                                "Exception",
                                "BaseException",
                            ]
                            .iter()
                            .any(|name| caught.contains(name))
                        })
                    });
                if catches {
                    return true;
                }
            }
            "if_statement"
                if parent
                    .child_by_field_name("condition")
                    .is_some_and(|c| text(c, code).ends_with("TYPE_CHECKING")) =>
            {
                return true;
            }
            _ => {}
        }
        node = parent;
    }
    false
}

fn text<'a>(node: Node, code: &'a str) -> &'a str {
    code.get(node.byte_range()).unwrap_or_default()
}

/// The node's text on one line, cut short: what the report quotes.
fn snippet(node: Node, code: &str) -> String {
    const MAX: usize = 80;
    let line = text(node, code).lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// `torch.cuda.set_device` for an identifier or a chain of attributes; `None` for anything
/// else (a call, a subscript). Walked down the chain without recursion.
fn dotted(node: Node, code: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = node;
    loop {
        match current.kind() {
            "identifier" => {
                parts.push(text(current, code));
                break;
            }
            "attribute" => {
                parts.push(text(current.child_by_field_name("attribute")?, code));
                current = current.child_by_field_name("object")?;
            }
            _ => return None,
        }
        if parts.len() > MAX_DOTTED {
            return None;
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

/// The value of a plain string literal (`"cuda"`, `'nccl'`); `None` for an f-string with
/// replacement fields, concatenations, or anything that is not a string.
fn string_value(node: Node, code: &str) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let mut value = String::new();
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "string_start" | "string_end" => {}
            "string_content" => value.push_str(text(child, code)),
            _ => return None,
        }
    }
    Some(value)
}

/// The knowledge files, parsed once.
struct Data {
    stdlib: HashSet<String>,
    /// Import (a top-level module or a dotted prefix) → (distribution, other names).
    imports: HashMap<String, (String, Vec<String>)>,
    cuda_safe: Vec<String>,
}

impl Data {
    /// The distribution an import needs: the longest listed prefix of its dotted name, else
    /// its top-level module's own name.
    fn distribution(&self, module: &str) -> (String, Vec<String>) {
        let mut prefix = module;
        loop {
            if let Some((distribution, also)) = self.imports.get(prefix) {
                return (distribution.clone(), also.clone());
            }
            match prefix.rsplit_once('.') {
                Some((shorter, _)) => prefix = shorter,
                None => return (normalize(prefix), Vec::new()),
            }
        }
    }

    /// Whether the import map lists the module or a dotted prefix of it.
    fn knows(&self, module: &str) -> bool {
        let mut prefix = module;
        loop {
            if self.imports.contains_key(prefix) {
                return true;
            }
            match prefix.rsplit_once('.') {
                Some((shorter, _)) => prefix = shorter,
                None => return false,
            }
        }
    }

    fn cuda_safe(&self, function: &str) -> bool {
        self.cuda_safe
            .iter()
            .any(|safe| match safe.strip_suffix('.') {
                Some(module) => function
                    .strip_prefix(module)
                    .is_some_and(|rest| rest.starts_with('.')),
                None => function == safe,
            })
    }
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let lines = |text: &'static str| {
            text.lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        };
        let imports = lines(IMPORTS)
            .filter_map(|line| {
                let mut columns = line.split('\t');
                let import = columns.next()?.trim();
                let distribution = normalize(columns.next()?.trim());
                let also = columns
                    .next()
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(normalize)
                    .collect();
                Some((import.to_string(), (distribution, also)))
            })
            .collect();
        Data {
            stdlib: lines(STDLIB).map(|l| l.trim().to_string()).collect(),
            imports,
            cuda_safe: lines(CUDA_SAFE).map(|l| l.trim().to_string()).collect(),
        }
    })
}

/// A notebook's `!pip install …` line (without the `!`) and its line in the file.
type PipLine = (String, u32);

/// A notebook's code cells as one Python text, and for each of its lines the notebook file's
/// line; and its `!pip install` / `%pip install` lines with theirs (a notebook's manifest).
/// `None` when the file is not an nbformat 4 notebook.
fn notebook_code(text: &str) -> Option<(String, Vec<u32>, Vec<PipLine>)> {
    #[derive(Deserialize)]
    struct Notebook<'a> {
        #[serde(borrow)]
        cells: Vec<Cell<'a>>,
    }
    #[derive(Deserialize)]
    struct Cell<'a> {
        #[serde(default)]
        cell_type: String,
        #[serde(borrow, default)]
        source: Option<&'a RawValue>,
    }
    let notebook: Notebook = serde_json::from_str(text).ok()?;
    let mut code = String::new();
    let mut lines = Vec::new();
    let mut installs = Vec::new();
    // Lines are counted forward from the last place looked at: cells come in file order.
    let mut counted = (0usize, 1u32);
    let mut line_at = |raw: &RawValue| -> u32 {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let (from, line) = counted;
        let offset = offset.clamp(from, text.len());
        let line = line + text[from..offset].matches('\n').count() as u32;
        counted = (offset, line);
        line
    };
    for cell in notebook.cells {
        let Some(source) = cell.source.filter(|_| cell.cell_type == "code") else {
            continue;
        };
        let pieces: Vec<(String, u32)> = match serde_json::from_str::<Vec<&RawValue>>(source.get())
        {
            Ok(items) => items
                .into_iter()
                .filter_map(|item| {
                    let line = line_at(item);
                    serde_json::from_str::<String>(item.get())
                        .ok()
                        .map(|s| (s, line))
                })
                .collect(),
            Err(_) => {
                let line = line_at(source);
                let whole: String = serde_json::from_str(source.get()).ok()?;
                whole
                    .split_inclusive('\n')
                    .map(|s| (s.to_string(), line))
                    .collect()
            }
        };
        for (piece, line) in pieces {
            for physical in piece.split_inclusive('\n') {
                let body = physical.trim_start();
                if let Some(magic) = body.strip_prefix(['%', '!']) {
                    if magic.contains("pip") {
                        installs.push((magic.trim_end().to_string(), line));
                    }
                    code.push('\n');
                } else {
                    code.push_str(physical.trim_end_matches(['\n', '\r']));
                    code.push('\n');
                }
                lines.push(line);
            }
        }
        // Cells are separate statements.
        code.push('\n');
        lines.push(lines.last().copied().unwrap_or(1));
    }
    Some((code, lines, installs))
}

/// The requirements a notebook's `!pip install …` line installs (`pip`, `pip3`, `python -m
/// pip`, `uv pip`), each with the line; options and what they take (`-r file`, `-i URL`) are
/// left aside, and so are words with `$`/`{` (shell and IPython variables).
fn pip_installs(magic: &str, relative: &str, line: u32) -> Vec<PackageDecl> {
    const TAKES_VALUE: [&str; 12] = [
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-e",
        "--editable",
        "--target",
    ];
    let Some(words) = shlex::split(magic) else {
        return Vec::new();
    };
    let Some(at) = words
        .windows(2)
        .position(|pair| pair[0].starts_with("pip") && pair[1] == "install")
    else {
        return Vec::new();
    };
    let mut packages = Vec::new();
    let mut skip_next = false;
    for word in &words[at + 2..] {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if word.starts_with('-') {
            skip_next = TAKES_VALUE.contains(&word.as_str());
            continue;
        }
        if matches!(word.as_str(), "&&" | ";" | "|" | ">" | "2>&1") {
            break;
        }
        if word.contains(['$', '{', '/']) || word == "." {
            continue;
        }
        let evidence = Evidence {
            file: relative.to_string(),
            line,
        };
        if let Some(package) = super::requirements::parse_requirement(word, evidence) {
            packages.push(package);
        }
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses texts as the files they are named after, as a scan of them would.
    fn analyse_into(scan: &mut CodeScan, name: &str, text: &str, project: &mut Project) {
        let mut parser = new_parser().expect("the Python grammar loads");
        let result = if name.ends_with(".ipynb") {
            let (code, lines, installs) = notebook_code(text).expect("a notebook");
            for (magic, line) in installs {
                project.packages.extend(pip_installs(&magic, name, line));
            }
            analyse(&mut parser, &code, Some(&lines), name)
        } else {
            analyse(&mut parser, text, None, name)
        };
        match result {
            Ok(result) => {
                scan.imports.extend(result.imports);
                project.settings.extend(result.settings);
            }
            Err(note) => scan.skipped.push(note),
        }
    }

    fn scan_code(files: &[(&str, &str)]) -> Project {
        let mut project = Project::default();
        let mut scan = CodeScan::new(files.iter().map(|(name, _)| *name));
        for (name, text) in files {
            analyse_into(&mut scan, name, text, &mut project);
        }
        scan.finish(&mut project);
        project
    }

    fn settings(project: &Project) -> Vec<String> {
        project
            .settings
            .iter()
            .map(|s| format!("{} {} {}", s.evidence, s.key, s.value))
            .collect()
    }

    #[test]
    fn undeclared_imports_become_packages_through_the_data_map() {
        let project = scan_code(&[
            (
                "train.py",
                "import os, sys\nimport numpy as np\nfrom PIL import Image\nimport cv2\nimport flash_attn.flash_attn_interface as fa\nfrom google.protobuf import message\nfrom . import local\nfrom models.net import Net\nimport yaml\n",
            ),
            ("models/net.py", "import torch.nn as nn\n"),
        ]);
        let names: Vec<(&str, String, bool)> = project
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.evidence.to_string(), p.imported))
            .collect();
        assert_eq!(
            names,
            [
                ("numpy", "train.py:2".to_string(), true),
                ("pillow", "train.py:3".to_string(), true),
                ("opencv-python", "train.py:4".to_string(), true),
                ("flash-attn", "train.py:5".to_string(), true),
                ("protobuf", "train.py:6".to_string(), true),
                ("pyyaml", "train.py:9".to_string(), true),
                ("torch", "models/net.py:1".to_string(), true),
            ]
        );
        assert!(
            project
                .notes
                .iter()
                .any(|n| n == "train.py:5: imports flash_attn.flash_attn_interface, which no manifest declares; judged as the package flash-attn")
        );
    }

    #[test]
    fn declared_packages_under_any_name_are_not_added_again() {
        let mut project = Project::default();
        for line in ["opencv-python-headless", "pytorch"] {
            project.packages.push(
                super::super::requirements::parse_requirement(
                    line,
                    Evidence {
                        file: "requirements.txt".into(),
                        line: 1,
                    },
                )
                .unwrap(),
            );
        }
        let mut scan = CodeScan::new(["train.py"]);
        analyse_into(
            &mut scan,
            "train.py",
            "import cv2\nimport torch\n",
            &mut project,
        );
        scan.finish(&mut project);
        assert_eq!(project.packages.len(), 2, "{:?}", project.notes);
    }

    #[test]
    fn optional_imports_are_not_dependencies() {
        let project = scan_code(&[(
            "model.py",
            "try:\n    import flash_attn\nexcept ImportError:\n    flash_attn = None\ntry:\n    import xformers\nexcept:\n    pass\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\ntry:\n    import apex\nexcept KeyError:\n    pass\n",
        )]);
        let names: Vec<&str> = project.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["apex"]);
    }

    #[test]
    fn cuda_assumptions_are_settings_with_their_lines() {
        let project = scan_code(&[(
            "train.py",
            "import torch\nimport torch.distributed as dist\ndevice = 'cuda'\nmodel = Net().cuda()\nx = torch.zeros(3, device=\"cuda:0\")\ny = x.to('cuda')\ntorch.cuda.set_device(0)\ntorch.cuda.manual_seed(1)\ndist.init_process_group(backend='nccl')\nmodel = torch.compile(model)\nwith torch.autocast('cuda', dtype=torch.bfloat16):\n    pass\nz = torch.device('cuda')\n",
        )]);
        assert_eq!(
            settings(&project),
            [
                "train.py:3 code.cuda_device device = 'cuda'",
                "train.py:4 code.cuda_device Net().cuda()",
                "train.py:5 code.cuda_device torch.zeros(3, device=\"cuda:0\")",
                "train.py:7 code.cuda_call torch.cuda.set_device",
                "train.py:9 code.nccl_backend nccl",
                "train.py:10 code.torch_compile true",
                "train.py:11 code.bf16 torch.bfloat16",
            ]
        );
    }

    #[test]
    fn a_file_with_a_fallback_has_no_cuda_assumption() {
        let project = scan_code(&[(
            "train.py",
            "import torch\ndevice = 'cuda' if torch.cuda.is_available() else 'cpu'\nmodel.cuda()\nbackend = 'nccl' if torch.cuda.is_available() else 'gloo'\ndist.init_process_group(backend='nccl')\ndtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16\n",
        )]);
        assert_eq!(settings(&project), Vec::<String>::new());
    }

    #[test]
    fn notebook_cells_keep_the_notebooks_lines() {
        let notebook = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "source": ["import not_code\n"]
  },
  {
   "cell_type": "code",
   "source": [
    "%pip install flash-attn\n",
    "import flash_attn\n",
    "model.cuda()"
   ]
  },
  {
   "cell_type": "code",
   "source": "import sklearn\n"
  }
 ],
 "nbformat": 4
}"##;
        let project = scan_code(&[("nb.ipynb", notebook)]);
        let names: Vec<String> = project
            .packages
            .iter()
            .map(|p| format!("{} {} {}", p.name, p.evidence, p.imported))
            .collect();
        // `%pip install flash-attn` declares it (line 10); `import sklearn` does not.
        assert_eq!(
            names,
            [
                "flash-attn nb.ipynb:10 false",
                "scikit-learn nb.ipynb:17 true"
            ]
        );
        assert_eq!(
            settings(&project),
            ["nb.ipynb:12 code.cuda_device model.cuda()"]
        );
    }

    #[test]
    fn pip_install_lines_in_notebooks_declare_packages() {
        let names = |magic: &str| -> Vec<String> {
            pip_installs(magic, "nb.ipynb", 3)
                .iter()
                .map(|p| format!("{}{}", p.name, p.specifier))
                .collect()
        };
        assert_eq!(
            names(
                "pip install -q -U \"transformers>=4.40\" bitsandbytes==0.43.1 -r req.txt --index-url https://x peft"
            ),
            ["transformers>=4.40", "bitsandbytes==0.43.1", "peft"]
        );
        assert_eq!(
            names("python -m pip install accelerate && echo ok"),
            ["accelerate"]
        );
        assert_eq!(
            names("uv pip install {pkg} $PKG git+https://github.com/a/b ."),
            Vec::<String>::new()
        );
        assert!(names("nvidia-smi").is_empty());
    }

    #[test]
    fn hostile_code_parses_in_bounded_time_without_panics() {
        let deep = format!("x = {}1{}\n", "(".repeat(200_000), ")".repeat(200_000));
        let chain = format!("{}.cuda()\n", vec!["a"; 100_000].join("."));
        let garbage = "def (:\n\t\t  import\x01 ((( 'unterminated\n".repeat(20_000);
        let started = Instant::now();
        let project = scan_code(&[
            ("deep.py", &deep),
            ("chain.py", &chain),
            ("bad.py", &garbage),
        ]);
        // Each file either parses or is left with a note once its time is up.
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(project.settings.len() <= MAX_PER_KEY_PER_FILE);
    }

    #[test]
    fn broken_code_still_yields_the_imports_around_the_error() {
        let project = scan_code(&[(
            "old.py",
            "import numpy\nprint \"python 2\"\ndef broken(:\n    pass\nimport einops\n",
        )]);
        let names: Vec<&str> = project.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["numpy", "einops"]);
    }

    #[test]
    fn tests_docs_and_vendored_code_are_not_the_projects_run() {
        assert!(is_project_code("train.py"));
        assert!(is_project_code("src/pkg/model.py"));
        assert!(!is_project_code("tests/test_model.py"));
        assert!(!is_project_code("pkg/test_model.py"));
        assert!(!is_project_code("third_party/lib/x.py"));
        assert!(!is_project_code("docs/conf.py"));
        assert!(!is_project_code("conftest.py"));
    }

    #[test]
    fn only_what_can_hold_a_fact_is_parsed() {
        use super::{Needed, needed};
        assert_eq!(needed("x = 1\nprint(x)\n"), Needed::Nothing);
        let text = "import os\ntry:\n    import flash_attn\nexcept ImportError:\n    flash_attn = None\n\ndef f():\n    return 1\n";
        let Needed::ImportsUpTo(end) = needed(text) else {
            panic!("imports only");
        };
        assert_eq!(&text[end..], "def f():\n    return 1\n");
        // The import after the cut is still inside: the last one decides where it is.
        let late = "import os\n\ndef f():\n    import einops\n    return einops\n\nX = 1\n";
        let Needed::ImportsUpTo(end) = needed(late) else {
            panic!("imports only");
        };
        assert_eq!(&late[end..], "X = 1\n");
        assert_eq!(needed("import torch\nx.to('CUDA')\n"), Needed::All);
        assert_eq!(needed("dtype = torch.bfloat16\n"), Needed::All);
        // What the cut file yields is what the whole file yields: the optional import stays
        // optional, the late one is found.
        let project = scan_code(&[("a.py", text), ("b.py", late)]);
        let names: Vec<&str> = project.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["einops"]);
    }
}
