//! One project judged against several machines: a components × machines matrix for people, a
//! document with one report per machine for CI.

use std::fmt::Write;

use super::Style;
use super::table::{heading, new_table, resolve_width};
use super::text::{icon, label, verdict_line};
use crate::assessment::{
    Fleet, JudgedMachine as Machine, REPORT_SCHEMA_VERSION, Status, fleet_verdict as verdict,
};

/// The fleet document: the per-machine contract unchanged, under `machines`.
pub fn json(machines: &[Machine]) -> String {
    let fleet = Fleet {
        schema_version: REPORT_SCHEMA_VERSION,
        verdict: verdict(machines),
        machines,
    };
    serde_json::to_string_pretty(&fleet).unwrap_or_default() + "\n"
}

/// Component names in the order of their worst status across the fleet, worst first.
fn component_rows(machines: &[Machine]) -> Vec<(String, Status)> {
    let mut rows: Vec<(String, Status)> = Vec::new();
    for machine in machines {
        for component in &machine.report.components {
            match rows.iter_mut().find(|(name, _)| *name == component.name) {
                Some((_, worst)) if component.status > *worst => *worst = component.status,
                Some(_) => {}
                None => rows.push((component.name.clone(), component.status)),
            }
        }
    }
    rows.sort_by_key(|(_, worst)| std::cmp::Reverse(*worst));
    rows
}

fn cell(machine: &Machine, component: &str, ascii: bool) -> String {
    machine
        .report
        .components
        .iter()
        .find(|c| c.name == component)
        .map_or("-".to_string(), |c| icon(c.status, ascii).to_string())
}

/// The matrix. When the machines' names do not fit the width side by side, the columns are
/// numbered and the verdict lines below name each number, so no name or component is ever
/// broken inside a word (comfy-table splits a word that is wider than its column).
pub fn table(machines: &[Machine], style: &Style) -> String {
    let width = resolve_width(style);
    let rows = component_rows(machines);
    let first = rows
        .iter()
        .map(|(name, _)| name.chars().count().min(MAX_COMPONENT))
        .chain(["Component".len()])
        .max()
        .unwrap_or(0);
    // Borders and padding: 3 columns a cell (`┆ x `), one more for the closing border.
    let natural = first
        + 3
        + machines
            .iter()
            .map(|m| m.name.chars().count().max(2) + 3)
            .sum::<usize>()
        + 1;
    let numbered = natural > usize::from(width);
    let options = textwrap::Options::new(usize::from(width)).break_words(false);
    // The fleet's verdict leads, as one machine's does.
    let mut out = String::new();
    for line in textwrap::wrap(&counts(machines, style.ascii), options) {
        let _ = writeln!(out, "{line}");
    }
    heading(
        &mut out,
        &format!("Status by component on {} machines", machines.len()),
    );
    let mut table = new_table(style, width);
    let mut header = vec!["Component".to_string()];
    header.extend(machines.iter().enumerate().map(|(i, m)| {
        if numbered {
            (i + 1).to_string()
        } else {
            super::table::cell(&m.name)
        }
    }));
    table.set_header(header);
    for (component, _) in &rows {
        let mut row = vec![super::table::cell(component)];
        row.extend(machines.iter().map(|m| cell(m, component, style.ascii)));
        table.add_row(row);
    }
    let mut verdicts = vec!["verdict".to_string()];
    verdicts.extend(
        machines
            .iter()
            .map(|m| icon(m.report.verdict, style.ascii).to_string()),
    );
    table.add_row(verdicts);
    if let Some(column) = table.column_mut(0) {
        let fixed = u16::try_from(first + 2).unwrap_or(u16::MAX);
        column.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(
            comfy_table::Width::Fixed(fixed),
        ));
    }
    let _ = writeln!(out, "{table}");
    let _ = writeln!(
        out,
        "  {} ok   {} with modifications   {} will not work   {} unknown   - not declared",
        icon(Status::Ok, style.ascii),
        icon(Status::Warn, style.ascii),
        icon(Status::Fail, style.ascii),
        icon(Status::Unknown, style.ascii)
    );
    out.push('\n');
    if numbered {
        out.push_str(&numbered_lines(machines, style));
    } else {
        out.push_str(&quiet(machines, style));
    }
    out
}

