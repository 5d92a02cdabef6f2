//! The shared vocabulary of the pipeline: [`Status`], [`Evidence`], and the result of judging a
//! project on a machine ([`Assessment`]). The project reader, the rules engine and the renderers
//! all speak it, and it imports none of them. Its JSON form is the CI contract of DESIGN.md
//! (schema version 1): fields may be added, none renamed or removed without a new schema version.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::profile::Profile;
use crate::wording;

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

/// The report's `schema_version`: fields may be added within it, none renamed or removed.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One project judged on one machine: the JSON report of `mlcompat check --format json`.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Assessment {
    /// The version of this document's shape (1).
    pub schema_version: u32,
    /// The project's verdict: the worst component; `unknown` when nothing was judged, or when
    /// the known components are ok and some are unknown (unknown is never reported as working).
    pub verdict: Status,
    /// The machine judged.
    pub profile: Profile,
    /// The Python the rules judged, and why that one.
    pub python: String,
    /// The project's files that were read.
    pub files: Vec<String>,
    /// One entry per package, system part (`memory`, `python`, `gpu`) or training setting,
    /// with its worst finding's status.
    pub components: Vec<Component>,
    /// What the rules found, worst first.
    pub findings: Vec<Finding>,
    /// Options worth considering, in the founding assessment's shape.
    pub recommendations: Vec<RecommendationOut>,
    /// The edits the findings call for, with `file:line`, in file order.
    pub changes: Vec<ChangeAt>,
    /// The memory estimate, when the project names a model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryOut>,
    /// How many components have each status.
    pub summary: Summary,
    /// The project's alternative recipes (a folder of example configs), each judged on its own
    /// with the project's manifests, those that run first. Absent when the project offers none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipes: Vec<RecipeOut>,
    /// What the scanner skipped or could not read.
    pub notes: Vec<String>,
    /// Findings the project's config ignores (`[tool.mlcompat] ignore`): they left the
    /// components, counts and verdict, and are listed here with the reason given. Absent when
    /// nothing is ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
    /// How old the package-index knowledge behind the report is, and where it came from
    /// (DESIGN.md, "Knowledge from the package index").
    pub knowledge: KnowledgeOut,
}

/// The package-index knowledge a report was judged with: which wheels exist and what releases
/// require are facts of a day, so the report says which day.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct KnowledgeOut {
    /// The day the oldest index data used was read (`YYYY-MM-DD`); `null` when unknown.
    pub index_as_of: Option<String>,
    /// `"built-in snapshot"` (compiled into mlcompat) or `"cache"` (written by `mlcompat
    /// refresh`, used where newer than the snapshot).
    pub source: String,
}

/// A finding the project's config ignores, and why.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Suppressed {
    /// The finding as it would have been reported.
    #[serde(flatten)]
    pub finding: Finding,
    /// The reason the config gives, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a component is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComponentKind {
    /// A declared package, by its PEP 503 name.
    Package,
    /// A part of the machine: `memory`, `python`, `gpu`.
    System,
    /// A training setting, by its key (`load_in_4bit`).
    Setting,
    /// A kind of alternative recipes (`recipes:examples`): whether one of them runs.
    Recipes,
}

/// A part of the project and what becomes of it on this machine.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Component {
    /// The package's normalized name, the system part, or the setting's key.
    pub name: String,
    /// What the component is.
    pub kind: ComponentKind,
    /// Its worst finding's status; `unknown` when nothing judged it.
    pub status: Status,
    /// One line: why.
    pub summary: String,
    /// Where the project declares it.
    pub evidence: Vec<Evidence>,
}

/// What one rule found.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// The rule's id (`mlcompat rules show ID`).
    pub rule: String,
    /// The component it is about.
    pub component: String,
    /// What it means for the component.
    pub status: Status,
    /// The finding in one sentence.
    pub title: String,
    /// One line for the status table.
    pub summary: String,
    /// What goes wrong, and why.
    pub problem: String,
    /// What it breaks.
    pub impact: Vec<String>,
    /// What to do about it.
    pub solution: Vec<String>,
    /// The lines that made the rule apply.
    pub evidence: Vec<Evidence>,
    /// Where the rule's fact comes from.
    pub source: Vec<String>,
    /// The day someone checked the rule against its source.
    pub verified: String,
}

/// An option the report offers (run inference elsewhere, a smaller model, a rented GPU).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct RecommendationOut {
    /// The option's id in the recommendations list.
    pub id: String,
    /// The option in a few words.
    pub title: String,
    /// Who it suits.
    pub best_for: String,
    /// How to do it.
    pub steps: Vec<String>,
    /// Why it is good.
    pub pros: Vec<String>,
    /// What it costs.
    pub cons: Vec<String>,
}

/// An edit a finding calls for, at a line of the project.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct ChangeAt {
    /// The file, relative to the scanned folder.
    pub file: String,
    /// The 1-based line.
    pub line: u32,
    /// The edit in words: "remove `bitsandbytes==0.41.1`", "load_in_4bit: true -> false".
    pub change: String,
    /// The rule that calls for it.
    pub rule: String,
    /// The same change as an edit `mlcompat fix` can apply to the line.
    pub edit: Edit,
}

