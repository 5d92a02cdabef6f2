//! The settings a project keeps for CI (DESIGN.md): `[tool.mlcompat]` in its `pyproject.toml`,
//! or an `mlcompat.toml` beside it (which wins, as a file made only for mlcompat says more than
//! a section of a shared one). Command-line flags win over both.
//!
//! ```toml
//! profiles = ["ci/machines/"]            # saved machines, relative to this file
//! fail-on = "warn"                       # fail | warn | unknown | never
//! ignore = [
//!     "torch-mps-backend",                               # a rule, everywhere
//!     "cuda-packages-not-on-macos:cudatoolkit",          # a rule, on one component
//!     { rule = "bitsandbytes-no-apple-gpu-backend", component = "bitsandbytes",
//!       reason = "we train on Linux; the Mac only runs the tests" },
//! ]
//! ```
//!
//! Loading is strict like profiles: an unknown key or an ignore naming no rule is an error with
//! its file and line, because a typo there would silently change what CI enforces.
//!
//! An ignored finding leaves the verdict: [`suppress`] removes it after judging, recomputes the
//! components, counts and verdict without it, and lists it under `suppressed` with its reason.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::assessment::{Assessment, Component, ComponentKind, Status, Summary, Suppressed};
use crate::source::{self, SourceError};

/// `fail-on`: the status at which `check` exits 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Exit 1 when something will not work.
    Fail,
    /// Exit 1 on warnings too.
    Warn,
    /// Exit 1 on warnings and on anything unknown.
    Unknown,
    /// Never exit 1.
    Never,
}

/// One `ignore` entry: a rule, optionally only on one component, optionally with a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignore {
    /// The rule's id.
    pub rule: String,
    /// Only this component's findings of the rule; all of them when absent.
    pub component: Option<String>,
    /// Why, as the config says it (shown with the suppressed finding).
    pub reason: Option<String>,
    /// The config line of the entry, for errors about it.
    pub line: Option<u64>,
}

/// A project's mlcompat settings and the file they came from.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file read (`mlcompat.toml` or `pyproject.toml`); `None` when there is none.
    pub file: Option<PathBuf>,
    /// Saved profiles (files or folders), resolved against the config file's folder.
    pub profiles: Vec<PathBuf>,
    /// `fail-on`, when the file says it.
    pub fail_on: Option<FailOn>,
    /// The findings to leave out of the verdict.
    pub ignore: Vec<Ignore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default, rename = "fail-on")]
    fail_on: Option<FailOn>,
    #[serde(default)]
    ignore: Vec<toml::Spanned<RawIgnore>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawIgnore {
    Id(String),
    Entry(RawEntry),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rule: String,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct Pyproject {
    #[serde(default)]
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(default)]
    mlcompat: Option<Raw>,
}

impl Config {
    /// The config of the project at `path` (a folder, or a file whose folder is the project):
    /// `mlcompat.toml` if there is one, else `[tool.mlcompat]` of `pyproject.toml`, else none.
    pub fn discover(path: &Path) -> Result<Config, SourceError> {
        let folder = if path.is_file() {
            path.parent().unwrap_or(Path::new("."))
        } else {
            path
        };
        let own = folder.join("mlcompat.toml");
        if own.is_file() {
            return Config::load(&own);
        }
        let pyproject = folder.join("pyproject.toml");
        if pyproject.is_file() {
            return Config::load(&pyproject);
        }
        Ok(Config::default())
    }

