//! Wheel compatibility tags (PEP 425, PEP 600, PEP 656, and packaging's macOS rules): which wheel
//! file an installer on a [`Target`] may install, and how much it prefers it.
//!
//! Hand-written: the maintained implementation in Rust is uv's `uv-platform-tags`, published
//! as "an internal component crate of uv" at 0.0.x with a new version every uv release; this
//! module needs only matching, not uv's whole tag model, and is tested against packaging's rules.

use super::target::{Implementation, Libc, Target};
use crate::profile::{Arch, Os};

/// The three tag sets of a wheel file name, each possibly a `.`-joined set
/// (`py2.py3-none-any`, `cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelTag {
    /// Interpreter tags: `cp313`, `py3`.
    pub python: Vec<String>,
    /// ABI tags: `cp313`, `abi3`, `none`.
    pub abi: Vec<String>,
    /// Platform tags: `manylinux_2_17_x86_64`, `macosx_11_0_arm64`, `win_amd64`, `any`.
    pub platform: Vec<String>,
}

/// Why and how well a wheel fits: lower `rank` is preferred, as an installer prefers the most
/// specific wheel (`cp313-cp313` over `cp38-abi3` over `py3-none-any`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// Lower is preferred.
    pub rank: u32,
    /// The glibc the wheel needs (`manylinux_2_28` → `(2, 28)`), on Linux.
    pub glibc: Option<(u32, u32)>,
    /// The macOS the wheel needs (`macosx_14_0_arm64` → `(14, 0)`).
    pub macos: Option<(u32, u32)>,
}

impl WheelTag {
    /// Parses `python-abi-platform`.
    pub fn parse(triple: &str) -> Option<WheelTag> {
        let mut parts = triple.split('-');
        let (python, abi, platform) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || [python, abi, platform].iter().any(|p| p.is_empty()) {
            return None;
        }
        let split = |set: &str| set.split('.').map(str::to_ascii_lowercase).collect();
        Some(WheelTag {
            python: split(python),
            abi: split(abi),
            platform: split(platform),
        })
    }

    /// How well the wheel fits `target` (the best of its expanded tags), or `None` if it does not
    /// install there. An unknown libc is taken as [`super::target::ASSUMED_GLIBC`]; an unknown
    /// macOS version as new enough.
    pub fn fit(&self, target: &Target) -> Option<Fit> {
        let mut best: Option<Fit> = None;
        for python in &self.python {
            for abi in &self.abi {
                let Some(interpreter) = interpreter_rank(python, abi, target) else {
                    continue;
                };
                for platform in &self.platform {
                    let Some(place) = platform_fit(platform, target) else {
                        continue;
                    };
                    let fit = Fit {
                        rank: interpreter * 1000 + place.rank,
                        ..place
                    };
                    if best.is_none_or(|b| fit.rank < b.rank) {
                        best = Some(fit);
                    }
                }
            }
        }
        best
    }
}

/// Splits a wheel file name into its version and its `python-abi-platform` tag:
/// `torch-2.1.2-cp311-cp311-manylinux1_x86_64.whl` → `("2.1.2", "cp311-cp311-manylinux1_x86_64")`.
/// A build tag (`-1-`) is dropped. `None` for anything that is not a wheel name.
pub fn split_wheel_filename(filename: &str) -> Option<(&str, String)> {
    let stem = filename.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if !(5..=6).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let n = parts.len();
    Some((
        parts[1],
        format!("{}-{}-{}", parts[n - 3], parts[n - 2], parts[n - 1]),
    ))
}

/// `cp313` → `(3, Some(13))`, `cp3` → `(3, None)`, `py2` → `(2, None)`; for `cp`/`py` prefixes.
fn python_version(tag: &str, prefix: &str) -> Option<(u64, Option<u64>)> {
    let digits = tag.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let major = u64::from(digits.as_bytes()[0] - b'0');
    let minor = if digits.len() > 1 {
        Some(digits[1..].parse().ok()?)
    } else {
        None
    };
    Some((major, minor))
}

