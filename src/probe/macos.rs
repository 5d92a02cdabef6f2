//! macOS: the hardware model, chip, cores, memory, OS version, Rosetta and the GPU wired limit
//! from one `sysctl` call (`sw_vers` only when the kernel does not say its version), and the
//! Apple GPU, whose memory is the unified memory.

use super::{Probed, exec};
use crate::profile::{Arch, Cores, Gpu, Vendor};
use crate::size::ByteSize;

/// Every key is asked for in one call; a key this Mac lacks (perflevels on Intel, the wired
/// limit before macOS 14) is reported on stderr and the others still print.
/// The CPU feature keys (`hw.optional.*`) follow in the same call: see [`super::cpu::MACOS`].
pub const SYSCTL_KEYS: [&str; 10] = [
    "hw.model",
    "machdep.cpu.brand_string",
    "hw.memsize",
    "hw.physicalcpu",
    "hw.logicalcpu",
    "hw.perflevel0.physicalcpu",
    "hw.perflevel1.physicalcpu",
    "sysctl.proc_translated",
    "iogpu.wired_limit_mb",
    "kern.osproductversion",
];

/// Reads the Mac through one sysctl call (and sw_vers when the kernel does not say its version).
pub fn probe(probed: &mut Probed) {
    let keys: Vec<&str> = SYSCTL_KEYS
        .iter()
        .copied()
        .chain(super::cpu::MACOS.iter().map(|(_, key)| *key))
        .collect();
    match exec::run_any_status("sysctl", &keys) {
        Ok(finished) => apply_sysctl(&finished.stdout, probed),
        Err(error) => probed.unknown("system (macOS hardware)", error),
    }
    if probed.profile.system.os_version.is_none() {
        match exec::run("sw_vers", &[]) {
            Ok(output) => {
                if let Some(version) = parse_sw_vers(&output) {
                    probed.profile.system.os_version = Some(version);
                    probed.learned("system.os_version", "sw_vers");
                }
            }
            Err(error) => probed.unknown("system.os_version", error),
        }
    }
}

/// The value of `key` in `sysctl` output (`key: value` lines).
fn value<'a>(output: &'a str, key: &str) -> Option<&'a str> {
    output.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key)
            .then(|| v.trim())
            .filter(|v| !v.is_empty())
    })
}

fn number(output: &str, key: &str) -> Option<u64> {
    value(output, key).and_then(|v| v.parse().ok())
}

/// Applies `sysctl` output to the profile: the values it has replace sysinfo's.
pub fn apply_sysctl(output: &str, probed: &mut Probed) {
    let mut learned = Vec::new();
    let system = &mut probed.profile.system;
    if let Some(model) = value(output, "hw.model") {
        system.model = Some(model.to_string());
        learned.push(("system.model", "hw.model"));
    }
    if let Some(chip) = value(output, "machdep.cpu.brand_string") {
        system.chip = Some(chip.to_string());
        learned.push(("system.chip", "machdep.cpu.brand_string"));
    }
    if let Some(memory) = number(output, "hw.memsize") {
        system.memory = Some(ByteSize(memory));
        learned.push(("system.memory", "hw.memsize"));
    }
    if let Some(version) = value(output, "kern.osproductversion") {
        system.os_version = Some(version.to_string());
        learned.push(("system.os_version", "kern.osproductversion"));
    }
    let cores = Cores {
        physical: number(output, "hw.physicalcpu").and_then(|n| u32::try_from(n).ok()),
        logical: number(output, "hw.logicalcpu").and_then(|n| u32::try_from(n).ok()),
        performance: number(output, "hw.perflevel0.physicalcpu")
            .and_then(|n| u32::try_from(n).ok()),
        efficiency: number(output, "hw.perflevel1.physicalcpu").and_then(|n| u32::try_from(n).ok()),
    };
    if cores != Cores::default() {
        system.cores = Some(cores);
        learned.push((
            "system.cores",
            "hw.physicalcpu, hw.logicalcpu, hw.perflevel0/1.physicalcpu",
        ));
    }
    let translated = number(output, "sysctl.proc_translated");
    if let Some(translated) = translated {
        system.rosetta = Some(translated == 1);
        learned.push(("system.rosetta", "sysctl.proc_translated"));
    }
    let features = super::cpu::from_sysctl(output);
    if !features.is_empty() {
        system.cpu_features = features;
        learned.push(("system.cpu_features", "hw.optional.*"));
    }
    for (field, key) in learned {
        probed.learned(field, format!("sysctl {key}"));
    }
    if translated == Some(1) {
        // The process is x86_64, the machine is not: report the machine.
        probed.profile.system.arch = Some(Arch::Arm64);
        probed.learned("system.arch", "sysctl sysctl.proc_translated = 1 (Rosetta)");
        probed.notes.push(
            "mlcompat runs under Rosetta (x86_64 on an arm64 Mac): an x86_64 Python cannot use the Apple GPU (MPS)".to_string(),
        );
    }
    add_apple_gpu(output, probed, translated == Some(1));
}

