//! How much of a project one run reads, all files together.
//!
//! Each file is capped on its own and the walk stops after a fixed number of entries, but a
//! project can still hold thousands of capped files (2,000 hard links to one 1 MB config took
//! 21 s). The budget bounds the total, so any project is judged in about a second: past it,
//! files are skipped with one note. A file reached under several names (hard links, or a link
//! and its target) is read once, by its device and inode.

use std::collections::BTreeSet;
use std::fs::Metadata;

use crate::reader::FileId;

/// The most bytes one run reads from a project. Real projects' manifests and configs come to
/// well under 1 MiB together; parsing YAML costs about 45 ms a MiB in a release build, so 16
/// MiB is under a second (64 MiB measured 3 s).
pub const MAX_TOTAL_BYTES: u64 = 16 << 20;
/// The most files one run reads from a project. Real ones have tens to a few hundred (a folder
/// of example recipes); each config is judged as a recipe of its own, about 1 ms apiece, so
/// 1,000 is about a second (5,000 measured 9 s).
pub const MAX_FILES: usize = 1_000;
/// How many names of skipped duplicates the note lists.
const NAMED_DUPLICATES: usize = 5;

/// What is left to read, and what was read already.
#[derive(Clone, Debug)]
pub struct Budget {
    bytes_left: u64,
    files_left: usize,
    seen: BTreeSet<FileId>,
    spent_noted: bool,
    duplicates: Vec<String>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            bytes_left: MAX_TOTAL_BYTES,
            files_left: MAX_FILES,
            seen: BTreeSet::new(),
            spent_noted: false,
            duplicates: Vec::new(),
        }
    }
}

impl Budget {
    /// Whether the file `relative` (looked at as `metadata`) may be read: not when it is another
    /// name of a file already read, nor once the budget is spent (noted once, in `notes`).
    pub fn admit(&mut self, metadata: &Metadata, relative: &str, notes: &mut Vec<String>) -> bool {
        if let Some(id) = FileId::of(metadata)
            && self.seen.contains(&id)
        {
            self.duplicates.push(relative.to_string());
            return false;
        }
        self.charge(metadata, relative, notes)
    }

    /// Counts a file against the budget without refusing a second name of it (an include that
    /// its reader already knows how to read once per use).
    pub fn charge(&mut self, metadata: &Metadata, relative: &str, notes: &mut Vec<String>) -> bool {
        let size = metadata.len();
        if self.files_left == 0 || size > self.bytes_left {
            if !self.spent_noted {
                self.spent_noted = true;
                notes.push(format!(
                    "{relative} and the files after it were not read: one run reads at most \
                     {MAX_FILES} files and {} MiB of a project",
                    MAX_TOTAL_BYTES >> 20
                ));
            }
            return false;
        }
        self.files_left -= 1;
        self.bytes_left -= size;
        if let Some(id) = FileId::of(metadata) {
            self.seen.insert(id);
        }
        true
    }

    /// The one note for every duplicate skipped, if any was. The set of files read is dropped:
    /// the project is cloned once per config judged, and the scan is over.
    pub fn finish(&mut self, notes: &mut Vec<String>) {
        self.seen = BTreeSet::new();
        let count = self.duplicates.len();
        if count == 0 {
            return;
        }
        let mut names = self.duplicates[..count.min(NAMED_DUPLICATES)].join(", ");
        if count > NAMED_DUPLICATES {
            names.push_str(", …");
        }
        notes.push(format!(
            "{count} file(s) are other names (hard or symbolic links) of files already read, \
             so they were read once: {names}"
        ));
        self.duplicates.clear();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_second_name_is_refused_and_the_total_holds() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a");
        std::fs::write(&file, "x").unwrap();
        std::fs::hard_link(&file, dir.path().join("b")).unwrap();
        let metadata = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap();
        let mut budget = Budget::default();
        let mut notes = Vec::new();
        assert!(budget.admit(&metadata("a"), "a", &mut notes));
        assert!(!budget.admit(&metadata("b"), "b", &mut notes));
        budget.finish(&mut notes);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains(": b"), "{notes:?}");

        let mut budget = Budget {
            files_left: 1,
            ..Budget::default()
        };
        std::fs::write(dir.path().join("c"), "y").unwrap();
        let mut notes = Vec::new();
        assert!(budget.admit(&metadata("a"), "a", &mut notes));
        assert!(!budget.admit(&metadata("c"), "c", &mut notes));
        assert!(!budget.admit(&metadata("c"), "c", &mut notes));
        assert_eq!(notes.len(), 1, "one note for every file past the budget");
    }
}
