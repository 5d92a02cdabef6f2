//! Turning an [`Assessment`] into what a person or a CI job reads.

mod json;
mod markdown;
mod table;
mod text;

use crate::assessment::Assessment;

pub use json::{error_document, render as json};
pub use markdown::render as markdown;
pub use table::render as table;

/// The status icons and words, shared by every human format.
pub use text::{icon, label};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

/// Renders in the given format; `width` is the terminal width for the table (measured when `None`).
pub fn render(assessment: &Assessment, format: Format, width: Option<u16>) -> String {
    match format {
        Format::Table => table(assessment, width),
        Format::Json => json(assessment),
        Format::Markdown => markdown(assessment),
    }
}
