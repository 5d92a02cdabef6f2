//! Evaluating a rule's `when` against the facts, in four-valued logic.
//!
//! A declared version range is a set of versions, so "bitsandbytes>=0.43 is below 0.50" is
//! neither true nor false: it is `Partial`, and the finding says which versions avoid the
//! problem. A fact the profile does not state is `Unknown`, never silently false or true.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use version_ranges::Ranges;

use super::facts::Facts;
use super::memory_model::MemoryEstimate;
use super::pattern::glob;
use super::rule::{
    BuildKind, Comparison, Condition, Fit, GpuWanted, IndexCondition, InstalledCondition,
    PackageCondition, SettingCondition, SettingLiteral,
};
use super::versions::release_range;
use crate::assessment::Evidence;
use crate::profile::Vendor;
use crate::project::{PackageDecl, SettingValue};

/// Whether a condition holds: `Partial` when a declared version range straddles the rule's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Truth {
    /// It does not hold.
    No,
    /// A fact it needs is not known.
    Unknown,
    /// Some of the declared versions meet it, some do not.
    Partial,
    /// It holds.
    Yes,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b { Truth::Yes } else { Truth::No }
    }

    fn not(self) -> Truth {
        match self {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            other => other,
        }
    }
}

/// What a matched package condition bound, for messages and "which versions avoid it".
#[derive(Clone, Debug, Default)]
pub struct PackageBinding {
    /// The package, by its canonical name.
    pub name: String,
    /// The declared constraint as written (empty for any version).
    pub specifier: String,
    /// The installed version, when it narrowed the declaration to a point.
    pub installed: Option<String>,
    /// The declared versions outside the rule's range, when the declaration straddles it.
    pub avoid: Option<Ranges<Version>>,
}

impl PackageBinding {
    /// `==0.41.1`, `>=2 (installed 2.5.1)`, `(any version)`.
    pub fn version_text(&self) -> String {
        match (&self.installed, self.specifier.is_empty()) {
            (Some(installed), true) => crate::wording::version_installed(installed),
            (Some(installed), false) => {
                crate::wording::version_declared_installed(installed, &self.specifier)
            }
            (None, true) => crate::wording::version_any(),
            (None, false) => self.specifier.clone(),
        }
    }
}

/// The trace of one evaluation: the facts that made the condition true.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The lines that made it true.
    pub evidence: Vec<Evidence>,
    /// The package a `package` condition matched.
    pub package: Option<PackageBinding>,
    /// The setting a `setting` condition matched: its key and value.
    pub setting: Option<(String, String)>,
    /// Whether the memory estimate decided it.
    pub used_memory: bool,
    /// The installed version an `installed` condition matched (`2.1.0+cpu`).
    pub installed: Option<String>,
}

