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
    let mut out = String::new();
    heading(&mut out, "System");
    for (name, value) in specification(assessment) {
        let _ = writeln!(out, "  {:<8} {value}", name.bold());
    }
    critical_issues(&mut out, assessment);
    components(&mut out, assessment, width);
    if let Some(memory) = &assessment.memory {
        heading(&mut out, "Memory");
        let _ = writeln!(out, "  {}", memory.arithmetic);
        let _ = writeln!(out, "  {}", memory.device);
    }
    recommendations(&mut out, assessment);
    changes(&mut out, assessment);
    notes(&mut out, assessment);
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

fn critical_issues(out: &mut String, assessment: &Assessment) {
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
        let _ = writeln!(out, "\n  {}", paint(finding.status, &title).bold());
        if !finding.evidence.is_empty() {
            let _ = writeln!(
                out,
                "     {:<9} {}",
                "Where".dimmed(),
                places(&finding.evidence)
            );
        }
        if !finding.problem.is_empty() {
            let _ = writeln!(
                out,
                "     {:<9} {}",
                "Problem".dimmed(),
                finding.problem.trim()
            );
        }
        list(out, "Impact", &finding.impact);
        list(out, "Solution", &finding.solution);
    }
}

fn list(out: &mut String, name: &str, items: &[String]) {
    for (index, item) in items.iter().enumerate() {
        let name = if index == 0 { name } else { "" };
        let _ = writeln!(out, "     {:<9} • {item}", name.dimmed());
    }
}

fn components(out: &mut String, assessment: &Assessment, width: Option<u16>) {
    heading(out, "Status by component");
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["", "Component", "Status", "Why", "Where"]);
    if let Some(width) = width {
        table.set_width(width);
    }
    let mut rows: Vec<_> = assessment.components.iter().collect();
    rows.sort_by_key(|c| std::cmp::Reverse(c.status.severity()));
    for component in rows {
        table.add_row(vec![
            icon(component.status).to_string(),
            component.name.clone(),
            label(component.status).to_string(),
            component.summary.clone(),
            places(&component.evidence),
        ]);
    }
    let _ = writeln!(out, "{table}");
}

fn recommendations(out: &mut String, assessment: &Assessment) {
    if assessment.recommendations.is_empty() {
        return;
    }
    heading(out, "Recommendations");
    for (index, option) in assessment.recommendations.iter().enumerate() {
        let _ = writeln!(out, "\n  {}. {}", index + 1, option.title.bold());
        let _ = writeln!(out, "     {:<9} {}", "Best for".dimmed(), option.best_for);
        for step in &option.steps {
            let _ = writeln!(out, "     • {step}");
        }
        list(out, "Pros", &option.pros);
        list(out, "Cons", &option.cons);
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

fn notes(out: &mut String, assessment: &Assessment) {
    if assessment.notes.is_empty() {
        return;
    }
    heading(out, "Notes");
    for note in &assessment.notes {
        let _ = writeln!(out, "  {}", note.dimmed());
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
