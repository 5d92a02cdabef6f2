//! What pip (or uv) would install for a package on a target, from the index's facts alone: the
//! newest release the project's constraint allows that has a file for the target, a wheel of it
//! if one fits (the most specific), else its sdist; or why nothing installs and the nearest
//! release that would.
//!
//! The installers' rules followed here: a yanked release is skipped unless pinned with `==`
//! (PEP 592); pre-releases are skipped unless the constraint names one or nothing else matches;
//! each release's `Requires-Python` must admit the interpreter; among the allowed releases the
//! newest installable one wins even if only its sdist fits (no `--prefer-binary`).

use pep440_rs::{Operator, Version, VersionSpecifiers};

use super::package::{Package, Release};
use super::tags::Fit;
use super::target::{ASSUMED_GLIBC, Libc, Target};
use crate::profile::{Os, PythonInstaller};
use crate::wording;

/// The outcome for one package on one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A wheel installs: the release, its `python-abi-platform` tag, and the glibc or macOS
    /// version the wheel needs.
    Wheel {
        /// The release.
        version: Version,
        /// The chosen wheel's `python-abi-platform` tag, as in its file name.
        tag: String,
        /// The glibc it needs (`manylinux_2_28` → `(2, 28)`).
        glibc: Option<(u32, u32)>,
        /// The macOS it needs (`macosx_14_0_arm64` → `(14, 0)`).
        macos: Option<(u32, u32)>,
    },
    /// Only the source distribution fits: the installer builds it (a compiler, and for CUDA
    /// extensions a CUDA toolkit, may be needed).
    Sdist {
        /// The release whose sdist is built.
        version: Version,
    },
    /// Nothing installs.
    Nothing(Why),
}

/// Why nothing installs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// No release is in the allowed set (or the package has no releases).
    NoRelease,
    /// Every allowed release is yanked, and none is pinned with `==`.
    Yanked {
        /// The newest allowed release.
        version: Version,
    },
    /// The newest allowed release's `Requires-Python` excludes the target's Python.
    RequiresPython {
        /// The newest allowed release that is not yanked.
        version: Version,
        /// Its `Requires-Python`.
        requires_python: String,
    },
    /// The newest allowed release has no wheel for the target and no sdist.
    NoFile {
        /// The newest allowed release for this Python.
        version: Version,
    },
}

/// The answer, with what was assumed to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What installs, or why nothing does.
    pub outcome: Outcome,
    /// The nearest release with a wheel for the target (not yanked, not a pre-release, admitting
    /// the Python), when the outcome is not a wheel: the first one after the release the outcome
    /// names, else the last before it.
    pub nearest_wheel: Option<Version>,
    /// A Linux target without a stated libc was matched as glibc 2.17 (say so).
    pub assumed_glibc: bool,
    /// A macOS target without a stated version was taken to meet every floor (say so).
    pub assumed_macos: bool,
    /// With the glibc unknown: a newer release or better file that a newer glibc would install,
    /// `(version, tag, glibc it needs)`: "needs glibc ≥ X; this profile does not say".
    pub with_newer_glibc: Option<(Version, String, (u32, u32))>,
}

/// What an installer picks for `package` on `target` within `wanted` (`None`: any version).
pub fn choose(package: &Package, wanted: Option<&VersionSpecifiers>, target: &Target) -> Choice {
    let outcome = pick(package, wanted, target);
    let reference = match &outcome {
        Outcome::Wheel { .. } => None,
        Outcome::Sdist { version } => Some(Some(version.clone())),
        Outcome::Nothing(Why::NoRelease) => Some(None),
        Outcome::Nothing(
            Why::Yanked { version } | Why::RequiresPython { version, .. } | Why::NoFile { version },
        ) => Some(Some(version.clone())),
    };
    let nearest_wheel = reference.and_then(|at| nearest_wheel(package, at.as_ref(), target));
    let glibc_unknown = target.os == Os::Linux && target.libc.is_none();
    let with_newer_glibc = if glibc_unknown {
        let any_glibc = Target {
            libc: Some(Libc::Glibc(2, u32::MAX)),
            ..target.clone()
        };
        match (&outcome, pick(package, wanted, &any_glibc)) {
            (
                _,
                Outcome::Wheel {
                    version,
                    tag,
                    glibc: Some(glibc),
                    ..
                },
            ) if glibc > ASSUMED_GLIBC => {
                let better = match &outcome {
                    Outcome::Wheel {
                        version: v, tag: t, ..
                    } => version > *v || (version == *v && tag != *t),
                    _ => true,
                };
                better.then_some((version, tag, glibc))
            }
            _ => None,
        }
    } else {
        None
    };
    Choice {
        outcome,
        nearest_wheel,
        assumed_glibc: glibc_unknown,
        assumed_macos: target.os == Os::Macos && target.macos.is_none(),
        with_newer_glibc,
    }
}

