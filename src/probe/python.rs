//! The Python interpreter the project will use, read from disk wherever a file says what a
//! spawned interpreter would: `--python`, then `VIRTUAL_ENV`, then `CONDA_PREFIX`, then `python3`
//! or `python` on PATH. A pyenv shim is resolved the way pyenv would (PYENV_VERSION,
//! `.python-version`, `$PYENV_ROOT/version`) instead of being run: the shim costs ~90 ms a call.
//!
//! Nothing inside the audited project is ever run: a `python` there could be anything. Such an
//! interpreter (a project-local `.venv`) is still described from its files.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{ProbeOptions, Probed, exec};
use crate::profile::{Arch, Os, Python, PythonInstaller, TorchBuild};
use crate::reader::{self, ReadError};

/// The environment the interpreter is chosen from, captured once so tests can pass their own.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `PATH`.
    pub path: Option<OsString>,
    /// `VIRTUAL_ENV`: an activated virtual environment.
    pub virtual_env: Option<PathBuf>,
    /// `CONDA_PREFIX`: an activated conda environment.
    pub conda_prefix: Option<PathBuf>,
    /// `PYENV_ROOT`, else `~/.pyenv` when pyenv's shims are on PATH.
    pub pyenv_root: Option<PathBuf>,
    /// `PYENV_VERSION`, which wins over the version files.
    pub pyenv_version: Option<String>,
    /// The home folder.
    pub home: Option<PathBuf>,
    /// The working folder, where pyenv looks for `.python-version`.
    pub cwd: Option<PathBuf>,
}

impl Env {
    /// The process's environment.
    pub fn current() -> Env {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let home = var("HOME")
            .or_else(|| var("USERPROFILE"))
            .map(PathBuf::from);
        Env {
            path: var("PATH"),
            virtual_env: var("VIRTUAL_ENV").map(PathBuf::from),
            conda_prefix: var("CONDA_PREFIX").map(PathBuf::from),
            pyenv_root: var("PYENV_ROOT")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".pyenv"))),
            pyenv_version: var("PYENV_VERSION").and_then(|v| v.into_string().ok()),
            home,
            cwd: std::env::current_dir().ok(),
        }
    }
}

/// An interpreter and how it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The interpreter's path.
    pub executable: PathBuf,
    /// How it was found, for `probe --explain`.
    pub how: String,
}

/// Adds the Python the project will use, its version and installed packages, read from disk.
pub fn probe(options: &ProbeOptions, probed: &mut Probed) {
    let env = Env::current();
    let project = options.project.as_deref().and_then(project_folder);
    let Some(found) = find(
        options.python.as_deref(),
        &env,
        project.as_deref(),
        &mut probed.notes,
    ) else {
        probed.learned(
            "python",
            "none found (no --python, VIRTUAL_ENV, CONDA_PREFIX, or python3/python on PATH)",
        );
        return;
    };
    let mut python = Python {
        executable: Some(found.executable.display().to_string()),
        ..Python::default()
    };
    probed.learned("python.executable", found.how.clone());
    let runnable = !project
        .as_deref()
        .is_some_and(|p| inside(&found.executable, p));
    read_version(&found.executable, runnable, &mut python, probed);
    read_arch(&found.executable, &mut python, probed);
    read_packages(&found.executable, &env, &mut python, probed);
    read_installer(&found.executable, &mut python, probed);
    probed.profile.python = Some(python);
}

/// The folder of the audited project (a file's parent), canonical so links cannot hide it.
fn project_folder(project: &Path) -> Option<PathBuf> {
    let folder = if project.is_file() {
        project.parent()?
    } else {
        project
    };
    std::fs::canonicalize(folder).ok()
}

/// Whether `path`'s folder lies in `project` (the file itself may link elsewhere, as a venv's does).
fn inside(path: &Path, project: &Path) -> bool {
    let folder = path.parent().unwrap_or(path);
    std::fs::canonicalize(folder).is_ok_and(|folder| folder.starts_with(project))
}

