//! Linux: the distribution (os-release) and the C library, which together decide which
//! manylinux or musllinux wheels install; and the CPU features from /proc/cpuinfo.

use std::io::Read;
use std::path::Path;

use super::{Probed, cpu};
use crate::distro;
use crate::profile::{Libc, LibcFamily};
use crate::source;

/// os-release(5): the first of these that exists is the one to read.
const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// /proc/cpuinfo is one block per logical CPU (about 1.5 KB each): the first block holds the
/// flags, every block its core; a bounded prefix is read, enough for a thousand CPUs.
const CPUINFO_PREFIX: u64 = 4 << 20;

/// Adds what only Linux says to the profile: distro, libc and CPU features.
pub fn probe(probed: &mut Probed) {
    distro_from(Path::new("/"), probed);
    libc(probed);
    cpu_features(probed);
}

/// `system.distro` and `system.os_version` from os-release under `root` (`/` on a machine; a
/// fixture in tests), read once for both.
pub fn distro_from(root: &Path, probed: &mut Probed) {
    for file in OS_RELEASE {
        let path = root.join(file.trim_start_matches('/'));
        let text = match source::read_text(&path) {
            Ok(text) => text,
            Err(_) if !path.is_file() => continue,
            Err(error) => {
                probed.unknown("system.distro", error);
                return;
            }
        };
        let release = distro::parse_os_release(&text);
        if probed.profile.system.os_version.is_none()
            && let Some(version) = release.version_id
        {
            probed.profile.system.os_version = Some(version);
            probed.learned("system.os_version", format!("{file} VERSION_ID"));
        }
        match release.pretty_name {
            Some(name) => {
                probed.profile.system.distro = Some(name);
                probed.learned("system.distro", format!("{file} PRETTY_NAME"));
            }
            None => probed.unknown("system.distro", format!("{file} has no PRETTY_NAME")),
        }
        return;
    }
    probed.unknown(
        "system.distro",
        "neither /etc/os-release nor /usr/lib/os-release exists",
    );
}

fn libc(probed: &mut Probed) {
    if let Some(version) = glibc_version() {
        probed.profile.system.libc = Some(Libc {
            family: LibcFamily::Glibc,
            version: Some(version),
        });
        probed.learned("system.libc", "confstr(_CS_GNU_LIBC_VERSION)");
        return;
    }
    match libc_from_files(Path::new("/")) {
        Some((libc, origin)) => {
            probed.profile.system.libc = Some(libc);
            probed.learned("system.libc", origin);
        }
        None => probed.unknown(
            "system.libc",
            "no glibc answered confstr and no musl or glibc loader is in /lib or /lib64",
        ),
    }
}

/// The running glibc's version, when this mlcompat is linked against glibc (then it is the
/// machine's, as the dynamic loader picked it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_version() -> Option<String> {
    let mut buffer = [0u8; 64];
    // SAFETY: confstr writes at most `buffer.len()` bytes, NUL included, into the buffer and
    // returns the length it needs (0 on error); the buffer outlives the call.
    let needed = unsafe {
        libc::confstr(
            libc::_CS_GNU_LIBC_VERSION,
            buffer.as_mut_ptr().cast(),
            buffer.len(),
        )
    };
    if needed == 0 || needed > buffer.len() {
        return None;
    }
    let text = std::str::from_utf8(&buffer[..needed - 1]).ok()?;
    // "glibc 2.36"
    text.strip_prefix("glibc ")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_version() -> Option<String> {
    None
}

