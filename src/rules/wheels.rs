//! Every declared package judged from the package index (DESIGN.md, "Knowledge from the package
//! index"): what pip would install on the machine for the Python the project runs on. A wheel is
//! ✅ (the package is known and installs; backends stay the rules' business, and a rule's ⚠️ or ❌
//! still wins, as the worst finding wins); only a source distribution is ⚠️ "builds from source",
//! naming what the build needs (`index/builds.txt`); nothing installable is ❌, naming the nearest
//! release that would install, with a `require` change where the version constraint is the
//! problem. A package the index does not know is left alone (❔ unless a rule judges it).
//!
//! Only declared packages are looked up, and the knowledge parses only those: a project of ten
//! packages reads ten small files, not the snapshot.

use std::collections::{BTreeMap, HashSet};

use pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::VersionOrUrl;
use version_ranges::Ranges;

use super::catalogue::Catalogue;
use super::changes::resolve_changes;
use super::facts::{Facts, judged_python_version};
use super::rule::Change;
use crate::assessment::{ChangeAt, Edit, Finding, Status};
use crate::index::install::{Why, best_wheel};
use crate::index::package::Release;
use crate::index::requires::requires_dist_named;
use crate::index::{Choice, Knowledge, Outcome, Package, Target, choose};
use crate::profile::Profile;
use crate::project::{Installer, PackageDecl, Project, package_from_requirement};
use crate::wording;

/// The pseudo-rule id the index's findings carry, so a report and `--format json` can tell them
/// from the hand-written rules'.
pub const RULE: &str = "index-wheel";

/// `index/builds.txt`: what building a package from source needs.
const BUILDS: &str = include_str!("../../index/builds.txt");

/// What `index/builds.txt` says `name` needs to build, if it lists it.
fn build_needs(name: &str) -> Option<&'static str> {
    BUILDS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .find_map(|line| {
            let (package, needs) = line.split_once(char::is_whitespace)?;
            (package == name).then(|| needs.trim())
        })
}

/// Whether any release of the package publishes a wheel that is not pure Python: its sdist
/// then has compiled parts, and building it needs a compiler.
fn compiled(package: &Package) -> bool {
    package.releases.iter().any(|release| {
        release.wheels.iter().any(|tag| {
            tag.parsed()
                .is_some_and(|t| t.abi.iter().any(|abi| abi != "none"))
        })
    })
}

/// What the index's judgement adds to a report: findings, changes, and notes for problems that
/// are the same on every machine (a pin no release matches is not this machine's fault).
#[derive(Default)]
pub struct FromIndex {
    pub findings: Vec<Finding>,
    pub changes: Vec<ChangeAt>,
    pub notes: Vec<String>,
}

/// The target pip installs for: this machine's OS, architecture and macOS version with the Python
/// the project runs on. `None` when either is unknown (nothing is judged then).
pub fn target(facts: &Facts) -> Option<Target> {
    let python = judged_python_version(facts.profile, facts.project)?;
    Target::for_profile(facts.profile, &python)
}

/// Whether the index's answer applies to a declaration: pip installs it from PyPI by name.
/// Conda packages come from conda's channels, direct references from their URL, and a local
/// version (`+cu121`) only from another index.
fn from_pypi(decl: &PackageDecl) -> bool {
    decl.installer == Installer::Pip
        && decl.url.is_none()
        && decl.wheel_cuda.is_none()
        && !decl.specifier.contains('+')
}

/// A declaration pip installs from a direct reference to a wheel file: the file name's tags
/// decide whether it installs here, as an index's would.
fn direct_wheel(facts: &Facts, decl: &PackageDecl) -> Option<Package> {
    if decl.installer != Installer::Pip {
        return None;
    }
    let name = facts.catalogue.canonical(&decl.name);
    Package::from_wheel_url(name, decl.url.as_deref()?)
}

