//! Finds the manifests and configs of a project and hands each to its reader.

use std::path::{Path, PathBuf};

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use super::{Project, conda, config, pyproject, requirements};
use crate::profile::{Arch, Os, Profile};
use crate::source::SourceError;

/// How deep below the root training configs are looked for.
const MAX_DEPTH: usize = 6;
/// How many entries the walk looks at before it stops (a project is not a data set).
const MAX_ENTRIES: usize = 20_000;
/// Folders that hold no manifests of the project itself.
const SKIPPED_DIRS: [&str; 12] = [
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

    pub fn environment(&self) -> Option<&MarkerEnvironment> {
        self.environment.as_ref()
    }
}

/// Reads everything the project at `path` (a folder or one file) declares.
pub fn scan(path: &Path) -> Result<Project, SourceError> {
    let metadata = std::fs::metadata(path).map_err(|e| {
        SourceError::new(
            path,
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
                _ => e.to_string(),
            },
        )
    })?;
    let mut project = Project::default();
    if metadata.is_file() {
        let root = path.parent().unwrap_or(Path::new("."));
        read_file(root, path, &mut project)?;
        return Ok(project);
    }
    let mut files = Vec::new();
    walk(path, 0, &mut files, &mut 0);
    files.sort();
    for file in files {
        read_file(path, &file, &mut project)?;
    }
    Ok(project)
}

fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, seen: &mut usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        *seen += 1;
        if *seen > MAX_ENTRIES {
            return;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // `file_type` does not follow symlinks, so a link loop is never entered.
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if depth < MAX_DEPTH && !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_ref())
            {
                walk(&entry.path(), depth + 1, files, seen);
            }
        } else if file_type.is_file() && kind_of(&name, depth).is_some() {
            files.push(entry.path());
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Requirements,
    Conda,
    PyProject,
    PythonVersion,
    Config,
}

/// Manifests count at the top of the project; configs anywhere.
fn kind_of(name: &str, depth: usize) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let is_yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    if lower.starts_with("requirements") && lower.ends_with(".txt") {
        (depth <= 1).then_some(Kind::Requirements)
    } else if (lower.starts_with("environment") || lower.starts_with("conda")) && is_yaml {
        (depth <= 1).then_some(Kind::Conda)
    } else if lower == "pyproject.toml" {
        (depth == 0).then_some(Kind::PyProject)
    } else if lower == ".python-version" {
        (depth == 0).then_some(Kind::PythonVersion)
    } else if is_yaml || lower.ends_with(".json") {
        Some(Kind::Config)
    } else {
        None
    }
}

fn read_file(root: &Path, file: &Path, project: &mut Project) -> Result<(), SourceError> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let relative = relative_name(root, file);
    // A file named on the command line is read as what its name says, at any depth.
    let Some(kind) = kind_of(&name, 0) else {
        project.notes.push(format!(
            "{relative}: not a manifest or config mlcompat reads"
        ));
        return Ok(());
    };
    let before = project.packages.len() + project.settings.len() + project.models.len();
    match kind {
        Kind::Requirements => requirements::read(root, file, project)?,
        Kind::Conda => conda::read(file, &relative, project)?,
        Kind::PyProject => pyproject::read(file, &relative, project)?,
        Kind::PythonVersion => pyproject::read_python_version(file, &relative, project)?,
        Kind::Config => config::read(file, &relative, project),
    }
    let found = project.packages.len() + project.settings.len() + project.models.len() > before;
    if found || kind != Kind::Config {
        project.files.push(relative);
    }
    Ok(())
}

/// `file` relative to `root`, with `/` separators, for evidence that reads the same everywhere.
pub(super) fn relative_name(root: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
