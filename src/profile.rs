//! The saved machine profile (schema version 1 of DESIGN.md): what `probe` writes and what
//! `--profile` reads. Hand-written profiles are first-class, so loading is strict (unknown keys are
//! errors with their line) while every field but the schema version is optional ("unknown").

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::size::ByteSize;
use crate::source::{self, SourceError};

/// The profile schema version this mlcompat reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The CPU feature names a profile's `cpu_features` uses and a rule's `cpu_feature` condition
/// may test: Linux's /proc/cpuinfo spelling for x86, and the common Arm names (`neon`, not
/// Linux's `asimd`), so that a rule reads the same for a probed Linux or macOS machine.
pub const CPU_FEATURES: [&str; 21] = [
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
    "amx_int8",
    "neon",
    "fp16",
    "dotprod",
    "i8mm",
    "bf16",
    "sve",
    "sve2",
];

/// A machine: what `mlcompat probe` writes and `--profile` reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's schema version: always 1, loading refuses any other.
    #[schemars(range(min = 1, max = 1))]
    pub schema_version: u32,
    /// The OS, CPU and memory.
    #[serde(default)]
    pub system: System,
    /// The Python the project will use; absent when none was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<Python>,
    /// The GPUs; empty when there are none.
    #[serde(default)]
    pub gpus: Vec<Gpu>,
}

/// The OS, CPU and memory of a machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// The operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<Os>,
    /// The OS version (`14.5`; the kernel's on Linux).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub os_version: Option<String>,
    /// The CPU architecture (`aarch64` and `amd64` are read as `arm64` and `x86_64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// The hardware model identifier (`Mac14,7`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub model: Option<String>,
    /// The CPU or SoC brand string ("Apple M2").
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub chip: Option<String>,
    /// CPU core counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<Cores>,
    /// RAM: integer bytes, or a number with a unit (`8 GB` is 8 GiB, as RAM is sold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    /// The Linux distribution (os-release's PRETTY_NAME): "Ubuntu 22.04.4 LTS".
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub distro: Option<String>,
    /// The C library (Linux), which decides which manylinux or musllinux wheels install. A
    /// profile without it takes the glibc of the distro release it names, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub libc: Option<Libc>,
    /// CPU features that wheels and kernels test for (`avx2`, `avx512f`, `amx_tile`, `neon`,
    /// `sve`, ...), in the names of [`crate::probe::cpu`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu_features: Vec<String>,
    /// True when the probe ran as an x86_64 process translated by Rosetta on an arm64 Mac: such a
    /// process (and an x86_64 Python) cannot use the Apple GPU (MPS), and nothing says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rosetta: Option<bool>,
}

/// A C library and its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Libc {
    /// glibc or musl.
    pub family: LibcFamily,
    /// "2.35" for glibc, "1.2.4" for musl; absent when the family is known but not the version.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub version: Option<String>,
}

/// The C library families wheels are built for (manylinux and musllinux).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LibcFamily {
    /// GNU libc.
    Glibc,
    /// musl (Alpine).
    Musl,
}

impl fmt::Display for LibcFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LibcFamily::Glibc => "glibc",
            LibcFamily::Musl => "musl",
        })
    }
}

/// Where a profile's libc comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LibcKnown {
    /// The profile states it (the probe read it).
    Stated(Libc),
    /// Taken from the distro release the profile names.
    FromDistro(Libc),
    /// Neither: a Linux profile with no libc and an unknown or absent distro.
    Unknown,
}

impl System {
    /// The libc, stated or taken from the distro release (DESIGN.md: "A Linux profile that does
    /// not state its libc takes it from the distro release it names").
    pub fn libc_known(&self) -> LibcKnown {
        if let Some(libc) = &self.libc {
            return LibcKnown::Stated(libc.clone());
        }
        match self.distro.as_deref().and_then(crate::distro::glibc_of) {
            Some(version) => LibcKnown::FromDistro(Libc {
                family: LibcFamily::Glibc,
                version: Some(version.to_string()),
            }),
            None => LibcKnown::Unknown,
        }
    }
}

/// CPU core counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cores {
    /// Physical cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical: Option<u32>,
    /// Logical cores (hardware threads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical: Option<u32>,
    /// Performance cores (Apple `hw.perflevel0.physicalcpu`), where the CPU has two kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<u32>,
    /// Efficiency cores (Apple `hw.perflevel1.physicalcpu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<u32>,
}

