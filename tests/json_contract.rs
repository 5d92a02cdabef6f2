//! The JSON report is a contract with CI pipelines (DESIGN.md, schema version 1). These types
//! mirror it with unknown fields denied, so adding, renaming or removing a field fails here
//! first and is a deliberate decision, not drift.

#![allow(dead_code)]

use assert_cmd::Command;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    schema_version: u32,
    verdict: Verdict,
    profile: serde_json::Value,
    python: String,
    files: Vec<String>,
    components: Vec<Component>,
    findings: Vec<Finding>,
    recommendations: Vec<Recommendation>,
    changes: Vec<Change>,
    memory: Option<Memory>,
    summary: Summary,
    notes: Vec<String>,
    knowledge: Knowledge,
}

/// How old the package-index knowledge is, and where it came from.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Knowledge {
    index_as_of: Option<String>,
    source: String,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Deserialize, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warn,
    Fail,
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Component {
    name: String,
    kind: Kind,
    status: Status,
    summary: String,
    evidence: Vec<Evidence>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Package,
    System,
    Setting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Evidence {
    file: String,
    line: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Finding {
    rule: String,
    component: String,
    status: Status,
    title: String,
    summary: String,
    problem: String,
    impact: Vec<String>,
    solution: Vec<String>,
    evidence: Vec<Evidence>,
    source: Vec<String>,
    verified: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Recommendation {
    id: String,
    title: String,
    best_for: String,
    steps: Vec<String>,
    pros: Vec<String>,
    cons: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    file: String,
    line: u32,
    change: String,
    rule: String,
    edit: Edit,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Edit {
    RemoveLine,
    ReplaceRequirement { from: String, to: String },
    SetValue { key: String, value: String },
    UseIndex { url: String },
    AddMarker { marker: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Memory {
    model: String,
    params: Option<f64>,
    workload: String,
    need_bytes: u64,
    budget_bytes: Option<u64>,
    arithmetic: String,
    device: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    ok: usize,
    warn: usize,
    fail: usize,
    unknown: usize,
}

fn report(project: &str, profile: &str) -> Report {
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .args(["check", project, "--profile", profile, "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).expect("the report matches the contract")
}

#[test]
fn the_report_matches_the_contract() {
    for profile in ["macbook-m2-8gb", "linux-a100-80gb"] {
        let report = report(
            "fixtures/projects/qlora-founding",
            &format!("fixtures/profiles/{profile}.yaml"),
        );
        assert_eq!(report.schema_version, 1);
        let counted =
            report.summary.ok + report.summary.warn + report.summary.fail + report.summary.unknown;
        assert_eq!(counted, report.components.len());
        let as_of = report.knowledge.index_as_of.expect("the snapshot's date");
        assert!(as_of.len() == 10 && as_of.as_bytes()[4] == b'-', "{as_of}");
        assert!(
            ["built-in snapshot", "cache"].contains(&report.knowledge.source.as_str()),
            "{}",
            report.knowledge.source
        );
    }
}

#[test]
fn package_components_use_normalized_names() {
    let report = report(
        "fixtures/projects/qlora-founding",
        "fixtures/profiles/macbook-m2-8gb.yaml",
    );
    for component in report
        .components
        .iter()
        .filter(|c| matches!(c.kind, Kind::Package))
    {
        let normalized = component.name.to_lowercase().replace(['_', '.'], "-");
        assert_eq!(component.name, normalized);
    }
}
