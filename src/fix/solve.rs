//! Choosing the edits: each component's alternatives (the rules' own changes, a pin that
//! leaves a rule's version range, another package index) are tried against the project judged
//! again with them, and the set with the best result wins: fewest ❌, then fewest ⚠️, then
//! fewest failing and warning findings, then fewest edits.
//!
//! The search is a deterministic hill climb: from no edits, each round tries adding (or
//! dropping) one alternative, an added one replacing those that edit the same lines, and keeps
//! the best strict improvement. Pins that must pair (torchvision with torch, from the index
//! snapshot's `Requires-Dist`) move together: when an alternative makes the project ask for a
//! pair pip cannot install, the pair's own repair joins that alternative before it is judged.
//! An index alternative must carry a release the requirement allows ([`super::indexes`]);
//! where the requirement allows releases the index lacks, it is narrowed to those it has.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use pep440_rs::{Version, VersionSpecifiers};
use version_ranges::Ranges;

use super::edit::Lines;
use super::indexes;
use crate::assessment::{Assessment, ChangeAt, Edit, Status};
use crate::pipeline;
use crate::profile::Profile;
use crate::project::{PackageDecl, Project};
use crate::rules::{self, Catalogue, PAIR_RULE, WHEEL_RULE};
use crate::source::{self, SourceError};

/// Rounds of the climb; each adds or drops one alternative.
const MAX_ROUNDS: usize = 8;
/// Judgements of the edited project, all rounds together; the climb stops where it is after.
const MAX_EVALUATIONS: usize = 160;
/// Alternatives kept per component (the first ones, in the order they are found).
const MAX_PER_COMPONENT: usize = 12;
/// Times a pair's repair is added to an alternative before it is judged as it stands.
const COUPLING_STEPS: usize = 3;

/// The edits chosen and the project judged with them.
pub struct Solved {
    /// One edit per line (an index line inserted before a requirement is its own edit), in
    /// file and line order.
    pub edits: Vec<ChangeAt>,
    /// How many times the edited project was judged.
    pub evaluations: usize,
}

/// One alternative: edits that go together.
#[derive(Clone, Debug)]
struct Move {
    /// The component it is about, for the per-component bound.
    component: String,
    edits: Vec<ChangeAt>,
}

/// A line of a file.
type At = (String, u32);

/// Each edited file's line map (edited line → original line).
type LineMaps = BTreeMap<String, Vec<Option<u32>>>;

/// A set of edits as the memo knows it.
type EditKey = Vec<(String, u32, Edit)>;

/// How good a judged result is: smaller is better.
type Score = (usize, usize, usize, usize, usize);

/// Finds the best set of edits for `before` (the project as it is, scanned as `project`).
pub fn solve(
    root: &Path,
    before: &Assessment,
    project: &Project,
    profile: &Profile,
    catalogue: &Catalogue,
) -> Result<Solved, SourceError> {
    let moves = alternatives(before, project, catalogue);
    if moves.is_empty() {
        return Ok(Solved {
            edits: Vec::new(),
            evaluations: 0,
        });
    }
    let mut judge = Judge::new(root, before, project, profile, catalogue)?;
    let result = climb(&moves, &mut judge);
    judge.close();
    let (edits, _) = result?;
    Ok(Solved {
        edits,
        evaluations: judge.evaluations,
    })
}

/// The climb itself: returns the chosen edits and their score.
fn climb(moves: &[Move], judge: &mut Judge) -> Result<(Vec<ChangeAt>, Score), SourceError> {
    let mut chosen: BTreeSet<usize> = BTreeSet::new();
    let (mut edits, mut score) = match judge.closed(moves, &chosen)? {
        Some(found) => found,
        None => return Ok((Vec::new(), (0, 0, 0, 0, 0))),
    };
    for _ in 0..MAX_ROUNDS {
        let mut best: Option<(BTreeSet<usize>, Vec<ChangeAt>, Score)> = None;
        for index in 0..moves.len() {
            if judge.evaluations >= MAX_EVALUATIONS {
                break;
            }
            let mut candidate = chosen.clone();
            if !candidate.remove(&index) {
                candidate.retain(|&other| !conflict(&moves[other], &moves[index]));
                candidate.insert(index);
            }
            let Some((found, found_score)) = judge.closed(moves, &candidate)? else {
                continue;
            };
            let to_beat = best.as_ref().map_or(score, |b| b.2);
            if found_score < to_beat {
                best = Some((candidate, found, found_score));
            }
        }
        match best {
            Some((next, found, found_score)) => {
                chosen = next;
                edits = found;
                score = found_score;
            }
            None => break,
        }
    }
    Ok((edits, score))
}

