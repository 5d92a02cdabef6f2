//! The machine and interpreter a package is installed for, as wheel tags and environment markers
//! see it: Python version and implementation, OS, architecture, libc and macOS version.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use crate::profile::{Arch, LibcKnown, Os, Profile};

/// The glibc assumed for a Linux target that does not state its libc: manylinux2014's floor,
/// met by every maintained distribution (DESIGN.md, "Knowledge from the package index").
pub const ASSUMED_GLIBC: (u32, u32) = (2, 17);

/// Which Python implementation runs the code. Only CPython has binary wheels worth telling apart;
/// any other implementation is matched against pure-Python wheels (`py3-none-any`) only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Implementation {
    /// CPython, whose ABI tags (`cp313`, `abi3`) binary wheels are built for.
    CPython,
    /// PyPy, GraalPy and others: pure-Python wheels only, here.
    Other,
}

/// The C library of a Linux target, which decides `manylinux_X_Y` and `musllinux_X_Y` wheels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Libc {
    /// GNU libc `(major, minor)`: manylinux wheels.
    Glibc(u32, u32),
    /// musl `(major, minor)` (Alpine): musllinux wheels.
    Musl(u32, u32),
}

impl Libc {
    /// From a family (`glibc`, `musl`) and a version (`2.35`); `None` for anything else.
    pub fn parse(family: &str, version: &str) -> Option<Libc> {
        let (major, minor) = major_minor(version)?;
        match family.trim().to_ascii_lowercase().as_str() {
            "glibc" | "gnu" => Some(Libc::Glibc(major, minor)),
            "musl" => Some(Libc::Musl(major, minor)),
            _ => None,
        }
    }
}

/// `"14.5"` → `(14, 5)`, `"26"` → `(26, 0)`, `"2.35"` → `(2, 35)`.
pub fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(minor) => minor.parse().ok()?,
        None => 0,
    };
    Some((major, minor))
}

/// What an installer knows about the machine when it picks a file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The full interpreter version (`3.13.5`): `Requires-Python` is compared with all of it.
    pub python: Version,
    /// Which interpreter: it decides which ABI tags load.
    pub implementation: Implementation,
    /// A free-threaded build (`python3.13t`), whose ABI (`cp313t`) is not the normal one's.
    pub free_threaded: bool,
    /// The operating system: it decides the platform tags.
    pub os: Os,
    /// The CPU architecture, as wheels name it per OS (`aarch64`, `arm64`, `win_arm64`).
    pub arch: Arch,
    /// Linux only; `None` means unknown, and [`ASSUMED_GLIBC`] is assumed (and said).
    pub libc: Option<Libc>,
    /// macOS only: `(major, minor)`; `None` means unknown, and any floor is taken as met (and said).
    pub macos: Option<(u32, u32)>,
}

impl Target {
    /// A CPython target with nothing else known, for the common case and for tests:
    /// `Target::cpython("3.13.5", Os::Macos, Arch::Arm64)`. `None` when the version does not parse.
    pub fn cpython(python: &str, os: Os, arch: Arch) -> Option<Target> {
        Some(Target {
            python: Version::from_str(python.trim()).ok()?,
            implementation: Implementation::CPython,
            free_threaded: false,
            os,
            arch,
            libc: None,
            macos: None,
        })
    }

    /// The target of a saved or probed machine running `python` (the Python the project runs
    /// on). `None` when the profile does not say its OS or architecture, or the version does not
    /// parse. A Linux target's libc is the profile's (`system.libc`), else the glibc of the
    /// distro release it names (DESIGN.md), else unknown (and [`ASSUMED_GLIBC`] is assumed).
    pub fn for_profile(profile: &Profile, python: &str) -> Option<Target> {
        let os = profile.system.os?;
        let mut target = Target::cpython(python, os, profile.system.arch?)?;
        if os == Os::Macos {
            target.macos = profile.system.os_version.as_deref().and_then(major_minor);
        }
        if os == Os::Linux {
            target.libc = match profile.system.libc_known() {
                LibcKnown::Stated(libc) | LibcKnown::FromDistro(libc) => libc
                    .version
                    .as_deref()
                    .and_then(|version| Libc::parse(&libc.family.to_string(), version)),
                LibcKnown::Unknown => None,
            };
        }
        Some(target)
    }

    /// `(major, minor)` of the interpreter: `3.13.5` → `(3, 13)`.
    pub fn python_minor(&self) -> (u64, u64) {
        let release = self.python.release();
        (
            release.first().copied().unwrap_or(0),
            release.get(1).copied().unwrap_or(0),
        )
    }

