//! Loading rule files: the built-in set compiled into the binary, plus `--rules` files. Each
//! rule is compiled once, at load, into the typed form the engine evaluates; what a rule author
//! must fix (duplicate ids, missing sources or tests, specifiers that do not parse) is reported
//! by `lint` with `file:line`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::builtin::{self, BuiltinRule};
use super::compile;
use std::sync::OnceLock;

use super::grammar::{RawCore, RawRule, RuleTest};
use super::memory_model::MemoryModel;
use super::prose::LazyProse;
use super::recipes::RecipeModel;
use super::rule::{Change, Condition, Rule};
use crate::assessment::Status;
use crate::project::SettingKeys;
use crate::source::{self, SourceError};

/// The built-in rule files, `(name, text)`, from `rules/*.yaml` (see build.rs).
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// One rule file. Every key is optional so data can be split by topic.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
    #[serde(flatten)]
    shared: SharedData,
}

/// What a rule file holds besides rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedData {
    /// Other names a package goes by (conda's `pytorch` is pip's `torch`).
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    #[serde(default)]
    recommendations: Vec<Recommendation>,
    #[serde(default)]
    memory_model: Option<MemoryModel>,
    #[serde(default)]
    recipes: Option<RecipeModel>,
}

/// An option the report may offer, in the founding assessment's shape.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    /// What rules name in `recommend:`.
    pub id: String,
    /// The option, in a few words.
    pub title: String,
    /// Who it suits.
    pub best_for: String,
    /// How to do it.
    #[serde(default)]
    pub steps: Vec<String>,
    /// Why it is good.
    #[serde(default)]
    pub pros: Vec<String>,
    /// What it costs.
    #[serde(default)]
    pub cons: Vec<String>,
}

/// A rule with the file and line it was written at. A built-in rule is compiled the first time
/// a project could need it: most rules are about one package, and a project declares few of
/// the packages the catalogue knows.
#[derive(Clone, Debug)]
pub struct LoadedRule {
    /// The rule's id.
    pub id: String,
    /// The compiled rule (`None` if the compact form does not compile, which `rules lint` on
    /// the same files rules out).
    compiled: OnceLock<Option<Box<Rule>>>,
    /// The built-in rule's compact form, until compiled.
    deferred: Option<&'static BuiltinRule>,
    /// The packages one of which a project must declare for the rule to apply; `None` when it
    /// may apply to any project. Entries with `*` are patterns.
    pub needs: Option<Vec<String>>,
    /// The setting keys it tests or sets.
    pub keys: Vec<String>,
    /// Its own test cases (empty in the compact built-in form `check` loads).
    pub tests: Vec<RuleTest>,
    /// Lint problems that do not stop it from being evaluated (an unknown placeholder).
    pub problems: Vec<String>,
    /// The file it was read from.
    pub file: String,
    /// The line of its `- id:`.
    pub line: u64,
}

/// Everything the engine knows.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// The rules, in file order.
    pub rules: Vec<LoadedRule>,
    /// Rules that could not be compiled, with why: `lint` reports them, `load` refuses them.
    pub rejected: Vec<LintIssue>,
    /// Other names of packages: alias → the pip name.
    pub aliases: BTreeMap<String, String>,
    /// The options findings may recommend.
    pub recommendations: Vec<Recommendation>,
    /// The memory model, from `rules/memory.yaml`.
    pub memory_model: Option<MemoryModel>,
    /// What makes configs alternative recipes, from `rules/recipes.yaml`.
    pub recipes: Option<RecipeModel>,
    /// What the package index says (which wheels exist, what each release requires): the
    /// built-in snapshot, and for `check` and `fix` ([`Catalogue::load`]) the snapshot overlaid
    /// by `refresh`'s cache. Shared, because a fleet judges many machines with one catalogue
    /// and the knowledge records how old what it used is.
    pub knowledge: std::sync::Arc<crate::index::Knowledge>,
    /// Whether rules were loaded with their test cases.
    with_tests: bool,
}

