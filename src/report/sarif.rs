//! SARIF 2.1.0 for GitHub code scanning (`check --format sarif`): every rule that fired at ❌ or
//! ⚠️ becomes a `reportingDescriptor` with its help text and sources, and every offending line a
//! `result` whose artifact URI is relative to the repository root, so code scanning can pin it
//! to the line in a pull request. A fleet is one run: a line that fails on several machines is
//! one result naming them, as code scanning would otherwise show it once per machine.
//!
//! Code scanning needs a location on every result; a finding about the machine rather than a
//! line (memory, the GPU) is placed on the first project file that was read, line 1, and says
//! so in its message.

use serde_json::{Value, json};

use crate::assessment::{Assessment, Finding, JudgedMachine as Machine, Status};

/// The schema URI GitHub's documentation and the SARIF validator use for 2.1.0.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// One SARIF log for the machines judged. `prefix` is the scanned folder relative to the
/// repository root (`""` or `"."` for the root).
pub fn render(machines: &[Machine], prefix: &str) -> String {
    let named: Vec<(&str, &Assessment)> = machines
        .iter()
        .map(|m| (m.name.as_str(), &m.report))
        .collect();
    log(&named, prefix)
}

/// One machine's SARIF log.
pub fn render_one(assessment: &Assessment, prefix: &str) -> String {
    log(&[("this machine", assessment)], prefix)
}

fn log(machines: &[(&str, &Assessment)], prefix: &str) -> String {
    let fleet = machines.len() > 1;
    let mut rules: Vec<(&Finding, Value)> = Vec::new();
    let mut results: Vec<Placed> = Vec::new();
    for &(name, report) in machines {
        for finding in report.findings.iter().filter(|f| f.status >= Status::Warn) {
            let index = match rules.iter().position(|(f, _)| f.rule == finding.rule) {
                Some(index) => index,
                None => {
                    rules.push((finding, descriptor(finding)));
                    rules.len() - 1
                }
            };
            let level = level(finding.status);
            let mut message = message(finding);
            let places: Vec<(String, u32)> = if finding.evidence.is_empty() {
                match report.files.first() {
                    Some(file) => {
                        message.push_str(
                            "\n(This is about the machine, not a line: shown on the first file read.)",
                        );
                        vec![(join(prefix, file), 1)]
                    }
                    // Nothing to point at: code scanning drops results without a location.
                    None => Vec::new(),
                }
            } else {
                finding
                    .evidence
                    .iter()
                    .map(|e| (join(prefix, &e.file), e.line.max(1)))
                    .collect()
            };
            for (uri, line) in places {
                let same = |r: &&mut Placed| {
                    r.rule == index
                        && r.uri == uri
                        && r.line == line
                        && r.level == level
                        && r.message == message
                };
                match results.iter_mut().find(same) {
                    Some(found) => found.machines.push(name),
                    None => results.push(Placed {
                        rule: index,
                        uri,
                        line,
                        level,
                        message: message.clone(),
                        machines: vec![name],
                    }),
                }
            }
        }
    }
    let results: Vec<Value> = results
        .into_iter()
        .map(|placed| {
            let Placed {
                rule: index,
                uri,
                line,
                level,
                message,
                machines: on,
            } = placed;
            let text = if fleet {
                format!("{message}\n(on {})", clean(&on.join(", ")))
            } else {
                message
            };
            json!({
                "ruleId": rules[index].0.rule,
                "ruleIndex": index,
                "level": level,
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri_escape(&uri), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": line }
                    }
                }],
                "properties": { "machines": on }
            })
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "mlcompat",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_iter().map(|(_, d)| d).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

/// One result: a rule's finding at a line, with the machines it applies to (first seen first).
struct Placed<'a> {
    /// The rule's index in the driver's rules.
    rule: usize,
    uri: String,
    line: u32,
    level: &'static str,
    message: String,
    machines: Vec<&'a str>,
}

