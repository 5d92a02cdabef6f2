//! The memory model's data, from `rules/memory.yaml`: bytes per parameter, workloads, shares of
//! memory a device may use; and the estimate it produces. The arithmetic is in
//! [`super::memory`].

use serde::{Deserialize, Serialize};

use super::grammar::{Fit, Sources};
use super::rule::Condition;
use crate::project::ModelRef;
use crate::size::ByteSize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryModel {
    pub source: Sources,
    pub verified: String,
    /// Bytes per parameter by dtype name (`bf16: 2`, `nf4: 0.55`).
    pub bytes_per_param: std::collections::BTreeMap<String, f64>,
    /// The dtype of weights when the config does not say.
    pub default_dtype: String,
    /// Settings whose value names the weights' dtype, in order of precedence.
    pub dtype_settings: Vec<DtypeSetting>,
    /// CUDA/Metal context and allocator slack, added once.
    pub runtime_overhead: ByteSize,
    /// Above this share of the budget the fit is `tight`.
    pub tight_ratio: f64,
    /// The share of unified memory an Apple GPU may use, by RAM size (first match wins).
    pub apple_gpu_share: Vec<Share>,
    /// The share of RAM a CPU-only run may use (the OS needs the rest).
    pub ram_share: f64,
    /// Workloads in order; the first whose `when` holds is the project's.
    pub workloads: Vec<Workload>,
    /// When weights, gradients or optimizer state are split across the GPUs (ZeRO stages,
    /// FSDP), each GPU holds its share of them.
    #[serde(default)]
    pub sharding: Option<Sharding>,
    /// Settings that move parts of the model state off the GPU (ZeRO-Offload).
    #[serde(default)]
    pub offload: Option<Offload>,
    /// The activation formula and the settings that feed it.
    #[serde(default)]
    pub activations: Option<ActivationModel>,
    /// Settings whose value names another config of the project that belongs to the model's
    /// run (`deepspeed: ds_config.json`).
    #[serde(default)]
    pub config_links: Vec<String>,
    /// The arithmetic's words, part by part.
    pub wording: Wording,
}

/// What ZeRO or FSDP splits across the GPUs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sharding {
    /// Settings that give the number of processes (one a GPU); the GPU count when none does.
    pub processes: Vec<String>,
    /// The stages, most sharded first; the first whose `when` holds is the project's. Judged
    /// over every config of the project: the launcher's config is not the model's.
    pub stages: Vec<ShardStage>,
}

/// One ZeRO stage (or its FSDP equivalent) and the parts it splits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardStage {
    pub name: String,
    pub when: Condition,
    pub shards: Vec<Part>,
}

/// A part of the model state on the GPU.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Weights,
    Gradients,
    Optimizer,
}

/// Settings that offload a part to the CPU or NVMe.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offload {
    /// Values that mean "off the GPU" (`cpu`, `nvme`).
    pub to: Vec<String>,
    pub moves: Vec<OffloadMove>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffloadMove {
    pub keys: Vec<String>,
    pub part: Part,
}

/// Korthikanti et al.'s activation memory: `s·b·h·(per_token_per_hidden + attention·a·s/h)`
/// bytes a layer, `checkpointed_per_token_per_hidden·s·b·h` with full recomputation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationModel {
    pub per_token_per_hidden: f64,
    pub attention: f64,
    pub checkpointed_per_token_per_hidden: f64,
    pub batch_settings: Vec<String>,
    pub sequence_settings: Vec<String>,
    pub checkpointing_settings: Vec<String>,
    /// Settings that select a fused attention kernel, which stores no attention scores.
    #[serde(default)]
    pub fused_attention: Option<FusedAttention>,
    pub shapes: Vec<Shape>,
}

/// Settings (`attn_implementation: flash_attention_2`) that drop the attention-score term.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FusedAttention {
    pub keys: Vec<String>,
    /// Values that mean a fused kernel, compared without case (`true` for a switch).
    pub values: Vec<String>,
}

/// A transformer's shape at one size.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub params: f64,
    pub hidden: f64,
    pub layers: f64,
    pub heads: f64,
}

/// The arithmetic's words: templates whose `{name}`s the model fills in.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    pub weights: String,
    pub trainable: String,
    pub sharded: String,
    pub offloaded: String,
    pub activations_formula: String,
    pub activations_checkpointed: String,
    pub activations_share: String,
    pub fused_attention: String,
    pub total: String,
    pub unknown_size: String,
    pub parts: std::collections::BTreeMap<Part, String>,
}