/// Evaluates a condition against the facts, recording in `trace` what made it true.
pub fn evaluate(condition: &Condition, facts: &Facts, trace: &mut Trace) -> Truth {
    match condition {
        Condition::All(items) => {
            let mut result = Truth::Yes;
            for item in items {
                result = result.min(evaluate(item, facts, trace));
                if result == Truth::No {
                    break;
                }
            }
            result
        }
        Condition::Any(items) => items
            .iter()
            .map(|item| evaluate(item, facts, trace))
            .max()
            .unwrap_or(Truth::No),
        // What made the inner condition true is not evidence for its negation.
        Condition::Not(inner) => evaluate(inner, facts, &mut Trace::default()).not(),
        Condition::Package(package) => package_truth(package, facts, trace),
        Condition::Os(oses) => known(facts.profile.system.os, |os| oses.contains(&os)),
        Condition::OsVersion(spec) => {
            version_truth(facts.profile.system.os_version.as_deref(), spec)
        }
        Condition::Arch(arches) => known(facts.profile.system.arch, |arch| arches.contains(&arch)),
        // A profile without cpu_features (hand-written, or from an older probe) says nothing
        // about them: unknown, never "has none".
        Condition::CpuFeature(wanted) => {
            let have = &facts.profile.system.cpu_features;
            known((!have.is_empty()).then_some(have), |have| {
                wanted.iter().all(|w| have.contains(w))
            })
        }
        Condition::Gpu(wanted) => Truth::from_bool(wanted.iter().any(|w| has_gpu(facts, *w))),
        Condition::Cuda(spec) => nvidia_truth(facts, spec, |gpu| gpu.cuda_version.as_deref()),
        Condition::ComputeCapability(spec) => {
            nvidia_truth(facts, spec, |gpu| gpu.compute_capability.as_deref())
        }
        Condition::Driver(spec) => nvidia_truth(facts, spec, |gpu| gpu.driver_version.as_deref()),
        Condition::GpuCount(comparison) => {
            Truth::from_bool(comparison.holds(facts.profile.gpus.len() as f64))
        }
        Condition::Index(index) => index_truth(index, facts, trace),
        Condition::Ram(comparison) => known(facts.profile.system.memory, |m| comparison.holds(m)),
        Condition::Vram(comparison) => known(
            facts.profile.gpus.iter().filter_map(|gpu| gpu.memory).max(),
            |m| comparison.holds(m),
        ),
        Condition::Python(range) => python_truth(facts, range),
        Condition::Setting(setting) => setting_truth(setting, facts, trace),
        Condition::ModelParams(comparison) => model_truth(facts, comparison, trace),
        Condition::Memory(fit) => memory_truth(facts.memory.as_ref(), *fit, trace),
        Condition::Installed(installed) => installed_truth(installed, facts, trace),
        Condition::TorchBuild(kinds) => known(
            facts.profile.python.as_ref().and_then(|p| p.torch.as_ref()),
            |build| kinds.contains(&build_kind(build)),
        ),
    }
}

/// A torch build's kind: CUDA or ROCm when `torch.version` names one, else the CPU build.
fn build_kind(build: &crate::profile::TorchBuild) -> BuildKind {
    match (&build.cuda, &build.hip) {
        (Some(_), _) => BuildKind::Cuda,
        (None, Some(_)) => BuildKind::Rocm,
        (None, None) => BuildKind::Cpu,
    }
}

/// Whether the profile lists the package as installed, and the project declares it, as the
/// condition asks. Unknown when the profile lists no installed packages at all.
fn installed_truth(condition: &InstalledCondition, facts: &Facts, trace: &mut Trace) -> Truth {
    let Some(python) = facts
        .profile
        .python
        .as_ref()
        .filter(|p| !p.packages.is_empty())
    else {
        return Truth::Unknown;
    };
    let name = facts.resolve(&condition.name);
    let Some(first) = facts.declared(name).next() else {
        return Truth::No;
    };
    let Some(text) = python
        .packages
        .get(name)
        .or_else(|| python.packages.get(facts.catalogue.canonical(name)))
    else {
        return Truth::No;
    };
    if let Some(pattern) = condition.local.as_deref() {
        let label = text
            .split_once('+')
            .map(|(_, label)| label.to_ascii_lowercase());
        if !label.is_some_and(|label| glob(pattern, &label)) {
            return Truth::No;
        }
    }
    if condition.outside_declared {
        let Ok(version) = Version::from_str(text) else {
            return Truth::Unknown;
        };
        let release = version.only_release();
        let allowed = facts.declared(name).any(|decl| {
            decl.url.is_some()
                || decl
                    .versions
                    .clone()
                    .map_or_else(Ranges::full, release_range)
                    .contains(&release)
        });
        if allowed {
            return Truth::No;
        }
    }
    trace.evidence.push(first.evidence.clone());
    trace.installed = Some(text.clone());
    if trace.package.is_none() {
        trace.package = Some(PackageBinding {
            name: name.to_string(),
            specifier: first.specifier.clone(),
            installed: None,
            avoid: None,
        });
    }
    Truth::Yes
}

fn known<T>(value: Option<T>, test: impl FnOnce(T) -> bool) -> Truth {
    value.map_or(Truth::Unknown, |value| Truth::from_bool(test(value)))
}

