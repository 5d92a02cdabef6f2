//! GitHub Actions workflow commands: `::error file=…,line=…,title=…::message` for each ❌ and
//! `::warning` for each ⚠️ that has evidence, so the run marks the offending lines; then one
//! summary line.

use std::fmt::Write;

use super::Style;
use super::text::verdict_line;
use crate::assessment::Assessment;
use crate::assessment::Status;

/// `prefix` is the scanned folder relative to the repository root (`""` for the root).
pub fn render(assessment: &Assessment, prefix: &str, style: &Style) -> String {
    let mut out = String::new();
    for finding in assessment
        .findings
        .iter()
        .filter(|f| f.status >= Status::Warn)
    {
        let command = if finding.status == Status::Fail {
            "error"
        } else {
            "warning"
        };
        let message = escape_data(&format!(
            "{} {}",
            finding.problem,
            finding.solution.join(" ")
        ));
        let title = escape_property(&format!("{}: {}", finding.component, finding.title));
        if finding.evidence.is_empty() {
            let _ = writeln!(out, "::{command} title={title}::{message}");
        }
        for evidence in &finding.evidence {
            let file = escape_property(&join(prefix, &evidence.file));
            let _ = writeln!(
                out,
                "::{command} file={file},line={},title={title}::{message}",
                evidence.line
            );
        }
    }
    let _ = writeln!(out, "mlcompat: {}", verdict_line(assessment, style.ascii));
    if !assessment.recipes.is_empty() {
        let _ = writeln!(
            out,
            "mlcompat: {}",
            super::recipes::headline(&assessment.recipes)
        );
    }
    out
}

fn join(prefix: &str, file: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() || prefix == "." {
        file.to_string()
    } else {
        format!("{prefix}/{file}")
    }
}

/// The escapes the runner expects in a command's message.
fn escape_data(text: &str) -> String {
    text.trim()
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The escapes the runner expects in a command's properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_and_messages_are_escaped() {
        assert_eq!(escape_property("a: b, 50%"), "a%3A b%2C 50%25");
        assert_eq!(escape_data("one\ntwo: 3"), "one%0Atwo: 3");
        assert_eq!(
            join("sub/dir/", "requirements.txt"),
            "sub/dir/requirements.txt"
        );
        assert_eq!(join(".", "requirements.txt"), "requirements.txt");
    }
}
