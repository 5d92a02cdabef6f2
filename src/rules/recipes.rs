//! Alternative recipes (DESIGN.md's recipe rule): a folder of configs, one per model, size or
//! method, is judged recipe by recipe. The project itself (manifests, code, launch configs) is
//! judged without them; each recipe is judged with it; and each kind of recipe becomes one
//! component: ⚠️ "use another recipe" while one of its recipes runs, ❌ only when none does.
//! Which folders hold recipes, and the words, are data in `rules/recipes.yaml`.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::catalogue::Catalogue;
use super::engine::{RulesFired, assess, fire_rules, memory_out};
use super::fold::{summary, verdict};
use super::grammar::Sources;
use super::memory_model::Wording;
use crate::assessment::{
    Assessment, Component, ComponentKind, Evidence, Finding, RecipeOut, Status,
};
use crate::profile::Profile;
use crate::project::Project;

/// How many recipes a kind's component points at.
const MAX_EVIDENCE: usize = 3;

/// `recipes:` in `rules/recipes.yaml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeModel {
    pub source: Sources,
    pub verified: String,
    /// Folder names whose configs are alternative recipes (`examples`, `config_hub`).
    pub folders: Vec<String>,
    /// Folder names right below a recipe folder that split recipes into kinds (`finetune`).
    pub kinds: Vec<String>,
    /// Some recipes of a kind run here, others do not.
    pub some_run: KindWords,
    /// None runs.
    pub none_run: KindWords,
    /// Every recipe runs.
    pub all_run: KindWords,
}

/// The finding for one kind of recipe.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindWords {
    pub status: Status,
    pub title: String,
    pub summary: String,
    pub problem: String,
    pub solution: Vec<String>,
}

/// A recipe: its config file and its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipe {
    pub file: String,
    pub kind: String,
}

/// The project's recipes: config files that name a model, below a recipe folder, that no other
/// config inherits from, in file order.
pub fn find(project: &Project, model: &RecipeModel) -> Vec<Recipe> {
    let files: BTreeSet<&str> = project
        .models
        .iter()
        .map(|m| m.evidence.file.as_str())
        .collect();
    files
        .into_iter()
        .filter(|file| !project.is_base(file))
        .filter_map(|file| {
            Some(Recipe {
                file: file.to_string(),
                kind: kind_of(file, model)?,
            })
        })
        .collect()
}

/// `examples/llama-2/qlora.yml` → `examples`; `config_hub/finetune/x/lora.yaml` →
/// `config_hub/finetune`; `None` outside a recipe folder.
fn kind_of(file: &str, model: &RecipeModel) -> Option<String> {
    let folders: Vec<&str> = file.split('/').collect();
    let folders = &folders[..folders.len().saturating_sub(1)];
    let named = |list: &[String], name: &str| list.iter().any(|f| f.eq_ignore_ascii_case(name));
    let at = folders.iter().position(|f| named(&model.folders, f))?;
    let end = match folders.get(at + 1) {
        Some(next) if named(&model.kinds, next) => at + 2,
        _ => at + 1,
    };
    Some(folders[..end].join("/"))
}

/// The project judged recipe by recipe, when it offers two or more (or `check` named one);
/// `None` when it offers none, and the project is judged as a whole.
pub fn judge(profile: &Profile, project: &Project, catalogue: &Catalogue) -> Option<Assessment> {
    let model = catalogue.recipes.as_ref()?;
    let recipes = find(project, model);
    let files: Vec<&str> = recipes.iter().map(|r| r.file.as_str()).collect();
    if let Some(focus) = &project.focus {
        // One recipe named: it is the project's run, and the other recipes leave.
        let others: Vec<&str> = files.iter().copied().filter(|f| f != focus).collect();
        return Some(assess(profile, &project.without_files(&others), catalogue));
    }
    if recipes.len() < 2 {
        return None;
    }
    let mut report = assess(profile, &project.without_files(&files), catalogue);
    let mut results: Vec<RecipeOut> = recipes
        .iter()
        .map(|recipe| {
            let others: Vec<&str> = files
                .iter()
                .copied()
                .filter(|f| *f != recipe.file)
                .collect();
            judge_one(profile, &project.without_files(&others), recipe, catalogue)
        })
        .collect();
    results.sort_by(|a, b| (!a.runs, a.status, &a.file).cmp(&(!b.runs, b.status, &b.file)));
    let mut kinds: Vec<&str> = recipes.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let of_kind: Vec<&RecipeOut> = results.iter().filter(|r| r.kind == kind).collect();
        let (component, finding) = fold_kind(kind, &of_kind, model);
        report.components.push(component);
        report.findings.push(finding);
    }
    report.findings.sort_by_key(|f| std::cmp::Reverse(f.status));
    report.verdict = verdict(&report.components);
    report.summary = summary(&report.components);
    report.recipes = results;
    Some(report)
}

