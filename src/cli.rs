//! The command line: clap definitions and the glue from arguments to the pipeline. Errors carry
//! context here (anyhow) and become exit code 2 with a message naming the file.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use mlcompat::fix;
use mlcompat::pipeline;
use mlcompat::probe::{self, ProbeOptions};
use mlcompat::profile::Profile;
use mlcompat::project;
use mlcompat::report::{self, Format, Machine, Style};
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
    /// Write the changes the report calls for as new files for the target machine.
    #[command(
        after_help = "Examples:\n  mlcompat fix                                   (print the diff, write nothing)\n  mlcompat fix . --profile m2.yaml --write       (requirements-macos.txt, ...)\n  mlcompat fix . --write --suffix mac --force"
    )]
    Fix(FixArgs),
    /// Print this machine as a profile.
    #[command(
        after_help = "Examples:\n  mlcompat probe\n  mlcompat probe --format json\n  mlcompat probe -o my-machine.yaml"
    )]
    Probe(ProbeArgs),
    /// List, show, lint and test rules.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  mlcompat rules list\n  mlcompat rules show bitsandbytes-no-apple-gpu-backend\n  mlcompat rules lint my-rules.yaml\n  mlcompat rules test my-rules/"
    )]
    Rules(RulesCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  mlcompat completions bash > ~/.local/share/bash-completion/completions/mlcompat\n  mlcompat completions zsh > ~/.zfunc/_mlcompat"
    )]
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    #[command(after_help = "Examples:\n  mlcompat man > mlcompat.1 && man ./mlcompat.1")]
    Man,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The project: a folder or one manifest/config file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// A saved profile (YAML or JSON) to judge against instead of this machine; repeat it, or
    /// name a folder of profiles, to judge against a fleet.
    #[arg(long, value_name = "FILE_OR_DIR")]
    profile: Vec<PathBuf>,
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
    /// No emoji or other non-ASCII (for old terminals and logs).
    #[arg(long)]
    ascii: bool,
    /// Print the verdict and counts only.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Show why each rule fired: the facts it used and its source.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(clap::Args)]
