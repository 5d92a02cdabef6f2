//! From the grammar to the typed rule, once per rule when the catalogue loads. Every problem a
//! rule author must fix is found here, so `rules lint` and loading cannot disagree.

use pep440_rs::VersionSpecifiers;
use version_ranges::Ranges;

use super::grammar::{OneOrMany, RawChange, RawCondition, RawCore, RawRule, RuleTest};
use super::prose::{LazyProse, Prose};
use super::rule::{
    Change, Comparison, Condition, GpuWanted, IndexCondition, Op, PackageCondition, Rule, SetValue,
    SettingLiteral,
};
use super::versions::{release_range, specifiers};
use crate::profile::Vendor;
use crate::size::ByteSize;

/// A compiled rule, or why it cannot be: `problems` are lint problems either way; a rule with
/// problems in its condition or changes has no `rule`.
pub struct Compiled {
    /// The rule's id, for messages about it.
    pub id: String,
    /// The typed rule, when its condition and changes make sense.
    pub rule: Option<Rule>,
    /// What `rules lint` reports about it.
    pub problems: Vec<String>,
}

/// Compiles one rule as a rule file writes it.
pub fn rule(raw: RawRule) -> (Compiled, Vec<RuleTest>) {
    let (core, raw_prose, tests) = raw.split();
    let (prose, mut problems) = Prose::compile(&raw_prose);
    let mentions_each = core.component.contains("{each}") || prose.mentions("each");
    if core.for_each.is_empty() && mentions_each {
        problems.push("uses `{each}` but has no `for_each`".to_string());
    }
    let mut compiled = self::core(core, LazyProse::ready(prose));
    compiled.problems.extend(problems);
    (compiled, tests)
}

/// Compiles what the engine evaluates; the texts come compiled or deferred.
pub fn core(raw: RawCore, prose: LazyProse) -> Compiled {
    let mut problems = Vec::new();
    let when = condition(&raw.when, &mut problems);
    let changes: Vec<Option<Change>> = raw
        .changes
        .iter()
        .map(|change| self::change(change, &mut problems))
        .collect();
    let id = raw.id.clone();
    let rule = match when {
        Some(when) if changes.iter().all(Option::is_some) => Some(Rule {
            id: raw.id,
            component: raw.component,
            for_each: raw.for_each,
            when,
            status: raw.status,
            partial: raw.partial,
            changes: changes.into_iter().flatten().collect(),
            recommend: raw.recommend,
            prose,
        }),
        _ => None,
    };
    Compiled { id, rule, problems }
}

/// Compiles a condition; `None` (with the reasons in `problems`) when a part does not parse.
pub fn condition(raw: &RawCondition, problems: &mut Vec<String>) -> Option<Condition> {
    let before = problems.len();
    let compiled = compile_condition(raw, problems);
    (problems.len() == before).then_some(compiled)
}

/// A condition in data outside rules (the memory model): every problem in one message.
impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Condition, String> {
        let mut problems = Vec::new();
        condition(&raw, &mut problems).ok_or_else(|| problems.join("; "))
    }
}

fn compile_condition(raw: &RawCondition, problems: &mut Vec<String>) -> Condition {
    let mut spec = |what: &str, text: &str| -> VersionSpecifiers {
        specifiers(text).unwrap_or_else(|| {
            problems.push(format!("{what} `{text}` is not a version specifier"));
            VersionSpecifiers::empty()
        })
    };
    match raw {
        RawCondition::All(items) => Condition::All(
            items
                .iter()
                .map(|i| compile_condition(i, problems))
                .collect(),
        ),
        RawCondition::Any(items) => Condition::Any(
            items
                .iter()
                .map(|i| compile_condition(i, problems))
                .collect(),
        ),
        RawCondition::Not(inner) => Condition::Not(Box::new(compile_condition(inner, problems))),
        RawCondition::Package(package) => {
            let versions = package
                .version()
                .map_or_else(Ranges::full, |v| release_range(spec("package version", v)));
            let cuda = package.cuda().map(|c| spec("package cuda", c));
            Condition::Package(PackageCondition {
                name: package.name().to_string(),
                versions,
                cuda,
                installer: package.installer(),
                url: package.url().map(str::to_string),
            })
        }
        RawCondition::Os(oses) => Condition::Os(items(oses)),
        RawCondition::OsVersion(text) => Condition::OsVersion(spec("os_version", text)),
        RawCondition::Arch(arches) => Condition::Arch(items(arches)),
        RawCondition::CpuFeature(features) => {
            let features: Vec<String> = features.items().into_iter().cloned().collect();
            for feature in &features {
                if !crate::profile::CPU_FEATURES.contains(&feature.as_str()) {
                    problems.push(format!(
                        "cpu_feature `{feature}` is not one mlcompat reads (one of: {})",
                        crate::profile::CPU_FEATURES.join(", ")
                    ));
                }
            }
            Condition::CpuFeature(features)
        }
        RawCondition::Gpu(vendors) => Condition::Gpu(
            vendors
                .items()
                .iter()
                .filter_map(|v| gpu_wanted(v, problems))
                .collect(),
        ),
        RawCondition::Cuda(text) => Condition::Cuda(spec("cuda", text)),
        RawCondition::Installed(installed) => Condition::Installed(installed.clone()),
        RawCondition::TorchBuild(kinds) => {
            Condition::TorchBuild(kinds.items().into_iter().copied().collect())
        }
        RawCondition::ComputeCapability(text) => {
            Condition::ComputeCapability(spec("compute_capability", text))
        }
        RawCondition::Driver(text) => Condition::Driver(spec("driver", text)),
        RawCondition::Python(text) => Condition::Python(release_range(spec("python", text))),
        RawCondition::GpuCount(text) => Condition::GpuCount(
            comparison(text, |n| n.parse::<f64>().ok()).unwrap_or_else(|| {
                problems.push(format!("`{text}` is not a comparison such as `> 1`"));
                Comparison {
                    op: Op::Eq,
                    value: 0.0,
                }
            }),
        ),
        RawCondition::Index(index) => {
            let cuda = index.cuda.as_deref().map(|c| spec("index cuda", c));
            if index.cuda.is_none() && index.matches.is_none() {
                problems.push("index needs `cuda` or `matches`".to_string());
            }
            Condition::Index(IndexCondition {
                cuda,
                matches: index.matches.clone(),
            })
        }
        RawCondition::Ram(text) => Condition::Ram(size_comparison(text, problems)),
        RawCondition::Vram(text) => Condition::Vram(size_comparison(text, problems)),
        RawCondition::Setting(setting) => Condition::Setting(setting.clone()),
        RawCondition::ModelParams(text) => {
            Condition::ModelParams(comparison(text, parse_count).unwrap_or_else(|| {
                problems.push(format!("`{text}` is not a comparison such as `>= 6B`"));
                Comparison {
                    op: Op::Eq,
                    value: 0.0,
                }
            }))
        }
        RawCondition::Memory(fit) => Condition::Memory(*fit),
    }
}

