//! How the project reader names files: evidence and notes say `requirements/cuda.txt` the same
//! way on every OS.

use std::path::Path;

/// The last component of `path`, or "" for a root.
pub(super) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
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
