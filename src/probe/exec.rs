//! The one place mlcompat starts a process: always with a time limit, never through a shell,
//! stdout and stderr captured. A tool that is missing, fails, hangs or prints garbage yields an
//! error the caller turns into "unknown", never a hang or a crash.
//!
//! A time limit on the child alone is not enough: a tool that is a shell script (`nvidia-smi`
//! wrappers, pyenv shims) runs its work in a grandchild that inherits the stdout pipe, so after the
//! script is killed, reading its output would still wait for the grandchild. Each child therefore
//! leads its own process group, the pipes are read on threads against one deadline, and a timeout
//! kills the whole group.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use process_control::{ChildExt, Control, ExitStatus};

/// How long a probe command may run (`MLCOMPAT_PROBE_TIMEOUT_MS` overrides it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The most output kept from one stream: a tool printing without end is cut off, not buffered.
const MAX_OUTPUT: u64 = 4 << 20;

/// Why a command gave no usable output.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExecError {
    /// The program is not on PATH.
    #[error("`{0}` was not found")]
    NotFound(String),
    /// It ran past its time limit (program, milliseconds).
    #[error("`{0}` did not finish within {1} ms")]
    TimedOut(String, u128),
    /// It exited with an error.
    #[error("`{program}` failed ({status}): {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// How it exited.
        status: String,
        /// What it wrote to stderr.
        stderr: String,
    },
    /// It could not be started (program, why).
    #[error("`{0}` could not be started: {1}")]
    Spawn(String, String),
    /// Its output is not UTF-8 text.
    #[error("`{0}` printed output that is not UTF-8")]
    NotText(String),
    /// It would have been started from the audited project's folder, which is never trusted.
    #[error("`{0}` is inside the audited project, and nothing there is run")]
    Untrusted(String),
}

/// Folders whose programs are never run: the project being audited. A project can hold an
/// `nvidia-smi`, `sysctl` or `python3` of its own, and PATH can name its folder (or `.` while
/// the user stands in it); checking here, where every process starts, covers every tool.
static UNTRUSTED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Marks `folder` (and everything below it) as never to be run from, for this process.
pub fn distrust(folder: &Path) {
    let Ok(folder) = std::fs::canonicalize(folder) else {
        return;
    };
    let mut untrusted = UNTRUSTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !untrusted.contains(&folder) {
        untrusted.push(folder);
    }
}

/// Whether `program`'s folder lies in a distrusted one (the program itself may be a link
/// elsewhere, as a venv's python is; its folder is what the project controls).
fn is_untrusted(program: &Path) -> bool {
    let untrusted = UNTRUSTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if untrusted.is_empty() {
        return false;
    }
    let folder = program.parent().unwrap_or(program);
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    std::fs::canonicalize(folder)
        .is_ok_and(|folder| untrusted.iter().any(|u| folder.starts_with(u)))
}

