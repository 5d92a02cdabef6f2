//! A rule as the engine evaluates it: every condition, version set, size and template already
//! parsed, so evaluating a rule parses nothing. [`super::compile`] builds these from the
//! grammar once, when the catalogue loads.

use pep440_rs::{Version, VersionSpecifiers};
use version_ranges::Ranges;

pub use super::grammar::{
    BuildKind, Fit, InstalledCondition, Partial, SettingCondition, SettingLiteral,
};
use super::prose::LazyProse;
use crate::assessment::Status;
use crate::profile::{Arch, Os, Vendor};
use crate::project::Installer;
use crate::size::ByteSize;

/// One compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The rule's id (kebab-case, unique in the catalogue).
    pub id: String,
    /// The component the finding is about; `{each}` under `for_each`.
    pub component: String,
    /// The packages (or `*` patterns) judged one by one, `{each}` standing for each.
    pub for_each: Vec<String>,
    /// When the rule applies.
    pub when: Condition,
    /// What it says when it applies.
    pub status: Status,
    /// What a version range that straddles the rule's range yields.
    pub partial: Partial,
    /// The edits it calls for.
    pub changes: Vec<Change>,
    /// Options (ids in the recommendations list) worth showing when it fires.
    pub recommend: Vec<String>,
    /// The words a person reads.
    pub prose: LazyProse,
}

/// When a rule applies, with every value parsed. Leaves test one fact; `All`/`Any`/`Not`
/// combine them in four-valued logic (see [`super::condition`]). Data other than rules (the
/// memory model) deserializes it straight from the grammar.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(try_from = "super::grammar::RawCondition")]
pub enum Condition {
    /// Every condition holds.
    All(Vec<Condition>),
    /// One condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// The project declares the package, within a version set.
    Package(PackageCondition),
    /// The machine's OS is one of these.
    Os(Vec<Os>),
    /// The OS version meets the specifier.
    OsVersion(VersionSpecifiers),
    /// The machine's architecture is one of these.
    Arch(Vec<Arch>),
    /// The CPU has all of these features (names from `profile::CPU_FEATURES`).
    CpuFeature(Vec<String>),
    /// A GPU of one of these kinds is present.
    Gpu(Vec<GpuWanted>),
    /// The highest CUDA version the NVIDIA driver supports meets the specifier.
    Cuda(VersionSpecifiers),
    /// An NVIDIA GPU's compute capability meets the specifier.
    ComputeCapability(VersionSpecifiers),
    /// The NVIDIA driver version meets the specifier.
    Driver(VersionSpecifiers),
    /// The number of GPUs compares so.
    GpuCount(Comparison<f64>),
    /// The project installs from an index like this.
    Index(IndexCondition),
    /// RAM compares so.
    Ram(Comparison<ByteSize>),
    /// The largest GPU's memory compares so.
    Vram(Comparison<ByteSize>),
    /// The Python the project runs on, as a set of releases.
    Python(Ranges<Version>),
    /// A training setting's value.
    Setting(SettingCondition),
    /// The model's size in parameters compares so.
    ModelParams(Comparison<f64>),
    /// The memory model's verdict.
    Memory(Fit),
    /// The package is installed (and declared), as the condition asks.
    Installed(InstalledCondition),
    /// The installed torch was built for one of these.
    TorchBuild(Vec<BuildKind>),
}

/// `package: { name, version, cuda, installer, url }`, parsed.
#[derive(Clone, Debug)]
pub struct PackageCondition {
    /// The package (or `{each}`).
    pub name: String,
    /// The versions the rule is about; every version when the rule names none.
    pub versions: Ranges<Version>,
    /// The CUDA version the declared build must be for.
    pub cuda: Option<VersionSpecifiers>,
    /// Only declarations made for this installer.
    pub installer: Option<Installer>,
    /// Only declarations installed from a URL matching this glob.
    pub url: Option<String>,
}

/// `index: { cuda, matches }`, parsed.
#[derive(Clone, Debug)]
pub struct IndexCondition {
    /// The CUDA version a PyTorch-style index serves.
    pub cuda: Option<VersionSpecifiers>,
    /// A glob on the index URL.
    pub matches: Option<String>,
}

/// What `gpu:` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuWanted {
    /// A GPU of this vendor.
    Vendor(Vendor),
    /// No GPU at all.
    None,
    /// Any GPU.
    Any,
}

/// `"< 16 GB"`, `"> 1"`, `">= 6B"`: an operator and a parsed value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison<T> {
    /// The operator.
    pub op: Op,
    /// The value compared against.
    pub value: T,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// Whether `left op right` holds.
    pub fn holds<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Eq => left == right,
            Op::Ne => left != right,
        }
    }
}

impl<T: PartialOrd + Copy> Comparison<T> {
    /// Whether `value` compares so.
    pub fn holds(&self, value: T) -> bool {
        self.op.holds(value, self.value)
    }
}

/// A change a finding calls for, parsed; resolved to `file:line` against the project.
#[derive(Clone, Debug)]
pub enum Change {
    /// Remove the package's declaration.
    RemovePackage(String),
    /// Replace a package by another.
    ReplacePackage {
        /// The package replaced.
        from: String,
        /// The requirement that replaces it.
        to: String,
    },
    /// Require these versions of the package.
    Require {
        /// The package.
        name: String,
        /// The versions wanted.
        versions: Ranges<Version>,
    },
    /// Set a training setting.
    Set {
        /// The setting's key.
        key: String,
        /// Its new value.
        value: SetValue,
    },
    /// Install the rule's package from this index.
    UseIndex(String),
    /// Keep the package only where this marker holds.
    AddMarker {
        /// The package.
        package: String,
        /// The PEP 508 marker.
        marker: String,
    },
}

/// The value a `set` change writes: as the rule writes it, or a fact of the machine judged.
#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    /// A literal (`false`, `1`, `sdpa`).
    Literal(SettingLiteral),
    /// `"{gpu.count}"`: one of [`super::template::CHANGE_VARIABLES`], of its type, filled from
    /// the machine when the change is resolved.
    Machine(&'static str),
}
