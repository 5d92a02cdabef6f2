//! Judging: every rule against the facts, then findings folded into components, recommendations
//! and the changes with `file:line`.

use std::collections::BTreeSet;

use super::catalogue::Catalogue;
use super::changes::{distinct, resolve_changes};
use super::condition::{self, Trace, Truth};
use super::facts::Facts;
use super::fold::{add_judged_settings, components, summary, verdict};
use super::rule::{Change, Partial, Rule};
use super::variables::variables;
use crate::assessment::{
    Assessment, ChangeAt, Finding, KnowledgeOut, MemoryOut, REPORT_SCHEMA_VERSION,
    RecommendationOut, Status,
};
use crate::profile::Profile;
use crate::project::{MarkerTarget, Project};
use crate::wording;

/// Judges a scanned project on a machine: its environment markers are evaluated for the
/// machine and the Python it runs on, then every rule is judged.
pub fn judge(mut project: Project, profile: &Profile, catalogue: &Catalogue) -> Assessment {
    let python = super::facts::judged_python_version(profile, &project);
    project.apply_markers(&MarkerTarget::for_profile(profile, python.as_deref()));
    super::wheels::add_implied(&mut project, profile, catalogue);
    super::recipes::judge(profile, &project, catalogue)
        .unwrap_or_else(|| assess(profile, &project, catalogue))
}

/// What the rules (without the package index) find about a project.
pub(super) struct RulesFired {
    pub findings: Vec<Finding>,
    pub changes: BTreeSet<ChangeAt>,
    pub recommended: BTreeSet<String>,
    pub memory: Option<super::memory_model::MemoryEstimate>,
    /// Components a rule could not judge (the profile does not state a fact it needs).
    pub unknown: BTreeSet<String>,
}

/// Every rule that may apply, fired against the project's facts.
pub(super) fn fire_rules(
    profile: &Profile,
    project: &Project,
    catalogue: &Catalogue,
) -> RulesFired {
    let mut facts = Facts::new(profile, project, catalogue);
    facts.memory = super::memory::estimate(&facts);
    let mut findings = Vec::new();
    let mut changes = BTreeSet::new();
    let mut recommended = BTreeSet::new();
    let declared_names: Vec<&str> = facts
        .by_name
        .keys()
        .map(String::as_str)
        .chain(facts.own_name())
        .collect();
    // Components a rule could not judge (the profile does not state a fact it needs).
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    for loaded in &catalogue.rules {
        if !loaded.may_apply(
            |name| facts.declared(name).next().is_some(),
            &declared_names,
        ) {
            continue;
        }
        let Some(rule) = loaded.rule() else {
            continue;
        };
        for outcome in fire_all(rule, &facts) {
            let fired = match outcome {
                Outcome::Fired(fired) => *fired,
                Outcome::Unknown(component) => {
                    unknown.insert(component);
                    continue;
                }
            };
            if fired.finding.status >= Status::Warn {
                recommended.extend(rule.recommend.iter().cloned());
            }
            changes.extend(fired.changes);
            findings.push(fired.finding);
        }
    }
    RulesFired {
        findings,
        changes,
        recommended,
        memory: facts.memory,
        unknown,
    }
}

/// The memory estimate as the JSON report carries it.
pub(super) fn memory_out(m: &super::memory_model::MemoryEstimate) -> MemoryOut {
    MemoryOut {
        model: m.model.name.clone(),
        params: m.model.params,
        workload: m.workload.clone(),
        need_bytes: m.need.0,
        budget_bytes: m.budget.map(|b| b.0),
        arithmetic: m.arithmetic.clone(),
        device: m.device.clone(),
    }
}

