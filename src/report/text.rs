//! Words and icons for statuses.

use crate::rules::Status;

pub fn icon(status: Status) -> &'static str {
    match status {
        Status::Ok => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
        Status::Unknown => "❔",
    }
}

/// The founding assessment's words for each status.
pub fn label(status: Status) -> &'static str {
    match status {
        Status::Ok => "Will work",
        Status::Warn => "Will work with modifications",
        Status::Fail => "Will NOT work",
        Status::Unknown => "Unknown",
    }
}

/// The system specification as `(label, value)` lines, shared by the table and Markdown.
pub fn specification(assessment: &crate::assessment::Assessment) -> Vec<(&'static str, String)> {
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
    lines.push(("CPU", cores));
    let gpus: Vec<String> = profile
        .gpus
        .iter()
        .map(|gpu| {
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
        })
        .collect();
    lines.push((
        "GPU",
        if gpus.is_empty() {
            "none".to_string()
        } else {
            gpus.join("; ")
        },
    ));
    lines.push(("Python", assessment.python.clone()));
    let os = match (system.os, &system.os_version) {
        (Some(os), Some(version)) => format!("{os} {version}"),
        (Some(os), None) => os.to_string(),
        (None, _) => unknown(),
    };
    lines.push(("OS", os));
    lines
}

/// `requirements.txt:7, environment.yml:9`.
pub fn places(evidence: &[crate::project::Evidence]) -> String {
    evidence
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