fn has_gpu(facts: &Facts, wanted: GpuWanted) -> bool {
    let gpus = &facts.profile.gpus;
    match wanted {
        GpuWanted::None => gpus.is_empty(),
        GpuWanted::Any => !gpus.is_empty(),
        GpuWanted::Vendor(vendor) => gpus.iter().any(|gpu| gpu.vendor == vendor),
    }
}

fn version_truth(value: Option<&str>, spec: &VersionSpecifiers) -> Truth {
    let Some(value) = value else {
        return Truth::Unknown;
    };
    match Version::from_str(value.trim()) {
        Ok(version) => Truth::from_bool(spec.contains(&version)),
        Err(_) => Truth::Unknown,
    }
}

/// True when any NVIDIA GPU's value meets the specifier; unknown when none states it.
fn nvidia_truth(
    facts: &Facts,
    spec: &VersionSpecifiers,
    field: impl Fn(&crate::profile::Gpu) -> Option<&str>,
) -> Truth {
    facts
        .profile
        .gpus_of(Vendor::Nvidia)
        .map(|gpu| version_truth(field(gpu), spec))
        .max()
        .unwrap_or(Truth::No)
}

fn model_truth(facts: &Facts, comparison: &Comparison<f64>, trace: &mut Trace) -> Truth {
    let Some(model) = facts.project.models.first() else {
        return Truth::No;
    };
    let truth = known(model.params, |params| comparison.holds(params));
    if truth == Truth::Yes {
        trace.evidence.push(model.evidence.clone());
    }
    truth
}

/// True when the project installs from an index that meets every part of the condition.
fn index_truth(condition: &IndexCondition, facts: &Facts, trace: &mut Trace) -> Truth {
    let hit = facts.project.indexes.iter().find(|index| {
        let cuda_ok = match &condition.cuda {
            Some(spec) => index
                .cuda_version()
                .and_then(|v| Version::from_str(&v).ok())
                .is_some_and(|v| spec.contains(&v)),
            None => true,
        };
        let url_ok = condition
            .matches
            .as_deref()
            .is_none_or(|pattern| glob(pattern, &index.url.to_ascii_lowercase()));
        cuda_ok && url_ok
    });
    match hit {
        Some(index) => {
            trace.evidence.push(index.evidence.clone());
            Truth::Yes
        }
        None => Truth::No,
    }
}

/// The CUDA version a declared build is for: `+cu121` in its version or URL (`12.1`), else the
/// CUDA index the project installs from. `None` when nothing says (a plain PyPI wheel).
pub fn build_cuda(decl: &PackageDecl, facts: &Facts) -> Option<Version> {
    decl.wheel_cuda
        .clone()
        .or_else(|| installed(facts, decl).and_then(|(text, _)| crate::project::local_cuda(&text)))
        .or_else(|| facts.project.indexes.iter().find_map(|i| i.cuda_version()))
        .and_then(|text| Version::from_str(&text).ok())
}

/// Relation of the declared versions to the rule's range: inside, outside, or straddling.
fn package_truth(condition: &PackageCondition, facts: &Facts, trace: &mut Trace) -> Truth {
    let name = facts.resolve(&condition.name);
    let rule_range = &condition.versions;
    let mut best = Truth::No;
    for declared in facts.declared(name) {
        if condition.installer.is_some_and(|i| i != declared.installer) {
            continue;
        }
        if let Some(spec) = &condition.cuda
            && !build_cuda(declared, facts).is_some_and(|v| spec.contains(&v))
        {
            continue;
        }
        if let Some(pattern) = condition.url.as_deref()
            && !declared
                .url
                .as_deref()
                .is_some_and(|url| glob(pattern, url))
        {
            continue;
        }
        let mut declared_range = declared
            .versions
            .clone()
            .map_or_else(Ranges::full, release_range);
        let mut installed_text = None;
        // The version installed in the interpreter the project runs on is a point, when it
        // is one the declaration allows (else pip would replace it).
        if facts.use_installed
            && let Some((text, version)) = installed(facts, declared)
            && declared_range.contains(&version)
        {
            declared_range = Ranges::singleton(version);
            installed_text = Some(text);
        }
        let (truth, avoid) = if declared_range.subset_of(rule_range) {
            (Truth::Yes, None)
        } else if declared_range.is_disjoint(rule_range) {
            (Truth::No, None)
        } else {
            let outside = declared_range.intersection(&rule_range.complement());
            (Truth::Partial, Some(outside))
        };
        if truth > best {
            best = truth;
            trace.evidence.push(declared.evidence.clone());
            trace.package = Some(PackageBinding {
                name: name.to_string(),
                specifier: declared.specifier.clone(),
                installed: installed_text,
                avoid,
            });
        }
    }
    best
}

