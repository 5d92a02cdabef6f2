//! Findings folded into components (each takes its worst finding; a declared package nothing
//! judged is unknown), and components into the verdict and the counts.

use std::collections::BTreeSet;

use super::facts::Facts;
use crate::assessment::{Component, ComponentKind, Finding, Status, Summary};
use crate::project::PackageDecl;
use crate::wording;

/// Why a package is ❔: nobody wrote a rule for it, or it is built from a local folder.
fn unjudged(decl: &PackageDecl) -> String {
    match &decl.url {
        Some(url) if !url.contains("://") && !url.starts_with("git+") => {
            wording::unjudged_local_build(url)
        }
        _ => wording::unjudged(),
    }
}

/// One component per declared package (❔ when no rule judged it) and per other component a
/// finding names; each takes its worst finding.
pub fn components(facts: &Facts, findings: &[Finding]) -> Vec<Component> {
    let mut components: Vec<Component> = Vec::new();
    // Where each name's component is: a project can declare hundreds of thousands of packages
    // (a 4 MiB requirements file), and a linear search per package made that quadratic.
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for decl in &facts.project.packages {
        let name = facts.catalogue.canonical(&decl.name).to_string();
        match index.get(&name) {
            Some(&at) => components[at].evidence.push(decl.evidence.clone()),
            None => {
                index.insert(name.clone(), components.len());
                components.push(Component {
                    name,
                    kind: ComponentKind::Package,
                    status: Status::Unknown,
                    summary: unjudged(decl),
                    evidence: vec![decl.evidence.clone()],
                });
            }
        }
    }
    // A package only pulled in by another says so on its line, whatever judged it.
    let implied: Vec<(usize, String)> = facts
        .project
        .packages
        .iter()
        .filter_map(|decl| Some((decl, decl.implied_by.as_ref()?)))
        .filter_map(|(decl, by)| {
            let at = *index.get(facts.catalogue.canonical(&decl.name))?;
            let declared = facts
                .declared(&components[at].name)
                .any(|d| d.implied_by.is_none());
            (!declared).then(|| (at, by.clone()))
        })
        .collect();
    let mut judged = BTreeSet::new();
    for finding in findings {
        let component = match index.get(&finding.component) {
            Some(&at) => &mut components[at],
            None => {
                index.insert(finding.component.clone(), components.len());
                // The project's own distribution is a component only where a rule judges it:
                // nothing about a checkout is unknown for want of a rule about its name.
                let own = facts
                    .own
                    .as_deref()
                    .filter(|_| facts.own_name() == Some(finding.component.as_str()));
                let kind = if own.is_some() {
                    ComponentKind::Package
                } else if facts.project.setting(&finding.component).next().is_some() {
                    ComponentKind::Setting
                } else {
                    ComponentKind::System
                };
                components.push(Component {
                    name: finding.component.clone(),
                    kind,
                    status: Status::Unknown,
                    summary: String::new(),
                    evidence: own.map(|o| vec![o.evidence.clone()]).unwrap_or_default(),
                });
                components.last_mut().expect("just pushed")
            }
        };
        let first = judged.insert(component.name.clone());
        if first || finding.status > component.status {
            component.status = finding.status;
            component.summary = finding.summary.clone();
            if component.kind != ComponentKind::Package {
                component.evidence = finding.evidence.clone();
            }
        }
    }
    for (at, by) in implied {
        let component = &mut components[at];
        component.summary = wording::pulled_in_summary(by, &component.summary);
    }
    mark_undeclared(facts, &index, &mut components);
    components
}

/// Each training setting in `judged` that no finding made a component becomes one: `ok` where
/// every rule about it was judged and none applies, `unknown` where one could not be judged. Its
/// summary is left to the report, which words it; its evidence is every place it is set.
pub fn add_judged_settings(
    facts: &Facts,
    judged: &BTreeSet<String>,
    unknown: &BTreeSet<String>,
    components: &mut Vec<Component>,
) {
    for key in judged {
        if components.iter().any(|c| &c.name == key) {
            continue;
        }
        let status = if unknown.contains(key) {
            Status::Unknown
        } else {
            Status::Ok
        };
        components.push(Component {
            name: key.clone(),
            kind: ComponentKind::Setting,
            status,
            summary: String::new(),
            evidence: facts
                .project
                .setting(key)
                .map(|s| s.evidence.clone())
                .collect(),
        });
    }
}

/// A package only the code imports (no manifest declares it) says so. Adding an omitted
/// dependency is a modest change (DESIGN.md's `warn`), so one that would otherwise work is ⚠️.
fn mark_undeclared(
    facts: &Facts,
    index: &std::collections::HashMap<String, usize>,
    components: &mut [Component],
) {
    let mut imported: std::collections::BTreeMap<&str, Option<&crate::project::Evidence>> =
        std::collections::BTreeMap::new();
    for decl in &facts.project.packages {
        let name = facts.catalogue.canonical(&decl.name);
        let entry = imported.entry(name).or_insert(Some(&decl.evidence));
        if !decl.imported {
            *entry = None;
        }
    }
    for (name, evidence) in imported {
        let (Some(evidence), Some(&at)) = (evidence, index.get(name)) else {
            continue;
        };
        let component = &mut components[at];
        let marker = wording::imported_marker(evidence);
        let summary = &component.summary;
        component.summary = match component.status {
            Status::Ok => {
                component.status = Status::Warn;
                wording::imported_runs(&marker, summary)
            }
            Status::Unknown => wording::imported_unknown(&marker, summary),
            _ => wording::imported_other(&marker, summary),
        };
    }
}

/// The project's verdict, by DESIGN.md's statuses: the worst component, except that unknown is
/// never reported as working. A report that judged nothing, or whose known components are all
/// ok while some are unknown, is `unknown`.
pub fn verdict(components: &[Component]) -> Status {
    Status::worst(components.iter().map(|c| c.status)).unwrap_or(Status::Unknown)
}

/// How many components have each status.
pub fn summary(components: &[Component]) -> Summary {
    let mut summary = Summary::default();
    for component in components {
        match component.status {
            Status::Ok => summary.ok += 1,
            Status::Warn => summary.warn += 1,
            Status::Fail => summary.fail += 1,
            Status::Unknown => summary.unknown += 1,
        }
    }
    summary
}
