//! `mlcompat fix`: the report's changes as new files for the target machine.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use super::output::{ColorWhen, write_plain, write_stdout};
use mlcompat::fix;
use mlcompat::pipeline;
use mlcompat::probe::{self, ProbeOptions};
use mlcompat::profile::Profile;
use mlcompat::report::{self, FixOutcome};
use mlcompat::rules::Catalogue;

#[derive(clap::Args)]
pub struct FixArgs {
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
    /// The output: a diff and words for people, or one JSON document (the edits and the
    /// predicted report) for tools.
    #[arg(long, value_enum, default_value_t = FixFormat::Text)]
    format: FixFormat,
    /// When to colour the diff.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    color: ColorWhen,
    /// The Python interpreter to describe when probing (instead of the active one).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
}

/// `fix --format`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FixFormat {
    /// The diff (or the files written), what no edit fixes, and the predicted verdict.
    Text,
    /// One JSON document (schemas/fix.schema.json).
    Json,
}

impl FixArgs {
    /// Whether errors should also be a JSON document on stdout.
    pub fn wants_json(&self) -> bool {
        self.format == FixFormat::Json
    }
}

pub fn run(args: FixArgs) -> Result<ExitCode> {
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
    // The files a previous `fix --write` made are made again from their originals.
    let project = pipeline::scan(&args.path, &profile, &catalogue, true)?;
    let assessment = pipeline::judge_scanned(project.clone(), &profile, &notes, &catalogue);
    let root = if args.path.is_file() {
        args.path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        args.path.clone()
    };
    let suffix = args
        .suffix
        .clone()
        .unwrap_or_else(|| fix::default_suffix(&profile));
    let solved = fix::solve(&root, &assessment, &project, &profile, &catalogue)?;
    let mut plan = fix::plan(&root, &assessment, &solved.edits, &suffix)?;
    let written = if args.write {
        Some(fix::write(&root, &plan, args.force)?)
    } else {
        None
    };
    let after = if plan.files.is_empty() {
        None
    } else {
        Some(fix::verify(&root, &plan, &profile, &catalogue)?)
    };
    fix::conclude(&mut plan, &assessment, after.as_ref());
    let outcome = FixOutcome {
        plan: &plan,
        written: written.as_deref(),
        after: after.as_ref(),
    };
    match args.format {
        FixFormat::Text => write_stdout(&report::fix_report(&outcome), args.color.choice())?,
        FixFormat::Json => write_plain(&report::fix_json(&outcome))?,
    }
    Ok(ExitCode::SUCCESS)
}
