//! Words, icons and shared blocks for the human formats.

use crate::assessment::Assessment;
use crate::assessment::Evidence;
use crate::assessment::Status;

/// The status's emoji, or its ASCII spelling.
pub fn icon(status: Status, ascii: bool) -> &'static str {
    match (status, ascii) {
        (Status::Ok, false) => "✅",
        (Status::Warn, false) => "⚠️",
        (Status::Fail, false) => "❌",
        (Status::Unknown, false) => "❔",
        (Status::Ok, true) => "[ok]",
        (Status::Warn, true) => "[warn]",
        (Status::Fail, true) => "[FAIL]",
        (Status::Unknown, true) => "[?]",
    }
}

/// What a report says when the project declares nothing mlcompat reads.
pub const NOTHING_FOUND: &str =
    "Nothing to judge: no dependencies, training settings or models were found here";

/// The founding assessment's words for each status.
pub fn label(status: Status) -> &'static str {
    match status {
        Status::Ok => "Will work",
        Status::Warn => "Will work with modifications",
        Status::Fail => "Will NOT work",
        Status::Unknown => "Unknown",
    }
}

/// `❌ Will NOT work — 5 ok, 2 warn, 5 fail, 1 unknown`.
pub fn verdict_line(assessment: &Assessment, ascii: bool) -> String {
    let s = &assessment.summary;
    if assessment.components.is_empty() {
        return format!("{} {NOTHING_FOUND}", icon(Status::Unknown, ascii));
    }
    format!(
        "{} {} — {} ok, {} warn, {} fail, {} unknown",
        icon(assessment.verdict, ascii),
        label(assessment.verdict),
        s.ok,
        s.warn,
        s.fail,
        s.unknown
    )
}

/// The text with its non-ASCII replaced: symbols by their ASCII spelling, anything else by `?`.
pub fn asciify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_ascii() => out.push(c),
            '≈' => out.push('~'),
            '≤' => out.push_str("<="),
            '≥' => out.push_str(">="),
            '×' => out.push('x'),
            '•' => out.push('-'),
            '—' | '–' => out.push('-'),
            '→' => out.push_str("->"),
            '‘' | '’' => out.push('\''),
            '“' | '”' => out.push('"'),
            '…' => out.push_str("..."),
            '\u{fe0f}' => {}
            _ => out.push('?'),
        }
    }
    out
}

/// The one-line summary of a component the engine leaves to the report: a training setting a
/// rule judges, which no rule objects to on this machine (✅) or which a rule could not judge
/// because the machine's profile does not say what it needs (❔).
fn setting_summary(status: Status) -> Option<&'static str> {
    match status {
        Status::Ok => Some("Runs here: no rule about it objects"),
        Status::Unknown => Some("Not judged: the profile lacks a fact its rules need"),
        Status::Warn | Status::Fail => None,
    }
}

/// The assessment with every component summary worded: one the engine left empty (see
/// [`setting_summary`]) gets the report's words. Borrowed as it is when none is empty.
pub fn worded(assessment: &Assessment) -> std::borrow::Cow<'_, Assessment> {
    let empty = |c: &crate::assessment::Component| c.summary.is_empty();
    if !assessment.components.iter().any(empty) {
        return std::borrow::Cow::Borrowed(assessment);
    }
    let mut worded = assessment.clone();
    for component in worded
        .components
        .iter_mut()
        .filter(|c| c.summary.is_empty())
    {
        if let Some(words) = setting_summary(component.status) {
            component.summary = words.to_string();
        }
    }
    std::borrow::Cow::Owned(worded)
}

