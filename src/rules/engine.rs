//! Judging: every rule against the facts, then findings folded into components, recommendations
//! and the changes with `file:line`.

use std::collections::{BTreeMap, BTreeSet};

use super::catalogue::{Catalogue, LoadedRule};
use super::condition::{self, Trace, Truth};
use super::facts::Facts;
use super::model::{Change, Partial, SettingLiteral};
use crate::assessment::Status;
use crate::assessment::{
    Assessment, ChangeAt, Component, ComponentKind, Edit, Finding, MemoryOut,
    REPORT_SCHEMA_VERSION, RecommendationOut, Summary,
};
use crate::profile::{Profile, Vendor};
use crate::project::Project;

pub fn assess(profile: &Profile, project: &Project, catalogue: &Catalogue) -> Assessment {
    let facts = Facts::new(profile, project, catalogue);
    let mut findings = Vec::new();
    let mut changes = BTreeSet::new();
    let mut recommended = BTreeSet::new();
    for loaded in &catalogue.rules {
        for fired in fire_all(loaded, &facts) {
            if fired.finding.status >= Status::Warn {
                recommended.extend(loaded.rule.recommend.iter().cloned());
            }
            changes.extend(fired.changes);
            findings.push(fired.finding);
        }
    }
    let components = components(&facts, &findings);
    let verdict = components
        .iter()
        .map(|c| c.status)
        .filter(|s| *s != Status::Unknown)
        .max()
        .unwrap_or(Status::Ok);
    let mut summary = Summary::default();
    for component in &components {
        match component.status {
            Status::Ok => summary.ok += 1,
            Status::Warn => summary.warn += 1,
            Status::Fail => summary.fail += 1,
            Status::Unknown => summary.unknown += 1,
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.status));
    Assessment {
        schema_version: REPORT_SCHEMA_VERSION,
        verdict,
        profile: profile.clone(),
        python: facts.python.description.clone(),
        files: project.files.clone(),
        components,
        findings,
        recommendations: catalogue
            .recommendations
            .iter()
            .filter(|r| recommended.contains(&r.id))
            .map(|r| RecommendationOut {
                id: r.id.clone(),
                title: r.title.clone(),
                best_for: r.best_for.clone(),
                steps: r.steps.clone(),
                pros: r.pros.clone(),
                cons: r.cons.clone(),
            })
            .collect(),
        changes: distinct(changes),
        memory: facts.memory.as_ref().map(|m| MemoryOut {
            model: m.model.name.clone(),
            params: m.model.params,
            workload: m.workload.clone(),
            need_bytes: m.need.0,
            budget_bytes: m.budget.map(|b| b.0),
            arithmetic: m.arithmetic.clone(),
            device: m.device.clone(),
        }),
        summary,
        notes: project.notes.clone(),
    }
}

/// The changes in file order, each edit once even when several rules call for it.
fn distinct(changes: BTreeSet<ChangeAt>) -> Vec<ChangeAt> {
    let mut out: Vec<ChangeAt> = Vec::new();
    for change in changes {
        let seen = out
            .iter()
            .any(|c| (&c.file, c.line, &c.change) == (&change.file, change.line, &change.change));
        if !seen {
            out.push(change);
        }
    }
    out
}

pub struct Fired {
    pub finding: Finding,
    pub changes: Vec<ChangeAt>,
}

/// Evaluates a rule, once per package of its `for_each`, else once.
pub fn fire_all(loaded: &LoadedRule, facts: &Facts) -> Vec<Fired> {
    if loaded.rule.partial == Partial::Ignore && facts.use_installed {
        let mut declarations_only = facts.clone();
        declarations_only.use_installed = false;
        return fire_all(loaded, &declarations_only);
    }
    if loaded.rule.for_each.is_empty() {
        return fire(loaded, facts).into_iter().collect();
    }
    expand_each(&loaded.rule.for_each, facts)
        .iter()
        .filter_map(|each| {
            let mut scoped = facts.clone();
            scoped.each = Some(each.clone());
            fire(loaded, &scoped)
        })
        .collect()
}

