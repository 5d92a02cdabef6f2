//! What the project targets share: the fuzz input becomes real files in a scratch folder, read
//! through the public scanner exactly as `mlcompat check` reads them (size cap, UTF-8 check,
//! includes resolved on disk), then judged by the built-in rules.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mlcompat::profile::Profile;
use mlcompat::rules::Catalogue;

/// Splits one input into several files: a line holding only `@@` starts the next file.
pub const SEPARATOR: &[u8] = b"\n@@\n";

/// A folder of this process's own (libFuzzer may run several jobs at once), emptied per input.
pub fn scratch() -> &'static Path {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER
        .get_or_init(|| std::env::temp_dir().join(format!("mlcompat-fuzz-{}", std::process::id())))
}

/// Writes `names[i]` with the i-th piece of `data` (pieces beyond the names are appended to the
/// last file) into a fresh scratch folder and returns the folder.
pub fn write_files(data: &[u8], names: &[&str]) -> &'static Path {
    let folder = scratch();
    let _ = std::fs::remove_dir_all(folder);
    std::fs::create_dir_all(folder.join("sub")).expect("scratch folder");
    let mut pieces = split(data);
    while pieces.len() > names.len() {
        let last = pieces.pop().unwrap_or_default();
        if let Some(previous) = pieces.last_mut() {
            previous.extend_from_slice(SEPARATOR);
            previous.extend_from_slice(&last);
        }
    }
    for (name, piece) in names.iter().zip(pieces) {
        std::fs::write(folder.join(name), piece).expect("scratch file");
    }
    folder
}

fn split(data: &[u8]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        pieces.push(rest[..at].to_vec());
        rest = &rest[at + SEPARATOR.len()..];
    }
    pieces.push(rest.to_vec());
    pieces
}

/// Scans `path` and, when it reads, judges the project on a saved machine: the rules engine and
/// the memory model see every shape of project the parsers can produce.
pub fn scan_and_assess(path: &Path) {
    static SETUP: OnceLock<(Profile, Catalogue)> = OnceLock::new();
    let (profile, catalogue) = SETUP.get_or_init(|| {
        let profile = Profile::parse(
            include_str!("../../../fixtures/profiles/linux-rtx3090.yaml"),
            Path::new("linux-rtx3090.yaml"),
        )
        .expect("fixture profile");
        (profile, Catalogue::builtin().expect("built-in rules"))
    });
    match mlcompat::project::scan_for(path, Some(profile)) {
        Ok(project) => {
            let _ = mlcompat::rules::assess(profile, &project, catalogue);
        }
        Err(error) => {
            // Every error names the file it is about.
            let shown = error.to_string();
            assert!(!shown.is_empty());
        }
    }
}
