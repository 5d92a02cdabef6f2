//! Judging: every rule against the facts, then findings folded into components, recommendations
//! and the changes with `file:line`.

use std::collections::{BTreeMap, BTreeSet};

use super::catalogue::{Catalogue, LoadedRule};
use super::condition::{self, Trace, Truth};
use super::facts::Facts;
use super::model::{Change, Partial, SettingLiteral, Status};
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
        .max_by_key(|s| s.severity())
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
    findings.sort_by_key(|f| std::cmp::Reverse(f.status.severity()));
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
    let vars = variables(facts, &trace);
    let text = |template: &str| render(template, &vars);
    let mut solution: Vec<String> = rule.solution.iter().map(|s| text(s)).collect();
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
            component: facts.resolve(&rule.component).to_string(),
            status,
            title: text(&rule.title),
            summary: text(rule.summary.as_deref().unwrap_or(&rule.title)),
            problem: text(&rule.problem),
            impact: rule.impact.iter().map(|s| text(s)).collect(),
            solution,
            evidence,
            source: rule.source.list().iter().map(|s| s.to_string()).collect(),
            verified: rule.verified.clone(),
        },
        changes,
    })
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
                    let combined = match decl.specifier.as_str() {
                        "" => format!("{}{wanted}", decl.name),
                        own => format!("{}{own},{wanted}", decl.name),
                    };
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
                    summary: "no rule knows this package".to_string(),
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
        if first || finding.status.severity() > component.status.severity() {
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
