//! The JSON report: the DESIGN.md contract, pretty-printed, one document.

use crate::assessment::{Assessment, ErrorBody, ErrorDocument};

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
    let document = ErrorDocument {
        schema_version: crate::assessment::REPORT_SCHEMA_VERSION,
        error: ErrorBody {
            message: message.to_string(),
            file: file.map(str::to_string),
            line,
            column,
        },
    };
    // Plain strings and numbers: serializing cannot fail.
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}
