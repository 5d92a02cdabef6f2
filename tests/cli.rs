//! The `mlcompat` binary end to end: the founding case, exit codes, colour, bad input.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::changes_of;

const FOUNDING: &str = "fixtures/projects/qlora-founding";
const UNPINNED: &str = "fixtures/projects/qlora-unpinned";
const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";
const A100: &str = "fixtures/profiles/linux-a100-80gb.yaml";

fn mlcompat() -> Command {
    let mut command = Command::cargo_bin("mlcompat").expect("the binary is built");
    command
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("TMUX")
        .env_remove("MLCOMPAT_ASCII")
        .env_remove("MLCOMPAT_EMOJI")
        .env("TERM", "xterm-256color")
        .env("COLUMNS", "100");
    command
}

/// `check --format json`, parsed, with its exit code.
fn check_json(project: &str, profile: &str) -> (Value, i32) {
    let output = mlcompat()
        .args(["check", project, "--profile", profile, "--format", "json"])
        .output()
        .expect("mlcompat runs");
    let report = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    (report, output.status.code().expect("exited"))
}

fn status_of<'a>(report: &'a Value, component: &str) -> &'a str {
    report["components"]
        .as_array()
        .expect("components is a list")
        .iter()
        .find(|c| c["name"] == component)
        .unwrap_or_else(|| panic!("no component {component} in {report:#}"))["status"]
        .as_str()
        .expect("status is a string")
}

#[test]
fn the_founding_case_on_the_m2() {
    let (report, code) = check_json(FOUNDING, M2);
    for failing in [
        "bitsandbytes",
        "pytorch-cuda",
        "cudatoolkit",
        "load_in_4bit",
    ] {
        assert_eq!(status_of(&report, failing), "fail", "{failing}");
    }
    assert_ne!(status_of(&report, "memory"), "ok");
    assert_eq!(status_of(&report, "torch"), "warn");
    for working in ["transformers", "peft", "datasets"] {
        assert_eq!(status_of(&report, working), "ok", "{working}");
    }
    assert_eq!(report["verdict"], "fail");
    assert_eq!(code, 1);
}

#[test]
fn the_memory_finding_quotes_the_need_and_the_gpu_share() {
    let (report, _) = check_json(FOUNDING, M2);
    let memory = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["component"] == "memory")
        .expect("a memory finding");
    let problem = memory["problem"].as_str().unwrap();
    assert!(problem.contains("7B params"), "{problem}");
    assert!(problem.contains("of the 8 GB"), "{problem}");
}

#[test]
fn nothing_fails_on_the_a100() {
    let (report, code) = check_json(FOUNDING, A100);
    for component in report["components"].as_array().unwrap() {
        assert_ne!(component["status"], "fail", "{component:#}");
    }
    assert_eq!(code, 0);
}

#[test]
fn unpinned_bitsandbytes_on_the_m2_warns_and_names_the_version_that_works() {
    let (report, _) = check_json(UNPINNED, M2);
    assert_eq!(status_of(&report, "bitsandbytes"), "warn");
    let changes: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert!(
        changes.contains(&"`bitsandbytes` -> `bitsandbytes>=0.50`"),
        "{changes:?}"
    );
}

#[test]
fn fail_on_sets_the_exit_code() {
    let run = |fail_on: &str| {
        mlcompat()
            .args(["check", FOUNDING, "--profile", A100, "--fail-on", fail_on])
            .output()
            .unwrap()
            .status
            .code()
    };
    // On the A100 the worst is a warning (PyPI torch is a CUDA 13 build, the driver is 535).
    assert_eq!(run("fail"), Some(0));
    assert_eq!(run("warn"), Some(1));
    assert_eq!(run("never"), Some(0));
    let never_on_m2 = mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(never_on_m2.status.code(), Some(0));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let escape = predicate::str::contains("\u{1b}[");
    mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--color", "always"])
        .assert()
        .stdout(escape.clone());
    mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--color", "never"])
        .assert()
        .stdout(escape.clone().not());
    // Piped (as here) with `auto`, and with NO_COLOR set: no escapes.
    mlcompat()
        .args(["check", FOUNDING, "--profile", M2])
        .assert()
        .stdout(escape.clone().not());
    mlcompat()
        .env("NO_COLOR", "1")
        .args(["check", FOUNDING, "--profile", M2, "--color", "auto"])
        .assert()
        .stdout(escape.not());
}

