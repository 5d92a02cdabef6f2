//! Message templates: `"bitsandbytes {package.version} has no Apple-GPU backend"`. A template is
//! split into text and placeholders once, when the rule loads; a placeholder no fact fills is a
//! lint problem then, not a surprise in a report.

use std::collections::BTreeMap;

/// The values of the placeholders for one firing of a rule.
pub type Variables = BTreeMap<&'static str, String>;

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
    "installed.version",
    "install.command",
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
