//! Where `refresh` keeps what it fetched: `MLCOMPAT_CACHE_DIR`, else the platform's cache folder,
//! then `index/`. One file per package in the snapshot's format, each written atomically.

use std::path::{Path, PathBuf};

/// The folder for index files: `$MLCOMPAT_CACHE_DIR/index`, else the platform's cache folder
/// (`$XDG_CACHE_HOME/mlcompat` or `~/.cache/mlcompat` on Linux, `~/Library/Caches/mlcompat` on
/// macOS, `%LOCALAPPDATA%\mlcompat` on Windows) with `index` under it. `None` when no home folder
/// is known.
pub fn index_dir() -> Option<PathBuf> {
    cache_root(&|key| std::env::var_os(key)).map(|root| root.join("index"))
}

/// The mlcompat cache folder, reading the environment through `var` (tests pass their own).
pub fn cache_root(var: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let set = |key: &str| var(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("MLCOMPAT_CACHE_DIR") {
        return Some(dir);
    }
    if cfg!(windows) {
        return set("LOCALAPPDATA").map(|d| d.join("mlcompat"));
    }
    if cfg!(target_os = "macos") {
        return set("HOME").map(|h| h.join("Library/Caches/mlcompat"));
    }
    set("XDG_CACHE_HOME")
        .filter(|d| d.is_absolute())
        .map(|d| d.join("mlcompat"))
        .or_else(|| set("HOME").map(|h| h.join(".cache/mlcompat")))
}

/// Whether `name` can be a PEP 503 normalized package name: lower-case ASCII letters, digits and
/// single dashes inside. Names come from projects written by strangers, and become file names
/// and URL paths: `../../x` or `a/b` must never reach either.
pub fn is_package_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The file of one package in an index folder (`torch.txt`).
pub fn package_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.txt"))
}

/// The file that says when a folder was last refreshed and from where (`_refresh.txt` or the
/// snapshot's `_snapshot.txt`; `_` cannot begin a normalized package name).
pub const REFRESH_FILE: &str = "_refresh.txt";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_normalized_names_become_file_names() {
        for good in ["torch", "nvidia-cublas-cu12", "3to2"] {
            assert!(is_package_name(good), "{good}");
        }
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "Torch",
            "-a",
            "a-",
            "a_b",
            "é",
            "_snapshot",
        ] {
            assert!(!is_package_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_cache_folder_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert_eq!(
            cache_root(&env(&[("MLCOMPAT_CACHE_DIR", "/c"), ("HOME", "/h")])),
            Some(PathBuf::from("/c"))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                cache_root(&env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
                Some(PathBuf::from("/x/mlcompat"))
            );
            assert_eq!(
                cache_root(&env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")])),
                Some(PathBuf::from("/h/.cache/mlcompat"))
            );
            assert_eq!(cache_root(&env(&[])), None);
        }
    }
}
