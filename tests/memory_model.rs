//! The memory model (rules/memory.yaml) held against published figures, so a change of a factor
//! that breaks agreement with them fails here. Figures and their sources are in
//! `../shared/research/anchors.md`; each test names its own.

use std::path::Path;

use mlcompat::profile::Profile;
use mlcompat::project::{Evidence, ModelRef, Project, SettingValue};
use mlcompat::rules::{Catalogue, MemoryEstimate, estimate_memory, test_profile};

/// Training settings, as a config gives them.
type Settings<'a> = &'a [(&'a str, SettingValue)];

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

fn project(params: f64, settings: &[(&str, SettingValue)]) -> Project {
    let settings: Vec<(String, SettingValue)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut project = Project::from_declarations(&[], &[], &settings, None, None);
    project.models.push(ModelRef {
        name: "model".to_string(),
        params: Some(params),
        evidence: Evidence {
            file: "config.yaml".to_string(),
            line: 1,
        },
    });
    project
}

fn estimate(profile: &Profile, params: f64, settings: &[(&str, SettingValue)]) -> MemoryEstimate {
    let catalogue = Catalogue::builtin().expect("built-in rules load");
    estimate_memory(profile, &project(params, settings), &catalogue).expect("an estimate")
}

fn gpu_profile(gib: u32) -> Profile {
    let text = format!(
        "schema_version: 1\nsystem: {{ os: linux, arch: x86_64, memory: 128 GB }}\n\
         gpus: [{{ vendor: nvidia, memory: {gib} GB, compute_capability: \"8.6\" }}]\n"
    );
    Profile::parse(&text, Path::new("inline.yaml")).expect("profile parses")
}

fn full_fine_tune(dtype: &str) -> Vec<(&'static str, SettingValue)> {
    vec![
        ("per_device_train_batch_size", SettingValue::Number(1.0)),
        ("torch_dtype", SettingValue::Text(dtype.to_string())),
    ]
}

fn qlora() -> Vec<(&'static str, SettingValue)> {
    vec![("load_in_4bit", SettingValue::Bool(true))]
}

/// Within `tolerance` (a share) of a published figure.
fn near(ours: f64, published: f64, tolerance: f64) -> bool {
    (ours - published).abs() <= published * tolerance
}

/// accelerate `estimate-memory` for bert-base-cased (108,310,272 parameters): fp32 weights
/// 413.18 MiB; Adam training 1.61 GiB, 4x the fp32 size = 16 bytes/param (accelerate
/// tests/test_cli.py). accelerate also counts 8 KiB of buffers (position and token-type ids),
/// hence 413.18 there and 413.17 for the parameters alone.
#[test]
fn bert_base_cased_matches_accelerate() {
    let params = 108_310_272.0;
    let a100 = test_profile("linux-a100-80gb").expect("test machine");
    let fp32 = estimate(&a100, params, &full_fine_tune("float32"));
    let weights_mib = fp32.weights.0 as f64 / MIB;
    assert!((weights_mib - 413.18).abs() < 0.02, "{weights_mib} MiB");
    let training_gib = (fp32.weights.0 + fp32.trainable.0) as f64 / GIB;
    assert_eq!(format!("{training_gib:.2}"), "1.61", "{training_gib} GiB");
    assert_eq!(fp32.weights.0 + fp32.trainable.0, 108_310_272 * 16);
}

/// ZeRO (arXiv:1910.02054): mixed-precision Adam keeps 16 bytes per parameter, so a full
/// fine-tune of a 7B model needs ≈ 112 GB before activations.
#[test]
fn full_fine_tune_of_7b_is_112_gb_before_activations() {
    let h100 = test_profile("linux-h100-x8").expect("test machine");
    let bf16 = estimate(&h100, 7e9, &full_fine_tune("bfloat16"));
    assert_eq!(bf16.weights.0 + bf16.trainable.0, 112_000_000_000);
    // One 80 GB GPU cannot hold it (without ZeRO sharding across GPUs).
    assert_eq!(
        format!("{:?}", bf16.fit),
        "Some(DoesNotFit)",
        "{}",
        bf16.arithmetic
    );
}

/// QLoRA paper (arXiv:2305.14314): a 65B model fine-tunes on one 48 GB GPU.
#[test]
fn qlora_65b_fits_one_48_gb_gpu() {
    let on_48 = estimate(&gpu_profile(48), 65e9, &qlora());
    assert_ne!(
        format!("{:?}", on_48.fit),
        "Some(DoesNotFit)",
        "{}",
        on_48.arithmetic
    );
    let on_24 = estimate(&gpu_profile(24), 65e9, &qlora());
    assert_eq!(format!("{:?}", on_24.fit), "Some(DoesNotFit)");
}

/// The founding case: a 7B QLoRA is tight on the 8 GB M2 (≈4.8 GB need, ≈5.3 GB usable by the
/// GPU, 2/3 of unified memory) and fits the A100.
#[test]
fn founding_case_7b_qlora() {
    let m2 = test_profile("macbook-m2-8gb").expect("test machine");
    let on_m2 = estimate(&m2, 7e9, &qlora());
    assert_eq!(
        format!("{:?}", on_m2.fit),
        "Some(Tight)",
        "{}",
        on_m2.arithmetic
    );
    assert!(near(on_m2.need.0 as f64 / GIB, 4.8, 0.05));
    let budget = on_m2.budget.expect("budget").0 as f64 / GIB;
    assert!(near(budget, 8.0 * 2.0 / 3.0, 0.01), "{budget}");
    let a100 = test_profile("linux-a100-80gb").expect("test machine");
    assert_eq!(
        format!("{:?}", estimate(&a100, 7e9, &qlora()).fit),
        "Some(Fits)"
    );
}

/// The GPU's share of unified memory: 3/4 from 64 GB (llama.cpp#1870: 64 GB → 48 GiB).
#[test]
fn apple_share_from_64_gb() {
    let m3 = test_profile("macbook-m3max-64gb").expect("test machine");
    let budget = estimate(&m3, 7e9, &qlora()).budget.expect("budget").0 as f64 / GIB;
    assert!((budget - 48.0).abs() < 0.01, "{budget}");
}

/// Published training minimums (GB), ours within 25%: LLaMA-Factory's README ("Hardware
/// Requirement", 7B: LoRA 16, QLoRA-8 10, QLoRA-4 6) and Unsloth's requirements page (7B
/// QLoRA 5, 7B LoRA 19, 70B QLoRA 41, 70B LoRA 164).
#[test]
fn rules_of_thumb_from_llama_factory_and_unsloth() {
    let big = gpu_profile(512);
    let lora = vec![("adapter", SettingValue::Text("lora".to_string()))];
    let qlora8 = vec![("load_in_8bit", SettingValue::Bool(true))];
    let cases: [(f64, Settings, f64, &str); 7] = [
        (7e9, &lora, 16.0, "LLaMA-Factory 7B LoRA"),
        (7e9, &qlora8, 10.0, "LLaMA-Factory 7B QLoRA-8"),
        (7e9, &qlora(), 6.0, "LLaMA-Factory 7B QLoRA-4"),
        (7e9, &qlora(), 5.0, "Unsloth 7B QLoRA"),
        (7e9, &lora, 19.0, "Unsloth 7B LoRA"),
        (70e9, &qlora(), 41.0, "Unsloth 70B QLoRA"),
        (70e9, &lora, 164.0, "Unsloth 70B LoRA"),
    ];
    for (params, settings, published, what) in cases {
        let ours = estimate(&big, params, settings).need.0 as f64 / GIB;
        assert!(
            near(ours, published, 0.25),
            "{what}: ours {ours:.1} GiB, published {published} GB"
        );
    }
}

/// A fixture project scanned by the real scanner, with only `recipe`'s settings and model
/// among its recipes (as `check path/to/recipe.yaml` judges it).
fn fixture_estimate(project: &str, recipe: Option<&str>, profile: &str) -> MemoryEstimate {
    let catalogue = Catalogue::builtin().expect("built-in rules load");
    let keys = catalogue.setting_keys();
    let path = match recipe {
        Some(recipe) => format!("fixtures/projects/{project}/{recipe}"),
        None => format!("fixtures/projects/{project}"),
    };
    let scanned = mlcompat::project::scan_with(
        Path::new(&path),
        &mlcompat::project::ScanOptions {
            profile: None,
            settings: &keys,
            originals: false,
        },
    )
    .expect("fixture scans");
    let others: Vec<String> = scanned
        .models
        .iter()
        .map(|m| m.evidence.file.clone())
        .filter(|file| Some(file) != scanned.focus.as_ref() && recipe.is_some())
        .collect();
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    let machine = test_profile(profile).expect("test machine");
    estimate_memory(&machine, &scanned.without_files(&others), &catalogue).expect("an estimate")
}

/// Korthikanti et al. 2022 (arXiv:2205.05198), full recomputation: 2·s·b·h bytes a layer kept,
/// plus one layer's s·b·h·(34 + 5·a·s/h) rebuilt at a time. axolotl-style
/// `examples/llama-3/fft.yml`: 8B (the LLaMA 6.7B shape: h 4096, 32 layers, 32 heads), micro
/// batch 1, sequence 4096, gradient checkpointing.
#[test]
fn checkpointed_activations_follow_korthikanti() {
    let fft = fixture_estimate(
        "recipes-examples",
        Some("examples/llama-3/fft.yml"),
        "linux-a100-80gb",
    );
    let (s, b, h, a, layers) = (4096u64, 1u64, 4096u64, 32u64, 32u64);
    let kept = 2 * s * b * h * layers;
    let one_layer = s * b * h * (34 + 5 * a * s / h);
    assert_eq!(fft.activations.0, kept + one_layer, "{}", fft.arithmetic);
    assert!(
        fft.arithmetic.contains("batch 1 × 4096 tokens × 32 layers"),
        "{}",
        fft.arithmetic
    );
    // Full fine-tune, 16 bytes a parameter (ZeRO paper), unsharded on one GPU.
    assert_eq!(fft.weights.0 + fft.trainable.0, 8_000_000_000 * 16);
}

/// Without recomputation every layer keeps s·b·h·(34 + 5·a·s/h) bytes. litgpt's
/// `config_hub/finetune/tiny-llama/lora.yaml`: 1.1B (the GPT-3 1.3B shape: h 2048, 24 layers,
/// 32 heads), `train.micro_batch_size: 8`, `train.max_seq_length: 512`.
#[test]
fn activations_scale_with_batch_and_sequence() {
    let lora = fixture_estimate(
        "litgpt-config-hub",
        Some("config_hub/finetune/tiny-llama/lora.yaml"),
        "linux-a100-80gb",
    );
    let (s, b, h, a, layers) = (512u64, 8u64, 2048u64, 32u64, 24u64);
    assert_eq!(
        lora.activations.0,
        layers * s * b * h * (34 + 5 * a * s / h),
        "{}",
        lora.arithmetic
    );
    assert_eq!(lora.workload, "LoRA");
}

/// litgpt `quantize: bnb.nf4` is QLoRA: the 7B base held in NF4.
#[test]
fn litgpt_quantize_is_qlora() {
    let qlora = fixture_estimate(
        "litgpt-config-hub",
        Some("config_hub/finetune/llama-2-7b/qlora.yaml"),
        "linux-rtx3090",
    );
    assert_eq!(qlora.workload, "QLoRA (4-bit)");
    assert_eq!(qlora.weights.0, (7e9 * 0.55) as u64, "{}", qlora.arithmetic);
    assert_eq!(
        format!("{:?}", qlora.fit),
        "Some(Fits)",
        "{}",
        qlora.arithmetic
    );
}

/// ZeRO (arXiv:1910.02054): stage 3 splits parameters, gradients and optimizer state over the
/// N GPUs; ZeRO-Offload (arXiv:2101.06840) keeps the optimizer state in CPU memory. The
/// Trainer's `train.yaml` names `ds_config.json` (stage 3, optimizer on the CPU,
/// `train_micro_batch_size_per_gpu: 2`): on 8 H100s each GPU holds (2 + 2) bytes × 7B / 8 of
/// weights and gradients, and the 12 bytes a parameter of optimizer state are off the GPU.
#[test]
fn zero3_with_cpu_offload_on_eight_gpus() {
    let ds = fixture_estimate("deepspeed-offload", None, "linux-h100-x8");
    assert_eq!(ds.weights.0 + ds.trainable.0, 7_000_000_000 * 16);
    assert_eq!(
        ds.state_on_gpu.0,
        7_000_000_000 * 4 / 8,
        "{}",
        ds.arithmetic
    );
    assert!(
        ds.arithmetic.contains("ZeRO-3 over 8 GPUs"),
        "{}",
        ds.arithmetic
    );
    assert!(
        ds.arithmetic.contains("offloaded to the CPU"),
        "{}",
        ds.arithmetic
    );
    // DeepSpeed's micro-batch (2) and the Trainer's sequence length (2048) feed the activations.
    assert!(
        ds.arithmetic.contains("batch 2 × 2048 tokens"),
        "{}",
        ds.arithmetic
    );
}

/// ZeRO stages 1 and 2 split less: stage 1 the optimizer state only, stage 2 the gradients too.
#[test]
fn zero_stages_split_what_the_paper_says() {
    let h100 = test_profile("linux-h100-x8").expect("test machine");
    let stage = |n: f64| {
        let mut settings = full_fine_tune("bfloat16");
        settings.push(("zero_stage", SettingValue::Number(n)));
        settings.push(("num_processes", SettingValue::Number(8.0)));
        estimate(&h100, 7e9, &settings).state_on_gpu.0
    };
    let p = 7_000_000_000u64;
    // bf16 weights 2, bf16 gradients 2, fp32 master weights and Adam moments 12.
    assert_eq!(stage(1.0), 2 * p + 2 * p + 12 * p / 8);
    assert_eq!(stage(2.0), 2 * p + (2 * p + 12 * p) / 8);
    assert_eq!(stage(3.0), 16 * p / 8);
}