/// Two alternatives conflict when they edit one line differently; an index line inserted
/// before a requirement goes with any edit of it but its removal, and a line that sets several
/// keys (a launch command's options) takes one value for each.
fn conflict(a: &Move, b: &Move) -> bool {
    a.edits.iter().any(|x| {
        b.edits
            .iter()
            .any(|y| x.file == y.file && x.line == y.line && !compatible(&x.edit, &y.edit))
    })
}

fn compatible(a: &Edit, b: &Edit) -> bool {
    match (a, b) {
        _ if a == b => true,
        // A launch line sets each of its options on its own: `--nnodes 2 --nproc-per-node 8`.
        (Edit::SetValue { key: x, .. }, Edit::SetValue { key: y, .. }) => x != y,
        (Edit::UseIndex { .. }, Edit::UseIndex { .. }) => false,
        (Edit::UseIndex { .. }, Edit::RemoveLine) | (Edit::RemoveLine, Edit::UseIndex { .. }) => {
            false
        }
        (Edit::UseIndex { .. }, _) | (_, Edit::UseIndex { .. }) => true,
        _ => false,
    }
}

/// Every component's alternatives, in a fixed order: the rules' changes as they call for them
/// (an index change once per index that can serve it), then pins that leave a failing or
/// warning rule's version range.
fn alternatives(before: &Assessment, project: &Project, catalogue: &Catalogue) -> Vec<Move> {
    // A change belongs to the component of the finding that calls for it (one finding can
    // call for the same key in a config and two launch scripts: they move together).
    let subject = |change: &ChangeAt| -> String {
        let finding = before.findings.iter().find(|f| {
            f.rule == change.rule
                && f.evidence
                    .iter()
                    .any(|e| e.file == change.file && e.line == change.line)
        });
        if let Some(finding) = finding {
            return finding.component.clone();
        }
        let mut of_rule = before.findings.iter().filter(|f| f.rule == change.rule);
        if let (Some(only), None) = (of_rule.next(), of_rule.next()) {
            return only.component.clone();
        }
        if let Edit::SetValue { key, .. } = &change.edit {
            return key.clone();
        }
        declared_at(project, &change.file, change.line).map_or_else(
            || format!("{}:{}", change.file, change.line),
            |decl| canonical(catalogue, &decl.name),
        )
    };
    let mut groups: Vec<((String, String), Vec<ChangeAt>)> = Vec::new();
    for change in &before.changes {
        let key = (change.rule.clone(), subject(change));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, edits)) => edits.push(change.clone()),
            None => groups.push((key, vec![change.clone()])),
        }
    }
    let mut moves = Vec::new();
    for ((_, component), edits) in groups {
        for edits in index_variants(&edits, project, catalogue) {
            moves.push(Move {
                component: component.clone(),
                edits,
            });
        }
    }
    moves.extend(leave_rule_ranges(before, project, catalogue));
    let mut distinct: Vec<Move> = Vec::new();
    let mut per_component: HashMap<String, usize> = HashMap::new();
    for candidate in moves {
        let same = |m: &Move| {
            m.edits.len() == candidate.edits.len()
                && m.edits
                    .iter()
                    .zip(&candidate.edits)
                    .all(|(a, b)| (&a.file, a.line, &a.edit) == (&b.file, b.line, &b.edit))
        };
        if candidate.edits.is_empty() || distinct.iter().any(same) {
            continue;
        }
        let count = per_component
            .entry(candidate.component.clone())
            .or_default();
        if *count >= MAX_PER_COMPONENT {
            continue;
        }
        *count += 1;
        distinct.push(candidate);
    }
    distinct
}

