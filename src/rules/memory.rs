//! The memory model: how much memory the project's model needs for its workload, against how much
//! this machine's accelerator may use. Every factor is data in `rules/memory.yaml`.

use super::condition::{self, Trace, Truth};
use super::facts::Facts;
use super::grammar::Fit;
pub use super::memory_model::MemoryModel;
use super::memory_model::{MemoryEstimate, Part, Shape, ShardStage, Wording, Workload};
use crate::profile::Vendor;
use crate::project::{ModelRef, Project, SettingValue};
use crate::size::ByteSize;
use crate::wording;

/// The memory estimate of the facts' project on their machine, when the catalogue has a model.
pub fn estimate(facts: &Facts) -> Option<MemoryEstimate> {
    facts.catalogue.memory_model.as_ref()?.estimate(facts)
}

impl MemoryModel {
    /// The estimate for the project's most demanding model. Each model is judged with the
    /// settings of its own config file (a project may hold a QLoRA and a full fine-tune recipe).
    pub fn estimate(&self, facts: &Facts) -> Option<MemoryEstimate> {
        let shards = self.shards(facts);
        let offloaded = self.offloaded(facts);
        let mut worst: Option<MemoryEstimate> = None;
        for model in &facts.project.models {
            let mut project = facts.project.scoped_to(&model.evidence.file);
            self.follow_links(facts.project, &mut project);
            let scoped = Facts {
                project: &project,
                ..facts.clone()
            };
            let Some(estimate) = self.estimate_for(model, &scoped, shards, &offloaded) else {
                continue;
            };
            if worst.as_ref().is_none_or(|w| demand(&estimate) > demand(w)) {
                worst = Some(estimate);
            }
        }
        worst
    }

    /// Adds to a model's scoped settings those of the configs its own settings name
    /// (`deepspeed: ds_config.json`): DeepSpeed's micro-batch is the model's. A key the scoped
    /// settings already set is not taken again.
    fn follow_links(&self, whole: &Project, scoped: &mut Project) {
        let named: Vec<String> = self
            .config_links
            .iter()
            .flat_map(|key| scoped.setting(key))
            .filter_map(|s| match &s.value {
                SettingValue::Text(path) => Some(path.trim_start_matches("./").to_string()),
                _ => None,
            })
            .collect();
        if named.is_empty() {
            return;
        }
        let linked = |file: &str| {
            named
                .iter()
                .any(|path| file == path || file.ends_with(&format!("/{path}")))
        };
        let have: std::collections::BTreeSet<String> =
            scoped.settings.iter().map(|s| s.key.clone()).collect();
        let added: Vec<_> = whole
            .settings
            .iter()
            .filter(|s| linked(&s.evidence.file) && !have.contains(&s.key))
            .cloned()
            .collect();
        scoped.settings.extend(added);
    }

    /// The sharding stage that holds and over how many GPUs it splits (`None` when the model
    /// state is not split).
    fn shards(&self, facts: &Facts) -> Option<(&ShardStage, u32)> {
        let sharding = self.sharding.as_ref()?;
        let stage = sharding.stages.iter().find(|stage| {
            condition::evaluate(&stage.when, facts, &mut Trace::default()) == Truth::Yes
        })?;
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
        let shards = processes.unwrap_or(gpus).min(gpus);
        (shards > 1).then_some((stage, shards))
    }

    /// The parts of the model state a setting moves off the GPU, and where to.
    fn offloaded(&self, facts: &Facts) -> Vec<(Part, String)> {
        let Some(offload) = &self.offload else {
            return Vec::new();
        };
        let mut moved = Vec::new();
        for rule in &offload.moves {
            let device = rule
                .keys
                .iter()
                .flat_map(|key| facts.project.setting(key))
                .find_map(|s| match &s.value {
                    SettingValue::Text(t)
                        if offload
                            .to
                            .iter()
                            .any(|to| to.eq_ignore_ascii_case(t.trim())) =>
                    {
                        Some(t.trim().to_ascii_lowercase())
                    }
                    _ => None,
                });
            if let Some(device) = device
                && !moved.iter().any(|(part, _)| *part == rule.part)
            {
                moved.push((rule.part, device));
            }
        }
        moved
    }