/// The names a `for_each` judges: plain entries as written, and for a pattern with `*` every
/// package the project declares that matches it (each once).
fn expand_each(entries: &[String], facts: &Facts) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    // Names already taken, so a pattern matching many packages stays linear.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for entry in entries {
        if !entry.contains('*') {
            names.push(entry.clone());
            continue;
        }
        for decl in &facts.project.packages {
            let name = facts.catalogue.canonical(&decl.name);
            if condition::glob(entry, name) && seen.insert(name.to_string()) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The names a message may quote as `{name}`; `rules lint` reports any other.
pub const TEMPLATE_VARIABLES: &[&str] = &[
    "each",
    "os",
    "os_version",
    "arch",
    "chip",
    "ram",
    "python.version",
    "gpu.name",
    "gpu.memory",
    "gpu.count",
    "cuda",
    "driver",
    "compute_capability",
    "package.name",
    "package.version",
    "package.avoid",
    "package.cuda",
    "setting.key",
    "setting.value",
    "model.name",
    "memory.need",
    "memory.budget",
    "memory.device",
    "memory.arithmetic",
    "memory.workload",
];

/// Evaluates one rule; `None` when it does not apply.
fn fire(loaded: &LoadedRule, facts: &Facts) -> Option<Fired> {
    let rule = &loaded.rule;
    let mut trace = Trace::default();
    let truth = condition::evaluate(&rule.when, facts, &mut trace);
    let status = match (truth, rule.partial, rule.status) {
        (Truth::Yes, _, status) => status,
        (Truth::Partial, Partial::Ignore, _) => return None,
        (Truth::Partial, Partial::Warn, Status::Fail) => Status::Warn,
        (Truth::Partial, Partial::Warn, status) => status,
        (Truth::No | Truth::Unknown, _, _) => return None,
    };
    // A package that only an optional extra installs (`pip install .[gpu]`) does not break the
    // project's core install: its failure is capped at a warning that names the extra.
    let component = facts.resolve(&rule.component).to_string();
    let extras = trace
        .package
        .as_ref()
        .filter(|p| p.name == component)
        .map(|p| only_in_extras(facts, &p.name))
        .unwrap_or_default();
    let only_with = (!extras.is_empty() && status >= Status::Warn).then(|| extras_phrase(&extras));
    let status = match (&only_with, status) {
        (Some(_), Status::Fail) => Status::Warn,
        (_, status) => status,
    };
    let vars = variables(facts, &trace);
    let text = |template: &str| render(template, &vars);
    let mut solution: Vec<String> = rule.solution.iter().map(|s| text(s)).collect();
    let mut impact: Vec<String> = rule.impact.iter().map(|s| text(s)).collect();
    let mut title = text(&rule.title);
    let mut summary = text(rule.summary.as_deref().unwrap_or(&rule.title));
    if let Some(only_with) = &only_with {
        title = format!("{title} ({only_with})");
        summary = format!("{}: {summary}", capitalized(only_with));
        impact.push(format!(
            "Only installs that ask for {} are affected; the project's required packages do \
             not include it",
            extras_named(&extras)
        ));
    }
    let avoid = trace.package.as_ref().and_then(|p| {
        p.avoid
            .as_ref()
            .map(|avoid| (p.name.clone(), avoid.clone()))
    });
    let changes = match &avoid {
        // Only a failure is avoided by other versions; a warning's "other versions" are the
        // worse ones, and an ok rule needs nothing.
        Some((name, avoid)) if truth == Truth::Partial && rule.status == Status::Fail => {
            solution.insert(
                0,
                format!("Require {name}{avoid}: those versions avoid this problem"),
            );
            resolve_changes(
                &[Change::Require(format!("{name}{avoid}"))],
                facts,
                &rule.id,
                trace.package.as_ref(),
            )
        }
        _ => resolve_changes(&rule.changes, facts, &rule.id, trace.package.as_ref()),
    };
    let mut evidence = trace.evidence.clone();
    evidence.sort();
    evidence.dedup();
    Some(Fired {
        finding: Finding {
            rule: rule.id.clone(),
            component,
            status,
            title,
            summary,
            problem: text(&rule.problem),
            impact,
            solution,
            evidence,
            source: rule.source.list().iter().map(|s| s.to_string()).collect(),
            verified: rule.verified.clone(),
        },
        changes,
    })
}

/// The optional extras (or dependency groups) a package is declared in, when only they install
/// it; empty when any declaration is one every install gets.
fn only_in_extras(facts: &Facts, name: &str) -> Vec<String> {
    let mut extras: Vec<String> = Vec::new();
    for decl in facts.declared(name) {
        match &decl.extra {
            None => return Vec::new(),
            Some(extra) if !extras.contains(extra) => extras.push(extra.clone()),
            Some(_) => {}
        }
    }
    extras
}

/// `only with the [gpu] extra`, `only with the [a] or [b] extras`.
fn extras_phrase(extras: &[String]) -> String {
    format!("only with {}", extras_named(extras))
}

/// `the [gpu] extra`, `the [a], [b] or [c] extras`.
fn extras_named(extras: &[String]) -> String {
    let named: Vec<String> = extras.iter().map(|e| format!("[{e}]")).collect();
    // unsloth declares bitsandbytes in twenty-odd extras: name a few, count the rest.
    const NAMED: usize = 3;
    if named.len() > NAMED + 1 {
        return format!(
            "the {} and {} other extras",
            named[..NAMED].join(", "),
            named.len() - NAMED
        );
    }
    match named.as_slice() {
        [one] => format!("the {one} extra"),
        [rest @ .., last] => format!("the {} or {last} extras", rest.join(", ")),
        [] => String::new(),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The requirement a `require` change writes: the wanted bounds, plus those of the declaration
/// that still mean something. A declared bound the wanted range already implies is dropped
/// (`>=0.43.3` under `>=0.50`), and where the declaration contradicts it (`==1.11` under
/// `>=2.1`) only the wanted bounds remain, since keeping both could never install.
fn merge_requirement(own: &str, wanted: &str) -> String {
    let (Some(own_spec), Some(wanted_spec)) =
        (condition::specifiers(own), condition::specifiers(wanted))
    else {
        return match own {
            "" => wanted.to_string(),
            own => format!("{own},{wanted}"),
        };
    };
    let wanted_range = condition::release_range(wanted_spec);
    let kept: Vec<String> = own_spec
        .iter()
        .filter(|clause| {
            let clause_range = condition::release_range(
                std::iter::once((*clause).clone()).collect::<pep440_rs::VersionSpecifiers>(),
            );
            !wanted_range.subset_of(&clause_range)
        })
        .map(|clause| clause.to_string())
        .collect();
    let kept_range = condition::release_range(
        kept.iter()
            .filter_map(|c| condition::specifiers(c))
            .flat_map(|s| s.iter().cloned().collect::<Vec<_>>())
            .collect::<pep440_rs::VersionSpecifiers>(),
    );
    if kept.is_empty() || kept_range.is_disjoint(&wanted_range) {
        return wanted.to_string();
    }
    format!("{wanted},{}", kept.join(","))
}

/// The values a message may quote: `{package.version}`, `{ram}`, `{memory.need}`, ...
fn variables(facts: &Facts, trace: &Trace) -> BTreeMap<&'static str, String> {
    let profile = facts.profile;
    let mut vars = BTreeMap::new();
    let mut put = |key: &'static str, value: Option<String>| {
        if let Some(value) = value {
            vars.insert(key, value);
        }
    };
    put("each", facts.each.clone());
    put("os", profile.system.os.map(|os| os.to_string()));
    put("os_version", profile.system.os_version.clone());
    put("arch", profile.system.arch.map(|a| a.to_string()));
    put("chip", profile.system.chip.clone());
    put("ram", profile.system.memory.map(|m| m.to_string()));
    put("python.version", Some(facts.python.description.clone()));
    let nvidia = profile.gpus_of(Vendor::Nvidia).next();
    let gpu = nvidia.or(profile.gpus.first());
    put("gpu.name", gpu.and_then(|g| g.name.clone()));
    put("gpu.count", Some(profile.gpus.len().to_string()));
    put(
        "gpu.memory",
        gpu.and_then(|g| g.memory.map(|m| m.to_string())),
    );
    put("cuda", nvidia.and_then(|g| g.cuda_version.clone()));
    put("driver", nvidia.and_then(|g| g.driver_version.clone()));
    put(
        "compute_capability",
        nvidia.and_then(|g| g.compute_capability.clone()),
    );
    // A condition such as `not: { package: x }` binds no package; say so rather than
    // leaving the placeholder in the text.
    put("package.version", Some("not declared".to_string()));
    if let Some(package) = &trace.package {
        put("package.name", Some(package.name.clone()));
        let version = if package.specifier.is_empty() {
            "(any version)".to_string()
        } else {
            package.specifier.clone()
        };
        put("package.version", Some(version));
        put("package.avoid", package.avoid.clone());
        let cuda = facts
            .declared(&package.name)
            .find_map(|decl| condition::build_cuda(decl, facts));
        put("package.cuda", cuda.map(|v| v.to_string()));
    }
    if let Some((key, value)) = &trace.setting {
        put("setting.key", Some(key.clone()));
        put("setting.value", Some(value.clone()));
    }
    if let Some(memory) = &facts.memory {
        put("model.name", Some(memory.model.name.clone()));
        put("memory.need", Some(memory.need.to_string()));
        put("memory.budget", memory.budget.map(|b| b.to_string()));
        put("memory.device", Some(memory.device.clone()));
        put("memory.arithmetic", Some(memory.arithmetic.clone()));
        put("memory.workload", Some(memory.workload.clone()));
    }
    vars
}

/// Replaces `{name}` with its value; an unknown name stays as written so it shows.
pub fn render(template: &str, vars: &BTreeMap<&'static str, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if vars.contains_key(&after[..close]) => {
                out.push_str(&vars[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Points each change at the lines it edits; `bound` is the package the rule's condition
/// matched, which an index change is about.
fn resolve_changes(
    changes: &[Change],
    facts: &Facts,
    rule: &str,
    bound: Option<&condition::PackageBinding>,
) -> Vec<ChangeAt> {
    let mut out = Vec::new();
    let mut at = |evidence: &crate::project::Evidence, change: String, edit: Edit| {
        out.push(ChangeAt {
            file: evidence.file.clone(),
            line: evidence.line,
            change,
            rule: rule.to_string(),
            edit,
        })
    };
    for change in changes {
        match change {
            Change::RemovePackage(name) => {
                for decl in facts.declared(name) {
                    at(
                        &decl.evidence,
                        format!("remove `{}`", decl.raw),
                        Edit::RemoveLine,
                    );
                }
            }
            Change::ReplacePackage { from, to } => {
                for decl in facts.declared(from) {
                    let edit = Edit::ReplaceRequirement {
                        from: written(decl),
                        to: to.clone(),
                    };
                    at(&decl.evidence, format!("`{}` -> `{to}`", decl.raw), edit);
                }
            }
            Change::Require(requirement) => {
                let split = requirement
                    .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
                    .unwrap_or(requirement.len());
                let (name, wanted) = requirement.split_at(split);
                for decl in facts.declared(&crate::project::normalize_name(name)) {
                    // Keep the declaration's own name (conda's `pytorch`) and its other bounds.
                    let combined = format!(
                        "{}{}",
                        decl.name,
                        merge_requirement(&decl.specifier, wanted)
                    );
                    let edit = Edit::ReplaceRequirement {
                        from: written(decl),
                        to: combined.clone(),
                    };
                    at(
                        &decl.evidence,
                        format!("`{}` -> `{combined}`", decl.raw),
                        edit,
                    );
                }
            }
            Change::UseIndex(url) => {
                let Some(bound) = bound else { continue };
                for decl in facts.declared(&bound.name) {
                    at(
                        &decl.evidence,
                        format!("install `{}` from {url} (--index-url)", decl.raw),
                        Edit::UseIndex { url: url.clone() },
                    );
                }
            }
            Change::AddMarker { package, marker } => {
                for decl in facts.declared(package) {
                    if decl.installer == crate::project::Installer::Conda {
                        at(
                            &decl.evidence,
                            format!("remove `{}`", decl.raw),
                            Edit::RemoveLine,
                        );
                        continue;
                    }
                    let edit = Edit::AddMarker {
                        marker: marker.clone(),
                    };
                    at(
                        &decl.evidence,
                        format!("`{}` -> only where {marker}", decl.raw),
                        edit,
                    );
                }
            }
            Change::Set { key, value } => {
                let key = facts.resolve(key);
                for setting in facts.project.setting(key) {
                    let value = literal(value);
                    let edit = Edit::SetValue {
                        key: key.to_string(),
                        value: value.clone(),
                    };
                    at(
                        &setting.evidence,
                        format!("{key}: {} -> {value}", setting.value),
                        edit,
                    );
                }
            }
        }
    }
    out
}

/// The requirement as the file writes it: name and constraint, without marker, hashes or comment.
fn written(decl: &crate::project::PackageDecl) -> String {
    let raw = decl.raw.trim();
    let end = raw
        .find([';', '#'])
        .or_else(|| raw.find(" --"))
        .unwrap_or(raw.len());
    raw[..end].trim().to_string()
}

fn literal(value: &SettingLiteral) -> String {
    match value {
        SettingLiteral::Bool(b) => b.to_string(),
        SettingLiteral::Number(n) => n.to_string(),
        SettingLiteral::Text(t) => t.clone(),
    }
}

/// Why a package is ❔: nobody wrote a rule for it, or it is built from a local folder.
fn unjudged(decl: &crate::project::PackageDecl) -> String {
    match &decl.url {
        Some(url) if !url.contains("://") && !url.starts_with("git+") => format!(
            "built from the local folder {url}: not judged (a native or CUDA extension needs its toolchain)"
        ),
        _ => "no rule knows this package".to_string(),
    }
}

/// One component per declared package (❔ when no rule judged it) and per other component a
/// finding names; each takes its worst finding.
fn components(facts: &Facts, findings: &[Finding]) -> Vec<Component> {
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
    let mut judged = BTreeSet::new();
    for finding in findings {
        let component = match index.get(&finding.component) {
            Some(&at) => &mut components[at],
            None => {
                index.insert(finding.component.clone(), components.len());
                let kind = if facts.project.setting(&finding.component).next().is_some() {
                    ComponentKind::Setting
                } else {
                    ComponentKind::System
                };
                components.push(Component {
                    name: finding.component.clone(),
                    kind,
                    status: Status::Unknown,
                    summary: String::new(),
                    evidence: Vec::new(),
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
    components
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::selftest::test_profile;

    fn changes_for(profile: &str, requirements: &[&str]) -> Vec<String> {
        let catalogue = Catalogue::builtin().expect("built-in rules");
        let profile = test_profile(profile).expect("test machine");
        let requirements: Vec<String> = requirements.iter().map(|r| r.to_string()).collect();
        let project = Project::from_declarations(&requirements, &[], &[], None, None);
        assess(&profile, &project, &catalogue)
            .changes
            .iter()
            .map(|c| format!("{}:{} {}", c.file, c.line, c.change))
            .collect()
    }

    #[test]
    fn an_index_change_points_at_the_package_the_rule_matched() {
        let changes = changes_for("linux-v100-x2", &["torch==2.11.0"]);
        assert!(
            changes.contains(
                &"requirements.txt:1 install `torch==2.11.0` from https://download.pytorch.org/whl/cu126 (--index-url)"
                    .to_string()
            ),
            "{changes:#?}"
        );
        // Installed from the CUDA 12.6 index already: nothing to change.
        let changes = changes_for(
            "linux-v100-x2",
            &[
                "--index-url https://download.pytorch.org/whl/cu126",
                "torch==2.11.0",
            ],
        );
        assert!(changes.iter().all(|c| !c.contains("torch")), "{changes:#?}");
    }

    #[test]
    fn a_required_version_replaces_declared_bounds_it_implies_or_contradicts() {
        // A pin below the wanted floor can never satisfy both: the fix is the floor alone.
        assert_eq!(merge_requirement("==1.11", ">=2.1"), ">=2.1");
        assert_eq!(merge_requirement("~=1.26.4", ">=2.1"), ">=2.1");
        // A weaker floor adds nothing.
        assert_eq!(merge_requirement(">=0.43.3", ">=0.50"), ">=0.50");
        // An upper bound that still leaves room is kept.
        assert_eq!(merge_requirement(">=2.0,<3", ">=2.4"), ">=2.4,<3");
        assert_eq!(merge_requirement("", ">=0.48"), ">=0.48");
    }

    #[test]
    fn require_changes_never_write_an_unsatisfiable_requirement() {
        let changes = changes_for("macbook-m2-8gb", &["numpy==1.11"]);
        assert!(
            changes.contains(&"requirements.txt:1 `numpy==1.11` -> `numpy>=2.1`".to_string()),
            "{changes:#?}"
        );
    }

    fn assess_with_extra(profile: &str, requirement: &str, extra: Option<&str>) -> Assessment {
        let catalogue = Catalogue::builtin().expect("built-in rules");
        let profile = test_profile(profile).expect("test machine");
        let mut project =
            Project::from_declarations(&[requirement.to_string()], &[], &[], None, None);
        for package in &mut project.packages {
            package.extra = extra.map(str::to_string);
        }
        assess(&profile, &project, &catalogue)
    }

    #[test]
    fn a_failing_package_only_an_extra_installs_is_a_warning_that_names_the_extra() {
        let core = assess_with_extra("macbook-m2-8gb", "flash-attn>=2.0", None);
        assert_eq!(core.verdict, Status::Fail);

        let extra = assess_with_extra("macbook-m2-8gb", "flash-attn>=2.0", Some("train"));
        assert_eq!(extra.verdict, Status::Warn);
        let component = extra
            .components
            .iter()
            .find(|c| c.name == "flash-attn")
            .expect("component");
        assert_eq!(component.status, Status::Warn);
        assert!(
            component
                .summary
                .starts_with("Only with the [train] extra: "),
            "{}",
            component.summary
        );
        let finding = extra
            .findings
            .iter()
            .find(|f| f.component == "flash-attn" && f.status == Status::Warn)
            .expect("finding");
        assert!(
            finding.title.ends_with("(only with the [train] extra)"),
            "{}",
            finding.title
        );
    }

    #[test]
    fn a_package_also_required_outside_an_extra_keeps_its_failure() {
        let catalogue = Catalogue::builtin().expect("built-in rules");
        let profile = test_profile("macbook-m2-8gb").expect("test machine");
        let requirements = vec!["flash-attn".to_string(), "flash-attn>=2.0".to_string()];
        let mut project = Project::from_declarations(&requirements, &[], &[], None, None);
        project.packages[1].extra = Some("train".to_string());
        let assessment = assess(&profile, &project, &catalogue);
        assert_eq!(assessment.verdict, Status::Fail);
    }

    #[test]
    fn a_package_in_several_extras_names_them_all() {
        assert_eq!(
            extras_phrase(&["a".to_string(), "b".to_string(), "c".to_string()]),
            "only with the [a], [b] or [c] extras"
        );
        let many: Vec<String> = (1..=6).map(|i| format!("e{i}")).collect();
        assert_eq!(
            extras_phrase(&many),
            "only with the [e1], [e2], [e3] and 3 other extras"
        );
    }

    #[test]
    fn a_pattern_in_for_each_judges_every_matching_package() {
        let catalogue = Catalogue::builtin().expect("built-in rules");
        let profile = test_profile("macbook-m2-8gb").expect("test machine");
        let requirements = vec![
            "nvidia-cublas-cu12".to_string(),
            "nvidia-cudnn-cu12".to_string(),
        ];
        let project = Project::from_declarations(&requirements, &[], &[], None, None);
        let assessment = assess(&profile, &project, &catalogue);
        for name in ["nvidia-cublas-cu12", "nvidia-cudnn-cu12"] {
            let component = assessment
                .components
                .iter()
                .find(|c| c.name == name)
                .expect("component");
            assert_eq!(component.status, Status::Fail, "{name}");
        }
    }
}