/// A problem found by `lint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintIssue {
    /// The rule file.
    pub file: String,
    /// The rule's line.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LintIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl Catalogue {
    /// The built-in rules, then the files and folders given with `--rules`, for `check` and
    /// `fix`: a rule that does not compile is an error naming its file and line.
    pub fn load(extra: &[PathBuf]) -> Result<Catalogue, SourceError> {
        let mut catalogue = Catalogue::builtin()?;
        // The user's refreshed cache where it is newer than the snapshot; never the network.
        catalogue.knowledge = std::sync::Arc::new(crate::index::Knowledge::from_environment());
        catalogue.add_files(extra)?;
        if let Some(issue) = catalogue.rejected.first() {
            return Err(SourceError::invalid(
                Path::new(&issue.file),
                Some(issue.line),
                issue.message.clone(),
            ));
        }
        Ok(catalogue)
    }

    /// The built-in rules as `check` needs them: from build.rs's compact form, without their
    /// test cases.
    pub fn builtin() -> Result<Catalogue, SourceError> {
        let mut catalogue = Catalogue {
            rules: Vec::with_capacity(builtin::RULES.len()),
            ..Catalogue::default()
        };
        for file in builtin::FILES {
            let rules = builtin::RULES.get(file.rules.clone()).unwrap_or_default();
            catalogue.rules.extend(rules.iter().map(|compact| {
                LoadedRule {
                    id: compact.id.get().to_string(),
                    compiled: OnceLock::new(),
                    deferred: Some(compact),
                    needs: compact
                        .needs
                        .map(|needs| needs.get().map(ToString::to_string).collect()),
                    keys: compact.keys.get().map(ToString::to_string).collect(),
                    tests: Vec::new(),
                    problems: Vec::new(),
                    file: file.file.get().to_string(),
                    line: compact.line,
                }
            }));
            let shared = file.shared.get();
            if !shared.is_empty() {
                let shared: SharedData = serde_json::from_str(shared).map_err(|e| {
                    SourceError::new(Path::new(file.file.get()), format!("built-in rules: {e}"))
                })?;
                catalogue.share(shared);
            }
        }
        Ok(catalogue)
    }

    /// The built-in rules with their test cases, read from the YAML texts, for `rules test`,
    /// `rules lint` and `rules show`.
    pub fn builtin_with_tests() -> Result<Catalogue, SourceError> {
        let mut catalogue = Catalogue {
            with_tests: true,
            ..Catalogue::default()
        };
        for (name, text) in BUILTIN {
            catalogue.add(&format!("rules/{name}"), text)?;
        }
        Ok(catalogue)
    }

    /// Only the given files, for `rules lint FILE` and `rules test FILE`.
    pub fn from_files(paths: &[PathBuf]) -> Result<Catalogue, SourceError> {
        let mut catalogue = Catalogue {
            with_tests: true,
            ..Catalogue::default()
        };
        catalogue.add_files(paths)?;
        Ok(catalogue)
    }

    /// The YAML text of a built-in rule, as written (comments included), for `rules show`.
    pub fn builtin_text(loaded: &LoadedRule) -> Option<String> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(name, _)| loaded.file == format!("rules/{name}"))?;
        let lines: Vec<&str> = text.lines().collect();
        let start = usize::try_from(loaded.line).ok()?.checked_sub(1)?;
        let first = lines.get(start)?;
        let indent = first.len() - first.trim_start().len();
        let end = lines[start + 1..]
            .iter()
            .position(|line| {
                let trimmed = line.trim_start();
                !trimmed.is_empty() && line.len() - trimmed.len() <= indent
            })
            .map_or(lines.len(), |at| start + 1 + at);
        Some(lines[start..end].join("\n") + "\n")
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

    /// Adds the rules of one YAML rule file.
    pub fn add(&mut self, name: &str, text: &str) -> Result<(), SourceError> {
        let path = Path::new(name);
        let file: RuleFile = source::parse_yaml(text, path)?;
        for spanned in file.rules {
            let line = spanned.referenced.line();
            let (compiled, tests) = compile::rule(spanned.value);
            let tests = if self.with_tests { tests } else { Vec::new() };
            self.push(name, line, compiled, tests);
        }
        self.share(file.shared);
        Ok(())
    }

    fn push(&mut self, file: &str, line: u64, compiled: compile::Compiled, tests: Vec<RuleTest>) {
        match compiled.rule {
            Some(rule) => self.rules.push(LoadedRule {
                id: rule.id.clone(),
                needs: needs(&rule.when, &rule.for_each),
                keys: setting_keys(&rule),
                compiled: OnceLock::from(Some(Box::new(rule))),
                deferred: None,
                tests,
                problems: compiled.problems,
                file: file.to_string(),
                line,
            }),
            None => {
                let id = compiled.id;
                self.rejected
                    .extend(compiled.problems.into_iter().map(|problem| LintIssue {
                        file: file.to_string(),
                        line,
                        message: format!("rule `{id}`: {problem}"),
                    }))
            }
        }
    }

    fn share(&mut self, shared: SharedData) {
        self.aliases.extend(shared.aliases);
        self.recommendations.extend(shared.recommendations);
        if shared.memory_model.is_some() {
            self.memory_model = shared.memory_model;
        }
        if shared.recipes.is_some() {
            self.recipes = shared.recipes;
        }
    }

    /// The training settings the rules and the memory model ask about: the config reader
    /// collects exactly these, at any nesting.
    pub fn setting_keys(&self) -> SettingKeys {
        let mut keys: BTreeSet<String> = self
            .rules
            .iter()
            .flat_map(|loaded| loaded.keys.iter().cloned())
            .collect();
        if let Some(model) = &self.memory_model {
            for condition in model.conditions() {
                condition_keys(condition, &[], &mut |key| {
                    keys.insert(key.to_string());
                });
            }
            keys.extend(model.setting_keys().map(str::to_string));
        }
        SettingKeys::Only(keys)
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&LoadedRule> {
        self.rules.iter().find(|loaded| loaded.id == id)
    }

    /// The recommendation with this id.
    pub fn recommendation(&self, id: &str) -> Option<&Recommendation> {
        self.recommendations.iter().find(|r| r.id == id)
    }

    /// The pip name a declared name stands for (`pytorch` → `torch`); itself when no alias.
    pub fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map(String::as_str).unwrap_or(name)
    }

    /// Problems a rule author must fix: rules that do not compile, duplicate ids, missing
    /// source/verified/tests, ids that are not kebab-case, unknown recommendations and
    /// placeholders.
    pub fn lint(&self) -> Vec<LintIssue> {
        let mut issues = self.rejected.clone();
        let mut seen = BTreeSet::new();
        for loaded in &self.rules {
            let Some(rule) = loaded.rule() else {
                continue;
            };
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
            let prose = rule.prose.get();
            if prose.source.iter().all(|s| s.trim().is_empty()) {
                issue("has no source".to_string());
            }
            if !is_date(&prose.verified) {
                issue(format!(
                    "verified `{}` is not a date (YYYY-MM-DD)",
                    prose.verified
                ));
            }
            if self.with_tests && loaded.tests.is_empty() {
                issue("has no tests".to_string());
            }
            for id in &rule.recommend {
                if self.recommendation(id).is_none() {
                    issue(format!(
                        "recommends `{id}`, which no recommendations list defines"
                    ));
                }
            }
            for problem in &loaded.problems {
                issue(problem.clone());
            }
        }
        issues.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        issues
    }
}

