//! The JSON report: the DESIGN.md contract, pretty-printed, one document.

use serde_json::json;

use crate::assessment::Assessment;

pub fn render(assessment: &Assessment) -> String {
    let mut text = serde_json::to_string_pretty(assessment).unwrap_or_else(|e| {
        error_document(
            &format!("the report could not be serialized: {e}"),
            None,
            None,
            None,
        )
    });
    text.push('\n');
    text
}

/// What stdout carries when the tool could not do its job and JSON was asked for, so a CI
/// pipeline that parses stdout still gets a document.
pub fn error_document(
    message: &str,
    file: Option<&str>,
    line: Option<u64>,
    column: Option<u64>,
) -> String {
    let document = json!({
        "schema_version": crate::assessment::REPORT_SCHEMA_VERSION,
        "error": { "message": message, "file": file, "line": line, "column": column },
    });
    format!("{document:#}\n")
}
