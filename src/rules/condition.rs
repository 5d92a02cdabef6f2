//! Evaluating a rule's `when` against the facts, in four-valued logic.
//!
//! A declared version range is a set of versions, so "bitsandbytes>=0.43 is below 0.50" is
//! neither true nor false: it is `Partial`, and the finding says which versions avoid the
//! problem. A fact the profile does not state is `Unknown`, never silently false or true.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use version_ranges::Ranges;

use super::facts::Facts;
use super::memory::MemoryEstimate;
use super::model::{
    Condition, Fit, IndexCondition, PackageCondition, SettingCondition, SettingLiteral,
};
use crate::profile::Vendor;
use crate::project::{Evidence, PackageDecl, SettingValue};
use crate::size::ByteSize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Truth {
    No,
    Unknown,
    Partial,
    Yes,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b { Truth::Yes } else { Truth::No }
    }

    fn not(self) -> Truth {
        match self {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            other => other,
        }
    }
}

/// What a matched package condition bound, for messages and "which versions avoid it".
#[derive(Clone, Debug, Default)]
pub struct PackageBinding {
    pub name: String,
    pub specifier: String,
    /// The declared versions outside the rule's range, when the declaration straddles it.
    pub avoid: Option<String>,
}

/// The trace of one evaluation: the facts that made the condition true.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub evidence: Vec<Evidence>,
    pub package: Option<PackageBinding>,
    pub setting: Option<(String, String)>,
    pub used_memory: bool,
}

pub fn evaluate(condition: &Condition, facts: &Facts, trace: &mut Trace) -> Truth {
    match condition {
        Condition::All(items) => {
            let mut result = Truth::Yes;
            for item in items {
                result = result.min(evaluate(item, facts, trace));
                if result == Truth::No {
                    break;
                }
            }
            result
        }
        Condition::Any(items) => items
            .iter()
            .map(|item| evaluate(item, facts, trace))
            .max()
            .unwrap_or(Truth::No),
        // What made the inner condition true is not evidence for its negation.
        Condition::Not(inner) => evaluate(inner, facts, &mut Trace::default()).not(),
        Condition::Package(package) => package_truth(package, facts, trace),
        Condition::Os(oses) => known(facts.profile.system.os, |os| oses.contains(&os)),
        Condition::OsVersion(spec) => {
            version_truth(facts.profile.system.os_version.as_deref(), spec)
        }
        Condition::Arch(arches) => known(facts.profile.system.arch, |arch| arches.contains(&arch)),
        Condition::Gpu(vendors) => {
            Truth::from_bool(vendors.items().iter().any(|v| has_gpu(facts, v)))
        }
        Condition::Cuda(spec) => nvidia_truth(facts, spec, |gpu| gpu.cuda_version.as_deref()),
        Condition::ComputeCapability(spec) => {
            nvidia_truth(facts, spec, |gpu| gpu.compute_capability.as_deref())
        }
        Condition::Driver(spec) => nvidia_truth(facts, spec, |gpu| gpu.driver_version.as_deref()),
        Condition::GpuCount(comparison) => match split_comparison(comparison) {
            Some((op, limit)) => match limit.parse::<f64>() {
                Ok(limit) => Truth::from_bool(compare(op, facts.profile.gpus.len() as f64, limit)),
                Err(_) => Truth::Unknown,
            },
            None => Truth::Unknown,
        },
        Condition::Index(index) => index_truth(index, facts, trace),
        Condition::Ram(comparison) => size_truth(facts.profile.system.memory, comparison),
        Condition::Vram(comparison) => size_truth(
            facts.profile.gpus.iter().filter_map(|gpu| gpu.memory).max(),
            comparison,
        ),
        Condition::Python(spec) => python_truth(facts, spec),
        Condition::Setting(setting) => setting_truth(setting, facts, trace),
        Condition::ModelParams(comparison) => model_truth(facts, comparison, trace),
        Condition::Memory(fit) => memory_truth(facts.memory.as_ref(), *fit, trace),
    }
}

fn known<T>(value: Option<T>, test: impl FnOnce(T) -> bool) -> Truth {
    value.map_or(Truth::Unknown, |value| Truth::from_bool(test(value)))
}

