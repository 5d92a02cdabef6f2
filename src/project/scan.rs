//! Finds the manifests and configs of a project and hands each to its reader.

use std::path::{Path, PathBuf};

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use super::paths::{file_name, relative_name};
use super::{
    Project, SettingKeys, conda, config, launch, pyproject, python_code, requirements, setup,
    variants,
};
use crate::profile::{Arch, Os, Profile};
use crate::reader::{self, ReadError};
use crate::source::SourceError;

/// How deep below the root training configs are looked for.
const MAX_DEPTH: usize = 6;
/// How many entries the walk looks at before it stops (a project is not a data set).
const MAX_ENTRIES: usize = 20_000;
/// How many entries of the root folder are listed, at most, looking for its manifests once
/// [`MAX_ENTRIES`] is reached.
const MAX_ROOT_ENTRIES: usize = 200_000;
/// How deep below the root a `requirements/` folder's files are read (`requirements/full/x.txt`).
const MAX_REQUIREMENTS_DEPTH: usize = 3;
/// JSON and YAML files that are never training configs: package managers' and linters' files.
const NOT_CONFIG_FILES: [&str; 10] = [
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "composer.json",
    ".pre-commit-config.yaml",
    "mkdocs.yml",
    "mkdocs.yaml",
    "codecov.yml",
    "environment.lock.yml",
    "pnpm-lock.yaml",
];
/// Folders that hold no manifests of the project itself.
const SKIPPED_DIRS: [&str; 13] = [
    "target",
    "node_modules",
    "venv",
    "env",
    "site-packages",
    "__pycache__",
    "data",
    "datasets",
    "wandb",
    "outputs",
    "checkpoints",
    "build",
    "dist",
];

/// What environment markers (`; sys_platform == "darwin"`) are evaluated against.
pub struct MarkerTarget {
    environment: Option<MarkerEnvironment>,
}

impl MarkerTarget {
    /// Builds the marker environment of a machine; `None` inside when the OS or Python is unknown,
    /// in which case every marker is taken as true.
    pub fn for_profile(profile: &Profile, python_version: Option<&str>) -> MarkerTarget {
        let environment = (|| {
            let os = profile.system.os?;
            let python = python_version?;
            let (sys_platform, platform_system, os_name) = match os {
                Os::Macos => ("darwin", "Darwin", "posix"),
                Os::Linux => ("linux", "Linux", "posix"),
                Os::Windows => ("win32", "Windows", "nt"),
            };
            let machine = match (os, profile.system.arch) {
                (Os::Linux, Some(Arch::Arm64)) => "aarch64",
                (Os::Windows, Some(Arch::X86_64)) => "AMD64",
                (Os::Windows, Some(Arch::Arm64)) => "ARM64",
                (_, Some(Arch::Arm64)) => "arm64",
                (_, _) => "x86_64",
            };
            let short: String = python.split('.').take(2).collect::<Vec<_>>().join(".");
            MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
                implementation_name: "cpython",
                implementation_version: python,
                os_name,
                platform_machine: machine,
                platform_python_implementation: "CPython",
                platform_release: "",
                platform_system,
                platform_version: "",
                python_full_version: python,
                python_version: &short,
                sys_platform,
            })
            .ok()
        })();
        MarkerTarget { environment }
    }

    /// The marker environment of the target machine, when there is one.
    pub fn environment(&self) -> Option<&MarkerEnvironment> {
        self.environment.as_ref()
    }
}

/// Reads everything the project at `path` (a folder or one file) declares, reading every
/// per-platform requirements variant (no machine to choose for).
pub fn scan(path: &Path) -> Result<Project, SourceError> {
    scan_for(path, None)
}

/// Reads the project as it would be installed on `profile`'s machine: of a family of
/// requirements variants (`requirements.txt`, `requirements_apple_silicon.txt`, …) only the one
/// meant for the machine is read, with a note naming it and the others.
pub fn scan_for(path: &Path, profile: Option<&Profile>) -> Result<Project, SourceError> {
    scan_with(
        path,
        &ScanOptions {
            profile,
            settings: &SettingKeys::All,
            originals: false,
        },
    )
}

