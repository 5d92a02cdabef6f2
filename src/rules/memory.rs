//! The memory model: how much memory the project's model needs for its workload, against how much
//! this machine's accelerator may use. Every factor is data in `rules/memory.yaml`.

use serde::{Deserialize, Serialize};

use super::condition::{self, Trace, Truth};
use super::facts::Facts;
use super::grammar::{Fit, Sources};
use super::rule::Condition;
use crate::profile::Vendor;
use crate::project::{ModelRef, SettingValue};
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
    pub model: ModelRef,
    pub workload: String,
    pub need: ByteSize,
    /// The parts of `need`: weights, trained parameters with their optimizer state, and
    /// activations (the runtime overhead is the rest). Tests check them against published figures.
    pub weights: ByteSize,
    pub trainable: ByteSize,
    pub activations: ByteSize,
    /// What the accelerator (or RAM) may use; `None` when the profile does not say.
    pub budget: Option<ByteSize>,
    /// "this GPU may use ≈ 5.3 GB of the 8 GB".
    pub device: String,
    pub arithmetic: String,
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

    /// The estimate for the project's most demanding model. Each model is judged with the
    /// settings of its own config file (a project may hold a QLoRA and a full fine-tune recipe).
    pub fn estimate(&self, facts: &Facts) -> Option<MemoryEstimate> {
        let shards = self.shards(facts);
        let mut worst: Option<MemoryEstimate> = None;
        for model in &facts.project.models {
            let project = facts.project.scoped_to(&model.evidence.file);
            let scoped = Facts {
                project: &project,
                ..facts.clone()
            };
            let Some(estimate) = self.estimate_for(model, &scoped, shards) else {
                continue;
            };
            if worst.as_ref().is_none_or(|w| demand(&estimate) > demand(w)) {
                worst = Some(estimate);
            }
        }
        worst
    }

    /// Over how many GPUs the weights and optimizer state are split (1 when they are not).
    fn shards(&self, facts: &Facts) -> u32 {
        let Some(sharding) = &self.sharding else {
            return 1;
        };
        if condition::evaluate(&sharding.when, facts, &mut Trace::default()) != Truth::Yes {
            return 1;
        }
        let gpus = facts
            .profile
            .gpus
            .iter()
            .filter(|g| matches!(g.vendor, Vendor::Nvidia | Vendor::Amd))
            .count() as u32;
        let processes = sharding
            .processes
            .iter()
            .flat_map(|key| facts.project.setting(key))
            .filter_map(|s| match s.value {
                SettingValue::Number(n) if n >= 1.0 => Some(n as u32),
                _ => None,
            })
            .max();
        // More processes than GPUs is its own finding; the memory is split over the GPUs there are.
        processes.unwrap_or(gpus).min(gpus).max(1)
    }

    fn estimate_for(&self, model: &ModelRef, facts: &Facts, shards: u32) -> Option<MemoryEstimate> {
        let model = model.clone();
        let workload = self.workloads.iter().find(|w| {
            w.when.as_ref().is_none_or(|when| {
                condition::evaluate(when, facts, &mut Trace::default()) == Truth::Yes
            })
        })?;
        let (budget, device) = self.budget(facts);
        let Some(params) = model.params else {
            return Some(MemoryEstimate {
                arithmetic: format!("{}: the model's size is unknown", model.name),
                model,
                workload: workload.name.clone(),
                need: ByteSize(0),
                weights: ByteSize(0),
                trainable: ByteSize(0),
                activations: ByteSize(0),
                budget,
                device,
                fit: None,
            });
        };
        let dtype = workload
            .weights
            .clone()
            .unwrap_or_else(|| self.dtype(facts));
        let bytes = self.bytes_per_param.get(&dtype).copied().unwrap_or(2.0);
        let weights = params * bytes;
        let trainable =
            params * workload.trainable_fraction * workload.trainable_bytes.for_dtype(&dtype);
        let activations = weights * workload.activations;
        let split = f64::from(shards);
        let need = ByteSize(
            ((weights + trainable) / split + activations) as u64 + self.runtime_overhead.0,
        );
        let mut arithmetic = format!(
            "{}: {} params × {bytes} bytes ({dtype}) = {} of weights",
            model.name,
            count(params),
            ByteSize(weights as u64)
        );
        if trainable > 0.0 {
            arithmetic += &format!(
                "; + {} of trained parameters and optimizer state",
                ByteSize(trainable as u64)
            );
        }
        if shards > 1 {
            arithmetic += &format!(
                "; sharded over {shards} GPUs: {} each",
                ByteSize(((weights + trainable) / split) as u64)
            );
        }
        arithmetic += &format!(
            "; + {} of activations + {} runtime; {} ≈ {need}",
            ByteSize(activations as u64),
            self.runtime_overhead,
            workload.name
        );
        let fit = budget.map(|budget| {
            let ratio = need.0 as f64 / budget.0.max(1) as f64;
            if ratio > 1.0 {
                Fit::DoesNotFit
            } else if ratio > self.tight_ratio {
                Fit::Tight
            } else {
                Fit::Fits
            }
        });
        Some(MemoryEstimate {
            model,
            workload: workload.name.clone(),
            need,
            weights: ByteSize(weights as u64),
            trainable: ByteSize(trainable as u64),
            activations: ByteSize(activations as u64),
            budget,
            device,
            arithmetic,
            fit,
        })
    }

    fn dtype(&self, facts: &Facts) -> String {
        for rule in &self.dtype_settings {
            for setting in facts.project.setting(&rule.key) {
                match (&rule.dtype, &setting.value) {
                    (Some(dtype), SettingValue::Bool(true)) => return dtype.clone(),
                    (None, SettingValue::Text(text)) => {
                        let name = text.trim_start_matches("torch.").to_ascii_lowercase();
                        let name = match name.as_str() {
                            "bfloat16" => "bf16",
                            "float16" | "half" => "fp16",
                            "float32" | "float" => "fp32",
                            other => other,
                        };
                        if self.bytes_per_param.contains_key(name) {
                            return name.to_string();
                        }
                    }
                    _ => {}
                }
            }
        }
        self.default_dtype.clone()
    }

    /// The memory the workload may use: the largest NVIDIA/AMD GPU, the Apple GPU's share of
    /// unified memory, or a share of RAM.
    fn budget(&self, facts: &Facts) -> (Option<ByteSize>, String) {
        let profile = facts.profile;
        let discrete = profile
            .gpus
            .iter()
            .filter(|gpu| matches!(gpu.vendor, Vendor::Nvidia | Vendor::Amd))
            .filter_map(|gpu| gpu.memory.map(|memory| (memory, gpu)))
            .max_by_key(|(memory, _)| *memory);
        if let Some((memory, gpu)) = discrete {
            let name = gpu
                .name
                .clone()
                .unwrap_or_else(|| format!("{} GPU", gpu.vendor));
            return (Some(memory), format!("the {name} has {memory}"));
        }
        if let Some(apple) = profile.gpus_of(Vendor::Apple).next() {
            let Some(unified) = apple.memory.or(profile.system.memory) else {
                return (None, "the GPU's memory is unknown".to_string());
            };
            // A working set the profile states (a raised iogpu.wired_limit_mb, or one written by
            // hand) beats the rule of thumb.
            let share = self
                .apple_gpu_share
                .iter()
                .find(|s| s.up_to.is_none_or(|limit| unified <= limit))
                .map_or(0.667, |s| s.share);
            let budget = apple
                .working_set
                .unwrap_or(ByteSize((unified.0 as f64 * share) as u64));
            return (
                Some(budget),
                format!("this GPU may use ≈ {budget} of the {unified}"),
            );
        }
        match profile.system.memory {
            Some(ram) => {
                let budget = ByteSize((ram.0 as f64 * self.ram_share) as u64);
                (
                    Some(budget),
                    format!("on the CPU, ≈ {budget} of the {ram} of RAM"),
                )
            }
            None => (None, "this machine's memory is unknown".to_string()),
        }
    }
}

/// `7B`, `0.5B`, `350M`.
fn count(params: f64) -> String {
    if params >= 1e9 {
        format!("{}B", trim(params / 1e9))
    } else {
        format!("{}M", trim(params / 1e6))
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").unwrap_or(&text).to_string()
}

/// How demanding an estimate is: its fit first (an unknown size counts least), then its need.
fn demand(estimate: &MemoryEstimate) -> (u8, u64) {
    let fit = match estimate.fit {
        Some(Fit::DoesNotFit) => 3,
        Some(Fit::Tight) => 2,
        Some(Fit::Fits) => 1,
        None => 0,
    };
    (fit, estimate.need.0)
}
