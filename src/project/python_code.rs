//! The project's Python code: `.py` files and the code cells of `.ipynb` notebooks, parsed with
//! ruff's parser (never matched with regular expressions), for two kinds of fact:
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
//! Nothing is executed or imported. Files are read through the capped reader, a file whose
//! brackets, f-strings or prefix operators nest deeper than [`MAX_NESTING`] is not parsed (the
//! parser's only slow paths), parsing runs on threads with a stack deep enough for any syntax
//! tree a file under the size cap can make, and the tree is walked to a bounded depth, so hostile
//! input (huge, deeply nested or binary files) costs bounded time and never panics.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{ExceptHandler, Expr, ExprCall, Stmt};
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::{Ranged, TextRange};
use serde::Deserialize;
use serde_json::value::RawValue;

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
/// How deep brackets, f-strings and runs of prefix operators (`- - x`, `not not x`) may nest in
/// one file. Real code stays far below; past it the parser's recursion (and, for unterminated
/// nested f-strings, its time) grows without use, so such a file is left unread with a note.
pub const MAX_NESTING: u32 = 200;
/// Stack bytes a parsing thread gets per byte of the largest file it may read. A file that
/// passes the nesting check can still make a syntax tree one level deep per two bytes
/// (`a+a+a…`, `a.b.b…`), which dropping the tree walks recursively at well under 64 bytes a
/// level; only the pages used are ever committed.
const STACK_PER_BYTE: usize = 128;
/// The least stack a parsing thread gets (a 64 KiB module needs far less).
const MIN_PARSE_STACK: usize = 8 << 20;
/// How deep the walk looks into the syntax tree: facts sit near statements, not hundreds of
/// levels into an expression.
const MAX_WALK_DEPTH: usize = 256;
/// How many facts of one kind one file contributes: the first few lines say enough, and a
/// file with thousands of `.cuda()` calls must not flood the report.
const MAX_PER_KEY_PER_FILE: usize = 3;
/// How many segments a dotted name (`torch.cuda.set_device`) may have before it is not one.
const MAX_DOTTED: usize = 16;

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
        let results = read_in_parallel(&admitted, threads);
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
        // Modules the configs name (`_target_`) are dependencies too, after the code's imports.
        let from_configs = std::mem::take(&mut project.config_imports);
        self.imports
            .extend(from_configs.into_iter().map(|(module, evidence)| Import {
                raw: format!("_target_: {module}"),
                module,
                evidence,
            }));
        if self.imports.is_empty() {
            // Most projects `check` sees have no code: the import map is not even read.
            return;
        }
        let data = data();
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
            let verb = if from_config { "names" } else { "imports" };
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

/// Reads the `admitted` files (each with its size) on up to `threads` parsing threads, each with
/// a stack deep enough for the largest file's tree (even for one file: the caller's stack may be
/// too shallow for a deep tree). Results come back in the given order, so the report does not
/// depend on scheduling; a file no thread read gets a note.
fn read_in_parallel(admitted: &[(&SourceFile, u64)], threads: usize) -> Vec<FileResult> {
    if admitted.is_empty() {
        return Vec::new();
    }
    // No file over MAX_PYTHON_BYTES is parsed (a notebook's code included).
    let largest = admitted.iter().map(|&(_, size)| size).max().unwrap_or(0);
    let largest = usize::try_from(largest.min(MAX_PYTHON_BYTES)).unwrap_or(usize::MAX);
    let stack = largest.saturating_mul(STACK_PER_BYTE).max(MIN_PARSE_STACK);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Option<FileResult>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("mlcompat-parse".into())
                    .stack_size(stack)
                    .spawn_scoped(scope, || {
                        let mut done = Vec::new();
                        loop {
                            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&(file, size)) = admitted.get(at) else {
                                return done;
                            };
                            done.push((at, read_one(file, size)));
                        }
                    })
                    .ok()
            })
            .collect();
        let mut results: Vec<Option<FileResult>> = admitted.iter().map(|_| None).collect();
        for (at, result) in workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_default())
        {
            results[at] = Some(result);
        }
        results
    });
    results
        .into_iter()
        .zip(admitted)
        .map(|(result, (file, _))| {
            result.unwrap_or_else(|| FileResult {
                note: Some(format!(
                    "{}: not read (its parsing thread could not start or failed)",
                    file.relative
                )),
                ..FileResult::default()
            })
        })
        .collect()
}

