//! CPU features that decide whether a wheel or a kernel runs: x86 vector extensions (old
//! TensorFlow and llama.cpp builds need AVX/AVX2, some kernels AVX-512 or AMX) and Arm ones
//! (NEON, SVE, dot product, bf16). Read from `/proc/cpuinfo` on Linux and `sysctl
//! hw.optional.*` on macOS, and named alike on both, so a rule tests one name.

/// The features mlcompat reports, by the name the profile uses and the name Linux's
/// `/proc/cpuinfo` gives it (`flags` on x86, `Features` on Arm). Others are left out: the
/// profile lists what a rule may test, not the CPU's every flag.
const LINUX: [(&str, &str); 21] = [
    ("sse4_2", "sse4_2"),
    ("avx", "avx"),
    ("avx2", "avx2"),
    ("fma", "fma"),
    ("f16c", "f16c"),
    ("avx512f", "avx512f"),
    ("avx512bw", "avx512bw"),
    ("avx512vl", "avx512vl"),
    ("avx512_vnni", "avx512_vnni"),
    ("avx512_bf16", "avx512_bf16"),
    ("avx_vnni", "avx_vnni"),
    ("amx_tile", "amx_tile"),
    ("amx_bf16", "amx_bf16"),
    ("amx_int8", "amx_int8"),
    // Arm: Linux calls NEON "asimd".
    ("neon", "asimd"),
    ("fp16", "asimdhp"),
    ("dotprod", "asimddp"),
    ("i8mm", "i8mm"),
    ("bf16", "bf16"),
    ("sve", "sve"),
    ("sve2", "sve2"),
];

/// The same features by their macOS `sysctl` key (1 when present).
pub const MACOS: [(&str, &str); 12] = [
    ("sse4_2", "hw.optional.sse4_2"),
    ("avx", "hw.optional.avx1_0"),
    ("avx2", "hw.optional.avx2_0"),
    ("fma", "hw.optional.fma"),
    ("avx512f", "hw.optional.avx512f"),
    ("avx512bw", "hw.optional.avx512bw"),
    ("avx512vl", "hw.optional.avx512vl"),
    ("neon", "hw.optional.AdvSIMD"),
    ("fp16", "hw.optional.arm.FEAT_FP16"),
    ("dotprod", "hw.optional.arm.FEAT_DotProd"),
    ("i8mm", "hw.optional.arm.FEAT_I8MM"),
    ("bf16", "hw.optional.arm.FEAT_BF16"),
];

/// The features of the first processor in `/proc/cpuinfo` text (all cores of a machine have
/// the same; hybrid Intel parts report the common set).
pub fn from_cpuinfo(text: &str) -> Vec<String> {
    let Some(flags) = text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        matches!(key.trim(), "flags" | "Features").then_some(value)
    }) else {
        return Vec::new();
    };
    let present: std::collections::BTreeSet<&str> = flags.split_whitespace().collect();
    LINUX
        .iter()
        .filter(|(_, flag)| present.contains(flag))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The physical cores in `/proc/cpuinfo` text, counted as sysinfo counts them: distinct
/// (`core id`, `physical id`) pairs, or each `processor` where a block has no such ids
/// (a Raspberry Pi). `None` when there are none.
pub fn physical_cores(text: &str) -> Option<u32> {
    let mut cores: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
    let (mut core, mut package, mut processor) = ("", "", "");
    // A blank line ends a block; so does the end of the text.
    for line in text.lines().chain(std::iter::once("")) {
        if line.is_empty() {
            if !core.is_empty() && !package.is_empty() {
                cores.insert((core, package));
            } else if !processor.is_empty() {
                cores.insert(("", processor));
            }
            (core, package, processor) = ("", "", "");
        } else if line.starts_with("processor") {
            processor = value(line);
        } else if line.starts_with("core id") {
            core = value(line);
        } else if line.starts_with("physical id") {
            package = value(line);
        }
    }
    u32::try_from(cores.len()).ok().filter(|&n| n > 0)
}

/// The value of a `key : value` line, trimmed.
fn value(line: &str) -> &str {
    line.split_once(':').map_or("", |(_, v)| v.trim())
}

/// The features whose `sysctl` key says 1, from `key: value` lines.
pub fn from_sysctl(output: &str) -> Vec<String> {
    MACOS
        .iter()
        .filter(|(_, key)| {
            output.lines().any(|line| {
                line.split_once(':')
                    .is_some_and(|(k, v)| k.trim() == *key && v.trim() == "1")
            })
        })
        .map(|(name, _)| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/probe/cpuinfo")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn x86_flags_become_feature_names() {
        assert_eq!(
            from_cpuinfo(&fixture("sapphire-rapids.txt")),
            [
                "sse4_2",
                "avx",
                "avx2",
                "fma",
                "f16c",
                "avx512f",
                "avx512bw",
                "avx512vl",
                "avx512_vnni",
                "avx512_bf16",
                "avx_vnni",
                "amx_tile",
                "amx_bf16",
                "amx_int8"
            ]
        );
        assert_eq!(
            from_cpuinfo(&fixture("epyc-zen2.txt")),
            ["sse4_2", "avx", "avx2", "fma", "f16c"]
        );
    }

    #[test]
    fn arm_features_use_the_common_names() {
        assert_eq!(
            from_cpuinfo(&fixture("graviton3.txt")),
            ["neon", "fp16", "dotprod", "i8mm", "bf16", "sve"]
        );
    }

    #[test]
    fn every_name_is_one_the_profile_and_rules_know() {
        for (name, _) in LINUX.iter().chain(MACOS.iter()) {
            assert!(crate::profile::CPU_FEATURES.contains(name), "{name}");
        }
    }

    #[test]
    fn nothing_readable_is_no_features() {
        assert!(from_cpuinfo("").is_empty());
        assert_eq!(physical_cores(""), None);
        assert_eq!(
            physical_cores(
                "processor\t: 0\nphysical id\t: 0\ncore id\t: 0\n\nprocessor\t: 1\nphysical id\t: 0\ncore id\t: 0\n\nprocessor\t: 2\nphysical id\t: 0\ncore id\t: 1\n"
            ),
            Some(2)
        );
        assert_eq!(physical_cores("processor : 0\n\nprocessor : 1\n"), Some(2));
        assert!(from_cpuinfo("processor : 0\n").is_empty());
    }

    #[test]
    fn sysctl_ones_are_features() {
        let output = "hw.optional.AdvSIMD: 1\nhw.optional.arm.FEAT_BF16: 1\nhw.optional.arm.FEAT_I8MM: 0\nhw.optional.avx2_0: junk\n";
        assert_eq!(from_sysctl(output), ["neon", "bf16"]);
    }
}
