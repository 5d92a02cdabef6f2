//! Reading the files mlcompat is pointed at: size-capped, UTF-8 checked, and every parse error
//! turned into one error type that names the file and, where it can, the line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::reader;

/// Manifests, configs, profiles and rule files are small; anything bigger is not one of them.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// A file that could not be read or understood. Always names the file.
#[derive(Debug, thiserror::Error)]
pub struct SourceError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, where known.
    pub line: Option<u64>,
    /// The 1-based column in characters, where known.
    pub column: Option<u64>,
    /// What is wrong.
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
    /// An error about a whole file.
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        SourceError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// An error at a line of the file.
    pub fn invalid(path: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        SourceError {
            line,
            ..SourceError::new(path, message)
        }
    }

    /// The line, where known.
    pub fn line(&self) -> Option<u64> {
        self.line
    }
}

/// Reads a text file: a regular file only (see [`crate::reader`]: a FIFO or device is refused
/// without blocking), at most [`MAX_FILE_BYTES`], UTF-8, a leading BOM dropped.
pub fn read_text(path: &Path) -> Result<String, SourceError> {
    let contents = reader::read_capped(path, MAX_FILE_BYTES, "a manifest or config")
        .map_err(|e| SourceError::new(path, e.to_string()))?;
    decode(contents.bytes, path)
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

pub(crate) fn io_message(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

/// Writes to a temporary file beside `path`, then renames it over: an error never leaves a
/// truncated file or destroys the one that was there.
///
/// The temporary file is created new (`O_CREAT|O_EXCL`), under a name no one can have planted
/// in advance: `fix --write` writes into folders of projects from strangers, and a symlink
/// waiting at a fixed temporary name would otherwise be written through to whatever it points
/// at. A symlink at `path` itself is replaced, never followed.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), SourceError> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(SourceError::new(path, "names no file"));
    };
    let cannot = |error: &std::io::Error| {
        SourceError::new(path, format!("cannot write: {}", io_message(error)))
    };
    let (temporary, mut file) =
        create_temporary(folder, &name.to_string_lossy()).map_err(|e| cannot(&e))?;
    let result = std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temporary, path)
        });
    result.map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        cannot(&error)
    })
}

/// A new, empty file `.NAME.PID-N.mlcompat-tmp` in `folder`; a name already taken (by an
/// earlier crash, or planted) is passed over, never opened.
pub(crate) fn create_temporary(
    folder: &Path,
    name: &str,
) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut attempt = 0u32;
    loop {
        let temporary = folder.join(format!(
            ".{name}.{}-{attempt}.mlcompat-tmp",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// How deep YAML/JSON may nest: a profile or rule nests about five levels, a training config
/// rarely more than ten.
const MAX_YAML_DEPTH: usize = 64;
const MAX_YAML_ALIASES: usize = 1_000;
const MAX_YAML_ANCHORS: usize = 1_000;

/// How many values (maps, lists, scalars) one file may expand to. The biggest built-in rule
/// file has about 6,000 and a training config a few hundred; a file with more is data, or an
/// alias bomb, and a cap well below the parser's default (250,000) keeps a bomb under a tenth
/// of a second and about 20 MB.
const MAX_YAML_NODES: usize = 50_000;

/// YAML parsing options: tight budgets, because rule files and profiles come from strangers.
/// The node and replayed-event caps are what stop a "billion laughs" file, whose few aliases
/// expand to 10^9 values.
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_YAML_DEPTH,
            max_aliases: MAX_YAML_ALIASES,
            max_anchors: MAX_YAML_ANCHORS,
            max_nodes: MAX_YAML_NODES,
            max_events: 4 * MAX_YAML_NODES,
            max_total_scalar_bytes: 2 * MAX_FILE_BYTES as usize,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 2 * MAX_YAML_NODES,
        },
    }
}

/// Parses YAML (or JSON, which the YAML parser reads with line numbers) into `T`.
pub fn parse_yaml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, SourceError> {
    serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|error| yaml_error(&error, path))
}

/// A YAML parser error as a SourceError with the file, line and column.
pub fn yaml_error(error: &serde_saphyr::Error, path: &Path) -> SourceError {
    let location = error.location();
    let message = match limit_message(error) {
        Some(message) => message,
        None => {
            let message = error.without_snippet().to_string();
            // The message repeats the position at its end ("at line 4, column 3", then for an
            // alias "(defined at …) (used at …)"); the prefix already says where.
            match message.find(" at line ") {
                Some(cut) if location.is_some() => message[..cut].to_string(),
                _ => message,
            }
        }
    };
    SourceError {
        path: path.to_path_buf(),
        line: location.map(|l| l.line()).filter(|&l| l > 0),
        column: location.map(|l| l.column()).filter(|&c| c > 0),
        message,
    }
}

/// The words for a file that hit one of [`yaml_options`]' budgets: the parser's own message
/// names an internal counter (`budget breached: Nodes { nodes: 250001 }`).
fn limit_message(error: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    let mut error = error;
    while let Error::WithSnippet { error: inner, .. } | Error::AliasError { error: inner, .. } =
        error
    {
        error = inner;
    }
    let bomb = "is far bigger than any manifest, profile or rule file once its aliases are \
                expanded (an alias bomb?); mlcompat stops reading it";
    Some(match error {
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => format!(
                "is nested more than {MAX_YAML_DEPTH} levels deep, the limit for a file \
                 mlcompat reads"
            ),
            BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => format!(
                "uses aliases (`*name`) more than {MAX_YAML_ALIASES} times, the limit for a \
                 file mlcompat reads"
            ),
            BudgetBreach::Anchors { .. } => format!(
                "defines more than {MAX_YAML_ANCHORS} anchors (`&name`), the limit for a file \
                 mlcompat reads"
            ),
            _ => bomb.to_string(),
        },
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => bomb.to_string(),
        // The scanner's own guard against flow collections (`[[[[…`) nested past its stack.
        other if other.to_string().starts_with("recursion limit exceeded") => format!(
            "is nested more than {MAX_YAML_DEPTH} levels deep, the limit for a file \
             mlcompat reads"
        ),
        _ => return None,
    })
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

    /// A link planted at the temporary name is passed over, never written through.
    #[cfg(unix)]
    #[test]
    fn a_planted_temporary_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let planted = dir
            .path()
            .join(format!(".out.txt.{}-0.mlcompat-tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let target = dir.path().join("out.txt");
        write_atomically(&target, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
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
