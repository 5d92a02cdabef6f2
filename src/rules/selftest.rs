//! `mlcompat rules test`: every rule's own test cases, run through the same engine as `check`.

use std::path::Path;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::catalogue::{Catalogue, LoadedRule};
use super::engine::judge;
use super::grammar::{Expect, RuleTest, SettingLiteral, TestProfile, TestProject};
use crate::profile::Profile;
use crate::project::{ScanOptions, scan_with};

/// The machines rule tests may name, from `fixtures/profiles/*.yaml` (see build.rs).
const TEST_PROFILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/test_profiles.rs"));

/// A test case whose rule gave another status than expected.
#[derive(Clone, Debug)]
pub struct TestFailure {
    /// The rule's id.
    pub rule: String,
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: u64,
    /// Which of its test cases (1-based).
    pub case: usize,
    /// What was expected and what came.
    pub message: String,
}

impl std::fmt::Display for TestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: rule `{}`, test {}: {}",
            self.file, self.line, self.rule, self.case, self.message
        )
    }
}

/// A built-in test machine by name (`macbook-m2-8gb`).
pub fn test_profile(name: &str) -> Option<Profile> {
    let file = format!("{name}.yaml");
    TEST_PROFILES
        .iter()
        .find(|(n, _)| *n == file)
        .and_then(|(n, text)| Profile::parse(text, Path::new(n)).ok())
}

/// Runs every test case of every rule; returns how many passed and what failed.
pub fn run_tests(catalogue: &Catalogue) -> (usize, Vec<TestFailure>) {
    let mut passed = 0;
    let mut failures = Vec::new();
    for loaded in &catalogue.rules {
        for (index, test) in loaded.tests.iter().enumerate() {
            match run_one(catalogue, loaded, test) {
                Ok(()) => passed += 1,
                Err(message) => failures.push(TestFailure {
                    rule: loaded.id.clone(),
                    file: loaded.file.clone(),
                    line: loaded.line,
                    case: index + 1,
                    message,
                }),
            }
        }
    }
    (passed, failures)
}

/// Runs one test case the way `check` runs: the case's project is written to a folder, read by
/// the real scanner with the catalogue's setting keys, and judged by the whole engine; the
/// status is the worst the rule under test gave. A rule that names a key the scanner does not
/// collect, or a file it does not read, fails its own tests.
fn run_one(catalogue: &Catalogue, loaded: &LoadedRule, test: &RuleTest) -> Result<(), String> {
    let profile = match &test.profile {
        TestProfile::Named(name) => {
            test_profile(name).ok_or_else(|| format!("no test machine named `{name}`"))?
        }
        TestProfile::Inline(profile) => (**profile).clone(),
    };
    let folder = TestFolder::create().map_err(|e| format!("cannot write the test project: {e}"))?;
    folder
        .write_project(&test.project)
        .map_err(|e| format!("cannot write the test project: {e}"))?;
    let keys = catalogue.setting_keys();
    let options = ScanOptions {
        profile: Some(&profile),
        settings: &keys,
        originals: false,
    };
    let project = scan_with(&folder.path, &options).map_err(|e| e.to_string())?;
    let assessment = judge(project, &profile, catalogue);
    let got = assessment
        .findings
        .iter()
        .filter(|finding| finding.rule == loaded.id)
        .map(|finding| finding.status)
        .max();
    let got_name = got.map_or("none", |status| status.as_str());
    let expected = match test.expect {
        Expect::Ok => "ok",
        Expect::Warn => "warn",
        Expect::Fail => "fail",
        Expect::None => "none",
    };
    if got_name == expected {
        Ok(())
    } else {
        Err(format!("expected {expected}, got {got_name}"))
    }
}

/// A fresh folder of its own under the temporary folder, removed when dropped. `create_dir`
/// fails on a name that exists (a link planted there included), so nothing is written through
/// another's file.
struct TestFolder {
    path: PathBuf,
}

impl TestFolder {
    fn create() -> std::io::Result<TestFolder> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut last = None;
        for _ in 0..16 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!(
                "mlcompat-rule-test-{}-{n}-{nanos}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TestFolder { path }),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
    }

    /// `requirements.txt`, `environment.yml` (conda specs and the Python pin), `config.yaml`
    /// (settings and the model) and `pyproject.toml` (the project's own name), as a project
    /// writes them.
    fn write_project(&self, project: &TestProject) -> std::io::Result<()> {
        if !project.requirements.is_empty() {
            let text = project.requirements.join("\n") + "\n";
            std::fs::write(self.path.join("requirements.txt"), text)?;
        }
        let python = project.python.iter().map(|p| format!("python={p}"));
        let specs: Vec<String> = project.conda.iter().cloned().chain(python).collect();
        if !specs.is_empty() {
            let mut text = String::from("dependencies:\n");
            for spec in specs {
                text += &format!("  - {}\n", quoted(&spec));
            }
            std::fs::write(self.path.join("environment.yml"), text)?;
        }
        let mut config = String::new();
        for (key, value) in &project.settings {
            let value = match value {
                SettingLiteral::Bool(b) => b.to_string(),
                SettingLiteral::Number(n) => n.to_string(),
                SettingLiteral::Text(t) => quoted(t),
            };
            config += &format!("{key}: {value}\n");
        }
        if let Some(model) = &project.model {
            config += &format!("base_model: {}\n", quoted(model));
        }
        if !config.is_empty() {
            std::fs::write(self.path.join("config.yaml"), config)?;
        }
        if let Some(name) = &project.name {
            let text = format!("[project]\nname = {}\n", quoted(name));
            std::fs::write(self.path.join("pyproject.toml"), text)?;
        }
        Ok(())
    }
}

impl Drop for TestFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A YAML double-quoted string (JSON's quoting is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_rule_passes_its_own_tests() {
        let catalogue = Catalogue::builtin_with_tests().unwrap();
        let (passed, failures) = run_tests(&catalogue);
        let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert!(failures.is_empty(), "{report:#?}");
        assert!(passed > 0);
    }

    #[test]
    fn every_test_machine_parses() {
        for (name, text) in TEST_PROFILES {
            Profile::parse(text, Path::new(name)).unwrap();
        }
    }
}