/// A line of `rules list`.
pub struct Listing {
    /// The component the rule judges.
    pub component: String,
    /// What it says when it applies.
    pub status: Status,
    /// Its title, placeholders as written.
    pub title: String,
}

impl LoadedRule {
    /// The compiled rule, compiling it on first use.
    pub fn rule(&self) -> Option<&Rule> {
        self.compiled
            .get_or_init(|| {
                let compact = self.deferred?;
                let core: RawCore = serde_json::from_str(compact.rule.get()).ok()?;
                compile::core(core, LazyProse::deferred(compact.prose.get()))
                    .rule
                    .map(Box::new)
            })
            .as_deref()
    }

    /// Whether the rule can warn or fail about how the package runs, not only whether it
    /// installs: its status is not `ok` and it judges installs too (`partial: ignore` marks
    /// rules about what pip can install). The packages such rules name are the ones worth
    /// following into `Requires-Dist` (torch pulled in by peft meets the driver rules).
    pub fn judges_running(&self) -> bool {
        if let Some(compact) = self.deferred {
            return compact.judges_running;
        }
        self.rule().is_some_and(|rule| {
            rule.status != Status::Ok && rule.partial != super::rule::Partial::Ignore
        })
    }

    /// The rule's component, status and title as written, for `rules list` (for a built-in
    /// rule, without compiling it).
    pub fn listing(&self) -> Option<Listing> {
        if let Some(compact) = self.deferred {
            return Some(Listing {
                component: compact.component.get().to_string(),
                status: compact.status,
                title: compact.title.get().to_string(),
            });
        }
        let rule = self.rule()?;
        Some(Listing {
            component: rule.component.clone(),
            status: rule.status,
            title: rule.prose.get().title.to_string(),
        })
    }

