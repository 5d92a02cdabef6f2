//! Hostile input: projects, profiles and rule files from strangers. mlcompat must refuse what
//! it cannot read with exit 2 and the file named (the line where there is one), skip what is
//! merely not a manifest with a note, stay bounded in time and memory, run nothing it reads,
//! never touch the network, and never damage a file.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const FOUNDING: &str = "fixtures/projects/qlora-founding";
const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";

fn mlcompat() -> Command {
    let mut command = Command::cargo_bin("mlcompat").expect("the binary is built");
    command.env_remove("NO_COLOR").env("COLUMNS", "100");
    command
}

/// `check PROJECT --profile M2 --format json`: the report (or error document) and exit code.
fn check_json(project: &Path, extra: &[&str]) -> (Value, i32) {
    let output = mlcompat()
        .arg("check")
        .arg(project)
        .args(["--profile", M2, "--format", "json", "--fail-on", "never"])
        .args(extra)
        .output()
        .expect("mlcompat runs");
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (document, output.status.code().expect("exited"))
}

fn notes(report: &Value) -> String {
    report["notes"].to_string()
}

fn project_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("has a folder")).expect("folder");
        std::fs::write(path, content).expect("file");
    }
    dir
}

// ---------------------------------------------------------------------------------------------
// Limits, with clear errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_manifest_over_the_size_cap_is_refused_naming_it() {
    let mut big = b"torch\n".repeat((mlcompat::source::MAX_FILE_BYTES / 6 + 1) as usize);
    big.truncate(mlcompat::source::MAX_FILE_BYTES as usize + 1);
    let dir = project_with(&[("requirements.txt", &big)]);
    mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("requirements.txt"))
        .stderr(predicate::str::contains("byte limit"));
}

#[test]
fn a_big_json_file_is_a_data_file_skipped_with_a_note() {
    let mut big = b"[".to_vec();
    big.extend(b"1,".repeat(600_000));
    big.extend(b"1]");
    let dir = project_with(&[
        ("requirements.txt", b"torch\n"),
        ("rows.json", &big),
        ("config.yaml", b"load_in_4bit: true\n"),
    ]);
    let (report, code) = check_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        notes(&report).contains("rows.json: skipped, over"),
        "{report:#}"
    );
}

/// A stream reports size 0 and never ends: only regular files are read, so it is refused
/// before a byte is read.
#[cfg(target_os = "linux")]
#[test]
fn a_stream_without_end_is_refused() {
    mlcompat()
        .args(["check", FOUNDING, "--profile", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/dev/zero: is a character device, not a regular file",
        ));
}

/// A rule file whose conditions nest through aliases, ten times ten at each of nine levels:
/// 10^9 conditions once expanded. The parser's node budget stops it.
fn rules_alias_bomb() -> String {
    let mut text = String::from("rules:\n");
    for level in 0..10 {
        let when = if level == 0 {
            "&a0 { gpu: apple }".to_string()
        } else {
            let inner = vec![format!("*a{}", level - 1); 10].join(", ");
            format!("&a{level} {{ all: [{inner}] }}")
        };
        text.push_str(&format!(
            "  - {{ id: bomb-{level}, component: x, status: ok, title: t, source: s, \
             verified: 2026-11-29, when: {when} }}\n"
        ));
    }
    text
}

#[test]
fn yaml_alias_bombs_are_stopped_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("bomb.yaml");
    std::fs::write(&rules, rules_alias_bomb()).unwrap();
    mlcompat()
        .args(["check", FOUNDING, "--profile", M2, "--rules"])
        .arg(&rules)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bomb.yaml:"))
        .stderr(predicate::str::contains("alias bomb"));

    // The same in a training config: not a manifest, so a note, and the rest is judged.
    let mut config = String::from("x: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let inner = vec![format!("*a{}", level - 1); 10].join(", ");
        config.push_str(&format!("y{level}: &a{level} [{inner}]\n"));
    }
    let project = project_with(&[
        ("requirements.txt", b"torch\n"),
        ("config.yaml", config.as_bytes()),
    ]);
    let (report, code) = check_json(project.path(), &[]);
    assert_eq!(code, 0);
    assert!(notes(&report).contains("config.yaml:"), "{report:#}");
    assert!(notes(&report).contains("alias bomb"), "{report:#}");

    // One big string, aliased a thousand times: a gigabyte of text once expanded.
    let config = format!(
        "x: &a0 \"{}\"\ny: [{}]\n",
        "A".repeat(1_000_000),
        vec!["*a0"; 999].join(", ")
    );
    let project = project_with(&[
        ("requirements.txt", b"torch\n"),
        ("config.yaml", config.as_bytes()),
    ]);
    let (report, code) = check_json(project.path(), &[]);
    assert_eq!(code, 0);
    assert!(notes(&report).contains("alias bomb"), "{report:#}");
}

