//! Writing to stdout: colour by `--color`, and a closed pipe that is not an error.

use std::io::Write;

use anyhow::{Context, Result};
use clap::ValueEnum;

/// `--color`: when to colour the output.
#[derive(Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set; also when piped if FORCE_COLOR or CLICOLOR_FORCE
    /// is set (NO_COLOR still wins).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    /// The anstream choice for this flag. Under `auto`, anstream follows `NO_COLOR`,
    /// `CLICOLOR_FORCE` and whether stdout is a terminal; `FORCE_COLOR` is added here.
    pub fn choice(self) -> anstream::ColorChoice {
        match self {
            ColorWhen::Auto if super::terminal::force_color(super::terminal::env) => {
                anstream::ColorChoice::Always
            }
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        }
    }
}

/// Writes through anstream, which strips colour when stdout is not a terminal or NO_COLOR is set
/// (under `auto`). A closed pipe (`| head`) is not an error.
pub fn write_stdout(text: &str, choice: anstream::ColorChoice) -> Result<()> {
    let mut stream = anstream::AutoStream::new(std::io::stdout().lock(), choice);
    match stream
        .write_all(text.as_bytes())
        .and_then(|()| stream.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the report")
        }
        _ => Ok(()),
    }
}

/// Plain text to stdout, never coloured.
pub fn write_plain(text: &str) -> Result<()> {
    write_stdout(text, anstream::ColorChoice::Never)
}
