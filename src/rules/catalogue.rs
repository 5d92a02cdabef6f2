//! Loading rule files: the built-in set compiled into the binary, plus `--rules` files, checked
//! (duplicate ids, unknown recommendations, missing sources or tests) with `file:line`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::memory::MemoryModel;
use super::model::Rule;
use crate::source::{self, SourceError};

/// The built-in rule files, `(name, text)`, from `rules/*.yaml` (see build.rs).
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// One rule file. Every key is optional so data can be split by topic.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<Spanned<Rule>>,
    /// Other names a package goes by (conda's `pytorch` is pip's `torch`).
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    #[serde(default)]
    recommendations: Vec<Spanned<Recommendation>>,
    #[serde(default)]
    memory_model: Option<MemoryModel>,
}

/// An option the report may offer, in the founding assessment's shape.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    pub id: String,
    pub title: String,
    pub best_for: String,
    #[serde(default)]
    pub steps: Vec<String>,
    #[serde(default)]
    pub pros: Vec<String>,
    #[serde(default)]
    pub cons: Vec<String>,
}

/// A rule with the file and line it was written at.
#[derive(Clone, Debug)]
pub struct LoadedRule {
    pub rule: Rule,
    pub file: String,
    pub line: u64,
}

/// Everything the engine knows.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    pub rules: Vec<LoadedRule>,
    pub aliases: BTreeMap<String, String>,
    pub recommendations: Vec<Recommendation>,
    pub memory_model: Option<MemoryModel>,
}

/// A problem found by `lint` that does not stop the catalogue from loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintIssue {
    pub file: String,
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LintIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl Catalogue {
    /// The built-in rules, then the files and folders given with `--rules`.
    pub fn load(extra: &[PathBuf]) -> Result<Catalogue, SourceError> {
        let mut catalogue = Catalogue::builtin()?;
        catalogue.add_files(extra)?;
        Ok(catalogue)
    }

    pub fn builtin() -> Result<Catalogue, SourceError> {
        let mut catalogue = Catalogue::default();
        for (name, text) in BUILTIN {
            catalogue.add(&format!("rules/{name}"), text)?;
        }
        Ok(catalogue)
    }

    /// Only the given files, for `rules lint FILE` and `rules test FILE`.
    pub fn from_files(paths: &[PathBuf]) -> Result<Catalogue, SourceError> {
        let mut catalogue = Catalogue::default();
        catalogue.add_files(paths)?;
        Ok(catalogue)
    }

    /// Adds rule files, and the `*.yaml`/`*.yml` files of rule folders.
    fn add_files(&mut self, paths: &[PathBuf]) -> Result<(), SourceError> {
        for path in paths {
            for file in rule_files(path)? {
                let text = source::read_text(&file)?;
                self.add(&file.display().to_string(), &text)?;
            }
        }
        Ok(())
    }

    pub fn add(&mut self, name: &str, text: &str) -> Result<(), SourceError> {
        let path = Path::new(name);
        let file: RuleFile = source::parse_yaml(text, path)?;
        for spanned in file.rules {
            self.rules.push(LoadedRule {
                rule: spanned.value,
                file: name.to_string(),
                line: spanned.referenced.line(),
            });
        }
        self.aliases.extend(file.aliases);
        self.recommendations
            .extend(file.recommendations.into_iter().map(|r| r.value));
        if file.memory_model.is_some() {
            self.memory_model = file.memory_model;
        }
        Ok(())
    }

    pub fn rule(&self, id: &str) -> Option<&LoadedRule> {
        self.rules.iter().find(|loaded| loaded.rule.id == id)
    }

    pub fn recommendation(&self, id: &str) -> Option<&Recommendation> {
        self.recommendations.iter().find(|r| r.id == id)
    }

    /// The pip name a declared name stands for (`pytorch` → `torch`); itself when no alias.
    pub fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map(String::as_str).unwrap_or(name)
    }

    /// Problems a rule author must fix: duplicate ids, missing source/verified/tests, ids that
    /// are not kebab-case, unknown recommendations, and specifiers that do not parse.
    pub fn lint(&self) -> Vec<LintIssue> {
        let mut issues = Vec::new();
        let mut seen = BTreeSet::new();
        for loaded in &self.rules {
            let rule = &loaded.rule;
            let mut issue = |message: String| {
                issues.push(LintIssue {
                    file: loaded.file.clone(),
                    line: loaded.line,
                    message: format!("rule `{}`: {message}", rule.id),
                })
            };
            if !seen.insert(rule.id.as_str()) {
                issue("duplicate id".to_string());
            }
            if rule.id.is_empty()
                || !rule
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            {
                issue("ids are kebab-case: lower-case letters, digits, `-` and `.`".to_string());
            }
            if rule.source.list().iter().all(|s| s.trim().is_empty()) {
                issue("has no source".to_string());
            }
            if !is_date(&rule.verified) {
                issue(format!(
                    "verified `{}` is not a date (YYYY-MM-DD)",
                    rule.verified
                ));
            }
            if rule.tests.is_empty() {
                issue("has no tests".to_string());
            }
            for id in &rule.recommend {
                if self.recommendation(id).is_none() {
                    issue(format!(
                        "recommends `{id}`, which no recommendations list defines"
                    ));
                }
            }
            for problem in super::condition::check(&rule.when) {
                issue(problem);
            }
            for name in unknown_placeholders(rule) {
                issue(format!(
                    "`{{{name}}}` is not a value a message can quote (see rules/README.md)"
                ));
            }
            if rule.for_each.is_empty() && mentions_each(rule) {
                issue("uses `{each}` but has no `for_each`".to_string());
            }
        }
        issues
    }
}

