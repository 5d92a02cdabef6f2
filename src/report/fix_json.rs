//! `fix --format json`: the edits file by file, what no edit fixes, and the report `check` will
//! give once the edits are in place, as one document a CI job or an editor can act on.

use serde::Serialize;

use super::fix::FixOutcome;
use crate::assessment::{Assessment, ChangeAt, REPORT_SCHEMA_VERSION};
use crate::fix;

/// The document `mlcompat fix --format json` prints (schema version 1).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FixDocument {
    /// The report's schema version (the predicted report is one).
    pub schema_version: u32,
    /// One entry a file the fix writes, in path order.
    pub files: Vec<FixFile>,
    /// Rules whose failing or warning findings are gone (or milder) once the edits are in
    /// place.
    pub addressed: Vec<String>,
    /// Problems the edits leave (each still in `predicted`), and edits that could not be
    /// applied, with why.
    pub unfixable: Vec<String>,
    /// What `mlcompat check` reports once the edits are in place (the fixed files judged in
    /// place of the originals); null when nothing changes.
    pub predicted: Option<Assessment>,
}

/// One fixed file.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FixFile {
    /// The original, relative to the project folder.
    pub original: String,
    /// The fixed copy, relative to the project folder, beside the original.
    pub target: String,
    /// The edits of this file the fix chose, each with the change it makes: at most one per
    /// line, apart from an index line inserted before a requirement. A file that is copied only
    /// because it includes another fixed file has none.
    pub edits: Vec<ChangeAt>,
    /// A unified diff, original → fixed.
    pub diff: String,
    /// The path written, with `--write`; null when only the diff was asked for.
    pub written: Option<String>,
    /// How to use the fixed file (`pip install -r requirements-macos.txt`).
    pub usage: String,
}

/// The JSON document of a fix.
pub fn render(outcome: &FixOutcome) -> String {
    let plan = outcome.plan;
    let files = plan
        .files
        .iter()
        .enumerate()
        .map(|(i, file)| FixFile {
            original: file.original.clone(),
            target: file.target.clone(),
            edits: plan
                .edits
                .iter()
                .filter(|c| c.file == file.original)
                .cloned()
                .collect(),
            diff: fix::diff(file),
            written: outcome
                .written
                .and_then(|w| w.get(i))
                .map(|p| p.display().to_string()),
            usage: fix::how_to_use(&file.target),
        })
        .collect();
    let document = FixDocument {
        schema_version: REPORT_SCHEMA_VERSION,
        files,
        addressed: plan.addressed.iter().cloned().collect(),
        unfixable: plan.unfixable.clone(),
        predicted: outcome.after.cloned(),
    };
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}