    /// The libc wheels are matched against: the stated one, else glibc [`ASSUMED_GLIBC`].
    pub fn effective_libc(&self) -> Libc {
        self.libc
            .unwrap_or(Libc::Glibc(ASSUMED_GLIBC.0, ASSUMED_GLIBC.1))
    }

    /// How a person names the target: "CPython 3.13 on macOS arm64".
    pub fn describe(&self) -> String {
        let (major, minor) = self.python_minor();
        let implementation = match self.implementation {
            Implementation::CPython if self.free_threaded => "free-threaded CPython",
            Implementation::CPython => "CPython",
            Implementation::Other => "Python",
        };
        let arch = match self.arch {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        };
        format!("{implementation} {major}.{minor} on {} {arch}", self.os)
    }

    /// The PEP 508 marker environment of the target, for evaluating `Requires-Dist` markers.
    /// `None` only if the version cannot be written as a marker value (it always can).
    pub fn marker_environment(&self) -> Option<MarkerEnvironment> {
        let (sys_platform, platform_system, os_name) = match self.os {
            Os::Macos => ("darwin", "Darwin", "posix"),
            Os::Linux => ("linux", "Linux", "posix"),
            Os::Windows => ("win32", "Windows", "nt"),
        };
        let machine = match (self.os, self.arch) {
            (Os::Linux, Arch::Arm64) => "aarch64",
            (Os::Windows, Arch::X86_64) => "AMD64",
            (Os::Windows, Arch::Arm64) => "ARM64",
            (_, Arch::Arm64) => "arm64",
            (_, Arch::X86_64) => "x86_64",
        };
        let (implementation_name, platform_implementation) = match self.implementation {
            Implementation::CPython => ("cpython", "CPython"),
            Implementation::Other => ("", ""),
        };
        let full = self.python.to_string();
        let (major, minor) = self.python_minor();
        let short = format!("{major}.{minor}");
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name,
            implementation_version: &full,
            os_name,
            platform_machine: machine,
            platform_python_implementation: platform_implementation,
            platform_release: "",
            platform_system,
            platform_version: "",
            python_full_version: &full,
            python_version: &short,
            sys_platform,
        })
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linux_profile_gives_its_libc_stated_or_from_its_distro() {
        let parse = |text: &str| Profile::parse(text, std::path::Path::new("p.yaml")).unwrap();
        let stated = parse(
            "schema_version: 1\nsystem: { os: linux, arch: x86_64, libc: { family: musl, version: '1.2' } }\n",
        );
        let target = Target::for_profile(&stated, "3.12").unwrap();
        assert_eq!(target.libc, Some(Libc::Musl(1, 2)));
        let ubuntu = parse(
            "schema_version: 1\nsystem: { os: linux, arch: x86_64, distro: Ubuntu 22.04.4 LTS }\n",
        );
        assert_eq!(
            Target::for_profile(&ubuntu, "3.12").unwrap().libc,
            Some(Libc::Glibc(2, 35))
        );
        let bare = parse("schema_version: 1\nsystem: { os: linux, arch: x86_64 }\n");
        assert_eq!(Target::for_profile(&bare, "3.12").unwrap().libc, None);
    }

    #[test]
    fn versions_libcs_and_profiles() {
        assert_eq!(major_minor("14.5"), Some((14, 5)));
        assert_eq!(major_minor("26"), Some((26, 0)));
        assert_eq!(major_minor("14.5.1"), Some((14, 5)));
        assert_eq!(major_minor("x"), None);
        assert_eq!(Libc::parse("glibc", "2.35"), Some(Libc::Glibc(2, 35)));
        assert_eq!(Libc::parse("musl", "1.2"), Some(Libc::Musl(1, 2)));
        assert_eq!(Libc::parse("bionic", "1"), None);
        let mut profile = Profile::default();
        assert!(Target::for_profile(&profile, "3.13.5").is_none());
        profile.system.os = Some(Os::Macos);
        profile.system.arch = Some(Arch::Arm64);
        profile.system.os_version = Some("14.5".into());
        let target = Target::for_profile(&profile, "3.13.5").unwrap();
        assert_eq!(target.macos, Some((14, 5)));
        assert_eq!(target.describe(), "CPython 3.13 on macOS arm64");
        assert!(target.marker_environment().is_some());
    }
}
