//! `mlcompat fix`: edits in place, new files beside the originals, nothing lost, and every ❌ it
//! claims to address gone when the fixed project is checked again.

use std::path::Path;

use assert_cmd::Command;
use mlcompat::assessment::Status;
use mlcompat::profile::Profile;
use mlcompat::rules::Catalogue;
use mlcompat::{fix, pipeline};
use predicates::prelude::*;

const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";
const PROJECTS: [&str; 3] = ["qlora-founding", "qlora-unpinned", "fix-crlf-includes"];

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn project_copy(name: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    copy_tree(&Path::new("fixtures/projects").join(name), folder.path());
    folder
}

fn mlcompat() -> Command {
    let mut command = Command::cargo_bin("mlcompat").unwrap();
    command.env("NO_COLOR", "1");
    command
}

#[test]
fn every_failure_the_fix_claims_is_gone_after_it() {
    let profile = Profile::load(Path::new(M2)).unwrap();
    let catalogue = Catalogue::builtin().unwrap();
    for name in PROJECTS {
        let folder = project_copy(name);
        let before = pipeline::judge(folder.path(), &profile, &[], &catalogue).unwrap();
        let plan = fix::plan(folder.path(), &before, "macos").unwrap();
        assert!(!plan.files.is_empty(), "{name}: nothing to fix");
        let after = fix::verify(folder.path(), &plan, &profile, &catalogue).unwrap();
        let claimed: Vec<(&str, Status)> = before
            .findings
            .iter()
            .filter(|f| f.status >= Status::Warn && plan.addressed.contains(&f.rule))
            .map(|f| (f.rule.as_str(), f.status))
            .collect();
        assert!(!claimed.is_empty(), "{name}: the fix claims nothing");
        for (rule, status) in claimed {
            let still = after
                .findings
                .iter()
                .find(|f| f.rule == rule && f.status >= status);
            assert!(
                still.is_none(),
                "{name}: {rule} is still {status:?} after the fix: {still:?}"
            );
        }
        assert!(after.summary.fail < before.summary.fail || before.summary.fail == 0);
    }
}

#[test]
fn by_default_a_diff_is_printed_and_nothing_written() {
    let folder = project_copy("qlora-founding");
    let before: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    mlcompat()
        .args(["fix"])
        .arg(folder.path())
        .args(["--profile", M2])
        .assert()
        .success()
        .stdout(predicate::str::contains("+++ requirements-macos.txt"))
        .stdout(predicate::str::contains("-bitsandbytes==0.41.1"))
        .stdout(predicate::str::contains("+  load_in_4bit: false"))
        .stdout(predicate::str::contains("no edit can fix this"));
    let after: Vec<_> = std::fs::read_dir(folder.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(before.len(), after.len());
}

#[test]
fn write_creates_files_beside_the_originals_keeping_crlf_comments_and_includes() {
    let folder = project_copy("fix-crlf-includes");
    let original = std::fs::read(folder.path().join("requirements.txt")).unwrap();
    mlcompat()
        .args(["fix"])
        .arg(folder.path())
        .args(["--profile", M2, "--write"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "pip install -r requirements-macos.txt",
        ));
    // The original is untouched.
    assert_eq!(
        std::fs::read(folder.path().join("requirements.txt")).unwrap(),
        original
    );
    let fixed = std::fs::read_to_string(folder.path().join("requirements-macos.txt")).unwrap();
    assert_eq!(
        fixed,
        "# Runtime dependencies\r\n-r base-macos.txt\r\ntransformers>=4.40  # the model\r\n\r\npeft\r\n"
    );
    let base = std::fs::read_to_string(folder.path().join("base-macos.txt")).unwrap();
    assert_eq!(
        base,
        "numpy\nfaiss-cpu\nonnxruntime\nnvidia-cudnn-cu12==9.1.0.70 ; sys_platform != \"darwin\"\n"
    );
    let pyproject = std::fs::read_to_string(folder.path().join("pyproject-macos.toml")).unwrap();
    assert!(!pyproject.contains("xformers"));
    assert!(pyproject.contains("requires-python = \">=3.10\""));
    let config = std::fs::read_to_string(folder.path().join("train-macos.json")).unwrap();
    assert!(config.contains("\"optim\": \"adamw_torch\","), "{config}");
    assert!(
        config.contains("\"attn_implementation\": \"sdpa\","),
        "{config}"
    );
}

#[test]
fn existing_files_are_not_replaced_without_force() {
    let folder = project_copy("qlora-founding");
    let run = |extra: &[&str]| {
        mlcompat()
            .args(["fix"])
            .arg(folder.path())
            .args(["--profile", M2, "--write"])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(run(&[]).status.success());
    std::fs::write(folder.path().join("config-macos.yaml"), "mine\n").unwrap();
    let second = run(&[]);
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already exists; use --force"));
    assert_eq!(
        std::fs::read_to_string(folder.path().join("config-macos.yaml")).unwrap(),
        "mine\n"
    );
    assert!(run(&["--force"]).status.success());
    assert_ne!(
        std::fs::read_to_string(folder.path().join("config-macos.yaml")).unwrap(),
        "mine\n"
    );
}

#[test]
fn the_suffix_is_honoured() {
    let folder = project_copy("qlora-founding");
    mlcompat()
        .args(["fix"])
        .arg(folder.path())
        .args(["--profile", M2, "--suffix", "mac"])
        .assert()
        .success()
        .stdout(predicate::str::contains("+++ config-mac.yaml"))
        .stdout(predicate::str::contains("+      - -r requirements-mac.txt"));
}
