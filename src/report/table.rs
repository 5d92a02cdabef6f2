//! The terminal report: the founding assessment's shape, with a status table in the middle.
//! Colour is written unconditionally; the caller's stream strips it when it must not show.

use std::fmt::Write;

use comfy_table::{ContentArrangement, Table, presets};
use owo_colors::OwoColorize;

use super::text::{icon, label, places, specification};
use crate::assessment::Assessment;
use crate::rules::Status;

/// `width`: the columns to fit; `None` lets the table measure the terminal.
pub fn render(assessment: &Assessment, width: Option<u16>) -> String {
    // An unconfigured table knows the terminal's width when there is one.
    let width = width
        .or_else(|| Table::new().width())
        .unwrap_or(100)
        .max(40);
    let mut out = String::new();
    heading(&mut out, "System");
    for (name, value) in specification(assessment) {
        let _ = writeln!(out, "  {:<8} {value}", name.bold());
    }
    critical_issues(&mut out, assessment, width);
    components(&mut out, assessment, Some(width));
    if let Some(memory) = &assessment.memory {
        heading(&mut out, "Memory");
        wrap(&mut out, "  ", "  ", &memory.arithmetic, width);
        wrap(&mut out, "  ", "  ", &memory.device, width);
    }
    recommendations(&mut out, assessment, width);
    changes(&mut out, assessment);
    notes(&mut out, assessment, width);
    verdict(&mut out, assessment);
    out
}

fn heading(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{}", title.bold().underline());
}

fn paint(status: Status, text: &str) -> String {
    match status {
        Status::Ok => text.green().to_string(),
        Status::Warn => text.yellow().to_string(),
        Status::Fail => text.red().to_string(),
        Status::Unknown => text.dimmed().to_string(),
    }
}

/// Writes `text` wrapped at `width`, the first line after `first`, the rest after `rest`.
fn wrap(out: &mut String, first: &str, rest: &str, text: &str, width: u16) {
    let options = textwrap::Options::new(usize::from(width))
        .initial_indent(first)
        .subsequent_indent(rest);
    for line in textwrap::wrap(text.trim(), options) {
        let _ = writeln!(out, "{line}");
    }
}

/// A labelled field of a finding: `     Problem   text…` with the text's lines aligned.
fn field(out: &mut String, name: &str, text: &str, width: u16) {
    let first = format!("     {name:<9} ");
    wrap(out, &first, &" ".repeat(15), text, width);
}

fn critical_issues(out: &mut String, assessment: &Assessment, width: u16) {
    let issues: Vec<_> = assessment
        .findings
        .iter()
        .filter(|f| f.status >= Status::Warn)
        .collect();
    if issues.is_empty() {
        return;
    }
    heading(out, "Critical issues");
    for finding in issues {
        let title = format!("{} {}", icon(finding.status), finding.title);
        let mut lines = String::new();
        wrap(&mut lines, "  ", "     ", &title, width);
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

fn components(out: &mut String, assessment: &Assessment, width: Option<u16>) {
    heading(out, "Status by component");
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["", "Component", "Why", "Where"]);
    if let Some(width) = width {
        table.set_width(width);
    }
    let mut rows: Vec<_> = assessment.components.iter().collect();
    rows.sort_by_key(|c| std::cmp::Reverse(c.status.severity()));
    for component in rows {
        table.add_row(vec![
            icon(component.status).to_string(),
            component.name.clone(),
            component.summary.clone(),
            places(&component.evidence),
        ]);
    }
    let _ = writeln!(out, "{table}");
    let legend: Vec<String> = [Status::Ok, Status::Warn, Status::Fail, Status::Unknown]
        .iter()
        .map(|s| format!("{} {}", icon(*s), label(*s).to_lowercase()))
        .collect();
    let _ = writeln!(out, "  {}", legend.join("   ").dimmed());
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

fn verdict(out: &mut String, assessment: &Assessment) {
    let s = &assessment.summary;
    let line = format!(
        "{} {} — {} ok, {} warn, {} fail, {} unknown",
        icon(assessment.verdict),
        label(assessment.verdict),
        s.ok,
        s.warn,
        s.fail,
        s.unknown
    );
    let _ = writeln!(out, "\n{}", paint(assessment.verdict, &line).bold());
}