/// The rank of a python/abi pair on the target (lower is better), as packaging orders
/// `sys_tags()`: `cp313-cp313`, then `cp313-abi3` and older `cp3X-abi3`, then `cp313-none`, then
/// `py3X-none`. Free-threaded CPython has its own ABI (`cp313t`) and cannot load `abi3` wheels.
fn interpreter_rank(python: &str, abi: &str, target: &Target) -> Option<u32> {
    let (major, minor) = target.python_minor();
    if target.implementation == Implementation::CPython
        && let Some((m, Some(n))) = python_version(python, "cp")
    {
        let exact = m == major && n == minor;
        let own_abi = if target.free_threaded {
            format!("cp{major}{minor}t")
        } else {
            format!("cp{major}{minor}")
        };
        // Python 3.7 and older spelled the ABI with a pymalloc `m` (`cp37m`).
        let legacy_abi = (major == 3 && minor <= 7 && !target.free_threaded)
            .then(|| format!("cp{major}{minor}m"));
        if exact && (abi == own_abi || legacy_abi.as_deref() == Some(abi)) {
            return Some(0);
        }
        // The stable ABI: `cp38-abi3` loads on every CPython 3.x from 3.8 (3.2 began it).
        if abi == "abi3" && !target.free_threaded && m == major && n >= 2 && n <= minor {
            return Some(1 + (minor - n) as u32);
        }
        if exact && abi == "none" {
            return Some(100);
        }
        return None;
    }
    if abi != "none" {
        return None;
    }
    let (m, n) = python_version(python, "py")?;
    if m != major {
        return None;
    }
    match n {
        Some(n) if n == minor => Some(200),
        None => Some(201),
        Some(n) if n < minor => Some(202 + (minor - n) as u32),
        Some(_) => None,
    }
}

/// Whether a platform tag installs on the target, with the libc or macOS floor it needs.
fn platform_fit(platform: &str, target: &Target) -> Option<Fit> {
    let plain = |rank| {
        Some(Fit {
            rank,
            glibc: None,
            macos: None,
        })
    };
    if platform == "any" {
        return plain(999);
    }
    match target.os {
        Os::Windows => match (platform, target.arch) {
            ("win_amd64", Arch::X86_64) | ("win_arm64", Arch::Arm64) => plain(0),
            _ => None,
        },
        Os::Linux => linux_fit(platform, target),
        Os::Macos => macos_fit(platform, target),
    }
}

/// `manylinux_2_28_x86_64`, the legacy aliases (`manylinux1` = 2.5, `manylinux2010` = 2.12,
/// `manylinux2014` = 2.17), `musllinux_1_2_aarch64`, and plain `linux_x86_64`.
fn linux_fit(platform: &str, target: &Target) -> Option<Fit> {
    let arch = match target.arch {
        Arch::X86_64 => "x86_64",
        Arch::Arm64 => "aarch64",
    };
    let rest = platform.strip_suffix(arch)?.strip_suffix('_')?;
    let libc = target.effective_libc();
    let floor = match rest {
        "manylinux1" => Some((false, (2, 5))),
        "manylinux2010" => Some((false, (2, 12))),
        "manylinux2014" => Some((false, (2, 17))),
        "linux" => None,
        _ => {
            let (musl, version) = if let Some(v) = rest.strip_prefix("manylinux_") {
                (false, v)
            } else {
                (true, rest.strip_prefix("musllinux_")?)
            };
            let (x, y) = version.split_once('_')?;
            Some((musl, (x.parse().ok()?, y.parse().ok()?)))
        }
    };
    // manylinux1 and manylinux2010 were only ever defined for x86 (PEP 513, PEP 571).
    if matches!(rest, "manylinux1" | "manylinux2010") && target.arch != Arch::X86_64 {
        return None;
    }
    match (floor, libc) {
        // A bare `linux_*` wheel is accepted by pip (PyPI refuses to host them).
        (None, _) => Some(Fit {
            rank: 500,
            glibc: None,
            macos: None,
        }),
        (Some((false, need)), Libc::Glibc(a, b)) if need.0 == a && need <= (a, b) => Some(Fit {
            // A newer floor means a more specific build: preferred, as packaging orders them.
            rank: 100 - need.1.min(99),
            glibc: Some(need),
            macos: None,
        }),
        (Some((true, need)), Libc::Musl(a, b)) if need.0 == a && need <= (a, b) => Some(Fit {
            rank: 100 - need.1.min(99),
            glibc: None,
            macos: None,
        }),
        _ => None,
    }
}

