//! The command line: one thin module per subcommand, arguments in, exit code out. Errors carry
//! context here (anyhow) and become exit code 2 with a message naming the file.

mod check;
mod fix;
mod man;
mod output;
mod probe;
mod refresh;
mod rules;
mod terminal;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use mlcompat::report::{self, escape};
use mlcompat::source::SourceError;

#[derive(Parser)]
#[command(
    name = "mlcompat",
    version,
    about = "Will this ML project run on this machine, and if not, what exactly must change?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Judge a project against this machine (or a saved profile).
    #[command(
        after_help = "Examples:\n  mlcompat check\n  mlcompat check path/to/project --profile m2.yaml\n  mlcompat check . --format json --fail-on warn"
    )]
    Check(check::CheckArgs),
    /// Write the changes the report calls for as new files for the target machine.
    #[command(
        after_help = "Examples:\n  mlcompat fix                                   (print the diff, write nothing)\n  mlcompat fix . --profile m2.yaml --write       (requirements-macos.txt, ...)\n  mlcompat fix . --write --suffix mac --force"
    )]
    Fix(fix::FixArgs),
    /// Print this machine as a profile.
    #[command(
        after_help = "Examples:\n  mlcompat probe\n  mlcompat probe --format json\n  mlcompat probe -o my-machine.yaml"
    )]
    Probe(probe::ProbeArgs),
    /// Update what mlcompat knows from the package index (the project's packages and the rules').
    #[command(
        after_help = "Examples:\n  mlcompat refresh\n  mlcompat refresh path/to/project --index-url https://pypi.org/simple/"
    )]
    Refresh(refresh::RefreshArgs),
    /// List, show, lint and test rules.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  mlcompat rules list\n  mlcompat rules show bitsandbytes-no-apple-gpu-backend\n  mlcompat rules lint my-rules.yaml\n  mlcompat rules test my-rules/"
    )]
    Rules(rules::RulesCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  mlcompat completions bash > ~/.local/share/bash-completion/completions/mlcompat\n  mlcompat completions zsh > ~/.zfunc/_mlcompat"
    )]
    Completions {
        /// The shell to write the script for.
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): the command's, or a subcommand's; or write them all.
    #[command(
        after_help = "Examples:\n  mlcompat man > mlcompat.1 && man ./mlcompat.1\n  mlcompat man check | man -l -\n  mlcompat man --dir ~/.local/share/man/man1"
    )]
    Man {
        /// The subcommand whose page to print (`check`, `rules list`); the top-level page
        /// without one.
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Vec<String>,
        /// Write every page (mlcompat.1, mlcompat-check.1, ...) into this folder instead.
        #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
        dir: Option<std::path::PathBuf>,
    },
}

/// Runs the command line; any error is exit 2 (with a JSON error document on stdout when JSON
/// was asked for, so CI parsing stdout still gets a document).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_errors = match &cli.command {
        Command::Check(args) => args.wants_json(),
        Command::Fix(args) => args.wants_json(),
        _ => false,
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            if json_errors {
                let source = error.downcast_ref::<SourceError>();
                let file = source.map(|s| s.path.display().to_string());
                let document = report::error_document(
                    &format!("{error:#}"),
                    file.as_deref(),
                    source.and_then(|s| s.line),
                    source.and_then(|s| s.column),
                );
                let _ = std::io::stdout().write_all(document.as_bytes());
            }
            // File names and values in the message come from the project: escaped, a newline
            // or ESC in them cannot start a line or drive the terminal.
            output::write_stderr(&format!(
                "error: {}",
                escape::terminal(&format!("{error:#}"))
            ));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Refresh(args) => refresh::run(args),
        Command::Rules(command) => rules::run(command),
        // Rendered into memory, then written like every other output, so a closed or failing
        // stdout is exit 2 here too.
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "mlcompat", &mut script);
            output::write_plain(&String::from_utf8_lossy(&script))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { subcommand, dir } => {
            let command = <Cli as clap::CommandFactory>::command();
            match dir {
                Some(dir) => {
                    let mut wrote = String::new();
                    for path in man::write_all(&command, &dir)? {
                        wrote.push_str(&format!("wrote {path}\n"));
                    }
                    output::write_plain(&wrote)?;
                }
                None => output::write_plain(&String::from_utf8_lossy(&man::page(
                    &command,
                    &subcommand,
                )?))?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flag and argument of every subcommand says what it does in `--help` (the review
    /// found `--color` and `--format` without words).
    #[test]
    fn every_argument_has_help_text() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(
            &<Cli as clap::CommandFactory>::command(),
            "mlcompat",
            &mut missing,
        );
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn every_page_the_man_pages_name_exists() {
        let command = <Cli as clap::CommandFactory>::command();
        let pages = man::all_pages(&command).unwrap();
        let files: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
        let mut references = 0;
        for (file, roff) in &pages {
            let roff = String::from_utf8_lossy(roff).replace("\\-", "-");
            for (at, _) in roff.match_indices("(1)") {
                let name = roff[..at]
                    .rsplit(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or_default();
                if name.starts_with("mlcompat") {
                    references += 1;
                    assert!(
                        files.contains(&format!("{name}.1").as_str()),
                        "{file} names {name}(1)"
                    );
                }
            }
        }
        assert!(references >= 6, "the top page lists the subcommands' pages");
        for expected in [
            "mlcompat.1",
            "mlcompat-check.1",
            "mlcompat-fix.1",
            "mlcompat-rules-list.1",
            "mlcompat-man.1",
        ] {
            assert!(files.contains(&expected), "{files:?}");
        }
        let top =
            String::from_utf8_lossy(&pages.iter().find(|(f, _)| f == "mlcompat.1").unwrap().1)
                .into_owned();
        for section in [
            "EXIT STATUS",
            "ENVIRONMENT",
            "NO_COLOR",
            "FORCE_COLOR",
            "MLCOMPAT_ASCII",
        ] {
            assert!(top.contains(section), "{section}");
        }
    }
}
