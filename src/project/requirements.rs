//! requirements*.txt as pip reads it: comments, continuations, `-r`/`-c` includes, options,
//! hashes, and PEP 508 lines parsed by `pep508_rs`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{Requirement, VersionOrUrl};

use super::paths::relative_name;
use super::{Evidence, Installer, PackageDecl, Project};
use crate::reader::{self, ReadError};
use crate::source::{self, SourceError};

/// How many files one requirements file may pull in through `-r`, all levels together.
const MAX_INCLUDES: usize = 64;

pub fn read(root: &Path, file: &Path, project: &mut Project) -> Result<(), SourceError> {
    let mut reader = Reader {
        root,
        stack: Vec::new(),
        included: 0,
        mode: Mode::Declare,
    };
    read_one(&mut reader, file, project)
}

fn read_one(
    reader: &mut Reader<'_>,
    file: &Path,
    project: &mut Project,
) -> Result<(), SourceError> {
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let relative = relative_name(reader.root, file);
    if reader.stack.contains(&canonical) {
        project
            .notes
            .push(format!("{relative}: include cycle, not followed again"));
        return Ok(());
    }
    // A file reached twice (directly and through `-r`) counts once; a constraints file is
    // remembered apart, since reading it declares nothing.
    let key = match reader.mode {
        Mode::Declare => canonical.clone(),
        Mode::Constrain => canonical.join("#constraints"),
    };
    if !project.read_requirements.insert(key) {
        return Ok(());
    }
    let text = source::read_text(file)?;
    // Included files are part of what was read (a fix rewrites them; a report names them).
    if !project.files.contains(&relative) {
        project.files.push(relative.clone());
    }
    reader.stack.push(canonical);
    for (line_number, line) in logical_lines(&text) {
        let evidence = Evidence {
            file: relative.clone(),
            line: line_number,
        };
        read_line(reader, file, &line, evidence, project)?;
    }
    reader.stack.pop();
    Ok(())
}

/// One requirement line that stands outside a requirements file (a conda `pip:` entry, a
/// pyproject dependency); `-r` and `-e` work as in a requirements file next to `file`.
pub fn read_entry(
    root: &Path,
    file: &Path,
    line: &str,
    evidence: Evidence,
    project: &mut Project,
) -> Result<(), SourceError> {
    if project.capped {
        return Ok(());
    }
    // Only an option (`-r`, `-c`) can include a file, and only then is the including file's
    // identity needed for cycles: a setup.py can list a million entries.
    let stack = if line.trim_start().starts_with('-') {
        vec![file.canonicalize().unwrap_or_else(|_| file.to_path_buf())]
    } else {
        Vec::new()
    };
    let mut reader = Reader {
        root,
        stack,
        included: 0,
        mode: Mode::Declare,
    };
    read_line(&mut reader, file, line, evidence, project)
}

/// Whether a line declares packages or only limits their versions (`-c` files).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Declare,
    Constrain,
}

struct Reader<'a> {
    root: &'a Path,
    stack: Vec<PathBuf>,
    included: usize,
    mode: Mode,
}

fn read_line(
    reader: &mut Reader<'_>,
    file: &Path,
    line: &str,
    evidence: Evidence,
    project: &mut Project,
) -> Result<(), SourceError> {
    let Some((option, value)) = split_option(line) else {
        read_requirement(line, evidence, false, reader.mode, project);
        return Ok(());
    };
    match option {
        "-r" | "--requirement" | "-c" | "--constraint" => {
            let mode = if option.starts_with("-c") || option == "--constraint" {
                Mode::Constrain
            } else {
                reader.mode
            };
            include(reader, file, value, &evidence, mode, project)?;
        }
        "-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links" => {
            project.indexes.push(super::PackageIndex {
                url: value.to_string(),
                evidence,
            })
        }
        "-e" | "--editable" => read_requirement(value, evidence, true, reader.mode, project),
        // Other options (`--pre`, `--only-binary`, `--trusted-host`, `--no-binary`) change how
        // pip installs, not what.
        _ => {}
    }
    Ok(())
}