fn items<T: Clone + PartialEq>(one_or_many: &OneOrMany<T>) -> Vec<T> {
    one_or_many.items().into_iter().cloned().collect()
}

fn gpu_wanted(name: &str, problems: &mut Vec<String>) -> Option<GpuWanted> {
    let wanted = match name {
        "nvidia" => GpuWanted::Vendor(Vendor::Nvidia),
        "amd" => GpuWanted::Vendor(Vendor::Amd),
        "apple" => GpuWanted::Vendor(Vendor::Apple),
        "intel" => GpuWanted::Vendor(Vendor::Intel),
        "none" => GpuWanted::None,
        "any" => GpuWanted::Any,
        other => {
            problems.push(format!(
                "gpu `{other}` is not nvidia, amd, apple, intel, none or any"
            ));
            return None;
        }
    };
    Some(wanted)
}

fn size_comparison(text: &str, problems: &mut Vec<String>) -> Comparison<ByteSize> {
    comparison(text, |size| ByteSize::parse(size).ok()).unwrap_or_else(|| {
        problems.push(format!(
            "`{text}` is not a size comparison such as `< 16 GB`"
        ));
        Comparison {
            op: Op::Eq,
            value: ByteSize(0),
        }
    })
}

/// `"< 16 GB"`, `">= 6B"`: an operator and a value `parse` accepts.
fn comparison<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Comparison<T>> {
    let text = text.trim();
    let at = text.find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))?;
    let (op, value) = text.split_at(at);
    let op = match op {
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "==" => Op::Eq,
        "!=" => Op::Ne,
        _ => return None,
    };
    Some(Comparison {
        op,
        value: parse(value.trim())?,
    })
}

/// `6B`, `500M`, `7e9`.
pub fn parse_count(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, scale) = match text.chars().last()? {
        'B' | 'b' => (&text[..text.len() - 1], 1e9),
        'M' | 'm' => (&text[..text.len() - 1], 1e6),
        _ => (text, 1.0),
    };
    number.trim().parse::<f64>().ok().map(|n| n * scale)
}

fn change(raw: &RawChange, problems: &mut Vec<String>) -> Option<Change> {
    Some(match raw {
        RawChange::RemovePackage(name) => Change::RemovePackage(name.clone()),
        RawChange::ReplacePackage { from, to } => Change::ReplacePackage {
            from: from.clone(),
            to: to.clone(),
        },
        RawChange::Require(requirement) => {
            let split = requirement
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '{' | '}')))
                .unwrap_or(requirement.len());
            let (name, wanted) = requirement.split_at(split);
            let Some(wanted) = specifiers(wanted.trim()) else {
                problems.push(format!(
                    "require `{requirement}` is not a package and a version specifier"
                ));
                return None;
            };
            Change::Require {
                name: name.to_string(),
                versions: release_range(wanted),
            }
        }
        RawChange::Set { key, value } => {
            let value = match value {
                SettingLiteral::Text(text) => match super::template::change_variable(text) {
                    Ok(Some(name)) => SetValue::Machine(name),
                    Ok(None) => SetValue::Literal(value.clone()),
                    Err(problem) => {
                        problems.push(problem);
                        return None;
                    }
                },
                literal => SetValue::Literal(literal.clone()),
            };
            Change::Set {
                key: key.clone(),
                value,
            }
        }
        RawChange::UseIndex(url) => Change::UseIndex(url.clone()),
        RawChange::AddMarker { package, marker } => Change::AddMarker {
            package: package.clone(),
            marker: marker.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_and_counts() {
        assert_eq!(
            comparison("< 16 GB", |s| ByteSize::parse(s).ok()).map(|c| c.op),
            Some(Op::Lt)
        );
        assert!(comparison("16 GB", |s| ByteSize::parse(s).ok()).is_none());
        assert_eq!(parse_count("6B"), Some(6e9));
        assert_eq!(parse_count("500M"), Some(5e8));
    }
}
