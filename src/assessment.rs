//! The shared vocabulary of the pipeline: [`Status`], [`Evidence`], and the result of judging a
//! project on a machine ([`Assessment`]). The project reader, the rules engine and the renderers
//! all speak it, and it imports none of them. Its JSON form is the CI contract of DESIGN.md
//! (schema version 1): fields may be added, none renamed or removed without a new schema version.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::profile::Profile;

/// `ok`, `warn`, `fail`, and (for components nothing judged) `unknown`.
///
/// Ordered by how bad a status is, so that "the worst wins" is `max`: ok < unknown < warn <
/// fail. Unknown is worse than ok because DESIGN.md never reports the unknown as working.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing mlcompat knows decides it.
    Unknown,
    /// Installs and runs as the project specifies.
    Ok,
    /// Runs after a modest, well-known change, or with serious degradation.
    Warn,
    /// Cannot install or run here as specified.
    Fail,
}

impl Status {
    /// Every status, best first.
    pub const ALL: [Status; 4] = [Status::Ok, Status::Unknown, Status::Warn, Status::Fail];

    fn rank(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Unknown => 1,
            Status::Warn => 2,
            Status::Fail => 3,
        }
    }

    /// The word used in JSON and rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// The worst of `statuses`, or `None` when there are none.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
        statuses.into_iter().max()
    }
}

impl Ord for Status {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Status {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a fact came from: a file relative to the scanned root, and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// The file, relative to the scanned folder, with `/` separators.
    pub file: String,
    /// The 1-based line.
    pub line: u32,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

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

/// One machine of a fleet and its report: the profile's name (its file stem), its file, and
/// the assessment of the project on it.
#[derive(Clone, Debug, Serialize)]
pub struct JudgedMachine {
    /// The profile's file stem, or "this machine".
    pub name: String,
    /// The profile file, when the machine was loaded from one.
    pub file: Option<String>,
    /// The project judged on this machine.
    pub report: Assessment,
}

/// The fleet's verdict, which sets `check`'s exit code: the worst machine's.
pub fn fleet_verdict(machines: &[JudgedMachine]) -> Status {
    Status::worst(machines.iter().map(|m| m.report.verdict)).unwrap_or(Status::Unknown)
}
