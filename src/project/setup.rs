//! setup.cfg `install_requires` and `extras_require`, and the literal `install_requires` list of
//! a setup.py, read as text: a setup.py is a program and is never run.

use std::path::Path;

use super::{Evidence, Project, requirements};
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

/// The `install_requires=[ "…", … ]` list of a setup.py, when it is written as a literal list of
/// strings; anything computed (a variable, a function call) is noted and not guessed at.
pub fn read_py(file: &Path, relative: &str, project: &mut Project) -> Result<(), SourceError> {
    let text = source::read_text(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
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
    let lines = super::pyproject::LineIndex::new(&text);
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
    use super::string_literals;

    #[test]
    fn literal_lists_are_read_and_computed_ones_stop() {
        let found = string_literals(" 'torch>=2', # gpu\n \"numpy\" ]\nother=['x']");
        let names: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(names, ["torch>=2", "numpy"]);
        assert!(string_literals("read('x')]").is_empty());
    }
}