/// On Apple Silicon the GPU shares the unified memory; an x86_64 process under Rosetta on such a
/// Mac still has it, though the brand string then hides the chip (`VirtualApple …`).
fn add_apple_gpu(output: &str, probed: &mut Probed, translated: bool) {
    let chip = probed.profile.system.chip.clone();
    let apple_chip = chip.as_deref().filter(|c| c.starts_with("Apple"));
    let apple_silicon = apple_chip.is_some() || translated;
    if !apple_silicon || probed.profile.gpus_of(Vendor::Apple).next().is_some() {
        return;
    }
    let working_set = number(output, "iogpu.wired_limit_mb")
        .filter(|&mb| mb > 0)
        .map(|mb| ByteSize(mb << 20));
    let index = probed.profile.gpus.len();
    probed.profile.gpus.push(Gpu {
        name: Some(
            apple_chip.map_or_else(|| "Apple Silicon GPU".to_string(), |c| format!("{c} GPU")),
        ),
        memory: probed.profile.system.memory,
        working_set,
        ..Gpu::new(Vendor::Apple)
    });
    probed.learned(
        &format!("gpus.{index}"),
        "sysctl machdep.cpu.brand_string and hw.memsize (unified memory)",
    );
    if working_set.is_some() {
        probed.learned(
            &format!("gpus.{index}.working_set"),
            "sysctl iogpu.wired_limit_mb",
        );
    }
}

/// `ProductVersion:\t14.5` of `sw_vers` → `14.5`.
pub fn parse_sw_vers(output: &str) -> Option<String> {
    value(output, "ProductVersion")
        .filter(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn sysctl(name: &str) -> Probed {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/probe/sysctl")
            .join(name);
        let output = std::fs::read_to_string(path).unwrap();
        let mut probed = Probed::default();
        apply_sysctl(&output, &mut probed);
        probed
    }

    #[test]
    fn the_founding_macbook_has_an_apple_gpu_with_its_unified_memory() {
        let probed = sysctl("macbook-pro-m2-8gb.txt");
        let system = &probed.profile.system;
        assert_eq!(system.model.as_deref(), Some("Mac14,7"));
        assert_eq!(system.chip.as_deref(), Some("Apple M2"));
        assert_eq!(system.memory, Some(ByteSize(8 << 30)));
        assert_eq!(system.os_version.as_deref(), Some("14.5"));
        assert_eq!(system.rosetta, Some(false));
        let cores = system.cores.unwrap();
        assert_eq!((cores.physical, cores.logical), (Some(8), Some(8)));
        assert_eq!((cores.performance, cores.efficiency), (Some(4), Some(4)));
        assert_eq!(probed.profile.gpus.len(), 1);
        let gpu = &probed.profile.gpus[0];
        assert_eq!(gpu.name.as_deref(), Some("Apple M2 GPU"));
        assert_eq!(gpu.memory, Some(ByteSize(8 << 30)));
        assert_eq!(gpu.working_set, None, "0 means the default limit");
        assert!(probed.notes.is_empty(), "{:?}", probed.notes);
    }

    #[test]
    fn a_raised_wired_limit_is_the_gpu_working_set() {
        let probed = sysctl("macbook-pro-m3-max-128gb.txt");
        let gpu = &probed.profile.gpus[0];
        assert_eq!(gpu.memory, Some(ByteSize(128 << 30)));
        assert_eq!(gpu.working_set, Some(ByteSize(117964 << 20)));
        assert_eq!(probed.profile.system.cores.unwrap().performance, Some(12));
    }

    #[test]
    fn rosetta_is_reported_and_the_machine_is_arm64() {
        let probed = sysctl("mac-mini-m1-rosetta.txt");
        assert_eq!(probed.profile.system.rosetta, Some(true));
        assert_eq!(probed.profile.system.arch, Some(Arch::Arm64));
        assert_eq!(
            probed.profile.gpus[0].name.as_deref(),
            Some("Apple Silicon GPU")
        );
        assert!(
            probed.notes.iter().any(|n| n.contains("Rosetta")),
            "{:?}",
            probed.notes
        );
    }

    #[test]
    fn an_intel_mac_has_no_apple_gpu_and_no_core_kinds() {
        let probed = sysctl("imac-intel-2019.txt");
        assert!(probed.profile.gpus.is_empty());
        let cores = probed.profile.system.cores.unwrap();
        assert_eq!((cores.physical, cores.performance), (Some(6), None));
        assert_eq!(probed.profile.system.rosetta, None);
        assert_eq!(probed.profile.system.os_version, None);
    }

    #[test]
    fn reads_sw_vers() {
        let read = |name: &str| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/probe/sw_vers")
                .join(name);
            parse_sw_vers(&std::fs::read_to_string(path).unwrap())
        };
        assert_eq!(read("sonoma-14.5.txt").as_deref(), Some("14.5"));
        assert_eq!(read("catalina-10.15.7.txt").as_deref(), Some("10.15.7"));
        assert_eq!(parse_sw_vers("garbage"), None);
    }
}
