//! NVIDIA GPUs through `nvidia-smi --query-gpu`, whose CSV is stable across driver releases.

use crate::profile::{Gpu, Vendor};
use crate::size::ByteSize;

/// The fields asked for, in order. `compute_cap` needs driver 510 or newer; older drivers
/// answer the whole query with an error, so a second query without it follows.
pub const QUERY: &str = "name,memory.total,driver_version,compute_cap";
pub const QUERY_WITHOUT_CC: &str = "name,memory.total,driver_version";

/// Parses `nvidia-smi --query-gpu=QUERY --format=csv,noheader,nounits` output: one GPU a line,
/// memory in MiB. Lines that do not parse are skipped; `[N/A]` fields are unknown.
pub fn parse_query(text: &str) -> Vec<Gpu> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() < 3 || fields[0].is_empty() {
                return None;
            }
            let known = |s: &str| {
                (!s.is_empty() && !s.starts_with('[') && s != "N/A").then(|| s.to_string())
            };
            let memory = fields[1]
                .trim_end_matches("MiB")
                .trim()
                .parse::<u64>()
                .ok()
                .map(|mib| ByteSize(mib << 20));
            let driver =
                known(fields[2]).filter(|d| d.chars().all(|c| c.is_ascii_digit() || c == '.'));
            driver.as_ref()?;
            Some(Gpu {
                vendor: Vendor::Nvidia,
                name: known(fields[0]),
                memory,
                compute_capability: fields.get(3).and_then(|cc| known(cc)),
                driver_version: driver,
                cuda_version: None,
            })
        })
        .collect()
}

/// The "CUDA Version: 12.2" of plain `nvidia-smi`: the highest CUDA the driver supports.
pub fn parse_cuda_version(text: &str) -> Option<String> {
    let at = text.find("CUDA Version:")?;
    let version = text[at + "CUDA Version:".len()..]
        .split_whitespace()
        .next()?
        .trim_end_matches('|');
    version
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
        .then(|| version.to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_query_line() {
        let gpus = parse_query("NVIDIA A100-SXM4-80GB, 81920, 535.104.05, 8.0\n");
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].memory, Some(ByteSize(80 << 30)));
        assert_eq!(gpus[0].compute_capability.as_deref(), Some("8.0"));
    }

    #[test]
    fn garbage_gives_no_gpu() {
        assert!(
            parse_query("Failed to initialize NVML: Driver/library version mismatch\n").is_empty()
        );
        assert!(parse_query("\u{1}\u{2}, x, y\n").is_empty());
    }

    #[test]
    fn reads_the_cuda_version_from_the_banner() {
        let banner =
            "| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2     |";
        assert_eq!(parse_cuda_version(banner).as_deref(), Some("12.2"));
        assert_eq!(parse_cuda_version("no banner"), None);
    }
}