/// The program to start: a path as given, or a bare name looked up on PATH the way a shell
/// does, except that relative PATH entries (`.`, `bin`) and distrusted folders are passed over,
/// so what runs never depends on the folder mlcompat is started in.
fn resolve(program: &OsStr) -> Result<PathBuf, ExecError> {
    let name = program.to_string_lossy().into_owned();
    let given = Path::new(program);
    if given.components().count() > 1 || given.is_absolute() {
        return if is_untrusted(given) {
            Err(ExecError::Untrusted(name))
        } else {
            Ok(given.to_path_buf())
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let names: Vec<OsString> = if cfg!(windows) && given.extension().is_none() {
        vec![program.to_os_string(), {
            let mut exe = program.to_os_string();
            exe.push(".exe");
            exe
        }]
    } else {
        vec![program.to_os_string()]
    };
    for dir in std::env::split_paths(&path).filter(|dir| dir.is_absolute()) {
        for name in &names {
            let candidate = dir.join(name);
            if is_executable(&candidate) && !is_untrusted(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(ExecError::NotFound(name))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// What a finished command printed, and whether it exited with success.
#[derive(Debug)]
pub struct Finished {
    /// What it wrote to stdout.
    pub stdout: String,
    /// Whether it exited with success.
    pub success: bool,
}

/// The time limit for each command: `MLCOMPAT_PROBE_TIMEOUT_MS`, else [`DEFAULT_TIMEOUT`].
pub fn timeout() -> Duration {
    std::env::var("MLCOMPAT_PROBE_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.trim().parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// Runs `program args…` and returns its stdout; a non-zero exit is an error carrying stderr.
pub fn run(program: impl AsRef<OsStr>, args: &[&str]) -> Result<String, ExecError> {
    run_within(program.as_ref(), args, timeout())
}

/// Runs `program args…` and returns its stdout whatever its exit status, for tools such as
/// `sysctl` that print the keys they know and fail on the ones they do not.
pub fn run_any_status(program: impl AsRef<OsStr>, args: &[&str]) -> Result<Finished, ExecError> {
    let name = program.as_ref().to_string_lossy().into_owned();
    let (status, stdout, _) = capture(program.as_ref(), args, timeout())?;
    let stdout = String::from_utf8(stdout).map_err(|_| ExecError::NotText(name))?;
    Ok(Finished {
        stdout,
        success: status.success(),
    })
}

/// [`run`] with an explicit limit.
pub fn run_within(program: &OsStr, args: &[&str], limit: Duration) -> Result<String, ExecError> {
    let name = program.to_string_lossy().into_owned();
    let (status, stdout, stderr) = capture(program, args, limit)?;
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        return Err(ExecError::Failed {
            program: name,
            status: status.to_string(),
            stderr: stderr.lines().next().unwrap_or("").trim().to_string(),
        });
    }
    String::from_utf8(stdout).map_err(|_| ExecError::NotText(name))
}

/// Spawns the command in its own process group and collects its exit status, stdout and stderr
/// before `limit` has passed; on a timeout the group is killed.
fn capture(
    program: &OsStr,
    args: &[&str],
    limit: Duration,
) -> Result<(ExitStatus, Vec<u8>, Vec<u8>), ExecError> {
    let name = program.to_string_lossy().into_owned();
    let deadline = Instant::now() + limit;
    let mut child = spawn(program, args)?;
    let timed_out = || ExecError::TimedOut(name.clone(), limit.as_millis());
    let Some((stdout, stderr)) = read_pipes(&mut child, deadline) else {
        kill_group(&mut child);
        return Err(timed_out());
    };
    let waited = child
        .controlled()
        .time_limit(deadline.saturating_duration_since(Instant::now()))
        .wait();
    match waited {
        Ok(Some(status)) => Ok((status, stdout, stderr)),
        Ok(None) => {
            kill_group(&mut child);
            Err(timed_out())
        }
        Err(error) => {
            kill_group(&mut child);
            Err(ExecError::Spawn(name, error.to_string()))
        }
    }
}

fn spawn(program: &OsStr, args: &[&str]) -> Result<Child, ExecError> {
    let mut command = Command::new(resolve(program)?);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command.spawn().map_err(|e| {
        let name = program.to_string_lossy().into_owned();
        match e.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound(name),
            _ => ExecError::Spawn(name, e.to_string()),
        }
    })
}

/// Reads stdout and stderr to their end on two threads; `None` when the deadline comes first
/// (the threads are left to end when the killed group closes the pipes).
fn read_pipes(child: &mut Child, deadline: Instant) -> Option<(Vec<u8>, Vec<u8>)> {
    let (sender, receiver) = mpsc::channel();
    let pipes: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    for (index, pipe) in pipes.into_iter().enumerate() {
        let sender = sender.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut bytes);
            }
            let _ = sender.send((index, bytes));
        });
    }
    drop(sender);
    let mut streams = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let (index, bytes) = receiver.recv_timeout(left).ok()?;
        streams[index] = bytes;
    }
    let [stdout, stderr] = streams;
    Some((stdout, stderr))
}

/// Kills the child's whole process group (its grandchildren too), then the child, and reaps it.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours. The child was
        // spawned with process_group(0), so its pid is its group id and the group is ours alone;
        // it is not yet reaped, so the id cannot have been reused.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    use super::*;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// [`run_within`], started again while the kernel refuses the fresh script with "text file
    /// busy": another test thread forking while the script was being written holds a copy of
    /// the write handle until that child execs.
    fn run_script(tool: &Path, args: &[&str], limit: Duration) -> Result<String, ExecError> {
        let busy = std::io::Error::from_raw_os_error(libc::ETXTBSY).to_string();
        for _ in 0..50 {
            match run_within(tool.as_os_str(), args, limit) {
                Err(ExecError::Spawn(_, why)) if why.contains(&busy) => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                result => return result,
            }
        }
        run_within(tool.as_os_str(), args, limit)
    }

    #[test]
    fn a_script_whose_grandchild_hangs_times_out_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        // `sleep` runs as a grandchild holding stdout; killing only the shell would leave the
        // read blocked for the full minute.
        let tool = script(dir.path(), "hangs", "echo started\nsleep 60\necho never");
        let started = Instant::now();
        let result = run_script(&tool, &[], Duration::from_millis(300));
        assert!(
            matches!(result, Err(ExecError::TimedOut(_, 300))),
            "{result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "blocked on the grandchild"
        );
    }

    /// Whether a process is gone (or a zombie, dead but not yet reaped by its new parent).
    #[cfg(target_os = "linux")]
    fn gone(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'))
        })
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_timeout_kills_the_grandchildren_too() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let body = format!("sleep 60 &\necho $! > '{}'\nwait", pid_file.display());
        let tool = script(dir.path(), "spawns", &body);
        let result = run_script(&tool, &[], Duration::from_millis(300));
        assert!(matches!(result, Err(ExecError::TimedOut(..))), "{result:?}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let pid = pid.trim();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !gone(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            gone(pid),
            "the grandchild `sleep` (pid {pid}) outlived the timeout"
        );
    }

    #[test]
    fn a_failing_tool_reports_its_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let tool = script(dir.path(), "fails", "echo 'NVML: no devices' >&2\nexit 1");
        let error = run_script(&tool, &[], Duration::from_secs(5)).unwrap_err();
        assert!(matches!(&error, ExecError::Failed { stderr, .. } if stderr == "NVML: no devices"));
    }

    #[test]
    fn output_that_is_not_text_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let tool = script(dir.path(), "binary", "printf '\\377\\376garbage'");
        let error = run_script(&tool, &[], Duration::from_secs(5)).unwrap_err();
        assert!(matches!(error, ExecError::NotText(_)), "{error:?}");
    }

    #[test]
    fn a_missing_tool_is_not_found() {
        let error = run_within(
            OsStr::new("mlcompat-no-such-tool"),
            &[],
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert_eq!(error, ExecError::NotFound("mlcompat-no-such-tool".into()));
    }

    #[test]
    fn a_nonzero_exit_still_gives_stdout_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let tool = script(dir.path(), "partial", "echo 'hw.memsize: 8'\nexit 1");
        let finished = run_any_status(&tool, &[]).unwrap();
        assert_eq!(finished.stdout, "hw.memsize: 8\n");
        assert!(!finished.success);
    }
}