/// `-r`/`-c`: the file is found relative to the including file, as pip does. A missing file is
/// an error at the including line (pip fails there too); a cycle is noted and not followed.
fn include(
    reader: &mut Reader<'_>,
    file: &Path,
    value: &str,
    evidence: &Evidence,
    mode: Mode,
    project: &mut Project,
) -> Result<(), SourceError> {
    if value.contains("://") {
        project.notes.push(format!(
            "{evidence}: included URL {value} was not fetched (mlcompat never uses the network)"
        ));
        return Ok(());
    }
    reader.included += 1;
    if reader.included > MAX_INCLUDES {
        project.notes.push(format!(
            "{evidence}: more than {MAX_INCLUDES} includes, stopped"
        ));
        return Ok(());
    }
    let target = file.parent().unwrap_or(Path::new(".")).join(value);
    // pip fails at a missing include, and hangs at a FIFO: both are errors at the line, each
    // with its own reason.
    let why = match std::fs::metadata(&target) {
        Ok(metadata) => reader::irregular_kind(&metadata)
            .map(|kind| format!("which is {kind}, not a regular file")),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Some("which does not exist".to_string())
        }
        Err(error) => Some(format!("which cannot be read: {}", ReadError::from(error))),
    };
    if let Some(why) = why {
        return Err(SourceError::invalid(
            file,
            Some(u64::from(evidence.line)),
            format!("includes {value}, {why}"),
        ));
    }
    // Only files inside the audited folder are read: a hostile `-r ~/.ssh/id_rsa` (or a link
    // to it) would otherwise put that file's lines into the report's notes, and reports are
    // posted to CI summaries and pull requests.
    let root = reader
        .root
        .canonicalize()
        .unwrap_or_else(|_| reader.root.to_path_buf());
    if !target
        .canonicalize()
        .is_ok_and(|target| target.starts_with(&root))
    {
        project.notes.push(format!(
            "{evidence}: {value} is outside the project folder, so it was not read"
        ));
        return Ok(());
    }
    if let Ok(metadata) = std::fs::metadata(&target)
        && !project.budget.charge(
            &metadata,
            &relative_name(reader.root, &target),
            &mut project.notes,
        )
    {
        return Ok(());
    }
    let outer = std::mem::replace(&mut reader.mode, mode);
    let result = read_one(reader, &target, project);
    reader.mode = outer;
    result
}

fn read_requirement(
    line: &str,
    evidence: Evidence,
    editable: bool,
    mode: Mode,
    project: &mut Project,
) {
    let Some(mut package) = parse_line(line, evidence.clone(), project) else {
        return;
    };
    package.editable = editable;
    match mode {
        Mode::Declare => project.declare(package, false),
        Mode::Constrain => project.declare(package, true),
    }
}

/// A requirement line, a bare wheel/archive URL or a local path; notes what it cannot read.
fn parse_line(line: &str, evidence: Evidence, project: &mut Project) -> Option<PackageDecl> {
    if let Some(package) = parse_requirement(line, evidence.clone()) {
        return Some(package);
    }
    let target = strip_hashes(line);
    // pip wants whitespace before the `;` of a URL's marker, since `;` may be part of a URL.
    let (reference, marker) = match target.split_once(" ;").or_else(|| target.split_once("; ")) {
        Some((reference, marker)) => (reference.trim(), Some(marker.trim())),
        None => (target, None),
    };
    if let Some(name) = name_of_reference(reference) {
        let named = match marker {
            Some(marker) => format!("{name} @ {reference} ; {marker}"),
            None => format!("{name} @ {reference}"),
        };
        if let Some(mut package) = parse_requirement(&named, evidence.clone()) {
            package.raw = line.to_string();
            if package.url.is_none() {
                package.url = Some(reference.to_string());
            }
            return Some(package);
        }
    }
    if is_local_path(reference) {
        project.notes.push(format!(
            "{evidence}: `{target}` installs a local project, which is not read"
        ));
        // A local folder other than the project itself (a CUDA extension in a submodule, say)
        // is a component nobody judged: it shows as ❔ rather than not at all.
        let folder = reference
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        if !matches!(folder, "" | "." | "..")
            && let Some(mut package) = parse_requirement(folder, evidence)
        {
            package.raw = line.to_string();
            package.url = Some(reference.to_string());
            return Some(package);
        }
    } else {
        project.notes.push(format!(
            "{evidence}: could not read `{target}` as a requirement"
        ));
    }
    None
}

/// The distribution a bare reference installs: `#egg=name`, or a wheel's or sdist's file name.
fn name_of_reference(reference: &str) -> Option<String> {
    if let Some((_, fragment)) = reference.split_once('#') {
        let egg = fragment
            .split('&')
            .find_map(|part| part.strip_prefix("egg="))?;
        return Some(egg.split('[').next().unwrap_or(egg).to_string());
    }
    if is_local_path(reference) {
        return None;
    }
    let file = reference.trim_end_matches('/').rsplit('/').next()?;
    // `git+https://github.com/huggingface/peft.git`: pip finds the name by building the
    // project; the repository's name is what it almost always is.
    if reference.starts_with("git+") || reference.starts_with("hg+") {
        let name = file
            .split('@')
            .next()
            .unwrap_or(file)
            .trim_end_matches(".git");
        return (!name.is_empty()).then(|| name.to_string());
    }
    if let Some(stem) = file.strip_suffix(".whl") {
        return stem.split('-').next().map(str::to_string);
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    // `name-1.2.3`: the name is everything before the last `-` that starts a version.
    let (name, version) = stem.rsplit_once('-')?;
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| name.to_string())
}

