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
