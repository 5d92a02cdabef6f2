//! Real outputs of the `mlcompat` binary on the fixtures validate against the published schemas
//! (schemas/*.json), checked by a JSON Schema validator, and the profile schema accepts exactly
//! the hand-written profiles mlcompat loads.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(Path::new("schemas").join(file)).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// stdout of a run, parsed, and its exit code.
fn run(args: &[&str]) -> (Value, i32) {
    let output = Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .args(args)
        .output()
        .expect("mlcompat runs");
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (document, output.status.code().expect("exited"))
}

fn fixture_projects() -> Vec<String> {
    let mut projects: Vec<String> = std::fs::read_dir("fixtures/projects")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    projects.sort();
    projects
}

#[test]
fn every_fixture_report_and_error_validates() {
    let report = validator("report.schema.json");
    let error = validator("error.schema.json");
    let mut errors_seen = 0;
    for project in fixture_projects() {
        for profile in ["macbook-m2-8gb", "linux-a100-80gb"] {
            let profile = format!("fixtures/profiles/{profile}.yaml");
            let (document, code) =
                run(&["check", &project, "--profile", &profile, "--format", "json"]);
            let (schema, name) = if code == 2 {
                errors_seen += 1;
                (&error, "error")
            } else {
                (&report, "report")
            };
            let found = errors(schema, &document);
            assert!(
                found.is_empty(),
                "{project} on {profile} ({name}): {found:#?}"
            );
            // Neither schema accepts the other document.
            let other = if code == 2 { &report } else { &error };
            assert!(
                !other.is_valid(&document),
                "{project}: both schemas accept it"
            );
        }
    }
    assert!(errors_seen > 0, "a broken fixture gives the error document");
}

#[test]
fn a_fleet_validates_and_each_machine_report_too() {
    let (document, _) = run(&[
        "check",
        "fixtures/projects/qlora-founding",
        "--profile",
        "fixtures/profiles/",
        "--format",
        "json",
    ]);
    let found = errors(&validator("fleet.schema.json"), &document);
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(document["machines"].as_array().unwrap().len(), 11);
    assert!(!validator("report.schema.json").is_valid(&document));
    let report = validator("report.schema.json");
    for machine in document["machines"].as_array().unwrap() {
        assert!(report.is_valid(&machine["report"]), "{}", machine["name"]);
    }
}

#[test]
fn fix_json_validates_with_and_without_edits() {
    let fix = validator("fix.schema.json");
    let (document, code) = run(&[
        "fix",
        "fixtures/projects/qlora-founding",
        "--profile",
        "fixtures/profiles/macbook-m2-8gb.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let found = errors(&fix, &document);
    assert!(found.is_empty(), "{found:#?}");
    let files = document["files"].as_array().unwrap();
    let requirements = files
        .iter()
        .find(|f| f["original"] == "requirements.txt")
        .expect("requirements.txt is fixed");
    assert_eq!(requirements["target"], "requirements-macos.txt");
    assert!(
        requirements["edits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["line"] == 7)
    );
    assert!(requirements["written"].is_null());
    assert!(document["predicted"]["verdict"].is_string());

    let (document, _) = run(&[
        "fix",
        "fixtures/projects/qlora-founding",
        "--profile",
        "fixtures/profiles/linux-h100-x8.yaml",
        "--format",
        "json",
    ]);
    assert!(errors(&fix, &document).is_empty());
    assert!(document["files"].as_array().unwrap().is_empty());
    assert!(document["predicted"].is_null());

    let (document, code) = run(&[
        "fix",
        "fixtures/projects/pyproject-broken",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    assert!(errors(&validator("error.schema.json"), &document).is_empty());
}

#[test]
fn the_probe_of_this_machine_validates() {
    let (document, _) = run(&["probe", "--format", "json"]);
    let found = errors(&validator("profile.schema.json"), &document);
    assert!(found.is_empty(), "{found:#?}");
}

/// The profile schema accepts what `--profile` loads and refuses what it refuses.
#[test]
fn the_profile_schema_accepts_exactly_what_mlcompat_loads() {
    let schema = validator("profile.schema.json");
    let cases = [
        "schema_version: 1\nsystem: { arch: aarch64, os: linux }\n",
        "schema_version: 1\nsystem: { arch: amd64 }\n",
        "schema_version: 1\nsystem: { arch: x64, memory: 8 GB }\n",
        "schema_version: 1\nsystem: { memory: 8589934592 }\n",
        "schema_version: 1\nsystem: { memory: 512MiB, os_version: 14.5 }\n",
        "schema_version: 1\nsystem: { memory: 1.5 tb }\n",
        "schema_version: 1\ngpus: [{ vendor: nvidia, memory: 80 GB, compute_capability: 8.0 }]\n",
        // Refused by both:
        "schema_version: 1\nsystem: { arch: sparc }\n",
        "schema_version: 1\nsystem: { ram: 8 GB }\n",
        "schema_version: 1\nsystem: { memory: 8 parsecs }\n",
        "schema_version: 1\nsystem: { memory: 8 Ki }\n",
        "schema_version: 2\n",
        "schema_version: 1\ngpus: [{ vendor: matrox }]\n",
    ];
    let mut files: Vec<(String, String)> = cases
        .iter()
        .enumerate()
        .map(|(i, text)| (format!("case {i}"), text.to_string()))
        .collect();
    let folders = ["fixtures/profiles", "fixtures/environments"];
    for entry in folders.iter().flat_map(|f| std::fs::read_dir(f).unwrap()) {
        let path = entry.unwrap().path();
        files.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    for (name, text) in files {
        let loads = mlcompat::profile::Profile::parse(&text, Path::new("p.yaml")).is_ok();
        let document: Value = serde_saphyr::from_str(&text).expect("YAML");
        let valid = schema.is_valid(&document);
        assert_eq!(
            valid, loads,
            "{name}: schema says {valid}, mlcompat loads: {loads}\n{text}"
        );
    }
}