/// Judges every declaration pip installs from the index.
pub fn judge(facts: &Facts, knowledge: &Knowledge) -> FromIndex {
    let mut out = FromIndex::default();
    let Some(target) = target(facts) else {
        return out;
    };
    // A project that installs from other indexes may get a package from them: only what PyPI
    // certainly has (a wheel) is said then; what it lacks may be on the other index.
    let other_indexes = !facts.project.indexes.is_empty();
    let mut seen: HashSet<(String, String, Option<String>)> = HashSet::new();
    let mut packages: BTreeMap<String, Option<std::sync::Arc<Package>>> = BTreeMap::new();
    for decl in &facts.project.packages {
        if let Some(package) = direct_wheel(facts, decl) {
            let choice = choose(&package, None, &target);
            judge_one(
                facts,
                &target,
                decl,
                &package.name,
                &package,
                &choice,
                &mut out,
            );
            continue;
        }
        if !from_pypi(decl) {
            continue;
        }
        let name = facts.catalogue.canonical(&decl.name).to_string();
        if !seen.insert((name.clone(), decl.specifier.clone(), decl.extra.clone())) {
            continue;
        }
        let package = packages
            .entry(name.clone())
            .or_insert_with(|| knowledge.package(&name));
        let Some(package) = package.as_ref() else {
            continue;
        };
        let choice = knowledge.choose(package, decl.versions.as_ref(), &target);
        if other_indexes && !matches!(choice.outcome, Outcome::Wheel { .. }) {
            continue;
        }
        judge_one(facts, &target, decl, &name, package, &choice, &mut out);
        if decl.implied_by.is_none()
            && let Outcome::Wheel { version, .. } | Outcome::Sdist { version } = &choice.outcome
        {
            judge_pairs(facts, &target, decl, &name, package, version, &mut out);
        }
    }
    out
}

/// The newest release the constraint allows that pip would consider (not yanked, not a
/// pre-release): when pip installs an older one, the report says why.
fn newest_allowed<'a>(
    package: &'a Package,
    wanted: Option<&VersionSpecifiers>,
) -> Option<&'a Version> {
    package
        .releases
        .iter()
        .rev()
        .filter(|r| !r.yanked && !r.version.any_prerelease())
        .find(|r| wanted.is_none_or(|spec| spec.contains(&r.version)))
        .map(|r| &r.version)
}