/// The installed version of a declared package, as the probe read it from the interpreter's
/// site-packages: its text (`2.5.1+cu121`) and its release (`2.5.1`).
fn installed(facts: &Facts, decl: &PackageDecl) -> Option<(String, Version)> {
    let packages = &facts.profile.python.as_ref()?.packages;
    let text = packages
        .get(&decl.name)
        .or_else(|| packages.get(facts.catalogue.canonical(&decl.name)))?;
    let version = Version::from_str(text).ok()?.only_release();
    Some((text.clone(), version))
}

fn python_truth(facts: &Facts, rule: &Ranges<Version>) -> Truth {
    let Some(judged) = &facts.python.versions else {
        return Truth::Unknown;
    };
    if judged.subset_of(rule) {
        Truth::Yes
    } else if judged.is_disjoint(rule) {
        Truth::No
    } else {
        Truth::Partial
    }
}

fn setting_truth(condition: &SettingCondition, facts: &Facts, trace: &mut Trace) -> Truth {
    let mut best = Truth::No;
    for setting in facts.project.setting(facts.resolve(&condition.key)) {
        let hit = setting_matches(condition, &setting.value, facts.profile.gpus.len());
        if hit && best == Truth::No {
            best = Truth::Yes;
            trace.evidence.push(setting.evidence.clone());
            trace.setting = Some((setting.key.clone(), setting.value.to_string()));
        }
    }
    best
}

fn setting_matches(condition: &SettingCondition, value: &SettingValue, gpus: usize) -> bool {
    if condition.above_gpu_count {
        let number = match value {
            SettingValue::Number(n) => Some(*n),
            SettingValue::Text(t) => t.trim().parse::<f64>().ok(),
            SettingValue::Bool(_) => None,
        };
        return number.is_some_and(|n| n > gpus as f64);
    }
    if let Some(expected) = &condition.equals {
        return expected
            .items()
            .iter()
            .any(|literal| literal_matches(literal, value));
    }
    if let Some(pattern) = &condition.matches {
        return glob(pattern, &value.to_string().to_ascii_lowercase());
    }
    if let Some(limit) = condition.above {
        return matches!(value, SettingValue::Number(n) if *n > limit);
    }
    true
}

fn literal_matches(literal: &SettingLiteral, value: &SettingValue) -> bool {
    match (literal, value) {
        (SettingLiteral::Bool(a), SettingValue::Bool(b)) => a == b,
        (SettingLiteral::Number(a), SettingValue::Number(b)) => a == b,
        (SettingLiteral::Text(a), SettingValue::Text(b)) => a.eq_ignore_ascii_case(b),
        // Configs write `load_in_4bit: "true"` and `quantization_bit: "4"` too.
        (SettingLiteral::Bool(a), SettingValue::Text(b)) => b.eq_ignore_ascii_case(&a.to_string()),
        (SettingLiteral::Number(a), SettingValue::Text(b)) => b.trim().parse::<f64>() == Ok(*a),
        _ => false,
    }
}

fn memory_truth(estimate: Option<&MemoryEstimate>, fit: Fit, trace: &mut Trace) -> Truth {
    let Some(estimate) = estimate else {
        return Truth::Unknown;
    };
    let Some(actual) = estimate.fit else {
        return Truth::Unknown;
    };
    let truth = Truth::from_bool(actual == fit);
    if truth == Truth::Yes {
        trace.used_memory = true;
        trace.evidence.push(estimate.model.evidence.clone());
    }
    truth
}