#[test]
fn too_many_aliases_in_a_profile_are_refused() {
    let mut text = String::from(
        "schema_version: 1\nsystem: { os: linux }\ngpus:\n  - &g { vendor: nvidia, name: T4 }\n",
    );
    text.push_str(&"  - *g\n".repeat(1_001));
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("many.yaml");
    std::fs::write(&profile, text).unwrap();
    mlcompat()
        .args(["check", FOUNDING, "--profile"])
        .arg(&profile)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("many.yaml:"))
        .stderr(predicate::str::contains(
            "aliases (`*name`) more than 1000 times",
        ));
}

#[test]
fn deep_nesting_is_refused_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "flow.yaml",
            format!("rules: {}{}\n", "[".repeat(5_000), "]".repeat(5_000)),
        ),
        (
            "conditions.yaml",
            format!(
                "rules:\n  - id: deep\n    component: x\n    status: ok\n    title: t\n    \
                 source: s\n    verified: 2026-11-29\n    when: {}{{ gpu: apple }}{}\n",
                "{ all: [".repeat(100),
                "] }".repeat(100)
            ),
        ),
    ] {
        let rules = dir.path().join(name);
        std::fs::write(&rules, text).unwrap();
        mlcompat()
            .args(["rules", "lint"])
            .arg(&rules)
            .assert()
            .code(2)
            .stderr(
                predicate::str::is_match(format!(
                    "{name}:[0-9]+:[0-9]+: is nested more than 64 levels"
                ))
                .unwrap(),
            );
    }
}

#[test]
fn invalid_utf8_binary_and_nul_bytes_are_refused_naming_file_and_line() {
    let cases: [(&[u8], &str); 3] = [
        (
            b"torch\nnumpy\n\xff\xfe\n",
            "requirements.txt:3: is not UTF-8 text",
        ),
        (b"torch\0numpy\n", "requirements.txt: is a binary file"),
        (
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
            "requirements.txt: is a binary file",
        ),
    ];
    for (content, expected) in cases {
        let dir = project_with(&[("requirements.txt", content)]);
        mlcompat()
            .arg("check")
            .arg(dir.path())
            .args(["--profile", M2])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
    // A binary file that is merely named like a config is skipped with a note.
    let dir = project_with(&[
        ("requirements.txt", b"torch\n"),
        ("weights.json", b"\x00\x01\x02binary"),
    ]);
    let (report, code) = check_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        notes(&report).contains("weights.json: is a binary file"),
        "{report:#}"
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_never_followed() {
    use std::os::unix::fs::symlink;
    let dir = project_with(&[("requirements.txt", b"torch\n-r loop.txt\n")]);
    symlink(".", dir.path().join("again")).unwrap();
    symlink("b", dir.path().join("a")).unwrap();
    symlink("a", dir.path().join("b")).unwrap();
    symlink("loop.txt", dir.path().join("loop.txt")).unwrap();
    // The folder loop and the link cycle are passed over; the include of a file that is a
    // link to itself is an error at its line.
    mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "requirements.txt:2: includes loop.txt",
        ));
    std::fs::write(dir.path().join("requirements.txt"), "torch\n").unwrap();
    let (report, code) = check_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(report["components"][0]["name"], "torch", "{report:#}");
}

#[test]
fn include_cycles_are_noted_not_followed() {
    let (report, code) = check_json(Path::new("fixtures/projects/requirements-cycle"), &[]);
    assert_eq!(code, 0);
    assert!(notes(&report).contains("include cycle"), "{report:#}");
}

#[test]
fn a_missing_or_unreadable_include_is_an_error_at_its_line() {
    let dir = project_with(&[
        ("requirements.txt", b"torch\n-r sub\n"),
        ("sub/x.txt", b"numpy\n"),
    ]);
    mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("requirements.txt:2: includes sub"));
}