struct FixArgs {
    /// The project: a folder or one manifest/config file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// A saved profile to fix the project for instead of this machine.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// More rule files or folders, added to the built-in rules.
    #[arg(long, value_name = "FILE_OR_DIR")]
    rules: Vec<PathBuf>,
    /// Write the fixed files (default: print a unified diff and write nothing).
    #[arg(long)]
    write: bool,
    /// The name part for new files: `requirements-SUFFIX.txt` (default: the target's OS).
    #[arg(long)]
    suffix: Option<String>,
    /// Replace fixed files that already exist.
    #[arg(long)]
    force: bool,
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
    /// GitHub Actions annotations.
    Github,
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
        Command::Check(args) => check(args),
        Command::Probe(args) => probe_command(args),
        Command::Fix(args) => fix_command(args),
        Command::Rules(command) => rules_command(command),
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

fn check(args: CheckArgs) -> Result<ExitCode> {
    let catalogue = Catalogue::load(&args.rules)?;
    let machines = machines(&args)?;
    // Which variant files a machine reads depends only on its platform preferences, so a fleet
    // scans the project once per kind of machine, not once per machine.
    let mut scans: HashMap<String, project::Project> = HashMap::new();
    let judged: Vec<Machine> = machines
        .into_iter()
        .map(|(name, file, profile, notes)| {
            let key = format!("{:?}", project::variant_preferences(&profile));
            let project = match scans.get(&key) {
                Some(scanned) => scanned.clone(),
                None => {
                    let scanned = project::scan_for(&args.path, Some(&profile))?;
                    scans.insert(key, scanned.clone());
                    scanned
                }
            };
            let report = pipeline::judge_scanned(project, &profile, &notes, &catalogue);
            Ok(Machine { name, file, report })
        })
        .collect::<Result<_>>()?;
    let format = match args.format {
        CheckFormat::Table => Format::Table,
        CheckFormat::Json => Format::Json,
        CheckFormat::Markdown => Format::Markdown,
        CheckFormat::Github => Format::Github,
    };
    let terminal = std::io::stdout().is_terminal();
    let style = Style {
        width: (!terminal).then(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(100)
        }),
        ascii: args.ascii,
        verbose: args.verbose,
        quiet: args.quiet,
    };
    let (text, verdict) = match judged.as_slice() {
        [one] if format == Format::Github => (
            report::github_annotations(&one.report, &github_prefix(&args.path), &style),
            one.report.verdict,
        ),
        [one] => (
            report::render(&one.report, format, &style),
            one.report.verdict,
        ),
        fleet => (
            report::render_fleet(fleet, format, &style),
            report::fleet_verdict(fleet),
        ),
    };
    let colour = match format {
        Format::Table => color_choice(args.color),
        _ => anstream::ColorChoice::Never,
    };
    write_stdout(&text, colour)?;
    let threshold = match args.fail_on {
        FailOn::Fail => Some(Status::Fail),
        FailOn::Warn => Some(Status::Warn),
        FailOn::Never => None,
    };
    let failed = threshold.is_some_and(|t| verdict.severity() >= t.severity());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A machine to judge: name, profile file, profile, and what the probe could not learn.
type MachineInput = (String, Option<String>, Profile, Vec<String>);

/// The saved profiles named (folders expanded, in name order), or this machine when none is.
fn machines(args: &CheckArgs) -> Result<Vec<MachineInput>> {
    if args.profile.is_empty() {
        let probed = probe::probe(&ProbeOptions {
            python: args.python.clone(),
            project: Some(args.path.clone()),
        });
        return Ok(vec![(
            "this machine".to_string(),
            None,
            probed.profile,
            probed.notes,
        )]);
    }
    let mut files = Vec::new();
    for path in &args.profile {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("{}: cannot read the folder", path.display()))?
                .flatten()
                .map(|entry| entry.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
                })
                .collect();
            found.sort();
            if found.is_empty() {
                bail!(
                    "{}: no profiles (*.yaml, *.yml, *.json) in this folder",
                    path.display()
                );
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files
        .into_iter()
        .map(|file| {
            let profile = Profile::load(&file)?;
            let name = file.file_stem().map_or_else(
                || file.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
            Ok((name, Some(file.display().to_string()), profile, Vec::new()))
        })
        .collect()
}

/// The scanned folder, as GitHub annotations need file paths from the repository root.
fn github_prefix(path: &Path) -> String {
    let folder = if path.is_file() {
        path.parent().unwrap_or(Path::new(""))
    } else {
        path
    };
    folder.display().to_string()
}

fn fix_command(args: FixArgs) -> Result<ExitCode> {
    let catalogue = Catalogue::load(&args.rules)?;
    let (profile, notes) = match &args.profile {
        Some(path) => (Profile::load(path)?, Vec::new()),
        None => {
            let probed = probe::probe(&ProbeOptions {
                python: args.python.clone(),
                project: Some(args.path.clone()),
            });
            (probed.profile, probed.notes)
        }
    };
    let assessment = pipeline::judge(&args.path, &profile, &notes, &catalogue)?;
    let root = if args.path.is_file() {
        args.path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        args.path.clone()
    };
    let suffix = args
        .suffix
        .clone()
        .unwrap_or_else(|| fix::default_suffix(&profile));
    let plan = fix::plan(&root, &assessment, &suffix)?;
    let mut out = String::new();
    if plan.files.is_empty() {
        out += "Nothing to change: no rule calls for an edit on this machine.\n";
    }
    if args.write {
        let written = fix::write(&root, &plan, args.force)?;
        for (file, path) in plan.files.iter().zip(&written) {
            out += &format!(
                "wrote {}  ({})\n",
                path.display(),
                fix::how_to_use(&file.target)
            );
        }
    } else {
        for file in &plan.files {
            out += &colour_diff(&fix::diff(file));
        }
        if !plan.files.is_empty() {
            out += "\n(nothing written: run with --write to create these files)\n";
        }
    }
    if !plan.unfixable.is_empty() {
        out += "\nNot fixed by an edit:\n";
        for item in &plan.unfixable {
            out += &format!("  - {item}\n");
        }
    }
    if !plan.files.is_empty() {
        let after = fix::verify(&root, &plan, &profile, &catalogue)?;
        let remaining: Vec<_> = after
            .findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .collect();
        out += &format!(
            "\nAfter these edits, `mlcompat check` says: {}\n",
            report::verdict_line(&after, false)
        );
        for finding in remaining {
            out += &format!("  - {}: {}\n", finding.component, finding.title);
        }
    }
    write_stdout(&out, color_choice(args.color))?;
    Ok(ExitCode::SUCCESS)
}

/// Added lines green, removed red, hunk headers cyan.
fn colour_diff(diff: &str) -> String {
    use owo_colors::OwoColorize;
    diff.lines()
        .map(|line| {
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                line.bold().to_string()
            } else if line.starts_with('+') {
                line.green().to_string()
            } else if line.starts_with('-') {
                line.red().to_string()
            } else if line.starts_with("@@") {
                line.cyan().to_string()
            } else {
                line.to_string()
            };
            painted + "\n"
        })
        .collect()
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
        Some(path) => mlcompat::source::write_atomically(&path, &text)?,
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
