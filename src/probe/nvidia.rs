//! NVIDIA GPUs through `nvidia-smi --query-gpu`, whose CSV is stable across driver releases, with
//! `/proc/driver/nvidia` as the fallback where nvidia-smi is missing or broken. Every parser here
//! is a pure function over text, tested on recorded outputs in `fixtures/probe/`.

use std::ffi::OsString;
use std::path::Path;

use super::{Probed, exec};
use crate::profile::{Gpu, Vendor};
use crate::size::ByteSize;

/// The fields asked for, in order, newest first. `compute_cap` needs driver 510 or newer and an
/// older driver refuses the whole query, so the next, shorter query follows on a failure.
pub const QUERIES: [&str; 3] = [
    "name,memory.total,driver_version,compute_cap,mig.mode.current",
    "name,memory.total,driver_version,compute_cap",
    "name,memory.total,driver_version",
];

/// Where WSL 2 mounts the Windows driver's nvidia-smi; it is often not on PATH.
const WSL_NVIDIA_SMI: &str = "/usr/lib/wsl/lib/nvidia-smi";

/// Where the Linux kernel driver describes itself, with or without nvidia-smi.
pub const PROC_DRIVER: &str = "/proc/driver/nvidia";

/// One line of the query: the GPU and whether MIG splits it.
#[derive(Debug, PartialEq)]
pub struct Queried {
    /// The GPU as the query describes it.
    pub gpu: Gpu,
    /// Whether MIG splits it into instances.
    pub mig: bool,
}

/// Adds the NVIDIA GPUs, or a note saying why they are unknown. A machine with neither
/// nvidia-smi nor the kernel driver has no NVIDIA GPU and gets no note.
pub fn probe(probed: &mut Probed) {
    let program = nvidia_smi();
    match query(&program) {
        Ok((lines, fields)) => {
            let found = from_smi(probed, &program, lines, fields);
            if !found {
                from_proc(
                    probed,
                    Path::new(PROC_DRIVER),
                    "nvidia-smi printed no GPU it understands",
                );
            }
        }
        Err(exec::ExecError::NotFound(_)) => from_proc(probed, Path::new(PROC_DRIVER), ""),
        Err(error) => from_proc(probed, Path::new(PROC_DRIVER), &error.to_string()),
    }
}

/// `nvidia-smi` from PATH, else the WSL one where it exists.
fn nvidia_smi() -> OsString {
    if cfg!(target_os = "linux") && Path::new(WSL_NVIDIA_SMI).is_file() && !on_path("nvidia-smi") {
        return OsString::from(WSL_NVIDIA_SMI);
    }
    OsString::from("nvidia-smi")
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.is_absolute() && dir.join(name).is_file())
    })
}

/// Runs the query, falling back to shorter ones only when the tool ran and refused it (an old
/// driver), never after a timeout, so a hung nvidia-smi costs one time limit, not three.
fn query(program: &OsString) -> Result<(String, &'static str), exec::ExecError> {
    let mut last = None;
    for fields in QUERIES {
        let format = format!("--query-gpu={fields}");
        match exec::run(program, &[&format, "--format=csv,noheader,nounits"]) {
            Ok(output) => return Ok((output, fields)),
            Err(error @ exec::ExecError::Failed { .. }) => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| exec::ExecError::NotFound("nvidia-smi".into())))
}

/// Applies a successful query; false when it named no GPU.
fn from_smi(probed: &mut Probed, program: &OsString, output: String, fields: &str) -> bool {
    let queried = parse_query(&output);
    if queried.is_empty() {
        return false;
    }
    let command = format!("{} --query-gpu={fields}", program.to_string_lossy());
    let cuda = exec::run(program, &[])
        .ok()
        .and_then(|banner| parse_cuda_version(&banner));
    let mig_list = if queried.iter().any(|q| q.mig) {
        exec::run(program, &["-L"]).ok()
    } else {
        None
    };
    for (index, Queried { mut gpu, mig }) in queried.into_iter().enumerate() {
        gpu.cuda_version = cuda.clone();
        let slices = mig
            .then(|| {
                mig_list
                    .as_deref()
                    .map(|list| mig_slices(list, index, &gpu))
            })
            .flatten()
            .unwrap_or_default();
        if slices.is_empty() {
            push_gpu(probed, gpu, &command, cuda.is_some());
        } else {
            probed.notes.push(format!(
                "GPU {index} is split by MIG into {} instances; each is listed as a GPU with its nominal memory",
                slices.len()
            ));
            for slice in slices {
                push_gpu(
                    probed,
                    slice,
                    &format!("{command} and nvidia-smi -L (MIG)"),
                    cuda.is_some(),
                );
            }
        }
    }
    true
}