/// The Python the project will use.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Python {
    /// Its version (`3.13.5`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub version: Option<String>,
    /// Its path.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub executable: Option<String>,
    /// Installed distributions, by normalized name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages: BTreeMap<String, String>,
    /// The architecture the interpreter's binary is built for, where it differs from the
    /// machine's or matters: an x86_64 Python on an arm64 Mac runs under Rosetta, without MPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// How the installed torch was built (from `torch/version.py`): its METADATA version never
    /// says whether the wheel is the CUDA, ROCm or CPU build, and the rules need to know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torch: Option<TorchBuild>,
    /// The tool that installs packages into this environment: `uv` for a virtual environment uv
    /// made (its `pyvenv.cfg` names uv, and it has no pip unless someone added one), else `pip`
    /// (absent means pip). A report's install commands use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installer: Option<PythonInstaller>,
}

/// What installs packages into a Python environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PythonInstaller {
    /// `python -m pip install`.
    Pip,
    /// `uv pip install`.
    Uv,
}

/// The accelerator toolkit an installed torch was compiled against; both absent is a CPU build.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TorchBuild {
    /// The CUDA version of a CUDA build (`torch.version.cuda`, e.g. "13.2").
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub cuda: Option<String>,
    /// The HIP version of a ROCm build (`torch.version.hip`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub hip: Option<String>,
}

/// A GPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    /// Who makes it.
    pub vendor: Vendor,
    /// Its name ("NVIDIA A100-SXM4-80GB").
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub name: Option<String>,
    /// Its memory (the unified memory on Apple Silicon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    /// An NVIDIA GPU's compute capability (`8.0`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub compute_capability: Option<String>,
    /// The GPU driver's version.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub driver_version: Option<String>,
    /// The highest CUDA version the driver supports.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub cuda_version: Option<String>,
    /// The AMD GPU architecture (`gfx942`), which decides which ROCm builds run on it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    #[schemars(schema_with = "text_schema")]
    pub gfx_target: Option<String>,
    /// Memory the GPU may use at once when that is less than `memory`: on Apple Silicon the
    /// wired limit (`iogpu.wired_limit_mb`) where someone has set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_set: Option<ByteSize>,
}

/// An operating system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// macOS.
    Macos,
    /// Linux (WSL included).
    Linux,
    /// Windows.
    Windows,
}

/// A CPU architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arch {
    /// 64-bit ARM (`aarch64` is read as this).
    #[serde(rename = "arm64", alias = "aarch64")]
    Arm64,
    /// 64-bit x86 (`amd64` and `x64` are read as this).
    #[serde(rename = "x86_64", alias = "amd64", alias = "x64")]
    X86_64,
}

/// A GPU maker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// NVIDIA (CUDA).
    Nvidia,
    /// AMD (ROCm).
    Amd,
    /// Apple Silicon (Metal, MPS).
    Apple,
    /// Intel (XPU).
    Intel,
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Os::Macos => "macOS",
            Os::Linux => "Linux",
            Os::Windows => "Windows",
        })
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        })
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Vendor::Nvidia => "nvidia",
            Vendor::Amd => "amd",
            Vendor::Apple => "apple",
            Vendor::Intel => "intel",
        })
    }
}

impl Gpu {
    /// A GPU of `vendor` with everything else unknown.
    pub fn new(vendor: Vendor) -> Gpu {
        Gpu {
            vendor,
            name: None,
            memory: None,
            compute_capability: None,
            driver_version: None,
            cuda_version: None,
            gfx_target: None,
            working_set: None,
        }
    }
}

impl Profile {
    /// Reads a saved profile, YAML or JSON (JSON is read by the YAML parser, which gives lines).
    pub fn load(path: &Path) -> Result<Profile, SourceError> {
        let text = source::read_text(path)?;
        Self::parse(&text, path)
    }

