//! Reads this machine into a [`Profile`]. No rules, no printing. Every command it runs goes
//! through [`exec`] with a time limit; whatever cannot be learned stays unknown, with a note.
//! Every value says where it came from ([`Probed::sources`]), for `mlcompat probe --explain`.

pub mod amd;
pub mod cpu;
pub mod exec;
pub mod explain;
pub mod intel;
pub mod linux;
pub mod macos;
pub mod nvidia;
pub mod python;

use std::path::{Path, PathBuf};

use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use crate::profile::{self, Arch, Cores, Os, Profile};
use crate::size::ByteSize;

/// What the probe is told from outside.
#[derive(Clone, Debug, Default)]
pub struct ProbeOptions {
    /// The interpreter to describe instead of the active one.
    pub python: Option<PathBuf>,
    /// The project being audited: nothing under it is ever run, because its files are not
    /// trusted (a `python` there could be anything).
    pub project: Option<PathBuf>,
}

/// A profile and what the probe could not learn, for `--explain` and the report's notes.
#[derive(Clone, Debug, Default)]
pub struct Probed {
    /// The machine as far as the probe could read it.
    pub profile: Profile,
    /// What could not be learned, and why, in words for the report.
    pub notes: Vec<String>,
    /// Where each value came from, or why it is unknown, in the order they were read.
    pub sources: Vec<Source>,
}

/// Where one field of the profile came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// A dotted path into the profile: `system.memory`, `gpus.0`, `python.version`.
    pub field: String,
    /// A file or command, or `unknown because …`.
    pub origin: String,
}

impl Probed {
    /// Records that `field` was read from `origin` (a file or a command).
    pub fn learned(&mut self, field: &str, origin: impl Into<String>) {
        self.sources.push(Source {
            field: field.to_string(),
            origin: origin.into(),
        });
    }

    /// Records that `field` is unknown, with a note for the report.
    pub fn unknown(&mut self, field: &str, why: impl std::fmt::Display) {
        self.notes.push(format!("{field} unknown: {why}"));
        self.sources.push(Source {
            field: field.to_string(),
            origin: format!("unknown because {why}"),
        });
    }
}

/// Reads this machine: system, GPUs, Python; never runs anything from `options.project`.
pub fn probe(options: &ProbeOptions) -> Probed {
    if let Some(project) = &options.project {
        // The project's folder (a file's parent): no tool or interpreter is started from it.
        let folder = if project.is_file() {
            project
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        } else {
            project.as_path()
        };
        exec::distrust(folder);
    }
    let mut probed = Probed {
        profile: Profile {
            schema_version: profile::SCHEMA_VERSION,
            ..Profile::default()
        },
        ..Probed::default()
    };
    system(&mut probed);
    match probed.profile.system.os {
        Some(Os::Macos) => macos::probe(&mut probed),
        Some(Os::Linux) => {
            linux::probe(&mut probed);
            nvidia::probe(&mut probed);
            amd::probe(&mut probed);
            intel::probe(&mut probed);
        }
        _ => nvidia::probe(&mut probed),
    }
    if probed.profile.gpus.is_empty() {
        let looked = match probed.profile.system.os {
            Some(Os::Linux) => {
                "nvidia-smi, /proc/driver/nvidia, /sys/class/kfd and /sys/class/drm show none"
            }
            Some(Os::Macos) => "sysctl shows no Apple Silicon chip",
            _ => "nvidia-smi shows none",
        };
        probed.learned("gpus", looked);
    }
    python::probe(options, &mut probed);
    probed
}

/// OS, architecture, CPU brand, cores and RAM through sysinfo: no process list is read.
fn system(probed: &mut Probed) {
    let system = &mut probed.profile.system;
    system.os = match std::env::consts::OS {
        "macos" => Some(Os::Macos),
        "linux" => Some(Os::Linux),
        "windows" => Some(Os::Windows),
        _ => None,
    };
    system.arch = match std::env::consts::ARCH {
        "aarch64" => Some(Arch::Arm64),
        "x86_64" => Some(Arch::X86_64),
        _ => None,
    };
    // On Linux the version comes from os-release, read once with the distro (linux.rs).
    if !cfg!(target_os = "linux") {
        system.os_version = System::os_version().ok();
    }
    let from = if cfg!(target_os = "linux") {
        [
            "sysinfo (/etc/os-release)",
            "sysinfo (/proc/cpuinfo)",
            "sysinfo (/proc/meminfo)",
        ]
    } else {
        ["sysinfo", "sysinfo", "sysinfo"]
    };
    probed.learned("system.os", "the build target of this mlcompat");
    probed.learned("system.arch", "the build target of this mlcompat");
    if probed.profile.system.os_version.is_some() {
        probed.learned("system.os_version", from[0]);
    }
    let Ok(sys) = System::new_with_specifics(
        RefreshKind::nothing()
            .with_memory(MemoryRefreshKind::nothing().with_ram())
            .with_cpu(CpuRefreshKind::nothing()),
    ) else {
        probed.unknown("system", "sysinfo could not read this system");
        return;
    };
    let system = &mut probed.profile.system;
    system.chip = sys
        .cpus()
        .first()
        .map(|cpu| cpu.brand().trim().to_string())
        .filter(|brand| !brand.is_empty());
    let logical = u32::try_from(sys.cpus().len()).ok().filter(|&n| n > 0);
    // On Linux counted from /proc/cpuinfo, read once with the CPU features (linux.rs).
    let physical = if cfg!(target_os = "linux") {
        None
    } else {
        System::physical_core_count()
            .ok()
            .and_then(|n| u32::try_from(n).ok())
    };
    system.cores = Some(Cores {
        physical,
        logical,
        ..Cores::default()
    });
    system.memory = Some(ByteSize(sys.total_memory())).filter(|m| m.0 > 0);
    let memory_known = system.memory.is_some();
    let chip_known = system.chip.is_some();
    probed.learned("system.cores", from[1]);
    if chip_known {
        probed.learned("system.chip", from[1]);
    }
    if memory_known {
        probed.learned("system.memory", from[2]);
    } else {
        probed.unknown("system.memory", "sysinfo reported no RAM");
    }
}
