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
    // A folder name without a version, so the probe reads METADATA for it; torch's folder name
    // says its version, so torch/version.py is read for its build.
    std::fs::create_dir_all(site.join("evil.dist-info")).unwrap();
    std::fs::create_dir_all(site.join("torch-2.5.1.dist-info")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", site.join("evil.dist-info/METADATA")).unwrap();
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

// ---------------------------------------------------------------------------------------------
// 6. Silence where there should be an error
// ---------------------------------------------------------------------------------------------

/// Runs the binary as an unprivileged user when the tests run as root (permissions do not stop
/// root), with its output in files and a time limit.
fn run_unprivileged(args: &[&std::ffi::OsStr], scratch: &Path) -> (Option<i32>, String, String) {
    use std::os::unix::process::CommandExt;
    let stdout = scratch.join("stdout");
    let stderr = scratch.join("stderr");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut binary = assert_cmd::cargo::cargo_bin("mlcompat");
    if root {
        // The other user may not be able to reach the build folder (a checkout under a private
        // folder): run a copy from the shared scratch folder.
        let copy = scratch.join("mlcompat");
        if std::fs::hard_link(&binary, &copy).is_err() {
            std::fs::copy(&binary, &copy).unwrap();
        }
        binary = copy;
    }
    let mut command = std::process::Command::new(binary);
    command
        .args(args)
        .env("COLUMNS", "100")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap());
    if root {
        command.uid(65534).gid(65534);
    }
    let mut child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + GUARD;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("mlcompat {args:?} did not finish in {GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code(),
        std::fs::read_to_string(stdout).unwrap(),
        std::fs::read_to_string(stderr).unwrap(),
    )
}

/// A temporary folder that another user can enter (tempfile makes them private).
fn shared_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

#[test]
fn an_unreadable_project_folder_is_exit_2_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let dir = shared_tempdir();
    let project = dir.path().join("project");
    write(&project.join("requirements.txt"), "bitsandbytes==0.41.1\n");
    std::fs::set_permissions(&project, std::fs::Permissions::from_mode(0o311)).unwrap();
    // The other user may not reach the checkout's fixtures: a copy in the shared folder.
    let profile = dir.path().join("m2.yaml");
    std::fs::copy(M2, &profile).unwrap();
    let (code, stdout, stderr) = run_unprivileged(
        &[
            "check".as_ref(),
            project.as_os_str(),
            "--profile".as_ref(),
            profile.as_os_str(),
        ],
        dir.path(),
    );
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("project: cannot list the folder: permission denied"),
        "{stderr}"
    );
}

#[test]
fn an_unreadable_sub_folder_is_noted() {
    use std::os::unix::fs::PermissionsExt;
    let dir = shared_tempdir();
    let project = dir.path().join("project");
    write(&project.join("requirements.txt"), "torch\n");
    write(&project.join("configs/qlora.yaml"), "load_in_4bit: true\n");
    std::fs::set_permissions(&project, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        project.join("configs"),
        std::fs::Permissions::from_mode(0o300),
    )
    .unwrap();
    // The other user may not reach the checkout's fixtures: a copy in the shared folder.
    let profile = dir.path().join("m2.yaml");
    std::fs::copy(M2, &profile).unwrap();
    let (code, stdout, stderr) = run_unprivileged(
        &[
            "check".as_ref(),
            project.as_os_str(),
            "--profile".as_ref(),
            profile.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("configs/: cannot be listed (permission denied)"),
        "{stdout}"
    );
}

#[test]
fn a_fifo_or_device_as_path_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("requirements.txt");
    mkfifo(&fifo);
    for (path, what) in [
        (fifo.as_path(), "is a FIFO"),
        (Path::new("/dev/null"), "is a character device"),
    ] {
        mlcompat()
            .arg("check")
            .arg(path)
            .args(["--profile", M2])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(what))
            .stdout(predicate::str::contains("Nothing to judge").not());
    }
}

#[test]
fn an_include_naming_a_fifo_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("requirements.txt"),
        "torch\n-r extra.txt\n",
    );
    mkfifo(&dir.path().join("extra.txt"));
    mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "requirements.txt:2: includes extra.txt, which is a FIFO (named pipe), not a regular file",
        ));
}

#[test]
fn a_fifo_manifest_in_a_folder_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("requirements.txt"), "torch\n");
    mkfifo(&dir.path().join("environment.yml"));
    let output = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        json_of(&output)["notes"]
            .to_string()
            .contains("environment.yml: is a FIFO (named pipe), not a regular file"),
        "{output:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Symlinked manifests
