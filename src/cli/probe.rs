//! `mlcompat probe`: this machine as a profile.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use super::output::{write_plain, write_stderr};
use super::terminal;
use mlcompat::probe::{self, ProbeOptions};
use mlcompat::report::escape;

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// The profile's format.
    #[arg(long, value_enum, default_value_t = ProfileFormat::Yaml)]
    format: ProfileFormat,
    /// Write the profile to FILE instead of stdout (`-` is stdout). FILE must be a new path,
    /// or with --force a regular file to replace.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace FILE when it exists.
    #[arg(long, requires = "output")]
    force: bool,
    /// The Python interpreter to describe (instead of the active one).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Show where each value came from (a file or command) or why it is unknown, instead of the
    /// profile (with -o the profile is still written).
    #[arg(long)]
    explain: bool,
}

/// `--format` of a profile.
#[derive(Clone, Copy, ValueEnum)]
enum ProfileFormat {
    /// YAML, for people.
    Yaml,
    /// JSON, for tools.
    Json,
}

pub fn run(args: ProbeArgs) -> Result<ExitCode> {
    let probed = probe::probe(&ProbeOptions {
        python: args.python,
        project: None,
    });
    if !args.explain {
        for note in &probed.notes {
            write_stderr(&format!("note: {}", escape::terminal(note)));
        }
    }
    let text = match args.format {
        ProfileFormat::Yaml => serde_saphyr::to_string(&probed.profile).context("writing YAML")?,
        ProfileFormat::Json => serde_json::to_string_pretty(&probed.profile)? + "\n",
    };
    match args.output {
        Some(path) if path.as_os_str() == "-" => write_plain(&text)?,
        Some(path) => mlcompat::publish::write_file(&path, &text, args.force)?,
        None if !args.explain => write_plain(&text)?,
        None => {}
    }
    if args.explain {
        // Fitted to the terminal: origins are long ("pyenv shim on PATH, resolved through …")
        // and a terminal would break them mid-word. Values and origins name files of the
        // machine (a `.python-version` a project put there): escaped before they are fitted.
        let shown = |text: &str| escape::terminal(text).into_owned();
        let rows: Vec<Vec<String>> = probe::explain::rows(&probed)
            .into_iter()
            .map(|(field, value, origin)| {
                vec![
                    shown(&field),
                    shown(&value),
                    format!("← {}", shown(&origin)),
                ]
            })
            .collect();
        let fitted = terminal::fit_rows(&rows, &[24, 40], terminal::width());
        write_plain(&escape::no_workflow_commands(&fitted))?;
    }
    Ok(ExitCode::SUCCESS)
}