fn has_gpu(facts: &Facts, vendor: &str) -> bool {
    let gpus = &facts.profile.gpus;
    match vendor {
        "none" => gpus.is_empty(),
        "any" => !gpus.is_empty(),
        name => gpus.iter().any(|gpu| gpu.vendor.to_string() == name),
    }
}

/// A specifier as a set of release versions: `==13.0.*` and `>=13` then agree that 13.0 is in
/// both, where PEP 440's pre-release boundaries (`13.0.dev0`) would make them straddle.
///
/// pep440_rs adds one to the last release number of `==X.*`, `!=X.*` and `~=X.Y`; a number of
/// `u64::MAX` (`pytorch=2.1.18446744073709551615` in a conda file, found by the fuzzer) would
/// overflow: a panic in a debug build, a wrapped and wrong range in a release build. No real
/// version has such a number, so such a specifier is read as allowing any version.
pub fn release_range(spec: VersionSpecifiers) -> Ranges<Version> {
    if spec
        .iter()
        .any(|one| one.version().release().contains(&u64::MAX))
    {
        return Ranges::full();
    }
    pep440_rs::release_specifiers_to_ranges(spec)
}

/// Parses a specifier, accepting a bare version (`"14"`) as `==14`.
pub fn specifiers(spec: &str) -> Option<VersionSpecifiers> {
    VersionSpecifiers::from_str(spec)
        .or_else(|_| VersionSpecifiers::from_str(&format!("=={spec}")))
        .ok()
}

fn version_truth(value: Option<&str>, spec: &str) -> Truth {
    let (Some(value), Some(spec)) = (value, specifiers(spec)) else {
        return Truth::Unknown;
    };
    match Version::from_str(value.trim()) {
        Ok(version) => Truth::from_bool(spec.contains(&version)),
        Err(_) => Truth::Unknown,
    }
}

/// True when any NVIDIA GPU's value meets the specifier; unknown when none states it.
fn nvidia_truth(
    facts: &Facts,
    spec: &str,
    field: impl Fn(&crate::profile::Gpu) -> Option<&str>,
) -> Truth {
    facts
        .profile
        .gpus_of(Vendor::Nvidia)
        .map(|gpu| version_truth(field(gpu), spec))
        .max()
        .unwrap_or(Truth::No)
}

/// `"< 16 GB"`, `">= 6B"`: an operator and a value.
fn split_comparison(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    let at = text.find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))?;
    let (op, value) = text.split_at(at);
    matches!(op, "<" | "<=" | ">" | ">=" | "==" | "!=").then_some((op, value.trim()))
}

fn compare(op: &str, left: f64, right: f64) -> bool {
    match op {
        "<" => left < right,
        "<=" => left <= right,
        ">" => left > right,
        ">=" => left >= right,
        "==" => left == right,
        _ => left != right,
    }
}

