//! The one place mlcompat starts a process: always with a time limit, never through a shell,
//! stdout and stderr captured. A tool that is missing, fails, hangs or prints garbage yields an
//! error the caller turns into "unknown", never a hang or a crash.

use std::process::{Command, Stdio};
use std::time::Duration;

use process_control::{ChildExt, Control};

/// How long a probe command may run (`MLCOMPAT_PROBE_TIMEOUT_MS` overrides it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExecError {
    #[error("`{0}` was not found")]
    NotFound(String),
    #[error("`{0}` did not finish within {1} ms")]
    TimedOut(String, u128),
    #[error("`{program}` failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("`{0}` could not be started: {1}")]
    Spawn(String, String),
    #[error("`{0}` printed output that is not UTF-8")]
    NotText(String),
}

pub fn timeout() -> Duration {
    std::env::var("MLCOMPAT_PROBE_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// Runs `program args…` and returns its stdout.
pub fn run(program: &str, args: &[&str]) -> Result<String, ExecError> {
    let limit = timeout();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound(program.to_string()),
            _ => ExecError::Spawn(program.to_string(), e.to_string()),
        })?;
    let output = child
        .controlled_with_output()
        .time_limit(limit)
        .terminate_for_timeout()
        .wait()
        .map_err(|e| ExecError::Spawn(program.to_string(), e.to_string()))?
        .ok_or_else(|| ExecError::TimedOut(program.to_string(), limit.as_millis()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(ExecError::Failed {
            program: program.to_string(),
            status: output.status.to_string(),
            stderr: stderr.lines().next().unwrap_or("").trim().to_string(),
        });
    }
    String::from_utf8(output.stdout).map_err(|_| ExecError::NotText(program.to_string()))
}
