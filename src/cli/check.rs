//! `mlcompat check`: judge a project on this machine or on saved profiles.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use super::output::{ColorWhen, write_stdout};
use super::terminal::{self, Icons};
use mlcompat::assessment::{Status, fleet_verdict};
use mlcompat::config::{self, Config};
use mlcompat::pipeline::{self, MachineInput};
use mlcompat::probe::{self, ProbeOptions};
use mlcompat::report::{self, Format, Style};
use mlcompat::rules::Catalogue;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The project: a folder or one manifest/config file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// A saved profile (YAML or JSON) to judge against instead of this machine; repeat it, or
    /// name a folder of profiles, to judge against a fleet.
    #[arg(long, value_name = "FILE_OR_DIR")]
    profile: Vec<PathBuf>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// More rule files or folders, added to the built-in rules.
    #[arg(long, value_name = "FILE_OR_DIR")]
    rules: Vec<PathBuf>,
    /// Exit 1 when something is at or above this status [default: fail, or the config's
    /// `fail-on`].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// The settings file (`mlcompat.toml`, or a `pyproject.toml` with `[tool.mlcompat]`)
    /// [default: the one in the project folder, if any].
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Read no settings file: judge with the flags alone.
    #[arg(long)]
    no_config: bool,
    /// When to colour the report.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    color: ColorWhen,
    /// The Python interpreter to describe when probing (instead of the active one).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// No emoji or other non-ASCII (for old terminals and logs).
    #[arg(long)]
    ascii: bool,
    /// Print the verdict with its counts and the required changes, nothing else.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Show why each rule fired: the facts it used and its source.
    #[arg(short, long)]
    verbose: bool,
}

impl CheckArgs {
    /// Whether errors should also be a JSON document on stdout.
    pub fn wants_json(&self) -> bool {
        self.format == Format::Json
    }
}

/// `--fail-on`: the status at which `check` exits 1.
#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    /// Exit 1 when something will not work.
    Fail,
    /// Exit 1 on warnings too.
    Warn,
    /// Exit 1 on warnings, and when something is unknown (nothing judged, or unknown parts).
    Unknown,
    /// Never exit 1.
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Status> {
        match self {
            FailOn::Fail => Some(Status::Fail),
            FailOn::Warn => Some(Status::Warn),
            FailOn::Unknown => Some(Status::Unknown),
            FailOn::Never => None,
        }
    }
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let icons = terminal::icons(terminal::env);
    let catalogue = Catalogue::load(&args.rules)?;
    let config = match (&args.config, args.no_config) {
        (_, true) => Config::default(),
        (Some(file), false) => Config::load(file)?,
        (None, false) => Config::discover(&args.path)?,
    };
    config.check_rules(|id| catalogue.rule(id).is_some())?;
    // Flags win over the file: its profiles only when none is named, its fail-on only when
    // --fail-on is not given.
    let profiles = if args.profile.is_empty() {
        config.profiles.clone()
    } else {
        args.profile.clone()
    };
    let fail_on = args.fail_on.unwrap_or(match config.fail_on {
        Some(config::FailOn::Warn) => FailOn::Warn,
        Some(config::FailOn::Unknown) => FailOn::Unknown,
        Some(config::FailOn::Never) => FailOn::Never,
        Some(config::FailOn::Fail) | None => FailOn::Fail,
    });
    let mut judged = pipeline::judge_fleet(&args.path, machines(&args, &profiles)?, &catalogue)?;
    pipeline::suppress(&mut judged, &config, &catalogue);
    let style = Style {
        width: (!std::io::stdout().is_terminal()).then(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(100)
        }),
        // --ascii, or a terminal without emoji (TERM=linux; MLCOMPAT_ASCII=1): only the terminal
        // report is drawn by the terminal; Markdown and annotations are drawn by a browser.
        ascii: args.ascii || (args.format == Format::Table && icons == Icons::Ascii),
        verbose: args.verbose,
        quiet: args.quiet,
    };
    let prefix = github_prefix(&args.path);
    let text = match (args.format, judged.as_slice()) {
        (Format::Sarif, machines) => report::sarif(machines, &prefix),
        (Format::Github, [one]) => report::github_annotations(&one.report, &prefix, &style),
        (Format::Github, fleet) => report::github_fleet_annotations(fleet, &prefix, &style),
        (_, [one]) => report::render(&one.report, args.format, &style),
        (_, fleet) => report::render_fleet(fleet, args.format, &style),
    };
    let text = if args.format == Format::Table && icons == Icons::NarrowWarning {
        terminal::narrow_warnings(&text)
    } else {
        text
    };
    let colour = match args.format {
        Format::Table => args.color.choice(),
        _ => anstream::ColorChoice::Never,
    };
    write_stdout(&text, colour)?;
    let verdict = fleet_verdict(&judged);
    let failed = fail_on.threshold().is_some_and(|t| verdict >= t);
    // The process ends with this command: freeing the reports and the package knowledge piece
    // by piece is work the operating system does at once.
    std::mem::forget(judged);
    std::mem::forget(catalogue);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The saved profiles named (folders expanded, in name order), or this machine when none is.