/// Chooses the interpreter; `None` when there is none. Version files that could not be read
/// (a FIFO or device planted as `.python-version`) are noted in `notes`.
pub fn find(
    explicit: Option<&Path>,
    env: &Env,
    project: Option<&Path>,
    notes: &mut Vec<String>,
) -> Option<Found> {
    if let Some(path) = explicit {
        let path = match (&env.cwd, path.is_relative()) {
            (Some(cwd), true) => cwd.join(path),
            _ => path.to_path_buf(),
        };
        return Some(Found {
            executable: path,
            how: "--python".to_string(),
        });
    }
    for (variable, prefix) in [
        ("VIRTUAL_ENV", &env.virtual_env),
        ("CONDA_PREFIX", &env.conda_prefix),
    ] {
        if let Some(executable) = prefix.as_deref().and_then(in_prefix) {
            return Some(Found {
                executable,
                how: format!("{variable} ({})", prefix.as_deref()?.display()),
            });
        }
    }
    on_path(env, project, notes)
}

/// The interpreter of an environment prefix (a venv or conda environment, Unix or Windows).
fn in_prefix(prefix: &Path) -> Option<PathBuf> {
    [
        "bin/python3",
        "bin/python",
        "Scripts/python.exe",
        "python.exe",
    ]
    .iter()
    .map(|name| prefix.join(name))
    .find(|path| path.is_file())
}

/// The first `python3` (then `python`) on PATH, skipping relative entries and entries inside the
/// project (either would let the project pick the interpreter), and resolving pyenv shims.
fn on_path(env: &Env, project: Option<&Path>, notes: &mut Vec<String>) -> Option<Found> {
    let path = env.path.as_ref()?;
    let names: &[&str] = if cfg!(windows) {
        &["python.exe", "python3.exe"]
    } else {
        &["python3", "python"]
    };
    for name in names {
        for dir in std::env::split_paths(path) {
            if dir.is_relative() || project.is_some_and(|p| inside(&dir.join(name), p)) {
                continue;
            }
            let candidate = dir.join(name);
            if !candidate.is_file() {
                continue;
            }
            match pyenv_shim_root(&dir, env) {
                None => {
                    return Some(Found {
                        executable: candidate,
                        how: format!("PATH ({name})"),
                    });
                }
                Some(root) => {
                    if let Some(found) = resolve_shim(&root, name, env, notes) {
                        return Some(found);
                    }
                    // pyenv says "system": the next python on PATH is the one it would run.
                }
            }
        }
    }
    None
}

/// The pyenv root when `dir` is its `shims` folder.
fn pyenv_shim_root(dir: &Path, env: &Env) -> Option<PathBuf> {
    if dir.file_name()? != "shims" {
        return None;
    }
    let root = dir.parent()?;
    let known = env.pyenv_root.as_deref() == Some(root);
    (known || root.join("versions").is_dir()).then(|| root.to_path_buf())
}

/// What `pyenv exec NAME` would run, without running the shim: `None` for the system Python.
pub fn resolve_shim(root: &Path, name: &str, env: &Env, notes: &mut Vec<String>) -> Option<Found> {
    let (version, why) = pyenv_version(root, env, notes)?;
    if version == "system" {
        return None;
    }
    let folder = version_folder(root, &version)?;
    let executable = [name, "python3", "python"]
        .iter()
        .map(|n| folder.join("bin").join(n))
        .find(|p| p.is_file())?;
    Some(Found {
        executable,
        how: format!("pyenv shim on PATH, resolved through {why}"),
    })
}

/// The version pyenv selects and where that choice is written.
///
/// `.python-version` is looked for in the working folder and every folder above it, so a cloned
/// project decides what is read here: each file goes through the capped, regular-files-only
/// reader (a link to `/dev/zero` or a FIFO is noted, never read).
fn pyenv_version(root: &Path, env: &Env, notes: &mut Vec<String>) -> Option<(String, String)> {
    if let Some(first) = env.pyenv_version.as_deref().and_then(first_version) {
        return Some((first, "PYENV_VERSION".to_string()));
    }
    let mut dir = env.cwd.clone();
    while let Some(folder) = dir {
        let file = folder.join(".python-version");
        if let Some(first) = read_small(&file, notes).as_deref().and_then(first_version) {
            return Some((first, file.display().to_string()));
        }
        dir = folder.parent().map(Path::to_path_buf);
    }
    let global = root.join("version");
    let text = read_small(&global, notes);
    match text.as_deref().and_then(first_version) {
        Some(first) => Some((first, global.display().to_string())),
        None => Some(("system".to_string(), "no version file".to_string())),
    }
}

