//! Fleet mode in CI and on a narrow terminal: annotations name files from the working folder
//! whatever PATH looked like, the summary counts each verdict's own machines, and the matrix of
//! eleven machines fits 80 columns without breaking a name inside a word.

use assert_cmd::Command;

const FOUNDING: &str = "fixtures/projects/qlora-founding";

fn run(columns: &str, args: &[&str]) -> String {
    let output = Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .env("COLUMNS", columns)
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("mlcompat runs");
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Display columns, counting the emoji as two cells like comfy-table does.
fn columns(line: &str) -> usize {
    line.chars()
        .filter(|c| *c != '\u{fe0f}')
        .map(|c| {
            if ('\u{2600}'..='\u{1faff}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn fleet_annotations_keep_the_project_folder_for_relative_and_absolute_paths() {
    let absolute = std::env::current_dir().unwrap().join(FOUNDING);
    for path in [FOUNDING.to_string(), absolute.display().to_string()] {
        let text = run(
            "100",
            &[
                "check",
                &path,
                "--profile",
                "fixtures/profiles/macbook-m2-8gb.yaml",
                "--profile",
                "fixtures/profiles/linux-a100-80gb.yaml",
                "--format",
                "github",
            ],
        );
        assert!(
            text.contains(&format!("::error file={FOUNDING}/requirements.txt,line=7,")),
            "{text}"
        );
        assert!(!text.contains("file=/"), "{text}");
    }
}

#[test]
fn the_fleet_summary_counts_each_verdict_on_its_own_machines() {
    let text = run(
        "100",
        &[
            "check",
            FOUNDING,
            "--profile",
            "fixtures/profiles/",
            "--format",
            "github",
        ],
    );
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        "mlcompat: ❌ Will NOT work on 5 of 11 machines; ⚠️ Will work with modifications on 5; ✅ Will work on 1"
    );
    // -q: a line a machine, then the same counts.
    let quiet = run(
        "100",
        &["check", FOUNDING, "--profile", "fixtures/profiles/", "-q"],
    );
    assert_eq!(quiet.lines().count(), 12, "{quiet}");
    assert_eq!(
        quiet.lines().last().unwrap(),
        "❌ Will NOT work on 5 of 11 machines; ⚠️ Will work with modifications on 5; ✅ Will work on 1"
    );
}

#[test]
fn eleven_machines_fit_80_columns_with_whole_names() {
    let text = run(
        "80",
        &["check", FOUNDING, "--profile", "fixtures/profiles/"],
    );
    for line in text.lines() {
        assert!(columns(line) <= 80, "{} columns: {line}", columns(line));
    }
    for component in [
        "bitsandbytes",
        "pytorch-cuda",
        "load_in_4bit",
        "transformers",
    ] {
        assert!(
            text.lines().any(|l| l.contains(&format!(" {component} "))),
            "{component} is broken: {text}"
        );
    }
    for machine in ["linux-a100-80gb", "macbook-m3max-64gb", "windows-rtx4090"] {
        assert!(text.contains(machine), "{machine} is named in full: {text}");
    }
}

/// A training setting the rules judge is a component on every machine: ✅ where it runs, so the
/// matrix never shows "-" (not declared) for a setting the project declares.
#[test]
fn a_judged_setting_is_a_component_on_every_machine() {
    let text = run(
        "100",
        &[
            "check",
            FOUNDING,
            "--profile",
            "fixtures/profiles/macbook-m2-8gb.yaml",
            "--profile",
            "fixtures/profiles/linux-a100-80gb.yaml",
            "--format",
            "json",
        ],
    );
    let fleet: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
    let status = |machine: usize, name: &str| {
        let components = fleet["machines"][machine]["report"]["components"]
            .as_array()
            .expect("components");
        let component = components
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} on machine {machine}"));
        assert_eq!(component["kind"], "setting", "{component}");
        (
            component["status"].as_str().unwrap().to_string(),
            component["evidence"][0]["line"].as_u64().unwrap(),
            component["summary"].as_str().unwrap().to_string(),
        )
    };
    // `load_in_4bit: true` at config.yaml:4, `optim: paged_adamw_8bit` at config.yaml:10.
    assert_eq!(status(0, "load_in_4bit").0, "fail");
    assert_eq!(status(0, "optim").0, "fail");
    let (ok, line, summary) = status(1, "load_in_4bit");
    assert_eq!((ok.as_str(), line), ("ok", 4));
    assert!(!summary.is_empty());
    assert_eq!(status(1, "optim").0, "ok");
    assert_eq!(status(1, "optim").1, 10);

    let table = run(
        "100",
        &[
            "check",
            FOUNDING,
            "--profile",
            "fixtures/profiles/macbook-m2-8gb.yaml",
            "--profile",
            "fixtures/profiles/linux-a100-80gb.yaml",
            "--color",
            "never",
        ],
    );
    for row in table
        .lines()
        .filter(|l| l.contains("load_in_4bit") || l.contains("optim"))
    {
        assert!(!row.contains(" - "), "{row}");
    }
}
