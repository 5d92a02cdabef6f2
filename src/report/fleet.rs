//! One project judged against several machines: a components × machines matrix for people, a
//! document with one report per machine for CI.

use std::fmt::Write;

use serde::Serialize;

use super::Style;
use super::table::{heading, new_table, resolve_width};
use super::text::{icon, label, verdict_line};
use crate::assessment::{
    JudgedMachine as Machine, REPORT_SCHEMA_VERSION, Status, fleet_verdict as verdict,
};

/// The fleet document: the per-machine contract unchanged, under `machines`.
pub fn json(machines: &[Machine]) -> String {
    #[derive(Serialize)]
    struct Fleet<'a> {
        schema_version: u32,
        verdict: Status,
        machines: &'a [Machine],
    }
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

pub fn table(machines: &[Machine], style: &Style) -> String {
    let width = resolve_width(style);
    let mut out = String::new();
    heading(
        &mut out,
        &format!("Status by component on {} machines", machines.len()),
    );
    let mut table = new_table(style, width);
    let mut header = vec!["Component".to_string()];
    header.extend(machines.iter().map(|m| super::table::cell(&m.name)));
    table.set_header(header);
    for (component, _) in component_rows(machines) {
        let mut row = vec![super::table::cell(&component)];
        row.extend(machines.iter().map(|m| cell(m, &component, style.ascii)));
        table.add_row(row);
    }
    let mut verdicts = vec!["verdict".to_string()];
    verdicts.extend(
        machines
            .iter()
            .map(|m| icon(m.report.verdict, style.ascii).to_string()),
    );
    table.add_row(verdicts);
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
    out.push_str(&quiet(machines, style));
    out
}

pub fn markdown(machines: &[Machine]) -> String {
    let mut out = format!(
        "# Hardware Assessment: {} machines\n\n## Compatibility Status by Component\n\n",
        machines.len()
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
pub fn github(machines: &[Machine], style: &Style) -> String {
    let mut lines: Vec<(String, Vec<&str>)> = Vec::new();
    for machine in machines {
        for line in super::github::render(&machine.report, "", style).lines() {
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
    let verdict = verdict(machines);
    let _ = writeln!(
        out,
        "mlcompat: {} {} on {} machines",
        icon(verdict, style.ascii),
        label(verdict),
        machines.len()
    );
    out
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
