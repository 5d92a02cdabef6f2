//! Helpers several integration tests share. Each test binary compiles this module and uses part
//! of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use serde_json::Value;

/// A project folder holding one requirements.txt, removed when dropped.
pub struct Project(tempfile::TempDir);

impl Project {
    pub fn with_requirements(lines: &[&str]) -> Project {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("requirements.txt"), lines.join("\n") + "\n")
            .expect("requirements.txt is written");
        Project(dir)
    }

    pub fn path(&self) -> &str {
        self.0.path().to_str().expect("a UTF-8 path")
    }
}

/// A JSON report's changes as `file:line change` lines.
pub fn changes_of(report: &Value) -> Vec<String> {
    report["changes"]
        .as_array()
        .expect("changes is a list")
        .iter()
        .map(|c| {
            format!(
                "{}:{} {}",
                c["file"].as_str().unwrap(),
                c["line"],
                c["change"].as_str().unwrap()
            )
        })
        .collect()
}

/// The binary with the environment a report is read in by the tests: 100 columns, an
/// xterm, and none of the variables that change icons or colour (snapshots are of the default).
pub fn mlcompat() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("mlcompat").expect("the binary is built");
    command
        .env("COLUMNS", "100")
        .env_remove("NO_COLOR")
        // The icons follow the terminal (tmux, TERM=linux).
        .env_remove("TMUX")
        .env_remove("MLCOMPAT_ASCII")
        .env_remove("MLCOMPAT_EMOJI")
        .env_remove("FORCE_COLOR")
        .env("TERM", "xterm-256color");
    command
}

/// A JSON report's component `name`.
pub fn component<'a>(report: &'a Value, name: &str) -> &'a Value {
    entry(report, "components", "name", name)
}

/// A JSON report's finding of rule `rule`.
pub fn finding<'a>(report: &'a Value, rule: &str) -> &'a Value {
    entry(report, "findings", "rule", rule)
}

/// The entry of the report's `list` whose `field` is `value`.
fn entry<'a>(report: &'a Value, list: &str, field: &str, value: &str) -> &'a Value {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {report:#}"))
        .iter()
        .find(|entry| entry[field] == value)
        .unwrap_or_else(|| panic!("no {list} entry with {field} {value} in {report:#}"))
}
