//! Putting new files in place: whole (written to a temporary file first), never over a file
//! someone else put there in the meantime (unless replacing was asked for), and all of a set
//! or none of it.
//!
//! `fix --write` writes several files into a stranger's project, and two runs in one folder
//! used to both succeed, one silently replacing the other's files; a failure part-way left the
//! earlier files written. Here every file is staged as a temporary file first, then published
//! with `link(2)`, which fails with EEXIST when anything (even a dangling link) has the name:
//! the check and the creation are one step, so no race can slip between them. When a later
//! file fails, the ones already published are taken back.

use std::path::{Path, PathBuf};

use crate::reader::FileId;
use crate::source::{SourceError, create_temporary, io_message};

/// One file to publish: where, and its text.
pub struct NewFile<'a> {
    /// Where the file goes.
    pub path: PathBuf,
    /// What it holds.
    pub text: &'a str,
}

/// What publishing one file did, so that it can be undone.
struct Published {
    path: PathBuf,
    /// The staged file: the same inode as `path` once linked (gone once renamed), removed at
    /// the end.
    temporary: PathBuf,
    id: Option<FileId>,
    /// The file that was replaced (`replace`), kept under a temporary name until all is done.
    backup: Option<PathBuf>,
}

/// Writes every file or none. Without `replace`, a name that exists (a file, a folder, a link,
/// dangling or not) is an error, "already exists; use --force"; with it, existing files are
/// replaced whole and put back if a later file fails.
pub fn all_or_none(files: &[NewFile<'_>], replace: bool) -> Result<(), SourceError> {
    let mut done: Vec<Published> = Vec::new();
    for file in files {
        match publish(file, replace) {
            Ok(published) => done.push(published),
            Err(error) => {
                for published in done.iter().rev() {
                    undo(published);
                }
                return Err(error);
            }
        }
    }
    for published in &done {
        let _ = std::fs::remove_file(&published.temporary);
        if let Some(backup) = &published.backup {
            let _ = std::fs::remove_file(backup);
        }
    }
    Ok(())
}

/// Writes one new file; a name that exists is an error whatever it is.
pub fn write_new(path: &Path, text: &str) -> Result<(), SourceError> {
    all_or_none(
        &[NewFile {
            path: path.to_path_buf(),
            text,
        }],
        false,
    )
}

/// Writes a file the user named (`probe -o FILE`): a new path, or with `replace` an existing
/// regular file, replaced whole. Anything else is refused before a byte is written: a FIFO, a
/// device or `/dev/stdout` would be replaced by the rename (as root, a device node), and a
/// link would be replaced instead of the file it names.
pub fn write_file(path: &Path, text: &str, replace: bool) -> Result<(), SourceError> {
    let refuse = |what: &str| {
        SourceError::new(
            path,
            format!(
                "cannot write: it is {what}; mlcompat writes only a regular file or a new path \
                 (or - for stdout)"
            ),
        )
    };
    match std::fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => write_new(path, text),
        Err(error) => Err(SourceError::new(
            path,
            format!("cannot write: {}", io_message(&error)),
        )),
        Ok(metadata) if metadata.file_type().is_symlink() => {
            Err(refuse("a symbolic link (name the file it points to)"))
        }
        Ok(metadata) => match crate::reader::irregular_kind(&metadata) {
            Some(kind) => Err(refuse(kind)),
            None if !replace => Err(SourceError::new(
                path,
                "already exists; use --force to replace it",
            )),
            None => crate::source::write_atomically(path, text),
        },
    }
}

fn publish(file: &NewFile<'_>, replace: bool) -> Result<Published, SourceError> {
    let path = &file.path;
    let cannot = |error: &std::io::Error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            SourceError::new(path, "already exists; use --force to replace it")
        } else {
            SourceError::new(path, format!("cannot write: {}", io_message(error)))
        }
    };
    let (temporary, id) = stage(path, file.text).map_err(|e| cannot(&e))?;
    let mut published = Published {
        path: path.clone(),
        temporary,
        id,
        backup: None,
    };
    let result = if replace {
        // rename(2) replaces whatever is at the name in one step; the backup is what undo
        // puts back.
        keep_backup(&mut published).and_then(|()| std::fs::rename(&published.temporary, path))
    } else {
        match std::fs::hard_link(&published.temporary, path) {
            Err(error) if links_unsupported(&error) => copy_new(&mut published, file.text),
            linked => linked,
        }
    };
    match result {
        Ok(()) => Ok(published),
        Err(error) => {
            undo(&published);
            Err(cannot(&error))
        }
    }
}

