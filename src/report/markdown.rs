//! The report as a Markdown document, in the founding assessment's shape, for an issue or
//! `$GITHUB_STEP_SUMMARY`. It is given an assessment whose strings are already Markdown-escaped
//! ([`super::escape::for_markdown`]).

use std::fmt::Write;

use super::text::{icon, label, next_steps, places, specification, verdict_line};
use crate::assessment::Assessment;
use crate::assessment::Status;

pub fn render(assessment: &Assessment) -> String {
    // The verdict leads, as the document's title: a step summary or an issue is read from the
    // top.
    let mut out = format!(
        "# {}\n\n## System Specifications\n\n",
        verdict_line(assessment, false)
    );
    for (name, value) in specification(assessment) {
        let _ = writeln!(out, "- **{name}**: {value}");
    }
    let issues: Vec<_> = assessment
        .findings
        .iter()
        .filter(|f| f.status >= Status::Warn)
        .collect();
    if !issues.is_empty() {
        out.push_str("\n## Critical Compatibility Issues\n");
        for finding in issues {
            let _ = writeln!(
                out,
                "\n### {} {}\n",
                icon(finding.status, false),
                finding.title
            );
            if !finding.evidence.is_empty() {
                let _ = writeln!(out, "**Where**: {}\n", places(&finding.evidence));
            }
            if !finding.problem.is_empty() {
                let _ = writeln!(out, "**Problem**: {}\n", finding.problem.trim());
            }
            bullets(&mut out, "Impact", &finding.impact);
            bullets(&mut out, "Solution", &finding.solution);
        }
    }
    out.push_str("\n## Compatibility Status by Component\n");
    for status in [Status::Ok, Status::Warn, Status::Fail, Status::Unknown] {
        let members: Vec<_> = assessment
            .components
            .iter()
            .filter(|c| c.status == status)
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {} {}\n", icon(status, false), label(status));
        for (index, component) in members.iter().enumerate() {
            let place = places(&component.evidence);
            let place = if place.is_empty() {
                String::new()
            } else {
                format!(" ({place})")
            };
            let _ = writeln!(
                out,
                "{}. **{}** - {}{place}",
                index + 1,
                component.name,
                component.summary
            );
        }
    }
    if let Some(memory) = &assessment.memory {
        let _ = writeln!(
            out,
            "\n## Memory\n\n{}; {}.",
            memory.arithmetic, memory.device
        );
    }
    super::recipes::markdown(&mut out, assessment);
    if !assessment.recommendations.is_empty() {
        out.push_str("\n## Recommendations\n");
        for (index, option) in assessment.recommendations.iter().enumerate() {
            let _ = writeln!(out, "\n### Option {}: {}\n", index + 1, option.title);
            let _ = writeln!(out, "**Best for**: {}\n", option.best_for);
            for step in &option.steps {
                let _ = writeln!(out, "- {step}");
            }
            let _ = writeln!(out, "- **Pros**: {}", option.pros.join("; "));
            let _ = writeln!(out, "- **Cons**: {}", option.cons.join("; "));
        }
    }
    if !assessment.changes.is_empty() {
        out.push_str("\n## Required Code Changes\n\n");
        changes_list(&mut out, assessment);
    }
    out.push_str("\n## Next Steps\n\n");
    for (index, step) in next_steps(assessment).iter().enumerate() {
        let _ = writeln!(out, "{}. {step}", index + 1);
    }
    if !assessment.suppressed.is_empty() {
        // The waiver stays visible where CI shows the report (a step summary, a PR comment).
        let items: Vec<String> = assessment
            .suppressed
            .iter()
            .map(|s| {
                let what = format!(
                    "`{}` on {}",
                    // In a code span nothing is markup, and escapes would show.
                    s.finding
                        .rule
                        .chars()
                        .filter(|c| *c != '`' && !c.is_control())
                        .collect::<String>(),
                    s.finding.component
                );
                match &s.reason {
                    Some(reason) => format!("{what} ({reason})"),
                    None => what,
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "\n**Ignored by the project's config** ({}): {}",
            assessment.suppressed.len(),
            items.join("; ")
        );
    }
    out
}

/// `-q`: the verdict, then the required changes as a numbered list, and nothing else.
pub fn quiet(assessment: &Assessment) -> String {
    let mut out = verdict_line(assessment, false) + "\n";
    if !assessment.changes.is_empty() {
        out.push('\n');
        changes_list(&mut out, assessment);
    }
    out
}

fn changes_list(out: &mut String, assessment: &Assessment) {
    for (index, change) in assessment.changes.iter().enumerate() {
        // No code span: the file name is Markdown-escaped text, which a code span would show
        // with its backslashes.
        let _ = writeln!(
            out,
            "{}. {}:{}: {}",
            index + 1,
            change.file,
            change.line,
            change.change
        );
    }
}

fn bullets(out: &mut String, name: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "**{name}**:");
    for item in items {
        let _ = writeln!(out, "- {item}");
    }
    out.push('\n');
}