/// A rule's changes with its index swapped for each index the data describes for the package
/// (the rule's own first); the changes as they are when the data does not describe it.
fn index_variants(
    edits: &[ChangeAt],
    project: &Project,
    catalogue: &Catalogue,
) -> Vec<Vec<ChangeAt>> {
    let indexed = edits.iter().find_map(|change| match &change.edit {
        Edit::UseIndex { url } => {
            let decl = declared_at(project, &change.file, change.line)?;
            let package = canonical(catalogue, &decl.name);
            indexes::carried(url, &package).map(|_| (url.clone(), package, own_range(decl)))
        }
        _ => None,
    });
    let Some((own, package, allowed)) = indexed else {
        return vec![edits.to_vec()];
    };
    // The rule's own index first, then those that carry a release the declaration allows as it
    // stands, then the rest (for when another alternative moves the pin), newest CUDA first.
    let others: Vec<&indexes::Carried> = indexes::for_package(&package)
        .filter(|c| c.url != own.trim_end_matches('/'))
        .collect();
    let mut urls = vec![own.clone()];
    for carries in [true, false] {
        urls.extend(
            others
                .iter()
                .filter(|c| c.releases.intersection(&allowed).is_empty() != carries)
                .map(|c| c.url.clone()),
        );
    }
    urls.into_iter()
        .map(|url| {
            edits
                .iter()
                .map(|change| {
                    match (
                        &change.edit,
                        declared_at(project, &change.file, change.line),
                    ) {
                        (Edit::UseIndex { .. }, Some(decl)) => ChangeAt::new(
                            &decl.evidence,
                            &decl.raw,
                            &change.rule,
                            Edit::UseIndex { url: url.clone() },
                        ),
                        _ => change.clone(),
                    }
                })
                .collect()
        })
        .collect()
}

/// For each failing or warning finding of a catalogue rule, the pins that leave the rule's
/// version range (`bitsandbytes==0.41.1` under a rule about `<0.50` → `bitsandbytes>=0.50`).
fn leave_rule_ranges(before: &Assessment, project: &Project, catalogue: &Catalogue) -> Vec<Move> {
    let mut out = Vec::new();
    for finding in before.findings.iter().filter(|f| f.status >= Status::Warn) {
        let Some(rule) = catalogue
            .rule(&finding.rule)
            .and_then(|loaded| loaded.rule())
        else {
            continue;
        };
        let mut conditions = Vec::new();
        positive_packages(&rule.when, &mut conditions);
        for (name, versions) in conditions {
            let name = if name.contains("{each}") {
                finding.component.clone()
            } else {
                canonical(catalogue, &name)
            };
            // Each stretch of versions outside the rule's range is one alternative: a requirement
            // is one stretch (`<0.18`, or `>=2.0,<2.3`), never both.
            let outside = versions.complement();
            for (low, high) in outside.iter() {
                let wanted = Ranges::from_range_bounds((low.clone(), high.clone()));
                let edits: Vec<ChangeAt> = manifest_decls(project, catalogue, &name)
                    .filter(|decl| !own_range(decl).subset_of(&wanted))
                    .map(|decl| {
                        let to = format!(
                            "{}{}",
                            decl.name,
                            rules::merge_requirement(decl.versions.as_ref(), &wanted)
                        );
                        replace(decl, &to, &finding.rule)
                    })
                    .collect();
                if !edits.is_empty() {
                    out.push(Move {
                        component: name.clone(),
                        edits,
                    });
                }
            }
        }
    }
    out
}

/// The package conditions with a version range that hold where the rule fires (not those under
/// a `not`).
fn positive_packages(condition: &rules::Condition, out: &mut Vec<(String, Ranges<Version>)>) {
    match condition {
        rules::Condition::All(all) | rules::Condition::Any(all) => {
            for one in all {
                positive_packages(one, out);
            }
        }
        rules::Condition::Package(package) if package.versions != Ranges::full() => {
            out.push((package.name.clone(), package.versions.clone()));
        }
        _ => {}
    }
}

fn canonical(catalogue: &Catalogue, name: &str) -> String {
    let normalized = crate::names::normalize(name);
    catalogue.canonical(&normalized).to_string()
}

/// The declaration on a line of a manifest.
fn declared_at<'p>(project: &'p Project, file: &str, line: u32) -> Option<&'p PackageDecl> {
    project
        .packages
        .iter()
        .find(|d| d.evidence.file == file && d.evidence.line == line && d.implied_by.is_none())
}

