//! `mlcompat refresh`: the packages to read (the rules', the project's), the index and the cache
//! folder, then `mlcompat::index::refresh::run` with progress on stderr and what changed on
//! stdout.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};

use mlcompat::index::cache;
use mlcompat::index::http::Client;
use mlcompat::index::knowledge::Knowledge;
use mlcompat::index::list::{CATALOGUE, EVERY_RELEASE, PackageList};
use mlcompat::index::refresh::{self, Plan, index_url};
use mlcompat::names;
use mlcompat::project::{self, Installer};
use mlcompat::report::escape;

use super::output::{write_plain, write_stderr};

/// Arguments of `mlcompat refresh`.
#[derive(Clone, Debug, clap::Args)]
pub struct RefreshArgs {
    /// The project whose packages to refresh, with the packages the rules know.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The simple index to read (default: UV_INDEX_URL, else PIP_INDEX_URL, else PyPI).
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Every package of mlcompat's built-in list (index/packages.txt), not only the rules'.
    #[arg(long)]
    pub all: bool,
    /// Write the package files into DIR instead of the cache (scripts/snapshot-index.sh writes
    /// index/snapshot/ this way).
    #[arg(long, value_name = "DIR", hide = true)]
    pub out: Option<PathBuf>,
    /// Only these packages (repeatable): to rebuild part of the snapshot.
    #[arg(long, value_name = "NAME", hide = true)]
    pub only: Vec<String>,
    /// Stop reading metadata after this many requests (package pages are still read).
    #[arg(long, value_name = "N", hide = true)]
    pub max_requests: Option<usize>,
    /// Milliseconds to wait before each request, to be gentle with the index.
    #[arg(long, value_name = "MS", default_value_t = 0, hide = true)]
    pub delay_ms: u64,
}

/// Runs `mlcompat refresh`: 0 when every package was read (some may not be on the index), 2 when
/// the index could not be reached or a package could not be read.
pub fn run(args: RefreshArgs) -> Result<ExitCode> {
    let list = PackageList::builtin();
    let mut names: Vec<String> = if !args.only.is_empty() {
        args.only.iter().map(|n| names::normalize(n)).collect()
    } else if args.all {
        list.all()
    } else {
        list.section(CATALOGUE)
    };
    if args.only.is_empty() && (args.out.is_none() || args.path != std::path::Path::new(".")) {
        let scanned = project::scan(&args.path)?;
        names.extend(
            scanned
                .packages
                .iter()
                .filter(|p| p.installer == Installer::Pip && p.url.is_none())
                .map(|p| p.name.clone()),
        );
    }
    let mut seen = BTreeSet::new();
    names.retain(|name| !name.is_empty() && seen.insert(name.clone()));
    let (out, summary_file) = match (&args.out, cache::index_dir()) {
        (Some(out), _) => (out.clone(), "_snapshot.txt"),
        (None, Some(dir)) => (dir, cache::REFRESH_FILE),
        (None, None) => bail!("no cache folder: set MLCOMPAT_CACHE_DIR (no home folder is known)"),
    };
    let plan = Plan {
        index_url: index_url(args.index_url.as_deref(), &|key| std::env::var(key).ok()),
        names,
        every_release: list.section(EVERY_RELEASE).into_iter().collect(),
        out: out.clone(),
        summary_file: args.only.is_empty().then(|| summary_file.to_string()),
        as_of: refresh::today(),
        max_requests: args.max_requests,
    };
    let known = Knowledge::with_cache(Some(out.clone()));
    let mut client = Client::new();
    client.delay = Duration::from_millis(args.delay_ms);
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |done: usize, total: usize, name: &str| {
        // Package names come from the project: escaped before they reach the terminal.
        let name = escape::terminal(name);
        let mut err = std::io::stderr().lock();
        if terminal {
            let width = 30;
            let filled = done * width / total.max(1);
            let _ = write!(
                err,
                "\r\x1b[K[{}{}] {done}/{total} {name}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if done == total {
                let _ = writeln!(err);
            }
        } else if done < total {
            let _ = writeln!(err, "[{}/{total}] {name}", done + 1);
        }
    };
    // The index unreachable, or the folder unwritable: exit 2 with the reason, files untouched.
    let summary = refresh::run(
        &plan,
        &mut client,
        &|name| known.package(name).map(|p| (*p).clone()),
        &mut progress,
    )?;
    // Collected, then written like every command's output: a closed or failing stdout is
    // exit 2, and names from the project or the index are escaped.
    let mut stdout = String::new();
    let _ = writeln!(
        stdout,
        "Read {} packages from {} into {} ({} requests).",
        plan.names.len() - summary.not_found.len() - summary.failed.len(),
        plan.index_url,
        out.display(),
        summary.requests
    );
    for (name, versions) in &summary.changed {
        let shown: Vec<String> = versions
            .iter()
            .rev()
            .take(5)
            .map(ToString::to_string)
            .collect();
        let more = if versions.len() > 5 { ", …" } else { "" };
        let _ = writeln!(
            stdout,
            "  {name}: {} new release{} ({}{more})",
            versions.len(),
            if versions.len() == 1 { "" } else { "s" },
            shown.join(", ")
        );
    }
    let _ = writeln!(stdout, "{} unchanged.", summary.unchanged);
    if !summary.not_found.is_empty() {
        let _ = writeln!(
            stdout,
            "Not on this index: {}",
            summary.not_found.join(", ")
        );
    }
    if summary.budget_reached {
        let _ = writeln!(
            stdout,
            "The request budget ran out: some Requires-Dist was not read."
        );
    }
    for (what, why) in &summary.metadata_failed {
        let _ = writeln!(stdout, "No Requires-Dist for {what}: {why}");
    }
    write_plain(&escape::terminal_lines(&stdout))?;
    for (name, error) in &summary.failed {
        write_stderr(&format!(
            "error: {}: {}",
            escape::terminal(name),
            escape::terminal(&error.to_string())
        ));
    }
    Ok(if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
