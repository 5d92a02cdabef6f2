//! The terminal report: the founding assessment's shape, with a status table in the middle.
//! Colour is written unconditionally; the caller's stream strips it when it must not show.

use std::fmt::Write;

use comfy_table::{ContentArrangement, Table, TableStyle, presets};
use owo_colors::OwoColorize;

use super::Style;
use super::text::{NOTHING_FOUND, icon, label, places, specification, verdict_line};
use crate::assessment::Status;
use crate::assessment::{Assessment, Finding};

pub fn render(assessment: &Assessment, style: &Style) -> String {
    let width = resolve_width(style);
    // The verdict leads: it is what a reader (or a CI log) needs first.
    let line = verdict_line(assessment, style.ascii);
    let mut out = format!("{}\n", paint(assessment.verdict, &line).bold());
    heading(&mut out, "System");
    for (name, value) in specification(assessment) {
        let _ = writeln!(out, "  {:<8} {value}", name.bold());
    }
    critical_issues(&mut out, assessment, style, width);
    components(&mut out, assessment, style, width);
    super::recipes::section(&mut out, assessment, style, width);
    if let Some(memory) = &assessment.memory {
        heading(&mut out, "Memory");
        wrap(&mut out, "  ", "  ", &memory.arithmetic, width);
        wrap(&mut out, "  ", "  ", &memory.device, width);
    }
    if style.verbose {
        why(&mut out, assessment, style, width);
    }
    recommendations(&mut out, assessment, width);
    changes(&mut out, assessment);
    notes(&mut out, assessment, width);
    suppressed(&mut out, assessment, width);
    let _ = writeln!(out, "\n{}", knowledge_line(assessment).dimmed());
    out
}

/// `-q`: the verdict, then the required changes (one a line, `file:line  change`) and nothing
/// else.
pub fn quiet(assessment: &Assessment, style: &Style) -> String {
    let mut out = verdict_line(assessment, style.ascii) + "\n";
    changes_list(&mut out, assessment);
    out
}

/// `Package index as of 2026-12-02 (built-in snapshot)`: which
/// wheels exist is a fact of a day, so the report says which day its knowledge is from.
fn knowledge_line(assessment: &Assessment) -> String {
    let knowledge = &assessment.knowledge;
    let day = knowledge.index_as_of.as_deref().unwrap_or("an unknown day");
    format!("Package index as of {day} ({})", knowledge.source)
}

/// The width to fit: given, else the terminal's (an unconfigured table measures it), else 100.
pub fn resolve_width(style: &Style) -> u16 {
    style
        .width
        .or_else(|| Table::new().width())
        .unwrap_or(100)
        .max(40)
}

/// A comfy-table in the report's look, ASCII borders in `--ascii` mode.
/// The most characters a table cell shows. comfy-table splits a word longer than its column
/// in time quadratic in the word's length (a 200 kB package name took seconds), and no real
/// name or summary comes near this.
const MAX_CELL_CHARS: usize = 400;