/// Judges a project whose markers are already applied.
pub fn assess(profile: &Profile, project: &Project, catalogue: &Catalogue) -> Assessment {
    let RulesFired {
        mut findings,
        mut changes,
        recommended,
        memory,
        unknown,
    } = fire_rules(profile, project, catalogue);
    let mut facts = Facts::new(profile, project, catalogue);
    facts.memory = memory;
    // The index's judgement after the rules', so a rule's summary of a package stays its
    // component's line where both say ok; the worst finding still wins.
    let from_index = super::wheels::judge(&facts, &catalogue.knowledge);
    findings.extend(from_index.findings);
    changes.extend(from_index.changes);
    let mut notes = project.notes.clone();
    notes.extend(from_index.notes);
    notes.extend(catalogue.knowledge.notes());
    let mut components = components(&facts, &findings);
    add_judged_settings(
        &facts,
        &judged_settings(catalogue, project),
        &unknown,
        &mut components,
    );
    findings.sort_by_key(|f| std::cmp::Reverse(f.status));
    Assessment {
        schema_version: REPORT_SCHEMA_VERSION,
        verdict: verdict(&components),
        summary: summary(&components),
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
        memory: facts.memory.as_ref().map(memory_out),
        recipes: Vec::new(),
        notes,
        suppressed: Vec::new(),
        knowledge: KnowledgeOut {
            index_as_of: catalogue.knowledge.index_as_of(),
            source: catalogue.knowledge.source().to_string(),
        },
    }
}

pub struct Fired {
    pub finding: Finding,
    pub changes: Vec<ChangeAt>,
}

/// What judging a rule (once, or for one `for_each` entry) came to, when it did not simply
/// not apply.
pub enum Outcome {
    /// It applies: a finding and the changes it calls for.
    Fired(Box<Fired>),
    /// A fact its condition needs is unknown: the component it is about is not judged by it.
    Unknown(String),
}

