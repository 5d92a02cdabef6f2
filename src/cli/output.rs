//! Writing to stdout: colour by `--color`, and what counts as a failed write.
//!
//! A reader that stops early (`| head`) closes the pipe: EPIPE, which is how a pipeline ends
//! and not an error. Any other failure is exit 2: a full disk (`> /dev/full`), and a stdout that
//! was never open (`>&-`), which the standard library would otherwise report as success (it
//! opens /dev/null in its place), so a script would believe its report was written.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::ValueEnum;

/// `--color`: when to colour the output.
#[derive(Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set; also when piped if FORCE_COLOR or CLICOLOR_FORCE
    /// is set (NO_COLOR still wins).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    /// The anstream choice for this flag. Under `auto`, anstream follows `NO_COLOR`,
    /// `CLICOLOR_FORCE` and whether stdout is a terminal; `FORCE_COLOR` is added here.
    pub fn choice(self) -> anstream::ColorChoice {
        match self {
            ColorWhen::Auto if super::terminal::force_color(super::terminal::env) => {
                anstream::ColorChoice::Always
            }
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        }
    }
}

/// Writes through anstream, which strips colour when stdout is not a terminal or NO_COLOR is set
/// (under `auto`). A closed pipe (`| head`) is not an error. Text without an escape character
/// has nothing to strip or translate and is written as it is, not scanned by anstream's
/// escape-sequence parser (70 KB for `rules list`).
pub fn write_stdout(text: &str, choice: anstream::ColorChoice) -> Result<()> {
    ensure_open()?;
    fn write_flushed(mut stream: impl Write, text: &str) -> std::io::Result<()> {
        stream.write_all(text.as_bytes())?;
        stream.flush()
    }
    let stdout = std::io::stdout().lock();
    let written = if text.contains('\x1b') {
        write_flushed(anstream::AutoStream::new(stdout, choice), text)
    } else {
        write_flushed(stdout, text)
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the report")
        }
        _ => Ok(()),
    }
}

/// Whether file descriptor 1 was closed when the process started (`>&-`).
///
/// The standard library's start-up code opens `/dev/null` on a closed descriptor 0, 1 or 2 (so
/// that a file opened later cannot land there), after which every write to stdout succeeds
/// and the closed stdout cannot be told from `>/dev/null`. So the descriptor is looked at
/// earlier, by a function the loader runs before `main` (an `.init_array` entry on ELF
/// systems, `__mod_init_func` on Apple's).
static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_vendor = "apple"
))]
extern "C" fn record_closed_stdout() {
    // SAFETY: F_GETFD only reads the descriptor's flags; any descriptor number may be asked.
    if unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1 {
        STDOUT_CLOSED_AT_START.store(true, Ordering::Relaxed);
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[used]
#[unsafe(link_section = ".init_array")]
static RECORD_CLOSED_STDOUT: extern "C" fn() = record_closed_stdout;

#[cfg(target_vendor = "apple")]
#[used]
#[unsafe(link_section = "__DATA,__mod_init_func")]
static RECORD_CLOSED_STDOUT: extern "C" fn() = record_closed_stdout;

/// Fails when stdout was closed at start (`>&-`): there is nowhere for the output to go, and
/// a caller that checks the exit code must learn it.
fn ensure_open() -> Result<()> {
    if STDOUT_CLOSED_AT_START.load(Ordering::Relaxed) {
        anyhow::bail!("cannot write to stdout: it is closed");
    }
    Ok(())
}

/// A line on stderr. A stderr that is gone (a closed pipe) cannot be told anything, and must
/// not turn an error into a crash (`eprintln!` panics there).
pub fn write_stderr(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Plain text to stdout, never coloured.
pub fn write_plain(text: &str) -> Result<()> {
    write_stdout(text, anstream::ColorChoice::Never)
}
