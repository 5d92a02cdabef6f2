//! The command line: one thin module per subcommand, arguments in, exit code out. Errors carry
//! context here (anyhow) and become exit code 2 with a message naming the file.

mod check;
mod fix;
mod output;
mod probe;
mod refresh;
mod rules;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use mlcompat::report;
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
    /// Print the man page (roff).
    #[command(after_help = "Examples:\n  mlcompat man > mlcompat.1 && man ./mlcompat.1")]
    Man,
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
            eprintln!("error: {error:#}");
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
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "mlcompat", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .context("writing the man page")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