/// Reads and parses one file of `size` bytes (as the budget saw it). Never fails: what cannot
/// be read is the result's note. Runs on a parsing thread (see [`STACK_PER_BYTE`]).
fn read_one(file: &SourceFile, size: u64) -> FileResult {
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
    let analysed = if file.notebook {
        match notebook_code(&text) {
            Some((code, lines, installs)) => {
                analyse(&code, Some(&lines), relative).map(|mut result| {
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
        analyse(&text, None, relative)
    };
    analysed.unwrap_or_else(noted)
}

/// Parses `code` and returns its facts. `lines` maps each line of `code` (0-based) to the
/// file's own 1-based line, for notebooks; `None` means they are the same. Needs a deep stack
/// for the tree a large file can make: call it on a parsing thread.
fn analyse(code: &str, lines: Option<&[u32]>, relative: &str) -> Result<FileResult, String> {
    // What can hold a fact decides how much is parsed: nothing when no word a fact needs is in
    // the file, and only as far as its last import when no CUDA word is.
    let code = match needed(code) {
        Needed::Nothing => return Ok(FileResult::default()),
        Needed::ImportsUpTo(end) => &code[..end],
        Needed::All => code,
    };
    if code.len() as u64 > MAX_PYTHON_BYTES {
        return Err(format!(
            "{relative}: not read (over {MAX_PYTHON_BYTES} bytes of code)"
        ));
    }
    if too_deep(code) {
        return Err(format!(
            "{relative}: not read (brackets, f-strings or operators nested over {MAX_NESTING} deep)"
        ));
    }
    let parsed = ruff_python_parser::parse_unchecked(code, ParseOptions::from(Mode::Module));
    let mut walk = Walk {
        code,
        found: FileFacts::default(),
        depth: 0,
        optional: false,
    };
    if let Some(module) = parsed.syntax().as_module() {
        walk.visit_body(&module.body);
    }
    let found = walk.found;
    if found.imports.is_empty() && found.facts.is_empty() {
        return Ok(FileResult::default());
    }
    let line_of = LineIndex::new(code, lines);
    let mut result = FileResult::default();
    for (module, range, raw) in found.imports {
        result.imports.push(Import {
            module,
            evidence: Evidence {
                file: relative.to_string(),
                line: line_of.line(range),
            },
            raw,
        });
    }
    let mut per_key: HashMap<&'static str, usize> = HashMap::new();
    for (key, value, range) in found.facts {
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
                line: line_of.line(range),
            },
            written: None,
        });
    }
    Ok(result)
}

/// Whether `code` nests deeper than [`MAX_NESTING`]. A byte count (brackets, runs of operator
/// characters, the words `not` and `await`) clears almost every file at once; the few it cannot
/// clear are counted exactly with the parser's own lexer, which takes linear time where parsing
/// such a file would not.
fn too_deep(code: &str) -> bool {
    maybe_deep(code) && lexed_too_deep(code)
}

/// An over-estimate of [`too_deep`]: brackets in strings and comments count too.
fn maybe_deep(code: &str) -> bool {
    let (mut depth, mut run) = (0u32, 0u32);
    for &byte in code.as_bytes() {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' | b'+' | b'~' | b'*' => run += 1,
            b' ' | b'\t' | b'\\' | b'\r' | b'\n' => {}
            _ => run = 0,
        }
        if depth > MAX_NESTING || run > MAX_NESTING {
            return true;
        }
    }
    code.matches("not").count() + code.matches("await").count() > MAX_NESTING as usize
}