fn push_gpu(probed: &mut Probed, gpu: Gpu, command: &str, cuda_known: bool) {
    let index = probed.profile.gpus.len();
    probed.learned(&format!("gpus.{index}"), command.to_string());
    if !cuda_known {
        probed.unknown(
            &format!("gpus.{index}.cuda_version"),
            "plain `nvidia-smi` printed no \"CUDA Version\"",
        );
    }
    probed.profile.gpus.push(gpu);
}

/// Reads name and driver from `/proc/driver/nvidia` (memory and CUDA version stay unknown).
/// `why` is what went wrong with nvidia-smi; empty when it is simply not installed.
fn from_proc(probed: &mut Probed, root: &Path, why: &str) {
    let gpus = read_proc(root);
    if gpus.is_empty() {
        if !why.is_empty() {
            probed.unknown("gpus (nvidia)", why);
        }
        return;
    }
    let reason = if why.is_empty() {
        "nvidia-smi is not installed".to_string()
    } else {
        why.to_string()
    };
    for gpu in gpus {
        let index = probed.profile.gpus.len();
        probed.learned(&format!("gpus.{index}"), format!("{}", root.display()));
        probed.unknown(
            &format!("gpus.{index}.memory and cuda_version"),
            format!("{reason}, and {} does not say", root.display()),
        );
        probed.profile.gpus.push(gpu);
    }
}

/// The GPUs the kernel driver lists under `root` (`version` and `gpus/*/information`).
pub fn read_proc(root: &Path) -> Vec<Gpu> {
    let driver = crate::reader::read_small_text(&root.join("version"))
        .ok()
        .and_then(|text| parse_proc_version(&text));
    let Ok(entries) = std::fs::read_dir(root.join("gpus")) else {
        return Vec::new();
    };
    let mut folders: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    folders.sort();
    folders
        .iter()
        .filter_map(|folder| crate::reader::read_small_text(&folder.join("information")).ok())
        .map(|information| Gpu {
            name: parse_proc_model(&information),
            driver_version: driver.clone(),
            ..Gpu::new(Vendor::Nvidia)
        })
        .collect()
}

/// `NVRM version: NVIDIA UNIX … Kernel Module  550.54.14  Release Build …` → `550.54.14`.
pub fn parse_proc_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    line.split_whitespace()
        .find(|word| is_version(word) && word.contains('.'))
        .map(str::to_string)
}

