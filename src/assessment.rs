//! The result of judging a project on a machine: plain data between the rules engine and the
//! renderers. Its JSON form is the CI contract of DESIGN.md (schema version 1): fields may be
//! added, none renamed or removed without a new schema version.

use serde::Serialize;

use crate::profile::Profile;
use crate::project::Evidence;
use crate::rules::Status;

pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Assessment {
    pub schema_version: u32,
    pub verdict: Status,
    pub profile: Profile,
    /// The Python the rules judged, and why that one.
    pub python: String,
    /// The project's files that were read.
    pub files: Vec<String>,
    pub components: Vec<Component>,
    pub findings: Vec<Finding>,
    pub recommendations: Vec<RecommendationOut>,
    pub changes: Vec<ChangeAt>,
    /// The memory estimate, when the project names a model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryOut>,
    pub summary: Summary,
    /// What the scanner skipped or could not read.
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    Package,
    System,
    Setting,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Component {
    pub name: String,
    pub kind: ComponentKind,
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub rule: String,
    pub component: String,
    pub status: Status,
    pub title: String,
    /// One line for the status table.
    pub summary: String,
    pub problem: String,
    pub impact: Vec<String>,
    pub solution: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub source: Vec<String>,
    pub verified: String,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct RecommendationOut {
    pub id: String,
    pub title: String,
    pub best_for: String,
    pub steps: Vec<String>,
    pub pros: Vec<String>,
    pub cons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct ChangeAt {
    pub file: String,
    pub line: u32,
    pub change: String,
    /// The rule that calls for it.
    pub rule: String,
    /// The same change as an edit `mlcompat fix` can apply to the line.
    pub edit: Edit,
}

/// An edit of one declaration's line, in terms a line editor can apply without re-serializing
/// the file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// Delete the declaration (and its continuation lines).
    RemoveLine,
    /// Replace the requirement `from` (name and version constraint, as written) by `to`.
    ReplaceRequirement { from: String, to: String },
    /// Set the value of `key` on this line.
    SetValue { key: String, value: String },
    /// Install from this index: a `--extra-index-url` line before the declaration.
    UseIndex { url: String },
    /// Add an environment marker to the requirement (`; sys_platform == "linux"`), joined with
    /// `and` to one it has.
    AddMarker { marker: String },
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct MemoryOut {
    pub model: String,
    pub params: Option<f64>,
    pub workload: String,
    pub need_bytes: u64,
    pub budget_bytes: Option<u64>,
    pub arithmetic: String,
    pub device: String,
}

#[derive(Clone, Copy, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub unknown: usize,
}
