//! The project's code and launch scripts, through the real scanner and `mlcompat check`: small
//! projects under fixtures/projects/ judged on saved machines.

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::changes_of;

const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";
const A100: &str = "fixtures/profiles/linux-a100-80gb.yaml";
const CODE: &str = "fixtures/projects/code-cuda-no-manifest";

fn check_json(project: &str, profile: &str) -> (Value, i32) {
    let output = Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .args(["check", project, "--profile", profile, "--format", "json"])
        .output()
        .expect("mlcompat runs");
    let report = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    (report, output.status.code().expect("exited"))
}

fn component<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["components"]
        .as_array()
        .expect("components is a list")
        .iter()
        .find(|c| c["name"] == name)
}

fn status_of<'a>(report: &'a Value, name: &str) -> &'a str {
    component(report, name).unwrap_or_else(|| panic!("no component {name} in {report:#}"))["status"]
        .as_str()
        .expect("status is a string")
}

fn places(report: &Value, name: &str) -> Vec<String> {
    component(report, name).expect("the component")["evidence"]
        .as_array()
        .expect("evidence is a list")
        .iter()
        .map(|e| format!("{}:{}", e["file"].as_str().unwrap(), e["line"]))
        .collect()
}

#[test]
fn hard_coded_cuda_code_without_a_manifest_is_not_ok_on_a_mac() {
    let (report, code) = check_json(CODE, M2);
    assert_eq!(report["verdict"], "fail", "{report:#}");
    assert_eq!(code, 1);
    // `import flash_attn` with no manifest: the package is judged, and fails on macOS.
    assert_eq!(status_of(&report, "flash-attn"), "fail");
    assert_eq!(places(&report, "flash-attn"), ["train.py:6"]);
    let summary = component(&report, "flash-attn").unwrap()["summary"]
        .as_str()
        .unwrap();
    assert!(
        summary.contains("imported at train.py:6, not declared"),
        "{summary}"
    );
    // `device = 'cuda'` and `init_process_group(backend='nccl')`, each at its line.
    assert_eq!(status_of(&report, "code.cuda_device"), "warn");
    assert_eq!(places(&report, "code.cuda_device"), ["train.py:11"]);
    assert_eq!(status_of(&report, "code.nccl_backend"), "warn");
    assert_eq!(places(&report, "code.nccl_backend"), ["train.py:15"]);
    // An undeclared package that works here still needs adding: a modest change.
    assert_eq!(status_of(&report, "pyyaml"), "warn");
    // The project's own module and the standard library are not packages.
    assert!(component(&report, "model").is_none());
    assert!(component(&report, "os").is_none());
    // No change points at the code: fix edits manifests and configs, not imports.
    let changes = report["changes"].as_array().unwrap();
    assert!(
        changes.iter().all(|c| c["file"] != "train.py"),
        "{changes:#?}"
    );
}

#[test]
fn the_same_code_on_an_nvidia_linux_machine_needs_only_its_dependencies_declared() {
    let (report, _) = check_json(CODE, A100);
    // Judged, and right for this machine.
    assert_eq!(status_of(&report, "code.cuda_device"), "ok");
    assert_eq!(status_of(&report, "code.nccl_backend"), "ok");
    assert_eq!(status_of(&report, "pyyaml"), "warn");
    assert_eq!(report["verdict"], "warn", "{report:#}");
}

const LAUNCH: &str = "fixtures/projects/launch-torchrun";

