//! `mlcompat man`: roff man pages for the command and every subcommand, generated from the clap
//! definition (so they cannot disagree with `--help`), with the sections clap does not know:
//! exit status, environment, files. The top-level page names `mlcompat-check(1)` and the others,
//! so each exists: `mlcompat man check`, or all of them with `mlcompat man --dir DIR`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Command;

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Nothing is at or above \fB\-\-fail\-on\fR (default \fBfail\fR), or the command is not \fBcheck\fR.
.TP
\fB1\fR
\fBcheck\fR: something is at or above \fB\-\-fail\-on\fR.
.TP
\fB2\fR
The tool could not do its job: bad arguments, or a file it cannot read or parse (the message
names the file, and the line where it can). With \fB\-\-format json\fR stdout carries an error
document.
"#;

const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.TP
\fBNO_COLOR\fR
Set and not empty: no colour under \fB\-\-color auto\fR (it wins over the next two).
.TP
\fBFORCE_COLOR\fR, \fBCLICOLOR_FORCE\fR
Colour under \fB\-\-color auto\fR even when stdout is not a terminal (not for \fBFORCE_COLOR=0\fR).
.TP
\fBCOLUMNS\fR
The width to fit when stdout is not a terminal (default 100).
.TP
\fBMLCOMPAT_ASCII\fR
Set to 1: the terminal report uses [ok] [warn] [FAIL] [?] instead of emoji, as \fB\-\-ascii\fR
does. It is automatic where \fBTERM\fR is \fBlinux\fR or \fBdumb\fR.
.TP
\fBMLCOMPAT_EMOJI\fR
\fBnarrow\fR: draw the warning sign so that it takes two columns also on terminals that draw
\[u26A0]\[uFE0F] one column wide (automatic inside tmux, where \fBTMUX\fR is set); \fBwide\fR:
keep the emoji; \fBascii\fR: as \fBMLCOMPAT_ASCII=1\fR.
.TP
\fBMLCOMPAT_PROBE_TIMEOUT_MS\fR
The time limit of each command the probe runs.
"#;

const FILES: &str = r#".SH FILES
.TP
\fBmlcompat.toml\fR, \fBpyproject.toml\fR [tool.mlcompat]
The project's settings, read from the project folder by \fBcheck\fR: \fBprofiles\fR,
\fBfail\-on\fR, \fBignore\fR. Flags win over them.
"#;

/// The page of `path` (`[]` for the top level, `["rules", "list"]` for a nested one).
pub fn page(root: &Command, path: &[String]) -> Result<Vec<u8>> {
    let mut command = without_help(root.clone());
    command.build();
    let mut name = "mlcompat".to_string();
    for part in path {
        let Some(sub) = command.find_subcommand(part).cloned() else {
            let known: Vec<&str> = command.get_subcommands().map(Command::get_name).collect();
            bail!(
                "`{name}` has no subcommand `{part}` (one of: {})",
                known.join(", ")
            );
        };
        name = format!("{name}-{part}");
        command = sub;
    }
    let command = command.name(name.clone()).display_name(name.clone());
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .context("rendering the man page")?;
    if path.is_empty() || path == ["check"] {
        out.extend_from_slice(EXIT_STATUS.as_bytes());
        out.extend_from_slice(ENVIRONMENT.as_bytes());
        out.extend_from_slice(FILES.as_bytes());
    }
    Ok(out)
}

/// The command without clap's `help` subcommands, which would each want a page of their own
/// (`mlcompat-help-rules-list(1)`) saying what `--help` says.
fn without_help(command: Command) -> Command {
    command
        .disable_help_subcommand(true)
        .mut_subcommands(without_help)
}

/// Every page, as `(file name, roff)`: `mlcompat.1`, `mlcompat-check.1`, `mlcompat-rules-list.1`.
pub fn all_pages(root: &Command) -> Result<Vec<(String, Vec<u8>)>> {
    let root = &without_help(root.clone());
    let mut pages = Vec::new();
    let mut paths: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = paths.pop() {
        let mut command = root.clone();
        for part in &path {
            command = command
                .find_subcommand(part)
                .cloned()
                .context("a subcommand just listed")?;
        }
        for sub in command.get_subcommands() {
            let mut deeper = path.clone();
            deeper.push(sub.get_name().to_string());
            paths.push(deeper);
        }
        let file = std::iter::once("mlcompat")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-")
            + ".1";
        pages.push((file, page(root, &path)?));
    }
    pages.sort();
    Ok(pages)
}

/// Writes every page into `dir` (created if needed), replacing pages of an older mlcompat.
pub fn write_all(root: &Command, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut written = Vec::new();
    for (file, roff) in all_pages(root)? {
        let path = dir.join(&file);
        std::fs::write(&path, roff).with_context(|| format!("{}: cannot write", path.display()))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}
