//! Per-platform requirements files. Projects ship `requirements_apple_silicon.txt`,
//! `requirements_cpu_only.txt` or `requirements/rocm.txt` next to an NVIDIA default; a person
//! installs the one meant for their machine, so the scan reads that one and notes the others
//! instead of failing the project for a file that was never meant for the machine.

use std::path::{Path, PathBuf};

use crate::profile::{Arch, Os, Profile, Vendor};

/// The machines a requirements file can be written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Apple Silicon Macs (MPS).
    MacArm,
    /// Any machine without a usable GPU.
    Cpu,
    /// AMD GPUs (ROCm).
    Amd,
    /// NVIDIA GPUs (CUDA).
    Nvidia,
    /// Windows, whatever its GPU.
    Windows,
}

impl Platform {
    fn describe(self) -> &'static str {
        match self {
            Platform::MacArm => "Apple Silicon",
            Platform::Cpu => "CPU only",
            Platform::Amd => "AMD GPUs",
            Platform::Nvidia => "NVIDIA GPUs",
            Platform::Windows => "Windows",
        }
    }
}

/// What a requirements file is for, read from the words of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Installed to run the project; `None` when the name names no platform (the default).
    Runtime(Option<Platform>),
    /// Development, tests or documentation: not what runs the project.
    NotRuntime,
}

/// The words of a file name that say which machine it is for, as projects spell them. Multi-word
/// spellings (`apple_silicon`, `cpu_only`) are matched as word sequences before single words.
/// This is reading knowledge (how people name files), not knowledge about packages, which is
/// why it lives here and not under `rules/`.
const PLATFORM_WORDS: [(&[&str], Platform); 16] = [
    (&["apple", "silicon"], Platform::MacArm),
    (&["cpu", "only"], Platform::Cpu),
    (&["mac"], Platform::MacArm),
    (&["macos"], Platform::MacArm),
    (&["osx"], Platform::MacArm),
    (&["apple"], Platform::MacArm),
    (&["mps"], Platform::MacArm),
    (&["darwin"], Platform::MacArm),
    (&["cpu"], Platform::Cpu),
    (&["amd"], Platform::Amd),
    (&["rocm"], Platform::Amd),
    (&["cuda"], Platform::Nvidia),
    (&["gpu"], Platform::Nvidia),
    (&["nvidia"], Platform::Nvidia),
    (&["windows"], Platform::Windows),
    (&["win"], Platform::Windows),
];

/// Words that mark a file as not needed to run the project.
const NOT_RUNTIME_WORDS: [&str; 9] = [
    "dev", "test", "tests", "testing", "docs", "doc", "lint", "ci", "build",
];

/// Splits a file name into its family (the name without platform words) and its role.
/// `requirements_apple_silicon.txt` → (`requirements`, MacArm); `requirements/cuda.txt` → (``, Nvidia).
pub fn classify(file_name: &str) -> (String, Role) {
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem)
        .to_ascii_lowercase();
    let words: Vec<&str> = stem
        .split(['-', '_', '.', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| NOT_RUNTIME_WORDS.contains(w)) {
        return (stem, Role::NotRuntime);
    }
    let mut family = Vec::new();
    let mut platform = None;
    let mut i = 0;
    while i < words.len() {
        let matched = PLATFORM_WORDS
            .iter()
            .find(|(spelling, _)| words[i..].starts_with(spelling));
        match matched {
            Some((spelling, found)) => {
                platform = platform.or(Some(*found));
                i += spelling.len();
            }
            None => {
                family.push(words[i]);
                i += 1;
            }
        }
    }
    (family.join("_"), Role::Runtime(platform))
}

/// The order in which a machine prefers variants: its own first, then the default (no platform
/// word), then the fallbacks that still run on it (CPU-only builds run everywhere).
pub fn preferences(profile: &Profile) -> Vec<Option<Platform>> {
    let vendors: Vec<Vendor> = profile.gpus.iter().map(|g| g.vendor).collect();
    let mut order = Vec::new();
    match (profile.system.os, profile.system.arch) {
        (Some(Os::Macos), Some(Arch::Arm64)) => order.push(Some(Platform::MacArm)),
        (Some(Os::Macos), _) => {}
        (Some(Os::Windows), _) => order.push(Some(Platform::Windows)),
        _ => {}
    }
    if vendors.contains(&Vendor::Nvidia) {
        order.push(Some(Platform::Nvidia));
    }
    if vendors.contains(&Vendor::Amd) {
        order.push(Some(Platform::Amd));
    }
    // A machine without an NVIDIA or AMD GPU is better served by a CPU-only file than by the
    // default, which is almost always written for CUDA.
    if !vendors.contains(&Vendor::Nvidia) && !vendors.contains(&Vendor::Amd) {
        order.push(Some(Platform::Cpu));
    }
    order.push(None);
    if !order.contains(&Some(Platform::Cpu)) {
        order.push(Some(Platform::Cpu));
    }
    order
}