/// [`too_deep`] counted on tokens: open brackets and f-/t-strings, and runs of prefix operators.
fn lexed_too_deep(code: &str) -> bool {
    let mut lexer = ruff_python_parser::lexer::lex(code, Mode::Module);
    let (mut depth, mut run) = (0u32, 0u32);
    loop {
        match lexer.next_token() {
            TokenKind::EndOfFile => return false,
            TokenKind::Lpar
            | TokenKind::Lsqb
            | TokenKind::Lbrace
            | TokenKind::FStringStart
            | TokenKind::TStringStart => {
                depth += 1;
                run = 0;
            }
            TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace
            | TokenKind::FStringEnd
            | TokenKind::TStringEnd => {
                depth = depth.saturating_sub(1);
                run = 0;
            }
            TokenKind::Minus
            | TokenKind::Plus
            | TokenKind::Tilde
            | TokenKind::Star
            | TokenKind::DoubleStar
            | TokenKind::Not
            | TokenKind::Await => run += 1,
            _ => run = 0,
        }
        if depth > MAX_NESTING || run > MAX_NESTING {
            return true;
        }
    }
}

/// Byte offsets to the lines evidence names: the file's own, or a notebook's through `lines`.
struct LineIndex<'a> {
    starts: Vec<usize>,
    lines: Option<&'a [u32]>,
}

impl<'a> LineIndex<'a> {
    fn new(code: &str, lines: Option<&'a [u32]>) -> LineIndex<'a> {
        let starts = std::iter::once(0)
            .chain(code.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        LineIndex { starts, lines }
    }

    /// The line where `range` starts.
    fn line(&self, range: TextRange) -> u32 {
        let offset = usize::from(range.start());
        let row = self.starts.partition_point(|&start| start <= offset).max(1) - 1;
        match self.lines {
            Some(lines) => lines.get(row).copied().unwrap_or(1),
            None => u32::try_from(row + 1).unwrap_or(u32::MAX),
        }
    }
}

/// Words without which the walk finds no CUDA assumption (compared in lower case):
/// `.cuda()`, `"cuda"` and `torch.cuda.*` hold `cuda`; `backend="nccl"` holds `nccl`;
/// `torch.compile` (a call or a decorator, matched as that dotted name) holds `torch.compile`,
/// so the many modules that call `re.compile` are not parsed whole for it; `torch.bfloat16`,
/// `dtype="bf16"` hold `bf16`/`bfloat16`. A change to [`Walk`] that looks for another word must
/// add it here.
const CUDA_WORDS: [&str; 5] = ["cuda", "nccl", "torch.compile", "bf16", "bfloat16"];
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
struct FileFacts {
    /// Module, the import statement's range, and the statement as written.
    imports: Vec<(String, TextRange, String)>,
    facts: Vec<(&'static str, SettingValue, TextRange)>,
    /// The file asks `torch.cuda.is_available()` (or about MPS, or counts CUDA devices): it has
    /// a fallback, so its CUDA lines are taken as guarded.
    cuda_checked: bool,
    /// The file asks `is_bf16_supported()`.
    bf16_checked: bool,
    /// The file names the `gloo` backend somewhere: its NCCL use has an alternative.
    gloo_named: bool,
}

/// The walk over one file's syntax tree, to [`MAX_WALK_DEPTH`].
struct Walk<'a> {
    code: &'a str,
    found: FileFacts,
    depth: usize,
    /// Inside the body of a `try:` that catches `ImportError` (or anything broader), or of
    /// `if TYPE_CHECKING:`: imports here are optional.
    optional: bool,
}

impl<'a> Visitor<'a> for Walk<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.depth >= MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        self.statement(stmt);
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.depth >= MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        match expr {
            Expr::Attribute(_) => self.attribute(expr),
            Expr::StringLiteral(_) if string_value(expr) == Some("gloo") => {
                self.found.gloo_named = true;
            }
            Expr::Call(call) => self.call(call),
            _ => {}
        }
        visitor::walk_expr(self, expr);
        self.depth -= 1;
    }
}