fn size_truth(value: Option<ByteSize>, comparison: &str) -> Truth {
    let Some((op, limit)) = split_comparison(comparison) else {
        return Truth::Unknown;
    };
    match (value, ByteSize::parse(limit)) {
        (Some(value), Ok(limit)) => Truth::from_bool(compare(op, value.0 as f64, limit.0 as f64)),
        _ => Truth::Unknown,
    }
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

fn model_truth(facts: &Facts, comparison: &str, trace: &mut Trace) -> Truth {
    let Some((op, limit)) = split_comparison(comparison) else {
        return Truth::Unknown;
    };
    let Some(limit) = parse_count(limit) else {
        return Truth::Unknown;
    };
    let Some(model) = facts.project.models.first() else {
        return Truth::No;
    };
    let truth = known(model.params, |params| compare(op, params, limit));
    if truth == Truth::Yes {
        trace.evidence.push(model.evidence.clone());
    }
    truth
}

/// True when the project installs from an index that meets every part of the condition.
fn index_truth(condition: &IndexCondition, facts: &Facts, trace: &mut Trace) -> Truth {
    let cuda = condition.cuda.as_deref().map(specifiers);
    if matches!(cuda, Some(None)) {
        return Truth::Unknown;
    }
    let hit = facts.project.indexes.iter().find(|index| {
        let cuda_ok = match &cuda {
            Some(Some(spec)) => index
                .cuda_version()
                .and_then(|v| Version::from_str(&v).ok())
                .is_some_and(|v| spec.contains(&v)),
            _ => true,
        };
        let url_ok = condition
            .matches
            .as_deref()
            .is_none_or(|pattern| glob(pattern, &index.url.to_ascii_lowercase()));
        cuda_ok && url_ok
    });
    match hit {
        Some(index) => {
            trace.evidence.push(index.evidence.clone());
            Truth::Yes
        }
        None => Truth::No,
    }
}

/// The CUDA version a declared build is for: `+cu121` in its version or URL (`12.1`), else the
/// CUDA index the project installs from. `None` when nothing says (a plain PyPI wheel).
pub fn build_cuda(decl: &PackageDecl, facts: &Facts) -> Option<Version> {
    let tagged = |text: &str| -> Option<String> {
        let lower = text.to_ascii_lowercase();
        lower.match_indices("cu").find_map(|(at, _)| {
            let before = lower[..at].chars().last();
            if !matches!(before, Some('+' | '/' | '-' | '_' | '.')) {
                return None;
            }
            let digits: String = lower[at + 2..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (digits.len() >= 3).then(|| {
                format!(
                    "{}.{}",
                    &digits[..digits.len() - 1],
                    &digits[digits.len() - 1..]
                )
            })
        })
    };
    tagged(&decl.specifier)
        .or_else(|| decl.url.as_deref().and_then(tagged))
        .or_else(|| installed(facts, decl).and_then(|(text, _)| tagged(&text)))
        .or_else(|| facts.project.indexes.iter().find_map(|i| i.cuda_version()))
        .and_then(|text| Version::from_str(&text).ok())
}

/// Relation of the declared versions to the rule's range: inside, outside, or straddling.
fn package_truth(condition: &PackageCondition, facts: &Facts, trace: &mut Trace) -> Truth {
    let name = facts.resolve(condition.name());
    let rule_range = match condition.version() {
        None => Ranges::full(),
        Some(spec) => match specifiers(spec) {
            Some(spec) => release_range(spec),
            None => return Truth::Unknown,
        },
    };
    let cuda = match condition.cuda().map(specifiers) {
        None => None,
        Some(Some(spec)) => Some(spec),
        Some(None) => return Truth::Unknown,
    };
    let mut best = Truth::No;
    for declared in facts.declared(name) {
        if condition
            .installer()
            .is_some_and(|i| i != declared.installer)
        {
            continue;
        }
        if let Some(spec) = &cuda
            && !build_cuda(declared, facts).is_some_and(|v| spec.contains(&v))
        {
            continue;
        }
        if let Some(pattern) = condition.url()
            && !declared
                .url
                .as_deref()
                .is_some_and(|url| glob(pattern, url))
        {
            continue;
        }
        let mut declared_range = declared
            .versions
            .clone()
            .map_or_else(Ranges::full, release_range);
        let mut specifier = declared.specifier.clone();
        // The version installed in the interpreter the project runs on is a point, when it
        // is one the declaration allows (else pip would replace it).
        if facts.use_installed
            && let Some((text, version)) = installed(facts, declared)
            && declared_range.contains(&version)
        {
            declared_range = Ranges::singleton(version);
            specifier = format!("{specifier} (installed {text})")
                .trim_start()
                .to_string();
        }
        let (truth, avoid) = if declared_range.subset_of(&rule_range) {
            (Truth::Yes, None)
        } else if declared_range.is_disjoint(&rule_range) {
            (Truth::No, None)
        } else {
            let outside = declared_range.intersection(&rule_range.complement());
            (Truth::Partial, Some(describe(&outside)))
        };
        if truth > best {
            best = truth;
            trace.evidence.push(declared.evidence.clone());
            trace.package = Some(PackageBinding {
                name: name.to_string(),
                specifier,
                avoid,
            });
        }
    }
    best
}

/// The installed version of a declared package, as the probe read it from the interpreter's
/// site-packages: its text (`2.5.1+cu121`) and its release (`2.5.1`).
fn installed(facts: &Facts, decl: &PackageDecl) -> Option<(String, Version)> {
    let packages = &facts.profile.python.as_ref()?.packages;
    let text = packages
        .get(&decl.name)
        .or_else(|| packages.get(facts.catalogue.canonical(&decl.name)))?;
    let version = Version::from_str(text).ok()?.only_release();
    Some((text.clone(), version))
}

/// A version set as a specifier a person can paste: `>=0.50`, `>=2.1, <3`.
pub fn describe(ranges: &Ranges<Version>) -> String {
    use std::ops::Bound;
    let parts: Vec<String> = ranges
        .iter()
        .map(|(low, high)| {
            let low = match low {
                Bound::Included(v) => Some(format!(">={}", short(v))),
                Bound::Excluded(v) => Some(format!(">{}", short(v))),
                Bound::Unbounded => None,
            };
            let high = match high {
                Bound::Included(v) => Some(format!("<={}", short(v))),
                Bound::Excluded(v) => Some(format!("<{}", short(v))),
                Bound::Unbounded => None,
            };
            match (low, high) {
                (Some(l), Some(h)) => format!("{l},{h}"),
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => "any version".to_string(),
            }
        })
        .collect();
    parts.join(" or ")
}

/// A version without the `.dev0`/`a0` markers that range arithmetic adds at boundaries.
fn short(version: &Version) -> String {
    version.only_release().to_string()
}

fn python_truth(facts: &Facts, spec: &str) -> Truth {
    let Some(judged) = &facts.python.versions else {
        return Truth::Unknown;
    };
    let Some(spec) = specifiers(spec) else {
        return Truth::Unknown;
    };
    let rule = release_range(spec);
    if judged.subset_of(&rule) {
        Truth::Yes
    } else if judged.is_disjoint(&rule) {
        Truth::No
    } else {
        Truth::Partial
    }
}

fn setting_truth(condition: &SettingCondition, facts: &Facts, trace: &mut Trace) -> Truth {
    let mut best = Truth::No;
    for setting in facts.project.setting(facts.resolve(&condition.key)) {
        let hit = setting_matches(condition, &setting.value, facts.profile.gpus.len());
        if hit && best == Truth::No {
            best = Truth::Yes;
            trace.evidence.push(setting.evidence.clone());
            trace.setting = Some((setting.key.clone(), setting.value.to_string()));
        }
    }
    best
}

fn setting_matches(condition: &SettingCondition, value: &SettingValue, gpus: usize) -> bool {
    if condition.above_gpu_count {
        let number = match value {
            SettingValue::Number(n) => Some(*n),
            SettingValue::Text(t) => t.trim().parse::<f64>().ok(),
            SettingValue::Bool(_) => None,
        };
        return number.is_some_and(|n| n > gpus as f64);
    }
    if let Some(expected) = &condition.equals {
        return expected
            .items()
            .iter()
            .any(|literal| literal_matches(literal, value));
    }
    if let Some(pattern) = &condition.matches {
        return glob(pattern, &value.to_string().to_ascii_lowercase());
    }
    if let Some(limit) = condition.above {
        return matches!(value, SettingValue::Number(n) if *n > limit);
    }
    true
}

fn literal_matches(literal: &SettingLiteral, value: &SettingValue) -> bool {
    match (literal, value) {
        (SettingLiteral::Bool(a), SettingValue::Bool(b)) => a == b,
        (SettingLiteral::Number(a), SettingValue::Number(b)) => a == b,
        (SettingLiteral::Text(a), SettingValue::Text(b)) => a.eq_ignore_ascii_case(b),
        // Configs write `load_in_4bit: "true"` and `quantization_bit: "4"` too.
        (SettingLiteral::Bool(a), SettingValue::Text(b)) => b.eq_ignore_ascii_case(&a.to_string()),
        (SettingLiteral::Number(a), SettingValue::Text(b)) => b.trim().parse::<f64>() == Ok(*a),
        _ => false,
    }
}

/// `paged_*`, `*_8bit`, `nvidia-*-cu12`: `*` stands for any run of characters (none too),
/// anywhere in the pattern; case is ignored.
pub fn glob(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let text = text.to_ascii_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    if !text.ends_with(last) {
        return false;
    }
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn memory_truth(estimate: Option<&MemoryEstimate>, fit: Fit, trace: &mut Trace) -> Truth {
    let Some(estimate) = estimate else {
        return Truth::Unknown;
    };
    let Some(actual) = estimate.fit else {
        return Truth::Unknown;
    };
    let truth = Truth::from_bool(actual == fit);
    if truth == Truth::Yes {
        trace.used_memory = true;
        trace.evidence.push(estimate.model.evidence.clone());
    }
    truth
}

/// Problems in a condition that parsing alone does not catch, for `rules lint`.
pub fn check(condition: &Condition) -> Vec<String> {
    let mut problems = Vec::new();
    check_into(condition, &mut problems);
    problems
}

fn check_into(condition: &Condition, problems: &mut Vec<String>) {
    let mut spec = |what: &str, text: &str| {
        if specifiers(text).is_none() {
            problems.push(format!("{what} `{text}` is not a version specifier"));
        }
    };
    match condition {
        Condition::All(items) | Condition::Any(items) => {
            items.iter().for_each(|item| check_into(item, problems))
        }
        Condition::Not(inner) => check_into(inner, problems),
        Condition::Package(package) => {
            if let Some(version) = package.version() {
                spec("package version", version);
            }
            if let Some(cuda) = package.cuda() {
                spec("package cuda", cuda);
            }
        }
        Condition::Index(index) => {
            if let Some(cuda) = &index.cuda {
                spec("index cuda", cuda);
            }
            if index.cuda.is_none() && index.matches.is_none() {
                problems.push("index needs `cuda` or `matches`".to_string());
            }
        }
        Condition::GpuCount(text) => {
            if split_comparison(text).is_none_or(|(_, n)| n.parse::<f64>().is_err()) {
                problems.push(format!("`{text}` is not a comparison such as `> 1`"));
            }
        }
        Condition::OsVersion(text) => spec("os_version", text),
        Condition::Cuda(text) => spec("cuda", text),
        Condition::ComputeCapability(text) => spec("compute_capability", text),
        Condition::Driver(text) => spec("driver", text),
        Condition::Python(text) => spec("python", text),
        Condition::Ram(text) | Condition::Vram(text) => {
            if split_comparison(text).is_none_or(|(_, size)| ByteSize::parse(size).is_err()) {
                problems.push(format!(
                    "`{text}` is not a size comparison such as `< 16 GB`"
                ));
            }
        }
        Condition::ModelParams(text) => {
            if split_comparison(text).is_none_or(|(_, count)| parse_count(count).is_none()) {
                problems.push(format!("`{text}` is not a comparison such as `>= 6B`"));
            }
        }
        Condition::Gpu(vendors) => {
            for vendor in vendors.items() {
                if !["nvidia", "amd", "apple", "intel", "none", "any"].contains(&vendor.as_str()) {
                    problems.push(format!(
                        "gpu `{vendor}` is not nvidia, amd, apple, intel, none or any"
                    ));
                }
            }
        }
        Condition::Os(_) | Condition::Arch(_) | Condition::Setting(_) | Condition::Memory(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzer find (conda target): a release number of u64::MAX overflowed pep440_rs.
    #[test]
    fn a_release_number_of_u64_max_does_not_overflow() {
        for spec in [
            "==2.1.18446744073709551615.*",
            "!=18446744073709551615.*",
            "~=1.18446744073709551615",
        ] {
            let parsed = specifiers(spec).expect(spec);
            assert_eq!(release_range(parsed), Ranges::full(), "{spec}");
        }
        assert_ne!(
            release_range(specifiers("==2.1.*").unwrap()),
            Ranges::full()
        );
    }

    #[test]
    fn version_sets_read_back_as_specifiers() {
        let declared = release_range(VersionSpecifiers::from_str(">=0.43.1").unwrap());
        let rule = release_range(VersionSpecifiers::from_str("<0.50").unwrap());
        assert_eq!(
            describe(&declared.intersection(&rule.complement())),
            ">=0.50"
        );
        assert_eq!(
            describe(&release_range(
                VersionSpecifiers::from_str(">=2.1,<3").unwrap()
            )),
            ">=2.1,<3"
        );
    }

    #[test]
    fn comparisons_and_globs() {
        assert_eq!(split_comparison("< 16 GB"), Some(("<", "16 GB")));
        assert_eq!(split_comparison("16 GB"), None);
        assert_eq!(parse_count("6B"), Some(6e9));
        assert!(glob("paged_*", "paged_adamw_8bit"));
        assert!(glob("*8bit", "paged_adamw_8bit"));
        assert!(!glob("paged_*", "adamw_torch"));
        assert!(glob("nvidia-*-cu12", "nvidia-cublas-cu12"));
        assert!(!glob("nvidia-*-cu12", "nvidia-cublas-cu11"));
        assert!(!glob("nvidia-*-cu12", "nvidia-cu12"));
        assert!(glob(
            "*/whl/rocm*",
            "https://download.pytorch.org/whl/rocm6.2"
        ));
    }
}