/// A small interpreter file (a version file, `pyvenv.cfg`, `torch/version.py`) through the
/// capped reader: a missing file is silent, anything else that stops the read is a note.
fn read_small(path: &Path, notes: &mut Vec<String>) -> Option<String> {
    match reader::read_small_text(path) {
        Ok(text) => Some(text),
        Err(ReadError::NotFound) => None,
        Err(error) => {
            notes.push(format!("{}: {error}", path.display()));
            None
        }
    }
}

/// The first version named in a pyenv version file or PYENV_VERSION (`3.11.7:3.10.13`, lines,
/// `#` comments).
fn first_version(text: &str) -> Option<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .flat_map(|line| line.split([':', ' ']))
        .map(str::trim)
        .find(|word| !word.is_empty())
        .map(str::to_string)
}

/// `versions/NAME`, or for a prefix such as `3.11` the newest `versions/3.11.*` (pyenv ≥ 2.3).
fn version_folder(root: &Path, name: &str) -> Option<PathBuf> {
    let versions = root.join("versions");
    let exact = versions.join(name);
    if exact.is_dir() {
        return Some(exact);
    }
    let prefix = format!("{name}.");
    std::fs::read_dir(&versions)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix) && n[prefix.len()..].chars().all(|c| c.is_ascii_digit()))
        .max_by_key(|n| numeric_parts(n))
        .map(|n| versions.join(n))
}