    /// Reads `file`: a `pyproject.toml` (its `[tool.mlcompat]` table) or an mlcompat.toml.
    pub fn load(file: &Path) -> Result<Config, SourceError> {
        let text = source::read_text(file)?;
        let is_pyproject = file.file_name().is_some_and(|n| n == "pyproject.toml");
        let raw = if is_pyproject {
            // A pyproject.toml that is not TOML is the project scanner's to report, with the
            // project's own words; it has no settings for mlcompat.
            let Ok(table) = toml::from_str::<toml::Table>(&text) else {
                return Ok(Config::default());
            };
            let has_section = table.get("tool").and_then(|t| t.get("mlcompat")).is_some();
            if !has_section {
                return Ok(Config::default());
            }
            let parsed: Pyproject =
                toml::from_str(&text).map_err(|e| toml_error(&e, &text, file))?;
            parsed.tool.and_then(|t| t.mlcompat)
        } else {
            Some(toml::from_str::<Raw>(&text).map_err(|e| toml_error(&e, &text, file))?)
        };
        let Some(raw) = raw else {
            return Ok(Config::default());
        };
        let base = file.parent().unwrap_or(Path::new("."));
        let mut ignore = Vec::new();
        for entry in raw.ignore {
            let line = Some(line_of(&text, entry.span().start));
            let entry = match entry.into_inner() {
                RawIgnore::Id(id) => match id.split_once(':') {
                    Some((rule, component)) => Ignore {
                        rule: rule.trim().to_string(),
                        component: Some(component.trim().to_string()),
                        reason: None,
                        line,
                    },
                    None => Ignore {
                        rule: id.trim().to_string(),
                        component: None,
                        reason: None,
                        line,
                    },
                },
                RawIgnore::Entry(entry) => Ignore {
                    rule: entry.rule,
                    component: entry.component,
                    reason: entry.reason,
                    line,
                },
            };
            if entry.rule.is_empty() {
                return Err(SourceError::invalid(
                    file,
                    line,
                    "an ignore entry names no rule: write \"rule-id\", \"rule-id:component\" or { rule = \"rule-id\", reason = \"...\" }",
                ));
            }
            ignore.push(entry);
        }
        Ok(Config {
            file: Some(file.to_path_buf()),
            profiles: raw.profiles.iter().map(|p| base.join(p)).collect(),
            fail_on: raw.fail_on,
            ignore,
        })
    }

