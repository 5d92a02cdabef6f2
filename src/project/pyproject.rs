//! pyproject.toml (PEP 621 `[project]`) and `.python-version`.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use serde::Deserialize;
use toml::Spanned;

use super::{Evidence, PackageIndex, Project, PythonPin, normalize_name, requirements, variants};
use crate::source::{self, SourceError};

#[derive(Deserialize)]
struct PyProject {
    project: Option<ProjectTable>,
    #[serde(rename = "dependency-groups", default)]
    dependency_groups: BTreeMap<String, Vec<Spanned<toml::Value>>>,
    #[serde(default)]
    tool: Tool,
}

#[derive(Deserialize)]
struct ProjectTable {
    name: Option<Spanned<String>>,
    /// A static version; absent when `dynamic` (git tags, the code).
    version: Option<String>,
    #[serde(default)]
    dependencies: Vec<Spanned<String>>,
    #[serde(rename = "optional-dependencies", default)]
    optional_dependencies: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(rename = "requires-python")]
    requires_python: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct Tool {
    poetry: Option<Poetry>,
    uv: Option<Uv>,
}

#[derive(Deserialize)]
struct Poetry {
    /// The package's name (Poetry before 2.0 names it here, not in `[project]`).
    name: Option<Spanned<String>>,
    version: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, Spanned<toml::Value>>,
    /// Poetry 1.2+ groups: `[tool.poetry.group.dev.dependencies]`.
    #[serde(default)]
    group: BTreeMap<String, PoetryGroup>,
    /// Poetry before 1.2: `[tool.poetry.dev-dependencies]`.
    #[serde(rename = "dev-dependencies", default)]
    dev_dependencies: BTreeMap<String, Spanned<toml::Value>>,
    /// `[tool.poetry.extras]`: extra name → the optional packages it installs.
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct PoetryGroup {
    #[serde(default)]
    dependencies: BTreeMap<String, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
struct Uv {
    #[serde(default)]
    index: Vec<UvIndex>,
    #[serde(rename = "index-url")]
    index_url: Option<Spanned<String>>,
    #[serde(rename = "extra-index-url", default)]
    extra_index_url: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
struct UvIndex {
    url: Option<Spanned<String>>,
}

/// The text of the file being read and its name, for evidence.
struct Source<'a> {
    /// Line starts of `text`: evidence is looked up per dependency, and counting newlines from
    /// the top each time made a pyproject with many thousand dependencies quadratic.
    lines: LineIndex,
    relative: &'a str,
    file: &'a Path,
    /// The project's own name: `mypkg[gpu]` inside mypkg's extras refers to itself.
    self_name: Option<String>,
}

impl Source<'_> {
    fn at(&self, offset: usize) -> Evidence {
        Evidence {
            file: self.relative.to_string(),
            line: self.lines.line(offset) as u32,
        }
    }
}

/// Reads a pyproject.toml. Which dependencies count:
///
/// - `[project] dependencies` and Poetry's main dependencies: always installed.
/// - `[project.optional-dependencies]`, Poetry's optional dependencies and extras: read, with
///   the extra's name on each package (`extra`), because people install them
///   (`pip install .[gpu]`) and an extra is often where the GPU-only packages live.
/// - `[dependency-groups]` and Poetry groups: read with the group's name as `extra`.
/// - Extras and groups named for development, tests or docs (`dev`, `test`, `docs`, `lint`…)
///   are not needed to run the project and are skipped with a note.
pub fn read(file: &Path, relative: &str, project: &mut Project) -> Result<(), SourceError> {
    let text = source::read_text(file)?;
    let parsed: PyProject = toml::from_str(&text).map_err(|error| {
        let lines = LineIndex::new(&text);
        let start = error.span().map(|span| span.start);
        SourceError {
            line: start.map(|at| lines.line(at)),
            column: start.map(|at| lines.column(&text, at)),
            ..SourceError::new(file, error.message().trim_end().to_string())
        }
    })?;
    let source = Source {
        lines: LineIndex::new(&text),
        relative,
        file,
        self_name: parsed
            .project
            .as_ref()
            .and_then(|p| p.name.as_ref())
            .map(|name| normalize_name(name.get_ref())),
    };
    if let Some(table) = &parsed.project {
        if let Some(name) = &table.name
            && project.distribution.is_none()
        {
            project.distribution = Some(super::Distribution {
                name: normalize_name(name.get_ref()),
                version: table.version.clone(),
                evidence: source.at(name.span().start),
            });
        }
        read_project_table(&source, table, project)?;
    }
    for (group, entries) in &parsed.dependency_groups {
        if skipped_group(
            group,
            entries.first().map(|e| e.span().start),
            &source,
            project,
        ) {
            continue;
        }
        for entry in entries {
            // `{include-group = "…"}` entries name other groups, read on their own.
            if let toml::Value::String(line) = entry.get_ref() {
                read_dependency(&source, line, entry.span().start, Some(group), project)?;
            }
        }
    }
    if let Some(poetry) = &parsed.tool.poetry {
        if let Some(name) = &poetry.name
            && project.distribution.is_none()
        {
            project.distribution = Some(super::Distribution {
                name: normalize_name(name.get_ref()),
                version: poetry.version.clone(),
                evidence: source.at(name.span().start),
            });
        }
        read_poetry(&source, poetry, project)?;
    }
    if let Some(uv) = &parsed.tool.uv {
        read_uv(&source, uv, project);
    }
    Ok(())
}

fn read_project_table(
    source: &Source<'_>,
    table: &ProjectTable,
    project: &mut Project,
) -> Result<(), SourceError> {
    for dependency in &table.dependencies {
        read_dependency(
            source,
            dependency.get_ref(),
            dependency.span().start,
            None,
            project,
        )?;
    }
    for (extra, dependencies) in &table.optional_dependencies {
        let first = dependencies.first().map(|d| d.span().start);
        if skipped_group(extra, first, source, project) {
            continue;
        }
        for dependency in dependencies {
            read_dependency(
                source,
                dependency.get_ref(),
                dependency.span().start,
                Some(extra),
                project,
            )?;
        }
    }
    if let Some(requires) = &table.requires_python {
        pin_python(source, requires.get_ref(), requires.span().start, project);
    }
    Ok(())
}

/// A pyproject's Python pin yields to an explicit one (environment.yml, `.python-version`).
fn pin_python(source: &Source<'_>, specifier: &str, offset: usize, project: &mut Project) {
    if project.python.is_none() {
        project.python = Some(PythonPin {
            specifier: specifier.to_string(),
            versions: VersionSpecifiers::from_str(specifier).ok(),
            evidence: source.at(offset),
        });
    }
}

fn read_dependency(
    source: &Source<'_>,
    line: &str,
    offset: usize,
    extra: Option<&str>,
    project: &mut Project,
) -> Result<(), SourceError> {
    let before = project.packages.len();
    let base = source.file.parent().unwrap_or(Path::new("."));
    requirements::read_entry(base, source.file, line, source.at(offset), project)?;
    for package in &mut project.packages[before..] {
        package.extra = extra.map(str::to_string);
    }
    if let Some(own) = &source.self_name
        && project.packages[before..].iter().any(|p| &p.name == own)
    {
        // Only this entry's packages: earlier ones were filtered when they were read, and
        // filtering the whole list per entry made many self-references quadratic.
        let added = project.packages.split_off(before);
        project
            .packages
            .extend(added.into_iter().filter(|p| &p.name != own));
    }
    Ok(())
}

/// Extras and groups for development, tests or docs are not needed to run the project.
fn skipped_group(
    group: &str,
    offset: Option<usize>,
    source: &Source<'_>,
    project: &mut Project,
) -> bool {
    let skipped = matches!(variants::classify(group).1, variants::Role::NotRuntime);
    if skipped {
        let place =
            offset.map_or_else(|| source.relative.to_string(), |o| source.at(o).to_string());
        project.notes.push(format!(
            "{place}: `{group}` dependencies not read (development, tests or docs)"
        ));
    }
    skipped
}

fn read_poetry(
    source: &Source<'_>,
    poetry: &Poetry,
    project: &mut Project,
) -> Result<(), SourceError> {
    // A package Poetry marks optional belongs to the extras that list it.
    let extra_of = |name: &str| -> String {
        poetry
            .extras
            .iter()
            .find(|(_, members)| {
                members
                    .iter()
                    .any(|m| normalize_name(m) == normalize_name(name))
            })
            .map_or_else(|| "optional".to_string(), |(extra, _)| extra.clone())
    };
    for (name, value) in &poetry.dependencies {
        if name == "python" {
            if let toml::Value::String(spec) = value.get_ref() {
                let pep440 = poetry_to_pep440(spec);
                pin_python(source, &pep440, value.span().start, project);
            }
            continue;
        }
        let extra = poetry_optional(value.get_ref()).then(|| extra_of(name));
        read_poetry_dependency(source, name, value, extra.as_deref(), project)?;
    }
    let groups = poetry
        .group
        .iter()
        .map(|(name, group)| (name.as_str(), &group.dependencies))
        .chain(std::iter::once(("dev", &poetry.dev_dependencies)));
    for (group, dependencies) in groups {
        let first = dependencies.values().map(|v| v.span().start).min();
        if dependencies.is_empty() || skipped_group(group, first, source, project) {
            continue;
        }
        for (name, value) in dependencies {
            read_poetry_dependency(source, name, value, Some(group), project)?;
        }
    }
    Ok(())
}

fn poetry_optional(value: &toml::Value) -> bool {
    value
        .get("optional")
        .and_then(toml::Value::as_bool)
        .unwrap_or(false)
}

/// `torch = "^2.1"`, `torch = {version = "^2.1", markers = "…", extras = […]}`, a git/url/path
/// source, or a list of such (one per platform): each becomes a PEP 508 line.
fn read_poetry_dependency(
    source: &Source<'_>,
    name: &str,
    value: &Spanned<toml::Value>,
    extra: Option<&str>,
    project: &mut Project,
) -> Result<(), SourceError> {
    let choices: Vec<&toml::Value> = match value.get_ref() {
        toml::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for choice in choices {
        let line = poetry_line(name, choice);
        read_dependency(source, &line, value.span().start, extra, project)?;
    }
    Ok(())
}

fn poetry_line(name: &str, value: &toml::Value) -> String {
    let text = |key: &str| value.get(key).and_then(toml::Value::as_str);
    let extras = value
        .get("extras")
        .and_then(toml::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(toml::Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|joined| !joined.is_empty())
        .map_or_else(String::new, |joined| format!("[{joined}]"));
    let reference = text("url").or(text("git")).or(text("path"));
    let version = value.as_str().or(text("version")).map(poetry_to_pep440);
    let mut markers: Vec<String> = text("markers").map(str::to_string).into_iter().collect();
    if let Some(python) = text("python") {
        markers.extend(python_marker(python));
    }
    if let Some(platform) = text("platform") {
        markers.push(format!("sys_platform == \"{platform}\""));
    }
    let mut line = format!("{name}{extras}");
    match (reference, version) {
        (Some(reference), _) if reference.contains("://") => {
            let reference = if text("git").is_some() && !reference.starts_with("git+") {
                format!("git+{reference}")
            } else {
                reference.to_string()
            };
            line.push_str(&format!(" @ {reference}"));
            if !markers.is_empty() {
                line.push(' ');
            }
        }
        (_, Some(version)) => line.push_str(&version),
        _ => {}
    }
    if !markers.is_empty() {
        line.push_str(&format!(
            "; {}",
            markers
                .iter()
                .map(|m| format!("({m})"))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    line
}

/// Poetry's `python = "^3.8"` on a dependency as a marker.
fn python_marker(spec: &str) -> Option<String> {
    let pep440 = poetry_to_pep440(spec);
    let specifiers = VersionSpecifiers::from_str(&pep440).ok()?;
    let parts: Vec<String> = specifiers
        .iter()
        .map(|s| format!("python_version {} \"{}\"", s.operator(), s.version()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// Poetry's version constraints as PEP 440: `^1.2.3` → `>=1.2.3,<2.0.0`, `^0.2` → `>=0.2,<0.3`,
/// `~1.2.3` → `>=1.2.3,<1.3.0`, `1.2.3` → `==1.2.3`, `*` → any. An `||` alternative cannot be
/// one PEP 440 set and reads as any version.
pub fn poetry_to_pep440(spec: &str) -> String {
    if spec.contains("||") {
        return String::new();
    }
    spec.split(',')
        .flat_map(|part| part.split_whitespace().collect::<Vec<_>>())
        .filter(|part| !part.is_empty() && *part != "*")
        .map(poetry_clause)
        .collect::<Vec<_>>()
        .join(",")
}

fn poetry_clause(clause: &str) -> String {
    if let Some(version) = clause.strip_prefix('^') {
        let parts = numeric_parts(version);
        // The first non-zero part may not change (the last part when all are zero).
        let bump = parts
            .iter()
            .position(|&p| p != 0)
            .unwrap_or(parts.len().saturating_sub(1));
        return format!(">={version},<{}", bumped(&parts, bump));
    }
    if let Some(version) = clause.strip_prefix("~=") {
        return format!("~={version}");
    }
    if let Some(version) = clause.strip_prefix('~') {
        let parts = numeric_parts(version);
        let bump = if parts.len() >= 2 { 1 } else { 0 };
        return format!(">={version},<{}", bumped(&parts, bump));
    }
    if clause.starts_with(['<', '>', '=', '!']) {
        return if clause.starts_with('=') && !clause.starts_with("==") {
            format!("={clause}")
        } else {
            clause.to_string()
        };
    }
    format!("=={clause}")
}

fn numeric_parts(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map_while(|part| part.parse::<u64>().ok())
        .collect()
}

/// `[1, 2, 3]` bumped at 0 → `2.0.0`; at 1 → `1.3.0`.
fn bumped(parts: &[u64], at: usize) -> String {
    let mut out: Vec<u64> = parts.to_vec();
    if out.is_empty() {
        out.push(0);
    }
    let at = at.min(out.len() - 1);
    out[at] += 1;
    for part in &mut out[at + 1..] {
        *part = 0;
    }
    out.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// uv's indexes (`[[tool.uv.index]]`, `index-url`, `extra-index-url`): a `…/whl/cu124` index is
/// a fact the CUDA rules use.
fn read_uv(source: &Source<'_>, uv: &Uv, project: &mut Project) {
    let urls = uv
        .index
        .iter()
        .filter_map(|index| index.url.as_ref())
        .chain(uv.index_url.iter())
        .chain(uv.extra_index_url.iter());
    for url in urls {
        project.indexes.push(PackageIndex {
            url: url.get_ref().clone(),
            evidence: source.at(url.span().start),
        });
    }
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

/// The byte offsets where lines start, for 1-based line numbers in O(log n) per lookup.
pub(super) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(super) fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        LineIndex(starts)
    }

    /// The 1-based line holding byte `offset` (the last line for an offset past the end).
    pub(super) fn line(&self, offset: usize) -> u64 {
        self.0.partition_point(|&start| start <= offset).max(1) as u64
    }

    /// The 1-based column of byte `offset` in characters, as an editor counts them.
    pub(super) fn column(&self, text: &str, offset: usize) -> u64 {
        let start = self.0[self.line(offset) as usize - 1];
        let offset = offset.min(text.len());
        text.get(start..offset)
            .map_or(1, |before| before.chars().count() as u64 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::{LineIndex, poetry_to_pep440};

    #[test]
    fn lines_of_offsets() {
        let text = "a\nbc\n\nd";
        let lines = LineIndex::new(text);
        let expected = [1, 1, 2, 2, 2, 3, 4, 4];
        for (offset, line) in expected.iter().enumerate() {
            assert_eq!(lines.line(offset), *line, "offset {offset}");
        }
        assert_eq!(lines.line(100), 4);
        assert_eq!(LineIndex::new("").line(0), 1);
        assert_eq!(lines.column(text, 3), 2);
        assert_eq!(LineIndex::new("é=x").column("é=x", 2), 2);
    }

    #[test]
    fn poetry_carets_and_tildes() {
        assert_eq!(poetry_to_pep440("^1.2.3"), ">=1.2.3,<2.0.0");
        assert_eq!(poetry_to_pep440("^0.2.3"), ">=0.2.3,<0.3.0");
        assert_eq!(poetry_to_pep440("^0.0.3"), ">=0.0.3,<0.0.4");
        assert_eq!(poetry_to_pep440("~1.2.3"), ">=1.2.3,<1.3.0");
        assert_eq!(poetry_to_pep440("~1"), ">=1,<2");
        assert_eq!(poetry_to_pep440("~=1.4"), "~=1.4");
        assert_eq!(poetry_to_pep440(">=1.2, <2"), ">=1.2,<2");
        assert_eq!(poetry_to_pep440("1.2.*"), "==1.2.*");
        assert_eq!(poetry_to_pep440("*"), "");
        assert_eq!(poetry_to_pep440("^1.0 || ^2.0"), "");
    }
}