/// Root reads through permissions, so this only bites for other users; as root it checks that
/// the run still ends cleanly.
#[cfg(unix)]
#[test]
fn unreadable_files_and_folders_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project_with(&[
        ("requirements.txt", b"torch\n"),
        ("locked/config.yaml", b"load_in_4bit: true\n"),
    ]);
    let manifest = dir.path().join("requirements.txt");
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(
        dir.path().join("locked"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let readable = std::fs::read(&manifest).is_ok();
    let assert = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2, "--fail-on", "never"])
        .assert();
    if readable {
        // Running as root: permissions do not stop reads.
        assert.success();
    } else {
        assert.code(2).stderr(predicate::str::contains(
            "requirements.txt: permission denied",
        ));
    }
    std::fs::set_permissions(
        dir.path().join("locked"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
}

/// A project folder with 100,000 files: the walk stops at its entry limit with a note, and the
/// top folder's requirements.txt is read wherever the listing puts it.
#[test]
fn a_folder_of_100000_files_is_cut_short_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..100_000 {
        std::fs::write(dir.path().join(format!("f{i:06}.txt")), b"").unwrap();
    }
    std::fs::write(
        dir.path().join("requirements.txt"),
        "bitsandbytes==0.41.1\n",
    )
    .unwrap();
    let (report, code) = check_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        notes(&report).contains("stopped looking after 20000 entries"),
        "{report:#}"
    );
    assert!(
        report["components"].to_string().contains("bitsandbytes"),
        "{report:#}"
    );
}

/// A manifest that declares far more than any project: the first 10,000 packages are judged,
/// the rest noted. (Before the cap and the name index, 300,000 lines took over a minute.)
#[test]
fn a_manifest_declaring_too_many_packages_is_cut_with_a_note() {
    let text: String = (0..12_000)
        .map(|i| format!("pkg{i}==1.{}\n", i % 50))
        .collect();
    let dir = project_with(&[("requirements.txt", text.as_bytes())]);
    let (report, code) = check_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        notes(&report).contains("requirements.txt:10001: stopped reading packages after 10000"),
        "{}",
        notes(&report)
    );
    assert_eq!(report["components"].as_array().unwrap().len(), 10_000);
}

/// A 200,000-character package name: the table shows the start of it, at once.
#[test]
fn a_huge_package_name_is_cut_in_the_table() {
    let name = format!("torch{}\n", "a".repeat(200_000));
    let dir = project_with(&[("requirements.txt", name.as_bytes())]);
    let output = mlcompat()
        .arg("check")
        .arg(dir.path())
        .args(["--profile", M2, "--fail-on", "never", "--color", "never"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(output.status.success());
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("…"), "{}", &shown[..shown.len().min(2000)]);
    assert!(shown.len() < 20_000);
}

// ---------------------------------------------------------------------------------------------
// Nothing from the project is run; nothing goes to the network
// ---------------------------------------------------------------------------------------------

/// An executable that leaves `marker/NAME` behind when anything runs it.
#[cfg(unix)]
fn trap(path: &Path, markers: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let name = path
        .strip_prefix(path.ancestors().nth(3).unwrap_or(Path::new("")))
        .unwrap_or(path)
        .to_string_lossy()
        .replace('/', "_");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\ntouch '{}'\necho 'Python 3.99.0'\n",
            markers.join(name).display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
fn hostile_project() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let markers = dir.path().join("markers");
    std::fs::create_dir_all(&markers).unwrap();
    let touch = |name: &str| format!("open({:?}, 'w')", markers.join(name).display().to_string());
    let files = [
        (
            "requirements.txt",
            "--index-url http://127.0.0.1:9/evil\n--extra-index-url http://127.0.0.1:9/more\n\
             -r http://127.0.0.1:9/remote.txt\nbitsandbytes==0.41.1\ntorch\n-e .\n"
                .to_string(),
        ),
        (
            "setup.py",
            format!(
                "import os\n{}\nfrom setuptools import setup\nsetup(install_requires=['numpy'])\n",
                touch("setup.py")
            ),
        ),
        ("conftest.py", touch("conftest.py")),
        ("sitecustomize.py", touch("sitecustomize.py")),
        ("usercustomize.py", touch("usercustomize.py")),
        ("evil.pth", format!("import os; {}\n", touch("pth"))),
        (
            "pyproject.toml",
            "[build-system]\nrequires = ['setuptools']\nbuild-backend = 'evil'\n\
             [project]\nname = 'x'\ndependencies = ['transformers']\n"
                .to_string(),
        ),
        (
            "config.yaml",
            "load_in_4bit: true\nmodel_name_or_path: meta-llama/Llama-2-7b-hf\n".to_string(),
        ),
    ];
    for (name, text) in files {
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join(name), text).unwrap();
    }
    for tool in [
        "python3",
        "python",
        "bin/python",
        "bin/python3",
        "venv/bin/python",
        "venv/bin/python3",
        ".venv/bin/python3",
        "nvidia-smi",
        "rocm-smi",
        "sysctl",
        "sw_vers",
        "pip",
        "uname",
        "lspci",
    ] {
        trap(&project.join(tool), &markers);
    }
    (dir, project, markers)
}

