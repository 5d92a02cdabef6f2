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

/// What a machine value a change writes must be, checked when the change is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A whole number of at least 1 (a process or device count: 0 processes is no launch).
    Count,
}

/// The placeholders a `set` change may write as its whole value (`value: "{gpu.count}"`), each
/// with its type. Messages may quote any [`TEMPLATE_VARIABLES`]; a change writes into a
/// project's file, so only facts with a type a setting can take are allowed.
pub const CHANGE_VARIABLES: &[(&str, ValueKind)] = &[("gpu.count", ValueKind::Count)];

/// A `set` value that quotes a placeholder: `Ok(Some(name))` when the whole value is one
/// placeholder a change may write, `Ok(None)` when it quotes none (a literal), `Err` with the
/// reason otherwise (an unknown name, a message-only one such as `{ram}`, or text around it).
pub fn change_variable(text: &str) -> Result<Option<&'static str>, String> {
    let (template, unknown) = Template::parse(text);
    let allowed: Vec<String> = CHANGE_VARIABLES
        .iter()
        .map(|(name, _)| format!("{{{name}}}"))
        .collect();
    let allowed = allowed.join(", ");
    if let Some(name) = unknown.first() {
        return Err(format!(
            "set value `{text}`: `{{{name}}}` is not a placeholder; a change may write {allowed}"
        ));
    }
    match template.parts.as_slice() {
        [Part::Var(name)] => match CHANGE_VARIABLES.iter().find(|(n, _)| n == name) {
            Some((name, _)) => Ok(Some(name)),
            None => Err(format!(
                "set value `{text}`: `{{{name}}}` is for messages; a change may write {allowed}"
            )),
        },
        parts if parts.iter().any(|p| matches!(p, Part::Var(_))) => Err(format!(
            "set value `{text}`: a placeholder must be the whole value ({allowed})"
        )),
        _ => Ok(None),
    }
}

/// `value` as the `kind` a change writes, or `None` when the machine's fact is not one (a GPU
/// count of 0 is no process count).
pub fn typed_value(kind: ValueKind, value: &str) -> Option<f64> {
    match kind {
        ValueKind::Count => value
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .map(f64::from),
    }
}

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
    fn a_change_writes_only_whole_typed_placeholders() {
        assert_eq!(change_variable("{gpu.count}"), Ok(Some("gpu.count")));
        assert_eq!(change_variable("sdpa"), Ok(None));
        for bad in ["{ram}", "{gpu.cout}", "{gpu.count} GPUs"] {
            assert!(change_variable(bad).is_err(), "{bad}");
        }
        assert_eq!(typed_value(ValueKind::Count, "2"), Some(2.0));
        assert_eq!(typed_value(ValueKind::Count, "0"), None);
        assert_eq!(typed_value(ValueKind::Count, "1.5"), None);
    }

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
