//! `mlcompat rules`: list, show, lint and test rules.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::output::write_plain;
use super::terminal;
use mlcompat::report::escape;
use mlcompat::rules::{self, Catalogue};
use mlcompat::source::SourceError;

#[derive(Subcommand)]
pub enum RulesCommand {
    /// List every rule: id, component, status.
    List,
    /// Print one rule with its source.
    Show {
        /// The rule's id (see `mlcompat rules list`).
        id: String,
    },
    /// Check rule files (the built-in ones without FILE) for mistakes.
    Lint {
        /// Rule files or folders.
        files: Vec<PathBuf>,
    },
    /// Run the rules' own test cases (the built-in ones without FILE).
    Test {
        /// Rule files or folders.
        files: Vec<PathBuf>,
    },
}

pub fn run(command: RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::List => {
            let catalogue = Catalogue::builtin()?;
            let mut rows = vec![vec![
                "ID".to_string(),
                "COMPONENT".to_string(),
                "STATUS".to_string(),
                "TITLE".to_string(),
            ]];
            // From the compact form, without compiling the rules (main's listing()).
            rows.extend(
                catalogue
                    .rules
                    .iter()
                    .filter_map(|loaded| Some((&loaded.id, loaded.listing()?)))
                    .map(|(id, listing)| {
                        vec![
                            id.clone(),
                            listing.component.clone(),
                            listing.status.to_string(),
                            listing.title.to_string(),
                        ]
                    }),
            );
            // Fitted to the terminal, titles wrapped under themselves: 200-character lines
            // broke mid-word at 80 columns.
            write_plain(&terminal::fit_rows(&rows, &[44, 22, 7], terminal::width()))?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Show { id } => {
            let catalogue = Catalogue::builtin()?;
            let Some(loaded) = catalogue.rule(&id) else {
                bail!("no rule has the id `{id}` (see `mlcompat rules list`)");
            };
            let text = Catalogue::builtin_text(loaded).with_context(|| {
                format!("{}:{}: cannot find the rule", loaded.file, loaded.line)
            })?;
            write_plain(&format!("# {}:{}\n{text}", loaded.file, loaded.line))?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Lint { files } => {
            let catalogue = chosen_catalogue(&files)?;
            let issues = catalogue.lint();
            // Rule files come from strangers too: their words are escaped for the terminal.
            let mut out: String = issues
                .iter()
                .map(|issue| format!("{}\n", escape::terminal(&issue.to_string())))
                .collect();
            out += &format!(
                "{} rules, {} problems\n",
                catalogue.rules.len(),
                issues.len()
            );
            write_plain(&out)?;
            Ok(exit_code(issues.is_empty()))
        }
        RulesCommand::Test { files } => {
            let catalogue = chosen_catalogue(&files)?;
            let (passed, failures) = rules::run_tests(&catalogue);
            let mut out: String = failures
                .iter()
                .map(|f| format!("FAIL {}\n", escape::terminal(&f.to_string())))
                .collect();
            out += &format!("{passed} passed, {} failed\n", failures.len());
            write_plain(&out)?;
            Ok(exit_code(failures.is_empty()))
        }
    }
}

fn exit_code(clean: bool) -> ExitCode {
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The given rule files, or the built-in catalogue without any.
fn chosen_catalogue(files: &[PathBuf]) -> Result<Catalogue, SourceError> {
    if files.is_empty() {
        Catalogue::builtin_with_tests()
    } else {
        // Given files may recommend options of the built-in list, so start from its data.
        let mut catalogue = Catalogue::from_files(files)?;
        let builtin = Catalogue::builtin()?;
        catalogue.recommendations.extend(builtin.recommendations);
        if catalogue.memory_model.is_none() {
            catalogue.memory_model = builtin.memory_model;
        }
        for (alias, name) in builtin.aliases {
            catalogue.aliases.entry(alias).or_insert(name);
        }
        Ok(catalogue)
    }
}