/// The name parts `mlcompat fix` gives the files it writes for a machine (its OS), as in
/// `requirements-macos.txt`.
pub const OS_SUFFIXES: [&str; 3] = ["macos", "linux", "windows"];

/// The suffix of the files written for `profile`'s machine: `macos`, `linux`, `windows`;
/// `None` when the profile does not say its OS.
pub fn os_suffix(profile: &Profile) -> Option<&'static str> {
    match profile.system.os? {
        Os::Macos => Some("macos"),
        Os::Linux => Some("linux"),
        Os::Windows => Some("windows"),
    }
}

/// `requirements-macos.txt` → (`requirements.txt`, `macos`): the file it is a version of, and
/// for which OS. `None` for a name without an OS suffix.
pub fn os_variant_of(name: &str) -> Option<(String, &'static str)> {
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, Some(extension)),
        _ => (name, None),
    };
    OS_SUFFIXES.iter().find_map(|os| {
        let base = stem.strip_suffix(os)?.strip_suffix('-')?;
        (!base.is_empty()).then(|| {
            let original = extension.map_or_else(|| base.to_string(), |e| format!("{base}.{e}"));
            (original, *os)
        })
    })
}

/// Chooses among a file and its versions for an OS beside it (`requirements.txt` and the
/// `requirements-macos.txt` that `mlcompat fix --write` made): the version for the target
/// machine's OS where there is one, else the file itself; every other member is set aside with
/// a note. Without a profile the files themselves are read. Returns the files to read (in the
/// order given) and the notes.
pub fn select_os_variants(
    files: Vec<PathBuf>,
    profile: Option<&Profile>,
    root: &Path,
) -> (Vec<PathBuf>, Vec<String>) {
    let target = profile.and_then(os_suffix);
    let present: std::collections::HashSet<PathBuf> = files.iter().cloned().collect();
    // Each family: the original, and its versions by OS.
    let mut families: Vec<(PathBuf, Vec<(PathBuf, &'static str)>)> = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((original, os)) = os_variant_of(&name) else {
            continue;
        };
        let original = file.with_file_name(original);
        if !present.contains(&original) {
            continue;
        }
        match families.iter_mut().find(|(o, _)| *o == original) {
            Some((_, members)) => members.push((file.clone(), os)),
            None => families.push((original, vec![(file.clone(), os)])),
        }
    }
    let mut notes = Vec::new();
    let mut aside: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for (original, members) in families {
        let name = |file: &Path| super::paths::relative_name(root, file);
        let chosen = members
            .iter()
            .find(|(_, os)| Some(*os) == target)
            .map(|(file, _)| file.clone());
        if let Some(chosen) = &chosen {
            notes.push(format!(
                "{}: not read ({} is its version for this machine)",
                name(&original),
                name(chosen)
            ));
            aside.insert(original.clone());
        }
        for (file, os) in &members {
            if Some(file) == chosen.as_ref() {
                continue;
            }
            let os = match *os {
                "macos" => "macOS",
                "linux" => "Linux",
                _ => "Windows",
            };
            notes.push(format!(
                "{}: not read (a version of {} for {os}; this machine is not one)",
                name(file),
                name(&original)
            ));
            aside.insert(file.clone());
        }
    }
    let kept = files.into_iter().filter(|f| !aside.contains(f)).collect();
    (kept, notes)
}

/// Requirements files in one folder that differ only by platform words: (folder, family name,
/// members with the platform each is for).
type Family = (PathBuf, String, Vec<(PathBuf, Option<Platform>)>);