#[test]
fn a_bad_profile_exits_2_naming_the_file_and_line() {
    let cases = [
        (
            "fixtures/profiles-bad/unknown-key.yaml",
            ":4:",
            "unknown field `ram`",
        ),
        ("fixtures/profiles-bad/wrong-type.yaml", ":4:", "invalid"),
        (
            "fixtures/profiles-bad/future-schema.yaml",
            ":1:",
            "upgrade mlcompat",
        ),
        ("fixtures/profiles-bad/malformed.yaml", ":3:", ""),
    ];
    for (file, line, words) in cases {
        mlcompat()
            .args(["check", FOUNDING, "--profile", file])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{file}{line}")))
            .stderr(predicate::str::contains(words));
    }
}

#[test]
fn a_missing_file_exits_2_naming_it() {
    mlcompat()
        .args([
            "check",
            FOUNDING,
            "--profile",
            "fixtures/profiles/no-such.yaml",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "fixtures/profiles/no-such.yaml: no such file",
        ));
    mlcompat()
        .args([
            "check",
            "fixtures/projects/no-such-project",
            "--profile",
            M2,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-project"));
}

#[test]
fn an_unknown_format_exits_2() {
    mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--format", "yml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format"));
}

#[test]
fn json_errors_still_give_a_json_document() {
    let output = mlcompat()
        .args([
            "check",
            FOUNDING,
            "--profile",
            "fixtures/profiles-bad/unknown-key.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        document["error"]["file"],
        "fixtures/profiles-bad/unknown-key.yaml"
    );
    assert_eq!(document["error"]["line"], 4);
}

#[test]
fn rules_test_and_lint_pass_on_the_builtin_catalogue() {
    mlcompat()
        .args(["rules", "test"])
        .assert()
        .success()
        .stdout(predicate::str::contains(" 0 failed"));
    mlcompat()
        .args(["rules", "lint"])
        .assert()
        .success()
        .stdout(predicate::str::contains(" 0 problems"));
}

#[test]
fn rules_list_and_show() {
    mlcompat()
        .args(["rules", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "bitsandbytes-no-apple-gpu-backend",
        ));
    mlcompat()
        .args(["rules", "show", "bitsandbytes-no-apple-gpu-backend"])
        .assert()
        .success()
        .stdout(predicate::str::contains("source:"))
        .stdout(predicate::str::contains("rules/bitsandbytes.yaml:"));
    mlcompat()
        .args(["rules", "show", "no-such-rule"])
        .assert()
        .code(2);
}

#[test]
fn extra_rules_are_added_and_bad_ones_are_refused_with_a_line() {
    let folder = tempfile::tempdir().unwrap();
    let extra = folder.path().join("extra.yaml");
    std::fs::write(
        &extra,
        "rules:\n  - id: sqlalchemy-ok\n    component: sqlalchemy\n    when: { package: sqlalchemy }\n    status: ok\n    title: fine\n    source: test\n    verified: 2026-11-29\n    tests:\n      - { profile: macbook-m2-8gb, project: { requirements: [sqlalchemy] }, expect: ok }\n",
    )
    .unwrap();
    let output = mlcompat()
        .args([
            "check",
            FOUNDING,
            "--profile",
            M2,
            "--format",
            "json",
            "--rules",
        ])
        .arg(&extra)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status_of(&report, "sqlalchemy"), "ok");
    mlcompat()
        .args(["rules", "test"])
        .arg(&extra)
        .assert()
        .success();

    std::fs::write(
        &extra,
        "rules:\n  - id: x\n    component: x\n    when: { cpu_brand: amd }\n",
    )
    .unwrap();
    mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--rules"])
        .arg(&extra)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("extra.yaml:4:"));
}

#[test]
fn ascii_mode_prints_no_non_ascii() {
    let output = mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--ascii", "-v"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.is_ascii(), "{text}");
    assert!(text.contains("[FAIL]"));
}

#[test]
fn a_fleet_exits_with_its_worst_verdict_and_json_has_one_report_per_machine() {
    let output = mlcompat()
        .args([
            "check",
            FOUNDING,
            "--profile",
            M2,
            "--profile",
            A100,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let fleet: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(fleet["schema_version"], 1);
    assert_eq!(fleet["verdict"], "fail");
    let machines = fleet["machines"].as_array().unwrap();
    assert_eq!(machines.len(), 2);
    assert_eq!(machines[0]["name"], "macbook-m2-8gb");
    assert_eq!(machines[0]["report"]["verdict"], "fail");
    assert_eq!(machines[1]["report"]["verdict"], "warn");
}

#[test]
fn an_empty_profile_folder_is_an_error() {
    let folder = tempfile::tempdir().unwrap();
    mlcompat()
        .args(["check", FOUNDING, "--profile"])
        .arg(folder.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no profiles"));
}

#[test]
fn completions_man_and_help_examples() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        mlcompat()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("mlcompat"));
    }
    mlcompat()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH mlcompat"));
    for command in ["check", "probe", "rules", "completions", "man"] {
        mlcompat()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"));
    }
}

/// A rule about a key nothing built in asks for makes the scanner read that key, at any
/// nesting: the catalogue, not a list in the scanner, decides what a config is read for.
#[test]
fn a_rules_file_about_a_new_key_fires_on_a_nested_config() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("train.yaml"),
        "site:\n  cluster:\n    my_site_flag: true\n",
    )
    .unwrap();
    let rules = dir.path().join("site.yaml");
    std::fs::write(
        &rules,
        r#"rules:
  - id: my-site-flag
    component: my_site_flag
    when: { setting: { key: my_site_flag, is: true } }
    status: fail
    title: "my_site_flag needs the site cluster"
    source: https://example.org/site
    verified: 2026-12-02
    tests:
      - profile: macbook-m2-8gb
        project: { settings: { my_site_flag: true } }
        expect: fail
"#,
    )
    .unwrap();
    let output = mlcompat()
        .args(["check"])
        .arg(&project)
        .args(["--profile", M2, "--format", "json", "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status_of(&report, "my_site_flag"), "fail");
    let finding = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "my-site-flag")
        .unwrap()["evidence"][0];
    assert_eq!(finding["file"], "train.yaml");
    assert_eq!(finding["line"], 3);
    // Without the rule, nothing asks for the key and it is not read.
    let (report, _) = check_json(project.to_str().unwrap(), M2);
    assert!(
        report["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "my_site_flag")
    );
    // The rule's own test runs through the scanner too.
    mlcompat()
        .args(["rules", "test"])
        .arg(&rules)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
}

/// Launch settings the built-in rules name are read from a real config at any depth
/// (`nproc_per_node` was once missing from the scanner's list, so the rule never fired).
#[test]
fn nproc_per_node_in_a_config_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("launch.yaml"),
        "distributed:\n  nproc_per_node: 8\n",
    )
    .unwrap();
    let (report, _) = check_json(
        dir.path().to_str().unwrap(),
        "fixtures/profiles/linux-rtx3090.yaml",
    );
    assert_ne!(status_of(&report, "nproc_per_node"), "ok", "{report:#}");
}