    /// Parses a profile's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Profile, SourceError> {
        let profile: Profile = source::parse_yaml(text, path)?;
        if profile.schema_version != SCHEMA_VERSION {
            let line = source::line_of_key(text, "schema_version");
            let found = profile.schema_version;
            let message = if found > SCHEMA_VERSION {
                format!(
                    "schema_version {found} is newer than this mlcompat reads \
                     ({SCHEMA_VERSION}): upgrade mlcompat, or write the profile again with \
                     `mlcompat probe`"
                )
            } else {
                format!(
                    "schema_version {found} is not one this mlcompat reads ({SCHEMA_VERSION}): \
                     write `schema_version: {SCHEMA_VERSION}`"
                )
            };
            return Err(SourceError::invalid(path, line, message));
        }
        Ok(profile)
    }

    /// The GPUs of one vendor.
    pub fn gpus_of(&self, vendor: Vendor) -> impl Iterator<Item = &Gpu> {
        self.gpus.iter().filter(move |gpu| gpu.vendor == vendor)
    }
}

/// The schema says what loading accepts: the aliases too, so an editor checking a hand-written
/// profile against it does not flag `arch: aarch64`, which mlcompat reads as `arm64`.
impl schemars::JsonSchema for Arch {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Arch".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "arm64 or x86_64; aarch64 is read as arm64, amd64 and x64 as x86_64.",
            "type": "string",
            "enum": ["arm64", "x86_64", "aarch64", "amd64", "x64"]
        })
    }
}

/// What [`text`] accepts: a string, or a number YAML read from `os_version: 14.5`.
fn text_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["string", "number", "null"] })
}

/// Accepts a string or a bare number for text fields, because people write `os_version: 14.5`
/// and YAML reads that as a float.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Str(String),
        Int(i64),
        Float(f64),
    }
    Ok(
        Option::<Text>::deserialize(deserializer)?.map(|text| match text {
            Text::Str(s) => s,
            Text::Int(i) => i.to_string(),
            Text::Float(f) => f.to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profile, SourceError> {
        Profile::parse(text, Path::new("p.yaml"))
    }

    #[test]
    fn reads_a_hand_written_profile_with_units_and_aliases() {
        let profile = parse(
            "schema_version: 1\nsystem:\n  os: macos\n  os_version: 14.5\n  arch: aarch64\n  memory: 8 GB\n",
        )
        .unwrap();
        assert_eq!(profile.system.arch, Some(Arch::Arm64));
        assert_eq!(profile.system.os_version.as_deref(), Some("14.5"));
        assert_eq!(profile.system.memory, Some(ByteSize(8 << 30)));
        assert!(profile.gpus.is_empty());
        assert!(profile.python.is_none());
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let err = parse("schema_version: 1\nsystem:\n  os: linux\n  ram: 8 GB\n").unwrap_err();
        assert_eq!(err.line(), Some(4), "{err}");
        assert!(err.to_string().contains("ram"), "{err}");
    }

    #[test]
    fn a_newer_schema_version_asks_for_an_upgrade() {
        let err = parse("system: {}\nschema_version: 2\n").unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert!(err.to_string().contains("upgrade mlcompat"), "{err}");
    }

    #[test]
    fn libc_is_stated_or_taken_from_a_known_distro_release() {
        let stated = parse(
            "schema_version: 1\nsystem: { os: linux, libc: { family: musl, version: 1.2 } }\n",
        )
        .unwrap();
        assert_eq!(
            stated.system.libc_known(),
            LibcKnown::Stated(Libc {
                family: LibcFamily::Musl,
                version: Some("1.2".into())
            })
        );
        let ubuntu = parse("schema_version: 1\nsystem: { distro: Ubuntu 22.04.4 LTS }\n").unwrap();
        assert_eq!(
            ubuntu.system.libc_known(),
            LibcKnown::FromDistro(Libc {
                family: LibcFamily::Glibc,
                version: Some("2.35".into())
            })
        );
        let arch = parse("schema_version: 1\nsystem: { distro: Arch Linux }\n").unwrap();
        assert_eq!(arch.system.libc_known(), LibcKnown::Unknown);
        assert!(parse("schema_version: 1\nsystem: { libc: { family: bionic } }\n").is_err());
    }

    #[test]
    fn json_is_read_too() {
        let profile =
            parse(r#"{"schema_version": 1, "gpus": [{"vendor": "nvidia", "memory": "80 GB"}]}"#)
                .unwrap();
        assert_eq!(profile.gpus[0].memory, Some(ByteSize(80 << 30)));
    }
}