fn level(status: Status) -> &'static str {
    match status {
        Status::Fail => "error",
        Status::Warn => "warning",
        Status::Ok | Status::Unknown => "note",
    }
}

/// The rule as code scanning lists it: the title, the problem, what to do, and where the fact
/// comes from. The words come from the first finding of the rule (rules are templates; the
/// rendered text is what a reader can act on).
fn descriptor(finding: &Finding) -> Value {
    let mut help = clean(&finding.problem);
    let mut markdown = markdown_escape(&finding.problem);
    if !finding.solution.is_empty() {
        help.push_str("\n\nSolution:");
        markdown.push_str("\n\n**Solution**\n");
        for step in &finding.solution {
            help.push_str(&format!("\n- {}", clean(step)));
            markdown.push_str(&format!("\n- {}", markdown_escape(step)));
        }
    }
    if !finding.source.is_empty() {
        help.push_str("\n\nSources:");
        markdown.push_str("\n\n**Sources**\n");
        for source in &finding.source {
            help.push_str(&format!("\n- {}", clean(source)));
            markdown.push_str(&format!("\n- <{}>", markdown_escape(source)));
        }
    }
    if !finding.verified.is_empty() {
        help.push_str(&format!("\n\nVerified: {}", clean(&finding.verified)));
        markdown.push_str(&format!(
            "\n\nVerified: {}",
            markdown_escape(&finding.verified)
        ));
    }
    let mut descriptor = json!({
        "id": finding.rule,
        "name": pascal(&finding.rule),
        "shortDescription": { "text": clean(&finding.title) },
        "fullDescription": { "text": clean(&finding.problem) },
        "help": { "text": help, "markdown": markdown },
        "defaultConfiguration": { "level": level(finding.status) },
        "properties": {
            "tags": ["mlcompat", finding.component.as_str()],
            "sources": finding.source,
        },
    });
    if let Some(uri) = finding.source.iter().find(|s| s.starts_with("https://")) {
        descriptor["helpUri"] = json!(uri);
    }
    descriptor
}

/// The problem and the solution, as one message with line breaks.
fn message(finding: &Finding) -> String {
    let mut text = format!("{}: {}", clean(&finding.component), clean(&finding.title));
    if !finding.problem.is_empty() {
        text.push_str("\n\n");
        text.push_str(&clean(&finding.problem));
    }
    for step in &finding.solution {
        text.push_str("\n- ");
        text.push_str(&clean(step));
    }
    text
}

/// `torch-mps-backend` → `TorchMpsBackend`: SARIF's `name` is an identifier-like word.
fn pascal(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Text from a project (package names, versions, file names) with control characters removed:
/// code scanning shows it verbatim, and an escape sequence must not reach a reader's terminal
/// through a downloaded log.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

/// Markdown's punctuation escaped, so a requirement like `torch[cuda]>=2` cannot become a link
/// or markup in the rule's help.
fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        if "\\`*_{}[]()<>#+!|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn join(prefix: &str, file: &str) -> String {
    let prefix = prefix.trim_start_matches("./").trim_end_matches('/');
    if prefix.is_empty() || prefix == "." {
        file.to_string()
    } else {
        format!("{prefix}/{file}")
    }
}

/// A relative path as a URI reference: unreserved characters and `/` as they are, everything
/// else percent-encoded (a space, `#` or `?` in a file name would otherwise change the URI).
fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_escaped() {
        assert_eq!(
            uri_escape(&join("./sub dir/", "req#1.txt")),
            "sub%20dir/req%231.txt"
        );
        assert_eq!(join(".", "a.txt"), "a.txt");
        assert_eq!(uri_escape("ü.txt"), "%C3%BC.txt");
    }

    #[test]
    fn project_text_cannot_carry_markup_or_escapes() {
        assert_eq!(markdown_escape("[x](y)"), "\\[x\\]\\(y\\)");
        assert_eq!(clean("a\u{1b}[31mb\nc"), "a[31mb\nc");
        assert_eq!(pascal("torch-mps-backend"), "TorchMpsBackend");
    }
}