fn judge_one(
    facts: &Facts,
    target: &Target,
    decl: &PackageDecl,
    name: &str,
    package: &Package,
    choice: &Choice,
    out: &mut FromIndex,
) {
    let on = target.describe();
    let described = choice.describe(name, target);
    // A direct wheel reference was read from its URL, not from an index on a day.
    let source = if package.as_of.is_empty() {
        vec![package.source.clone()]
    } else {
        vec![wording::index_source(&package.as_of, &package.source)]
    };
    let wanted = decl.versions.as_ref();
    let glibc_note = choice
        .with_newer_glibc
        .as_ref()
        .map(|(version, _, (x, y))| (version.clone(), format!("{x}.{y}")));
    let mut finding = Finding {
        rule: RULE.to_string(),
        component: name.to_string(),
        status: Status::Ok,
        title: String::new(),
        summary: String::new(),
        problem: described.clone(),
        impact: Vec::new(),
        solution: Vec::new(),
        evidence: vec![decl.evidence.clone()],
        source,
        verified: package.as_of.clone(),
    };
    let mut change: Option<Ranges<Version>> = None;
    match &choice.outcome {
        Outcome::Wheel { version, .. } => {
            finding.title = wording::wheel_title(name, &on, version);
            finding.summary = wording::wheel_summary(&on, version);
            // An older release than the newest allowed: say why, unless the reason is only the
            // assumed glibc (said below).
            if let Some(newest) = newest_allowed(package, wanted).filter(|n| *n > version)
                && glibc_note.is_none()
            {
                finding.summary = wording::wheel_older_summary(newest, &on, version);
            }
            if let Some((newer, glibc)) = &glibc_note {
                finding
                    .impact
                    .push(wording::wheel_glibc_impact(glibc, name, newer));
            }
        }
        Outcome::Sdist { version } => {
            // `none` in index/builds.txt: the sdist installs without compiling (deepspeed's
            // CUDA ops are built on first use, not by pip).
            let needs = match build_needs(name) {
                Some("none") => None,
                Some(needs) => Some(needs.to_string()),
                None => compiled(package).then(wording::build_needs_generic),
            };
            match (needs, &glibc_note) {
                (_, Some((newer, glibc))) => {
                    finding.status = Status::Warn;
                    finding.title = wording::glibc_unsaid_title(glibc, name, newer);
                    finding.summary = wording::glibc_unsaid_summary(glibc);
                    finding
                        .solution
                        .push(wording::glibc_unsaid_wheel_solution(glibc, name, newer));
                }
                (Some(needs), None) => {
                    finding.status = Status::Warn;
                    finding.title = wording::sdist_build_title(name, &on, version);
                    finding.summary = wording::sdist_build_summary(&on, version);
                    finding
                        .impact
                        .push(wording::sdist_build_impact(name, &needs));
                    finding.solution.push(wording::sdist_build_solution(&needs));
                    if let Some(nearest) = &choice.nearest_wheel {
                        finding
                            .solution
                            .push(wording::sdist_nearest_solution(name, nearest));
                        if wanted.is_some() {
                            change = Some(towards(version, nearest));
                        }
                    }
                }
                (None, None) => {
                    finding.title = wording::sdist_plain_title(name, version);
                    finding.summary = wording::sdist_plain_summary(version);
                }
            }
        }
        Outcome::Nothing(Why::NoRelease | Why::Yanked { .. }) => {
            // The same on every machine: a note, not a verdict about this one.
            out.notes.push(wording::installs_nowhere_note(
                &package.as_of,
                &described,
                &decl.evidence,
                decl.raw.trim(),
            ));
            return;
        }
        Outcome::Nothing(Why::RequiresPython { version, .. } | Why::NoFile { version }) => {
            if let Some((newer, glibc)) = &glibc_note {
                finding.status = Status::Warn;
                finding.title = wording::glibc_unsaid_title(glibc, name, newer);
                finding.summary = wording::glibc_unsaid_summary(glibc);
                finding.solution.push(wording::glibc_unsaid_solution());
            } else {
                finding.status = Status::Fail;
                finding.title = described.clone();
                finding.summary = match &choice.nearest_wheel {
                    Some(nearest) => wording::nothing_nearest_summary(nearest, &on, version),
                    None => wording::nothing_summary(&on, version),
                };
                finding
                    .impact
                    .push(wording::nothing_impact(name, &on, version));
                match &choice.nearest_wheel {
                    Some(nearest) if wanted.is_some() => {
                        finding
                            .solution
                            .push(wording::nothing_require_solution(name, nearest));
                        change = Some(towards(version, nearest));
                    }
                    Some(nearest) => finding
                        .solution
                        .push(wording::nothing_nearest_solution(name, nearest)),
                    None => {}
                }
                finding.solution.push(wording::nothing_python_solution());
            }
        }
    }
    if let Some(extra) = &decl.extra
        && finding.status == Status::Fail
    {
        finding.status = Status::Warn;
        finding.title = wording::extra_title(extra, &finding.title);
    }
    if let Some(versions) = change {
        out.changes.extend(resolve_changes(
            &[Change::Require {
                name: name.to_string(),
                versions,
            }],
            facts,
            RULE,
            None,
        ));
    }
    out.findings.push(finding);
}

/// The versions to require instead of `from`: from `nearest` up when it is newer, else from
/// `nearest` to below `from` (pip then picks the newest that installs).
fn towards(from: &Version, nearest: &Version) -> Ranges<Version> {
    if nearest > from {
        Ranges::higher_than(nearest.clone())
    } else {
        Ranges::between(nearest.clone(), from.clone())
    }
}

/// How many steps of `Requires-Dist` are followed from a declared package. One: torch comes
/// straight from peft, accelerate, bitsandbytes, timm and sentence-transformers. A second step
/// parses every dependency of every dependency, which made `check` of the founding project
/// eight times slower (3 ms to 28 ms) to find nothing the first step does not.
const IMPLIED_DEPTH: usize = 1;

