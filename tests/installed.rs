//! The installed environment against the declaration, through the real CLI: a profile that lists
//! installed packages (as `mlcompat probe` reads them from site-packages) gets a ⚠️ for an
//! installed version the project does not allow and for a CPU-only torch on an NVIDIA machine,
//! each with the command that fixes this environment.

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{Project, component, finding};

const CPU_TORCH: &str = "fixtures/environments/linux-a100-cpu-torch.yaml";

fn run(project: &Project, profile: &str, format: &str) -> std::process::Output {
    let cache = tempfile::tempdir().expect("a temporary folder");
    Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .env("MLCOMPAT_CACHE_DIR", cache.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .args([
            "check",
            project.path(),
            "--profile",
            profile,
            "--format",
            format,
        ])
        .args(["--fail-on", "never"])
        .output()
        .expect("mlcompat runs")
}

fn check_json(project: &Project, profile: &str) -> Value {
    let output = run(project, profile, "json");
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

fn status<'a>(report: &'a Value, name: &str) -> &'a Value {
    &component(report, name)["status"]
}

#[test]
fn a_cpu_torch_on_an_nvidia_machine_is_a_warning_with_the_uv_command_that_reinstalls_it() {
    let project = Project::with_requirements(&["torch==2.1.0", "transformers>=4.30"]);
    let report = check_json(&project, CPU_TORCH);
    assert_eq!(status(&report, "torch"), "warn", "{report:#}");
    let cpu = finding(&report, "installed-torch-cpu-build-on-nvidia");
    assert_eq!(cpu["status"], "warn");
    assert_eq!(
        cpu["title"],
        "Installed torch 2.1.0+cpu is a CPU-only build; the project needs a CUDA build for the \
         NVIDIA A100-SXM4-80GB"
    );
    assert_eq!(cpu["evidence"][0]["file"], "requirements.txt");
    assert_eq!(cpu["evidence"][0]["line"], 1);
    assert_eq!(
        cpu["solution"][0],
        "Reinstall torch as a CUDA build: uv pip install --python \
         /home/me/project/.venv/bin/python --reinstall-package torch torch==2.1.0"
    );
    // transformers 4.40.0 is what the project allows: nothing to say about it.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["component"] != "transformers"
                || !f["rule"].as_str().unwrap().starts_with("installed-")),
        "{report:#}"
    );
}

#[test]
fn an_installed_version_the_declaration_excludes_is_a_warning_with_the_pip_command() {
    let project = Project::with_requirements(&["numpy>=2,<3"]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let profile = dir.path().join("pip.yaml");
    let text = std::fs::read_to_string(CPU_TORCH)
        .unwrap()
        .replace("  installer: uv\n", "");
    std::fs::write(&profile, text).unwrap();
    let report = check_json(&project, profile.to_str().unwrap());
    assert_eq!(status(&report, "numpy"), "warn", "{report:#}");
    let outside = finding(&report, "installed-version-outside-declaration");
    assert_eq!(outside["component"], "numpy");
    assert_eq!(
        outside["title"],
        "Installed numpy 1.26.4; the project requires numpy>=2, <3"
    );
    assert_eq!(
        outside["solution"][0],
        "Install the declared version: /home/me/project/.venv/bin/python -m pip install \
         'numpy>=2,<3'"
    );
}

#[test]
fn the_terminal_report_shows_the_installed_build_and_the_command() {
    let project = Project::with_requirements(&["torch==2.1.0"]);
    let output = run(&project, CPU_TORCH, "table");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        text.contains("Installed torch 2.1.0+cpu is a CPU-only build"),
        "{text}"
    );
    assert!(
        text.contains("--reinstall-package torch torch==2.1.0"),
        "{text}"
    );
}

#[test]
fn a_profile_without_installed_packages_says_nothing_about_them() {
    let project = Project::with_requirements(&["torch==2.1.0", "numpy>=2"]);
    let report = check_json(&project, "fixtures/profiles/linux-a100-80gb.yaml");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["rule"].as_str().unwrap().starts_with("installed-")),
        "{report:#}"
    );
}