/// Every text of a rule that templates fill in.
fn templated_texts(rule: &Rule) -> Vec<String> {
    let mut texts = vec![
        rule.component.clone(),
        rule.title.clone(),
        rule.problem.clone(),
    ];
    texts.extend(rule.summary.clone());
    texts.extend(rule.impact.iter().cloned());
    texts.extend(rule.solution.iter().cloned());
    texts
}

/// `{name}`s in a rule's texts that no fact fills in: a typo would otherwise show as written.
fn unknown_placeholders(rule: &Rule) -> Vec<String> {
    let mut unknown = Vec::new();
    for text in templated_texts(rule) {
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else { break };
            let name = &after[..close];
            let looks_like_a_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
            if looks_like_a_name
                && !super::engine::TEMPLATE_VARIABLES.contains(&name)
                && !unknown.iter().any(|u| u == name)
            {
                unknown.push(name.to_string());
            }
            rest = &after[close + 1..];
        }
    }
    unknown
}

fn mentions_each(rule: &Rule) -> bool {
    templated_texts(rule).iter().any(|t| t.contains("{each}"))
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(len, part)| part.len() == *len && part.chars().all(|c| c.is_ascii_digit()))
}

/// A rule file, or the `*.yaml`/`*.yml` files of a folder in name order.
fn rule_files(path: &Path) -> Result<Vec<PathBuf>, SourceError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| SourceError::new(path, e.to_string()))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_loads_and_lints_clean() {
        let catalogue = Catalogue::builtin().unwrap();
        assert!(!catalogue.rules.is_empty());
        let issues = catalogue.lint();
        assert!(issues.is_empty(), "{issues:#?}");
    }

    #[test]
    fn an_unknown_condition_names_its_line() {
        let mut catalogue = Catalogue::default();
        let err = catalogue
            .add(
                "bad.yaml",
                "rules:\n  - id: x\n    component: x\n    when:\n      cpu_brand: amd\n",
            )
            .unwrap_err();
        assert_eq!(err.line, Some(5), "{err}");
    }

    #[test]
    fn lint_reports_unknown_placeholders() {
        let rule = "rules:\n  - id: typo\n    component: x\n    when: { os: linux }\n    status: ok\n    title: \"{pakage.version} on {os}\"\n    source: s\n    verified: 2026-11-29\n    tests: [{ profile: macbook-m2-8gb, expect: none }]\n";
        let mut catalogue = Catalogue::default();
        catalogue.add("typo.yaml", rule).unwrap();
        let messages: Vec<String> = catalogue.lint().iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "typo.yaml:2: rule `typo`: `{pakage.version}` is not a value a message can quote (see rules/README.md)"
                    .to_string()
            ]
        );
    }

    #[test]
    fn lint_reports_duplicates_and_missing_tests() {
        let rule = "  - id: same\n    component: x\n    when: { os: linux }\n    status: ok\n    title: t\n    source: s\n    verified: 2026-11-29\n";
        let mut catalogue = Catalogue::default();
        catalogue
            .add("dup.yaml", &format!("rules:\n{rule}{rule}"))
            .unwrap();
        let messages: Vec<String> = catalogue.lint().iter().map(ToString::to_string).collect();
        assert!(
            messages.contains(&"dup.yaml:9: rule `same`: duplicate id".to_string()),
            "{messages:#?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("dup.yaml:2:") && m.ends_with("has no tests"))
        );
    }
}