/// Chooses among requirements files: within each family (same folder, same name apart from
/// platform words) the first variant the machine prefers; without a profile every runtime file
/// is read. Files for development or docs are never read as top-level manifests. Returns the
/// files to read and a note for every file left out.
pub fn select(
    files: Vec<PathBuf>,
    profile: Option<&Profile>,
    root: &Path,
) -> (Vec<PathBuf>, Vec<String>) {
    let mut notes = Vec::new();
    let mut families: Vec<Family> = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let relative = super::paths::relative_name(root, &file);
        let (family, role) = classify(&name);
        // `docs/requirements.txt`, `tests/requirements.txt`: the folder says what it is for.
        let in_not_runtime_dir = relative
            .rsplit('/')
            .skip(1)
            .any(|dir| NOT_RUNTIME_WORDS.contains(&dir.to_ascii_lowercase().as_str()));
        let role = if in_not_runtime_dir {
            Role::NotRuntime
        } else {
            role
        };
        let Role::Runtime(platform) = role else {
            notes.push(format!(
                "{relative}: not read (development, test or docs requirements, not needed to run)"
            ));
            continue;
        };
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        match families
            .iter_mut()
            .find(|(d, f, _)| *d == dir && *f == family)
        {
            Some((_, _, members)) => members.push((file, platform)),
            None => families.push((dir, family, vec![(file, platform)])),
        }
    }
    let mut chosen = Vec::new();
    for (_, _, members) in families {
        let preferred = match profile {
            Some(profile) if members.len() > 1 => preferences(profile)
                .into_iter()
                .find_map(|want| members.iter().position(|(_, p)| *p == want)),
            _ => None,
        };
        let Some(index) = preferred else {
            chosen.extend(members.into_iter().map(|(file, _)| file));
            continue;
        };
        let picked = super::paths::relative_name(root, &members[index].0);
        let what = members[index].1.map_or("the default", Platform::describe);
        notes.push(format!(
            "{picked}: read as the requirements variant for this machine ({what})"
        ));
        for (i, (file, platform)) in members.iter().enumerate() {
            if i != index {
                notes.push(format!(
                    "{}: not read (a variant for {}; {picked} is the one for this machine)",
                    super::paths::relative_name(root, file),
                    platform.map_or("the default machine", Platform::describe)
                ));
            }
        }
        chosen.push(members[index].0.clone());
    }
    chosen.sort();
    (chosen, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_version_of_a_file_replaces_it_on_that_os_only() {
        assert_eq!(
            os_variant_of("requirements-macos.txt"),
            Some(("requirements.txt".to_string(), "macos"))
        );
        assert_eq!(
            os_variant_of("pyproject-windows.toml"),
            Some(("pyproject.toml".to_string(), "windows"))
        );
        assert_eq!(os_variant_of("requirements.txt"), None);
        assert_eq!(os_variant_of("-macos.txt"), None);
        assert_eq!(os_variant_of("mymacos.txt"), None);
        let root = Path::new("p");
        let files = || {
            [
                "p/config.yaml",
                "p/config-macos.yaml",
                "p/config-linux.yaml",
                "p/other-macos.yaml",
            ]
            .map(PathBuf::from)
            .to_vec()
        };
        let profile = |os: Os| {
            let mut profile = Profile::default();
            profile.system.os = Some(os);
            profile
        };
        let (mac, notes) = select_os_variants(files(), Some(&profile(Os::Macos)), root);
        assert_eq!(
            mac,
            [
                PathBuf::from("p/config-macos.yaml"),
                PathBuf::from("p/other-macos.yaml")
            ]
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("config.yaml: not read (config-macos.yaml"),
            "{notes:?}"
        );
        let (windows, _) = select_os_variants(files(), Some(&profile(Os::Windows)), root);
        assert_eq!(
            windows,
            [
                PathBuf::from("p/config.yaml"),
                PathBuf::from("p/other-macos.yaml")
            ]
        );
        let (none, _) = select_os_variants(files(), None, root);
        assert_eq!(none, windows);
    }

    #[test]
    fn names_say_which_machine() {
        let role = |name| classify(name).1;
        assert_eq!(
            classify("requirements_apple_silicon.txt"),
            (
                "requirements".to_string(),
                Role::Runtime(Some(Platform::MacArm))
            )
        );
        assert_eq!(
            role("requirements_cpu_only.txt"),
            Role::Runtime(Some(Platform::Cpu))
        );
        assert_eq!(
            role("requirements-macos.txt"),
            Role::Runtime(Some(Platform::MacArm))
        );
        assert_eq!(
            role("requirements_amd.txt"),
            Role::Runtime(Some(Platform::Amd))
        );
        assert_eq!(role("rocm.txt"), Role::Runtime(Some(Platform::Amd)));
        assert_eq!(role("cuda.txt"), Role::Runtime(Some(Platform::Nvidia)));
        assert_eq!(
            role("requirements-win.txt"),
            Role::Runtime(Some(Platform::Windows))
        );
        assert_eq!(role("requirements.txt"), Role::Runtime(None));
        assert_eq!(role("requirements-dev.txt"), Role::NotRuntime);
        assert_eq!(role("requirements_docs.txt"), Role::NotRuntime);
        // `mac` is a word, not a prefix: `machine_learning.txt` names no platform.
        assert_eq!(role("machine_learning.txt"), Role::Runtime(None));
        assert_eq!(
            classify("requirements-convert_hf_to_gguf.txt").0,
            "requirements_convert_hf_to_gguf"
        );
    }
}
