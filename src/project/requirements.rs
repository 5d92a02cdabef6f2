//! requirements*.txt as pip reads it: comments, continuations, `-r`/`-c` includes, options,
//! hashes, and PEP 508 lines parsed by `pep508_rs`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{Requirement, VersionOrUrl};

use super::scan::relative_name;
use super::{Evidence, Installer, PackageDecl, Project};
use crate::source::{self, SourceError};

/// How many files one requirements file may pull in through `-r`, all levels together.
const MAX_INCLUDES: usize = 64;

pub fn read(root: &Path, file: &Path, project: &mut Project) -> Result<(), SourceError> {
    let mut stack = Vec::new();
    let mut included = 0;
    read_one(root, file, project, &mut stack, &mut included)
}

fn read_one(
    root: &Path,
    file: &Path,
    project: &mut Project,
    stack: &mut Vec<PathBuf>,
    included: &mut usize,
) -> Result<(), SourceError> {
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let relative = relative_name(root, file);
    if stack.contains(&canonical) {
        project
            .notes
            .push(format!("{relative}: include cycle, not followed again"));
        return Ok(());
    }
    if !project.read_requirements.insert(canonical.clone()) {
        return Ok(());
    }
    let text = source::read_text(file)?;
    stack.push(canonical);
    for (line_number, line) in logical_lines(&text) {
        let evidence = Evidence {
            file: relative.clone(),
            line: line_number,
        };
        read_line(root, file, &line, evidence, project, stack, included)?;
    }
    stack.pop();
    Ok(())
}

/// One requirement line that stands outside a requirements file (a conda `pip:` entry).
pub fn read_entry(
    root: &Path,
    file: &Path,
    line: &str,
    evidence: Evidence,
    project: &mut Project,
) -> Result<(), SourceError> {
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    read_line(
        root,
        file,
        line,
        evidence,
        project,
        &mut vec![canonical],
        &mut 0,
    )
}

fn read_line(
    root: &Path,
    file: &Path,
    line: &str,
    evidence: Evidence,
    project: &mut Project,
    stack: &mut Vec<PathBuf>,
    included: &mut usize,
) -> Result<(), SourceError> {
    if let Some((option, value)) = split_option(line) {
        match option {
            "-r" | "--requirement" => {
                *included += 1;
                if *included > MAX_INCLUDES {
                    project.notes.push(format!(
                        "{evidence}: more than {MAX_INCLUDES} includes, stopped"
                    ));
                    return Ok(());
                }
                let target = file.parent().unwrap_or(Path::new(".")).join(value);
                if target.is_file() {
                    read_one(root, &target, project, stack, included)?;
                } else {
                    project
                        .notes
                        .push(format!("{evidence}: included file {value} was not found"));
                }
            }
            "-i" | "--index-url" | "--extra-index-url" => {
                project.indexes.push(super::PackageIndex {
                    url: value.to_string(),
                    evidence,
                })
            }
            // Constraints limit versions but install nothing; editable and local installs name
            // the project itself.
            _ => {}
        }
        return Ok(());
    }
    match parse_requirement(line, evidence.clone()) {
        Some(package) => project.packages.push(package),
        None => project.notes.push(format!(
            "{evidence}: could not read `{}` as a requirement",
            strip_hashes(line)
        )),
    }
    Ok(())
}

/// One PEP 508 requirement line (hashes allowed); `None` when it is not one.
pub fn parse_requirement(line: &str, evidence: Evidence) -> Option<PackageDecl> {
    let requirement = strip_hashes(line);
    Requirement::<pep508_rs::VerbatimUrl>::from_str(requirement)
        .ok()
        .map(|parsed| package(parsed, line, evidence))
}

fn package(parsed: Requirement, raw: &str, evidence: Evidence) -> PackageDecl {
    let versions = match &parsed.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) if !specifiers.is_empty() => {
            Some(specifiers.clone())
        }
        _ => None,
    };
    let specifier = versions
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let marker = (!parsed.marker.is_true()).then(|| parsed.marker.clone());
    let url = match &parsed.version_or_url {
        Some(VersionOrUrl::Url(url)) => Some(url.to_string()),
        _ => None,
    };
    PackageDecl {
        name: super::normalize_name(parsed.name.as_ref()),
        specifier,
        versions,
        marker,
        installer: Installer::Pip,
        url,
        raw: raw.to_string(),
        evidence,
    }
}

/// Joins `\` continuations and drops comments, keeping the first line's number.
pub(super) fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut lines = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let content = strip_comment(raw);
        let (continues, content) = match content.trim_end().strip_suffix('\\') {
            Some(head) => (true, head),
            None => (false, content),
        };
        let (start, mut joined) = pending.take().unwrap_or((index as u32 + 1, String::new()));
        joined.push_str(content);
        if continues {
            joined.push(' ');
            pending = Some((start, joined));
        } else if !joined.trim().is_empty() {
            lines.push((start, joined.trim().to_string()));
        }
    }
    if let Some((start, joined)) = pending.filter(|(_, j)| !j.trim().is_empty()) {
        lines.push((start, joined.trim().to_string()));
    }
    lines
}

/// A `#` starts a comment at the start of a line or after whitespace (pip's rule).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// `-r file`, `--requirement=file`, `--index-url URL` → (option, value).
fn split_option(line: &str) -> Option<(&str, &str)> {
    if !line.starts_with('-') {
        return None;
    }
    let (option, value) = match line.find(|c: char| c == '=' || c.is_whitespace()) {
        Some(at) => (&line[..at], line[at + 1..].trim()),
        None => (line, ""),
    };
    // `-rfile` is how pip also accepts short options.
    if value.is_empty() && option.len() > 2 && !option.starts_with("--") {
        return Some((&option[..2], option[2..].trim()));
    }
    Some((option, value))
}

/// Drops `--hash=...` options that follow a requirement.
fn strip_hashes(line: &str) -> &str {
    match line.find(" --") {
        Some(at) => line[..at].trim(),
        None => line.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_join_and_comments_go() {
        let lines = logical_lines(
            "# top\ntorch==2.1 \\\n  --hash=sha256:abc\n\nnumpy # pinned later\nurl#frag\n",
        );
        assert_eq!(
            lines,
            vec![
                (2, "torch==2.1    --hash=sha256:abc".to_string()),
                (5, "numpy".to_string()),
                (6, "url#frag".to_string())
            ]
        );
    }

    #[test]
    fn options_split_in_every_spelling() {
        assert_eq!(split_option("-r base.txt"), Some(("-r", "base.txt")));
        assert_eq!(
            split_option("--requirement=base.txt"),
            Some(("--requirement", "base.txt"))
        );
        assert_eq!(split_option("-rbase.txt"), Some(("-r", "base.txt")));
        assert_eq!(split_option("torch"), None);
    }

    #[test]
    fn hashes_are_dropped() {
        assert_eq!(
            strip_hashes("torch==2.1    --hash=sha256:abc"),
            "torch==2.1"
        );
    }
}
