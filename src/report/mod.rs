//! Turning assessments into what a person or a CI job reads: one machine's report, or a fleet's
//! matrix when a project is judged against several saved machines.

pub mod escape;
mod fix;
mod fix_json;
mod fleet;
mod github;
mod json;
mod markdown;
mod recipes;
mod sarif;
mod table;
mod text;

use crate::assessment::{Assessment, JudgedMachine as Machine};

pub use fix::{FixOutcome, fix_report};
pub use fix_json::{FixDocument, FixFile, render as fix_json};
pub use json::error_document;
pub use text::{asciify, icon, label, verdict_line};

/// The report's format (`check --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The terminal report: issues, a status table, recommendations, changes.
    Table,
    /// One JSON document, the CI contract (schema version 1).
    Json,
    /// The same report as Markdown, for an issue or a CI step summary.
    Markdown,
    /// GitHub Actions workflow commands: one annotation per finding with evidence.
    Github,
    /// SARIF 2.1.0, for GitHub code scanning (github/codeql-action/upload-sarif).
    Sarif,
}

/// How the human formats look.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Columns to fit; `None` measures the terminal (or 100 when there is none).
    pub width: Option<u16>,
    /// No emoji or other non-ASCII, for old terminals and logs.
    pub ascii: bool,
    /// Why each rule fired: the rule, its evidence and its source, ok findings included.
    pub verbose: bool,
    /// The verdict with its counts, and the required changes, only.
    pub quiet: bool,
}

/// One machine's report. Every string in it is escaped for the format first ([`escape`]):
/// project and profile strings never reach a terminal or a Markdown page raw.
pub fn render(assessment: &Assessment, format: Format, style: &Style) -> String {
    let assessment = &*text::worded(assessment);
    let text = match format {
        Format::Json => return json::render(assessment),
        // SARIF is JSON, escaped as JSON is.
        Format::Sarif => return sarif::render_one(assessment, ""),
        Format::Markdown => {
            let safe = escape::for_markdown(assessment);
            if style.quiet {
                markdown::quiet(&safe)
            } else {
                markdown::render(&safe)
            }
        }
        _ => {
            let safe = escape::for_terminal(assessment);
            match format {
                _ if style.quiet => table::quiet(&safe, style),
                Format::Github => return finish_github(github::render(&safe, "", style), style),
                _ => table::render(&safe, style),
            }
        }
    };
    finish(text, style)
}

/// Several machines' reports: a matrix for people, one document for CI.
pub fn render_fleet(machines: &[Machine], format: Format, style: &Style) -> String {
    let machines = &worded_fleet(machines);
    let text = match format {
        Format::Json => return fleet::json(machines),
        Format::Sarif => return sarif::render(machines, ""),
        Format::Markdown => {
            let safe = escape::fleet(machines, &escape::markdown);
            if style.quiet {
                quiet_fleet(&safe, style)
            } else {
                fleet::markdown(&safe)
            }
        }
        _ => {
            let safe = escape::fleet(machines, &escape::terminal_owned);
            match format {
                _ if style.quiet => quiet_fleet(&safe, style),
                Format::Github => return finish_github(fleet::github(&safe, "", style), style),
                _ => fleet::table(&safe, style),
            }
        }
    };
    finish(text, style)
}

/// Every machine's report with its component summaries worded ([`text::worded`]).
fn worded_fleet(machines: &[Machine]) -> Vec<Machine> {
    machines
        .iter()
        .map(|m| Machine {
            report: text::worded(&m.report).into_owned(),
            ..m.clone()
        })
        .collect()
}

/// One line a machine, then the fleet's counts (the exit code follows the worst).
fn quiet_fleet(machines: &[Machine], style: &Style) -> String {
    fleet::quiet(machines, style) + &fleet::counts(machines, style.ascii) + "\n"
}

/// The last step of a human format: ASCII when asked, and no line that a CI runner would take
/// for a workflow command.
fn finish(text: String, style: &Style) -> String {
    escape::no_workflow_commands(&finish_github(text, style))
}

/// The last step of the GitHub format, whose lines are workflow commands by design (their
/// contents escaped by [`github`]).
fn finish_github(text: String, style: &Style) -> String {
    if style.ascii { asciify(&text) } else { text }
}

/// GitHub annotations name files from the repository root; `prefix` is the scanned folder.
pub fn github_annotations(assessment: &Assessment, prefix: &str, style: &Style) -> String {
    let safe = escape::for_terminal(&text::worded(assessment));
    finish_github(
        github::render(&safe, &escape::terminal(prefix), style),
        style,
    )
}

/// SARIF for one machine or a fleet; `prefix` is the scanned folder relative to the repository
/// root, as code scanning resolves artifact URIs from there.
pub fn sarif(machines: &[Machine], prefix: &str) -> String {
    sarif::render(&worded_fleet(machines), prefix)
}

/// GitHub annotations for a fleet, files named from `prefix` as for one machine.
pub fn github_fleet_annotations(machines: &[Machine], prefix: &str, style: &Style) -> String {
    let safe = escape::fleet(&worded_fleet(machines), &escape::terminal_owned);
    finish_github(
        fleet::github(&safe, &escape::terminal(prefix), style),
        style,
    )
}