/// A rule test runs on real files through the scanner: a test that expects a conda-only rule
/// to fire on a requirements line fails, because the scanner reads that line as a pip package.
#[test]
fn a_rule_test_the_scanner_cannot_satisfy_fails() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("conda-only.yaml");
    std::fs::write(
        &rules,
        r#"rules:
  - id: conda-only
    component: somepkg
    when: { package: { name: somepkg, installer: conda } }
    status: fail
    title: "conda's somepkg"
    source: https://example.org/somepkg
    verified: 2026-12-02
    tests:
      - profile: macbook-m2-8gb
        project: { requirements: ["somepkg==1.0"] }
        expect: fail
      - profile: macbook-m2-8gb
        project: { conda: ["somepkg=1.0"] }
        expect: fail
"#,
    )
    .unwrap();
    mlcompat()
        .args(["rules", "test"])
        .arg(&rules)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("test 1: expected fail, got none"))
        .stdout(predicate::str::contains("1 passed, 1 failed"));
}

/// DESIGN.md: unknown is never reported as working. A folder with nothing to read, or a
/// project whose known parts are ok while another is unknown, has the verdict `unknown`;
/// `--fail-on unknown` makes CI fail on it.
#[test]
fn nothing_judged_or_partly_unknown_is_never_ok() {
    let empty = tempfile::tempdir().unwrap();
    let (report, code) = check_json(empty.path().to_str().unwrap(), M2);
    assert_eq!(report["verdict"], "unknown");
    assert_eq!(code, 0);
    mlcompat()
        .args(["check"])
        .arg(empty.path())
        .args(["--profile", M2, "--fail-on", "unknown", "-q"])
        .assert()
        .code(1);

    let partly = tempfile::tempdir().unwrap();
    std::fs::write(
        partly.path().join("requirements.txt"),
        "transformers\nsome-package-no-rule-knows==1.0\n",
    )
    .unwrap();
    let (report, _) = check_json(partly.path().to_str().unwrap(), A100);
    assert_eq!(status_of(&report, "transformers"), "ok");
    assert_eq!(status_of(&report, "some-package-no-rule-knows"), "unknown");
    assert_eq!(report["verdict"], "unknown");
}