impl Wording {
    /// `template` with each `{name}` of `values` filled in.
    pub fn fill(template: &str, values: &[(&str, String)]) -> String {
        let mut out = template.to_string();
        for (name, value) in values {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DtypeSetting {
    pub key: String,
    /// `true` means the key's value is the dtype; otherwise the dtype when the key is true.
    #[serde(default)]
    pub dtype: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    #[serde(default)]
    pub up_to: Option<ByteSize>,
    pub share: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub when: Option<Condition>,
    /// The dtype the weights are held in; the config's dtype when absent.
    #[serde(default)]
    pub weights: Option<String>,
    /// Share of parameters that are trained (1.0 for a full fine-tune, ~0.5% for LoRA).
    #[serde(default)]
    pub trainable_fraction: f64,
    /// Bytes per trained parameter for gradients, optimizer state and master weights: one
    /// number, or one per weight dtype (`{ fp32: 12, default: 14 }`), because fp32 training
    /// keeps no separate master copy while mixed precision does.
    #[serde(default)]
    pub trainable_bytes: BytesPerParam,
    /// Of `trainable_bytes`, the gradients' bytes (the rest is optimizer state and master
    /// weights): what ZeRO-2 splits besides the optimizer state.
    #[serde(default)]
    pub gradient_bytes: BytesPerParam,
    /// Activations and caches, as a share of the weights, when the batch size and sequence
    /// length are not both known.
    pub activations: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum BytesPerParam {
    One(f64),
    ByDtype(std::collections::BTreeMap<String, f64>),
}

impl Default for BytesPerParam {
    fn default() -> Self {
        BytesPerParam::One(0.0)
    }
}

impl BytesPerParam {
    /// The bytes for weights of this dtype; a map's `default` entry when the dtype has none.
    pub fn for_dtype(&self, dtype: &str) -> f64 {
        match self {
            BytesPerParam::One(bytes) => *bytes,
            BytesPerParam::ByDtype(map) => map
                .get(dtype)
                .or_else(|| map.get("default"))
                .copied()
                .unwrap_or(0.0),
        }
    }
}

/// The estimate for the project's model, with the arithmetic a person can check.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryEstimate {
    /// The model judged (the most demanding one of the project).
    pub model: ModelRef,
    /// The workload's name: QLoRA, LoRA, full fine-tune, inference.
    pub workload: String,
    /// What it needs in all.
    pub need: ByteSize,
    /// The parts of `need`: weights, trained parameters with their optimizer state, and
    /// activations (the runtime overhead is the rest). Tests check them against published figures.
    pub weights: ByteSize,
    /// Gradients, optimizer state and master weights of the trained parameters.
    pub trainable: ByteSize,
    /// Activations and caches.
    pub activations: ByteSize,
    /// What one GPU holds of the model state after sharding and offload (weights, gradients,
    /// optimizer state): `need` is this plus activations and the runtime.
    pub state_on_gpu: ByteSize,
    /// What the accelerator (or RAM) may use; `None` when the profile does not say.
    pub budget: Option<ByteSize>,
    /// "this GPU may use ≈ 5.3 GB of the 8 GB".
    pub device: String,
    /// The arithmetic, for a person to check.
    pub arithmetic: String,
    /// Whether it fits; `None` when the budget is unknown.
    pub fit: Option<Fit>,
}

impl MemoryModel {
    /// The settings the model reads besides its conditions: dtypes, process counts, offload,
    /// batch size, sequence length and checkpointing.
    pub fn setting_keys(&self) -> impl Iterator<Item = &str> {
        let sharding = self.sharding.iter().flat_map(|s| s.processes.iter());
        let offload = self
            .offload
            .iter()
            .flat_map(|o| o.moves.iter().flat_map(|m| m.keys.iter()));
        let activations = self.activations.iter().flat_map(|a| {
            a.batch_settings
                .iter()
                .chain(&a.sequence_settings)
                .chain(&a.checkpointing_settings)
                .chain(a.fused_attention.iter().flat_map(|f| f.keys.iter()))
        });
        self.dtype_settings
            .iter()
            .map(|d| d.key.as_str())
            .chain(self.config_links.iter().map(String::as_str))
            .chain(
                sharding
                    .chain(offload)
                    .chain(activations)
                    .map(String::as_str),
            )
    }

    /// The conditions the model evaluates: the sharding stages' and each workload's.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.sharding
            .iter()
            .flat_map(|s| s.stages.iter().map(|stage| &stage.when))
            .chain(self.workloads.iter().filter_map(|w| w.when.as_ref()))
    }
}
