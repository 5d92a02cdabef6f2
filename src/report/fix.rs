//! The words of `mlcompat fix`: the diff or the files written, what no edit fixes, and what
//! `check` will say afterwards.

use std::path::PathBuf;

use owo_colors::OwoColorize;

use super::escape::{self, terminal};
use super::text::verdict_line;
use crate::assessment::{Assessment, Status};
use crate::fix::{self, FixPlan};

/// What `fix` did, for its report.
pub struct FixOutcome<'a> {
    /// The edits, file by file.
    pub plan: &'a FixPlan,
    /// The files written, in the order of `plan.files`; `None` when only a diff was asked for.
    pub written: Option<&'a [PathBuf]>,
    /// The project judged again with the edits; `None` when nothing changes.
    pub after: Option<&'a Assessment>,
}

/// The fix report: a coloured diff (or the files written), then what remains. The diff shows
/// the project's own lines and names, so each line is escaped for the terminal before it is
/// coloured, and no line may start a workflow command.
pub fn fix_report(outcome: &FixOutcome) -> String {
    let plan = outcome.plan;
    let mut out = String::new();
    if plan.files.is_empty() {
        out += "Nothing to change: no rule calls for an edit on this machine.\n";
    }
    match outcome.written {
        Some(written) => {
            for (file, path) in plan.files.iter().zip(written) {
                out += &format!(
                    "wrote {}  ({})\n",
                    terminal(&path.display().to_string()),
                    terminal(&fix::how_to_use(&file.target))
                );
            }
        }
        None => {
            for file in &plan.files {
                out += &colour_diff(&fix::diff(file));
            }
            if !plan.files.is_empty() {
                out += "\n(nothing written: run with --write to create these files)\n";
            }
        }
    }
    if !plan.unfixable.is_empty() {
        out += "\nNot fixed by an edit:\n";
        for item in &plan.unfixable {
            out += &format!("  - {}\n", terminal(item));
        }
    }
    if let Some(after) = outcome.after {
        let after = &escape::for_terminal(after);
        out += &format!(
            "\nAfter these edits, `mlcompat check` says: {}\n",
            verdict_line(after, false)
        );
        for finding in after.findings.iter().filter(|f| f.status == Status::Fail) {
            out += &format!("  - {}: {}\n", finding.component, finding.title);
        }
    }
    escape::no_workflow_commands(&out)
}

/// Added lines green, removed red, hunk headers cyan.
fn colour_diff(diff: &str) -> String {
    diff.lines()
        .map(|line| {
            // A CRLF file's lines end in CR: that is its line ending, not something to show.
            let line = line.strip_suffix('\r').unwrap_or(line);
            let line = &escape::no_workflow_commands(&terminal(line));
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                line.bold().to_string()
            } else if line.starts_with('+') {
                line.green().to_string()
            } else if line.starts_with('-') {
                line.red().to_string()
            } else if line.starts_with("@@") {
                line.cyan().to_string()
            } else {
                line.to_string()
            };
            painted + "\n"
        })
        .collect()
}