/// DESIGN.md: setting the process count to what the machine has is a modest change (⚠️).
#[test]
fn a_launch_script_asks_for_eight_gpus_on_a_one_gpu_machine() {
    let (report, code) = check_json(LAUNCH, A100);
    // `--nproc_per_node=8` on its own line of the continued torchrun command: the edit to the
    // machine's one GPU, on that line. (The model is `$MODEL`, unknown: no memory estimate.)
    assert_eq!(status_of(&report, "nproc_per_node"), "warn");
    assert_eq!(places(&report, "nproc_per_node"), ["scripts/train.sh:9"]);
    let changes = changes_of(&report);
    assert!(
        changes.contains(&"scripts/train.sh:9 --nproc_per_node 8 -> 1".to_string()),
        "{changes:#?}"
    );
    assert_eq!(report["verdict"], "warn", "{report:#}");
    assert_eq!(code, 0);
    assert_eq!(status_of(&report, "cuda_visible_devices"), "warn");
    assert_eq!(
        places(&report, "cuda_visible_devices"),
        ["scripts/train.sh:7"]
    );
    // `--nnodes 1` is one machine: judged, and nothing to say about it.
    assert_eq!(status_of(&report, "num_nodes"), "ok");
    assert_eq!(places(&report, "num_nodes"), ["scripts/train.sh:8"]);
}

/// ...unless the workload then does not fit, where memory decides: this ZeRO-3 full fine-tune
/// of a 7B model fits across eight GPUs, and on one A100 it does not.
#[test]
fn when_the_workload_fits_only_across_the_gpus_asked_for_memory_decides() {
    const ZERO3: &str = "fixtures/projects/launch-zero3";
    let (report, code) = check_json(ZERO3, A100);
    assert_eq!(status_of(&report, "num_processes"), "warn");
    assert_eq!(
        changes_of(&report),
        ["config.yaml:4 num_processes: 8 -> 1"],
        "{report:#}"
    );
    assert_eq!(status_of(&report, "memory"), "fail", "{report:#}");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(code, 1);
    let (report, _) = check_json(ZERO3, "fixtures/profiles/linux-h100-x8.yaml");
    assert_eq!(status_of(&report, "num_processes"), "ok");
    assert_eq!(status_of(&report, "memory"), "ok");
}

const COUNTS: &str = "fixtures/projects/launch-counts";

/// Every launcher's count above what the machine has is ⚠️ with the edit to the machine's count,
/// on the option or key as its file writes it; no model, so nothing else decides.
#[test]
fn process_device_and_node_counts_are_edited_to_the_machines() {
    let (report, code) = check_json(COUNTS, A100);
    assert_eq!(report["verdict"], "warn", "{report:#}");
    assert_eq!(code, 0);
    for name in [
        "num_processes",
        "nproc_per_node",
        "num_gpus",
        "devices",
        "num_nodes",
    ] {
        assert_eq!(status_of(&report, name), "warn", "{name}");
    }
    let changes = changes_of(&report);
    for expected in [
        "configs/accelerate.yaml:5 num_processes: 8 -> 1",
        "conf/trainer.yaml:4 devices: 4 -> 1",
        "conf/trainer.yaml:5 num_nodes: 2 -> 1",
        "scripts/torchrun.sh:3 --nnodes 2 -> 1",
        "scripts/torchrun.sh:3 --nproc-per-node 8 -> 1",
        "scripts/deepspeed.sh:2 --num_nodes 2 -> 1",
        "scripts/deepspeed.sh:3 --num_gpus 8 -> 1",
    ] {
        assert!(
            changes.contains(&expected.to_string()),
            "{expected}: {changes:#?}"
        );
    }
    // accelerate's `num_machines: 1` is one machine already.
    assert!(
        changes.iter().all(|c| !c.contains("num_machines")),
        "{changes:#?}"
    );
    // On eight GPUs only the node counts are more than this machine.
    let (report, _) = check_json(COUNTS, "fixtures/profiles/linux-h100-x8.yaml");
    for name in ["num_processes", "nproc_per_node", "num_gpus", "devices"] {
        assert_eq!(status_of(&report, name), "ok", "{name}");
    }
    assert_eq!(status_of(&report, "num_nodes"), "warn");
    assert_eq!(
        changes_of(&report),
        [
            "conf/trainer.yaml:5 num_nodes: 2 -> 1",
            "scripts/deepspeed.sh:2 --num_nodes 2 -> 1",
            "scripts/torchrun.sh:3 --nnodes 2 -> 1",
        ]
    );
}