    /// Whether the rule may apply to a project that declares these packages (`declared` says
    /// whether a name, as a rule writes it, is declared).
    pub fn may_apply(&self, declared: impl Fn(&str) -> bool, names: &[&str]) -> bool {
        match &self.needs {
            None => true,
            Some(needs) => needs.iter().any(|need| {
                if need.contains('*') {
                    names.iter().any(|name| super::pattern::glob(need, name))
                } else {
                    declared(need)
                }
            }),
        }
    }
}

/// The packages one of which a project must declare for `when` to hold (see build.rs's
/// `needs`, which computes the same from the rule's JSON).
fn needs(when: &Condition, each: &[String]) -> Option<Vec<String>> {
    match when {
        Condition::Package(package) if package.name == "{each}" => Some(each.to_vec()),
        Condition::Package(package) => Some(vec![package.name.clone()]),
        Condition::All(items) => items.iter().find_map(|item| needs(item, each)),
        Condition::Any(items) => {
            let mut union: Vec<String> = Vec::new();
            for item in items {
                for name in needs(item, each)? {
                    if !union.contains(&name) {
                        union.push(name);
                    }
                }
            }
            (!union.is_empty()).then_some(union)
        }
        _ => None,
    }
}

/// The setting keys a rule tests or sets, in the order build.rs lists them.
fn setting_keys(rule: &Rule) -> Vec<String> {
    let mut keys = Vec::new();
    let mut add = |key: &str| {
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    };
    condition_keys(&rule.when, &rule.for_each, &mut add);
    for change in &rule.changes {
        if let Change::Set { key, .. } = change {
            each_key(key, &rule.for_each, &mut add);
        }
    }
    keys
}

/// Calls `add` with every setting key a condition tests, `{each}` standing for each entry.
fn condition_keys(condition: &Condition, each: &[String], add: &mut impl FnMut(&str)) {
    match condition {
        Condition::All(items) | Condition::Any(items) => items
            .iter()
            .for_each(|item| condition_keys(item, each, add)),
        Condition::Not(inner) => condition_keys(inner, each, add),
        Condition::Setting(setting) => each_key(&setting.key, each, add),
        _ => {}
    }
}

fn each_key(key: &str, each: &[String], add: &mut impl FnMut(&str)) {
    if key == "{each}" {
        each.iter().for_each(|name| add(name));
    } else {
        add(key);
    }
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
        let catalogue = Catalogue::builtin_with_tests().unwrap();
        assert!(!catalogue.rules.is_empty());
        let issues = catalogue.lint();
        assert!(issues.is_empty(), "{issues:#?}");
    }

    #[test]
    fn the_compact_form_holds_the_same_rules_as_the_yaml() {
        let compact = Catalogue::builtin().unwrap();
        let full = Catalogue::builtin_with_tests().unwrap();
        type Summary = (String, String, u64, Option<Vec<String>>, Vec<String>);
        let ids = |c: &Catalogue| -> Vec<Summary> {
            c.rules
                .iter()
                .map(|l| {
                    let (id, file) = (l.id.clone(), l.file.clone());
                    (id, file, l.line, l.needs.clone(), l.keys.clone())
                })
                .collect()
        };
        // build.rs's needs and keys, from the JSON, agree with the compiled rules'.
        assert_eq!(ids(&compact), ids(&full));
        assert_eq!(compact.setting_keys(), full.setting_keys());
        for loaded in &compact.rules {
            let rule = loaded.rule().expect("every built-in rule compiles");
            assert!(
                !rule.prose.get().title.to_string().is_empty(),
                "{}",
                rule.id
            );
        }
        assert_eq!(compact.aliases, full.aliases);
        assert!(compact.rules.iter().all(|l| l.tests.is_empty()));
        assert!(full.rules.iter().all(|l| !l.tests.is_empty()));
    }

    #[test]
    fn a_rule_that_does_not_compile_is_linted_and_refused_with_its_line() {
        let rule = "rules:\n  - id: bad\n    component: x\n    when: { python: \">=three\" }\n    status: ok\n    title: t\n    source: s\n    verified: 2026-11-29\n    tests: [{ profile: macbook-m2-8gb, expect: none }]\n";
        let mut catalogue = Catalogue::default();
        catalogue.add("bad.yaml", rule).unwrap();
        let messages: Vec<String> = catalogue.lint().iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec!["bad.yaml:2: rule `bad`: python `>=three` is not a version specifier".to_string()]
        );
        assert!(catalogue.rules.is_empty());
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
        let mut catalogue = Catalogue {
            with_tests: true,
            ..Catalogue::default()
        };
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
        let mut catalogue = Catalogue {
            with_tests: true,
            ..Catalogue::default()
        };
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
