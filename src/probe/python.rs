//! The Python interpreter the project will use: `--python`, then `VIRTUAL_ENV`, then
//! `CONDA_PREFIX`, then `python3` on PATH. Its version is read from disk where a file says it
//! (a venv's pyvenv.cfg), else from `python --version`, which imports nothing.

use std::path::{Path, PathBuf};

use super::exec;
use crate::profile::Python;

pub fn probe(explicit: Option<&Path>, notes: &mut Vec<String>) -> Option<Python> {
    let executable = explicit
        .map(Path::to_path_buf)
        .or_else(|| env_interpreter("VIRTUAL_ENV"))
        .or_else(|| env_interpreter("CONDA_PREFIX"))
        .or_else(|| on_path("python3"))?;
    let version =
        pyvenv_version(&executable).or_else(|| match exec::run(&executable, &["--version"]) {
            Ok(output) => parse_version(&output),
            Err(error) => {
                notes.push(format!("Python version unknown: {error}"));
                None
            }
        });
    Some(Python {
        version,
        executable: Some(executable.display().to_string()),
        packages: Default::default(),
    })
}

fn env_interpreter(variable: &str) -> Option<PathBuf> {
    let prefix = std::env::var_os(variable)?;
    let prefix = Path::new(&prefix);
    ["bin/python3", "bin/python", "python.exe"]
        .iter()
        .map(|name| prefix.join(name))
        .find(|path| path.is_file())
}

/// The first `name` on PATH, skipping relative entries (`.` must never run a project's python).
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A venv's `pyvenv.cfg` states its version (`version = 3.11.7` or `version_info = 3.11.7.final.0`).
fn pyvenv_version(executable: &Path) -> Option<String> {
    let cfg = executable.parent()?.parent()?.join("pyvenv.cfg");
    let text = std::fs::read_to_string(cfg).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        matches!(key.trim(), "version" | "version_info")
            .then(|| {
                value
                    .trim()
                    .split('.')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .filter(|v| !v.is_empty())
    })
}

/// `Python 3.11.7` → `3.11.7`.
pub fn parse_version(output: &str) -> Option<String> {
    let version = output.trim().strip_prefix("Python ")?.trim();
    version
        .split('.')
        .all(|part| !part.is_empty() && part.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn reads_the_version_line() {
        assert_eq!(parse_version("Python 3.13.5\n").as_deref(), Some("3.13.5"));
        assert_eq!(
            parse_version("Python 3.14.0rc1").as_deref(),
            Some("3.14.0rc1")
        );
        assert_eq!(parse_version("garbage"), None);
    }
}
