//! Intel GPUs where they are cheap to see: a DRM card whose PCI vendor is Intel (8086) and whose
//! driver is i915 or xe, read from `device/uevent`. Name and memory need Level Zero, which this
//! probe does not load, so only the PCI id is named. Virtual displays (QEMU, VMware, virtio) have
//! other vendors, and a software renderer such as llvmpipe has no DRM card at all: neither is a GPU.

use std::path::Path;

use super::Probed;
use crate::profile::{Gpu, Vendor};

const DRM: &str = "/sys/class/drm";

/// Adds the Intel GPUs (DRM devices of Intel's PCI vendor) to the profile.
pub fn probe(probed: &mut Probed) {
    for gpu in read_drm(Path::new(DRM)) {
        let index = probed.profile.gpus.len();
        probed.learned(
            &format!("gpus.{index}"),
            format!("{DRM}/card*/device/uevent"),
        );
        probed.unknown(
            &format!("gpus.{index}.memory"),
            "Intel GPUs are only seen through their PCI id",
        );
        probed.profile.gpus.push(gpu);
    }
}

/// The Intel GPUs among `drm/cardN` (connectors such as `card0-HDMI-A-1` are skipped).
pub fn read_drm(drm: &Path) -> Vec<Gpu> {
    let Ok(entries) = std::fs::read_dir(drm) else {
        return Vec::new();
    };
    let mut cards: Vec<(u32, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let number = name.to_str()?.strip_prefix("card")?.parse().ok()?;
            Some((number, e.path()))
        })
        .collect();
    cards.sort();
    cards
        .iter()
        .filter_map(|(_, card)| crate::reader::read_small_text(&card.join("device/uevent")).ok())
        .filter_map(|uevent| parse_uevent(&uevent))
        .collect()
}

/// `DRIVER=xe` and `PCI_ID=8086:56A0` → an Intel GPU named by its device id.
pub fn parse_uevent(text: &str) -> Option<Gpu> {
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
    };
    let driver = value("DRIVER")?;
    let (vendor, device) = value("PCI_ID")?.split_once(':')?;
    (vendor.eq_ignore_ascii_case("8086") && matches!(driver, "i915" | "xe")).then(|| Gpu {
        name: Some(format!(
            "Intel GPU (PCI 8086:{}, {driver})",
            device.to_ascii_lowercase()
        )),
        ..Gpu::new(Vendor::Intel)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drm(name: &str) -> Vec<Gpu> {
        read_drm(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/probe/drm")
                .join(name),
        )
    }

    #[test]
    fn an_arc_laptop_has_two_intel_gpus() {
        let gpus = drm("intel-arc-laptop");
        assert_eq!(gpus.len(), 2);
        assert_eq!(
            gpus[1].name.as_deref(),
            Some("Intel GPU (PCI 8086:56a0, xe)")
        );
        assert_eq!(gpus[1].vendor, Vendor::Intel);
    }

    #[test]
    fn a_virtual_display_is_not_a_gpu() {
        assert!(drm("qemu-vm").is_empty());
        assert!(parse_uevent("garbage").is_none());
    }
}
