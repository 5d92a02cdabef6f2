//! `mlcompat fix`: edits in place, new files beside the originals, nothing lost, and every ❌ it
//! claims to address gone when the fixed project is checked again.

use std::path::Path;
use std::str::FromStr;

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
        let project = pipeline::scan(folder.path(), &profile, &catalogue, true).unwrap();
        let before = pipeline::judge_scanned(project.clone(), &profile, &[], &catalogue);
        let solved = fix::solve(folder.path(), &before, &project, &profile, &catalogue).unwrap();
        let mut plan = fix::plan(folder.path(), &before, &solved.edits, "macos").unwrap();
        assert!(!plan.files.is_empty(), "{name}: nothing to fix");
        let after = fix::verify(folder.path(), &plan, &profile, &catalogue).unwrap();
        fix::conclude(&mut plan, &before, Some(&after));
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
        .stdout(predicate::str::contains("+bitsandbytes>=0.50"))
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

/// `fix --format json` on a project for a profile: the document.
fn fix_json(project: &Path, profile: &Path, extra: &[&str]) -> serde_json::Value {
    let output = mlcompat()
        .args(["fix"])
        .arg(project)
        .arg("--profile")
        .arg(profile)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every edit of a fix document: (file, line, kind, change).
fn edits(document: &serde_json::Value) -> Vec<(String, u64, String, String)> {
    document["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|file| file["edits"].as_array().unwrap().clone())
        .map(|edit| {
            (
                edit["file"].as_str().unwrap().to_string(),
                edit["line"].as_u64().unwrap(),
                edit["edit"]["kind"].as_str().unwrap().to_string(),
                edit["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A Windows RTX 4090 machine whose Python is 3.11 (torch 2.1.2 has wheels for it).
fn windows_python_311(folder: &Path) -> std::path::PathBuf {
    let profile = std::fs::read_to_string("fixtures/profiles/windows-rtx4090.yaml")
        .unwrap()
        .replace("version: \"3.12.10\"", "version: \"3.11.9\"");
    assert!(profile.contains("3.11.9"));
    let path = folder.join("windows-py311.yaml");
    std::fs::write(&path, profile).unwrap();
    path
}

#[test]
fn founding_fix_keeps_qlora_by_requiring_a_bitsandbytes_with_an_apple_backend() {
    // Turning load_in_4bit off drops bitsandbytes but leaves a 7B LoRA needing 15.7 GB on an
    // 8 GB Mac; bitsandbytes>=0.50 has an Apple-GPU backend and keeps 4-bit QLoRA in memory.
    let folder = project_copy("qlora-founding");
    let document = fix_json(folder.path(), Path::new(M2), &[]);
    let changes: Vec<String> = edits(&document).into_iter().map(|e| e.3).collect();
    assert!(
        changes.contains(&"`bitsandbytes==0.41.1` -> `bitsandbytes>=0.50`".to_string()),
        "{changes:?}"
    );
    assert!(
        !changes.iter().any(|c| c.starts_with("load_in_4bit")),
        "{changes:?}"
    );
    let predicted = &document["predicted"];
    assert_eq!(predicted["summary"]["fail"], 0, "{predicted}");
    let memory = predicted["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "memory")
        .unwrap();
    assert_ne!(memory["status"], "fail", "{memory}");
}

#[test]
fn torch_2_1_2_on_windows_goes_to_an_index_that_carries_it() {
    let folder = project_copy("torch-family-pinned");
    let profile = windows_python_311(folder.path());
    let found = edits(&fix_json(folder.path(), &profile, &[]));
    let indexes: Vec<&str> = found
        .iter()
        .filter(|e| e.2 == "use_index")
        .map(|e| e.3.as_str())
        .collect();
    assert_eq!(indexes.len(), 1, "{found:?}");
    // cu126 starts at torch 2.6; cu121 and cu118 carry 2.1.2 (index/cuda-indexes.txt).
    assert!(indexes[0].contains("/whl/cu121"), "{found:?}");
    // The pins install as they are from that index: nothing else changes.
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn raising_torch_moves_torchvision_and_torchaudio_and_the_index_carries_it() {
    // Python 3.12 on Windows: torch 2.1.2 has no wheel for it, so torch is raised; its pinned
    // companions must move with it, and the CUDA index must carry the raised torch.
    let folder = project_copy("torch-family-pinned");
    let profile = Path::new("fixtures/profiles/windows-rtx4090.yaml");
    let document = fix_json(folder.path(), profile, &["--write"]);
    assert_eq!(document["predicted"]["summary"]["fail"], 0, "{document}");
    assert_eq!(document["predicted"]["summary"]["warn"], 0, "{document}");
    let fixed = std::fs::read_to_string(folder.path().join("requirements-windows.txt")).unwrap();
    let line = |name: &str| {
        fixed
            .lines()
            .find(|l| {
                l.starts_with(name)
                    && !l.starts_with(&format!("{name}vision"))
                    && !l.starts_with(&format!("{name}audio"))
            })
            .unwrap_or_else(|| panic!("no {name} in {fixed}"))
            .to_string()
    };
    assert_ne!(line("torch"), "torch==2.1.2", "{fixed}");
    assert_ne!(line("torchvision"), "torchvision==0.16.2", "{fixed}");
    assert_ne!(line("torchaudio"), "torchaudio==2.1.2", "{fixed}");
    // The index line names an index whose data row carries a torch release the fixed
    // requirement allows.
    let url = fixed
        .lines()
        .find_map(|l| l.strip_prefix("--extra-index-url "))
        .unwrap_or_else(|| panic!("no index in {fixed}"));
    let data = std::fs::read_to_string("index/cuda-indexes.txt").unwrap();
    let row = data
        .lines()
        .find(|l| l.starts_with(url) && l.split_whitespace().nth(1) == Some("torch"))
        .unwrap_or_else(|| panic!("{url} is not in index/cuda-indexes.txt"));
    let torch = line("torch");
    let spec = pep440_rs::VersionSpecifiers::from_str(&torch["torch".len()..]).unwrap();
    let carried = row.split_whitespace().skip(2).any(|series| {
        (0..20).any(|patch| {
            spec.contains(&pep440_rs::Version::from_str(&format!("{series}.{patch}")).unwrap())
        })
    });
    assert!(carried, "{url} carries nothing `{torch}` allows");
    // check on the folder reads the Windows files and agrees.
    let output = mlcompat()
        .args(["check"])
        .arg(folder.path())
        .arg("--profile")
        .arg(profile)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"], document["predicted"]["summary"]);
}

#[test]
fn never_two_edits_on_one_line() {
    // auto-gptq 0.5.1 on a Mac: one rule replaces it with gptqmodel, another removes it.
    let folder = project_copy("one-edit-per-line");
    let found = edits(&fix_json(folder.path(), Path::new(M2), &[]));
    assert!(!found.is_empty());
    for project in ["one-edit-per-line", "qlora-founding", "torch-family-pinned"] {
        for profile in [
            M2,
            "fixtures/profiles/linux-t4.yaml",
            "fixtures/profiles/windows-rtx4090.yaml",
        ] {
            let folder = project_copy(project);
            let found = edits(&fix_json(folder.path(), Path::new(profile), &[]));
            for (i, a) in found.iter().enumerate() {
                for b in &found[i + 1..] {
                    let same_line = (&a.0, a.1) == (&b.0, b.1);
                    // An index line is inserted above a requirement; it is not an edit of it.
                    // A launch line's options are set one by one (`--nnodes`, `--nproc-per-node`).
                    let one_is_index = a.2 == "use_index" || b.2 == "use_index";
                    let two_keys = a.2 == "set_value" && b.2 == "set_value" && a.3 != b.3;
                    assert!(
                        !same_line || one_is_index || two_keys,
                        "{project} on {profile}: {a:?} and {b:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn check_after_fix_write_judges_the_machines_files_and_agrees_with_the_prediction() {
    let folder = project_copy("qlora-founding");
    let document = fix_json(folder.path(), Path::new(M2), &["--write"]);
    let predicted = &document["predicted"];
    assert!(folder.path().join("requirements-macos.txt").exists());
    let output = mlcompat()
        .args(["check"])
        .arg(folder.path())
        .args(["--profile", M2, "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"], predicted["verdict"]);
    assert_eq!(report["summary"], predicted["summary"]);
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    for original in ["requirements.txt", "environment.yml", "config.yaml"] {
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with(&format!("{original}: not read"))),
            "{original} not set aside: {notes:?}"
        );
    }
    // Another machine reads the originals and sets the macOS files aside.
    let output = mlcompat()
        .args(["check"])
        .arg(folder.path())
        .args([
            "--profile",
            "fixtures/profiles/linux-a100-80gb.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(files.contains(&"requirements.txt"), "{files:?}");
    assert!(!files.iter().any(|f| f.contains("-macos")), "{files:?}");
}
