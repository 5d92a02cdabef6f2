//! What `check` knows about packages from the index: the snapshot compiled into the binary, and
//! newer files from `refresh`'s cache where there are any. Never touches the network; parses
//! only the packages asked for, when asked (nothing at start-up).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pep440_rs::VersionSpecifiers;

use super::cache;
use super::format;
use super::install::{self, Choice};
use super::package::Package;
use super::target::Target;
use crate::source;

/// The snapshot files' stems, end to end (see build.rs's `embed_index_snapshot`).
const SNAPSHOT_NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/snapshot_names.txt"));
/// Their texts, end to end.
const SNAPSHOT_TEXTS: &str = include_str!(concat!(env!("OUT_DIR"), "/snapshot_texts.txt"));
/// A byte range of one of the texts above.
type Span = (usize, usize);
/// The snapshot files, `(stem, text)` as byte ranges of the two texts above, sorted by stem.
const SNAPSHOT: &[(Span, Span)] = include!(concat!(env!("OUT_DIR"), "/index_snapshot.rs"));

/// The stem of a snapshot entry.
fn snapshot_name(&((start, end), _): &(Span, Span)) -> &'static str {
    SNAPSHOT_NAMES.get(start..end).unwrap_or_default()
}

/// The stem of the file describing the snapshot as a whole (`as-of`, `source`, counts).
const SNAPSHOT_FILE: &str = "_snapshot";

/// The built-in snapshot's text for a normalized package name, found by binary search.
fn snapshot_text(stem: &str) -> Option<&'static str> {
    let at = SNAPSHOT
        .binary_search_by(|entry| snapshot_name(entry).cmp(stem))
        .ok()?;
    let (_, (start, end)) = SNAPSHOT[at];
    SNAPSHOT_TEXTS.get(start..end)
}

/// The value `memo` holds for `key`, computed and kept the first time.
fn remembered<K: std::hash::Hash + Eq, V: Clone>(
    memo: &Mutex<std::collections::HashMap<K, V>>,
    key: K,
    compute: impl FnOnce() -> V,
) -> V {
    if let Some(known) = memo.lock().ok().and_then(|memo| memo.get(&key).cloned()) {
        return known;
    }
    let value = compute();
    if let Ok(mut memo) = memo.lock() {
        memo.insert(key, value.clone());
    }
    value
}

/// A `key value` line of a summary file (`as-of 2026-12-02`).
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
        .map(str::trim)
}

/// The day the built-in snapshot was taken (`YYYY-MM-DD`).
pub fn snapshot_as_of() -> Option<&'static str> {
    snapshot_text(SNAPSHOT_FILE).and_then(|text| field(text, "as-of"))
}

/// How many packages the built-in snapshot knows.
pub fn snapshot_len() -> usize {
    SNAPSHOT
        .iter()
        .filter(|entry| !snapshot_name(entry).starts_with('_'))
        .count()
}

/// Package knowledge for one run of `check`: the snapshot, overlaid by a cache folder.
pub struct Knowledge {
    cache: Option<PathBuf>,
    /// The as-of dates of the packages looked up, for [`Knowledge::index_as_of`].
    used: Mutex<BTreeSet<String>>,
    /// Whether a package looked up came from the cache, for [`Knowledge::source`].
    from_cache: Mutex<bool>,
    /// Packages already read, by normalized name: `check` asks for a package once to judge it,
    /// again to follow what it pulls in, and once per machine of a fleet.
    read: Mutex<std::collections::HashMap<String, Option<std::sync::Arc<Package>>>>,
    notes: Mutex<Vec<String>>,
    /// Installer choices already made, by package (source and name), wanted versions and
    /// target: the machines of a fleet mostly share a Python and a platform.
    choices: Mutex<std::collections::HashMap<ChoiceKey, Choice>>,
}

/// What an installer's choice depends on: the package (its index and name), the versions
/// wanted, the target.
type ChoiceKey = (String, String, String, Target);

impl Default for Knowledge {
    /// The snapshot alone: what a catalogue built for tests and `rules test` judges with, so
    /// their answers do not depend on what the user's cache holds.
    fn default() -> Knowledge {
        Knowledge::builtin()
    }
}