// ---------------------------------------------------------------------------------------------

#[test]
fn a_link_to_a_manifest_inside_the_project_is_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    write(&project.join("deps/base.txt"), "bitsandbytes==0.41.1\n");
    symlink("deps/base.txt", project.join("requirements.txt")).unwrap();
    write(
        &dir.path().join("outside.yml"),
        "dependencies: [pytorch-cuda]\n",
    );
    symlink("../outside.yml", project.join("environment.yml")).unwrap();
    symlink("nowhere.yaml", project.join("config.yaml")).unwrap();
    let output = mlcompat()
        .arg("check")
        .arg(&project)
        .args(["--profile", M2, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json_of(&output);
    assert_eq!(report["verdict"], "fail", "{report:#}");
    assert!(report["files"].to_string().contains("requirements.txt"));
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("environment.yml: a link to a file outside the project folder"),
        "{notes}"
    );
    assert!(
        notes.contains("config.yaml: a link that leads nowhere"),
        "{notes}"
    );
    assert!(!report["components"].to_string().contains("pytorch-cuda"));
}

// ---------------------------------------------------------------------------------------------
// 9. One total budget for a run
// ---------------------------------------------------------------------------------------------

#[test]
fn hard_links_to_one_big_config_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("load_in_4bit: true\nrows:\n");
    while config.len() < 900_000 {
        config.push_str("  - [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]\n");
    }
    write(&dir.path().join("configs/c0000.yaml"), &config);
    for index in 1..2_000 {
        std::fs::hard_link(
            dir.path().join("configs/c0000.yaml"),
            dir.path().join(format!("configs/c{index:04}.yaml")),
        )
        .unwrap();
    }
    write(&dir.path().join("requirements.txt"), "torch\n");
    let started = std::time::Instant::now();
    let output = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2, "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let notes = json_of(&output)["notes"].to_string();
    assert!(
        notes.contains(
            "1999 file(s) are other names (hard or symbolic links) of files already read"
        ),
        "{notes}"
    );
    // 21 s before; a debug build on a loaded machine gets ample slack.
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn files_past_the_total_budget_are_skipped_with_one_note() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("requirements.txt"), "torch\n");
    let configs = dir.path().join("configs");
    std::fs::create_dir(&configs).unwrap();
    for index in 0..mlcompat::project::MAX_FILES + 20 {
        std::fs::write(
            configs.join(format!("c{index:05}.yaml")),
            format!("n: {index}\n"),
        )
        .unwrap();
    }
    let output = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2, "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json_of(&output);
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|n| n.contains("the files after it were not read"))
        .collect();
    assert_eq!(notes.len(), 1, "{report:#}");
    let limits = format!(
        "{} files and {} MiB",
        mlcompat::project::MAX_FILES,
        mlcompat::project::MAX_TOTAL_BYTES >> 20
    );
    assert!(notes[0].contains(&limits), "{notes:?}");
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. Terminal, Markdown and workflow-command injection
// ---------------------------------------------------------------------------------------------

/// Characters that drive a terminal or reorder what it shows: none may reach output raw.
const DRIVING: [char; 8] = [
    '\u{1b}', '\r', '\u{7}', '\u{85}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{8}',
];

fn assert_inert(text: &str, what: &str) {
    for c in DRIVING {
        assert!(
            !text.contains(c),
            "{what} has a raw U+{:04X}:\n{text}",
            u32::from(c)
        );
    }
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "{what} has a line that is a workflow command: {line:?}\n{text}"
        );
    }
}

/// A project whose names carry every kind of injection the review found.
fn injecting_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("environment.yml"),
        "dependencies:\n  - \"evil\\e]0;pwned\\apkg\"\n  - \"torch\\u202e\\u2066x\"\n  - \"[click](https://example.org)\"\n  - \"c1\\x85\\x9b31mred\"\n",
    );
    write(
        &dir.path().join("requirements.txt"),
        "bitsandbytes==0.41.1\nok\rhidden\n--index-url https://example.org/\u{1b}[8msecret\n",
    );
    // A config whose name breaks the line and starts a workflow command.
    write(
        &dir.path().join("a\n::error file=a,line=1::owned\r.yaml"),
        "load_in_4bit: true\n",
    );
    dir
}

