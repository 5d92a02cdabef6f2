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
    let listed = package.release(version)?.requires_dist.as_ref()?;
    let extras: Vec<ExtraName> = extras
        .iter()
        .filter_map(|e| ExtraName::from_str(e).ok())
        .collect();
    let environment = target.marker_environment();
    Some(
        listed
            .iter()
            .filter_map(|line| Requirement::<VerbatimUrl>::from_str(line).ok())
            .filter(|requirement| match &environment {
                Some(env) => requirement.evaluate_markers(env, &extras),
                None => requirement.marker.evaluate_extras(&extras),
            })
            .collect(),
    )
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
    }
}