/// The declarations of `name` that have a manifest line to edit.
fn manifest_decls<'p>(
    project: &'p Project,
    catalogue: &'p Catalogue,
    name: &'p str,
) -> impl Iterator<Item = &'p PackageDecl> {
    project.packages.iter().filter(move |decl| {
        canonical(catalogue, &decl.name) == name
            && !decl.imported
            && decl.implied_by.is_none()
            && !decl.evidence.file.ends_with(".ipynb")
    })
}

fn own_range(decl: &PackageDecl) -> Ranges<Version> {
    decl.versions
        .clone()
        .map_or_else(Ranges::full, rules::release_range)
}

/// Replaces the declaration's requirement by `to`, in the words every change uses.
fn replace(decl: &PackageDecl, to: &str, rule: &str) -> ChangeAt {
    let edit = Edit::ReplaceRequirement {
        from: decl.written(),
        to: to.to_string(),
    };
    ChangeAt::new(&decl.evidence, &decl.raw, rule, edit)
}

/// The versions a requirement such as `torch>=2.6` allows; everything when it names none.
fn allowed_by(requirement: &str) -> Option<Ranges<Version>> {
    let start = requirement.find(['<', '>', '=', '!', '~']);
    let Some(start) = start else {
        return Some(Ranges::full());
    };
    let spec: VersionSpecifiers = rules::specifiers(requirement[start..].trim())?;
    Some(rules::release_range(spec))
}

/// One judgement of the edited project.
struct Judged {
    score: Score,
    after: Assessment,
    /// The judgement without the index lines the data describes, when there are any.
    pypi: Option<(Assessment, LineMaps)>,
    /// Each edited file's line map (edited line → original line).
    maps: LineMaps,
}

/// Judges the project with edits, in a private temporary folder holding a copy of the files the
/// report was made from, the edited ones under their original names.
struct Judge<'a> {
    folder: PathBuf,
    originals: BTreeMap<String, String>,
    written: BTreeSet<String>,
    before: &'a Assessment,
    project: &'a Project,
    profile: &'a Profile,
    catalogue: &'a Catalogue,
    memo: BTreeMap<EditKey, Option<std::rc::Rc<Judged>>>,
    evaluations: usize,
}

impl<'a> Judge<'a> {
    fn new(
        root: &Path,
        before: &'a Assessment,
        project: &'a Project,
        profile: &'a Profile,
        catalogue: &'a Catalogue,
    ) -> Result<Judge<'a>, SourceError> {
        let folder = std::env::temp_dir().join(format!(
            "mlcompat-solve-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let mut judge = Judge {
            folder,
            originals: BTreeMap::new(),
            written: BTreeSet::new(),
            before,
            project,
            profile,
            catalogue,
            memo: BTreeMap::new(),
            evaluations: 0,
        };
        for file in &before.files {
            let text = source::read_text(&root.join(file))?;
            judge.write(file, &text)?;
            judge.originals.insert(file.clone(), text);
        }
        Ok(judge)
    }

