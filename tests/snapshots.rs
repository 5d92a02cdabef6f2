//! Snapshots of every report format on the fixture projects × fixture profiles, so a change in
//! what a person reads shows up in review (`cargo insta review`).

use assert_cmd::Command;

mod common;

const PROJECTS: [&str; 2] = ["qlora-founding", "qlora-unpinned"];
const PROFILES: [&str; 2] = ["macbook-m2-8gb", "linux-a100-80gb"];

fn run(args: &[&str]) -> String {
    let output = common::mlcompat()
        .args(args)
        .args(["--color", "never"])
        .output()
        .expect("mlcompat runs");
    String::from_utf8(output.stdout).expect("the report is UTF-8")
}

fn report(project: &str, profile: &str, format: &str) -> String {
    let project = format!("fixtures/projects/{project}");
    let profile = format!("fixtures/profiles/{profile}.yaml");
    run(&["check", &project, "--profile", &profile, "--format", format])
}

#[test]
fn every_format_on_every_fixture() {
    for project in PROJECTS {
        for profile in PROFILES {
            for (format, extension) in [
                ("table", "txt"),
                ("json", "json"),
                ("markdown", "md"),
                ("github", "txt"),
            ] {
                let name = format!("{project}__{profile}__{format}");
                insta::with_settings!({ snapshot_suffix => extension, prepend_module_to_snapshot => false }, {
                    insta::assert_snapshot!(name, report(project, profile, format));
                });
            }
        }
    }
}

#[test]
fn the_fleet_matrix_in_every_format() {
    for (format, extension) in [
        ("table", "txt"),
        ("json", "json"),
        ("markdown", "md"),
        ("github", "txt"),
    ] {
        let text = run(&[
            "check",
            "fixtures/projects/qlora-founding",
            "--profile",
            "fixtures/profiles/macbook-m2-8gb.yaml",
            "--profile",
            "fixtures/profiles/macbook-m3max-64gb.yaml",
            "--profile",
            "fixtures/profiles/linux-rtx3090.yaml",
            "--profile",
            "fixtures/profiles/linux-a100-80gb.yaml",
            "--format",
            format,
        ]);
        insta::with_settings!({ snapshot_suffix => extension, prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("fleet__qlora-founding__{format}"), text);
        });
    }
}

#[test]
fn ascii_quiet_and_verbose() {
    let base = [
        "check",
        "fixtures/projects/qlora-founding",
        "--profile",
        "fixtures/profiles/macbook-m2-8gb.yaml",
    ];
    for (name, flag) in [("ascii", "--ascii"), ("quiet", "-q"), ("verbose", "-v")] {
        let mut args = base.to_vec();
        args.push(flag);
        insta::with_settings!({ snapshot_suffix => "txt", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("qlora-founding__macbook-m2-8gb__{name}"), run(&args));
        });
    }
}

#[test]
fn the_table_at_80_columns_wraps_rather_than_truncates() {
    let output = Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .env("COLUMNS", "80")
        .args(["check", "fixtures/projects/qlora-founding"])
        .args([
            "--profile",
            "fixtures/profiles/macbook-m2-8gb.yaml",
            "--color",
            "never",
        ])
        .output()
        .expect("mlcompat runs");
    let text = String::from_utf8(output.stdout).expect("the report is UTF-8");
    for line in text.lines() {
        // Emoji take two columns on a terminal.
        let width: usize = line
            .chars()
            .map(|c| {
                if (c as u32) > 0x2600 && c != '\u{fe0f}' {
                    2
                } else {
                    usize::from(c != '\u{fe0f}')
                }
            })
            .sum();
        assert!(width <= 80, "{width} columns: {line}");
    }
    assert!(!text.contains('…'), "nothing is truncated");
    insta::with_settings!({ snapshot_suffix => "txt", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("qlora-founding__macbook-m2-8gb__table-80-columns", text);
    });
}