#[cfg(unix)]
fn assert_no_marker(markers: &Path, what: &str) {
    let left: Vec<_> = std::fs::read_dir(markers)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{what} ran project files: {left:?}");
}

#[cfg(unix)]
#[test]
fn check_and_fix_run_nothing_from_the_project() {
    let (_dir, project, markers) = hostile_project();
    let system_path = std::env::var_os("PATH").unwrap_or_default();
    let mut path = vec![project.clone(), project.join("bin"), PathBuf::from(".")];
    path.extend(std::env::split_paths(&system_path));
    let path = std::env::join_paths(path).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("mlcompat");
    let runs: [&[&str]; 5] = [
        &["check", "--format", "json", "--fail-on", "never"],
        &["check", ".", "--fail-on", "never", "--verbose"],
        &["check", "requirements.txt", "--fail-on", "never"],
        &["fix", "."],
        &["fix", ".", "--write", "--suffix"],
    ];
    for args in runs {
        for venv in ["venv", ".venv"] {
            let mut command = std::process::Command::new(&binary);
            command.args(args);
            if args.ends_with(&["--suffix"]) {
                // A new name each time: what one run writes, the next reads as an original.
                command.arg(format!("safe{}", venv.len()));
            }
            let output = command
                .current_dir(&project)
                .env("PATH", &path)
                .env("VIRTUAL_ENV", project.join(venv))
                .env("CONDA_PREFIX", &project)
                .env("PYENV_ROOT", &project)
                .env("PYTHONSTARTUP", project.join("sitecustomize.py"))
                .output()
                .unwrap();
            assert!(
                output.status.code().is_some_and(|c| c <= 1),
                "mlcompat {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_no_marker(&markers, &format!("mlcompat {args:?}"));
        }
    }
    // The index is reported as data, never contacted.
    let output = std::process::Command::new(&binary)
        .args([
            "check",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--profile",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(M2))
        .current_dir(&project)
        .env("PATH", &path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(notes(&report).contains("was not fetched"), "{report:#}");
    assert_no_marker(&markers, "check --profile");
}

/// `probe` started inside a hostile folder (PATH holding `.`) runs nothing from it either.
#[cfg(unix)]
#[test]
fn probe_never_runs_tools_from_a_relative_path_entry() {
    let (_dir, project, markers) = hostile_project();
    let system_path = std::env::var_os("PATH").unwrap_or_default();
    let mut path = vec![PathBuf::from("."), PathBuf::from("bin")];
    path.extend(std::env::split_paths(&system_path));
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("mlcompat"))
        .arg("probe")
        .current_dir(&project)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_no_marker(&markers, "probe");
}

/// A requirements file cannot make mlcompat read a file outside the audited folder, directly
/// or through a link: its lines would end up in the report's notes.
#[cfg(unix)]
#[test]
fn includes_outside_the_project_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-LINE\n").unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::os::unix::fs::symlink(&secret, project.join("innocent.txt")).unwrap();
    std::fs::write(
        project.join("requirements.txt"),
        format!(
            "torch\n-r {}\n-r ../secret.txt\n-c innocent.txt\n",
            secret.display()
        ),
    )
    .unwrap();
    let (report, code) = check_json(&project, &[]);
    assert_eq!(code, 0);
    let shown = report.to_string();
    assert!(!shown.contains("TOP-SECRET-LINE"), "{report:#}");
    assert!(
        notes(&report).contains("requirements.txt:3: ../secret.txt is outside the project folder"),
        "{report:#}"
    );
}

/// Only `mlcompat refresh` touches the network, through the one HTTP client in
/// src/index/http.rs (ureq over rustls): no other HTTP, TLS or async crate is linked, no source
/// file opens a socket itself, no other file names the client crate, and only refresh's command
/// makes a client. So `check`, `fix` and `probe` cannot reach the network. (What a project names
/// as an index is reported, never fetched.)
#[test]
fn network_code_is_confined_to_refresh() {
    let lock =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).unwrap();
    for client in [
        "reqwest",
        "hyper",
        "curl",
        "isahc",
        "attohttpc",
        "surf",
        "h2",
        "native-tls",
        "openssl",
        "tokio",
        "mio",
        "socket2",
    ] {
        assert!(
            !lock.contains(&format!("name = \"{client}\"")),
            "Cargo.lock pulls in {client}"
        );
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for socket in [
                "std::net",
                "TcpStream",
                "UdpSocket",
                "TcpListener",
                "UnixStream",
            ] {
                assert!(!text.contains(socket), "{} uses {socket}", path.display());
            }
            let relative = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if relative != "index/http.rs" {
                assert!(
                    !text.contains("ureq"),
                    "{relative} names the HTTP client crate"
                );
            }
            if !matches!(relative.as_str(), "index/http.rs" | "cli/refresh.rs") {
                assert!(
                    !text.contains("Client::new"),
                    "{relative} makes an HTTP client"
                );
            }
        }
    }
}

