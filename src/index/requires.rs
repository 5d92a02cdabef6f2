//! A release's `Requires-Dist`, with environment markers evaluated for a target: what installing
//! it pulls in there (torch pulled in by peft; torchvision 0.16.2 pulling in torch==2.1.2).

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, Requirement, VerbatimUrl};

use super::package::Package;
use super::target::Target;

/// The requirements of `package` at `version` that apply on `target` with the given extras
/// requested (`transformers[torch]` → `["torch"]`). `None` when the snapshot does not hold this
/// release's metadata; requirements that do not parse are left out.
pub fn requires_dist(
    package: &Package,
    version: &Version,
    target: &Target,
    extras: &[&str],
) -> Option<Vec<Requirement<VerbatimUrl>>> {
    requires_dist_named(package, version, target, extras, |_| true)
}

/// [`requires_dist`], reading only the lines whose package name (PEP 503 normalized) `wanted`
/// accepts: a caller after a few names skips parsing the rest (transformers lists hundreds of
/// requirements across its extras).
pub fn requires_dist_named(
    package: &Package,
    version: &Version,
    target: &Target,
    extras: &[&str],
    wanted: impl Fn(&str) -> bool,
) -> Option<Vec<Requirement<VerbatimUrl>>> {
    let listed = package.release(version)?.requires_dist.as_ref()?;
    let extras: Vec<ExtraName> = extras
        .iter()
        .filter_map(|e| ExtraName::from_str(e).ok())
        .collect();
    let environment = target.marker_environment();
    Some(
        listed
            .iter()
            .filter(|line| wanted(&crate::names::normalize(leading_name(line))))
            .filter_map(|line| Requirement::<VerbatimUrl>::from_str(line).ok())
            .filter(|requirement| match &environment {
                Some(env) => requirement.evaluate_markers(env, &extras),
                None => requirement.marker.evaluate_extras(&extras),
            })
            .collect(),
    )
}

/// The name a PEP 508 line starts with (`torch` of `torch (==2.1.2); extra == "x"`): letters,
/// digits, `.`, `_` and `-` after any leading whitespace. For a line that parses it is the
/// requirement's name as written.
fn leading_name(line: &str) -> &str {
    let line = line.trim_start();
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(line.len());
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::package::Release;
    use crate::profile::{Arch, Os};

    #[test]
    fn markers_and_extras_are_evaluated_for_the_target() {
        let mut release = Release::new(Version::from_str("0.16.2").unwrap());
        release.requires_dist = Some(vec![
            "numpy".into(),
            "torch (==2.1.2)".into(),
            "nvidia-nccl-cu12==2.18.1; platform_system == \"Linux\" and platform_machine == \"x86_64\"".into(),
            "scipy; extra == \"scipy\"".into(),
            "not a requirement ((".into(),
        ]);
        let package = Package {
            name: "demo".into(),
            releases: vec![release],
            ..Package::default()
        };
        let names = |target: &Target, extras: &[&str]| -> Vec<String> {
            requires_dist(
                &package,
                &Version::from_str("0.16.2").unwrap(),
                target,
                extras,
            )
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect()
        };
        let mac = Target::cpython("3.13.5", Os::Macos, Arch::Arm64).unwrap();
        let linux = Target::cpython("3.11.4", Os::Linux, Arch::X86_64).unwrap();
        assert_eq!(names(&mac, &[]), vec!["numpy", "torch==2.1.2"]);
        assert_eq!(names(&linux, &[]).len(), 3);
        assert!(
            names(&mac, &["scipy"]).contains(&"scipy ; extra == \"scipy\"".to_string())
                || names(&mac, &["scipy"])
                    .iter()
                    .any(|r| r.starts_with("scipy"))
        );
        assert!(requires_dist(&package, &Version::from_str("9.9").unwrap(), &mac, &[]).is_none());
        let only_torch = requires_dist_named(
            &package,
            &Version::from_str("0.16.2").unwrap(),
            &linux,
            &[],
            |name| name == "torch",
        )
        .unwrap();
        assert_eq!(only_torch.len(), 1);
        assert_eq!(only_torch[0].to_string(), "torch==2.1.2");
    }

    #[test]
    fn the_leading_name_is_the_requirements_name() {
        assert_eq!(leading_name("torch (==2.1.2)"), "torch");
        assert_eq!(leading_name("  Flash_Attn>=2; extra == 'x'"), "Flash_Attn");
        assert_eq!(leading_name("ruamel.yaml"), "ruamel.yaml");
        assert_eq!(
            leading_name("nvidia-nccl-cu12==2.18.1; platform_system == \"Linux\""),
            "nvidia-nccl-cu12"
        );
        assert_eq!(leading_name("not a requirement (("), "not");
    }
}