impl<'a> Walk<'a> {
    fn statement(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    self.import(alias.name.as_str(), stmt);
                }
            }
            // `from . import x` and `from .models import y` are the project's own code.
            Stmt::ImportFrom(from) if from.level == 0 => {
                if let Some(module) = &from.module {
                    self.import(module.as_str(), stmt);
                }
            }
            Stmt::Try(block) => {
                let optional = block.handlers.iter().any(catches_import_error);
                self.optionally(optional, |walk| walk.visit_body(&block.body));
                for handler in &block.handlers {
                    self.visit_except_handler(handler);
                }
                self.visit_body(&block.orelse);
                self.visit_body(&block.finalbody);
                return;
            }
            Stmt::If(block) if text(block.test.range(), self.code).ends_with("TYPE_CHECKING") => {
                self.optionally(true, |walk| walk.visit_body(&block.body));
                for clause in &block.elif_else_clauses {
                    self.visit_elif_else_clause(clause);
                }
                return;
            }
            Stmt::FunctionDef(function) => self.decorators(&function.decorator_list),
            Stmt::ClassDef(class) => self.decorators(&class.decorator_list),
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    self.device_assignment(stmt, target, &assign.value);
                }
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    self.device_assignment(stmt, &assign.target, value);
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    /// Walks what `walk` walks with imports optional when `optional` (or already so).
    fn optionally(&mut self, optional: bool, walk: impl FnOnce(&mut Self)) {
        let outer = self.optional;
        self.optional |= optional;
        walk(self);
        self.optional = outer;
    }

    fn import(&mut self, module: &str, statement: &Stmt) {
        if self.optional {
            return;
        }
        // The parser writes a dotted name without the spaces `import a . b` may have.
        let raw = snippet(statement.range(), self.code);
        self.found
            .imports
            .push((module.to_string(), statement.range(), raw));
    }

    fn fact(&mut self, key: &'static str, value: SettingValue, range: TextRange) {
        self.found.facts.push((key, value, range));
    }

    fn decorators(&mut self, decorators: &[ruff_python_ast::Decorator]) {
        for decorator in decorators {
            if dotted(&decorator.expression).is_some_and(|n| n == "torch.compile") {
                self.fact(TORCH_COMPILE, SettingValue::Bool(true), decorator.range());
            }
        }
    }

    /// `device = "cuda"` (or `self.device`, `DEVICE`, …).
    fn device_assignment(&mut self, stmt: &Stmt, target: &Expr, value: &Expr) {
        let named_device =
            dotted(target).is_some_and(|n| n.to_ascii_lowercase().ends_with("device"));
        if named_device && string_value(value).is_some_and(is_cuda) {
            let snippet = snippet(stmt.range(), self.code);
            self.fact(CUDA_DEVICE, SettingValue::Text(snippet), stmt.range());
        }
    }

    fn attribute(&mut self, expr: &Expr) {
        let Some(name) = dotted(expr) else {
            return;
        };
        if name.ends_with("cuda.is_available")
            || name.ends_with("mps.is_available")
            || name.ends_with("cuda.device_count")
        {
            self.found.cuda_checked = true;
        } else if name.ends_with("is_bf16_supported") {
            self.found.bf16_checked = true;
        } else if name == "torch.bfloat16" {
            self.fact(BF16, SettingValue::Text(name), expr.range());
        }
    }

    fn call(&mut self, call: &ExprCall) {
        let range = call.range();
        let name = dotted(&call.func);
        let method = match &*call.func {
            Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
            _ => None,
        };
        let first_string = call.arguments.args.first().and_then(string_value);
        let keyword_string = |wanted: &str| {
            call.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|arg| arg.as_str() == wanted))
                .and_then(|k| string_value(&k.value))
        };
        let cuda_device = || SettingValue::Text(snippet(range, self.code));
        match method {
            Some("cuda") => self.fact(CUDA_DEVICE, cuda_device(), range),
            Some("to") if first_string.is_some_and(is_cuda) => {
                self.fact(CUDA_DEVICE, cuda_device(), range)
            }
            _ => {}
        }
        if let Some(name) = name.as_deref() {
            if (name == "device" || name.ends_with(".device")) && first_string.is_some_and(is_cuda)
            {
                self.fact(CUDA_DEVICE, cuda_device(), range);
            }
            if let Some(rest) = name.strip_prefix("torch.cuda.")
                && !data().cuda_safe(rest)
            {
                self.fact(CUDA_CALL, SettingValue::Text(name.to_string()), range);
            }
            if name.ends_with("init_process_group") {
                let backend = keyword_string("backend").or(first_string);
                if backend.is_some_and(|b| b.eq_ignore_ascii_case("nccl")) {
                    self.fact(NCCL, SettingValue::Text("nccl".to_string()), range);
                }
            }
            if name == "torch.compile" {
                self.fact(TORCH_COMPILE, SettingValue::Bool(true), range);
            }
        }
        if keyword_string("device").is_some_and(is_cuda) {
            self.fact(CUDA_DEVICE, cuda_device(), range);
        }
        for key in ["dtype", "torch_dtype"] {
            if keyword_string(key).is_some_and(|d| d == "bfloat16" || d == "bf16") {
                let value = SettingValue::Text(format!("{key}=\"bfloat16\""));
                self.fact(BF16, value, range);
            }
        }
    }
}