/// `macosx_X_Y_ARCH`. From macOS 11 on, each yearly release bumps the major version, so only
/// the major is compared (`macosx_14_0` installs on 14.x and later); a `10_Y` floor compares
/// both. Apple-silicon Macs take `arm64` and `universal2`; Intel Macs `x86_64`, `intel`,
/// `universal2` and the older fat formats. An unknown macOS version meets every floor.
fn macos_fit(platform: &str, target: &Target) -> Option<Fit> {
    let rest = platform.strip_prefix("macosx_")?;
    let mut parts = rest.splitn(3, '_');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next()?.parse().ok()?;
    let arch = parts.next()?;
    let arch_rank = match (target.arch, arch) {
        (Arch::Arm64, "arm64") | (Arch::X86_64, "x86_64") => 0,
        (_, "universal2") => 1,
        (Arch::X86_64, "intel" | "fat64" | "fat3" | "universal") => 2,
        _ => return None,
    };
    if let Some((have_major, have_minor)) = target.macos {
        let fits = if major >= 11 {
            major <= have_major
        } else if major == 10 {
            have_major >= 11 || minor <= have_minor
        } else {
            false
        };
        if !fits {
            return None;
        }
    }
    // Newer floors are more specific builds; packaging lists them first.
    let age = if major >= 11 {
        100u32.saturating_sub(major)
    } else {
        100 + 20u32.saturating_sub(minor)
    };
    Some(Fit {
        rank: age * 4 + arch_rank,
        glibc: None,
        macos: Some((major, minor)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::target::Target;

    fn fits(triple: &str, target: &Target) -> bool {
        WheelTag::parse(triple).unwrap().fit(target).is_some()
    }

    fn mac(python: &str, arch: Arch, version: (u32, u32)) -> Target {
        Target {
            macos: Some(version),
            ..Target::cpython(python, Os::Macos, arch).unwrap()
        }
    }

    fn linux(python: &str, arch: Arch, libc: Option<Libc>) -> Target {
        Target {
            libc,
            ..Target::cpython(python, Os::Linux, arch).unwrap()
        }
    }

    #[test]
    fn wheel_file_names_split_into_version_and_tag() {
        assert_eq!(
            split_wheel_filename("torch-2.1.2-cp311-cp311-manylinux1_x86_64.whl"),
            Some(("2.1.2", "cp311-cp311-manylinux1_x86_64".to_string()))
        );
        assert_eq!(
            split_wheel_filename("pkg-1.0-1-py3-none-any.whl"),
            Some(("1.0", "py3-none-any".to_string()))
        );
        assert_eq!(split_wheel_filename("pkg-1.0.tar.gz"), None);
        assert_eq!(split_wheel_filename("pkg-1.0-py3-none.whl"), None);
        assert_eq!(split_wheel_filename("pkg--1.0-py3-none-any.whl"), None);
    }

    #[test]
    fn interpreter_and_abi() {
        let t = linux("3.13.5", Arch::X86_64, None);
        assert!(fits("cp313-cp313-manylinux_2_17_x86_64", &t));
        assert!(!fits("cp312-cp312-manylinux_2_17_x86_64", &t));
        assert!(!fits("cp314-cp314-manylinux_2_17_x86_64", &t));
        // The stable ABI loads on every later CPython 3.
        assert!(fits("cp38-abi3-manylinux_2_17_x86_64", &t));
        assert!(!fits("cp314-abi3-manylinux_2_17_x86_64", &t));
        assert!(fits("py3-none-any", &t));
        assert!(fits("py2.py3-none-any", &t));
        assert!(!fits("py2-none-any", &t));
        assert!(fits("py38-none-any", &t));
        assert!(!fits("py314-none-any", &t));
        assert!(fits("cp313-none-any", &t));
        // A free-threaded wheel is not for the normal interpreter, and the reverse.
        assert!(!fits("cp313-cp313t-manylinux_2_17_x86_64", &t));
        let ft = Target {
            free_threaded: true,
            ..t.clone()
        };
        assert!(fits("cp313-cp313t-manylinux_2_17_x86_64", &ft));
        assert!(!fits("cp313-cp313-manylinux_2_17_x86_64", &ft));
        assert!(!fits("cp38-abi3-manylinux_2_17_x86_64", &ft));
        assert!(fits("py3-none-any", &ft));
        // Python 3.7's ABI carried pymalloc's m.
        let old = linux("3.7.9", Arch::X86_64, None);
        assert!(fits("cp37-cp37m-manylinux1_x86_64", &old));
        // Other implementations take pure-Python wheels only.
        let other = Target {
            implementation: Implementation::Other,
            ..t.clone()
        };
        assert!(!fits("cp313-cp313-manylinux_2_17_x86_64", &other));
        assert!(fits("py3-none-any", &other));
    }

    #[test]
    fn the_most_specific_wheel_ranks_first() {
        let t = linux("3.13.5", Arch::X86_64, Some(Libc::Glibc(2, 35)));
        let rank = |triple: &str| WheelTag::parse(triple).unwrap().fit(&t).unwrap().rank;
        assert!(
            rank("cp313-cp313-manylinux_2_17_x86_64") < rank("cp38-abi3-manylinux_2_17_x86_64")
        );
        assert!(rank("cp311-abi3-manylinux_2_17_x86_64") < rank("cp38-abi3-manylinux_2_17_x86_64"));
        assert!(rank("cp38-abi3-manylinux_2_17_x86_64") < rank("py3-none-any"));
        assert!(
            rank("cp313-cp313-manylinux_2_28_x86_64") < rank("cp313-cp313-manylinux_2_17_x86_64")
        );
    }

    #[test]
    fn manylinux_needs_its_glibc() {
        let old = linux("3.11.4", Arch::X86_64, Some(Libc::Glibc(2, 17)));
        let new = linux("3.11.4", Arch::X86_64, Some(Libc::Glibc(2, 35)));
        let unknown = linux("3.11.4", Arch::X86_64, None);
        for t in [&old, &new, &unknown] {
            assert!(fits("cp311-cp311-manylinux1_x86_64", t));
            assert!(fits("cp311-cp311-manylinux2010_x86_64", t));
            assert!(fits("cp311-cp311-manylinux2014_x86_64", t));
            assert!(fits("cp311-cp311-manylinux_2_17_x86_64", t));
        }
        assert!(!fits("cp311-cp311-manylinux_2_28_x86_64", &old));
        assert!(fits("cp311-cp311-manylinux_2_28_x86_64", &new));
        // Unknown glibc is 2.17.
        assert!(!fits("cp311-cp311-manylinux_2_28_x86_64", &unknown));
        let fit = WheelTag::parse("cp311-cp311-manylinux_2_28_x86_64")
            .unwrap()
            .fit(&new)
            .unwrap();
        assert_eq!(fit.glibc, Some((2, 28)));
        // Architecture, and the x86-only legacy tags.
        let arm = linux("3.11.4", Arch::Arm64, Some(Libc::Glibc(2, 35)));
        assert!(fits("cp311-cp311-manylinux2014_aarch64", &arm));
        assert!(fits("cp311-cp311-manylinux_2_28_aarch64", &arm));
        assert!(!fits("cp311-cp311-manylinux2014_x86_64", &arm));
        assert!(!fits("cp311-cp311-manylinux1_aarch64", &arm));
        assert!(fits("cp311-cp311-linux_aarch64", &arm));
        // The compressed set matches through any of its platforms.
        assert!(fits(
            "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
            &old
        ));
    }

    #[test]
    fn musllinux_is_for_musl_only() {
        let musl = linux("3.12.1", Arch::X86_64, Some(Libc::Musl(1, 2)));
        let glibc = linux("3.12.1", Arch::X86_64, Some(Libc::Glibc(2, 39)));
        assert!(fits("cp312-cp312-musllinux_1_1_x86_64", &musl));
        assert!(fits("cp312-cp312-musllinux_1_2_x86_64", &musl));
        assert!(!fits("cp312-cp312-musllinux_1_3_x86_64", &musl));
        assert!(!fits("cp312-cp312-musllinux_1_2_x86_64", &glibc));
        assert!(!fits("cp312-cp312-manylinux_2_17_x86_64", &musl));
    }

    #[test]
    fn macos_floors_and_architectures() {
        let m2 = mac("3.13.5", Arch::Arm64, (14, 5));
        assert!(fits("cp313-cp313-macosx_11_0_arm64", &m2));
        assert!(fits("cp313-cp313-macosx_14_0_arm64", &m2));
        // From 11 on only the major counts.
        assert!(fits("cp313-cp313-macosx_14_7_arm64", &m2));
        assert!(!fits("cp313-cp313-macosx_15_0_arm64", &m2));
        assert!(!fits("cp313-cp313-macosx_10_13_x86_64", &m2));
        assert!(fits("cp313-cp313-macosx_10_9_universal2", &m2));
        assert!(!fits("cp313-cp313-manylinux_2_17_aarch64", &m2));
        let intel = mac("3.9.6", Arch::X86_64, (10, 15));
        assert!(fits("cp39-cp39-macosx_10_9_x86_64", &intel));
        assert!(fits("cp39-cp39-macosx_10_9_intel", &intel));
        assert!(fits("cp39-cp39-macosx_10_15_x86_64", &intel));
        assert!(!fits("cp39-cp39-macosx_10_16_x86_64", &intel));
        assert!(!fits("cp39-cp39-macosx_11_0_x86_64", &intel));
        assert!(!fits("cp39-cp39-macosx_11_0_arm64", &intel));
        let fit = WheelTag::parse("cp313-cp313-macosx_14_0_arm64")
            .unwrap()
            .fit(&m2)
            .unwrap();
        assert_eq!(fit.macos, Some((14, 0)));
        // Unknown macOS meets every floor.
        let unknown = Target::cpython("3.13.5", Os::Macos, Arch::Arm64).unwrap();
        assert!(fits("cp313-cp313-macosx_26_0_arm64", &unknown));
    }

    #[test]
    fn windows_architectures() {
        let x64 = Target::cpython("3.12.0", Os::Windows, Arch::X86_64).unwrap();
        let arm = Target::cpython("3.12.0", Os::Windows, Arch::Arm64).unwrap();
        assert!(fits("cp312-cp312-win_amd64", &x64));
        assert!(!fits("cp312-cp312-win_amd64", &arm));
        assert!(fits("cp312-cp312-win_arm64", &arm));
        assert!(!fits("cp312-cp312-win32", &x64));
        assert!(!fits("cp312-cp312-macosx_11_0_arm64", &x64));
    }

    #[test]
    fn malformed_tags_are_refused_not_panicked_on() {
        for bad in [
            "",
            "-",
            "py3-none",
            "py3-none-any-x",
            "cp-cp-any",
            "cpé-none-any",
        ] {
            if let Some(tag) = WheelTag::parse(bad) {
                let t = Target::cpython("3.13.0", Os::Linux, Arch::X86_64).unwrap();
                let _ = tag.fit(&t);
            }
        }
        let t = mac("3.13.0", Arch::Arm64, (14, 0));
        assert!(!fits("cp313-cp313-macosx_x_y_arm64", &t));
        assert!(!fits("cp313-cp313-manylinux_2_x86_64", &t));
        assert!(!fits("cp99999999999999999999999-none-any", &t));
    }
}
