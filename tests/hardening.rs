//! Issue 15, the reliability review: each defect it found, reproduced with inputs the test makes
//! itself (FIFOs, links to devices, control characters in names) in a temporary folder. Every
//! command that could block runs under a timeout, so a regression fails instead of hanging.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const FOUNDING: &str = "fixtures/projects/qlora-founding";
const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";
/// Long enough for a slow debug build on a busy machine, far shorter than a hang.
const GUARD: Duration = Duration::from_secs(30);

fn mlcompat() -> Command {
    let mut command = Command::cargo_bin("mlcompat").expect("the binary is built");
    command
        .env_remove("NO_COLOR")
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env_remove("PYENV_VERSION")
        .env("COLUMNS", "100")
        .timeout(GUARD);
    command
}

fn mkfifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path and a mode.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0, "mkfifo");
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn executable(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    write(path, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

// ---------------------------------------------------------------------------------------------
// 1. The probe reads interpreter files through the capped, regular-files-only reader
// ---------------------------------------------------------------------------------------------

/// A pyenv install whose shim is first on PATH, so the probe looks for `.python-version` in
/// the working folder and above it. Returns the PATH to use.
fn fake_pyenv(dir: &Path) -> (PathBuf, std::ffi::OsString) {
    let root = dir.join("pyenv");
    executable(&root.join("shims/python3"), "echo 'Python 3.11.7'");
    executable(
        &root.join("versions/3.11.7/bin/python3"),
        "echo 'Python 3.11.7'",
    );
    let path = std::env::join_paths([root.join("shims"), "/usr/bin".into(), "/bin".into()]);
    (root, path.unwrap())
}

fn check_in(project: &Path, pyenv_root: &Path, path: &std::ffi::OsStr) -> std::process::Output {
    mlcompat()
        .current_dir(project)
        .env("PYENV_ROOT", pyenv_root)
        .env("PATH", path)
        .args(["check", ".", "--format", "json", "--fail-on", "never"])
        .output()
        .expect("mlcompat runs")
}

#[test]
fn a_python_version_linked_to_dev_zero_is_noted_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let (root, path) = fake_pyenv(dir.path());
    let project = dir.path().join("project");
    write(&project.join("requirements.txt"), "torch\n");
    std::os::unix::fs::symlink("/dev/zero", project.join(".python-version")).unwrap();
    let output = check_in(&project, &root, &path);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json_of(&output);
    assert!(
        report["notes"]
            .to_string()
            .contains(".python-version: is a character device, not a regular file"),
        "{report:#}"
    );
}

#[test]
fn a_python_version_fifo_does_not_hang_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let (root, path) = fake_pyenv(dir.path());
    let project = dir.path().join("project");
    write(&project.join("requirements.txt"), "torch\n");
    mkfifo(&project.join(".python-version"));
    let output = check_in(&project, &root, &path);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        json_of(&output)["notes"]
            .to_string()
            .contains(".python-version: is a FIFO"),
        "{output:?}"
    );
}

/// `VIRTUAL_ENV` points into the project, whose METADATA is a link to `/dev/zero`: it used to
/// abort the process (SIGABRT, out of memory while reading one endless "line").
#[test]
fn metadata_linked_to_dev_zero_in_a_project_venv_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let venv = project.join(".venv");
    write(&project.join("requirements.txt"), "torch\n");
    write(&venv.join("pyvenv.cfg"), "version = 3.11.7\n");
    executable(&venv.join("bin/python3"), "exit 1");
    let site = venv.join("lib/python3.11/site-packages");
    std::fs::create_dir_all(site.join("evil-1.0.dist-info")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", site.join("evil-1.0.dist-info/METADATA")).unwrap();
    std::fs::create_dir_all(site.join("torch")).unwrap();
    mkfifo(&site.join("torch/version.py"));
    let output = mlcompat()
        .env("VIRTUAL_ENV", &venv)
        .args(["check", "--format", "json", "--fail-on", "never"])
        .arg(&project)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let notes = json_of(&output)["notes"].to_string();
    assert!(notes.contains("METADATA: is a character device"), "{notes}");
    assert!(notes.contains("version.py: is a FIFO"), "{notes}");
}

// ---------------------------------------------------------------------------------------------
// 8. Profiles and rule files go through the same reader
// ---------------------------------------------------------------------------------------------

#[test]
fn a_profile_or_rules_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("profile.yaml");
    mkfifo(&fifo);
    mlcompat()
        .args(["check", FOUNDING, "--profile"])
        .arg(&fifo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("profile.yaml: is a FIFO"));
    mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--rules"])
        .arg(&fifo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("profile.yaml: is a FIFO"));
    mlcompat()
        .args(["check", FOUNDING, "--profile", "/dev/zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/dev/zero: is a character device, not a regular file",
        ));
}