/// Rule files are data: text that looks like a command or a path is printed, never acted on.
#[cfg(unix)]
#[test]
fn a_rule_cannot_run_a_command_or_read_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CONTENT").unwrap();
    let m = marker.display();
    let s = secret.display();
    let rules = format!(
        "rules:\n\
         - id: evil-$(touch {m})\n\
         \x20 component: torch\n\
         \x20 when: {{ package: torch }}\n\
         \x20 status: warn\n\
         \x20 title: \"`touch {m}` $(touch {m}) {{ram}} {s}\"\n\
         \x20 problem: \"<!-- {s} --> ${{HOME}} {{{s}}} @{s}\"\n\
         \x20 solution: [\"$(cat {s})\"]\n\
         \x20 source: \"file://{s}\"\n\
         \x20 verified: 2026-11-29\n"
    );
    let file = dir.path().join("evil.yaml");
    std::fs::write(&file, rules).unwrap();
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
        .arg(&file)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains("$(touch"),
        "the rule's text is shown as written: {report}"
    );
    assert!(!report.contains("TOP-SECRET-CONTENT"), "a rule read a file");
    for command in [
        &["rules", "lint"][..],
        &["rules", "test"],
        &["rules", "show", "x"],
    ] {
        let _ = mlcompat().args(command).arg(&file).output().unwrap();
    }
    assert!(!marker.exists(), "a rule ran a command");
}

// ---------------------------------------------------------------------------------------------
// Writing files
// ---------------------------------------------------------------------------------------------

fn probe_to(path: &Path) -> assert_cmd::assert::Assert {
    mlcompat().args(["probe", "-o"]).arg(path).assert()
}

/// `probe -o PATH --force`: replacing an existing file is asked for.
fn probe_over(path: &Path) -> assert_cmd::assert::Assert {
    mlcompat()
        .args(["probe", "--force", "-o"])
        .arg(path)
        .assert()
}

#[test]
fn writing_under_a_regular_file_or_into_proc_is_exit_2_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, "keep").unwrap();
    let under = file.join("out.yaml");
    probe_to(&under)
        .code(2)
        .stderr(predicate::str::contains(under.display().to_string()))
        .stderr(predicate::str::contains("cannot write"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
    if cfg!(target_os = "linux") {
        probe_over(Path::new("/proc/version"))
            .code(2)
            .stderr(predicate::str::contains("/proc/version: cannot write"));
        probe_to(Path::new("/proc/self/nonexistent/out.yaml"))
            .code(2)
            .stderr(predicate::str::contains("/proc/self/nonexistent/out.yaml"));
    }
}

#[test]
fn a_failed_write_leaves_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a folder with something in it: the rename fails, the folder is intact and
    // no temporary file is left behind.
    let target = dir.path().join("out.yaml");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inside"), "keep").unwrap();
    probe_to(&target)
        .code(2)
        .stderr(predicate::str::contains("out.yaml: cannot write"));
    assert_eq!(
        std::fs::read_to_string(target.join("inside")).unwrap(),
        "keep"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("out.yaml")]);
}

