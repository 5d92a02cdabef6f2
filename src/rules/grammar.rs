//! The rule grammar: what a rule file may say, as written. rules/README.md documents it.
//!
//! These types are only the parse of the text; [`super::compile`] turns them, once at load,
//! into the typed [`super::rule::Rule`] the engine evaluates, and reports what does not make
//! sense (a specifier that does not parse, a placeholder nothing fills) with the rule's line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assessment::Status;
use crate::profile::{Arch, Os, Profile};
use crate::project::Installer;

/// One rule as written in `rules/*.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    /// The component the finding is about; `{each}` under `for_each`.
    pub component: String,
    /// Judge each of these packages on its own, with `{each}` standing for it in `component`,
    /// `package` conditions and `changes` (one rule for a family such as the CUDA packages).
    /// An entry with `*` (`nvidia-*-cu12`) stands for every declared package it matches, so a
    /// family with hundreds of members needs no list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub for_each: Vec<String>,
    pub when: RawCondition,
    pub status: Status,
    /// What a version range that straddles the rule's range yields (default `warn`): `ignore`
    /// where the installer itself picks a good version (a Python wheel floor under an open range).
    #[serde(default)]
    pub partial: Partial,
    pub title: String,
    /// One line for the status table; the title when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default)]
    pub problem: String,
    #[serde(default)]
    pub impact: Vec<String>,
    #[serde(default)]
    pub solution: Vec<String>,
    #[serde(default)]
    pub changes: Vec<RawChange>,
    /// Ids of options in `rules/recommendations.yaml` this finding makes worth showing.
    #[serde(default)]
    pub recommend: Vec<String>,
    pub source: Sources,
    pub verified: String,
    #[serde(default)]
    pub tests: Vec<RuleTest>,
}

impl RawRule {
    /// The rule in the two parts build.rs's compact form keeps apart: what the engine
    /// evaluates, and the texts it reads only when the rule fires.
    pub fn split(self) -> (RawCore, RawProse, Vec<RuleTest>) {
        let core = RawCore {
            id: self.id,
            component: self.component,
            for_each: self.for_each,
            when: self.when,
            status: self.status,
            partial: self.partial,
            changes: self.changes,
            recommend: self.recommend,
        };
        let prose = RawProse {
            title: self.title,
            summary: self.summary,
            problem: self.problem,
            impact: self.impact,
            solution: self.solution,
            source: self.source,
            verified: self.verified,
        };
        (core, prose, self.tests)
    }
}

/// What of a rule the engine evaluates for every project (see [`RawRule`] for each field).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCore {
    pub id: String,
    pub component: String,
    #[serde(default)]
    pub for_each: Vec<String>,
    pub when: RawCondition,
    pub status: Status,
    #[serde(default)]
    pub partial: Partial,
    #[serde(default)]
    pub changes: Vec<RawChange>,
    #[serde(default)]
    pub recommend: Vec<String>,
}

/// A rule's texts, read only for the rules that fire (see [`RawRule`] for each field).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProse {
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub problem: String,
    #[serde(default)]
    pub impact: Vec<String>,
    #[serde(default)]
    pub solution: Vec<String>,
    pub source: Sources,
    pub verified: String,
}

