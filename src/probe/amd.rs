//! AMD GPUs as ROCm sees them: the kernel's KFD topology in /sys (architecture `gfx942`, VRAM)
//! costs a few file reads and no process. `rocm-smi` (a Python tool, slow to start) runs only
//! where /dev/kfd exists but the topology cannot be read, as in some containers.

use std::path::Path;

use super::{Probed, exec};
use crate::profile::{Gpu, Vendor};
use crate::size::ByteSize;

const TOPOLOGY: &str = "/sys/class/kfd/kfd/topology";
const DRM: &str = "/sys/class/drm";

/// Adds the AMD GPUs (the kfd topology, names from rocm-smi or DRM) to the profile.
pub fn probe(probed: &mut Probed) {
    let gpus = read_topology(Path::new(TOPOLOGY), Path::new(DRM));
    if !gpus.is_empty() {
        for gpu in gpus {
            let index = probed.profile.gpus.len();
            probed.learned(&format!("gpus.{index}"), format!("{TOPOLOGY}/nodes"));
            probed.profile.gpus.push(gpu);
        }
        return;
    }
    if !Path::new("/dev/kfd").exists() {
        return;
    }
    let args = ["--showproductname", "--showmeminfo", "vram", "--json"];
    match exec::run("rocm-smi", &args) {
        Ok(output) => {
            for gpu in parse_rocm_smi(&output) {
                let index = probed.profile.gpus.len();
                probed.learned(
                    &format!("gpus.{index}"),
                    "rocm-smi --showproductname --showmeminfo vram --json",
                );
                probed.profile.gpus.push(gpu);
            }
        }
        Err(error) => probed.unknown(
            "gpus (amd)",
            format!("/dev/kfd exists but {TOPOLOGY} is unreadable and {error}"),
        ),
    }
}

/// The GPU nodes of a KFD topology (`nodes/N/properties` with a non-zero `gfx_target_version`);
/// names come from the DRM render node's `product_name` where the kernel provides one.
pub fn read_topology(topology: &Path, drm: &Path) -> Vec<Gpu> {
    let Ok(entries) = std::fs::read_dir(topology.join("nodes")) else {
        return Vec::new();
    };
    let mut nodes: Vec<(u32, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
        .collect();
    nodes.sort();
    nodes
        .iter()
        .filter_map(|(_, node)| read_node(node, drm))
        .collect()
}

fn read_node(node: &Path, drm: &Path) -> Option<Gpu> {
    let properties = crate::reader::read_small_text(&node.join("properties")).ok()?;
    let gfx_target = gfx_target(property(&properties, "gfx_target_version")?)?;
    let name = property(&properties, "drm_render_minor")
        .and_then(|minor| {
            crate::reader::read_small_text(&drm.join(format!("renderD{minor}/device/product_name")))
                .ok()
        })
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty());
    Some(Gpu {
        name: Some(name.unwrap_or_else(|| format!("AMD {gfx_target}"))),
        memory: vram(node),
        gfx_target: Some(gfx_target),
        ..Gpu::new(Vendor::Amd)
    })
}

/// The GPU's own memory: the banks of heap type 1 (public) and 2 (private framebuffer).
fn vram(node: &Path) -> Option<ByteSize> {
    let banks = std::fs::read_dir(node.join("mem_banks")).ok()?;
    let bytes: u64 = banks
        .filter_map(Result::ok)
        .filter_map(|bank| crate::reader::read_small_text(&bank.path().join("properties")).ok())
        .filter(|p| matches!(property(p, "heap_type"), Some(1 | 2)))
        .filter_map(|p| property(&p, "size_in_bytes"))
        .sum();
    (bytes > 0).then_some(ByteSize(bytes))
}

/// A numeric `key value` line of a KFD properties file.
fn property(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// KFD encodes the target as major·10000 + minor·100 + stepping, minor and stepping being hex
/// digits in the name: 90402 → `gfx942`, 90010 → `gfx90a`, 110000 → `gfx1100`. 0 is a CPU node.
pub fn gfx_target(version: u64) -> Option<String> {
    if version == 0 {
        return None;
    }
    let (major, minor, stepping) = (version / 10000, (version / 100) % 100, version % 100);
    (minor < 16 && stepping < 16).then(|| format!("gfx{major}{minor:x}{stepping:x}"))
}

/// `rocm-smi --showproductname --showmeminfo vram --json`: one object a card, keyed `card0`…
/// (key spelling varies between releases, so keys are matched without case).
pub fn parse_rocm_smi(text: &str) -> Vec<Gpu> {
    let Ok(serde_json::Value::Object(cards)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    let mut cards: Vec<_> = cards
        .iter()
        .filter(|(k, _)| k.starts_with("card"))
        .collect();
    cards.sort_by_key(|(k, _)| {
        k.trim_start_matches("card")
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    });
    cards
        .into_iter()
        .filter_map(|(_, card)| {
            let card = card.as_object()?;
            let field = |name: &str| {
                card.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.as_str())
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty() && v != "N/A")
            };
            Some(Gpu {
                name: field("Card Series"),
                memory: field("VRAM Total Memory (B)")
                    .and_then(|b| b.parse().ok())
                    .map(ByteSize),
                gfx_target: field("GFX Version").filter(|v| v.starts_with("gfx")),
                ..Gpu::new(Vendor::Amd)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/probe")
            .join(path)
    }

    #[test]
    fn reads_two_mi300x_from_the_kfd_topology_and_skips_the_cpu_node() {
        let root = fixture("kfd/mi300x-x2");
        let gpus = read_topology(&root.join("topology"), &root.join("drm"));
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].name.as_deref(), Some("AMD Instinct MI300X"));
        assert_eq!(gpus[0].gfx_target.as_deref(), Some("gfx942"));
        assert_eq!(gpus[0].memory, Some(ByteSize(206141652992)));
        assert!(read_topology(&fixture("nowhere"), &root).is_empty());
    }

    #[test]
    fn decodes_gfx_targets() {
        assert_eq!(gfx_target(90402).as_deref(), Some("gfx942"));
        assert_eq!(gfx_target(90010).as_deref(), Some("gfx90a"));
        assert_eq!(gfx_target(110000).as_deref(), Some("gfx1100"));
        assert_eq!(gfx_target(100300).as_deref(), Some("gfx1030"));
        assert_eq!(gfx_target(0), None);
    }

    #[test]
    fn reads_rocm_smi_json_and_ignores_garbage() {
        let text = std::fs::read_to_string(fixture("rocm-smi/mi210-x1.json")).unwrap();
        let gpus = parse_rocm_smi(&text);
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].name.as_deref(), Some("AMD Instinct MI210"));
        assert_eq!(gpus[0].gfx_target.as_deref(), Some("gfx90a"));
        assert_eq!(gpus[0].memory, Some(ByteSize(68702699520)));
        assert!(parse_rocm_smi("ERROR: rocm-smi not supported").is_empty());
        assert!(parse_rocm_smi("[1, 2]").is_empty());
    }
}