/// What a scan reads a project for.
#[derive(Clone, Copy, Debug)]
pub struct ScanOptions<'a> {
    /// The machine whose variant files are read; `None` reads the generic ones.
    pub profile: Option<&'a Profile>,
    /// The training settings configs are read for (the catalogue's keys).
    pub settings: &'a SettingKeys,
    /// Read the originals of the files `mlcompat fix --write` made for a machine
    /// (`requirements.txt`, not `requirements-macos.txt`), as `fix` does to make them again.
    pub originals: bool,
}

/// Reads the project for a machine, collecting the settings `options` names.
///
/// A PATH that cannot be read (missing, unlistable, a FIFO or device) is an error: "nothing to
/// judge" would pass a project nobody looked at.
pub fn scan_with(path: &Path, options: &ScanOptions) -> Result<Project, SourceError> {
    let metadata = std::fs::metadata(path)
        .map_err(|e| SourceError::new(path, unreadable(&e, "file or folder")))?;
    let mut project = Project::default();
    if let Some(kind) = reader::irregular_kind(&metadata).filter(|_| !metadata.is_dir()) {
        return Err(SourceError::new(
            path,
            format!("is {kind}, not a project folder or a manifest, so it was not read"),
        ));
    }
    if metadata.is_file() {
        let root = path.parent().unwrap_or(Path::new("."));
        let name = file_name(path);
        let kind = kind_of(&name, 0, false).unwrap_or(Kind::Requirements);
        let kind = if name.ends_with(".txt") {
            Kind::Requirements
        } else {
            kind
        };
        // A recipe (`examples/llama-2/qlora.yml`) is judged with the manifests of the project
        // it belongs to: the nearest folder above it that holds one.
        if kind == Kind::Config
            && let Some((root, file)) = project_root(path)
        {
            let mut project = scan_with(&root, options)?;
            let focus = relative_name(&root, &file);
            if !project.files.contains(&focus) {
                read_file(&root, &file, Kind::Config, options, &mut project)?;
            }
            project.focus = Some(focus);
            return Ok(project);
        }
        read_file(root, path, kind, options, &mut project)?;
        project.apply_constraints();
        return Ok(project);
    }
    let mut found = Vec::new();
    let mut walk_state = Walk {
        root: path.to_path_buf(),
        canonical_root: path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
        ..Walk::default()
    };
    walk(path, 0, false, &mut found, &mut walk_state).map_err(|e| {
        SourceError::new(
            path,
            format!("cannot list the folder: {}", unreadable(&e, "folder")),
        )
    })?;
    project.notes.append(&mut walk_state.notes);
    if walk_state.truncated {
        project.notes.push(format!(
            "stopped looking after {MAX_ENTRIES} entries: below the top folder, the rest of the project was not read"
        ));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    read_all(path, found, options, &mut project)?;
    project.budget.finish(&mut project.notes);
    project.apply_constraints();
    Ok(project)
}

/// How many folders above a config file are looked at for its project's manifests.
const MAX_ROOT_SEARCH: usize = 8;

/// The nearest folder above the config `file` that holds a manifest (a requirements file, a
/// conda environment, `pyproject.toml`, `setup.cfg` or `setup.py`), with the file's path under
/// it; `None` when no folder up to [`MAX_ROOT_SEARCH`] levels does.
fn project_root(file: &Path) -> Option<(PathBuf, PathBuf)> {
    let file = file.canonicalize().ok()?;
    for folder in file.ancestors().skip(1).take(MAX_ROOT_SEARCH) {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        let manifest = entries.flatten().take(MAX_ROOT_ENTRIES).any(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            matches!(
                kind_of(&name, 0, false),
                Some(
                    Kind::Requirements
                        | Kind::Conda
                        | Kind::PyProject
                        | Kind::SetupCfg
                        | Kind::SetupPy
                )
            ) && entry.file_type().is_ok_and(|t| t.is_file())
        });
        if manifest {
            return Some((folder.to_path_buf(), file.clone()));
        }
    }
    None
}

/// Why a path could not be looked at, in words.
fn unreadable(error: &std::io::Error, what: &str) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => format!("no such {what}"),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