fn numeric_parts(version: &str) -> Vec<u64> {
    version.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// The interpreter's architecture from its executable's header. It is recorded only when it
/// differs from the machine's: on an arm64 Mac an x86_64 Python runs under Rosetta, where
/// PyTorch has no MPS backend, and nothing in Python says so.
fn read_arch(executable: &Path, python: &mut Python, probed: &mut Probed) {
    let Some(arch) = binary_arch(executable) else {
        return;
    };
    let (os, machine) = (probed.profile.system.os, probed.profile.system.arch);
    if machine.is_none_or(|machine| machine == arch) {
        return;
    }
    python.arch = Some(arch);
    probed.learned(
        "python.arch",
        format!("the header of {}", executable.display()),
    );
    if os == Some(Os::Macos) && arch == Arch::X86_64 {
        probed.notes.push(format!(
            "{} is an x86_64 build: on this arm64 Mac it runs under Rosetta, where PyTorch cannot use the GPU (MPS)",
            executable.display()
        ));
    }
}

/// The architecture of a Mach-O or ELF executable; `None` for a universal (fat) Mach-O, which
/// runs natively, and for anything unreadable.
pub fn binary_arch(path: &Path) -> Option<Arch> {
    let head = reader::read_head(path, 20).ok()?;
    header_arch(head.as_slice().try_into().ok()?)
}

/// See [`binary_arch`]: Mach-O 64 (`cf fa ed fe`, CPU type at 4) or ELF (machine at 18).
pub fn header_arch(header: &[u8; 20]) -> Option<Arch> {
    match header[..4] {
        [0xcf, 0xfa, 0xed, 0xfe] => {
            match u32::from_le_bytes([header[4], header[5], header[6], header[7]]) {
                0x0100_0007 => Some(Arch::X86_64),
                0x0100_000c => Some(Arch::Arm64),
                _ => None,
            }
        }
        [0x7f, b'E', b'L', b'F'] => match u16::from_le_bytes([header[18], header[19]]) {
            0x3e => Some(Arch::X86_64),
            0xb7 => Some(Arch::Arm64),
            _ => None,
        },
        _ => None,
    }
}

/// The version from disk where a file or folder says it, else from `python --version` (which
/// imports nothing) when the interpreter may be run, else the `X.Y` of its file name.
fn read_version(executable: &Path, runnable: bool, python: &mut Python, probed: &mut Probed) {
    if let Some((version, origin)) = version_on_disk(executable, &mut probed.notes) {
        python.version = Some(version);
        probed.learned("python.version", origin);
        return;
    }
    let spawned = if runnable {
        match exec::run(executable, &["--version"]) {
            Ok(output) => parse_version(&output).ok_or_else(|| "it printed no version".to_string()),
            Err(error) => Err(error.to_string()),
        }
    } else {
        Err("the interpreter is inside the audited project, and nothing there is run".to_string())
    };
    match spawned {
        Ok(version) => {
            python.version = Some(version);
            probed.learned(
                "python.version",
                format!("{} --version", executable.display()),
            );
        }
        Err(why) => match minor_from_name(executable) {
            Some(minor) => {
                python.version = Some(minor);
                probed.learned(
                    "python.version",
                    format!("the file name {} ({why})", executable.display()),
                );
            }
            None => probed.unknown("python.version", why),
        },
    }
}

/// A version a file states: a venv's `pyvenv.cfg`, a conda environment's
/// `conda-meta/python-X.Y.Z-*.json`, or a folder in the interpreter's path (pyenv's
/// `versions/3.11.7`, Homebrew's `Cellar/python@3.13/3.13.5`, uv's `cpython-3.12.4-…`).
pub fn version_on_disk(executable: &Path, notes: &mut Vec<String>) -> Option<(String, String)> {
    let prefix = executable.parent()?.parent()?;
    let cfg = prefix.join("pyvenv.cfg");
    if let Some(version) = read_small(&cfg, notes).as_deref().and_then(pyvenv_version) {
        return Some((version, cfg.display().to_string()));
    }
    for prefix in [prefix, executable.parent()?] {
        if let Some(found) = conda_meta_version(&prefix.join("conda-meta")) {
            return Some(found);
        }
    }
    let real = std::fs::canonicalize(executable).unwrap_or_else(|_| executable.to_path_buf());
    [executable, real.as_path()].iter().find_map(|path| {
        let version = path
            .ancestors()
            .skip(1)
            .find_map(|dir| full_version_in(dir.file_name()?.to_str()?))?;
        Some((
            version,
            format!("the interpreter's path {}", path.display()),
        ))
    })
}

/// `uv` when the environment's `pyvenv.cfg` says uv made it (a `uv = 0.4.18` line): such an
/// environment has no pip, so install commands use `uv pip`.
fn read_installer(executable: &Path, python: &mut Python, probed: &mut Probed) {
    let Some(prefix) = executable.parent().and_then(Path::parent) else {
        return;
    };
    let cfg = prefix.join("pyvenv.cfg");
    if !cfg.is_file() {
        return;
    }
    if read_small(&cfg, &mut probed.notes).is_some_and(|text| made_by_uv(&text)) {
        python.installer = Some(PythonInstaller::Uv);
        probed.learned("python.installer", cfg.display().to_string());
    }
}

/// Whether a `pyvenv.cfg` has the `uv = VERSION` line uv writes.
pub fn made_by_uv(text: &str) -> bool {
    text.lines().any(|line| {
        line.split_once('=')
            .is_some_and(|(key, _)| key.trim() == "uv")
    })
}

/// `version = 3.11.7` or uv's `version_info = 3.12.1.final.0` → `3.11.7` / `3.12.1`.
pub fn pyvenv_version(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        let key = key.trim();
        (key == "version" || key == "version_info")
            .then(|| {
                value
                    .trim()
                    .split('.')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .filter(|v| full_version_in(v).as_deref() == Some(v.as_str()))
    })
}

fn conda_meta_version(meta: &Path) -> Option<(String, String)> {
    let entries = std::fs::read_dir(meta).ok()?;
    entries.filter_map(Result::ok).find_map(|entry| {
        let name = entry.file_name().into_string().ok()?;
        let version = name
            .strip_prefix("python-")?
            .strip_suffix(".json")?
            .split('-')
            .next()?;
        let version = full_version_in(version).filter(|v| v == version)?;
        Some((version, entry.path().display().to_string()))
    })
}

/// The first `X.Y.Z` (with a pre-release tail such as `rc1`) in a folder name, Python 2 or 3.
fn full_version_in(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|start| {
        let at_boundary =
            start == 0 || !bytes[start - 1].is_ascii_alphanumeric() && bytes[start - 1] != b'.';
        if !at_boundary || !matches!(bytes[start], b'2' | b'3') {
            return None;
        }
        let rest = &text[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(rest.len());
        let candidate = rest[..end].trim_end_matches('.');
        let parts: Vec<&str> = candidate.splitn(3, '.').collect();
        let numeric = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
        let ok = parts.len() == 3
            && numeric(parts[0])
            && numeric(parts[1])
            && parts[2].starts_with(|c: char| c.is_ascii_digit())
            && parts[2].chars().all(|c| c.is_ascii_alphanumeric());
        ok.then(|| candidate.to_string())
    })
}

/// `python3.11` → `3.11`.
fn minor_from_name(executable: &Path) -> Option<String> {
    let name = executable.file_name()?.to_str()?;
    let version = name.strip_prefix("python")?.trim_end_matches(".exe");
    let (major, minor) = version.split_once('.')?;
    let numeric = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    (numeric(major) && numeric(minor)).then(|| version.to_string())
}

/// `Python 3.11.7` → `3.11.7`.
pub fn parse_version(output: &str) -> Option<String> {
    let version = output.trim().strip_prefix("Python ")?.trim();
    version
        .split('.')
        .all(|part| !part.is_empty() && part.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .then(|| version.to_string())
}

/// Installed distributions from the interpreter's site-packages folders, and torch's build.
fn read_packages(executable: &Path, env: &Env, python: &mut Python, probed: &mut Probed) {
    let folders = site_packages(executable, python.version.as_deref(), env);
    for folder in &folders {
        let found = read_distributions(folder, &mut probed.notes);
        if found.is_empty() {
            continue;
        }
        probed.learned(
            "python.packages",
            format!("{} distributions in {}", found.len(), folder.display()),
        );
        for (name, version) in found {
            python.packages.entry(name).or_insert(version);
        }
        if python.torch.is_none() {
            read_torch(folder, python, probed);
        }
    }
    if folders.is_empty() {
        probed.unknown(
            "python.packages",
            format!("no site-packages folder found for {}", executable.display()),
        );
    }
}

/// The site-packages folders of the interpreter, in the order Python searches them.
fn site_packages(executable: &Path, version: Option<&str>, env: &Env) -> Vec<PathBuf> {
    let Some(prefix) = executable.parent().and_then(Path::parent) else {
        return Vec::new();
    };
    let venv = prefix.join("pyvenv.cfg").is_file();
    let prefix = if venv {
        prefix.to_path_buf()
    } else {
        std::fs::canonicalize(executable)
            .ok()
            .and_then(|real| Some(real.parent()?.parent()?.to_path_buf()))
            .unwrap_or_else(|| prefix.to_path_buf())
    };
    let minor = version.map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."));
    let mut folders = Vec::new();
    if !venv && let (Some(home), Some(minor)) = (&env.home, &minor) {
        folders.push(home.join(format!(".local/lib/python{minor}/site-packages")));
    }
    folders.extend(lib_python_folders(
        &prefix.join("lib"),
        minor.as_deref(),
        "site-packages",
    ));
    if !venv {
        if let Some(minor) = &minor {
            folders.push(prefix.join(format!("local/lib/python{minor}/dist-packages")));
        }
        folders.push(prefix.join("lib/python3/dist-packages"));
    }
    folders.push(prefix.join("Lib/site-packages"));
    folders.retain(|f| f.is_dir());
    folders.dedup();
    folders
}

/// `lib/pythonX.Y/<leaf>`, or every `lib/python3.*/<leaf>` when the version is unknown.
fn lib_python_folders(lib: &Path, minor: Option<&str>, leaf: &str) -> Vec<PathBuf> {
    if let Some(minor) = minor {
        return vec![lib.join(format!("python{minor}")).join(leaf)];
    }
    let Ok(entries) = std::fs::read_dir(lib) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("python3."))
        })
        .map(|e| e.path().join(leaf))
        .collect();
    folders.sort();
    folders
}

