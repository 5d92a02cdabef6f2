//! Reads this machine into a [`Profile`]. No rules, no printing. Every command it runs goes
//! through [`exec`] with a time limit; whatever cannot be learned stays unknown, with a note.

pub mod exec;
pub mod macos;
pub mod nvidia;
pub mod python;

use std::path::PathBuf;

use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use crate::profile::{self, Arch, Cores, Os, Profile};
use crate::size::ByteSize;

#[derive(Clone, Debug, Default)]
pub struct ProbeOptions {
    /// The interpreter to describe instead of the active one.
    pub python: Option<PathBuf>,
}

/// A profile and what the probe could not learn, for `--explain` and the report's notes.
#[derive(Clone, Debug, Default)]
pub struct Probed {
    pub profile: Profile,
    pub notes: Vec<String>,
}

pub fn probe(options: &ProbeOptions) -> Probed {
    let mut probed = Probed {
        profile: Profile {
            schema_version: profile::SCHEMA_VERSION,
            ..Profile::default()
        },
        notes: Vec::new(),
    };
    system(&mut probed);
    if probed.profile.system.os == Some(Os::Macos) {
        macos::probe(&mut probed);
    }
    nvidia_gpus(&mut probed);
    probed.profile.python = python::probe(options.python.as_deref(), &mut probed.notes);
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
    system.os_version = System::os_version().ok();
    let Ok(sys) = System::new_with_specifics(
        RefreshKind::nothing()
            .with_memory(MemoryRefreshKind::nothing().with_ram())
            .with_cpu(CpuRefreshKind::nothing()),
    ) else {
        probed
            .notes
            .push("system information could not be read".to_string());
        return;
    };
    system.chip = sys
        .cpus()
        .first()
        .map(|cpu| cpu.brand().trim().to_string())
        .filter(|brand| !brand.is_empty());
    let logical = u32::try_from(sys.cpus().len()).ok().filter(|&n| n > 0);
    let physical = System::physical_core_count()
        .ok()
        .and_then(|n| u32::try_from(n).ok());
    system.cores = Some(Cores { physical, logical });
    system.memory = Some(ByteSize(sys.total_memory())).filter(|m| m.0 > 0);
}

fn nvidia_gpus(probed: &mut Probed) {
    let query = |fields: &str| {
        exec::run(
            "nvidia-smi",
            &[
                &format!("--query-gpu={fields}"),
                "--format=csv,noheader,nounits",
            ],
        )
    };
    let output = match query(nvidia::QUERY).or_else(|_| query(nvidia::QUERY_WITHOUT_CC)) {
        Ok(output) => output,
        Err(exec::ExecError::NotFound(_)) => return,
        Err(error) => {
            probed.notes.push(format!("NVIDIA GPUs unknown: {error}"));
            return;
        }
    };
    let mut gpus = nvidia::parse_query(&output);
    if gpus.is_empty() {
        probed.notes.push(
            "NVIDIA GPUs unknown: nvidia-smi printed nothing mlcompat understands".to_string(),
        );
        return;
    }
    let cuda = exec::run("nvidia-smi", &[])
        .ok()
        .and_then(|banner| nvidia::parse_cuda_version(&banner));
    for gpu in &mut gpus {
        gpu.cuda_version = cuda.clone();
    }
    probed.profile.gpus.extend(gpus);
}