/// One recipe with the project: what the rules find that points at the recipe's file.
fn judge_one(
    profile: &Profile,
    project: &Project,
    recipe: &Recipe,
    catalogue: &Catalogue,
) -> RecipeOut {
    let RulesFired {
        findings,
        changes,
        memory,
        ..
    } = fire_rules(profile, project, catalogue);
    let mut own: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.evidence.iter().any(|e| e.file == recipe.file))
        .collect();
    own.sort_by_key(|f| std::cmp::Reverse(f.status));
    let status = own.first().map_or(Status::Ok, |f| f.status);
    let memory = memory.filter(|m| m.model.evidence.file == recipe.file);
    let named = project
        .models
        .iter()
        .find(|m| m.evidence.file == recipe.file);
    RecipeOut {
        file: recipe.file.clone(),
        line: named.map_or(1, |m| m.evidence.line),
        kind: recipe.kind.clone(),
        status,
        runs: status < Status::Fail,
        model: named.map(|m| m.name.clone()),
        summary: own.first().map(|f| f.summary.clone()).unwrap_or_default(),
        memory: memory.as_ref().map(memory_out),
        changes: changes
            .into_iter()
            .filter(|c| c.file == recipe.file)
            .collect(),
        findings: own,
    }
}

/// One kind's component and finding: the best recipe decides, and a recipe that cannot run
/// while another runs makes it ⚠️ at least.
fn fold_kind(kind: &str, recipes: &[&RecipeOut], model: &RecipeModel) -> (Component, Finding) {
    let runs = recipes.iter().filter(|r| r.runs).count();
    let failing: Vec<&&RecipeOut> = recipes.iter().filter(|r| !r.runs).collect();
    let best = recipes.iter().min_by_key(|r| r.status);
    let (words, status) = match best.map(|r| r.status) {
        Some(Status::Fail) | None => (&model.none_run, model.none_run.status),
        Some(best) if !failing.is_empty() => (&model.some_run, best.max(model.some_run.status)),
        Some(best) => (&model.all_run, best),
    };
    let values = [
        ("kind", format!("{kind}/")),
        ("runs", runs.to_string()),
        ("count", recipes.len().to_string()),
        ("failing", failing.len().to_string()),
        ("best", best.map(|r| r.file.clone()).unwrap_or_default()),
    ];
    let fill = |text: &str| Wording::fill(text, &values);
    let pointed: Vec<&&RecipeOut> = if failing.is_empty() {
        recipes.iter().collect()
    } else {
        failing
    };
    let evidence: Vec<Evidence> = pointed
        .iter()
        .take(MAX_EVIDENCE)
        .map(|r| Evidence {
            file: r.file.clone(),
            line: r.line,
        })
        .collect();
    let name = format!("recipes:{kind}");
    let finding = Finding {
        rule: format!("recipes-{}", rule_suffix(words, model)),
        component: name.clone(),
        status,
        title: fill(&words.title),
        summary: fill(&words.summary),
        problem: fill(&words.problem),
        impact: Vec::new(),
        solution: words.solution.iter().map(|s| fill(s)).collect(),
        evidence: evidence.clone(),
        source: model
            .source
            .list()
            .into_iter()
            .map(str::to_string)
            .collect(),
        verified: model.verified.clone(),
    };
    let component = Component {
        name,
        kind: ComponentKind::Recipes,
        status,
        summary: finding.summary.clone(),
        evidence,
    };
    (component, finding)
}

/// The finding's rule id: which of the three cases it is.
fn rule_suffix(words: &KindWords, model: &RecipeModel) -> &'static str {
    if std::ptr::eq(words, &model.none_run) {
        "none-run"
    } else if std::ptr::eq(words, &model.some_run) {
        "some-run"
    } else {
        "all-run"
    }
}