/// Reads what the walk found: manifests first, then the `requirements/` folders only when the
/// manifests declared nothing (there they are the project's manifests; next to a pyproject they
/// are optional add-ons such as `requirements/bitsandbytes.txt`), then configs.
fn read_all(
    root: &Path,
    found: Vec<(PathBuf, Kind)>,
    options: &ScanOptions,
    project: &mut Project,
) -> Result<(), SourceError> {
    let profile = options.profile;
    // A file `mlcompat fix --write` made for a machine (`requirements-macos.txt`) stands in for
    // its original on that machine, and is set aside on the others. Code is never rewritten.
    let rewritable: Vec<PathBuf> = found
        .iter()
        .filter(|(_, kind)| !matches!(kind, Kind::Python | Kind::Notebook))
        .map(|(file, _)| file.clone())
        .collect();
    let target = profile.filter(|_| !options.originals);
    let (kept, notes) = variants::select_os_variants(rewritable, target, root);
    project.notes.extend(notes);
    let found: Vec<(PathBuf, Kind)> = found
        .into_iter()
        .filter(|(file, kind)| matches!(kind, Kind::Python | Kind::Notebook) || kept.contains(file))
        .collect();
    let of_kind = |wanted: Kind| -> Vec<PathBuf> {
        found
            .iter()
            .filter(|(_, kind)| *kind == wanted)
            .map(|(file, _)| file.clone())
            .collect()
    };
    let (requirements, notes) = variants::select(of_kind(Kind::Requirements), profile, root);
    project.notes.extend(notes);
    for file in requirements {
        read_file(root, &file, Kind::Requirements, options, project)?;
    }
    for kind in [
        Kind::Conda,
        Kind::PyProject,
        Kind::SetupCfg,
        Kind::SetupPy,
        Kind::PythonVersion,
    ] {
        for file in of_kind(kind) {
            read_file(root, &file, kind, options, project)?;
        }
    }
    let nested = of_kind(Kind::NestedRequirements);
    if project.packages.is_empty() {
        let (nested, notes) = variants::select(nested, profile, root);
        project.notes.extend(notes);
        for file in nested {
            read_file(root, &file, Kind::Requirements, options, project)?;
        }
    } else {
        for file in nested {
            let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
            if !project.read_requirements.contains(&canonical) {
                project.notes.push(format!(
                    "{}: not read (an optional requirements file; the project's manifests name its dependencies)",
                    relative_name(root, &file)
                ));
            }
        }
    }
    for file in of_kind(Kind::Config) {
        read_file(root, &file, Kind::Config, options, project)?;
    }
    read_code(root, &found, &[], options.settings, project);
    Ok(())
}

/// Reads the project's Python code, notebooks and launch scripts (after the manifests, so an
/// import is judged against everything they declare). `local` names more of the project's own
/// modules than `found` holds (a single file's siblings). Code never makes the scan fail: what
/// cannot be read is a note.
fn read_code(
    root: &Path,
    found: &[(PathBuf, Kind)],
    local: &[String],
    keys: &SettingKeys,
    project: &mut Project,
) {
    let relative = |file: &PathBuf| relative_name(root, file);
    let python: Vec<String> = found
        .iter()
        .filter(|(_, kind)| *kind == Kind::Python)
        .map(|(file, _)| relative(file))
        .chain(local.iter().cloned())
        .collect();
    let mut code = python_code::CodeScan::new(python.iter().map(String::as_str));
    let mut sources = Vec::new();
    for (file, kind) in found {
        let name = relative(file);
        if !matches!(kind, Kind::Python | Kind::Notebook | Kind::Launch)
            || !python_code::is_project_code(&name)
        {
            continue;
        }
        if *kind == Kind::Launch {
            let before = project.settings.len();
            launch::read(file, &name, keys, project);
            if project.settings.len() > before && !project.files.contains(&name) {
                project.files.push(name);
            }
        } else {
            sources.push(python_code::SourceFile {
                path: file.clone(),
                relative: name,
                notebook: *kind == Kind::Notebook,
            });
        }
    }
    let listed: std::collections::HashSet<String> = project.files.iter().cloned().collect();
    for name in code.read_files(&sources, project) {
        if !listed.contains(&name) {
            project.files.push(name);
        }
    }
    let before = project.packages.len();
    code.finish(project);
    for package in &project.packages[before..] {
        if !project.files.contains(&package.evidence.file) {
            project.files.push(package.evidence.file.clone());
        }
    }
}

