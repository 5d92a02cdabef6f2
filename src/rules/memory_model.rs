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
    /// When weights, gradients and optimizer state are split across the GPUs (ZeRO-3, FSDP
    /// full shard), each GPU holds its share of them.
    #[serde(default)]
    pub sharding: Option<Sharding>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sharding {
    /// Judged over every config of the project: the launcher's config is not the model's.
    pub when: Condition,
    /// Settings that give the number of processes (one a GPU); the GPU count when none does.
    pub processes: Vec<String>,
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
    /// Activations and caches, as a share of the weights.
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
    /// The settings the model reads besides its conditions: dtypes and process counts.
    pub fn setting_keys(&self) -> impl Iterator<Item = &str> {
        self.dtype_settings.iter().map(|d| d.key.as_str()).chain(
            self.sharding
                .iter()
                .flat_map(|s| s.processes.iter().map(String::as_str)),
        )
    }

    /// The conditions the model evaluates: the sharding test and each workload's.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.sharding
            .iter()
            .map(|s| &s.when)
            .chain(self.workloads.iter().filter_map(|w| w.when.as_ref()))
    }
}
