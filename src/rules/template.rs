//! Message templates: `"bitsandbytes {package.version} has no Apple-GPU backend"`. A template is
//! split into text and placeholders once, when the rule loads; a placeholder no fact fills is a
//! lint problem then, not a surprise in a report.

use std::collections::BTreeMap;

use super::condition::{self, Trace};
use super::facts::Facts;
use crate::profile::Vendor;

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

/// A message with its placeholders found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    /// One of [`TEMPLATE_VARIABLES`].
    Var(&'static str),
}

impl Template {
    /// Splits `text` into text and placeholders. Braces that do not hold a name stay text; a
    /// name that is not a template variable stays text too and is returned, for lint.
    pub fn parse(text: &str) -> (Template, Vec<String>) {
        let mut parts = Vec::new();
        let mut unknown = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name = after.find('}').map(|close| &after[..close]);
            match name.and_then(|n| TEMPLATE_VARIABLES.iter().find(|v| **v == n)) {
                Some(var) => {
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Var(var));
                    rest = &after[var.len() + 1..];
                }
                None => {
                    if let Some(name) = name.filter(|n| looks_like_a_name(n))
                        && !unknown.iter().any(|u| u == name)
                    {
                        unknown.push(name.to_string());
                    }
                    literal.push('{');
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        (Template { parts }, unknown)
    }

    /// Whether the template quotes `{name}`.
    pub fn mentions(&self, name: &str) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Var(v) if *v == name))
    }

    /// The text with every placeholder filled; one the facts leave empty stays as written.
    pub fn render(&self, vars: &Variables) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(name) => match vars.get(name) {
                    Some(value) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
            }
        }
        out
    }
}

/// The template as written, placeholders in braces.
impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(text) => f.write_str(text)?,
                Part::Var(name) => write!(f, "{{{name}}}")?,
            }
        }
        Ok(())
    }
}

fn looks_like_a_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
}

impl super::rule::Prose {
    /// Whether any of the texts quotes `{name}`.
    pub fn mentions(&self, name: &str) -> bool {
        [&self.title, &self.problem]
            .into_iter()
            .chain(self.summary.iter())
            .chain(&self.impact)
            .chain(&self.solution)
            .any(|t| t.mentions(name))
    }
}

/// The values of the placeholders for one firing of a rule.
pub type Variables = BTreeMap<&'static str, String>;

/// The values a message may quote: `{package.version}`, `{ram}`, `{memory.need}`, ...
pub fn variables(facts: &Facts, trace: &Trace) -> Variables {
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
        put("package.version", Some(package.version_text()));
        put(
            "package.avoid",
            package.avoid.as_ref().map(super::versions::describe),
        );
        let cuda = facts
            .declared(&package.name)
            .find_map(|decl| condition::build_cuda(decl, facts));
        put("package.cuda", cuda.map(|v| v.to_string()));
    }
    if let Some((key, value)) = &trace.setting {
        put("setting.key", Some(key.clone()));
        put("setting.value", Some(value.to_string()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_once_and_filled() {
        let (template, unknown) = Template::parse("{package.name} {x y} {pakage.version} on {os}");
        assert_eq!(unknown, vec!["pakage.version".to_string()]);
        assert!(template.mentions("os"));
        let mut vars = Variables::new();
        vars.insert("package.name", "torch".to_string());
        assert_eq!(
            template.render(&vars),
            "torch {x y} {pakage.version} on {os}"
        );
    }
}