/// Adds to the project the packages its declared packages pull in (their `Requires-Dist` for
/// the release pip would install here) that a rule judges and the project does not declare:
/// torch through peft, accelerate, bitsandbytes, timm or sentence-transformers meets the same
/// driver and backend rules as a declared torch. Each is marked with what pulls it in.
pub fn add_implied(project: &mut Project, profile: &Profile, catalogue: &Catalogue) {
    let Some(python) = judged_python_version(profile, project) else {
        return;
    };
    let Some(target) = Target::for_profile(profile, &python) else {
        return;
    };
    // Only packages a rule can warn or fail about once installed (drivers, backends, kernels):
    // every dependency pip installs would bury the report.
    let mut judged_names: HashSet<&str> = HashSet::new();
    let mut judged_patterns: Vec<&str> = Vec::new();
    for rule in catalogue.rules.iter().filter(|rule| rule.judges_running()) {
        for need in rule.needs.iter().flatten() {
            if need.contains('*') {
                judged_patterns.push(need);
            } else {
                judged_names.insert(need);
            }
        }
    }
    let judged_by_a_rule = |name: &str| {
        judged_names.contains(name)
            || judged_patterns
                .iter()
                .any(|pattern| super::pattern::glob(pattern, name))
    };
    let mut known: HashSet<String> = project
        .packages
        .iter()
        .map(|decl| catalogue.canonical(&decl.name).to_string())
        .collect();
    let mut frontier: Vec<PackageDecl> = project
        .packages
        .iter()
        .filter(|decl| from_pypi(decl))
        .cloned()
        .collect();
    let knowledge = &catalogue.knowledge;
    for step in 0..IMPLIED_DEPTH {
        // At the last step only what a rule judges is added, and nothing is followed further:
        // the other requirements need not be parsed at all.
        let last = step + 1 == IMPLIED_DEPTH;
        let worth_reading = |name: &str| !last || judged_by_a_rule(catalogue.canonical(name));
        let mut next = Vec::new();
        for parent in &frontier {
            let name = catalogue.canonical(&parent.name).to_string();
            let Some(package) = knowledge.package(&name) else {
                continue;
            };
            let version = match knowledge
                .choose(&package, parent.versions.as_ref(), &target)
                .outcome
            {
                Outcome::Wheel { version, .. } | Outcome::Sdist { version } => version,
                Outcome::Nothing(_) => continue,
            };
            let extras: Vec<&str> = parent.extras.iter().map(String::as_str).collect();
            let Some(requirements) =
                requires_dist_named(&package, &version, &target, &extras, worth_reading)
            else {
                continue;
            };
            let by = match &parent.implied_by {
                Some(grandparent) => wording::pulled_in_by_implied(grandparent, &name, &version),
                None => wording::pulled_in_by_declared(&parent.evidence, &name),
            };
            for requirement in requirements {
                // A release pinned by the parent (`nvidia-nccl-cu13==2.30.7`, `triton~=3.9.0`
                // from torch) is part of the parent's build: the rules about the parent judge
                // it, and judging it again would count the parent's problem twice.
                if built_with_parent(&requirement) {
                    continue;
                }
                let raw = requirement.to_string();
                let mut decl = package_from_requirement(requirement, &raw, parent.evidence.clone());
                let child = catalogue.canonical(&decl.name).to_string();
                if known.contains(&child) || !from_pypi(&decl) {
                    continue;
                }
                // Followed for what it pulls in, but added only when a rule judges it.
                decl.extra = parent.extra.clone();
                // requires_dist kept only the requirements whose markers hold here.
                decl.marker = None;
                decl.implied_by = Some(by.clone());
                known.insert(child.clone());
                if judged_by_a_rule(&child) {
                    project.packages.push(decl.clone());
                }
                next.push(decl);
            }
        }
        frontier = next;
    }
}