/// `.`, `./pkg`, `submodules/simple-knn`, `file:…`: a project on disk, not a distribution name.
fn is_local_path(target: &str) -> bool {
    target == "."
        || target.starts_with('.')
        || target.starts_with('/')
        || target.starts_with("file:")
        || (target.contains('/') && !target.contains("://"))
}

/// One PEP 508 requirement line (hashes allowed); `None` when it is not one.
pub fn parse_requirement(line: &str, evidence: Evidence) -> Option<PackageDecl> {
    let requirement = strip_hashes(line);
    if !names_end_well(requirement) {
        return None;
    }
    Requirement::<pep508_rs::VerbatimUrl>::from_str(requirement)
        .ok()
        .map(|parsed| package(parsed, line, evidence))
}

/// Whether the package name and the extras of a requirement end in a letter or digit where
/// the next character leaves them. pep508_rs 0.9 panics instead of erring on such a name
/// (`flash-attn-=2.5`, `flash-attn.; python_version>"3"`, `pkg[gpu-]`): its parser accepts
/// the name and its name type then refuses it. PEP 508 allows neither, so such a line is not a
/// requirement (found by `scripts/fuzz.sh`; see `tests::names_pep508_would_panic_on`).
fn names_end_well(requirement: &str) -> bool {
    let separator = |c: char| matches!(c, '.' | '-' | '_');
    let identifier = |c: char| c.is_ascii_alphanumeric() || separator(c);
    let text = requirement.trim_start();
    let name_end = text.find(|c: char| !identifier(c)).unwrap_or(text.len());
    if name_end < text.len() && text[..name_end].ends_with(separator) {
        return false;
    }
    let rest = text[name_end..].trim_start();
    let Some(extras) = rest.strip_prefix('[') else {
        return true;
    };
    let extras = extras.split(']').next().unwrap_or(extras);
    !extras
        .split(|c: char| c == ',' || c.is_whitespace())
        .any(|extra| extra.ends_with(separator))
}

/// A pip declaration from a parsed requirement (also used for the packages a declared package's
/// `Requires-Dist` brings in, which are read the same way).
pub(crate) fn package(parsed: Requirement, raw: &str, evidence: Evidence) -> PackageDecl {
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
        Some(VersionOrUrl::Url(url)) => {
            Some(url.given().map_or_else(|| url.to_string(), str::to_string))
        }
        _ => None,
    };
    let wheel = url.as_deref().map(wheel_facts).unwrap_or_default();
    let wheel_cuda = wheel.cuda.or_else(|| super::local_cuda(&specifier));
    PackageDecl {
        specifier,
        versions,
        marker,
        url,
        extras: parsed.extras.iter().map(ToString::to_string).collect(),
        wheel_platform: wheel.platform,
        wheel_cuda,
        ..PackageDecl::any_version(
            super::normalize_name(parsed.name.as_ref()),
            Installer::Pip,
            raw.to_string(),
            evidence,
        )
    }
}

/// What a wheel URL says about the machine it is for.
#[derive(Debug, Default, PartialEq)]
pub(super) struct WheelFacts {
    pub platform: Option<String>,
    pub cuda: Option<String>,
}