    fn estimate_for(
        &self,
        model: &ModelRef,
        facts: &Facts,
        shards: Option<(&ShardStage, u32)>,
        offloaded: &[(Part, String)],
    ) -> Option<MemoryEstimate> {
        let model = model.clone();
        let workload = self.workloads.iter().find(|w| {
            w.when.as_ref().is_none_or(|when| {
                condition::evaluate(when, facts, &mut Trace::default()) == Truth::Yes
            })
        })?;
        let words = &self.wording;
        let (budget, device) = self.budget(facts);
        let Some(params) = model.params else {
            return Some(MemoryEstimate {
                arithmetic: Wording::fill(&words.unknown_size, &[("model", model.name.clone())]),
                model,
                workload: workload.name.clone(),
                need: ByteSize(0),
                weights: ByteSize(0),
                trainable: ByteSize(0),
                activations: ByteSize(0),
                state_on_gpu: ByteSize(0),
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
        let trained = params * workload.trainable_fraction;
        let trainable = trained * workload.trainable_bytes.for_dtype(&dtype);
        let gradients = (trained * workload.gradient_bytes.for_dtype(&dtype)).min(trainable);
        let state = [
            (Part::Weights, weights),
            (Part::Gradients, gradients),
            (Part::Optimizer, trainable - gradients),
        ];
        let sharded_parts: &[Part] = shards.map_or(&[], |(stage, _)| &stage.shards);
        let split = f64::from(shards.map_or(1, |(_, n)| n));
        let moved = |part: Part| offloaded.iter().any(|(p, _)| *p == part);
        let on_gpu: f64 = state
            .iter()
            .filter(|(part, _)| !moved(*part))
            .map(|(part, size)| {
                if sharded_parts.contains(part) {
                    size / split
                } else {
                    *size
                }
            })
            .sum();
        let (activations, activation_words) = self.activations(workload, facts, params, weights);
        let need = ByteSize((on_gpu + activations) as u64 + self.runtime_overhead.0);
        let part_names = |parts: &mut dyn Iterator<Item = Part>| {
            parts
                .filter_map(|p| words.parts.get(&p).cloned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut arithmetic = Wording::fill(
            &words.weights,
            &[
                ("model", model.name.clone()),
                ("params", count(params)),
                ("bytes", bytes.to_string()),
                ("dtype", dtype.clone()),
                ("weights", ByteSize(weights as u64).to_string()),
            ],
        );
        if trainable > 0.0 {
            arithmetic += &Wording::fill(
                &words.trainable,
                &[("trainable", ByteSize(trainable as u64).to_string())],
            );
        }
        if let Some((stage, n)) = shards {
            let kept: Vec<Part> = stage
                .shards
                .iter()
                .copied()
                .filter(|p| !moved(*p))
                .collect::<std::collections::BTreeSet<Part>>()
                .into_iter()
                .collect();
            let each: f64 = state
                .iter()
                .filter(|(part, _)| kept.contains(part))
                .map(|(_, size)| size / split)
                .sum();
            if !kept.is_empty() {
                arithmetic += &Wording::fill(
                    &words.sharded,
                    &[
                        ("stage", stage.name.clone()),
                        ("shards", n.to_string()),
                        ("sharded", ByteSize(each as u64).to_string()),
                        ("parts", part_names(&mut kept.iter().copied())),
                    ],
                );
            }
        }
        let mut devices: Vec<&str> = offloaded.iter().map(|(_, d)| d.as_str()).collect();
        devices.dedup();
        for device in devices {
            let parts: Vec<Part> = offloaded
                .iter()
                .filter(|(_, d)| d == device)
                .map(|(p, _)| *p)
                .collect();
            let size: f64 = state
                .iter()
                .filter(|(part, _)| parts.contains(part))
                .map(|(_, size)| size)
                .sum();
            arithmetic += &Wording::fill(
                &words.offloaded,
                &[
                    ("parts", part_names(&mut parts.iter().copied())),
                    ("moved", ByteSize(size as u64).to_string()),
                    ("device", device.to_ascii_uppercase()),
                ],
            );
        }
        arithmetic += &activation_words;
        arithmetic += &Wording::fill(
            &words.total,
            &[
                ("runtime", self.runtime_overhead.to_string()),
                ("workload", workload.name.clone()),
                ("need", need.to_string()),
            ],
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
            state_on_gpu: ByteSize(on_gpu as u64),
            budget,
            device,
            arithmetic,
            fit,
        })
    }

    /// The activations of a training step and their arithmetic: Korthikanti et al.'s formula
    /// when the config states the batch size and the sequence length, else the workload's share
    /// of the weights.
    fn activations(
        &self,
        workload: &Workload,
        facts: &Facts,
        params: f64,
        weights: f64,
    ) -> (f64, String) {
        let words = &self.wording;
        let share = || {
            let size = weights * workload.activations;
            let text = Wording::fill(
                &words.activations_share,
                &[("activations", ByteSize(size as u64).to_string())],
            );
            (size, text)
        };
        let Some(model) = self.activations.as_ref() else {
            return share();
        };
        let number = |keys: &[String]| {
            keys.iter()
                .flat_map(|key| facts.project.setting(key))
                .find_map(|s| match s.value {
                    SettingValue::Number(n) if n >= 1.0 && n.is_finite() => Some(n),
                    _ => None,
                })
        };
        let (Some(batch), Some(sequence), Some(shape)) = (
            number(&model.batch_settings),
            number(&model.sequence_settings),
            nearest_shape(&model.shapes, params),
        ) else {
            return share();
        };
        if workload.trainable_fraction <= 0.0 {
            return share();
        }
        let checkpointed = model
            .checkpointing_settings
            .iter()
            .flat_map(|key| facts.project.setting(key))
            .any(|s| s.value == SettingValue::Bool(true));
        let fused = model.fused_attention.as_ref().is_some_and(|fused| {
            fused
                .keys
                .iter()
                .flat_map(|key| facts.project.setting(key))
                .any(|s| {
                    let value = s.value.to_string();
                    fused.values.iter().any(|v| v.eq_ignore_ascii_case(&value))
                })
        });
        let attention = if fused { 0.0 } else { model.attention };
        let sbh = sequence * batch * shape.hidden;
        let per_layer =
            sbh * (model.per_token_per_hidden + attention * shape.heads * sequence / shape.hidden);
        let (size, template) = if checkpointed {
            (
                model.checkpointed_per_token_per_hidden * sbh * shape.layers + per_layer,
                &words.activations_checkpointed,
            )
        } else {
            (per_layer * shape.layers, &words.activations_formula)
        };
        let template = if fused {
            template.replacen(')', &format!("{})", words.fused_attention), 1)
        } else {
            template.clone()
        };
        let text = Wording::fill(
            &template,
            &[
                ("activations", ByteSize(size as u64).to_string()),
                ("batch", trim(batch)),
                ("sequence", trim(sequence)),
                ("layers", trim(shape.layers)),
                ("hidden", trim(shape.hidden)),
            ],
        );
        (size, text)
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
                .unwrap_or_else(|| wording::budget_unnamed_gpu(gpu.vendor));
            return (Some(memory), wording::budget_gpu(name, memory));
        }
        if let Some(apple) = profile.gpus_of(Vendor::Apple).next() {
            let Some(unified) = apple.memory.or(profile.system.memory) else {
                return (None, wording::budget_apple_unknown());
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
            return (Some(budget), wording::budget_apple(budget, unified));
        }
        match profile.system.memory {
            Some(ram) => {
                let budget = ByteSize((ram.0 as f64 * self.ram_share) as u64);
                (Some(budget), wording::budget_cpu(budget, ram))
            }
            None => (None, wording::budget_unknown()),
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

/// The listed transformer shape nearest in size to `params` (by ratio). The larger of the ratio
/// and its inverse orders shapes as `|ln(ratio)|` does, without a logarithm: the only function
/// mlcompat would load libm for.
fn nearest_shape(shapes: &[Shape], params: f64) -> Option<&Shape> {
    let distance = |shape: &Shape| {
        let ratio = shape.params / params;
        ratio.max(ratio.recip())
    };
    shapes
        .iter()
        .filter(|s| s.params > 0.0)
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(billions: f64) -> Shape {
        Shape {
            params: billions * 1e9,
            hidden: 1.0,
            layers: 1.0,
            heads: 1.0,
        }
    }

    /// Nearest by ratio, as a logarithmic scale puts it: 3B is nearer 7B (×2.3) than 1B (×3),
    /// 2.5B nearer 1B (×2.5) than 7B (×2.8), and the ratio's direction does not matter.
    #[test]
    fn the_nearest_shape_is_nearest_by_ratio() {
        let shapes = [shape(1.0), shape(7.0), shape(13.0), shape(0.0)];
        let nearest =
            |billions: f64| nearest_shape(&shapes, billions * 1e9).map(|s| s.params / 1e9);
        assert_eq!(nearest(3.0), Some(7.0));
        assert_eq!(nearest(2.5), Some(1.0));
        assert_eq!(nearest(10.0), Some(13.0));
        assert_eq!(nearest(0.1), Some(1.0));
        assert_eq!(nearest(70.0), Some(13.0));
        for billions in [0.3, 1.5, 2.0, 2.7, 4.0, 9.0, 9.6, 11.0, 40.0] {
            let by_log = shapes
                .iter()
                .filter(|s| s.params > 0.0)
                .min_by(|a, b| {
                    let d = |s: &Shape| (s.params / (billions * 1e9)).ln().abs();
                    d(a).total_cmp(&d(b))
                })
                .map(|s| s.params / 1e9);
            assert_eq!(nearest(billions), by_log, "{billions}B");
        }
    }
}
