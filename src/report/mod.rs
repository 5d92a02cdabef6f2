//! Turning assessments into what a person or a CI job reads: one machine's report, or a fleet's
//! matrix when a project is judged against several saved machines.

mod fleet;
mod github;
mod json;
mod markdown;
mod table;
mod text;

use crate::assessment::Assessment;

pub use fleet::{Machine, verdict as fleet_verdict};
pub use json::error_document;
pub use text::{asciify, icon, label, verdict_line};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
    /// GitHub Actions workflow commands: one annotation per finding with evidence.
    Github,
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
    /// The verdict and counts only.
    pub quiet: bool,
}

/// One machine's report.
pub fn render(assessment: &Assessment, format: Format, style: &Style) -> String {
    let text = match format {
        Format::Json => return json::render(assessment),
        _ if style.quiet => verdict_line(assessment, style.ascii) + "\n",
        Format::Table => table::render(assessment, style),
        Format::Markdown => markdown::render(assessment),
        Format::Github => github::render(assessment, "", style),
    };
    finish(text, style)
}

/// Several machines' reports: a matrix for people, one document for CI.
pub fn render_fleet(machines: &[Machine], format: Format, style: &Style) -> String {
    let text = match format {
        Format::Json => return fleet::json(machines),
        _ if style.quiet => fleet::quiet(machines, style),
        Format::Table => fleet::table(machines, style),
        Format::Markdown => fleet::markdown(machines),
        Format::Github => fleet::github(machines, style),
    };
    finish(text, style)
}

fn finish(text: String, style: &Style) -> String {
    if style.ascii { asciify(&text) } else { text }
}

/// GitHub annotations name files from the repository root; `prefix` is the scanned folder.
pub fn github_annotations(assessment: &Assessment, prefix: &str, style: &Style) -> String {
    finish(github::render(assessment, prefix, style), style)
}
