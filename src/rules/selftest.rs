//! `mlcompat rules test`: every rule's own test cases, run through the same engine as `check`.

use std::path::Path;

use super::catalogue::{Catalogue, LoadedRule};
use super::engine::fire_all;
use super::facts::Facts;
use super::grammar::{Expect, RuleTest, SettingLiteral, TestProfile};
use crate::profile::Profile;
use crate::project::{Project, SettingValue};

/// The machines rule tests may name, from `fixtures/profiles/*.yaml` (see build.rs).
const TEST_PROFILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/test_profiles.rs"));

/// A test case whose rule gave another status than expected.
#[derive(Clone, Debug)]
pub struct TestFailure {
    pub rule: String,
    pub file: String,
    pub line: u64,
    pub case: usize,
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
                    rule: loaded.rule.id.clone(),
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

fn run_one(catalogue: &Catalogue, loaded: &LoadedRule, test: &RuleTest) -> Result<(), String> {
    let profile = match &test.profile {
        TestProfile::Named(name) => {
            test_profile(name).ok_or_else(|| format!("no test machine named `{name}`"))?
        }
        TestProfile::Inline(profile) => (**profile).clone(),
    };
    let settings: Vec<(String, SettingValue)> = test
        .project
        .settings
        .iter()
        .map(|(key, value)| {
            let value = match value {
                SettingLiteral::Bool(b) => SettingValue::Bool(*b),
                SettingLiteral::Number(n) => SettingValue::Number(*n),
                SettingLiteral::Text(t) => SettingValue::Text(t.clone()),
            };
            (key.clone(), value)
        })
        .collect();
    let project = Project::from_declarations(
        &test.project.requirements,
        &test.project.conda,
        &settings,
        test.project.model.as_deref(),
        test.project.python.as_deref(),
    );
    let facts = Facts::new(&profile, &project, catalogue);
    let got = fire_all(loaded, &facts)
        .into_iter()
        .map(|fired| fired.finding.status)
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