/// `Model: \t\t NVIDIA L40S` → `NVIDIA L40S`.
pub fn parse_proc_model(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "Model")
            .then(|| value.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

fn is_version(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Parses `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` output (any of [`QUERIES`]):
/// one GPU a line, memory in MiB. A line without a plausible driver version is not a GPU (error
/// messages, garbage); `[N/A]` fields are unknown.
pub fn parse_query(text: &str) -> Vec<Queried> {
    text.lines().filter_map(parse_query_line).collect()
}

fn parse_query_line(line: &str) -> Option<Queried> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() < 3 || fields[0].is_empty() {
        return None;
    }
    let known =
        |s: &str| (!s.is_empty() && !s.starts_with('[') && s != "N/A").then(|| s.to_string());
    let driver = known(fields[2]).filter(|d| is_version(d) && d.contains('.'))?;
    let memory = fields[1]
        .trim_end_matches("MiB")
        .trim()
        .parse::<u64>()
        .ok()
        .map(|mib| ByteSize(mib << 20));
    let compute_capability = fields
        .get(3)
        .and_then(|cc| known(cc))
        .filter(|cc| is_version(cc));
    Some(Queried {
        gpu: Gpu {
            name: known(fields[0]),
            memory,
            compute_capability,
            driver_version: Some(driver),
            ..Gpu::new(Vendor::Nvidia)
        },
        mig: fields.get(4).is_some_and(|mode| *mode == "Enabled"),
    })
}

/// The "CUDA Version: 12.2" of plain `nvidia-smi`: the highest CUDA the driver supports.
pub fn parse_cuda_version(text: &str) -> Option<String> {
    let at = text.find("CUDA Version:")?;
    let version = text[at + "CUDA Version:".len()..]
        .split_whitespace()
        .next()?
        .trim_end_matches('|');
    is_version(version).then(|| version.to_string())
}

/// The MIG instances `nvidia-smi -L` lists under GPU `index`, each as a GPU named after its
/// parent and profile (`… MIG 3g.40gb`) with the profile's nominal memory (`40gb`): a CUDA
/// process given one instance sees that much, not the whole card.
pub fn mig_slices(list: &str, index: usize, parent: &Gpu) -> Vec<Gpu> {
    let header = format!("GPU {index}:");
    let mut lines = list.lines().skip_while(|line| !line.starts_with(&header));
    if lines.next().is_none() {
        return Vec::new();
    }
    lines
        .take_while(|line| !line.starts_with("GPU "))
        .filter_map(|line| line.trim().strip_prefix("MIG "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|profile| Gpu {
            name: Some(match &parent.name {
                Some(name) => format!("{name} MIG {profile}"),
                None => format!("MIG {profile}"),
            }),
            memory: profile
                .rsplit_once('.')
                .and_then(|(_, size)| size.strip_suffix("gb"))
                .and_then(|gb| gb.parse::<u64>().ok())
                .map(|gb| ByteSize(gb << 30)),
            ..parent.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/probe")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn reads_two_a100s_and_the_cuda_version_of_their_driver() {
        let gpus = parse_query(&fixture("nvidia-smi/a100-x2.csv"));
        assert_eq!(gpus.len(), 2);
        let gpu = &gpus[1].gpu;
        assert_eq!(gpu.name.as_deref(), Some("NVIDIA A100-SXM4-80GB"));
        assert_eq!(gpu.memory, Some(ByteSize(80 << 30)));
        assert_eq!(gpu.compute_capability.as_deref(), Some("8.0"));
        assert_eq!(gpu.driver_version.as_deref(), Some("535.104.05"));
        assert!(!gpus[0].mig);
        let banner = fixture("nvidia-smi/a100-x2-banner.txt");
        assert_eq!(parse_cuda_version(&banner).as_deref(), Some("12.2"));
    }

    #[test]
    fn a_gpu_split_by_mig_becomes_its_instances() {
        let gpus = parse_query(&fixture("nvidia-smi/h100-mig.csv"));
        assert!(gpus[0].mig);
        let slices = mig_slices(&fixture("nvidia-smi/h100-mig-list.txt"), 0, &gpus[0].gpu);
        let names: Vec<_> = slices.iter().filter_map(|g| g.name.as_deref()).collect();
        assert_eq!(
            names,
            [
                "NVIDIA H100 80GB HBM3 MIG 3g.40gb",
                "NVIDIA H100 80GB HBM3 MIG 1g.10gb",
                "NVIDIA H100 80GB HBM3 MIG 1g.10gb"
            ]
        );
        assert_eq!(slices[0].memory, Some(ByteSize(40 << 30)));
        assert_eq!(slices[0].compute_capability.as_deref(), Some("9.0"));
        assert!(mig_slices(&fixture("nvidia-smi/h100-mig-list.txt"), 1, &gpus[0].gpu).is_empty());
        let banner = fixture("nvidia-smi/h100-mig-banner.txt");
        assert_eq!(parse_cuda_version(&banner).as_deref(), Some("13.0"));
    }

    #[test]
    fn reads_the_wsl_driver_and_an_old_driver_without_compute_capability() {
        let wsl = parse_query(&fixture("nvidia-smi/wsl-rtx4090.csv"));
        assert_eq!(wsl[0].gpu.memory, Some(ByteSize(24564 << 20)));
        assert_eq!(wsl[0].gpu.compute_capability.as_deref(), Some("8.9"));
        assert!(!wsl[0].mig);
        let old = parse_query(&fixture("nvidia-smi/k80-x2-without-cc.csv"));
        assert_eq!(old.len(), 2);
        assert_eq!(old[0].gpu.compute_capability, None);
        assert_eq!(old[0].gpu.name.as_deref(), Some("Tesla K80"));
    }

    #[test]
    fn errors_and_garbage_give_no_gpu() {
        assert!(parse_query(&fixture("nvidia-smi/nvml-mismatch.txt")).is_empty());
        assert!(parse_query(&fixture("nvidia-smi/old-driver-error.txt")).is_empty());
        assert!(parse_query("\u{1}\u{2}, x, y\n,,,\n").is_empty());
        assert_eq!(parse_cuda_version("CUDA Version: ??"), None);
        assert_eq!(parse_cuda_version("no banner"), None);
    }

    #[test]
    fn the_kernel_driver_names_gpus_when_nvidia_smi_is_missing() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/probe/proc-driver-nvidia");
        let gpus = read_proc(&root);
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].name.as_deref(), Some("NVIDIA L40S"));
        assert_eq!(gpus[0].driver_version.as_deref(), Some("550.54.14"));
        assert_eq!(gpus[0].memory, None);
        assert!(read_proc(Path::new("/nonexistent/mlcompat")).is_empty());
    }
}