    /// Every ignore entry must name a rule the catalogue has: an entry for a misspelt or removed
    /// rule would silence nothing, and CI would enforce what the team thought it had waived.
    pub fn check_rules(&self, known: impl Fn(&str) -> bool) -> Result<(), SourceError> {
        let file = self.file.clone().unwrap_or_default();
        for entry in &self.ignore {
            if !known(&entry.rule) {
                return Err(SourceError::invalid(
                    &file,
                    entry.line,
                    format!(
                        "ignore: no rule has the id `{}` (`mlcompat rules list` shows them)",
                        entry.rule
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The ignore entry that covers a finding of `rule` on `component`, if any.
    fn ignoring(&self, rule: &str, component: &str) -> Option<&Ignore> {
        self.ignore.iter().find(|i| {
            i.rule == rule
                && i.component.as_deref().is_none_or(|c| {
                    crate::names::normalize(c) == crate::names::normalize(component)
                        || c == component
                })
        })
    }
}

/// Removes the findings `config` ignores from `assessment` and judges again without them: each
/// touched component takes its worst remaining finding (a component left with none is dropped,
/// as nothing judges it any more), then the counts and the verdict are recomputed, the changes
/// only a suppressed rule called for are dropped, and so are the recommendations only suppressed
/// findings made worth showing. `recommends` gives a rule's recommendation ids.
pub fn suppress(
    assessment: &mut Assessment,
    config: &Config,
    recommends: impl Fn(&str) -> Vec<String>,
    fold: &Fold,
) {
    if config.ignore.is_empty() {
        return;
    }
    let mut touched = BTreeSet::new();
    let mut kept = Vec::new();
    for finding in std::mem::take(&mut assessment.findings) {
        match config.ignoring(&finding.rule, &finding.component) {
            Some(entry) => {
                touched.insert(finding.component.clone());
                assessment.suppressed.push(Suppressed {
                    reason: entry.reason.clone(),
                    finding,
                });
            }
            None => kept.push(finding),
        }
    }
    assessment.findings = kept;
    if touched.is_empty() {
        return;
    }
    let findings = &assessment.findings;
    assessment.components.retain_mut(|component| {
        if !touched.contains(&component.name) {
            return true;
        }
        let mut worst: Option<&crate::assessment::Finding> = None;
        for finding in findings.iter().filter(|f| f.component == component.name) {
            if worst.is_none_or(|w| finding.status > w.status) {
                worst = Some(finding);
            }
        }
        match worst {
            Some(finding) => {
                component.status = finding.status;
                component.summary = finding.summary.clone();
                if component.kind != ComponentKind::Package {
                    component.evidence = finding.evidence.clone();
                }
                true
            }
            None => false,
        }
    });
    // The engine's own fold, so a waiver cannot judge differently from the engine.
    assessment.summary = (fold.summary)(&assessment.components);
    assessment.verdict = (fold.verdict)(&assessment.components);
    let live: BTreeSet<&str> = assessment
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    assessment
        .changes
        .retain(|change| live.contains(change.rule.as_str()));
    let wanted: BTreeSet<String> = assessment
        .findings
        .iter()
        .filter(|f| f.status >= Status::Warn)
        .flat_map(|f| recommends(&f.rule))
        .collect();
    assessment
        .recommendations
        .retain(|r| wanted.contains(&r.id));
}

/// The engine's fold of components into counts and a verdict (rules::summary, rules::verdict),
/// passed in because settings sit below the rules engine.
pub struct Fold {
    /// Counts by status.
    pub summary: fn(&[Component]) -> Summary,
    /// The verdict of the components.
    pub verdict: fn(&[Component]) -> Status,
}

/// `file:line:column: message` for a TOML error, the line and column counted in characters.
fn toml_error(error: &toml::de::Error, text: &str, file: &Path) -> SourceError {
    let (line, column) = match error.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            let start = text[..span.start.min(text.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let column = text
                .get(start..span.start.min(text.len()))
                .map_or(0, |s| s.chars().count())
                + 1;
            (Some(line), Some(column as u64))
        }
        None => (None, None),
    };
    SourceError {
        line,
        column,
        ..SourceError::new(file, error.message().trim().to_string())
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<Config, SourceError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    }

    #[test]
    fn reads_every_shape_of_ignore() {
        let config = load(
            "mlcompat.toml",
            "fail-on = \"warn\"\nprofiles = [\"m.yaml\"]\nignore = [\n  \"a\",\n  \"b:torch\",\n  { rule = \"c\", component = \"x\", reason = \"why\" },\n]\n",
        )
        .unwrap();
        assert_eq!(config.fail_on, Some(FailOn::Warn));
        assert!(config.profiles[0].ends_with("m.yaml"));
        let shapes: Vec<_> = config
            .ignore
            .iter()
            .map(|i| {
                (
                    i.rule.as_str(),
                    i.component.as_deref(),
                    i.reason.as_deref(),
                    i.line,
                )
            })
            .collect();
        assert_eq!(
            shapes,
            [
                ("a", None, None, Some(4)),
                ("b", Some("torch"), None, Some(5)),
                ("c", Some("x"), Some("why"), Some(6)),
            ]
        );
    }

    #[test]
    fn fail_on_takes_every_level_check_knows() {
        for (word, level) in [
            ("fail", FailOn::Fail),
            ("warn", FailOn::Warn),
            ("unknown", FailOn::Unknown),
            ("never", FailOn::Never),
        ] {
            let config = load("mlcompat.toml", &format!("fail-on = \"{word}\"\n")).unwrap();
            assert_eq!(config.fail_on, Some(level));
        }
        assert!(load("mlcompat.toml", "fail-on = \"sometimes\"\n").is_err());
    }

    #[test]
    fn an_unknown_key_names_its_file_and_line() {
        let err = load("mlcompat.toml", "fail-on = \"warn\"\nfail_on = \"never\"\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.to_string().contains("fail_on"), "{err}");
        let err = load(
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.mlcompat]\nignores = [\"a\"]\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(5), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("{}", err.path.display()))
        );
    }

    #[test]
    fn a_pyproject_without_the_section_or_that_is_not_toml_has_no_settings() {
        assert!(
            load("pyproject.toml", "[project]\nname = \"x\"\n")
                .unwrap()
                .file
                .is_none()
        );
        assert!(load("pyproject.toml", "[project\n").unwrap().file.is_none());
    }

    #[test]
    fn an_ignore_naming_no_known_rule_is_an_error_at_its_line() {
        let config = load("mlcompat.toml", "ignore = [\n  \"real\",\n  \"typo\",\n]\n").unwrap();
        let err = config.check_rules(|id| id == "real").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("typo"));
    }
}