/// The best wheel of a release for the target, with its tag.
pub fn best_wheel<'a>(release: &'a Release, target: &Target) -> Option<(&'a str, Fit)> {
    release
        .wheels
        .iter()
        .filter_map(|tag| Some((&**tag, tag.parsed()?.fit(target)?)))
        .min_by_key(|(_, fit)| fit.rank)
}

/// Whether `==V` (not a wildcard) pins this version: the one way a yanked release is chosen.
fn pinned(wanted: Option<&VersionSpecifiers>, version: &Version) -> bool {
    wanted.is_some_and(|spec| {
        spec.iter().any(|one| {
            matches!(one.operator(), Operator::Equal | Operator::ExactEqual)
                && one.version() == version
        })
    })
}

fn pick(package: &Package, wanted: Option<&VersionSpecifiers>, target: &Target) -> Outcome {
    let names_pre =
        wanted.is_some_and(|spec| spec.iter().any(|one| one.version().any_prerelease()));
    // Newest first, each test only on the releases that passed the ones before, stopping at the
    // first final release that installs: the newest release of the allowed set, of its
    // unyanked part, of those admitting the Python, of the installable ones (pre-releases
    // included), and the chosen one. Nothing older is read once a choice is made.
    let mut newest: Option<&Release> = None;
    let mut newest_visible: Option<&Release> = None;
    let mut newest_for_python: Option<&Release> = None;
    let mut newest_installable: Option<&Release> = None;
    let mut best: Option<&Release> = None;
    for release in package.releases.iter().rev() {
        if !wanted.is_none_or(|spec| spec.contains(&release.version)) {
            continue;
        }
        newest.get_or_insert(release);
        if release.yanked && !pinned(wanted, &release.version) {
            continue;
        }
        newest_visible.get_or_insert(release);
        if !release.admits_python(&target.python) {
            continue;
        }
        newest_for_python.get_or_insert(release);
        if !(release.sdist || best_wheel(release, target).is_some()) {
            continue;
        }
        newest_installable.get_or_insert(release);
        if names_pre || !release.version.any_prerelease() {
            best = Some(release);
            break;
        }
    }
    let Some(newest) = newest else {
        return Outcome::Nothing(Why::NoRelease);
    };
    let Some(newest_visible) = newest_visible else {
        return Outcome::Nothing(Why::Yanked {
            version: newest.version.clone(),
        });
    };
    let Some(newest_for_python) = newest_for_python else {
        return Outcome::Nothing(Why::RequiresPython {
            version: newest_visible.version.clone(),
            requires_python: newest_visible.requires_python.clone().unwrap_or_default(),
        });
    };
    // Only pre-releases install: the newest of them, as when nothing else matches.
    let Some(best) = best.or(newest_installable) else {
        return Outcome::Nothing(Why::NoFile {
            version: newest_for_python.version.clone(),
        });
    };
    match best_wheel(best, target) {
        Some((tag, fit)) => Outcome::Wheel {
            version: best.version.clone(),
            tag: tag.to_string(),
            glibc: fit.glibc,
            macos: fit.macos,
        },
        None => Outcome::Sdist {
            version: best.version.clone(),
        },
    }
}