#[test]
fn a_successful_write_replaces_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("me.yaml");
    std::fs::write(&target, "x".repeat(100_000)).unwrap();
    probe_over(&target).success();
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("schema_version: 1"), "{written}");
    assert!(!written.contains("xxx"));
    mlcompat()
        .args(["check", FOUNDING, "--profile"])
        .arg(&target)
        .args(["--fail-on", "never"])
        .assert()
        .success();
}

/// `fix --write --force` into a project that planted a symlink where the fixed file goes:
/// the link is replaced, the file it points at is untouched.
#[cfg(unix)]
#[test]
fn fix_write_never_writes_through_a_planted_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    std::fs::create_dir(&project).unwrap();
    for name in ["requirements.txt", "environment.yml", "config.yaml"] {
        std::fs::copy(Path::new(FOUNDING).join(name), project.join(name)).unwrap();
    }
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, project.join("requirements-macos.txt")).unwrap();
    mlcompat()
        .arg("fix")
        .arg(&project)
        .args(["--profile", M2, "--write", "--force"])
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let written = project.join("requirements-macos.txt");
    assert!(!written.is_symlink());
    assert!(
        !std::fs::read_to_string(written)
            .unwrap()
            .contains("bitsandbytes==")
    );
}

// ---------------------------------------------------------------------------------------------
// Errors that speak to people, on stderr, and as JSON on stdout with --format json
// ---------------------------------------------------------------------------------------------

#[test]
fn a_newer_schema_version_names_both_versions() {
    mlcompat()
        .args(["check", FOUNDING, "--profile", "fixtures/profiles-bad/future-schema.yaml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "future-schema.yaml:1: schema_version 2 is newer than this mlcompat reads (1): upgrade mlcompat",
        ));
}

#[test]
fn json_errors_for_a_bad_include_and_a_bad_rules_file() {
    let dir = project_with(&[("requirements.txt", b"torch\n-r missing.txt\n")]);
    let (document, code) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    let error = &document["error"];
    assert!(
        error["file"]
            .as_str()
            .unwrap()
            .ends_with("requirements.txt"),
        "{document:#}"
    );
    assert_eq!(error["line"], 2, "{document:#}");
    assert!(
        error["message"].as_str().unwrap().contains("missing.txt"),
        "{document:#}"
    );

    let rules = dir.path().join("bad-rules.yaml");
    std::fs::write(&rules, "rules:\n  - id: x\n    colour: red\n").unwrap();
    let (document, code) = check_json(Path::new(FOUNDING), &["--rules", rules.to_str().unwrap()]);
    assert_eq!(code, 2);
    let error = &document["error"];
    assert!(
        error["file"].as_str().unwrap().ends_with("bad-rules.yaml"),
        "{document:#}"
    );
    assert_eq!(error["line"], 3, "{document:#}");
    assert!(
        error["message"].as_str().unwrap().contains("colour"),
        "{document:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Fuzzer finds
// ---------------------------------------------------------------------------------------------

/// Every input the fuzzers crashed on (kept in fuzz/seeds/TARGET/crash-*) now gives a report or
/// a clean exit 2, read the way `check` reads it. The file's extension says what it is.
#[test]
fn every_fuzz_crash_now_reads_cleanly() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut seen = 0;
    for target in std::fs::read_dir(&seeds).unwrap().flatten() {
        for crash in std::fs::read_dir(target.path()).unwrap().flatten() {
            let name = crash.file_name().to_string_lossy().into_owned();
            if !name.starts_with("crash-") {
                continue;
            }
            let as_name = match crash.path().extension().and_then(|e| e.to_str()) {
                Some("toml") => "pyproject.toml",
                Some("yml") => "environment.yml",
                Some("yaml") => "config.yaml",
                Some("json") => "train.json",
                Some("cfg") => "setup.cfg",
                Some("py") => "setup.py",
                _ => "requirements.txt",
            };
            let dir = project_with(&[(as_name, &std::fs::read(crash.path()).unwrap())]);
            let output = mlcompat()
                .arg("check")
                .arg(dir.path())
                .args(["--profile", M2, "--fail-on", "never"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.code() == Some(0)
                    || (output.status.code() == Some(2) && stderr.contains(as_name)),
                "{name}: {:?} {stderr}",
                output.status
            );
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            seen += 1;
        }
    }
    assert!(seen >= 2, "the crash seeds are there");
}