/// Name → version of every `*.dist-info` and `*.egg-info` in a site-packages folder, names
/// normalized as PEP 503 says. Both come from the folder's name where it has them
/// (`torch-2.1.0+cpu.dist-info`, PEP 376/427; `PyYAML-6.0.1-py3.11.egg-info`), so a folder
/// of hundreds of distributions is one directory listing; only a name without a version
/// (`mypkg.egg-info` of `setup.py develop`) sends the probe to the metadata header
/// (`Name:`, `Version:`).
pub fn read_distributions(folder: &Path, notes: &mut Vec<String>) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !(name.ends_with(".dist-info") || name.ends_with(".egg-info")) {
                return None;
            }
            let (dist, version) = match from_folder_name(&name) {
                Some(found) => found,
                None => {
                    let path = entry.path();
                    let metadata = if name.ends_with(".dist-info") {
                        path.join("METADATA")
                    } else if path.is_dir() {
                        path.join("PKG-INFO")
                    } else {
                        path
                    };
                    read_metadata(&metadata, notes)?
                }
            };
            Some((crate::names::normalize(&dist), version))
        })
        .collect()
}

/// `Name:` and `Version:` from a metadata file's header (it ends at the first blank line, so a
/// long description is never needed). Only the file's first [`METADATA_HEAD_BYTES`] are read:
/// an environment inside the audited project can make METADATA a link to `/dev/zero`.
fn read_metadata(path: &Path, notes: &mut Vec<String>) -> Option<(String, String)> {
    let head = match reader::read_head(path, METADATA_HEAD_BYTES) {
        Ok(head) => head,
        Err(ReadError::NotFound) => return None,
        Err(error) => {
            notes.push(format!("{}: {error}", path.display()));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&head);
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Name:") {
            name = Some(value.trim().to_string());
        } else if let Some(value) = line.strip_prefix("Version:") {
            version = Some(value.trim().to_string());
        }
        if name.is_some() && version.is_some() {
            break;
        }
    }
    Some((
        name.filter(|n| !n.is_empty())?,
        version.filter(|v| !v.is_empty())?,
    ))
}

