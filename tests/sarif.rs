//! `check --format sarif` is SARIF 2.1.0 that GitHub code scanning accepts: valid against the
//! official OASIS schema (vendored in fixtures/sarif/), and with what code scanning needs beyond
//! the schema: a location with a repository-relative URI and a start line on every result, and
//! rules with help text and sources.

use assert_cmd::Command;
use serde_json::Value;

const FOUNDING: &str = "fixtures/projects/qlora-founding";

fn sarif(args: &[&str]) -> Value {
    let output = Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .args(["check", "--format", "sarif"])
        .args(args)
        .output()
        .expect("mlcompat runs");
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string("fixtures/sarif/sarif-schema-2.1.0.json")
        .expect("the vendored schema");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

fn assert_valid(log: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

#[test]
fn one_machine_is_valid_sarif_that_code_scanning_can_place() {
    let log = sarif(&[
        FOUNDING,
        "--profile",
        "fixtures/profiles/macbook-m2-8gb.yaml",
    ]);
    assert_valid(&log);
    // The validator is not vacuous: a log without its version is refused.
    assert!(!validator().is_valid(&serde_json::json!({ "runs": [] })));
    assert_eq!(log["version"], "2.1.0");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let bnb = rules
        .iter()
        .find(|r| r["id"] == "bitsandbytes-no-apple-gpu-backend")
        .expect("the bitsandbytes rule is described");
    assert!(bnb["help"]["text"].as_str().unwrap().contains("Sources:"));
    assert!(bnb["helpUri"].as_str().unwrap().starts_with("https://"));
    assert!(!results(&log).is_empty());
    for result in results(&log) {
        assert!(["error", "warning"].contains(&result["level"].as_str().unwrap()));
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with(&format!("{FOUNDING}/")), "{uri}");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let bnb_result = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "bitsandbytes-no-apple-gpu-backend")
        .expect("a result for bitsandbytes");
    assert_eq!(bnb_result["level"], "error");
    assert_eq!(
        bnb_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!("{FOUNDING}/requirements.txt")
    );
    assert_eq!(
        bnb_result["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
}

#[test]
fn a_fleet_is_one_valid_run_naming_the_machines_of_each_result() {
    let log = sarif(&[
        FOUNDING,
        "--profile",
        "fixtures/profiles/macbook-m2-8gb.yaml",
        "--profile",
        "fixtures/profiles/macbook-m3max-64gb.yaml",
        "--profile",
        "fixtures/profiles/linux-a100-80gb.yaml",
    ]);
    assert_valid(&log);
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let bnb = results(&log)
        .iter()
        .filter(|r| r["ruleId"] == "bitsandbytes-no-apple-gpu-backend")
        .collect::<Vec<_>>();
    assert_eq!(bnb.len(), 1, "one result for the line, not one per machine");
    assert_eq!(
        bnb[0]["properties"]["machines"],
        serde_json::json!(["macbook-m2-8gb", "macbook-m3max-64gb"])
    );
}

#[test]
fn a_project_with_nothing_wrong_is_an_empty_valid_log() {
    let log = sarif(&[
        FOUNDING,
        "--profile",
        "fixtures/profiles/linux-h100-x8.yaml",
    ]);
    assert_valid(&log);
    assert!(results(&log).is_empty());
}
