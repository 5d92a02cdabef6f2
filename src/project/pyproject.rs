//! pyproject.toml (PEP 621 `[project]`) and `.python-version`.

use std::path::Path;
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use serde::Deserialize;
use toml::Spanned;

use super::{Evidence, Project, PythonPin, requirements};
use crate::source::{self, SourceError};

#[derive(Deserialize)]
struct PyProject {
    project: Option<ProjectTable>,
}

#[derive(Deserialize)]
struct ProjectTable {
    #[serde(default)]
    dependencies: Vec<Spanned<String>>,
    #[serde(rename = "requires-python")]
    requires_python: Option<Spanned<String>>,
}

pub fn read(file: &Path, relative: &str, project: &mut Project) -> Result<(), SourceError> {
    let text = source::read_text(file)?;
    let parsed: PyProject = toml::from_str(&text).map_err(|error| {
        let line = error.span().map(|span| line_at(&text, span.start));
        SourceError::invalid(file, line, error.message().to_string())
    })?;
    let Some(table) = parsed.project else {
        return Ok(());
    };
    let base = file.parent().unwrap_or(Path::new("."));
    for dependency in &table.dependencies {
        let evidence = evidence_at(&text, relative, dependency.span().start);
        requirements::read_entry(base, file, dependency.get_ref(), evidence, project)?;
    }
    if let Some(requires) = table.requires_python
        && project.python.is_none()
    {
        project.python = Some(PythonPin {
            specifier: requires.get_ref().clone(),
            versions: VersionSpecifiers::from_str(requires.get_ref()).ok(),
            evidence: evidence_at(&text, relative, requires.span().start),
        });
    }
    Ok(())
}

/// `.python-version` (pyenv, uv): the first non-comment line names the version.
pub fn read_python_version(
    file: &Path,
    relative: &str,
    project: &mut Project,
) -> Result<(), SourceError> {
    let text = source::read_text(file)?;
    let found = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i, line.trim()))
        .find(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    if let Some((index, version)) = found {
        let version = version.trim_start_matches("python").trim_start_matches('-');
        project.python = Some(PythonPin {
            specifier: version.to_string(),
            versions: VersionSpecifiers::from_str(&format!("=={version}.*")).ok(),
            evidence: Evidence {
                file: relative.to_string(),
                line: index as u32 + 1,
            },
        });
    }
    Ok(())
}

fn line_at(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

fn evidence_at(text: &str, relative: &str, offset: usize) -> Evidence {
    Evidence {
        file: relative.to_string(),
        line: line_at(text, offset) as u32,
    }
}