/// Whether a requirement pins one release (`==`, `===`) or one release series (`~=`): what a
/// package's build ships with, rather than a dependency it merely needs.
fn built_with_parent(requirement: &pep508_rs::Requirement<pep508_rs::VerbatimUrl>) -> bool {
    match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => specifiers.iter().any(|one| {
            matches!(
                one.operator(),
                Operator::Equal | Operator::ExactEqual | Operator::TildeEqual
            )
        }),
        _ => false,
    }
}

/// The pseudo-rule id of a pair pip cannot install together (torchvision 0.16.2 with torch
/// 2.3.0), read from the exact pins in `Requires-Dist`.
pub const PAIR_RULE: &str = "index-pair";

/// The exact pins (`torch==2.1.2`) that a release's `Requires-Dist` puts on the packages
/// `wanted` accepts (by normalized name); `None` when the snapshot does not hold the release's
/// metadata.
fn exact_pins(
    package: &Package,
    version: &Version,
    target: &Target,
    extras: &[&str],
    wanted: impl Fn(&str) -> bool,
) -> Option<Vec<(String, Version)>> {
    let requirements = requires_dist_named(package, version, target, extras, wanted)?;
    Some(
        requirements
            .into_iter()
            .filter_map(|requirement| {
                let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &requirement.version_or_url
                else {
                    return None;
                };
                let mut clauses = specifiers.iter();
                let one = clauses.next()?;
                let exact = clauses.next().is_none()
                    && matches!(one.operator(), Operator::Equal | Operator::ExactEqual);
                exact.then(|| {
                    (
                        crate::names::normalize(requirement.name.as_ref()),
                        one.version().clone(),
                    )
                })
            })
            .collect(),
    )
}

/// What a release says about pairing with the declared versions of `other`.
enum Pairing {
    /// It pins `other` to a version the project allows, or does not pin it at all.
    Pairs(Option<Version>),
    /// It pins `other` to a version the project does not allow.
    Conflicts,
    /// The snapshot does not hold its metadata.
    Unknown,
}