/// The C library from the files under `root`, for a mlcompat that is not linked against glibc
/// (a static musl build): musl's loader is `/lib/ld-musl-<arch>.so.1`; glibc's is
/// `ld-linux-*.so.*`, and glibc before 2.34 also installed `libc-<version>.so`, which gives
/// the version. Returns the libc and where it was seen.
pub fn libc_from_files(root: &Path) -> Option<(Libc, String)> {
    let names = |folder: &str| -> Vec<String> {
        std::fs::read_dir(root.join(folder))
            .map(|entries| {
                entries
                    .flatten()
                    .take(10_000)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let lib = names("lib");
    if let Some(loader) = lib
        .iter()
        .find(|n| n.starts_with("ld-musl-") && n.ends_with(".so.1"))
    {
        return Some((
            Libc {
                family: LibcFamily::Musl,
                version: None,
            },
            format!("/lib/{loader}"),
        ));
    }
    let lib64 = names("lib64");
    let loader = lib
        .iter()
        .map(|n| ("lib", n))
        .chain(lib64.iter().map(|n| ("lib64", n)))
        .find(|(_, n)| n.starts_with("ld-linux"))?;
    let mut version = None;
    for folder in [
        "lib64",
        "lib",
        "lib/x86_64-linux-gnu",
        "lib/aarch64-linux-gnu",
    ] {
        version = names(folder).iter().find_map(|n| {
            let v = n.strip_prefix("libc-")?.strip_suffix(".so")?;
            v.chars()
                .all(|c| c.is_ascii_digit() || c == '.')
                .then(|| v.to_string())
        });
        if version.is_some() {
            break;
        }
    }
    Some((
        Libc {
            family: LibcFamily::Glibc,
            version,
        },
        format!("/{}/{}", loader.0, loader.1),
    ))
}

/// `system.cpu_features` from the first processor of /proc/cpuinfo, and the physical core
/// count from all of it: one read for both.
fn cpu_features(probed: &mut Probed) {
    let mut bytes = Vec::new();
    let read = std::fs::File::open("/proc/cpuinfo")
        .and_then(|file| file.take(CPUINFO_PREFIX).read_to_end(&mut bytes));
    if let Err(error) = read {
        probed.unknown("system.cpu_features", format!("/proc/cpuinfo: {error}"));
        return;
    }
    // A prefix cut inside a character still has the first block's flags.
    let text = String::from_utf8_lossy(&bytes);
    probed.profile.system.cpu_features = cpu::from_cpuinfo(&text);
    probed.learned("system.cpu_features", "/proc/cpuinfo flags");
    if let Some(cores) = probed.profile.system.cores.as_mut()
        && cores.physical.is_none()
    {
        cores.physical = cpu::physical_cores(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/probe/libc")
            .join(name)
    }

    #[test]
    fn musl_is_known_by_its_loader() {
        let (libc, origin) = libc_from_files(&root("alpine")).unwrap();
        assert_eq!(libc.family, LibcFamily::Musl);
        assert_eq!(origin, "/lib/ld-musl-x86_64.so.1");
    }

    #[test]
    fn old_glibc_gives_its_version_in_the_file_name_and_new_glibc_only_its_family() {
        let (old, _) = libc_from_files(&root("centos7")).unwrap();
        assert_eq!(old.family, LibcFamily::Glibc);
        assert_eq!(old.version.as_deref(), Some("2.17"));
        let (new, origin) = libc_from_files(&root("ubuntu24")).unwrap();
        assert_eq!((new.family, new.version), (LibcFamily::Glibc, None));
        assert_eq!(origin, "/lib64/ld-linux-x86-64.so.2");
        assert!(libc_from_files(&root("nothing")).is_none());
    }

    #[test]
    fn the_distro_is_the_pretty_name_of_the_first_os_release() {
        let mut probed = Probed::default();
        distro_from(&root("ubuntu24"), &mut probed);
        assert_eq!(
            probed.profile.system.distro.as_deref(),
            Some("Ubuntu 24.04.1 LTS")
        );
        let origin = |field: &str| {
            probed
                .sources
                .iter()
                .find(|s| s.field == field)
                .map(|s| s.origin.clone())
        };
        assert_eq!(
            origin("system.distro").as_deref(),
            Some("/usr/lib/os-release PRETTY_NAME")
        );
        // The same read gives the OS version.
        assert_eq!(probed.profile.system.os_version.as_deref(), Some("24.04"));
        assert_eq!(
            origin("system.os_version").as_deref(),
            Some("/usr/lib/os-release VERSION_ID")
        );
        let mut probed = Probed::default();
        distro_from(&root("nothing"), &mut probed);
        assert!(probed.profile.system.distro.is_none());
        assert_eq!(probed.notes.len(), 1);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_glibc_build_reads_the_running_glibc() {
        let version = glibc_version().expect("glibc answers confstr");
        assert!(version.starts_with("2."), "{version}");
    }
}
