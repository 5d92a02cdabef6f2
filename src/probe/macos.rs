//! macOS: the hardware model, chip, cores and memory from one `sysctl` call, the version from
//! `sw_vers`, and the Apple GPU, whose memory is the unified memory.

use super::{Probed, exec};
use crate::profile::{Cores, Gpu, Vendor};
use crate::size::ByteSize;

pub const SYSCTL_KEYS: [&str; 5] = [
    "hw.model",
    "machdep.cpu.brand_string",
    "hw.memsize",
    "hw.physicalcpu",
    "hw.logicalcpu",
];

pub fn probe(probed: &mut Probed) {
    match exec::run("sysctl", &SYSCTL_KEYS) {
        Ok(output) => apply_sysctl(&output, probed),
        Err(error) => probed
            .notes
            .push(format!("macOS hardware unknown: {error}")),
    }
    if let Ok(version) = exec::run("sw_vers", &["-productVersion"]) {
        let version = version.trim();
        if !version.is_empty() {
            probed.profile.system.os_version = Some(version.to_string());
        }
    }
}

/// Applies `sysctl` output (`key: value` lines) to the profile.
pub fn apply_sysctl(output: &str, probed: &mut Probed) {
    let value = |key: &str| {
        output.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    let system = &mut probed.profile.system;
    if let Some(model) = value("hw.model").filter(|m| !m.is_empty()) {
        system.model = Some(model);
    }
    if let Some(chip) = value("machdep.cpu.brand_string").filter(|c| !c.is_empty()) {
        system.chip = Some(chip);
    }
    if let Some(memory) = value("hw.memsize").and_then(|m| m.parse().ok()) {
        system.memory = Some(ByteSize(memory));
    }
    let physical = value("hw.physicalcpu").and_then(|n| n.parse().ok());
    let logical = value("hw.logicalcpu").and_then(|n| n.parse().ok());
    if physical.is_some() || logical.is_some() {
        system.cores = Some(Cores { physical, logical });
    }
    let apple_silicon = system
        .chip
        .as_deref()
        .is_some_and(|chip| chip.starts_with("Apple"));
    if apple_silicon
        && !probed
            .profile
            .gpus
            .iter()
            .any(|g| g.vendor == Vendor::Apple)
    {
        let name = system.chip.clone().map(|chip| format!("{chip} GPU"));
        probed.profile.gpus.push(Gpu {
            vendor: Vendor::Apple,
            name,
            memory: system.memory,
            compute_capability: None,
            driver_version: None,
            cuda_version: None,
        });
    }
}