/// Evaluates a rule, once per package of its `for_each`, else once.
pub fn fire_all(rule: &Rule, facts: &Facts) -> Vec<Outcome> {
    if rule.partial == Partial::Ignore && facts.use_installed {
        let mut declarations_only = facts.clone();
        declarations_only.use_installed = false;
        return fire_all(rule, &declarations_only);
    }
    if rule.for_each.is_empty() {
        return fire(rule, facts).into_iter().collect();
    }
    expand_each(&rule.for_each, facts)
        .iter()
        .filter_map(|each| {
            let mut scoped = facts.clone();
            scoped.each = Some(each.clone());
            fire(rule, &scoped)
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
        for decl in facts.project.packages.iter().chain(facts.own.as_deref()) {
            let name = facts.catalogue.canonical(&decl.name);
            if super::pattern::glob(entry, name) && seen.insert(name.to_string()) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Evaluates one rule; `None` when it does not apply.
fn fire(rule: &Rule, facts: &Facts) -> Option<Outcome> {
    let mut trace = Trace::default();
    let truth = condition::evaluate(&rule.when, facts, &mut trace);
    let status = match (truth, rule.partial, rule.status) {
        (Truth::Yes, _, status) => status,
        (Truth::Partial, Partial::Ignore, _) => return None,
        (Truth::Partial, Partial::Warn, Status::Fail) => Status::Warn,
        (Truth::Partial, Partial::Warn, status) => status,
        (Truth::Unknown, _, _) => {
            return Some(Outcome::Unknown(facts.resolve(&rule.component).to_string()));
        }
        (Truth::No, _, _) => return None,
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
    let only_with = (!extras.is_empty() && status >= Status::Warn).then(|| extras_named(&extras));
    let status = match (&only_with, status) {
        (Some(_), Status::Fail) => Status::Warn,
        (_, status) => status,
    };
    let mut vars = variables(facts, &trace);
    if let Some(command) = super::variables::install_command(facts, &trace, &rule.changes) {
        vars.insert("install.command", command);
    }
    let prose = rule.prose.get();
    let mut solution: Vec<String> = prose.solution.iter().map(|t| t.render(&vars)).collect();
    let mut impact: Vec<String> = prose.impact.iter().map(|t| t.render(&vars)).collect();
    let mut title = prose.title.render(&vars);
    let mut summary = prose.summary.as_ref().unwrap_or(&prose.title).render(&vars);
    if let Some(extras) = &only_with {
        title = wording::only_with_title(extras, &title);
        summary = wording::only_with_summary(extras, &summary);
        impact.push(wording::only_with_impact(extras));
    }
    let avoid = trace.package.as_ref().and_then(|p| {
        p.avoid
            .as_ref()
            .map(|avoid| (p.name.clone(), avoid.clone()))
    });
    let changes = match avoid {
        // Only a failure is avoided by other versions; a warning's "other versions" are the
        // worse ones, and an ok rule needs nothing.
        Some((name, versions)) if truth == Truth::Partial && rule.status == Status::Fail => {
            solution.insert(
                0,
                wording::avoid_solution(&name, super::versions::describe(&versions)),
            );
            resolve_changes(
                &[Change::Require { name, versions }],
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
    Some(Outcome::Fired(Box::new(Fired {
        finding: Finding {
            rule: rule.id.clone(),
            component,
            status,
            title,
            summary,
            problem: prose.problem.render(&vars),
            impact,
            solution,
            evidence,
            source: prose.source.clone(),
            verified: prose.verified.clone(),
        },
        changes,
    })))
}

/// The training settings the project declares that a rule judges as its component (`load_in_4bit`,
/// a `for_each` entry): each is a component on every machine, so a fleet's matrix has a row for
/// it everywhere, not only where a rule objects.
fn judged_settings(catalogue: &Catalogue, project: &Project) -> BTreeSet<String> {
    let declared: BTreeSet<&str> = project.settings.iter().map(|s| s.key.as_str()).collect();
    let mut judged = BTreeSet::new();
    for loaded in &catalogue.rules {
        // A rule that neither tests nor sets a declared key judges none of them.
        if !loaded.keys.iter().any(|k| declared.contains(k.as_str())) {
            continue;
        }
        let Some(rule) = loaded.rule() else {
            continue;
        };
        let components: Vec<&str> = if rule.component == "{each}" {
            rule.for_each.iter().map(String::as_str).collect()
        } else {
            vec![rule.component.as_str()]
        };
        judged.extend(
            components
                .into_iter()
                .filter(|c| declared.contains(c) && loaded.keys.iter().any(|k| k == c))
                .map(str::to_string),
        );
    }
    judged
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

/// `the [gpu] extra`, `the [a], [b] or [c] extras`.
fn extras_named(extras: &[String]) -> String {
    let named: Vec<String> = extras.iter().map(|e| format!("[{e}]")).collect();
    // unsloth declares bitsandbytes in twenty-odd extras: name a few, count the rest.
    const NAMED: usize = 3;
    match extras {
        [one] => wording::extras_one(one),
        [..] if named.len() > NAMED + 1 => {
            wording::extras_many(named[..NAMED].join(", "), named.len() - NAMED)
        }
        [.., _] => {
            let (last, rest) = named.split_last().expect("not empty");
            wording::extras_few(rest.join(", "), last)
        }
        [] => String::new(),
    }
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
            extras_named(&["a".to_string(), "b".to_string(), "c".to_string()]),
            "the [a], [b] or [c] extras"
        );
        assert_eq!(extras_named(&["gpu".to_string()]), "the [gpu] extra");
        let many: Vec<String> = (1..=6).map(|i| format!("e{i}")).collect();
        assert_eq!(
            extras_named(&many),
            "the [e1], [e2], [e3] and 3 other extras"
        );
    }

    #[test]
    fn the_projects_own_package_is_a_component_only_where_a_rule_judges_it() {
        let catalogue = Catalogue::builtin().expect("built-in rules");
        let profile = test_profile("linux-a100-80gb").expect("test machine");
        let mut project =
            Project::from_declarations(&["transformers".to_string()], &[], &[], None, None);
        project.distribution = Some(crate::project::Distribution {
            name: "my-lab-tools".to_string(),
            version: None,
            evidence: crate::project::Evidence {
                file: "pyproject.toml".to_string(),
                line: 2,
            },
        });
        let assessment = assess(&profile, &project, &catalogue);
        // No rule knows the name: not a ❔ component (which would make the verdict unknown).
        assert!(
            assessment
                .components
                .iter()
                .all(|c| c.name != "my-lab-tools"),
            "{:#?}",
            assessment.components
        );
        assert_eq!(assessment.verdict, Status::Ok);
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