impl std::fmt::Debug for Knowledge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Knowledge")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Knowledge {
    /// Where the knowledge comes from, as the report says it: `"cache"` when any package looked
    /// up so far was read from `refresh`'s cache, else `"built-in snapshot"`.
    pub fn source(&self) -> &'static str {
        if self.from_cache.lock().map(|c| *c).unwrap_or(false) {
            "cache"
        } else {
            "built-in snapshot"
        }
    }

    /// The snapshot alone.
    pub fn builtin() -> Knowledge {
        Knowledge::with_cache(None)
    }

    /// The snapshot, overlaid by the cache folder `refresh` writes (see [`cache::index_dir`]).
    pub fn from_environment() -> Knowledge {
        Knowledge::with_cache(cache::index_dir())
    }

    /// The snapshot, overlaid by the index files in `dir` where they are newer.
    pub fn with_cache(dir: Option<PathBuf>) -> Knowledge {
        Knowledge {
            cache: dir,
            used: Mutex::new(BTreeSet::new()),
            from_cache: Mutex::new(false),
            read: Mutex::new(std::collections::HashMap::new()),
            notes: Mutex::new(Vec::new()),
            choices: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// What the index says about `name` (any spelling; it is normalized): the cache's file when
    /// it is at least as new as the snapshot's, else the snapshot's. `None` when neither knows
    /// it. A broken cache file is passed over with a note.
    pub fn package(&self, name: &str) -> Option<std::sync::Arc<Package>> {
        let name = crate::names::normalize(name);
        remembered(&self.read, name.clone(), || {
            self.read_package(&name).map(std::sync::Arc::new)
        })
    }

    /// [`install::choose`], remembered for the run: the same package, versions and target give
    /// the same choice.
    pub fn choose(
        &self,
        package: &Package,
        wanted: Option<&VersionSpecifiers>,
        target: &Target,
    ) -> Choice {
        let key = (
            package.source.clone(),
            package.name.clone(),
            wanted.map(ToString::to_string).unwrap_or_default(),
            target.clone(),
        );
        remembered(&self.choices, key, || {
            install::choose(package, wanted, target)
        })
    }

    fn read_package(&self, name: &str) -> Option<Package> {
        let name = name.to_string();
        if !cache::is_package_name(&name) {
            return None;
        }
        let builtin = snapshot_text(&name).and_then(|text| format::read(text).ok());
        let cached = self
            .cache
            .as_deref()
            .and_then(|dir| self.cached(dir, &name));
        let (chosen, cache_won) = match (builtin, cached) {
            (Some(b), Some(c)) if c.as_of >= b.as_of => (Some(c), true),
            (Some(b), _) => (Some(b), false),
            (None, c) => {
                let found = c.is_some();
                (c, found)
            }
        };
        if cache_won && let Ok(mut from_cache) = self.from_cache.lock() {
            *from_cache = true;
        }
        if let Some(package) = &chosen
            && let Ok(mut used) = self.used.lock()
        {
            used.insert(package.as_of.clone());
        }
        chosen
    }

    fn cached(&self, dir: &Path, name: &str) -> Option<Package> {
        let path = cache::package_file(dir, name);
        if !path.is_file() {
            return None;
        }
        let parsed = source::read_text(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                format::read(&text)
                    .map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.message))
            });
        match parsed {
            Ok(package) if package.name == name => Some(package),
            Ok(_) => {
                self.note(format!(
                    "{}: names another package; ignored",
                    path.display()
                ));
                None
            }
            Err(message) => {
                self.note(format!(
                    "{message}; the built-in snapshot is used instead (run `mlcompat refresh`)"
                ));
                None
            }
        }
    }

    fn note(&self, note: String) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.push(note);
        }
    }

    /// How old the knowledge used so far is (`YYYY-MM-DD`): the oldest date among the packages
    /// looked up; before any lookup, the newer of the snapshot's date and the cache's last refresh.
    pub fn index_as_of(&self) -> Option<String> {
        if let Some(oldest) = self.used.lock().ok().and_then(|u| u.first().cloned()) {
            return Some(oldest);
        }
        let refreshed = self.cache.as_deref().and_then(|dir| {
            let text = source::read_text(&dir.join(cache::REFRESH_FILE)).ok()?;
            field(&text, "as-of")
                .filter(|d| format::is_date(d))
                .map(str::to_string)
        });
        match (snapshot_as_of().map(str::to_string), refreshed) {
            (Some(s), Some(r)) => Some(s.max(r)),
            (s, r) => s.or(r),
        }
    }

    /// What went wrong reading the cache, for the report's notes.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().map(|n| n.clone()).unwrap_or_default()
    }
}
