//! The one way mlcompat opens a file to read it: manifests, configs, profiles, rule files, and
//! the probe's interpreter and driver files alike.
//!
//! Every file mlcompat reads may come from a stranger (a cloned project, a `.python-version` in
//! a folder above it, a `VIRTUAL_ENV` that points into the project), so a read must never block,
//! never grow without bound, and never touch anything but a plain file. A FIFO blocks `open(2)`
//! until a writer appears, `/dev/zero` never ends, and opening some devices has side effects (a
//! tape rewinds on close). So the path is looked at first (`stat`, following links) and only a
//! regular file is opened, with `O_NONBLOCK` so that a file swapped for a FIFO between the look
//! and the open still cannot block; the open file is looked at again (`fstat`) and must be the
//! same regular file. Reads are capped: a size that grows past the cap while being read is
//! caught by reading one byte more than the cap.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

/// Why a file was not read. The words follow the path in a message: `x.txt: is a FIFO, …`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Nothing has that name (or a link leads nowhere).
    #[error("no such file")]
    NotFound,
    /// The file or a folder on its path may not be read by this user.
    #[error("permission denied")]
    PermissionDenied,
    /// A folder, FIFO, device or socket: mlcompat reads plain files only.
    #[error("is {0}, not a regular file, so it was not read")]
    NotRegular(&'static str),
    /// The file is bigger than the cap for its kind.
    #[error("is over the {limit} byte limit for {what}")]
    TooBig {
        /// The cap, in bytes.
        limit: u64,
        /// The kind of file the cap is for ("a manifest or config").
        what: &'static str,
    },
    /// The file changed between the look and the open (a race, or a planted swap).
    #[error("changed while it was being opened, so it was not read")]
    Changed,
    /// Any other failure of the system calls, with the system's words.
    #[error("{0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for ReadError {
    fn from(error: std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            std::io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            _ => ReadError::Io(error),
        }
    }
}

/// Identifies a file across names (hard links, symlinks): its device and inode on Unix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    /// The identity of an opened or looked-at file; `None` where the platform has none.
    pub fn of(metadata: &Metadata) -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileId {
                device: metadata.dev(),
                inode: metadata.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            None
        }
    }
}

/// A file read whole.
#[derive(Debug)]
pub struct Contents {
    /// The file's bytes, at most the cap.
    pub bytes: Vec<u8>,
    /// Its identity, for reading a file reached under several names once.
    pub id: Option<FileId>,
}

/// What a path is, in words: "a FIFO", "a character device", …; `None` for a regular file.
pub fn irregular_kind(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_char_device() {
            return Some("a character device");
        }
        if kind.is_block_device() {
            return Some("a block device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a plain file")
}

/// Opens `path` (following links) for reading when it is a regular file, without blocking.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), ReadError> {
    let looked = std::fs::metadata(path)?;
    if let Some(kind) = irregular_kind(&looked) {
        return Err(ReadError::NotRegular(kind));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: a FIFO swapped in after the look opens at once instead of waiting for a
        // writer. O_NOCTTY: a terminal swapped in never becomes the controlling terminal. On a
        // regular file neither changes how reads behave.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let opened = file.metadata()?;
    if let Some(kind) = irregular_kind(&opened) {
        return Err(ReadError::NotRegular(kind));
    }
    if FileId::of(&opened) != FileId::of(&looked) {
        return Err(ReadError::Changed);
    }
    Ok((file, opened))
}

/// Reads a regular file of at most `limit` bytes; `what` names the kind of file in the error.
pub fn read_capped(path: &Path, limit: u64, what: &'static str) -> Result<Contents, ReadError> {
    let (file, metadata) = open_regular(path)?;
    if metadata.len() > limit {
        return Err(ReadError::TooBig { limit, what });
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooBig { limit, what });
    }
    Ok(Contents {
        bytes,
        id: FileId::of(&metadata),
    })
}

/// The first `limit` bytes of a regular file, for files whose head is all that is wanted (a
/// package's METADATA header, before a long description).
pub fn read_head(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, _) = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A small text file of the machine or an interpreter (a version file, `/proc` or `/sys`
/// entry), lossily decoded: at most [`SMALL_FILE_BYTES`].
pub fn read_small_text(path: &Path) -> Result<String, ReadError> {
    let contents = read_capped(path, SMALL_FILE_BYTES, "a version or driver file")?;
    Ok(String::from_utf8_lossy(&contents.bytes).into_owned())
}

/// Version files, `pyvenv.cfg`, `torch/version.py` and kernel driver files are a few hundred
/// bytes; 64 KiB leaves room for comments and is still instant to read.
pub const SMALL_FILE_BYTES: u64 = 64 << 10;

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path and a mode.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
        assert!(matches!(
            read_capped(&fifo, 10, "x"),
            Err(ReadError::NotRegular(kind)) if kind.contains("FIFO")
        ));
    }

    #[test]
    fn a_device_and_a_folder_are_refused() {
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 10, "x"),
            Err(ReadError::NotRegular("a character device"))
        ));
        assert!(matches!(
            read_head(Path::new("/"), 10),
            Err(ReadError::NotRegular("a folder"))
        ));
    }

    #[test]
    fn the_cap_holds_and_hard_links_share_an_id() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "0123456789").unwrap();
        std::fs::hard_link(&file, dir.path().join("g")).unwrap();
        assert!(matches!(
            read_capped(&file, 9, "x"),
            Err(ReadError::TooBig { limit: 9, .. })
        ));
        let one = read_capped(&file, 10, "x").unwrap();
        let two = read_capped(&dir.path().join("g"), 10, "x").unwrap();
        assert_eq!(one.id, two.id);
        assert_eq!(read_head(&file, 3).unwrap(), b"012");
    }
}