/// How much of a METADATA or PKG-INFO file is read: its header (name, version, requirements)
/// is a few kilobytes even for packages with hundreds of `Requires-Dist` lines.
const METADATA_HEAD_BYTES: u64 = 64 << 10;

/// The name and version a distribution's folder name states: `name-1.0.dist-info` (the name
/// escaped with `_`, so the one `-` separates them; a local version such as `2.1.0+cpu` kept)
/// or `name-1.0-py3.11.egg-info`. `None` when the name does not have that shape or lacks a
/// version.
fn from_folder_name(folder: &str) -> Option<(String, String)> {
    let (stem, egg) = match folder.strip_suffix(".dist-info") {
        Some(stem) => (stem, false),
        None => (folder.strip_suffix(".egg-info")?, true),
    };
    let mut parts = stem.split('-');
    let name = parts.next().filter(|n| !n.is_empty())?;
    let version = parts.next().filter(|v| {
        v.starts_with(|c: char| c.is_ascii_digit())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!'))
    })?;
    // What may follow: nothing in a dist-info; the Python tag (and a platform) in an egg-info.
    match parts.next() {
        None => {}
        Some(python) if egg && python.starts_with("py") => {}
        Some(_) => return None,
    }
    Some((name.to_string(), version.to_string()))
}

/// torch's build from `torch/version.py`: its `__version__` carries the local tag (`+cu132`) that
/// METADATA lacks, and `cuda`/`hip` say which toolkit it needs.
fn read_torch(folder: &Path, python: &mut Python, probed: &mut Probed) {
    let file = folder.join("torch/version.py");
    let Some(text) = read_small(&file, &mut probed.notes) else {
        return;
    };
    let (version, build) = parse_torch_version(&text);
    if let (Some(version), Some(listed)) = (version, python.packages.get_mut("torch"))
        && version.starts_with(listed.as_str())
    {
        *listed = version;
    }
    python.torch = Some(build);
    probed.learned("python.torch", file.display().to_string());
}

/// Reads `__version__`, `cuda` and `hip` from torch's `version.py`, written either as
/// `cuda = '12.1'` or, since 2.x, `cuda: Optional[str] = '13.2'`; `None` is unknown.
pub fn parse_torch_version(text: &str) -> (Option<String>, TorchBuild) {
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let (left, right) = line.split_once('=')?;
            let name = left.split(':').next()?.trim();
            (name == key).then(|| quoted(right.trim())).flatten()
        })
    };
    (
        value("__version__"),
        TorchBuild {
            cuda: value("cuda"),
            hip: value("hip"),
        },
    )
}

fn quoted(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = &text[1..];
    let end = inner.find(quote)?;
    Some(inner[..end].to_string()).filter(|v| !v.is_empty())
}

#[cfg(all(test, unix))]
mod tests;