fn machines(args: &CheckArgs, profiles: &[PathBuf]) -> Result<Vec<MachineInput>> {
    if profiles.is_empty() {
        let probed = probe::probe(&ProbeOptions {
            python: args.python.clone(),
            project: Some(args.path.clone()),
        });
        return Ok(vec![MachineInput {
            name: "this machine".to_string(),
            file: None,
            profile: probed.profile,
            notes: probed.notes,
        }]);
    }
    let mut files = Vec::new();
    for path in profiles {
        if path.is_dir() {
            files.extend(profiles_in(path)?);
        } else {
            files.push(path.clone());
        }
    }
    files
        .iter()
        .map(|file| Ok(MachineInput::load(file)?))
        .collect()
}

/// The profiles (`*.yaml`, `*.yml`, `*.json`) of a folder, in name order.
fn profiles_in(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("{}: cannot read the folder", folder.display()))?
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
            folder.display()
        );
    }
    Ok(found)
}

/// The scanned folder relative to the working folder, with `/` separators (`""` for the working
/// folder itself): GitHub annotations and SARIF name files from the repository root, where a
/// CI job runs `check`, so an absolute PATH inside it must not leak into `file=`.
fn github_prefix(path: &Path) -> String {
    let folder = if path.is_file() {
        path.parent().unwrap_or(Path::new(""))
    } else {
        path
    };
    let cwd = std::env::current_dir().ok();
    relative_to(folder, cwd.as_deref())
}

/// `folder` relative to `cwd` when it lies inside it, lexically (or through the canonical paths
/// when a link is on the way); otherwise as given. `.` components are dropped.
fn relative_to(folder: &Path, cwd: Option<&Path>) -> String {
    use std::path::Component;
    let mut inside = folder.to_path_buf();
    if let Some(cwd) = cwd.filter(|_| folder.is_absolute()) {
        if let Ok(rest) = folder.strip_prefix(cwd) {
            inside = rest.to_path_buf();
        } else if let (Ok(f), Ok(c)) = (folder.canonicalize(), cwd.canonicalize())
            && let Ok(rest) = f.strip_prefix(&c)
        {
            inside = rest.to_path_buf();
        }
    }
    let parts: Vec<String> = inside
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    match parts.as_slice() {
        [root, rest @ ..] if root.is_empty() => format!("/{}", rest.join("/")),
        _ => parts.join("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::relative_to;
    use std::path::Path;

    #[test]
    fn prefixes_are_relative_to_the_working_folder() {
        let cwd = Path::new("/repo");
        assert_eq!(
            relative_to(Path::new("/repo/sub/proj"), Some(cwd)),
            "sub/proj"
        );
        assert_eq!(relative_to(Path::new("/repo"), Some(cwd)), "");
        assert_eq!(relative_to(Path::new("./sub/./x"), Some(cwd)), "sub/x");
        assert_eq!(relative_to(Path::new("."), Some(cwd)), "");
        assert_eq!(
            relative_to(Path::new("/elsewhere/p"), Some(cwd)),
            "/elsewhere/p"
        );
    }
}