/// Checks a declared package against the packages its chosen release pins exactly: when the
/// project's own constraint on the pinned package excludes the pin, pip backtracks to another
/// release of the package that pairs; when none within the constraint does, the pair cannot be
/// installed together, and the report names the release that pairs with what the project pins.
fn judge_pairs(
    facts: &Facts,
    target: &Target,
    decl: &PackageDecl,
    name: &str,
    package: &Package,
    chosen: &Version,
    out: &mut FromIndex,
) {
    let extras: Vec<&str> = decl.extras.iter().map(String::as_str).collect();
    // Only a pin on a package the project itself constrains can conflict.
    let constrained = |name: &str| {
        facts
            .declared(facts.catalogue.canonical(name))
            .any(|d| d.implied_by.is_none() && d.versions.is_some())
    };
    let Some(pins) = exact_pins(package, chosen, target, &extras, constrained) else {
        return;
    };
    let installable = |release: &&Release| {
        !release.yanked
            && release.admits_python(&target.python)
            && (release.sdist || best_wheel(release, target).is_some())
    };
    for (other, pinned) in pins {
        let other = facts.catalogue.canonical(&other).to_string();
        let Some(conflict) = facts
            .declared(&other)
            .filter(|d| d.implied_by.is_none() && !d.own)
            .find(|d| d.versions.as_ref().is_some_and(|s| !s.contains(&pinned)))
        else {
            continue;
        };
        let Some(allowed) = conflict.versions.as_ref() else {
            continue;
        };
        let allowed_range = super::versions::release_range(allowed.clone());
        // A release pairs when what it requires of `other` (a pin or a range: torchvision 0.29.2
        // requires torch>=2.14.0) overlaps what the project allows.
        let pairing = |release: &Release| {
            let Some(requirements) =
                requires_dist_named(package, &release.version, target, &extras, |named| {
                    facts.catalogue.canonical(named) == other
                })
            else {
                return Pairing::Unknown;
            };
            let wanted = requirements.into_iter().find_map(|r| {
                let named = crate::names::normalize(r.name.as_ref());
                (facts.catalogue.canonical(&named) == other).then_some(r.version_or_url)
            });
            match wanted {
                Some(Some(VersionOrUrl::VersionSpecifier(specifiers))) => {
                    let exact = specifiers
                        .iter()
                        .find(|one| {
                            matches!(one.operator(), Operator::Equal | Operator::ExactEqual)
                        })
                        .map(|one| one.version().clone());
                    let range = super::versions::release_range(specifiers.clone());
                    if range.is_disjoint(&allowed_range) {
                        Pairing::Conflicts
                    } else {
                        Pairing::Pairs(exact)
                    }
                }
                _ => Pairing::Pairs(None),
            }
        };
        // pip backtracks: any release within the package's own constraint that pairs (or that
        // the snapshot cannot judge) means no verdict here.
        let settles = package
            .releases
            .iter()
            .rev()
            .filter(|r| {
                decl.versions
                    .as_ref()
                    .is_none_or(|s| s.contains(&r.version))
            })
            .filter(installable)
            .any(|r| !matches!(pairing(r), Pairing::Conflicts));
        if settles {
            continue;
        }
        let works = package
            .releases
            .iter()
            .rev()
            .filter(installable)
            .filter(|r| !r.version.any_prerelease())
            .find_map(|r| match pairing(r) {
                Pairing::Pairs(pin) => Some((r.version.clone(), pin)),
                _ => None,
            });
        let mut title = wording::pair_title(chosen, name, &other, &pinned);
        let mut solution = Vec::new();
        if let Some((version, pin)) = &works {
            let with = pin.as_ref().map_or_else(
                || format!("{other}{}", conflict.specifier),
                |p| format!("{other} {p}"),
            );
            title = wording::pair_title_works(name, &title, version, &with);
            solution.push(wording::pair_solution(name, version, &with));
            for own in facts
                .declared(name)
                .filter(|d| d.implied_by.is_none() && !d.own)
            {
                let edit = Edit::ReplaceRequirement {
                    from: own.written(),
                    to: format!("{}=={version}", own.name),
                };
                let change = ChangeAt::new(&own.evidence, own.raw.trim(), PAIR_RULE, edit);
                out.changes.push(change);
            }
        }
        solution.push(wording::pair_pin_solution(chosen, name, &other, &pinned));
        let status = if decl.extra.is_some() || conflict.extra.is_some() {
            Status::Warn
        } else {
            Status::Fail
        };
        out.findings.push(Finding {
            rule: PAIR_RULE.to_string(),
            component: name.to_string(),
            status,
            title: title.clone(),
            summary: title,
            problem: wording::pair_problem(
                chosen,
                &conflict.evidence,
                name,
                &other,
                &pinned,
                &conflict.specifier,
            ),
            impact: vec![wording::pair_impact()],
            solution,
            evidence: vec![decl.evidence.clone(), conflict.evidence.clone()],
            source: vec![wording::pair_source(
                chosen,
                &package.as_of,
                &package.source,
                name,
            )],
            verified: package.as_of.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_needs_are_read_from_the_data_file() {
        assert!(build_needs("tokenizers").is_some_and(|n| n.contains("Rust")));
        assert!(build_needs("flash-attn").is_some_and(|n| n.contains("CUDA")));
        assert_eq!(build_needs("requests"), None);
        assert_eq!(build_needs("#"), None);
        // Every line names a normalized package and says something.
        for line in BUILDS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (name, needs) = line
                .split_once(char::is_whitespace)
                .expect("name and needs");
            assert_eq!(crate::names::normalize(name), name, "{line}");
            assert!(!needs.trim().is_empty(), "{line}");
        }
    }

    #[test]
    fn towards_the_nearest_release() {
        let v = |s: &str| <Version as std::str::FromStr>::from_str(s).unwrap();
        assert_eq!(
            super::super::versions::describe(&towards(&v("0.16.2"), &v("0.21.0"))),
            ">=0.21.0"
        );
        assert_eq!(
            super::super::versions::describe(&towards(&v("2.0"), &v("1.2"))),
            ">=1.2,<2.0"
        );
    }
}
