//! Version sets: PEP 440 specifiers read as sets of releases, and sets written back as
//! specifiers a person can paste ("require bitsandbytes>=0.50").

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use version_ranges::Ranges;

/// A specifier as a set of release versions: `==13.0.*` and `>=13` then agree that 13.0 is in
/// both, where PEP 440's pre-release boundaries (`13.0.dev0`) would make them straddle.
///
/// pep440_rs adds one to the last release number of `==X.*`, `!=X.*` and `~=X.Y`; a number of
/// `u64::MAX` (`pytorch=2.1.18446744073709551615` in a conda file, found by the fuzzer) would
/// overflow: a panic in a debug build, a wrapped and wrong range in a release build. No real
/// version has such a number, so such a specifier is read as allowing any version.
pub fn release_range(spec: VersionSpecifiers) -> Ranges<Version> {
    if spec
        .iter()
        .any(|one| one.version().release().contains(&u64::MAX))
    {
        return Ranges::full();
    }
    pep440_rs::release_specifiers_to_ranges(spec)
}

/// Parses a specifier, accepting a bare version (`"14"`) as `==14`.
pub fn specifiers(spec: &str) -> Option<VersionSpecifiers> {
    VersionSpecifiers::from_str(spec)
        .or_else(|_| VersionSpecifiers::from_str(&format!("=={spec}")))
        .ok()
}

/// A version set as a specifier a person can paste: `>=0.50`, `>=2.1,<3`.
pub fn describe(ranges: &Ranges<Version>) -> String {
    use std::ops::Bound;
    let parts: Vec<String> = ranges
        .iter()
        .map(|(low, high)| {
            let low = match low {
                Bound::Included(v) => Some(format!(">={}", short(v))),
                Bound::Excluded(v) => Some(format!(">{}", short(v))),
                Bound::Unbounded => None,
            };
            let high = match high {
                Bound::Included(v) => Some(format!("<={}", short(v))),
                Bound::Excluded(v) => Some(format!("<{}", short(v))),
                Bound::Unbounded => None,
            };
            match (low, high) {
                (Some(l), Some(h)) => format!("{l},{h}"),
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => "any version".to_string(),
            }
        })
        .collect();
    parts.join(" or ")
}

/// A version without the `.dev0`/`a0` markers that range arithmetic adds at boundaries.
fn short(version: &Version) -> String {
    version.only_release().to_string()
}

/// The requirement a `require` change writes: the wanted bounds, plus those of the declaration
/// that still mean something. A declared bound the wanted range already implies is dropped
/// (`>=0.43.3` under `>=0.50`), and where the declaration contradicts it (`==1.11` under
/// `>=2.1`) only the wanted bounds remain, since keeping both could never install.
pub fn merge_requirement(own: Option<&VersionSpecifiers>, wanted: &Ranges<Version>) -> String {
    let wanted_text = describe(wanted);
    let Some(own) = own.filter(|own| !own.is_empty()) else {
        return wanted_text;
    };
    let kept: Vec<_> = own
        .iter()
        .filter(|clause| {
            let clause_range = release_range(std::iter::once((*clause).clone()).collect());
            !wanted.subset_of(&clause_range)
        })
        .cloned()
        .collect();
    let kept_range = release_range(kept.iter().cloned().collect());
    if kept.is_empty() || kept_range.is_disjoint(wanted) {
        return wanted_text;
    }
    let kept: Vec<String> = kept.iter().map(ToString::to_string).collect();
    format!("{wanted_text},{}", kept.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzer find (conda target): a release number of u64::MAX overflowed pep440_rs.
    #[test]
    fn a_release_number_of_u64_max_does_not_overflow() {
        for spec in [
            "==2.1.18446744073709551615.*",
            "!=18446744073709551615.*",
            "~=1.18446744073709551615",
        ] {
            let parsed = specifiers(spec).expect(spec);
            assert_eq!(release_range(parsed), Ranges::full(), "{spec}");
        }
        assert_ne!(
            release_range(specifiers("==2.1.*").unwrap()),
            Ranges::full()
        );
    }

    #[test]
    fn version_sets_read_back_as_specifiers() {
        let declared = release_range(VersionSpecifiers::from_str(">=0.43.1").unwrap());
        let rule = release_range(VersionSpecifiers::from_str("<0.50").unwrap());
        assert_eq!(
            describe(&declared.intersection(&rule.complement())),
            ">=0.50"
        );
        assert_eq!(
            describe(&release_range(
                VersionSpecifiers::from_str(">=2.1,<3").unwrap()
            )),
            ">=2.1,<3"
        );
    }

    #[test]
    fn a_required_version_replaces_declared_bounds_it_implies_or_contradicts() {
        let merge = |own: &str, wanted: &str| {
            let own = specifiers(own);
            merge_requirement(own.as_ref(), &release_range(specifiers(wanted).unwrap()))
        };
        // A pin below the wanted floor can never satisfy both: the fix is the floor alone.
        assert_eq!(merge("==1.11", ">=2.1"), ">=2.1");
        assert_eq!(merge("~=1.26.4", ">=2.1"), ">=2.1");
        // A weaker floor adds nothing.
        assert_eq!(merge(">=0.43.3", ">=0.50"), ">=0.50");
        // An upper bound that still leaves room is kept.
        assert_eq!(merge(">=2.0,<3", ">=2.4"), ">=2.4,<3");
        assert_eq!(merge("", ">=0.48"), ">=0.48");
    }
}