/// The release with a wheel for the target nearest to `at`: the first after it, else the last
/// before it (any, when `at` is `None`).
fn nearest_wheel(package: &Package, at: Option<&Version>, target: &Target) -> Option<Version> {
    let good = |r: &&Release| {
        !r.yanked
            && !r.version.any_prerelease()
            && r.admits_python(&target.python)
            && best_wheel(r, target).is_some()
    };
    let Some(at) = at else {
        return package
            .releases
            .iter()
            .rev()
            .find(good)
            .map(|r| r.version.clone());
    };
    package
        .releases
        .iter()
        .filter(|r| &r.version > at)
        .find(good)
        .or_else(|| {
            package
                .releases
                .iter()
                .rev()
                .filter(|r| &r.version < at)
                .find(good)
        })
        .map(|r| r.version.clone())
}

impl Choice {
    /// One sentence for a report: "torchvision 0.16.2 has no wheel for CPython 3.13 on macOS
    /// arm64; 0.21.0 is the first".
    pub fn describe(&self, name: &str, target: &Target) -> String {
        let on = target.describe();
        let nearest = |version: &Version| match &self.nearest_wheel {
            Some(n) if n > version => wording::choice_first_with_one(n),
            Some(n) => wording::choice_last_with_one(n),
            None => wording::choice_none_has_one(),
        };
        let mut text = match &self.outcome {
            Outcome::Wheel { version, tag, .. } => wording::choice_wheel(name, &on, tag, version),
            Outcome::Sdist { version } => {
                wording::choice_sdist(name, nearest(version), &on, version)
            }
            Outcome::Nothing(Why::NoRelease) => match &self.nearest_wheel {
                Some(n) => wording::choice_no_release_nearest(name, n, &on),
                None => wording::choice_no_release(name),
            },
            Outcome::Nothing(Why::Yanked { version }) => wording::choice_yanked(name, version),
            Outcome::Nothing(Why::RequiresPython {
                version,
                requires_python,
            }) => wording::choice_requires_python(
                name,
                nearest(version),
                &target.python,
                requires_python,
                version,
            ),
            Outcome::Nothing(Why::NoFile { version }) => {
                let nearest = match &self.nearest_wheel {
                    Some(n) if n > version => wording::choice_first(n),
                    _ => nearest(version),
                };
                wording::choice_no_file(name, nearest, &on, version)
            }
        };
        if let Some((version, _, (x, y))) = &self.with_newer_glibc {
            text.push_str(&wording::choice_newer_glibc(
                format!("{x}.{y}"),
                name,
                version,
            ));
        } else if self.assumed_glibc {
            text.push_str(&wording::choice_assumed_glibc());
        }
        text
    }
}

/// An install command for one requirement in the profile's Python: `uv pip install` where uv made
/// the environment (it has no pip), else that interpreter's own pip.
#[derive(Clone, Debug, Default)]
pub struct Command<'a> {
    /// `uv` or pip (`None`: pip).
    pub installer: Option<PythonInstaller>,
    /// The interpreter (`None`: `python` on PATH).
    pub python: Option<&'a str>,
    /// The package's name.
    pub name: &'a str,
    /// What to install (`torch==2.1.0`, `numpy>=1.26,<2`).
    pub requirement: &'a str,
    /// Replace a copy already installed that the requirement allows (another build of it).
    pub reinstall: bool,
    /// `--index-url`: the only index to install from.
    pub index: Option<&'a str>,
    /// `--extra-index-url`: an index beside the default one.
    pub extra_index: Option<&'a str>,
}

impl Command<'_> {
    /// The command line, its arguments quoted for a POSIX shell where they need it.
    pub fn line(&self) -> String {
        let mut words: Vec<String> = match self.installer {
            Some(PythonInstaller::Uv) => {
                let mut words = vec!["uv".into(), "pip".into(), "install".into()];
                if let Some(python) = self.python {
                    words.extend(["--python".into(), shell_word(python)]);
                }
                if self.reinstall {
                    words.extend(["--reinstall-package".into(), shell_word(self.name)]);
                }
                words
            }
            Some(PythonInstaller::Pip) | None => {
                let mut words = vec![
                    shell_word(self.python.unwrap_or("python")),
                    "-m".into(),
                    "pip".into(),
                    "install".into(),
                ];
                if self.reinstall {
                    words.push("--force-reinstall".into());
                }
                words
            }
        };
        words.push(shell_word(self.requirement));
        if let Some(index) = self.index {
            words.extend(["--index-url".into(), shell_word(index)]);
        }
        if let Some(index) = self.extra_index {
            words.extend(["--extra-index-url".into(), shell_word(index)]);
        }
        words.join(" ")
    }
}