    fn write(&self, file: &str, text: &str) -> Result<(), SourceError> {
        let target = self.folder.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SourceError::new(parent, e.to_string()))?;
        }
        std::fs::write(&target, text).map_err(|e| SourceError::new(&target, e.to_string()))
    }

    fn close(&self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }

    /// Judges the chosen alternatives, adding the repairs of pairs they break; `None` when
    /// they cannot be applied together.
    fn closed(
        &mut self,
        moves: &[Move],
        chosen: &BTreeSet<usize>,
    ) -> Result<Option<(Vec<ChangeAt>, Score)>, SourceError> {
        let mut coupled: BTreeMap<At, ChangeAt> = BTreeMap::new();
        let mut last = None;
        for _ in 0..=COUPLING_STEPS {
            let Some(edits) = self.materialize(moves, chosen, &coupled) else {
                return Ok(None);
            };
            let Some(judged) = self.judge(&edits)? else {
                return Ok(None);
            };
            let before_pairs: BTreeSet<(&str, &str)> = self
                .before
                .findings
                .iter()
                .filter(|f| f.rule == PAIR_RULE)
                .map(|f| (f.rule.as_str(), f.component.as_str()))
                .collect();
            let (view, maps) = match &judged.pypi {
                Some((view, maps)) => (view, maps),
                None => (&judged.after, &judged.maps),
            };
            let broken: BTreeSet<&str> = view
                .findings
                .iter()
                .filter(|f| f.rule == PAIR_RULE && f.status >= Status::Warn)
                .filter(|f| !before_pairs.contains(&(f.rule.as_str(), f.component.as_str())))
                .map(|f| f.component.as_str())
                .collect();
            let mut added = false;
            for change in view.changes.iter().filter(|c| c.rule == PAIR_RULE) {
                let Some(decl) = self.original_decl(maps, change) else {
                    continue;
                };
                if !broken.contains(canonical(self.catalogue, &decl.name).as_str()) {
                    continue;
                }
                let Edit::ReplaceRequirement { to, .. } = &change.edit else {
                    continue;
                };
                let at = (decl.evidence.file.clone(), decl.evidence.line);
                if coupled.get(&at).is_none_or(
                    |c| !matches!(&c.edit, Edit::ReplaceRequirement { to: had, .. } if had == to),
                ) {
                    coupled.insert(at, replace(decl, to, PAIR_RULE));
                    added = true;
                }
            }
            let score = judged.score;
            last = Some((edits, score));
            if !added {
                break;
            }
        }
        Ok(last)
    }

    /// The original declaration behind a change the edited project's report points at.
    fn original_decl(&self, maps: &LineMaps, change: &ChangeAt) -> Option<&'a PackageDecl> {
        let line = match maps.get(&change.file) {
            Some(map) => (*map.get((change.line as usize).checked_sub(1)?)?)?,
            None => change.line,
        };
        declared_at(self.project, &change.file, line)
    }

    /// The chosen alternatives' edits with the pairs' repairs folded in and index requirements
    /// narrowed to what the index carries; `None` when two of them edit one line differently or
    /// an index carries nothing the requirement allows.
    fn materialize(
        &self,
        moves: &[Move],
        chosen: &BTreeSet<usize>,
        coupled: &BTreeMap<At, ChangeAt>,
    ) -> Option<Vec<ChangeAt>> {
        let mut by_line: BTreeMap<At, Vec<ChangeAt>> = BTreeMap::new();
        for &index in chosen {
            for change in &moves[index].edits {
                let at = (change.file.clone(), change.line);
                let edits = by_line.entry(at).or_default();
                if !edits.iter().any(|e| e.edit == change.edit) {
                    edits.push(change.clone());
                }
            }
        }
        for (at, repair) in coupled {
            let edits = by_line.entry(at.clone()).or_default();
            if edits.iter().any(|e| e.edit == Edit::RemoveLine) {
                continue;
            }
            edits.retain(|e| !matches!(e.edit, Edit::ReplaceRequirement { .. }));
            edits.push(repair.clone());
        }
        for (at, edits) in &mut by_line {
            let Some(url) = edits.iter().find_map(|e| match &e.edit {
                Edit::UseIndex { url } => Some(url.clone()),
                _ => None,
            }) else {
                continue;
            };
            let Some(decl) = declared_at(self.project, &at.0, at.1) else {
                continue;
            };
            let Some(carried) = indexes::carried(&url, &canonical(self.catalogue, &decl.name))
            else {
                continue;
            };
            let requirement = edits.iter().find_map(|e| match &e.edit {
                Edit::ReplaceRequirement { to, .. } => Some(to.clone()),
                _ => None,
            });
            let allowed = match &requirement {
                Some(to) => allowed_by(to)?,
                None => own_range(decl),
            };
            let narrowed = allowed.intersection(&carried.releases);
            if narrowed.is_empty() {
                return None;
            }
            if !allowed.subset_of(&carried.releases) {
                let spec = rules::describe(&narrowed);
                if spec.contains(' ') {
                    return None;
                }
                let rule = edits
                    .iter()
                    .find(|e| matches!(e.edit, Edit::UseIndex { .. }))
                    .map_or_else(String::new, |e| e.rule.clone());
                edits.retain(|e| !matches!(e.edit, Edit::ReplaceRequirement { .. }));
                edits.push(replace(decl, &format!("{}{spec}", decl.name), &rule));
            }
        }
        let mut out = Vec::new();
        for edits in by_line.into_values() {
            for (i, a) in edits.iter().enumerate() {
                if edits[i + 1..].iter().any(|b| !compatible(&a.edit, &b.edit)) {
                    return None;
                }
            }
            out.extend(edits);
        }
        Some(out)
    }

    /// Judges the project with `edits` applied (memoized); `None` when one does not apply.
    ///
    /// A project that installs from another index is not told what PyPI lacks (the other index
    /// may have it), so an index edit would hide every wheel and pairing problem. For an index
    /// the data describes, the fix has made sure it carries the release, and its other files
    /// follow PyPI's: the project is also judged without the index lines, and that judgement's
    /// wheel and pairing findings count too.
    fn judge(&mut self, edits: &[ChangeAt]) -> Result<Option<std::rc::Rc<Judged>>, SourceError> {
        let key: EditKey = edits
            .iter()
            .map(|c| (c.file.clone(), c.line, c.edit.clone()))
            .collect();
        if let Some(known) = self.memo.get(&key) {
            return Ok(known.clone());
        }
        self.evaluations += 1;
        let Some((after, maps)) = self.judge_text(edits)? else {
            self.memo.insert(key, None);
            return Ok(None);
        };
        let described = |change: &ChangeAt| match &change.edit {
            Edit::UseIndex { url } => declared_at(self.project, &change.file, change.line)
                .is_some_and(|d| {
                    indexes::carried(url, &canonical(self.catalogue, &d.name)).is_some()
                }),
            _ => false,
        };
        let pypi = if edits.iter().any(described) {
            let without: Vec<ChangeAt> = edits.iter().filter(|c| !described(c)).cloned().collect();
            self.judge_text(&without)?
        } else {
            None
        };
        let score = merged_score(&after, pypi.as_ref().map(|p| &p.0), edits.len());
        let judged = std::rc::Rc::new(Judged {
            score,
            after,
            pypi,
            maps,
        });
        self.memo.insert(key, Some(judged.clone()));
        Ok(Some(judged))
    }

    /// Writes the edited files into the folder and judges it; `None` when an edit does not apply.
    fn judge_text(
        &mut self,
        edits: &[ChangeAt],
    ) -> Result<Option<(Assessment, LineMaps)>, SourceError> {
        let mut files: BTreeMap<&str, Lines> = BTreeMap::new();
        for change in edits {
            let Some(original) = self.originals.get(&change.file) else {
                return Ok(None);
            };
            let lines = files
                .entry(change.file.as_str())
                .or_insert_with(|| Lines::new(original, change.file.ends_with(".json")));
            if lines.apply(change.line, &change.edit).is_err() {
                return Ok(None);
            }
        }
        let mut maps = BTreeMap::new();
        let edited: BTreeSet<String> = files.keys().map(|f| f.to_string()).collect();
        for (file, lines) in &files {
            self.write(file, &lines.render())?;
            maps.insert(file.to_string(), lines.line_map());
        }
        for file in self.written.difference(&edited) {
            if let Some(text) = self.originals.get(file) {
                self.write(file, text)?;
            }
        }
        self.written = edited;
        let after = pipeline::judge(&self.folder, self.profile, &[], self.catalogue)?;
        Ok(Some((after, maps)))
    }
}

/// The score of a judged project: its components' counts, each component at least as bad as
/// the wheel and pairing findings of the judgement without index lines (`pypi`) say.
fn merged_score(after: &Assessment, pypi: Option<&Assessment>, edits: usize) -> Score {
    let mut status: BTreeMap<&str, Status> = after
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.status))
        .collect();
    let mut findings: Vec<Status> = after.findings.iter().map(|f| f.status).collect();
    for finding in pypi.into_iter().flat_map(|p| &p.findings) {
        let from_index = finding.rule == WHEEL_RULE || finding.rule == PAIR_RULE;
        let seen = after
            .findings
            .iter()
            .any(|f| f.rule == finding.rule && f.component == finding.component);
        if !from_index || seen || finding.status < Status::Warn {
            continue;
        }
        findings.push(finding.status);
        let entry = status
            .entry(finding.component.as_str())
            .or_insert(finding.status);
        *entry = (*entry).max(finding.status);
    }
    let components = |wanted: Status| status.values().filter(|s| **s == wanted).count();
    let count = |wanted: Status| findings.iter().filter(|s| **s == wanted).count();
    (
        components(Status::Fail),
        components(Status::Warn),
        count(Status::Fail),
        count(Status::Warn),
        edits,
    )
}