impl Default for Sources {
    fn default() -> Self {
        Sources::Many(Vec::new())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Partial {
    #[default]
    Warn,
    Ignore,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Sources {
    One(String),
    Many(Vec<String>),
}

impl Sources {
    pub fn list(&self) -> Vec<&str> {
        match self {
            Sources::One(one) => vec![one.as_str()],
            Sources::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// When a rule applies. Leaves test one fact; `all`/`any`/`not` combine them.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawCondition {
    All(Vec<RawCondition>),
    Any(Vec<RawCondition>),
    Not(Box<RawCondition>),
    /// The project declares the package (conda names mapped through `aliases`), optionally within
    /// a version range: `package: torch` or `package: { name: torch, version: "<2.6" }`.
    Package(PackageCondition),
    Os(OneOrMany<Os>),
    /// A PEP 440 specifier on the OS version: `">=14"`.
    OsVersion(String),
    Arch(OneOrMany<Arch>),
    /// The CPU has every one of these features: `cpu_feature: avx2`, `cpu_feature: [avx2, fma]`.
    CpuFeature(OneOrMany<String>),
    /// A GPU of this vendor is present: `nvidia`, `amd`, `apple`, `intel`, or `none`/`any`.
    Gpu(OneOrMany<String>),
    /// A specifier on the highest CUDA version the NVIDIA driver supports: `"<12.1"`.
    Cuda(String),
    /// A specifier on the NVIDIA GPU's compute capability: `"<8.0"`.
    ComputeCapability(String),
    /// A specifier on the NVIDIA driver version: `"<580"`.
    Driver(String),
    /// A comparison on the number of GPUs: `"> 1"`.
    GpuCount(String),
    /// The project installs from a package index with this CUDA version or URL:
    /// `index: { cuda: "<13" }` (a `…/whl/cu126` index), `index: { matches: "*/whl/rocm*" }`.
    Index(IndexCondition),
    /// A comparison on RAM: `"< 16 GB"`.
    Ram(String),
    /// A comparison on the largest GPU's memory: `"< 24 GB"`.
    Vram(String),
    /// A specifier on the Python the project runs on: `">=3.13"`.
    Python(String),
    /// A training setting's value.
    Setting(SettingCondition),
    /// A comparison on the model's size in parameters: `">= 6B"`.
    ModelParams(String),
    /// The memory model's verdict for the project's model and workload.
    Memory(Fit),
    /// The profile lists the package as installed in the project's Python (`python.packages`):
    /// `installed: { name: torch, local: "cpu" }`, `installed: { name: "{each}", outside_declared: true }`.
    Installed(InstalledCondition),
    /// How the installed torch was built (the profile's `python.torch`): `cpu`, `cuda`, `rocm`.
    TorchBuild(OneOrMany<BuildKind>),
}

/// `installed: { name, local, outside_declared }`: the package is installed, and the project
/// declares it. `local` is a glob on the installed version's local label (`cpu` in `2.1.0+cpu`);
/// `outside_declared` asks for an installed version no declaration of the package allows.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstalledCondition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_declared: bool,
}

/// What an installed torch was built for: `cpu` when `python.torch` names neither CUDA nor HIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildKind {
    Cpu,
    Cuda,
    Rocm,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: PartialEq> OneOrMany<T> {
    pub fn contains(&self, item: &T) -> bool {
        match self {
            OneOrMany::One(one) => one == item,
            OneOrMany::Many(many) => many.contains(item),
        }
    }

    pub fn items(&self) -> Vec<&T> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many.iter().collect(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum PackageCondition {
    Name(String),
    Range {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<String>,
        /// A specifier on the CUDA version the declared build is for: its `+cu121` local
        /// version, a `cu121` in its URL, or else the CUDA index the project installs from.
        /// A build whose CUDA version nothing states does not match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cuda: Option<String>,
        /// Only declarations made for this installer: `pip` (PyPI wheels) or `conda`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        installer: Option<Installer>,
        /// Only declarations that install from a direct URL matching this glob
        /// (`triton @ https://…/triton-windows/…win_amd64.whl` matches `"*win_amd64.whl"`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
}

impl PackageCondition {
    pub fn name(&self) -> &str {
        match self {
            PackageCondition::Name(name) | PackageCondition::Range { name, .. } => name,
        }
    }

    pub fn version(&self) -> Option<&str> {
        match self {
            PackageCondition::Name(_) => None,
            PackageCondition::Range { version, .. } => version.as_deref(),
        }
    }

    pub fn installer(&self) -> Option<Installer> {
        match self {
            PackageCondition::Name(_) => None,
            PackageCondition::Range { installer, .. } => *installer,
        }
    }

    pub fn cuda(&self) -> Option<&str> {
        match self {
            PackageCondition::Name(_) => None,
            PackageCondition::Range { cuda, .. } => cuda.as_deref(),
        }
    }
    pub fn url(&self) -> Option<&str> {
        match self {
            PackageCondition::Name(_) => None,
            PackageCondition::Range { url, .. } => url.as_deref(),
        }
    }
}

/// `setting: { key: load_in_4bit, is: true }`; `matches: "paged_*"` for a glob; `above` for
/// numbers; `above_gpu_count: true` for more processes than GPUs; none means "the key is set".
/// `index: { cuda: "<13" }` or `index: { matches: "*/whl/rocm*" }`; both must hold when both
/// are given.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IndexCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettingCondition {
    pub key: String,
    #[serde(default, rename = "is", skip_serializing_if = "Option::is_none")]
    pub equals: Option<OneOrMany<SettingLiteral>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// A number greater than the machine's GPU count (`num_processes: 4` on one GPU).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub above_gpu_count: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SettingLiteral {
    Bool(bool),
    Number(f64),
    Text(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[expect(
    clippy::enum_variant_names,
    reason = "the words rule authors write: does_not_fit, tight, fits"
)]
pub enum Fit {
    /// The estimate exceeds the memory available.
    DoesNotFit,
    /// The estimate takes most of it (above the model's `tight_ratio`).
    Tight,
    Fits,
}

/// A change a finding calls for; resolved to `file:line` against the project.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawChange {
    /// Remove the package's declaration.
    RemovePackage(String),
    /// Replace a package by another (`faiss-gpu` → `faiss-cpu`).
    ReplacePackage { from: String, to: String },
    /// Replace the declaration by this requirement (`bitsandbytes>=0.50`).
    Require(String),
    /// Set a training setting.
    Set { key: String, value: SettingLiteral },
    /// Install the rule's package from this index (`https://download.pytorch.org/whl/cu126`).
    UseIndex(String),
    /// Keep the package for the platforms it serves with an environment marker
    /// (`sys_platform == "linux"`), so one requirements file fits both. conda has no markers:
    /// there the declaration is removed.
    AddMarker { package: String, marker: String },
}

/// A rule's own test case: a machine, a project, and the status the rule must give.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    pub profile: TestProfile,
    #[serde(default)]
    pub project: TestProject,
    /// `ok`, `warn`, `fail`, or `none` when the rule must not fire.
    pub expect: Expect,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum TestProfile {
    /// One of the built-in test machines (`fixtures/profiles/NAME.yaml`).
    Named(String),
    Inline(Box<Profile>),
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestProject {
    /// Lines of a requirements.txt.
    #[serde(default)]
    pub requirements: Vec<String>,
    /// conda specs of an environment.yml.
    #[serde(default)]
    pub conda: Vec<String>,
    /// Training settings.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingLiteral>,
    /// The model name, as a config would give it.
    #[serde(default)]
    pub model: Option<String>,
    /// The Python the project pins.
    #[serde(default)]
    pub python: Option<String>,
    /// The project's own distribution (a pyproject.toml `[project] name`): the test is a
    /// checkout of that package.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Ok,
    Warn,
    Fail,
    None,
}