/// The system specification as `(label, value)` lines, shared by the table and Markdown.
pub fn specification(assessment: &Assessment) -> Vec<(&'static str, String)> {
    let profile = &assessment.profile;
    let system = &profile.system;
    let unknown = || "unknown".to_string();
    let mut lines = Vec::new();
    if let Some(model) = &system.model {
        lines.push(("Device", model.clone()));
    }
    let chip = system.chip.clone().unwrap_or_else(unknown);
    let chip = match system.arch {
        Some(arch) => format!("{chip} ({arch})"),
        None => chip,
    };
    lines.push(("Chip", chip));
    lines.push(("RAM", system.memory.map_or_else(unknown, |m| m.to_string())));
    let cores = system
        .cores
        .map_or_else(unknown, |c| match (c.physical, c.logical) {
            (Some(p), Some(l)) => format!("{l} cores ({p} physical, {l} logical)"),
            (Some(p), None) => format!("{p} physical cores"),
            (None, Some(l)) => format!("{l} logical cores"),
            (None, None) => unknown(),
        });
    let cores = if system.cpu_features.is_empty() {
        cores
    } else {
        format!("{cores}; {}", system.cpu_features.join(", "))
    };
    lines.push(("CPU", cores));
    let gpus: Vec<String> = profile.gpus.iter().map(gpu_line).collect();
    lines.push((
        "GPU",
        if gpus.is_empty() {
            "none".to_string()
        } else {
            gpus.join("; ")
        },
    ));
    lines.push(("Python", assessment.python.clone()));
    lines.push(("OS", os_line(system)));
    lines
}

/// The OS as a person names it: a Linux machine by its distro ("Debian GNU/Linux 12
/// (bookworm)", not "Linux 12", which is the distro's version without its name), with the libc
/// that decides which wheels install, and where that came from when it is not stated.
fn os_line(system: &crate::profile::System) -> String {
    use crate::profile::{LibcKnown, Os};
    let printable = |text: &str| -> String { text.chars().filter(|c| !c.is_control()).collect() };
    let mut line = match (system.os, &system.distro, &system.os_version) {
        (Some(Os::Linux), Some(distro), _) => printable(distro),
        (Some(os), _, Some(version)) => format!("{os} {}", printable(version)),
        (Some(os), _, None) => os.to_string(),
        (None, Some(distro), _) => printable(distro),
        (None, None, _) => "unknown".to_string(),
    };
    if system.os == Some(Os::Linux) || system.libc.is_some() {
        let libc = match system.libc_known() {
            LibcKnown::Stated(libc) => match libc.version {
                Some(version) => format!("{} {}", libc.family, printable(&version)),
                None => format!("{} (version unknown)", libc.family),
            },
            LibcKnown::FromDistro(libc) => format!(
                "{} {} (the distro release's)",
                libc.family,
                libc.version.unwrap_or_default()
            ),
            LibcKnown::Unknown => "libc unknown".to_string(),
        };
        line = format!("{line}; {libc}");
    }
    line
}

fn gpu_line(gpu: &crate::profile::Gpu) -> String {
    let mut text = gpu
        .name
        .clone()
        .unwrap_or_else(|| format!("{} GPU", gpu.vendor));
    if let Some(memory) = gpu.memory {
        text += &format!(", {memory}");
        if gpu.vendor == crate::profile::Vendor::Apple {
            text += " unified";
        }
    }
    if let Some(cc) = &gpu.compute_capability {
        text += &format!(", compute capability {cc}");
    }
    if let Some(driver) = &gpu.driver_version {
        text += &format!(", driver {driver}");
    }
    if let Some(cuda) = &gpu.cuda_version {
        text += &format!(" (CUDA ≤ {cuda})");
    }
    text
}

/// `requirements.txt:7, environment.yml:9`.
pub fn places(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The steps that follow from the changes, in the founding assessment's "Next steps" spirit.
pub fn next_steps(assessment: &Assessment) -> Vec<String> {
    let mut files: Vec<&str> = assessment.changes.iter().map(|c| c.file.as_str()).collect();
    files.dedup();
    let mut steps: Vec<String> = files
        .iter()
        .map(|file| {
            format!("Apply the required changes to {file} (or keep a per-machine copy of it)")
        })
        .collect();
    if let Some(first) = assessment.recommendations.first() {
        steps.push(format!("Consider option 1: {}", first.title));
    }
    if assessment.summary.unknown > 0 {
        steps.push(format!(
            "Check the {} component(s) no rule knows by hand, or add rules for them (`--rules`)",
            assessment.summary.unknown
        ));
    }
    steps.push("Run `mlcompat check` again to confirm".to_string());
    steps
}

#[cfg(test)]
mod tests {
    use super::asciify;

    #[test]
    fn ascii_mode_keeps_meaning() {
        assert_eq!(
            asciify("≈ 4.8 GB • a — b ≤ c ⚠️"),
            "~ 4.8 GB - a - b <= c ?"
        );
    }
}