#[derive(Default)]
struct Walk {
    /// The folder scanned, as given (for names in notes) and canonical (for links).
    root: PathBuf,
    canonical_root: PathBuf,
    seen: usize,
    truncated: bool,
    /// Folders that could not be listed and links that were not followed.
    notes: Vec<String>,
}

/// Collects the files worth reading. `in_requirements` is true below a folder named
/// `requirements*`, where every `.txt` is a requirements file (vLLM's `requirements/cuda.txt`).
/// The top folder that cannot be listed is an error; a folder below it is a note.
fn walk(
    dir: &Path,
    depth: usize,
    in_requirements: bool,
    files: &mut Vec<(PathBuf, Kind)>,
    state: &mut Walk,
) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if depth == 0 => return Err(error),
        Err(error) => {
            state.notes.push(format!(
                "{}/: cannot be listed ({}), so nothing in it was judged",
                relative_name(&state.root, dir),
                unreadable(&error, "folder")
            ));
            return Ok(());
        }
    };
    for entry in entries.flatten() {
        state.seen += 1;
        if state.seen > MAX_ENTRIES {
            state.truncated = true;
            // The root's own manifests matter most and a folder listing costs little, so in
            // the root the walk goes on (up to a further bound) for them alone: a project
            // folder flooded with files still has its requirements.txt read.
            if depth > 0 || state.seen > MAX_ROOT_ENTRIES {
                return Ok(());
            }
            let name = file_name(&entry.path());
            if let Some(kind) = kind_of(&name, depth, in_requirements).filter(|k| {
                !matches!(
                    k,
                    Kind::Config | Kind::Python | Kind::Notebook | Kind::Launch
                )
            }) && let Ok(file_type) = entry.file_type()
                && !file_type.is_dir()
                && wanted(&entry.path(), file_type, state)
            {
                files.push((entry.path(), kind));
            }
            continue;
        }
        let name = file_name(&entry.path());
        // `file_type` does not follow symlinks, so a link loop is never entered.
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if depth < MAX_DEPTH && !skipped_dir(&name) {
                let below =
                    in_requirements || name.to_ascii_lowercase().starts_with("requirements");
                walk(&entry.path(), depth + 1, below, files, state)?;
            }
        } else if let Some(kind) = kind_of(&name, depth, in_requirements)
            && wanted(&entry.path(), file_type, state)
        {
            // FIFOs, devices and sockets with a manifest's name are kept, so that reading them
            // notes what they are instead of passing over them in silence.
            files.push((entry.path(), kind));
        }
    }
    Ok(())
}

/// Whether a file the walk met is read: a symbolic link is followed when it ends at a file
/// inside the project (`requirements.txt -> deps/base.txt`); a link that ends nowhere (dangling,
/// or a loop) or outside the project is noted and not read. Links to folders are never
/// followed, so the walk cannot loop. `file_type` is the folder listing's (no `stat` per file).
fn wanted(path: &Path, file_type: std::fs::FileType, state: &mut Walk) -> bool {
    if !file_type.is_symlink() {
        return true;
    }
    let relative = relative_name(&state.root, path);
    match std::fs::canonicalize(path) {
        Err(_) => {
            state.notes.push(format!(
                "{relative}: a link that leads nowhere (dangling, or a loop), so it was not read"
            ));
            false
        }
        Ok(target) if !target.starts_with(&state.canonical_root) => {
            state.notes.push(format!(
                "{relative}: a link to a file outside the project folder, so it was not read"
            ));
            false
        }
        Ok(target) => !target.is_dir(),
    }
}