/// `text`, cut to [`MAX_CELL_CHARS`] with `…` when longer.
pub fn cell(text: &str) -> String {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

pub fn new_table(style: &Style, width: u16) -> Table {
    let preset: TableStyle = if style.ascii {
        presets::ASCII_FULL_CONDENSED
    } else {
        presets::UTF8_FULL_CONDENSED
    };
    let mut table = Table::new();
    table
        .load_style(preset)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    table
}

pub fn heading(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{}", title.bold().underline());
}

pub fn paint(status: Status, text: &str) -> String {
    match status {
        Status::Ok => text.green().to_string(),
        Status::Warn => text.yellow().to_string(),
        Status::Fail => text.red().to_string(),
        Status::Unknown => text.dimmed().to_string(),
    }
}

/// Writes `text` wrapped at `width`, the first line after `first`, the rest after `rest`.
pub fn wrap(out: &mut String, first: &str, rest: &str, text: &str, width: u16) {
    let options = textwrap::Options::new(usize::from(width))
        .initial_indent(first)
        .subsequent_indent(rest);
    for line in textwrap::wrap(text.trim(), options) {
        let _ = writeln!(out, "{line}");
    }
}

/// Wraps a line that starts with a status icon. Terminals draw the emoji two columns wide while
/// the wrapper counts `⚠️` as one, so the icon stands in as two placeholder columns.
fn wrap_with_icon(out: &mut String, icon: &str, text: &str, rest: &str, width: u16) {
    let mut wrapped = String::new();
    let placeholder = if icon.is_ascii() {
        icon.to_string()
    } else {
        "\u{2800}\u{2800}".to_string()
    };
    wrap(
        &mut wrapped,
        "  ",
        rest,
        &format!("{placeholder} {text}"),
        width,
    );
    out.push_str(&wrapped.replacen(&placeholder, icon, 1));
}

/// A labelled field of a finding: `     Problem   text…` with the text's lines aligned.
fn field(out: &mut String, name: &str, text: &str, width: u16) {
    let first = format!("     {name:<9} ");
    wrap(out, &first, &" ".repeat(15), text, width);
}

fn list(out: &mut String, name: &str, items: &[String], width: u16) {
    for (index, item) in items.iter().enumerate() {
        let name = if index == 0 { name } else { "" };
        wrap(
            out,
            &format!("     {name:<9} • "),
            &" ".repeat(17),
            item,
            width,
        );
    }
}

fn critical_issues(out: &mut String, assessment: &Assessment, style: &Style, width: u16) {
    let issues: Vec<&Finding> = assessment
        .findings
        .iter()
        .filter(|f| f.status >= Status::Warn)
        .collect();
    if issues.is_empty() {
        return;
    }
    heading(out, "Critical issues");
    for finding in issues {
        let mut lines = String::new();
        wrap_with_icon(
            &mut lines,
            icon(finding.status, style.ascii),
            &finding.title,
            "     ",
            width,
        );
        let _ = write!(out, "\n{}", paint(finding.status, &lines).bold());
        if !finding.evidence.is_empty() {
            field(out, "Where", &places(&finding.evidence), width);
        }
        if !finding.problem.is_empty() {
            field(out, "Problem", &finding.problem, width);
        }
        list(out, "Impact", &finding.impact, width);
        list(out, "Solution", &finding.solution, width);
    }
}

fn components(out: &mut String, assessment: &Assessment, style: &Style, width: u16) {
    heading(out, "Status by component");
    if assessment.components.is_empty() {
        let _ = writeln!(out, "  {NOTHING_FOUND}");
        return;
    }
    let mut table = new_table(style, width);
    table.set_header(vec!["", "Component", "Why", "Where"]);
    let mut rows: Vec<_> = assessment.components.iter().collect();
    rows.sort_by_key(|c| std::cmp::Reverse(c.status));
    for component in rows {
        table.add_row(vec![
            icon(component.status, style.ascii).to_string(),
            cell(&component.name),
            cell(&component.summary),
            cell(&places(&component.evidence)),
        ]);
    }
    let _ = writeln!(out, "{table}");
    let legend: Vec<String> = [Status::Ok, Status::Warn, Status::Fail, Status::Unknown]
        .iter()
        .map(|s| format!("{} {}", icon(*s, style.ascii), label(*s).to_lowercase()))
        .collect();
    let _ = writeln!(out, "  {}", legend.join("   ").dimmed());
}

/// `-v`: every finding, ok ones included, with the rule, its evidence and its source.
fn why(out: &mut String, assessment: &Assessment, style: &Style, width: u16) {
    heading(out, "Why (every rule that fired)");
    let _ = writeln!(out, "  Python judged: {}", assessment.python);
    for finding in &assessment.findings {
        let head = format!(
            "{} [{}]: {}",
            finding.component, finding.rule, finding.title
        );
        out.push('\n');
        wrap_with_icon(
            out,
            icon(finding.status, style.ascii),
            &head,
            "     ",
            width,
        );
        if !finding.evidence.is_empty() {
            field(out, "Facts", &places(&finding.evidence), width);
        }
        for source in &finding.source {
            field(out, "Source", source, width);
        }
        field(out, "Verified", &finding.verified, width);
    }
}

fn recommendations(out: &mut String, assessment: &Assessment, width: u16) {
    if assessment.recommendations.is_empty() {
        return;
    }
    heading(out, "Recommendations");
    for (index, option) in assessment.recommendations.iter().enumerate() {
        let mut title = String::new();
        wrap(
            &mut title,
            &format!("  {}. ", index + 1),
            "     ",
            &option.title,
            width,
        );
        let _ = write!(out, "\n{}", title.bold());
        field(out, "Best for", &option.best_for, width);
        for step in &option.steps {
            wrap(out, "     • ", "       ", step, width);
        }
        list(out, "Pros", &option.pros, width);
        list(out, "Cons", &option.cons, width);
    }
}

fn changes(out: &mut String, assessment: &Assessment) {
    if assessment.changes.is_empty() {
        return;
    }
    heading(out, "Required changes");
    changes_list(out, assessment);
}

/// The required changes, one a line, their places aligned.
fn changes_list(out: &mut String, assessment: &Assessment) {
    let width = assessment
        .changes
        .iter()
        .map(|c| c.file.len() + c.line.to_string().len() + 1)
        .max()
        .unwrap_or(0);
    for change in &assessment.changes {
        let place = format!("{}:{}", change.file, change.line);
        let _ = writeln!(
            out,
            "  {}  {}",
            format!("{place:<width$}").cyan(),
            change.change
        );
    }
}

fn notes(out: &mut String, assessment: &Assessment, width: u16) {
    if assessment.notes.is_empty() {
        return;
    }
    heading(out, "Notes");
    for note in &assessment.notes {
        wrap(out, "  ", "    ", note, width);
    }
}

/// One line for the findings the project's config ignores, so a reader knows the verdict is
/// without them. The reasons come from the project's file: control characters are dropped.
fn suppressed(out: &mut String, assessment: &Assessment, width: u16) {
    if assessment.suppressed.is_empty() {
        return;
    }
    let items: Vec<String> = assessment
        .suppressed
        .iter()
        .map(|s| {
            let what = format!("{} on {}", s.finding.rule, s.finding.component);
            match &s.reason {
                Some(reason) => format!("{what} ({reason})"),
                None => what,
            }
        })
        .collect();
    let text: String = format!(
        "Ignored by the project's config ({}): {}",
        assessment.suppressed.len(),
        items.join("; ")
    )
    .chars()
    .filter(|c| !c.is_control())
    .collect();
    out.push('\n');
    wrap(out, "", "  ", &text, width);
}

#[cfg(test)]
mod cell_tests {
    #[test]
    fn long_cells_are_cut() {
        assert_eq!(super::cell("short"), "short");
        let long = "é".repeat(1_000);
        let shown = super::cell(&long);
        assert_eq!(shown.chars().count(), super::MAX_CELL_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
