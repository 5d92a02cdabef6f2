//! The GitHub Action and the pre-commit hooks are runnable as written: their files parse, every
//! input the action uses is declared, its check script runs the real binary on a fixture and
//! writes the annotations, SARIF, step summary and exit code a workflow reads, and the hooks
//! call the binary that pyproject.toml's wheel and `cargo install` both install.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_action_declares_every_input_it_uses_and_runs_its_script() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let declared: BTreeSet<&str> = action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let text = std::fs::read_to_string("action.yml").unwrap();
    for used in text.split("inputs.").skip(1) {
        let name: String = used
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            declared.contains(name.as_str()),
            "inputs.{name} is not declared"
        );
    }
    for input in action["inputs"].as_object().unwrap().values() {
        assert!(input["description"].is_string(), "{input}");
    }
    let steps = action["runs"]["steps"].as_array().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.contains(&"github/codeql-action/upload-sarif@v3"),
        "{uses:?}"
    );
    assert!(text.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\""));
    assert!(text.contains("$GITHUB_ACTION_PATH/scripts/github-action-check.sh"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata("scripts/github-action-check.sh")
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "the check script is executable");
    }
    // The self-test workflow uses this action on fixtures that exist.
    let workflow = yaml(".github/workflows/mlcompat.yml");
    let step = &workflow["jobs"]["check"]["steps"][1];
    assert_eq!(step["uses"], "./");
    assert!(Path::new(step["with"]["path"].as_str().unwrap()).is_dir());
    for profile in step["with"]["profiles"].as_str().unwrap().lines() {
        assert!(Path::new(profile).is_file(), "{profile}");
    }
}

#[test]
fn the_hooks_call_the_binary_the_packages_install() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().unwrap();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["mlcompat", "mlcompat-rust"]);
    for hook in hooks {
        assert_eq!(hook["entry"], "mlcompat check");
        assert_eq!(hook["pass_filenames"], false);
        assert!(["python", "rust"].contains(&hook["language"].as_str().unwrap()));
    }
    let pyproject: toml::Table =
        toml::from_str(&std::fs::read_to_string("pyproject.toml").unwrap()).unwrap();
    assert_eq!(
        pyproject["tool"]["maturin"]["bindings"].as_str(),
        Some("bin")
    );
    assert_eq!(
        pyproject["build-system"]["requires"][0].as_str(),
        Some("maturin>=1,<2")
    );
    let cargo: toml::Table =
        toml::from_str(&std::fs::read_to_string("Cargo.toml").unwrap()).unwrap();
    assert_eq!(cargo["package"]["name"].as_str(), Some("mlcompat"));
}

#[cfg(unix)]
#[test]
fn the_action_script_writes_annotations_sarif_summary_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let summary = dir.path().join("summary.md");
    let sarif = dir.path().join("mlcompat.sarif");
    let run = std::process::Command::new("bash")
        .arg("scripts/github-action-check.sh")
        .env("MLCOMPAT", assert_cmd::cargo::cargo_bin("mlcompat"))
        .env("INPUT_PATH", "fixtures/projects/qlora-founding")
        .env(
            "INPUT_PROFILES",
            "fixtures/profiles/macbook-m2-8gb.yaml\n  fixtures/profiles/linux-a100-80gb.yaml  \n\n",
        )
        .env("INPUT_FAIL_ON", "")
        .env("INPUT_CONFIG", "")
        .env("INPUT_SARIF", "true")
        .env("INPUT_SARIF_FILE", &sarif)
        .env("INPUT_SUMMARY", "true")
        .env("INPUT_ARGS", "--ascii")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert!(run.status.success(), "the script itself never fails");
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(
        stdout.contains("::error file=fixtures/projects/qlora-founding/requirements.txt,line=7,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(on macbook-m2-8gb)"),
        "both machines judged: {stdout}"
    );
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    assert!(outputs.contains(&format!("sarif-file={}\n", sarif.display())));
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let markdown = std::fs::read_to_string(&summary).unwrap();
    // The summary leads with the fleet's verdict.
    let first = markdown.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("# ") && first.contains(" of 2 machines"),
        "{markdown}"
    );
}

#[cfg(unix)]
#[test]
fn the_action_script_uses_the_projects_config_and_reports_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("requirements.txt"), "torch>=2.1\n").unwrap();
    std::fs::copy(
        "fixtures/profiles/linux-a100-80gb.yaml",
        project.join("a100.yaml"),
    )
    .unwrap();
    std::fs::write(
        project.join("mlcompat.toml"),
        "profiles = [\"a100.yaml\"]\nfail-on = \"warn\"\n",
    )
    .unwrap();
    let output = dir.path().join("output");
    let run = |project: &Path| {
        std::process::Command::new("bash")
            .arg("scripts/github-action-check.sh")
            .env("MLCOMPAT", assert_cmd::cargo::cargo_bin("mlcompat"))
            .env("INPUT_PATH", project)
            .env("GITHUB_OUTPUT", &output)
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap()
    };
    let first = run(&project);
    let stdout = String::from_utf8(first.stdout).unwrap();
    // The config's A100 and fail-on = warn: torch's CUDA 13 warning fails the job.
    assert!(stdout.contains("::warning file="), "{stdout}");
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .contains("exit-code=1")
    );

    std::fs::write(project.join("mlcompat.toml"), "fail_on = \"warn\"\n").unwrap();
    std::fs::remove_file(&output).unwrap();
    let second = run(&project);
    assert!(
        String::from_utf8(second.stderr)
            .unwrap()
            .contains("mlcompat.toml:1")
    );
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .contains("exit-code=2")
    );
}