/// Hidden folders (`.git`, `.venv`, `.github`), virtual environments and data or output folders
/// hold nothing the project declares.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || SKIPPED_DIRS.contains(&name) || name.ends_with(".egg-info")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Requirements,
    /// A `.txt` below a `requirements*` folder, read when the top-level manifests declare nothing.
    NestedRequirements,
    Conda,
    PyProject,
    SetupCfg,
    SetupPy,
    PythonVersion,
    Config,
    /// Python source (`.py`), read for imports and CUDA assumptions.
    Python,
    /// A Jupyter notebook, whose code cells are read like Python source.
    Notebook,
    /// A shell script or Makefile, read for the launch commands it runs.
    Launch,
}

/// Manifests count at the top of the project; configs anywhere.
fn kind_of(name: &str, depth: usize, in_requirements: bool) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let is_yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    if lower.ends_with(".txt") && in_requirements {
        (depth <= MAX_REQUIREMENTS_DEPTH).then_some(Kind::NestedRequirements)
    } else if lower.starts_with("requirements") && lower.ends_with(".txt") {
        (depth <= 1).then_some(Kind::Requirements)
    } else if (lower.starts_with("environment") || lower.starts_with("conda")) && is_yaml {
        (depth <= 1).then_some(Kind::Conda)
    } else if depth == 0
        && (lower == "pyproject.toml"
            || variants::os_variant_of(&lower).is_some_and(|(of, _)| of == "pyproject.toml"))
    {
        Some(Kind::PyProject)
    } else if depth == 0 && lower == "setup.cfg" {
        Some(Kind::SetupCfg)
    } else if depth == 0 && lower == "setup.py" {
        Some(Kind::SetupPy)
    } else if depth == 0 && lower == ".python-version" {
        Some(Kind::PythonVersion)
    } else if is_yaml || lower.ends_with(".json") {
        (!NOT_CONFIG_FILES.contains(&lower.as_str())).then_some(Kind::Config)
    } else if lower.ends_with(".py") {
        Some(Kind::Python)
    } else if lower.ends_with(".ipynb") {
        Some(Kind::Notebook)
    } else if launch::is_launch_file(&lower) {
        Some(Kind::Launch)
    } else {
        None
    }
}

fn read_file(
    root: &Path,
    file: &Path,
    kind: Kind,
    options: &ScanOptions,
    project: &mut Project,
) -> Result<(), SourceError> {
    let relative = relative_name(root, file);
    // Missing or unreadable files are left to the reader, which names the reason.
    if let Ok(metadata) = std::fs::metadata(file) {
        if let Some(kind) = reader::irregular_kind(&metadata) {
            let why = ReadError::NotRegular(kind);
            project.notes.push(format!("{relative}: {why}"));
            return Ok(());
        }
        if !project
            .budget
            .admit(&metadata, &relative, &mut project.notes)
        {
            return Ok(());
        }
    }
    let before = project.packages.len() + project.settings.len() + project.models.len();
    match kind {
        Kind::Requirements | Kind::NestedRequirements => requirements::read(root, file, project)?,
        Kind::Conda => conda::read(file, &relative, project)?,
        Kind::PyProject => pyproject::read(file, &relative, project)?,
        Kind::SetupCfg => setup::read_cfg(file, &relative, project)?,
        Kind::SetupPy => setup::read_py(file, &relative, project)?,
        Kind::PythonVersion => pyproject::read_python_version(file, &relative, project)?,
        Kind::Config => config::read(file, &relative, options.settings, project),
        Kind::Python | Kind::Notebook | Kind::Launch => {
            // A script imports the modules beside it (Python puts its folder on sys.path).
            let siblings: Vec<String> = std::fs::read_dir(root)
                .into_iter()
                .flatten()
                .flatten()
                .take(MAX_ENTRIES)
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let folder = entry.file_type().is_ok_and(|t| t.is_dir());
                    if folder {
                        Some(format!("{name}/"))
                    } else {
                        name.ends_with(".py").then_some(name)
                    }
                })
                .collect();
            let found = [(file.to_path_buf(), kind)];
            read_code(root, &found, &siblings, options.settings, project);
        }
    }
    let found = project.packages.len() + project.settings.len() + project.models.len() > before;
    if (found || kind != Kind::Config) && !project.files.contains(&relative) {
        project.files.push(relative);
    }
    Ok(())
}