/// The edits land: `fix` rewrites each option and key in place, the Lightning device list
/// whole.
#[test]
fn fix_writes_the_machines_counts_into_the_configs_and_scripts() {
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .args(["fix", COUNTS, "--profile", A100])
        .output()
        .unwrap();
    let diff = String::from_utf8_lossy(&output.stdout);
    for line in [
        "+num_processes: 1",
        "+  devices: 1",
        "+  num_nodes: 1",
        "+torchrun --nnodes=1 --nproc-per-node 1 train.py",
        "+deepspeed --num_nodes 1 \\",
        "+    --num_gpus 1 \\",
    ] {
        assert!(diff.contains(line), "{line}:\n{diff}");
    }
}

/// On a Mac (no CUDA or ROCm GPU) a multi-process launch becomes one process, on MPS or the
/// CPU: the same one-number change, ⚠️.
#[test]
fn on_a_mac_the_counts_become_one_process() {
    let (report, _) = check_json(COUNTS, M2);
    for name in ["num_processes", "nproc_per_node", "num_gpus", "devices"] {
        assert_eq!(status_of(&report, name), "warn", "{name}");
    }
    let changes = changes_of(&report);
    for expected in [
        "configs/accelerate.yaml:5 num_processes: 8 -> 1",
        "conf/trainer.yaml:4 devices: 4 -> 1",
        "scripts/torchrun.sh:3 --nproc-per-node 8 -> 1",
        "scripts/deepspeed.sh:3 --num_gpus 8 -> 1",
    ] {
        assert!(
            changes.contains(&expected.to_string()),
            "{expected}: {changes:#?}"
        );
    }
    assert_eq!(report["verdict"], "warn", "{report:#}");
}

#[test]
fn the_launch_fits_an_eight_gpu_machine() {
    let (report, code) = check_json(LAUNCH, "fixtures/profiles/linux-h100-x8.yaml");
    assert_eq!(report["verdict"], "ok", "{report:#}");
    assert_eq!(code, 0);
}

#[test]
fn on_a_mac_the_script_options_are_judged_and_fixed_in_the_script() {
    let (report, _) = check_json(LAUNCH, M2);
    assert_eq!(status_of(&report, "nproc_per_node"), "warn");
    // `--deepspeed ds_config.json` on the script's command line hands training to DeepSpeed.
    assert_eq!(status_of(&report, "deepspeed"), "fail");
    let changes: Vec<String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{} {}",
                c["file"].as_str().unwrap(),
                c["line"],
                c["change"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        changes.contains(&"scripts/train.sh:9 --nproc_per_node 8 -> 1".to_string()),
        "{changes:#?}"
    );
    // fix edits the option in place.
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .args(["fix", LAUNCH, "--profile", M2])
        .output()
        .unwrap();
    let diff = String::from_utf8_lossy(&output.stdout);
    assert!(diff.contains("+    --nproc_per_node=1 \\"), "{diff}");
}

const LIGHTNING: &str = "fixtures/projects/lightning-hydra";

#[test]
fn a_lightning_config_asking_for_four_bf16_gpus_on_a_t4() {
    let (report, _) = check_json(LIGHTNING, "fixtures/profiles/linux-t4.yaml");
    assert_eq!(status_of(&report, "devices"), "warn");
    assert_eq!(places(&report, "devices"), ["conf/train.yaml:11"]);
    assert_eq!(status_of(&report, "precision"), "warn");
    // The interpolated node count is never evaluated.
    assert!(component(&report, "num_nodes").is_none());
    // Hydra's `_target_` names a module of a package nobody declared.
    let flash = component(&report, "flash-attn").expect("flash-attn from _target_");
    assert!(
        flash["summary"]
            .as_str()
            .unwrap()
            .contains("imported at conf/train.yaml:6, not declared"),
        "{flash:#}"
    );
}

#[test]
fn the_lightning_config_on_a_mac_needs_one_device() {
    let (report, _) = check_json(LIGHTNING, M2);
    assert_eq!(status_of(&report, "devices"), "warn");
    // `accelerator: gpu` picks MPS on a Mac: judged, and nothing to say.
    assert_eq!(status_of(&report, "accelerator"), "ok");
    assert_eq!(status_of(&report, "flash-attn"), "fail");
}