#[test]
fn project_strings_reach_the_terminal_escaped() {
    let dir = injecting_project();
    for format in ["table", "markdown", "github"] {
        let output = mlcompat()
            .arg("check")
            .arg(dir.path())
            .args(["--profile", M2, "--fail-on", "never", "--color", "always"])
            .args(["--format", format, "-v"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        // Colour is on: the only ESC left must be mlcompat's own colour codes.
        let without_colour = strip_sgr(&stdout);
        if format == "github" {
            for c in DRIVING {
                assert!(!without_colour.contains(c), "{format}: {stdout}");
            }
        } else {
            assert_inert(&without_colour, format);
            // (GitHub annotations name only findings with evidence, none of them these.)
            assert!(
                stdout.contains("\\u{1b}"),
                "{format} shows the ESC: {stdout}"
            );
        }
    }
}

/// `ESC [ digits ; m` colour sequences removed, so what is left can be searched for raw ESC.
fn strip_sgr(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\u{1b}[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with('m') {
            rest = &tail[end + 1..];
        } else {
            out.push('\u{1b}');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn markdown_cannot_link_or_break_out_of_its_lines() {
    let dir = injecting_project();
    let output = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args([
            "--profile",
            M2,
            "--fail-on",
            "never",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let markdown = String::from_utf8(output.stdout).unwrap();
    assert_inert(&markdown, "markdown");
    assert!(!markdown.contains("[click](https"), "{markdown}");
    assert!(markdown.contains("\\[click\\]"), "{markdown}");
    // The fleet matrix too: two machines, a table with the names in its cells.
    let output = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args([
            "--profile",
            M2,
            "--profile",
            "fixtures/profiles/linux-a100-80gb.yaml",
        ])
        .args(["--fail-on", "never", "--format", "markdown"])
        .output()
        .unwrap();
    let fleet = String::from_utf8(output.stdout).unwrap();
    assert_inert(&fleet, "fleet markdown");
    assert!(!fleet.contains("[click](https"), "{fleet}");
}

#[test]
fn error_messages_on_stderr_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("requirements.txt"),
        "torch\n-r \u{1b}]0;pwned\u{7}\u{202e}x.txt\n",
    );
    let output = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_inert(&stderr, "stderr");
    assert!(
        stderr.contains("includes \\u{1b}]0;pwned\\u{7}\\u{202e}x.txt"),
        "{stderr}"
    );
}

#[test]
fn fix_shows_project_lines_escaped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("requirements.txt"),
        "bitsandbytes==0.41.1\n# \u{1b}[2J\u{9b}cleared\n::error file=x::y\n",
    );
    let output = mlcompat()
        .arg("fix")
        .arg(dir.path())
        .args(["--profile", M2, "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_inert(&stdout, "fix diff");
    assert!(stdout.contains("\\u{1b}[2J"), "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// 4. `probe -o` writes a regular file or a new path, and replaces only with --force
// ---------------------------------------------------------------------------------------------

#[test]
fn probe_output_refuses_fifos_links_and_devices() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    mkfifo(&fifo);
    let link = dir.path().join("stdout.yaml");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let mut refused = vec![fifo.clone(), link.clone()];
    // A device node of our own, so that a regression replaces nothing of the machine's.
    let device = dir.path().join("null.yaml");
    let name = std::ffi::CString::new(device.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid path, a mode, and the device number of /dev/null; fails unless root.
    if unsafe { libc::mknod(name.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0 {
        refused.push(device.clone());
    }
    for path in &refused {
        mlcompat()
            .args(["probe", "--force", "-o"])
            .arg(path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "mlcompat writes only a regular file or a new path",
            ));
    }
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(link.is_symlink());
    if refused.len() == 3 {
        assert!(
            std::fs::symlink_metadata(&device)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(left, refused.len(), "no temporary file is left");
}

#[test]
fn probe_output_never_replaces_a_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("me.yaml");
    std::fs::write(&existing, "mine").unwrap();
    mlcompat()
        .args(["probe", "-o"])
        .arg(&existing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "me.yaml: already exists; use --force",
        ));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "mine");
    let new = dir.path().join("new.yaml");
    mlcompat()
        .args(["probe", "-o"])
        .arg(&new)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&new)
            .unwrap()
            .starts_with("schema_version: 1")
    );
    mlcompat()
        .args(["probe", "-o", "-"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("schema_version: 1"));
}

// ---------------------------------------------------------------------------------------------
// 5. `fix --write`: no silent replacement, all files or none
// ---------------------------------------------------------------------------------------------

fn founding_copy(dir: &Path) -> PathBuf {
    let project = dir.join("p");
    std::fs::create_dir(&project).unwrap();
    for name in ["requirements.txt", "environment.yml", "config.yaml"] {
        std::fs::copy(Path::new(FOUNDING).join(name), project.join(name)).unwrap();
    }
    project
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn two_fix_runs_in_one_folder_never_both_succeed() {
    let bin = assert_cmd::cargo::cargo_bin("mlcompat");
    for _ in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let project = founding_copy(dir.path());
        let spawn = || {
            std::process::Command::new(&bin)
                .arg("fix")
                .arg(&project)
                .args(["--profile", M2, "--write", "--suffix", "mac"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut runs = [spawn(), spawn()];
        let deadline = std::time::Instant::now() + GUARD;
        let mut codes = [None, None];
        while codes.iter().any(Option::is_none) {
            for (run, code) in runs.iter_mut().zip(codes.iter_mut()) {
                if code.is_none()
                    && let Some(status) = run.try_wait().unwrap()
                {
                    *code = Some(status.code());
                }
            }
            if std::time::Instant::now() > deadline {
                runs.iter_mut().for_each(|r| {
                    let _ = r.kill();
                });
                panic!("fix --write did not finish");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let succeeded = codes.iter().filter(|c| **c == Some(Some(0))).count();
        assert!(succeeded <= 1, "both runs succeeded: {codes:?}");
        let written: Vec<String> = names_in(&project)
            .into_iter()
            .filter(|n| n.contains("-mac."))
            .collect();
        // All or none: the three files of the run that won, or nothing at all.
        assert!(
            written.len() == 3 && succeeded == 1 || written.is_empty() && succeeded == 0,
            "{codes:?} {written:?}"
        );
        assert!(
            !names_in(&project).iter().any(|n| n.contains("mlcompat-")),
            "temporary files left: {:?}",
            names_in(&project)
        );
    }
}

#[test]
fn fix_write_refuses_existing_names_even_a_dangling_link() {
    let dir = tempfile::tempdir().unwrap();
    let project = founding_copy(dir.path());
    std::os::unix::fs::symlink("gone", project.join("requirements-macos.txt")).unwrap();
    mlcompat()
        .arg("fix")
        .arg(&project)
        .args(["--profile", M2, "--write"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "requirements-macos.txt: already exists; use --force",
        ));
    assert!(project.join("requirements-macos.txt").is_symlink());
    assert_eq!(names_in(&project).len(), 4, "{:?}", names_in(&project));
}

#[test]
fn a_fix_that_fails_part_way_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let project = founding_copy(dir.path());
    std::fs::write(project.join("config-macos.yaml"), "old").unwrap();
    // The last file to be written cannot be: its name is a folder.
    std::fs::create_dir(project.join("requirements-macos.txt")).unwrap();
    std::fs::write(project.join("requirements-macos.txt/keep"), "keep").unwrap();
    let before = names_in(&project);
    mlcompat()
        .arg("fix")
        .arg(&project)
        .args(["--profile", M2, "--write", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "requirements-macos.txt: cannot write",
        ));
    assert_eq!(names_in(&project), before);
    assert_eq!(
        std::fs::read_to_string(project.join("config-macos.yaml")).unwrap(),
        "old"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. A closed or failing stdout is an error; a reader that stops early is not
// ---------------------------------------------------------------------------------------------

/// Runs mlcompat with `redirect` applied to its stdout by the shell; returns its exit code.
fn with_stdout(redirect: &str, args: &[&str]) -> Option<i32> {
    let script = format!("\"$0\" \"$@\" {redirect}; exit ${{PIPESTATUS[0]}}");
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(assert_cmd::cargo::cargo_bin("mlcompat"))
        .args(args)
        .timeout(GUARD)
        .output()
        .unwrap()
        .status
        .code()
}

#[test]
fn a_closed_stdout_is_exit_2_for_every_command() {
    let commands: [&[&str]; 6] = [
        &["check", FOUNDING, "--profile", M2, "--fail-on", "never"],
        &["probe"],
        &["fix", FOUNDING, "--profile", M2],
        &["rules", "list"],
        &["completions", "bash"],
        &["man"],
    ];
    for args in commands {
        assert_eq!(
            with_stdout(">&-", args),
            Some(2),
            "{args:?} with stdout closed"
        );
        if Path::new("/dev/full").exists() {
            assert_eq!(
                with_stdout(">/dev/full", args),
                Some(2),
                "{args:?} into /dev/full"
            );
        }
        // Throwing the output away on purpose is not an error either.
        assert_eq!(
            with_stdout(">/dev/null", args),
            Some(0),
            "{args:?} into /dev/null"
        );
        // `| head` stopping early is how pipelines end, not an error.
        assert_eq!(
            with_stdout("| (exec 0<&-)", args),
            Some(0),
            "{args:?} into a closed pipe"
        );
    }
}