impl ChangeAt {
    /// The change `edit` makes to the line at `at`, whose declaration reads `written` now (the
    /// requirement, or the setting's value), called for by `rule`; the words come from
    /// [`Edit::describe`].
    pub fn new(at: &Evidence, written: &str, rule: &str, edit: Edit) -> ChangeAt {
        ChangeAt {
            file: at.file.clone(),
            line: at.line,
            change: edit.describe(written),
            rule: rule.to_string(),
            edit,
        }
    }
}

impl Edit {
    /// The edit in words for a line that reads `written` now: `remove \`torch==2.1\``,
    /// `` `torch==2.1` -> `torch>=2.4` ``, `load_in_4bit: true -> false`. The one place a change is
    /// phrased (`wording/engine.yaml`), so that JSON's `change`, the table and `fix` agree.
    pub fn describe(&self, written: &str) -> String {
        match self {
            Edit::RemoveLine => wording::change_remove(written),
            Edit::ReplaceRequirement { to, .. } => wording::change_replace(written, to),
            // A launch script's option, as a command line writes it: `--nnodes 2 -> 1`.
            Edit::SetValue { key, value } if key.starts_with("--") => {
                wording::change_set_option(written, key, value)
            }
            Edit::SetValue { key, value } => wording::change_set(written, key, value),
            Edit::UseIndex { url } => wording::change_use_index(written, url),
            Edit::AddMarker { marker } => wording::change_add_marker(written, marker),
        }
    }
}

/// An edit of one declaration's line, in terms a line editor can apply without re-serializing
/// the file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// Delete the declaration (and its continuation lines).
    RemoveLine,
    /// Replace the requirement `from` (name and version constraint, as written) by `to`.
    ReplaceRequirement {
        /// The requirement as written.
        from: String,
        /// What replaces it.
        to: String,
    },
    /// Set the value of `key` on this line.
    SetValue {
        /// The setting's key.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Install from this index: a `--extra-index-url` line before the declaration.
    UseIndex {
        /// The index URL.
        url: String,
    },
    /// Add an environment marker to the requirement (`; sys_platform == "linux"`), joined with
    /// `and` to one it has.
    AddMarker {
        /// The PEP 508 marker.
        marker: String,
    },
}

/// One alternative recipe judged on its own: its model and settings with the project's
/// manifests, code and launch configs.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct RecipeOut {
    /// The recipe's config file, relative to the project root.
    pub file: String,
    /// The line that names its model.
    pub line: u32,
    /// The recipes it is an alternative to share this kind: the folder path up to the recipe
    /// folder (`examples`, `config_hub/finetune`).
    pub kind: String,
    /// Its worst finding's status; `ok` when nothing about it is a problem here.
    pub status: Status,
    /// Whether it runs here (`ok`, `unknown` or `warn`: a modest change at most).
    pub runs: bool,
    /// The model it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// One line: its worst finding's summary.
    pub summary: String,
    /// Its memory estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryOut>,
    /// What the rules found about it (findings that point at its file), worst first.
    pub findings: Vec<Finding>,
    /// The edits its findings call for.
    pub changes: Vec<ChangeAt>,
}

/// The memory estimate for the project's most demanding model.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct MemoryOut {
    /// The model, as the config names it.
    pub model: String,
    /// Its size in parameters, when known.
    pub params: Option<f64>,
    /// The workload judged: QLoRA, LoRA, full fine-tune, inference.
    pub workload: String,
    /// The bytes it needs.
    pub need_bytes: u64,
    /// The bytes the accelerator (or RAM) may use, when the profile says.
    pub budget_bytes: Option<u64>,
    /// The arithmetic, for a person to check.
    pub arithmetic: String,
    /// What memory it is judged against: "this GPU may use ≈ 5.3 GB of the 8 GB".
    pub device: String,
}

/// How many components have each status.
#[derive(Clone, Copy, Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// ✅
    pub ok: usize,
    /// ⚠️
    pub warn: usize,
    /// ❌
    pub fail: usize,
    /// ❔
    pub unknown: usize,
}

/// One machine of a fleet and its report: the profile's name (its file stem), its file, and
/// the assessment of the project on it.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct JudgedMachine {
    /// The profile's file stem, or "this machine".
    pub name: String,
    /// The profile file, when the machine was loaded from one.
    pub file: Option<String>,
    /// The project judged on this machine.
    pub report: Assessment,
}

/// The JSON document of a project judged on several machines (`check --profile A --profile B
/// --format json`): the per-machine contract unchanged, under `machines`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Fleet<'a> {
    /// The report's schema version (the single report's).
    pub schema_version: u32,
    /// The worst machine's verdict, which sets the exit code.
    pub verdict: Status,
    /// Each machine with its report, in the order the profiles were named.
    pub machines: &'a [JudgedMachine],
}

/// What stdout carries when the tool could not do its job (exit 2) and JSON was asked for, so a
/// CI step that parses stdout still gets a document.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorDocument {
    /// The report's schema version.
    pub schema_version: u32,
    /// What went wrong.
    pub error: ErrorBody,
}

/// The error: what went wrong, and where when it is a file.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The message, as printed on stderr.
    pub message: String,
    /// The file that could not be read or understood.
    pub file: Option<String>,
    /// Its 1-based line, where known.
    pub line: Option<u64>,
    /// Its 1-based column in characters, where known.
    pub column: Option<u64>,
}

/// The fleet's verdict, which sets `check`'s exit code: the worst machine's.
pub fn fleet_verdict(machines: &[JudgedMachine]) -> Status {
    Status::worst(machines.iter().map(|m| m.report.verdict)).unwrap_or(Status::Unknown)
}
