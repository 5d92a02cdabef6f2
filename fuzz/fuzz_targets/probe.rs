//! The probe's parsers of command output and system files (nvidia-smi, /proc/driver/nvidia,
//! sysctl, sw_vers, rocm-smi, sysfs uevent, python --version, pyvenv.cfg, torch/version.py):
//! the first byte picks the parser, the rest is the text it reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlcompat::probe::{Probed, amd, intel, macos, nvidia, python};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match pick % 12 {
        0 => {
            for queried in nvidia::parse_query(&text) {
                let _ = nvidia::mig_slices(&text, 0, &queried.gpu);
            }
        }
        1 => drop(nvidia::parse_cuda_version(&text)),
        2 => drop(nvidia::parse_proc_version(&text)),
        3 => drop(nvidia::parse_proc_model(&text)),
        4 => {
            let parent = mlcompat::profile::Gpu::new(mlcompat::profile::Vendor::Nvidia);
            drop(nvidia::mig_slices(&text, usize::from(pick / 12), &parent));
        }
        5 => macos::apply_sysctl(&text, &mut Probed::default()),
        6 => drop(macos::parse_sw_vers(&text)),
        7 => drop(amd::parse_rocm_smi(&text)),
        8 => drop(intel::parse_uevent(&text)),
        9 => drop(python::parse_version(&text)),
        10 => drop(python::pyvenv_version(&text)),
        _ => drop(python::parse_torch_version(&text)),
    }
});