#[test]
fn many_files_are_read_in_parallel_with_the_same_result_every_time() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        std::fs::write(
            dir.path().join(format!("m{i:03}.py")),
            format!("import undeclared_{i}\nx = y.cuda()\n"),
        )
        .unwrap();
    }
    let names = || -> Vec<String> {
        let project = mlcompat::project::scan(dir.path()).unwrap();
        project
            .packages
            .iter()
            .map(|p| format!("{} {}", p.name, p.evidence))
            .collect()
    };
    let first = names();
    assert_eq!(first.len(), 200);
    assert_eq!(first[0], "undeclared-0 m000.py:1");
    assert_eq!(first[199], "undeclared-199 m199.py:1");
    for _ in 0..3 {
        assert_eq!(names(), first);
    }
}

#[test]
fn a_hydra_target_naming_the_projects_own_code_is_no_dependency() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("experiment.yaml"),
        "model:\n  _target_: src.models.gpt.GPTLMHeadModel\noptimizer:\n  _target_: apex.optimizers.FusedAdam\n",
    )
    .unwrap();
    let project = mlcompat::project::scan(dir.path()).unwrap();
    let names: Vec<String> = project
        .packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.evidence))
        .collect();
    assert_eq!(names, ["apex experiment.yaml:4"]);
}

#[test]
fn hostile_code_files_are_notes_never_failures() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("requirements.txt"), "numpy\n").unwrap();
    // Over the 1 MiB limit for a source file.
    std::fs::write(root.join("generated.py"), "x = 1\n".repeat(200_000)).unwrap();
    // Binary and non-UTF-8 "source".
    std::fs::write(root.join("blob.py"), b"\x00\x01\x02import torch\n").unwrap();
    std::fs::write(root.join("latin1.py"), b"# caf\xe9\nimport torch\n").unwrap();
    // A notebook that is not JSON, and a launch script that is not shell.
    std::fs::write(root.join("broken.ipynb"), "{\"cells\": [").unwrap();
    std::fs::write(
        root.join("run.sh"),
        "torchrun --nproc_per_node=\"8\n\x7f'''\n",
    )
    .unwrap();
    // Deep nesting.
    std::fs::write(
        root.join("deep.py"),
        format!("x = {}1{}\n", "[".repeat(50_000), "]".repeat(50_000)),
    )
    .unwrap();
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .args([
            "check",
            root.to_str().unwrap(),
            "--profile",
            M2,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).expect("a report");
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for file in ["generated.py", "blob.py", "latin1.py", "broken.ipynb"] {
        assert!(notes.iter().any(|n| n.contains(file)), "{file}: {notes:#?}");
    }
    // Nothing from the unreadable files became a package.
    assert!(component(&report, "torch").is_none(), "{report:#}");
}

#[test]
fn a_notebooks_pip_install_declares_and_is_never_edited() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("finetune.ipynb"),
        r#"{
 "cells": [
  {"cell_type": "code", "source": ["!pip install -q bitsandbytes==0.41.1 peft\n", "import bitsandbytes\n"]}
 ],
 "nbformat": 4
}
"#,
    )
    .unwrap();
    let (report, _) = check_json(dir.path().to_str().unwrap(), M2);
    assert_eq!(status_of(&report, "bitsandbytes"), "fail");
    assert_eq!(places(&report, "bitsandbytes"), ["finetune.ipynb:3"]);
    let summary = component(&report, "bitsandbytes").unwrap()["summary"]
        .as_str()
        .unwrap();
    assert!(!summary.contains("not declared"), "{summary}");
    assert!(
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["file"] != "finetune.ipynb"),
        "{report:#}"
    );
}

#[test]
fn checking_one_script_knows_the_modules_beside_it() {
    let (report, _) = check_json(&format!("{CODE}/train.py"), M2);
    // `from model import Net`: model.py sits beside train.py.
    assert!(component(&report, "model").is_none(), "{report:#}");
    assert_eq!(status_of(&report, "flash-attn"), "fail");
    assert_eq!(places(&report, "code.cuda_device"), ["train.py:11"]);
}