const VLLM_CHECKOUT: &str = "fixtures/projects/own-distribution-vllm";
const WINDOWS: &str = "fixtures/profiles/windows-rtx4090.yaml";

/// A checkout of vLLM's own repository is judged as `pip install vllm` from it would be: vLLM
/// runs on Linux only, so on Windows the checkout is ❌ as the package is, at the line that
/// names it.
#[test]
fn a_checkout_of_a_package_is_judged_by_the_rules_about_that_package() {
    let (report, code) = check_json(VLLM_CHECKOUT, WINDOWS);
    assert_eq!(report["verdict"], "fail", "{report:#}");
    assert_eq!(code, 1);
    let vllm = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "vllm")
        .expect("the project's own package is a component");
    assert_eq!(vllm["status"], "fail");
    assert_eq!(vllm["kind"], "package");
    assert_eq!(vllm["evidence"][0]["file"], "pyproject.toml");
    assert_eq!(vllm["evidence"][0]["line"], 7);
    let findings: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["component"] == "vllm")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(findings.contains(&"vllm-linux-only"), "{findings:?}");
    // The index knows which wheels vLLM's releases have; the checkout builds its own, so the
    // index's wheel facts are not applied to it.
    assert!(!findings.contains(&"index-wheel"), "{findings:?}");
    // The name is not a requirement: no edit removes or replaces it.
    let changes = changes_of(&report);
    assert!(
        changes.iter().all(|c| !c.starts_with("pyproject.toml:7 ")),
        "{changes:#?}"
    );
}

#[test]
fn on_linux_with_an_nvidia_gpu_the_checkout_runs_as_vllm_does() {
    let (report, _) = check_json(VLLM_CHECKOUT, A100);
    assert_eq!(status_of(&report, "vllm"), "ok", "{report:#}");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["component"] == "vllm")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // The rules' judgement; the index's wheels of vLLM's releases are not the checkout's.
    assert_eq!(rules, ["vllm-on-nvidia"]);
    assert_eq!(report["verdict"], "ok");
}

/// setup.cfg's `[metadata] name` (with its static version) names the package the checkout
/// builds: flash-attn's CUDA kernels do not build on a Mac.
#[test]
fn a_setup_cfg_name_is_the_projects_own_package() {
    let (report, _) = check_json("fixtures/projects/own-distribution-setup", M2);
    assert_eq!(status_of(&report, "flash-attn"), "fail", "{report:#}");
    let flash = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "flash-attn")
        .unwrap();
    assert_eq!(flash["evidence"][0]["file"], "setup.cfg");
    assert_eq!(flash["evidence"][0]["line"], 2);
    assert_eq!(report["verdict"], "fail");
}

/// The report leads with the verdict: the table's and the Markdown's first line is the verdict
/// with its counts.
#[test]
fn reports_lead_with_the_verdict_and_its_counts() {
    let (report, _) = check_json(FOUNDING, M2);
    let summary = &report["summary"];
    let counts = format!(
        "{} ok, {} warn, {} fail, {} unknown",
        summary["ok"], summary["warn"], summary["fail"], summary["unknown"]
    );
    for (format, lead) in [
        ("table", "❌ Will NOT work — "),
        ("markdown", "# ❌ Will NOT work — "),
    ] {
        let output = mlcompat()
            .args(["check", FOUNDING, "--profile", M2, "--color", "never"])
            .args(["--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert_eq!(first, format!("{lead}{counts}"), "{format}:\n{text}");
    }
}

/// `-q` prints the verdict and the required changes, and nothing else.
#[test]
fn quiet_prints_the_verdict_and_the_required_changes_only() {
    let (report, _) = check_json(FOUNDING, M2);
    let changes = changes_of(&report);
    assert!(!changes.is_empty());
    let output = mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--color", "never", "-q"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("❌ Will NOT work — "), "{text}");
    assert_eq!(lines.len(), 1 + changes.len(), "{text}");
    for (line, change) in lines[1..].iter().zip(&changes) {
        // `  file:line  change`, the place padded to line the changes up.
        let (place, rest) = change.split_once(' ').unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], place, "{line}");
        assert_eq!(
            line.trim_start()[place.len()..].trim_start(),
            rest,
            "{line}"
        );
    }
    // With nothing to change, the verdict alone.
    let output = mlcompat()
        .args([
            "check",
            VLLM_CHECKOUT,
            "--profile",
            A100,
            "--color",
            "never",
            "-q",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
}
