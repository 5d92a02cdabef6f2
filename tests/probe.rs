//! `mlcompat probe` on this machine: it agrees with what the kernel says, its saved profile loads
//! back unchanged, and broken tools on PATH make fields unknown instead of hanging or crashing.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use mlcompat::profile::{Arch, Profile, Python, TorchBuild, Vendor};

fn mlcompat() -> Command {
    let mut command = Command::cargo_bin("mlcompat").unwrap();
    command.env_remove("MLCOMPAT_PROBE_TIMEOUT_MS");
    command
}

fn probe_yaml(command: &mut Command) -> (Profile, String) {
    let output = command.arg("probe").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let profile = Profile::parse(&stdout, Path::new("stdout.yaml")).unwrap();
    (profile, stderr)
}

fn tool(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// PATH with `dir` first, so its fake tools shadow the real ones.
fn path_with(dir: &Path) -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest)))
        .unwrap()
}

/// Whether the kernel driver could name NVIDIA GPUs even when nvidia-smi is broken.
fn kernel_knows_nvidia() -> bool {
    Path::new("/proc/driver/nvidia/gpus").exists()
}

fn assert_broken_nvidia_smi_is_a_note(body: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    tool(dir.path(), "nvidia-smi", body);
    let (profile, stderr) = probe_yaml(
        mlcompat()
            .env("PATH", path_with(dir.path()))
            .env("MLCOMPAT_PROBE_TIMEOUT_MS", "500"),
    );
    if !kernel_knows_nvidia() {
        assert_eq!(profile.gpus_of(Vendor::Nvidia).count(), 0, "{profile:?}");
    }
    assert!(stderr.contains("note: gpus (nvidia) unknown"), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
}

#[test]
fn a_hanging_nvidia_smi_is_cut_off() {
    // `sleep` is a grandchild holding stdout: only killing the process group ends the read.
    assert_broken_nvidia_smi_is_a_note("sleep 60", "did not finish within 500 ms");
}

#[test]
fn a_failing_nvidia_smi_is_a_note() {
    assert_broken_nvidia_smi_is_a_note(
        "echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.' >&2\nexit 1",
        "could not communicate with the NVIDIA driver",
    );
}

#[test]
fn an_nvidia_smi_printing_garbage_is_a_note() {
    assert_broken_nvidia_smi_is_a_note(
        "head -c 300 /dev/urandom | tr -d '\\000' | tr -c '[:print:]\\n' x",
        "printed no GPU",
    );
}

#[test]
fn a_machine_without_gpu_tools_reports_no_gpu_and_no_software_renderer() {
    let (profile, _) = probe_yaml(&mut mlcompat());
    assert!(
        profile.gpus.iter().all(|gpu| !gpu
            .name
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .contains("llvmpipe")),
        "{:?}",
        profile.gpus
    );
}

#[cfg(target_os = "linux")]
#[test]
fn system_values_agree_with_the_kernel() {
    let (profile, _) = probe_yaml(&mut mlcompat());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert_eq!(profile.system.memory.unwrap().0, total_kib * 1024);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let processors = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let cores = profile.system.cores.unwrap();
    assert_eq!(cores.logical, Some(u32::try_from(processors).unwrap()));
    assert!(
        cores
            .physical
            .is_some_and(|p| p >= 1 && p <= cores.logical.unwrap())
    );
    let expected_arch = match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        _ => "arm64",
    };
    assert_eq!(profile.system.arch.unwrap().to_string(), expected_arch);
}

#[test]
fn the_python_version_agrees_with_python3_dash_dash_version() {
    let Ok(output) = std::process::Command::new("python3")
        .arg("--version")
        .output()
    else {
        return; // no python3 here: nothing to compare
    };
    let printed = String::from_utf8_lossy(&output.stdout);
    let Some(expected) = printed.trim().strip_prefix("Python ") else {
        return;
    };
    if std::env::var_os("VIRTUAL_ENV").is_some() || std::env::var_os("CONDA_PREFIX").is_some() {
        return; // the probe prefers the environment, python3 on PATH may differ
    }
    let (profile, _) = probe_yaml(&mut mlcompat());
    let python = profile.python.expect("python3 is on PATH");
    assert_eq!(python.version.as_deref(), Some(expected));
}

#[test]
fn a_saved_profile_loads_back_to_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("machine.yaml");
    let json = dir.path().join("machine.json");
    mlcompat()
        .arg("probe")
        .arg("-o")
        .arg(&yaml)
        .assert()
        .success();
    mlcompat()
        .args(["probe", "--format", "json", "-o"])
        .arg(&json)
        .assert()
        .success();
    let (printed, _) = probe_yaml(&mut mlcompat());
    assert_eq!(Profile::load(&yaml).unwrap(), printed);
    assert_eq!(Profile::load(&json).unwrap(), printed);
}

#[test]
fn every_probed_field_survives_yaml_and_json() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/profiles/macbook-m2-8gb.yaml"),
    )
    .unwrap();
    let mut profile = Profile::parse(&text, Path::new("m2.yaml")).unwrap();
    profile.system.rosetta = Some(true);
    let cores = profile.system.cores.get_or_insert_default();
    cores.performance = Some(4);
    cores.efficiency = Some(4);
    profile.python = Some(Python {
        version: Some("3.11.7".into()),
        arch: Some(Arch::X86_64),
        torch: Some(TorchBuild {
            cuda: Some("13.2".into()),
            hip: None,
        }),
        ..Python::default()
    });
    if let Some(gpu) = profile.gpus.first_mut() {
        gpu.working_set = Some(mlcompat::size::ByteSize(5 << 30));
        gpu.gfx_target = Some("gfx942".into());
    }
    let yaml = serde_saphyr::to_string(&profile).unwrap();
    assert_eq!(Profile::parse(&yaml, Path::new("p.yaml")).unwrap(), profile);
    let json = serde_json::to_string(&profile).unwrap();
    assert_eq!(Profile::parse(&json, Path::new("p.json")).unwrap(), profile);
}

#[test]
fn explain_names_the_origin_of_each_value() {
    let output = mlcompat().args(["probe", "--explain"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("system.memory") && l.contains("← ")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("gpus")), "{text}");
}

#[test]
fn check_never_runs_a_python_inside_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("bin")).unwrap();
    std::fs::create_dir_all(project.join(".venv/bin")).unwrap();
    std::fs::write(project.join("requirements.txt"), "torch\n").unwrap();
    let marker = dir.path().join("ran");
    let body = format!("touch '{}'\necho 'Python 3.99.0'", marker.display());
    tool(&project.join("bin"), "python3", &body);
    tool(&project.join(".venv/bin"), "python3", &body);
    for env in [
        vec![("PATH", path_with(&project.join("bin")))],
        vec![("VIRTUAL_ENV", project.join(".venv").into_os_string())],
    ] {
        let mut command = mlcompat();
        command
            .args(["check", "--format", "json", "--fail-on", "never"])
            .arg(&project);
        for (key, value) in env {
            command.env(key, value);
        }
        command.assert().success();
        assert!(!marker.exists(), "a python inside the project was run");
    }
}
