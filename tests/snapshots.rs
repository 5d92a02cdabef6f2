//! Snapshots of every report format on the fixture projects × fixture profiles, so a change in
//! what a person reads shows up in review (`cargo insta review`).

use assert_cmd::Command;

const PROJECTS: [&str; 2] = ["qlora-founding", "qlora-unpinned"];
const PROFILES: [&str; 2] = ["macbook-m2-8gb", "linux-a100-80gb"];

fn report(project: &str, profile: &str, format: &str) -> String {
    let output = Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .env("COLUMNS", "100")
        .env_remove("NO_COLOR")
        .args(["check", &format!("fixtures/projects/{project}")])
        .args(["--profile", &format!("fixtures/profiles/{profile}.yaml")])
        .args(["--format", format, "--color", "never"])
        .output()
        .expect("mlcompat runs");
    String::from_utf8(output.stdout).expect("the report is UTF-8")
}

#[test]
fn every_format_on_every_fixture() {
    for project in PROJECTS {
        for profile in PROFILES {
            for (format, extension) in [("table", "txt"), ("json", "json"), ("markdown", "md")] {
                let name = format!("{project}__{profile}__{format}");
                insta::with_settings!({ snapshot_suffix => extension, prepend_module_to_snapshot => false }, {
                    insta::assert_snapshot!(name, report(project, profile, format));
                });
            }
        }
    }
}
