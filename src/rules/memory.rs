//! The memory model: how much memory the project's model needs for its workload, against how much
//! this machine's accelerator may use. Every factor is data in `rules/memory.yaml`.

use super::condition::{self, Trace, Truth};
use super::facts::Facts;
use super::grammar::Fit;
use super::memory_model::MemoryEstimate;
pub use super::memory_model::MemoryModel;
use crate::profile::Vendor;
use crate::project::{ModelRef, SettingValue};
use crate::size::ByteSize;

/// The memory estimate of the facts' project on their machine, when the catalogue has a model.
pub fn estimate(facts: &Facts) -> Option<MemoryEstimate> {
    facts.catalogue.memory_model.as_ref()?.estimate(facts)
}

impl MemoryModel {
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