/// A word as a POSIX shell reads it: as is when it holds nothing the shell interprets, else in
/// single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::profile::Arch;

    #[test]
    fn install_commands_use_the_environment_s_installer_and_quote_for_the_shell() {
        let pip = Command {
            python: Some("/home/me/my env/bin/python"),
            name: "torch",
            requirement: "torch==2.1.0",
            reinstall: true,
            index: Some("https://download.pytorch.org/whl/cu121"),
            ..Command::default()
        };
        assert_eq!(
            pip.line(),
            "'/home/me/my env/bin/python' -m pip install --force-reinstall torch==2.1.0 \
             --index-url https://download.pytorch.org/whl/cu121"
        );
        let uv = Command {
            installer: Some(PythonInstaller::Uv),
            python: Some("/p/.venv/bin/python"),
            name: "numpy",
            requirement: "numpy>=1.26,<2",
            ..Command::default()
        };
        assert_eq!(
            uv.line(),
            "uv pip install --python /p/.venv/bin/python 'numpy>=1.26,<2'"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }

    fn release(version: &str, wheels: &[&str], sdist: bool) -> Release {
        Release {
            wheels: wheels.iter().map(|w| (*w).into()).collect(),
            sdist,
            ..Release::new(Version::from_str(version).unwrap())
        }
    }

    fn package(releases: Vec<Release>) -> Package {
        let mut p = Package {
            name: "demo".into(),
            releases,
            ..Package::default()
        };
        p.normalize();
        p
    }

    fn spec(text: &str) -> VersionSpecifiers {
        VersionSpecifiers::from_str(text).unwrap()
    }

    fn linux311() -> Target {
        Target {
            libc: Some(Libc::Glibc(2, 35)),
            ..Target::cpython("3.11.4", Os::Linux, Arch::X86_64).unwrap()
        }
    }

    fn version(choice: &Choice) -> String {
        match &choice.outcome {
            Outcome::Wheel { version, .. } | Outcome::Sdist { version } => version.to_string(),
            Outcome::Nothing(why) => format!("{why:?}"),
        }
    }

    #[test]
    fn the_newest_allowed_release_wins_even_as_an_sdist() {
        let p = package(vec![
            release("1.0", &["cp311-cp311-manylinux_2_17_x86_64"], true),
            release("1.1", &["cp310-cp310-manylinux_2_17_x86_64"], true),
        ]);
        let choice = choose(&p, None, &linux311());
        assert_eq!(
            choice.outcome,
            Outcome::Sdist {
                version: Version::from_str("1.1").unwrap()
            }
        );
        assert_eq!(
            choice.nearest_wheel,
            Some(Version::from_str("1.0").unwrap())
        );
        assert!(
            choice
                .describe("demo", &linux311())
                .contains("1.0 is the last with one")
        );
        let pinned = choose(&p, Some(&spec("==1.0")), &linux311());
        assert!(matches!(pinned.outcome, Outcome::Wheel { .. }));
        assert_eq!(version(&pinned), "1.0");
    }

    #[test]
    fn nothing_installs_and_the_nearest_release_that_would() {
        let p = package(vec![
            release("0.16.2", &["cp311-cp311-manylinux_2_17_x86_64"], false),
            release("0.20.0", &["cp312-cp312-manylinux_2_17_x86_64"], false),
            release("0.21.0", &["cp313-cp313-manylinux_2_17_x86_64"], false),
        ]);
        let t313 = Target::cpython("3.13.5", Os::Linux, Arch::X86_64).unwrap();
        let choice = choose(&p, Some(&spec("==0.16.2")), &t313);
        assert_eq!(
            choice.outcome,
            Outcome::Nothing(Why::NoFile {
                version: Version::from_str("0.16.2").unwrap()
            })
        );
        assert_eq!(
            choice.nearest_wheel,
            Some(Version::from_str("0.21.0").unwrap())
        );
        assert_eq!(
            choice.describe("demo", &t313),
            "demo 0.16.2 has no wheel for CPython 3.13 on Linux x86_64; 0.21.0 is the first \
             (glibc 2.17 assumed: this profile does not say)"
        );
        assert_eq!(
            choose(&p, Some(&spec(">=9")), &t313).outcome,
            Outcome::Nothing(Why::NoRelease)
        );
    }

    #[test]
    fn yanked_releases_need_an_exact_pin() {
        let mut yanked = release("2.0", &["py3-none-any"], true);
        yanked.yanked = true;
        let p = package(vec![release("1.0", &["py3-none-any"], true), yanked]);
        assert_eq!(version(&choose(&p, None, &linux311())), "1.0");
        assert_eq!(
            choose(&p, Some(&spec(">=1.5")), &linux311()).outcome,
            Outcome::Nothing(Why::Yanked {
                version: Version::from_str("2.0").unwrap()
            })
        );
        assert_eq!(
            version(&choose(&p, Some(&spec("==2.0")), &linux311())),
            "2.0"
        );
    }

    #[test]
    fn pre_releases_only_when_named_or_alone() {
        let p = package(vec![
            release("1.0", &["py3-none-any"], false),
            release("2.0rc1", &["py3-none-any"], false),
        ]);
        assert_eq!(version(&choose(&p, None, &linux311())), "1.0");
        assert_eq!(
            version(&choose(&p, Some(&spec(">=2.0rc1")), &linux311())),
            "2.0rc1"
        );
        assert_eq!(
            version(&choose(&p, Some(&spec(">1.0")), &linux311())),
            "2.0rc1"
        );
    }

    #[test]
    fn requires_python_excludes_releases() {
        let mut new = release("2.0", &["py3-none-any"], true);
        new.requires_python = Some(">=3.12".into());
        let p = package(vec![release("1.0", &["py3-none-any"], true), new]);
        assert_eq!(version(&choose(&p, None, &linux311())), "1.0");
        let choice = choose(&p, Some(&spec(">=2")), &linux311());
        assert!(matches!(
            choice.outcome,
            Outcome::Nothing(Why::RequiresPython { .. })
        ));
        assert!(
            choice
                .describe("demo", &linux311())
                .contains("requires Python >=3.12, not 3.11.4")
        );
    }

    #[test]
    fn an_unknown_glibc_is_assumed_and_a_newer_one_is_offered() {
        let p = package(vec![
            release("1.0", &["cp311-cp311-manylinux2014_x86_64"], false),
            release("2.0", &["cp311-cp311-manylinux_2_28_x86_64"], false),
        ]);
        let unknown = Target::cpython("3.11.4", Os::Linux, Arch::X86_64).unwrap();
        let choice = choose(&p, None, &unknown);
        assert_eq!(version(&choice), "1.0");
        assert!(choice.assumed_glibc);
        assert_eq!(
            choice.with_newer_glibc,
            Some((
                Version::from_str("2.0").unwrap(),
                "cp311-cp311-manylinux_2_28_x86_64".into(),
                (2, 28)
            ))
        );
        assert!(
            choice
                .describe("demo", &unknown)
                .contains("demo 2.0 needs glibc ≥ 2.28")
        );
        let known = choose(&p, None, &linux311());
        assert_eq!(version(&known), "2.0");
        assert!(!known.assumed_glibc && known.with_newer_glibc.is_none());
    }

    #[test]
    fn the_most_specific_wheel_is_named() {
        let p = package(vec![release(
            "1.0",
            &[
                "py3-none-any",
                "cp38-abi3-manylinux_2_17_x86_64",
                "cp311-cp311-manylinux_2_17_x86_64",
            ],
            true,
        )]);
        match choose(&p, None, &linux311()).outcome {
            Outcome::Wheel { tag, glibc, .. } => {
                assert_eq!(tag, "cp311-cp311-manylinux_2_17_x86_64");
                assert_eq!(glibc, Some((2, 17)));
            }
            other => panic!("{other:?}"),
        }
    }
}
