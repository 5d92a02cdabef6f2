//! The changes a finding calls for, pointed at the lines they edit.

use std::collections::BTreeSet;

use super::condition::{PackageBinding, Trace};
use super::facts::Facts;
use super::rule::{Change, SetValue, SettingLiteral};
use super::template::{CHANGE_VARIABLES, ValueKind, typed_value};
use super::variables::variables;
use super::versions::merge_requirement;
use crate::assessment::{ChangeAt, Edit, Evidence};
use crate::project::{Installer, PackageDecl, SettingValue};

/// Points each change at the lines it edits; `bound` is the package the rule's condition
/// matched, which an index change is about.
pub fn resolve_changes(
    changes: &[Change],
    facts: &Facts,
    rule: &str,
    bound: Option<&PackageBinding>,
) -> Vec<ChangeAt> {
    let mut out = Vec::new();
    let mut at = |evidence: &Evidence, written: &str, edit: Edit| {
        out.push(ChangeAt::new(evidence, written, rule, edit))
    };
    for change in changes {
        match change {
            Change::RemovePackage(name) => {
                for decl in manifest_declared(facts, name) {
                    at(&decl.evidence, &decl.raw, Edit::RemoveLine);
                }
            }
            Change::ReplacePackage { from, to } => {
                for decl in manifest_declared(facts, from) {
                    let edit = Edit::ReplaceRequirement {
                        from: decl.written(),
                        to: to.clone(),
                    };
                    at(&decl.evidence, &decl.raw, edit);
                }
            }
            Change::Require { name, versions } => {
                let name = crate::names::normalize(facts.resolve(name));
                for decl in manifest_declared(facts, &name) {
                    // Keep the declaration's own name (conda's `pytorch`) and its other bounds.
                    let edit = Edit::ReplaceRequirement {
                        from: decl.written(),
                        to: format!(
                            "{}{}",
                            decl.name,
                            merge_requirement(decl.versions.as_ref(), versions)
                        ),
                    };
                    at(&decl.evidence, &decl.raw, edit);
                }
            }
            Change::UseIndex(url) => {
                let Some(bound) = bound else { continue };
                for decl in manifest_declared(facts, &bound.name) {
                    let edit = Edit::UseIndex { url: url.clone() };
                    at(&decl.evidence, &decl.raw, edit);
                }
            }
            Change::AddMarker { package, marker } => {
                for decl in manifest_declared(facts, package) {
                    // conda has no markers: the line goes.
                    let edit = if decl.installer == Installer::Conda {
                        Edit::RemoveLine
                    } else {
                        Edit::AddMarker {
                            marker: marker.clone(),
                        }
                    };
                    at(&decl.evidence, &decl.raw, edit);
                }
            }
            Change::Set { key, value } => {
                let key = facts.resolve(key);
                // A machine value the machine does not give (no GPU to count) is no edit.
                let kind = value_of(value);
                let Some(value) = set_value(value, facts) else {
                    continue;
                };
                for setting in facts.project.setting(key) {
                    if !needs_edit(kind, &setting.value, &value) {
                        continue;
                    }
                    // Edited as the file writes it: `--nnodes` in a launch script, accelerate's
                    // `num_machines`, for the setting `num_nodes`.
                    let edit = Edit::SetValue {
                        key: setting.written.as_deref().unwrap_or(key).to_string(),
                        value: value.clone(),
                    };
                    at(&setting.evidence, &setting.value.to_string(), edit);
                }
            }
        }
    }
    out
}

/// The declarations a change can edit: a package only the code imports has no manifest line,
/// and its import is not one to edit; a notebook's `!pip install` line sits inside the
/// notebook's JSON, which a line edit would break. A package another one pulls in has no line
/// of its own either (its evidence is the line of the package that pulls it in), and the
/// project's own distribution is what the checkout builds: its name is not a requirement.
fn manifest_declared<'b>(facts: &'b Facts, name: &'b str) -> impl Iterator<Item = &'b PackageDecl> {
    facts.declared(name).filter(|decl| {
        !decl.imported
            && !decl.own
            && decl.implied_by.is_none()
            && !decl.evidence.file.ends_with(".ipynb")
    })
}

/// The kind of machine value a `set` change writes, when it writes one.
fn value_of(value: &SetValue) -> Option<ValueKind> {
    match value {
        SetValue::Literal(_) => None,
        SetValue::Machine(name) => CHANGE_VARIABLES
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, kind)| *kind),
    }
}

/// Whether a setting needs the edit: not when it already has the value, and a count the
/// machine sets is a ceiling (a config asking for fewer processes than the GPUs is left alone).
fn needs_edit(kind: Option<ValueKind>, current: &SettingValue, new: &str) -> bool {
    if current.to_string() == new {
        return false;
    }
    match (kind, current, new.parse::<f64>()) {
        (Some(ValueKind::Count), SettingValue::Number(n), Ok(ceiling)) => *n > ceiling,
        _ => true,
    }
}

/// The text a `set` change writes: its literal, or the machine's value of its placeholder,
/// typed (`None` when the machine's value is not of the type: a GPU count of 0).
fn set_value(value: &SetValue, facts: &Facts) -> Option<String> {
    match value {
        SetValue::Literal(value) => Some(literal(value)),
        SetValue::Machine(name) => {
            let (_, kind) = CHANGE_VARIABLES.iter().find(|(n, _)| n == name)?;
            let vars = variables(facts, &Trace::default());
            let number = typed_value(*kind, vars.get(name)?)?;
            Some(literal(&SettingLiteral::Number(number)))
        }
    }
}

fn literal(value: &SettingLiteral) -> String {
    match value {
        SettingLiteral::Bool(b) => b.to_string(),
        SettingLiteral::Number(n) => n.to_string(),
        SettingLiteral::Text(t) => t.clone(),
    }
}

/// The changes in file order, each edit once even when several rules call for it.
pub fn distinct(changes: BTreeSet<ChangeAt>) -> Vec<ChangeAt> {
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
