//! Reading the files mlcompat is pointed at: size-capped, UTF-8 checked, and every parse error
//! turned into one error type that names the file and, where it can, the line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Manifests, configs, profiles and rule files are small; anything bigger is not one of them.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// A file that could not be read or understood. Always names the file.
#[derive(Debug, thiserror::Error)]
pub struct SourceError {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl SourceError {
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        SourceError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn invalid(path: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        SourceError {
            line,
            ..SourceError::new(path, message)
        }
    }

    pub fn line(&self) -> Option<u64> {
        self.line
    }
}

/// Reads a text file: at most [`MAX_FILE_BYTES`], UTF-8, a leading BOM dropped.
pub fn read_text(path: &Path) -> Result<String, SourceError> {
    let metadata = std::fs::metadata(path).map_err(|e| SourceError::new(path, io_message(&e)))?;
    if metadata.is_dir() {
        return Err(SourceError::new(path, "is a folder, expected a file"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(SourceError::new(
            path,
            format!(
                "is {} bytes, over the {} byte limit for a manifest or config",
                metadata.len(),
                MAX_FILE_BYTES
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| SourceError::new(path, io_message(&e)))?;
    decode(bytes, path)
}

fn decode(bytes: Vec<u8>, path: &Path) -> Result<String, SourceError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        SourceError::invalid(path, Some(line), "is not UTF-8 text")
    })?;
    if text.contains('\0') {
        return Err(SourceError::new(
            path,
            "is a binary file (it contains NUL bytes)",
        ));
    }
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

fn io_message(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

/// Writes to a temporary file beside `path`, then renames it over: an error never leaves a
/// truncated file or destroys the one that was there.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), SourceError> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(SourceError::new(path, "names no file"));
    };
    let temporary = folder.join(format!(".{}.mlcompat-tmp", name.to_string_lossy()));
    let result = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    result.map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        SourceError::new(path, format!("cannot write: {}", io_message(&error)))
    })
}

/// YAML parsing options: tight budgets, because rule files and profiles come from strangers.
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: 64,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_events: 1_000_000,
        },
    }
}

/// Parses YAML (or JSON, which the YAML parser reads with line numbers) into `T`.
pub fn parse_yaml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, SourceError> {
    serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|error| yaml_error(&error, path))
}

pub fn yaml_error(error: &serde_saphyr::Error, path: &Path) -> SourceError {
    let location = error.location();
    let message = error.without_snippet().to_string();
    // The message repeats the position at its end ("at line 4, column 3"); the prefix says it.
    let message = match message.rfind(" at line ") {
        Some(cut) if location.is_some() => message[..cut].to_string(),
        _ => message,
    };
    SourceError {
        path: path.to_path_buf(),
        line: location.map(|l| l.line()).filter(|&l| l > 0),
        column: location.map(|l| l.column()).filter(|&c| c > 0),
        message,
    }
}

/// The 1-based line of the first `key:` at the start of a line, for errors found after parsing.
pub fn line_of_key(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches(['{', '"', '\'']);
            line.strip_prefix(key).is_some_and(|rest| {
                rest.trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with(':')
            })
        })
        .map(|index| index as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_non_utf8_files_are_refused_with_a_line() {
        let err = decode(b"a\nb\n\xff\n".to_vec(), Path::new("f")).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(decode(b"a\0b".to_vec(), Path::new("f")).is_err());
    }

    #[test]
    fn a_bom_is_dropped() {
        assert_eq!(
            decode("\u{feff}x".as_bytes().to_vec(), Path::new("f")).unwrap(),
            "x"
        );
    }

    #[test]
    fn finds_the_line_of_a_key() {
        assert_eq!(
            line_of_key("a: 1\n  schema_version: 2\n", "schema_version"),
            Some(2)
        );
        assert_eq!(
            line_of_key(r#"{"schema_version": 2}"#, "schema_version"),
            Some(1)
        );
        assert_eq!(line_of_key("schema_versions: 2", "schema_version"), None);
    }
}