/// Component names longer than this may wrap (a pathological name must not push every machine
/// column off the screen).
const MAX_COMPONENT: usize = 28;

/// The verdict lines with the column number of each machine: the legend of a numbered matrix.
fn numbered_lines(machines: &[Machine], style: &Style) -> String {
    let digits = machines.len().to_string().len();
    let width = machines.iter().map(|m| m.name.len()).max().unwrap_or(0);
    machines
        .iter()
        .enumerate()
        .map(|(i, m)| {
            // The icon says the verdict; its words would push the line past a narrow terminal.
            let c = &m.report.summary;
            format!(
                "{:>digits$}  {:<width$}  {} {} ok, {} warn, {} fail, {} unknown\n",
                i + 1,
                m.name,
                icon(m.report.verdict, style.ascii),
                c.ok,
                c.warn,
                c.fail,
                c.unknown
            )
        })
        .collect()
}

pub fn markdown(machines: &[Machine]) -> String {
    let mut out = format!(
        "# {}\n\n## Compatibility Status by Component\n\n",
        counts(machines, false)
    );
    let names: Vec<&str> = machines.iter().map(|m| m.name.as_str()).collect();
    let _ = writeln!(out, "| Component | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(machines.len()));
    for (component, _) in component_rows(machines) {
        let cells: Vec<String> = machines
            .iter()
            .map(|m| cell(m, &component, false))
            .collect();
        let _ = writeln!(out, "| {component} | {} |", cells.join(" | "));
    }
    let verdicts: Vec<&str> = machines
        .iter()
        .map(|m| icon(m.report.verdict, false))
        .collect();
    let _ = writeln!(out, "| **verdict** | {} |", verdicts.join(" | "));
    out.push_str("\n## Verdicts\n\n");
    for machine in machines {
        let _ = writeln!(
            out,
            "- **{}**: {}",
            machine.name,
            verdict_line(&machine.report, false)
        );
    }
    out
}

/// Annotations for every machine, each offending line once with the machines it fails on.
/// `prefix` is the scanned folder relative to the working folder, as for one machine.
pub fn github(machines: &[Machine], prefix: &str, style: &Style) -> String {
    let mut lines: Vec<(String, Vec<&str>)> = Vec::new();
    for machine in machines {
        for line in super::github::render(&machine.report, prefix, style).lines() {
            if !line.starts_with("::") {
                continue;
            }
            match lines.iter_mut().find(|(l, _)| l == line) {
                Some((_, names)) => names.push(&machine.name),
                None => lines.push((line.to_string(), vec![&machine.name])),
            }
        }
    }
    let mut out = String::new();
    for (line, names) in lines {
        let _ = writeln!(out, "{line} (on {})", names.join(", "));
    }
    let _ = writeln!(out, "mlcompat: {}", counts(machines, style.ascii));
    out
}

/// How many machines have each verdict, worst first: `❌ Will NOT work on 5 of 11 machines;
/// ⚠️ Will work with modifications on 5; ✅ Will work on 1`. The worst leads, as it sets the
/// exit code, but each count is only its own machines.
pub fn counts(machines: &[Machine], ascii: bool) -> String {
    let total = machines.len();
    let mut parts = Vec::new();
    for status in Status::ALL.iter().rev() {
        let n = machines
            .iter()
            .filter(|m| m.report.verdict == *status)
            .count();
        if n == 0 {
            continue;
        }
        let part = if parts.is_empty() {
            let noun = if total == 1 { "machine" } else { "machines" };
            format!(
                "{} {} on {n} of {total} {noun}",
                icon(*status, ascii),
                label(*status)
            )
        } else {
            format!("{} {} on {n}", icon(*status, ascii), label(*status))
        };
        parts.push(part);
    }
    if parts.is_empty() {
        return format!("{} no machines", icon(verdict(machines), ascii));
    }
    parts.join("; ")
}

/// One line a machine: its verdict and counts.
pub fn quiet(machines: &[Machine], style: &Style) -> String {
    let width = machines.iter().map(|m| m.name.len()).max().unwrap_or(0);
    machines
        .iter()
        .map(|m| {
            format!(
                "{:<width$}  {}\n",
                m.name,
                verdict_line(&m.report, style.ascii)
            )
        })
        .collect()
}