/// Whether an error from `link(2)` means the file system has no hard links (FAT, exFAT, some
/// network shares), rather than that the name is taken or the folder is not writable.
fn links_unsupported(error: &std::io::Error) -> bool {
    if error.kind() == std::io::ErrorKind::Unsupported {
        return true;
    }
    #[cfg(unix)]
    {
        matches!(
            error.raw_os_error(),
            Some(libc::EPERM | libc::EOPNOTSUPP | libc::EXDEV | libc::EMLINK)
        )
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// The portable way to publish without replacing, where hard links are missing: create the
/// name new (`O_CREAT|O_EXCL`, which fails when anything, a dangling link too, has it) and
/// write the text into it. Not atomic for readers, but it never replaces; undo removes it by
/// its identity as before.
fn copy_new(published: &mut Published, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&published.path)?;
    published.id = file.metadata().ok().and_then(|m| FileId::of(&m));
    std::io::Write::write_all(&mut file, text.as_bytes()).and_then(|()| file.sync_all())
}

/// Writes `text` to a new temporary file beside `path`, synced, and returns its identity.
fn stage(path: &Path, text: &str) -> std::io::Result<(PathBuf, Option<FileId>)> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned());
    let (temporary, mut file) = create_temporary(folder, &name)?;
    let written = std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| file.metadata());
    match written {
        Ok(metadata) => Ok((temporary, FileId::of(&metadata))),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// Keeps what is at the name (a file or a link) under a temporary name, to put back on undo.
fn keep_backup(published: &mut Published) -> std::io::Result<()> {
    match std::fs::symlink_metadata(&published.path) {
        Err(_) => return Ok(()),
        // --force replaces files, never a folder (whose link(2) fails with the same EPERM
        // as a file system without hard links).
        Ok(metadata) if metadata.is_dir() => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "it is a folder",
            ));
        }
        Ok(_) => {}
    }
    let backup = published.temporary.with_extension("mlcompat-old");
    match std::fs::hard_link(&published.path, &backup) {
        // Without hard links the old file is moved aside instead: the name is empty until the
        // new file is renamed in, which only --force asks for.
        Err(error) if links_unsupported(&error) => std::fs::rename(&published.path, &backup)?,
        linked => linked?,
    }
    published.backup = Some(backup);
    Ok(())
}

/// Takes back one published file: only when the name still holds the file this run wrote
/// (another run's file is left alone), putting back what it replaced.
fn undo(published: &Published) {
    let ours = std::fs::symlink_metadata(&published.path)
        .ok()
        .and_then(|m| FileId::of(&m))
        .is_some_and(|id| Some(id) == published.id);
    match &published.backup {
        Some(backup) => {
            if ours || std::fs::symlink_metadata(&published.path).is_err() {
                let _ = std::fs::rename(backup, &published.path);
            } else {
                let _ = std::fs::remove_file(backup);
            }
        }
        None if ours => {
            let _ = std::fs::remove_file(&published.path);
        }
        None => {}
    }
    let _ = std::fs::remove_file(&published.temporary);
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_existing_name_is_never_replaced_without_asking() {
        let dir = tempfile::tempdir().unwrap();
        let dangling = dir.path().join("b");
        std::os::unix::fs::symlink("nowhere", &dangling).unwrap();
        let files = [
            NewFile {
                path: dir.path().join("a"),
                text: "new a",
            },
            NewFile {
                path: dangling.clone(),
                text: "new b",
            },
        ];
        let error = all_or_none(&files, false).unwrap_err();
        assert!(error.to_string().contains("b: already exists; use --force"));
        // All or none: `a`, published first, is taken back; nothing temporary is left.
        assert_eq!(names(dir.path()), vec!["b"]);
        assert!(dangling.is_symlink());
    }

    /// The fallback for file systems without hard links never replaces either.
    #[test]
    fn the_copy_fallback_creates_only_new_names() {
        let dir = tempfile::tempdir().unwrap();
        let dangling = dir.path().join("link");
        std::os::unix::fs::symlink("nowhere", &dangling).unwrap();
        let published = |path: PathBuf| Published {
            path,
            temporary: dir.path().join("unused"),
            id: None,
            backup: None,
        };
        let mut taken = published(dangling.clone());
        let error = copy_new(&mut taken, "x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(
            !dir.path().join("nowhere").exists(),
            "never written through"
        );
        let mut fresh = published(dir.path().join("new"));
        copy_new(&mut fresh, "text").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("new")).unwrap(),
            "text"
        );
        assert!(fresh.id.is_some());
        undo(&fresh);
        assert!(
            !dir.path().join("new").exists(),
            "undo removes what it wrote"
        );
    }

    #[test]
    fn a_failure_puts_back_what_was_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "old a").unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("b/inside"), "keep").unwrap();
        let files = [
            NewFile {
                path: dir.path().join("a"),
                text: "new a",
            },
            NewFile {
                path: dir.path().join("b"),
                text: "new b",
            },
        ];
        assert!(all_or_none(&files, true).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a")).unwrap(),
            "old a"
        );
        assert_eq!(names(dir.path()), vec!["a", "b"]);
        all_or_none(&files[..1], true).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a")).unwrap(),
            "new a"
        );
        assert_eq!(names(dir.path()), vec!["a", "b"]);
    }
}