/// `…/torch-2.4.0%2Bcu124-cp310-cp310-linux_x86_64.whl` → platform `linux_x86_64`, CUDA `12.4`.
/// The CUDA version comes from the wheel's local version (`+cu124`, flash-attn's
/// `+cu122torch2.3…`) or else from a `/cu124/` folder of the URL.
pub(super) fn wheel_facts(url: &str) -> WheelFacts {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let decoded = path.replace("%2B", "+").replace("%2b", "+");
    let file = decoded.rsplit('/').next().unwrap_or("");
    let mut facts = WheelFacts::default();
    if let Some(stem) = file.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() >= 5 {
            facts.platform = parts.last().map(|p| p.to_string());
        }
        facts.cuda = parts.get(1).and_then(|version| super::local_cuda(version));
    }
    if facts.cuda.is_none() {
        facts.cuda = decoded.split('/').find_map(super::cuda_tag);
    }
    facts
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
    // Offsets by characters, not bytes: a line can hold any Unicode (`-Ѝ`, an ideographic
    // space), and slicing inside a character panics (a fuzzer find, setup target).
    let (option, value) = match line
        .char_indices()
        .find(|&(_, c)| c == '=' || c.is_whitespace())
    {
        Some((at, separator)) => (&line[..at], line[at + separator.len_utf8()..].trim()),
        None => (line, ""),
    };
    // `-rfile` is how pip also accepts short options.
    if value.is_empty()
        && option.len() > 2
        && !option.starts_with("--")
        && option.is_char_boundary(2)
    {
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

    /// Crashes the fuzzer found: pep508_rs panics on a name or extra that ends in `-`, `.` or
    /// `_` where something follows it. Each is now simply not a requirement.
    /// Fuzzer find (setup target): options were cut at byte offsets inside characters.
    #[test]
    fn options_with_any_unicode_split_cleanly() {
        assert_eq!(split_option("-Ѝo--"), Some(("-Ѝo--", "")));
        assert_eq!(split_option("-r\u{3000}base.txt"), Some(("-r", "base.txt")));
        assert_eq!(split_option("-rbase.txt"), Some(("-r", "base.txt")));
        assert_eq!(split_option("--index-url=é"), Some(("--index-url", "é")));
    }

    #[test]
    fn names_pep508_would_panic_on() {
        let at = || Evidence {
            file: "requirements.txt".into(),
            line: 1,
        };
        for line in [
            "flash-antt-=2.5.8",
            "flash-attn.=; 5>2sys_plat.orm == 'linux'",
            "torch_ >=2",
            "pkg[gpu-]",
            "pkg[a, b.]==1",
            "pkg [c_ ,d]",
        ] {
            assert!(parse_requirement(line, at()).is_none(), "{line}");
        }
        for line in [
            "flash-attn==2.5.8",
            "a-b.c_d[x-y,z]>=1",
            "pkg [gpu] ; python_version>'3'",
        ] {
            assert!(parse_requirement(line, at()).is_some(), "{line}");
        }
    }

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
    fn wheel_urls_name_their_platform_and_cuda() {
        let facts = wheel_facts(
            "https://download.pytorch.org/whl/cu124/torch-2.4.0%2Bcu124-cp310-cp310-linux_x86_64.whl",
        );
        assert_eq!(facts.platform.as_deref(), Some("linux_x86_64"));
        assert_eq!(facts.cuda.as_deref(), Some("12.4"));
        let mac = wheel_facts("https://x.org/a/pkg-1.0-py3-none-macosx_11_0_arm64.whl");
        assert_eq!(
            (mac.platform.as_deref(), mac.cuda),
            (Some("macosx_11_0_arm64"), None)
        );
        assert_eq!(
            wheel_facts("git+https://github.com/a/b.git"),
            WheelFacts::default()
        );
    }

    #[test]
    fn bare_references_are_named() {
        assert_eq!(
            name_of_reference("git+https://github.com/huggingface/peft.git@v0.7").as_deref(),
            Some("peft")
        );
        assert_eq!(
            name_of_reference("git+https://x/y.git#egg=some_tool[extra]").as_deref(),
            Some("some_tool")
        );
        assert_eq!(
            name_of_reference("https://x/flash_attn-2.5.8+cu122-cp310-cp310-linux_x86_64.whl")
                .as_deref(),
            Some("flash_attn")
        );
        assert_eq!(
            name_of_reference("https://x/pkg-1.2.tar.gz").as_deref(),
            Some("pkg")
        );
        assert_eq!(name_of_reference("./local"), None);
        assert_eq!(name_of_reference("submodules/simple-knn"), None);
    }

    #[test]
    fn a_local_folder_is_a_component_but_the_project_itself_is_not() {
        let at = || Evidence {
            file: "environment.yml".into(),
            line: 16,
        };
        let mut project = Project::default();
        let package = parse_line("submodules/simple-knn", at(), &mut project).expect("a component");
        assert_eq!(package.name, "simple-knn");
        assert_eq!(package.url.as_deref(), Some("submodules/simple-knn"));
        assert!(parse_line(".", at(), &mut project).is_none());
        assert_eq!(project.notes.len(), 2, "both are noted as not read");
    }

    #[test]
    fn hashes_are_dropped() {
        assert_eq!(
            strip_hashes("torch==2.1    --hash=sha256:abc"),
            "torch==2.1"
        );
    }
}