/// Whether an `except` clause catches a failed import: `ImportError`, `ModuleNotFoundError`,
/// `Exception`, `BaseException` (alone or in a tuple), or everything (a bare `except:`).
fn catches_import_error(handler: &ExceptHandler) -> bool {
    let ExceptHandler::ExceptHandler(handler) = handler;
    let Some(caught) = handler.type_.as_deref() else {
        return true;
    };
    let names = |expr: &Expr| {
        dotted(expr).is_some_and(|name| {
            let last = name.rsplit('.').next().unwrap_or_default();
            [
                "ImportError",
                "ModuleNotFoundError",
                "Exception",
                "BaseException",
            ]
            .contains(&last)
        })
    };
    match caught {
        Expr::Tuple(tuple) => tuple.elts.iter().any(names),
        other => names(other),
    }
}

/// `cuda`, `cuda:0`: a CUDA device name.
fn is_cuda(device: &str) -> bool {
    device == "cuda"
        || device
            .strip_prefix("cuda:")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn text(range: TextRange, code: &str) -> &str {
    code.get(std::ops::Range::<usize>::from(range))
        .unwrap_or_default()
}

/// The node's text on one line, cut short: what the report quotes.
fn snippet(range: TextRange, code: &str) -> String {
    const MAX: usize = 80;
    let line = text(range, code).lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// `torch.cuda.set_device` for a name or a chain of attributes; `None` for anything else (a
/// call, a subscript). Walked down the chain without recursion.
fn dotted(expr: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = expr;
    loop {
        match current {
            Expr::Name(name) => {
                parts.push(name.id.as_str());
                break;
            }
            Expr::Attribute(attribute) => {
                parts.push(attribute.attr.as_str());
                current = &attribute.value;
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

/// The value of a plain string literal (`"cuda"`, `'nccl'`); `None` for f-strings, implicit
/// concatenations, or anything that is not a string.
fn string_value(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::StringLiteral(literal) if !literal.value.is_implicit_concatenated() => {
            Some(literal.value.to_str())
        }
        _ => None,
    }
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
        match self.listed(module) {
            Some((distribution, also)) => (distribution.clone(), also.clone()),
            None => (
                normalize(module.split('.').next().unwrap_or(module)),
                Vec::new(),
            ),
        }
    }

    /// Whether the import map lists the module or a dotted prefix of it.
    fn knows(&self, module: &str) -> bool {
        self.listed(module).is_some()
    }

    /// The import map's entry for the longest listed dotted prefix of `module`.
    fn listed(&self, module: &str) -> Option<&(String, Vec<String>)> {
        let mut prefix = module;
        loop {
            if let Some(entry) = self.imports.get(prefix) {
                return Some(entry);
            }
            prefix = prefix.rsplit_once('.')?.0;
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
        let result = if name.ends_with(".ipynb") {
            let (code, lines, installs) = notebook_code(text).expect("a notebook");
            for (magic, line) in installs {
                project.packages.extend(pip_installs(&magic, name, line));
            }
            analyse(&code, Some(&lines), name)
        } else {
            analyse(text, None, name)
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

    /// Hostile files go through the real reader (files on disk, parsing threads): what nests
    /// past the limit is left with a note instead of taking the parser's slow paths, and deep
    /// trees under it (half a million levels) are parsed, walked and dropped without
    /// overflowing a stack.
    #[test]
    fn hostile_code_is_left_with_a_note_or_parsed_without_panics() {
        let cap = MAX_PYTHON_BYTES as usize;
        // Each holds a CUDA word, so each is parsed whole (were it not for its nesting).
        let nested = [
            (
                "parens.py",
                format!(
                    "model.cuda()\nx = {}1{}\n",
                    "(".repeat(200_000),
                    ")".repeat(200_000)
                ),
            ),
            (
                "fstrings.py",
                format!(
                    "model.cuda()\n{}",
                    format!("x = {}\n", "f'{".repeat(300)).repeat(100)
                ),
            ),
            (
                "minus.py",
                format!("model.cuda()\nx = {}1\n", "- ".repeat(cap / 4)),
            ),
            (
                "nots.py",
                format!("model.cuda()\nx = {}1\n", "not ".repeat(cap / 8)),
            ),
            (
                "bad.py",
                "def (:\n\t\t  import\x01 ((( 'unterminated\n".repeat(20_000),
            ),
        ];
        let parsed = [
            (
                "chain.py",
                format!("{}.cuda()\n", vec!["a"; 100_000].join(".")),
            ),
            (
                "sum.py",
                format!("import torch\nx = {}1\n", "1+".repeat(cap / 2 - 32)),
            ),
            (
                "calls.py",
                format!("import torch\nx = f{}\n", "()".repeat(cap / 2 - 32)),
            ),
            (
                "py2.py",
                "print 'x'\nimport einops\nexec 'y'\n".repeat(10_000),
            ),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let files: Vec<SourceFile> = nested
            .iter()
            .chain(&parsed)
            .map(|(name, text)| {
                let path = dir.path().join(name);
                std::fs::write(&path, text).expect("write");
                SourceFile {
                    path,
                    relative: name.to_string(),
                    notebook: false,
                }
            })
            .collect();
        let mut project = Project::default();
        let mut scan = CodeScan::new(files.iter().map(|f| f.relative.as_str()));
        scan.read_files(&files, &mut project);
        let skipped: Vec<&str> = scan
            .skipped
            .iter()
            .map(|note| note.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            skipped,
            ["parens.py", "fstrings.py", "minus.py", "nots.py", "bad.py"]
        );
        assert!(
            scan.skipped[0].ends_with("nested over 200 deep)"),
            "{:?}",
            scan.skipped
        );
        // What parses still yields its facts: the chain's `.cuda()`, the imports above the sums.
        assert_eq!(
            settings(&project),
            [
                "chain.py:1 code.cuda_device a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.…"
            ]
        );
        let imports: Vec<&str> = scan
            .imports
            .iter()
            .map(|i| i.evidence.file.as_str())
            .collect();
        assert_eq!(imports[..2], ["sum.py", "calls.py"]);
        assert_eq!(
            imports.len(),
            2 + 10_000,
            "every import of the Python 2 file"
        );
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
        // `re.compile` is not `torch.compile`: only the imports are parsed.
        let regex = "import re\nPATTERN = re.compile('x')\n";
        assert_eq!(needed(regex), Needed::ImportsUpTo(10));
        assert_eq!(needed("import torch\nm = torch.compile(m)\n"), Needed::All);
        // What the cut file yields is what the whole file yields: the optional import stays
        // optional, the late one is found.
        let project = scan_code(&[("a.py", text), ("b.py", late)]);
        let names: Vec<&str> = project.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["einops"]);
    }
}
