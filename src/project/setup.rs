//! setup.cfg `install_requires` and `extras_require`, and the literal `install_requires` list of
//! a setup.py, read as text: a setup.py is a program and is never run.

use std::path::Path;

use super::{Distribution, Evidence, Project, normalize_name, requirements};
use crate::source::{self, SourceError};

/// `[options] install_requires = …` (one requirement per continuation line) and
/// `[options.extras_require]` (each key an extra, marked on its packages).
pub fn read_cfg(file: &Path, relative: &str, project: &mut Project) -> Result<(), SourceError> {
    let text = source::read_text(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut section = String::new();
    let mut key: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_number = index as u32 + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = trimmed[1..trimmed.len() - 1].trim().to_string();
            key = None;
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let continuation = raw.starts_with([' ', '\t']);
        let value = if continuation {
            trimmed
        } else {
            let Some((name, value)) = trimmed.split_once('=') else {
                key = None;
                continue;
            };
            key = Some(name.trim().to_string());
            value.trim()
        };
        if section == "metadata" && !continuation {
            metadata(key.as_deref(), value, relative, line_number, project);
            continue;
        }
        let extra = match (section.as_str(), key.as_deref()) {
            ("options", Some("install_requires")) => None,
            ("options.extras_require", Some(extra)) => Some(extra.to_string()),
            _ => continue,
        };
        if value.is_empty() {
            continue;
        }
        let evidence = Evidence {
            file: relative.to_string(),
            line: line_number,
        };
        let before = project.packages.len();
        // `value; marker` lines are PEP 508 as they stand; `file:` indirections are noted.
        if let Some(target) = value.strip_prefix("file:") {
            project.notes.push(format!(
                "{evidence}: requirements listed in {} are read when named requirements*.txt",
                target.trim()
            ));
            continue;
        }
        requirements::read_entry(base, file, value, evidence, project)?;
        for package in &mut project.packages[before..] {
            package.extra.clone_from(&extra);
        }
    }
    Ok(())
}

/// `[metadata] name = …` and `version = …`: the project's own distribution. A version that is
/// not a plain one (`attr: pkg.__version__`, `file: VERSION`) is unknown.
fn metadata(key: Option<&str>, value: &str, relative: &str, line: u32, project: &mut Project) {
    match key {
        Some("name") if project.distribution.is_none() && !value.is_empty() => {
            project.distribution = Some(Distribution {
                name: normalize_name(value),
                version: None,
                evidence: Evidence {
                    file: relative.to_string(),
                    line,
                },
            });
        }
        Some("version") if !value.contains(':') => {
            if let Some(own) = project
                .distribution
                .as_mut()
                .filter(|d| d.evidence.file == relative)
            {
                own.version = Some(value.to_string());
            }
        }
        _ => {}
    }
}

/// The `install_requires=[ "…", … ]` list of a setup.py, when it is written as a literal list of
/// strings; anything computed (a variable, a function call) is noted and not guessed at.
pub fn read_py(file: &Path, relative: &str, project: &mut Project) -> Result<(), SourceError> {
    let text = source::read_text(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let lines = super::pyproject::LineIndex::new(&text);
    if project.distribution.is_none()
        && let Some((offset, name)) = setup_keyword(&text, "name")
    {
        project.distribution = Some(Distribution {
            name: normalize_name(&name),
            version: setup_keyword(&text, "version").map(|(_, v)| v),
            evidence: Evidence {
                file: relative.to_string(),
                line: lines.line(offset) as u32,
            },
        });
    }
    let Some(start) = text.find("install_requires") else {
        return Ok(());
    };
    let rest = &text[start + "install_requires".len()..];
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix('=') else {
        return Ok(());
    };
    let offset_of = |s: &str| text.len() - s.len();
    let list = rest.trim_start();
    let at = |offset: usize| Evidence {
        file: relative.to_string(),
        line: lines.line(offset) as u32,
    };
    let Some(list) = list.strip_prefix('[') else {
        project.notes.push(format!(
            "{}: setup.py computes install_requires; it is not run, so its packages are not read",
            at(offset_of(list))
        ));
        return Ok(());
    };
    for (offset, literal) in string_literals(list) {
        let evidence = at(offset_of(list) + offset);
        requirements::read_entry(base, file, &literal, evidence, project)?;
    }
    Ok(())
}

/// A keyword argument of the `setup(…)` call written as a string literal (`name="vllm"`), with
/// the byte offset of its keyword; `None` when there is no `setup(` call or the value is computed
/// (`name=NAME`, `version=get_version()`).
fn setup_keyword(text: &str, keyword: &str) -> Option<(usize, String)> {
    let call = text.find("setup(")? + "setup(".len();
    let mut search = call;
    while let Some(found) = text[search..].find(keyword) {
        let at = search + found;
        search = at + keyword.len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let Some(value) = text[search..].trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let literal = &value[1..];
        let end = literal.find(quote)?;
        let literal = &literal[..end];
        // A name or version is one short token; anything else is not what this reads.
        let plain = !literal.is_empty()
            && literal.len() <= 200
            && literal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '!'));
        return plain.then(|| (at, literal.to_string()));
    }
    None
}

/// The quoted strings of a Python list up to its closing `]`, with their byte offsets; comments
/// skipped. Stops at anything that is not a string, comma or comment.
fn string_literals(list: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut chars = list.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            ']' => break,
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' | '\'' => {
                let mut literal = String::new();
                for (_, inner) in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                    literal.push(inner);
                }
                found.push((at, literal));
            }
            c if c.is_whitespace() || c == ',' => {}
            _ => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{setup_keyword, string_literals};

    #[test]
    fn setup_keywords_are_read_when_literal() {
        let text = "from setuptools import setup\nNAME='x'\nsetup(\n    name=\"my-pkg\",\n    version = '1.2.0',\n    package_name=NAME,\n)\n";
        assert_eq!(
            setup_keyword(text, "name").map(|(_, n)| n).as_deref(),
            Some("my-pkg")
        );
        assert_eq!(
            setup_keyword(text, "version").map(|(_, v)| v).as_deref(),
            Some("1.2.0")
        );
        assert_eq!(setup_keyword("setup(name=NAME)", "name"), None);
        assert_eq!(setup_keyword("name='x'", "name"), None);
    }

    #[test]
    fn literal_lists_are_read_and_computed_ones_stop() {
        let found = string_literals(" 'torch>=2', # gpu\n \"numpy\" ]\nother=['x']");
        let names: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(names, ["torch>=2", "numpy"]);
        assert!(string_literals("read('x')]").is_empty());
    }
}
