//! The command line: clap definitions and the glue from arguments to the pipeline. Errors carry
//! context here (anyhow) and become exit code 2 with a message naming the file.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use mlcompat::probe::{self, ProbeOptions};
use mlcompat::profile::Profile;
use mlcompat::project::{self, MarkerTarget};
use mlcompat::report::{self, Format};
use mlcompat::rules::{self, Catalogue, Status};
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
    Check(CheckArgs),
    /// Print this machine as a profile.
    #[command(
        after_help = "Examples:\n  mlcompat probe\n  mlcompat probe --format json\n  mlcompat probe -o my-machine.yaml"
    )]
    Probe(ProbeArgs),
    /// List, show, lint and test rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The project: a folder or one manifest/config file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// A saved profile (YAML or JSON) to judge against instead of this machine.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
    /// More rule files or folders, added to the built-in rules.
    #[arg(long, value_name = "FILE_OR_DIR")]
    rules: Vec<PathBuf>,
    /// Exit 1 when something is at or above this status.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    fail_on: FailOn,
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    color: ColorWhen,
    /// The Python interpreter to describe when probing (instead of the active one).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ProbeArgs {
    #[arg(long, value_enum, default_value_t = ProfileFormat::Yaml)]
    format: ProfileFormat,
    /// Write the profile to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The Python interpreter to describe (instead of the active one).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Show where each value came from (a file or command) or why it is unknown, instead of the
    /// profile (with -o the profile is still written).
    #[arg(long)]
    explain: bool,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List every rule: id, component, status.
    List,
    /// Print one rule with its source.
    Show { id: String },
    /// Check rule files (the built-in ones without FILE) for mistakes.
    Lint { files: Vec<PathBuf> },
    /// Run the rules' own test cases (the built-in ones without FILE).
    Test { files: Vec<PathBuf> },
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProfileFormat {
    Yaml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Fail,
    Warn,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_errors =
        matches!(&cli.command, Command::Check(args) if matches!(args.format, CheckFormat::Json));
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
        Command::Check(args) => check(args),
        Command::Probe(args) => probe_command(args),
        Command::Rules(command) => rules_command(command),
    }
}

fn check(args: CheckArgs) -> Result<ExitCode> {
    let catalogue = Catalogue::load(&args.rules)?;
    let (profile, probe_notes) = match &args.profile {
        Some(path) => (Profile::load(path)?, Vec::new()),
        None => {
            let probed = probe::probe(&ProbeOptions {
                python: args.python.clone(),
                project: Some(args.path.clone()),
            });
            (probed.profile, probed.notes)
        }
    };
    let mut project = project::scan(&args.path)?;
    let python = rules::judged_python_version(&profile, &project);
    project.apply_markers(&MarkerTarget::for_profile(&profile, python.as_deref()));
    project.notes.extend(probe_notes);
    let assessment = rules::assess(&profile, &project, &catalogue);
    let format = match args.format {
        CheckFormat::Table => Format::Table,
        CheckFormat::Json => Format::Json,
        CheckFormat::Markdown => Format::Markdown,
    };
    let choice = color_choice(args.color);
    let terminal = std::io::stdout().is_terminal();
    let width = (!terminal).then(|| {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100)
    });
    let text = report::render(&assessment, format, width);
    write_stdout(
        &text,
        if format == Format::Table {
            choice
        } else {
            anstream::ColorChoice::Never
        },
    )?;
    let threshold = match args.fail_on {
        FailOn::Fail => Some(Status::Fail),
        FailOn::Warn => Some(Status::Warn),
        FailOn::Never => None,
    };
    let failed = threshold.is_some_and(|t| assessment.verdict.severity() >= t.severity());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn color_choice(when: ColorWhen) -> anstream::ColorChoice {
    match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    }
}

/// Writes through anstream, which strips colour when stdout is not a terminal or NO_COLOR is set
/// (under `auto`). A closed pipe (`| head`) is not an error.
fn write_stdout(text: &str, choice: anstream::ColorChoice) -> Result<()> {
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

fn probe_command(args: ProbeArgs) -> Result<ExitCode> {
    let probed = probe::probe(&ProbeOptions {
        python: args.python,
        project: None,
    });
    if !args.explain {
        for note in &probed.notes {
            eprintln!("note: {note}");
        }
    }
    let text = match args.format {
        ProfileFormat::Yaml => serde_saphyr::to_string(&probed.profile).context("writing YAML")?,
        ProfileFormat::Json => serde_json::to_string_pretty(&probed.profile)? + "\n",
    };
    match args.output {
        Some(path) => write_atomically(&path, &text)?,
        None if !args.explain => write_stdout(&text, anstream::ColorChoice::Never)?,
        None => {}
    }
    if args.explain {
        write_stdout(
            &probe::explain::render(&probed),
            anstream::ColorChoice::Never,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes to a temporary file beside `path`, then renames it over: an error never leaves a
/// truncated file or destroys the one that was there.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().context("the output path names no file")?;
    let temporary = folder.join(format!(".{}.mlcompat-tmp", name.to_string_lossy()));
    std::fs::write(&temporary, text)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    std::fs::rename(&temporary, path).with_context(|| {
        let _ = std::fs::remove_file(&temporary);
        format!("{}: cannot write", path.display())
    })
}

fn rules_command(command: RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::List => {
            let catalogue = Catalogue::builtin()?;
            let mut out = String::new();
            for loaded in &catalogue.rules {
                let rule = &loaded.rule;
                out += &format!(
                    "{:<44} {:<22} {:<5} {}\n",
                    rule.id,
                    rule.component,
                    rule.status.as_str(),
                    rule.title
                );
            }
            write_stdout(&out, anstream::ColorChoice::Never)?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Show { id } => {
            let catalogue = Catalogue::builtin()?;
            let Some(loaded) = catalogue.rule(&id) else {
                bail!("no rule has the id `{id}` (see `mlcompat rules list`)");
            };
            let text = serde_saphyr::to_string(&loaded.rule).context("writing YAML")?;
            let out = format!("# {}:{}\n{text}", loaded.file, loaded.line);
            write_stdout(&out, anstream::ColorChoice::Never)?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Lint { files } => {
            let catalogue = chosen_catalogue(&files)?;
            let issues = catalogue.lint();
            for issue in &issues {
                println!("{issue}");
            }
            println!("{} rules, {} problems", catalogue.rules.len(), issues.len());
            Ok(if issues.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        RulesCommand::Test { files } => {
            let catalogue = chosen_catalogue(&files)?;
            let (passed, failures) = rules::run_tests(&catalogue);
            for failure in &failures {
                println!("FAIL {failure}");
            }
            println!("{passed} passed, {} failed", failures.len());
            Ok(if failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// The given rule files, or the built-in catalogue without any.
fn chosen_catalogue(files: &[PathBuf]) -> Result<Catalogue, SourceError> {
    if files.is_empty() {
        Catalogue::builtin()
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
