//! The snapshot and cache file format: one small text file per package, line-oriented so that
//! a refresh reads as a diff a person can review (a new release is a new line) and `check` parses
//! only the packages a project names.
//!
//! ```text
//! mlcompat-index 1
//! name torchvision
//! source https://pypi.org/simple/
//! as-of 2026-12-02
//! tag 0 cp38-cp38-manylinux1_x86_64
//! tag 1 cp38-cp38-macosx_10_9_x86_64
//! release 0.16.2 2023-12-12 python=>=3.8 wheels=0-1 sdist
//! requires 0.16.2 torch==2.1.2
//! ```
//!
//! Wheel tags are listed once per file (`tag N TRIPLE`, numbered in order of first use) and each
//! release names its wheels by number, with runs written `3-7`: most releases repeat the tags of
//! the one before, so a package with hundreds of wheels stays a few kilobytes. `metadata V`
//! says `Requires-Dist` of V was read (and is empty if no `requires V ...` line follows).

use std::collections::HashMap;
use std::fmt::Write;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;

use super::package::{Package, Release, Wheel};

/// The first line of every file, with the format's version.
const MAGIC: &str = "mlcompat-index 1";

/// A file that is not in this format, with the line where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FormatError {
    /// The 1-based line where reading stopped.
    pub line: usize,
    /// What was wrong with it.
    pub message: String,
}

/// Writes a package in the format above.
pub fn write(package: &Package) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MAGIC}");
    let _ = writeln!(out, "name {}", package.name);
    let _ = writeln!(out, "source {}", package.source);
    let _ = writeln!(out, "as-of {}", package.as_of);
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    let mut table = String::new();
    let mut body = String::new();
    for release in &package.releases {
        let mut indices: Vec<usize> = release
            .wheels
            .iter()
            .map(|tag| {
                let next = numbers.len();
                *numbers.entry(&**tag).or_insert_with(|| {
                    let _ = writeln!(table, "tag {next} {tag}");
                    next
                })
            })
            .collect();
        indices.sort_unstable();
        indices.dedup();
        let _ = write!(body, "release {}", release.version);
        let _ = write!(body, " {}", release.uploaded.as_deref().unwrap_or("-"));
        if let Some(python) = &release.requires_python {
            let _ = write!(body, " python={python}");
        }
        if !indices.is_empty() {
            let _ = write!(body, " wheels={}", ranges(&indices));
        }
        if release.sdist {
            body.push_str(" sdist");
        }
        if release.yanked {
            body.push_str(" yanked");
        }
        body.push('\n');
        if let Some(requires) = &release.requires_dist {
            let _ = writeln!(body, "metadata {}", release.version);
            for requirement in requires {
                let _ = writeln!(body, "requires {} {requirement}", release.version);
            }
        }
    }
    out.push_str(&table);
    out.push_str(&body);
    out
}

/// `[0, 1, 2, 5, 7, 8]` → `0-2,5,7-8`.
fn ranges(sorted: &[usize]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end > start {
            let _ = write!(out, "{start}-{end}");
        } else {
            let _ = write!(out, "{start}");
        }
        i += 1;
    }
    out
}

/// Reads a package back. Every malformed line is an error naming the line, never a panic.
pub fn read(text: &str) -> Result<Package, FormatError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let bad = |line: usize, message: &str| FormatError {
        line,
        message: message.to_string(),
    };
    match lines.next() {
        Some((_, MAGIC)) => {}
        _ => {
            return Err(bad(
                1,
                "not an mlcompat index file (expected `mlcompat-index 1`)",
            ));
        }
    }
    let mut package = Package {
        releases: Vec::with_capacity(text.matches("\nrelease ").count()),
        ..Package::default()
    };
    // Each tag once: every release naming it shares it.
    let mut tags: Vec<Wheel> = Vec::new();
    // The wheel list of the release read last, as written and as read: the next release with
    // the same list shares it.
    let mut last_wheels: Option<(&str, Arc<[Wheel]>)> = None;
    for (number, line) in lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, rest) = split_space(line);
        match key {
            "name" => package.name = rest.to_string(),
            "source" => package.source = rest.to_string(),
            "as-of" => package.as_of = rest.to_string(),
            "tag" => {
                let (index, tag) = split_space(rest);
                if tag.is_empty() {
                    return Err(bad(number, "a tag line needs a number and a tag"));
                }
                if index.parse::<usize>().ok() != Some(tags.len()) {
                    return Err(bad(number, "tags must be numbered 0, 1, 2, ... in order"));
                }
                tags.push(Wheel::from(tag));
            }
            "release" => {
                let release = release(rest, &tags, &mut last_wheels, number)?;
                package.releases.push(release);
            }
            "metadata" | "requires" => {
                let (version, requirement) = split_space(rest);
                let version = Version::from_str(version)
                    .map_err(|e| bad(number, &format!("bad version: {e}")))?;
                let Some(last) = package.releases.last_mut().filter(|r| r.version == version)
                else {
                    return Err(bad(number, "names a release other than the one above it"));
                };
                let list = last.requires_dist.get_or_insert_with(Vec::new);
                if key == "requires" {
                    if requirement.is_empty() {
                        return Err(bad(number, "a requires line needs a requirement"));
                    }
                    list.push(requirement.to_string());
                }
            }
            _ => return Err(bad(number, &format!("unknown line kind `{key}`"))),
        }
    }
    if package.name.is_empty() {
        return Err(bad(1, "no `name` line"));
    }
    if package
        .releases
        .windows(2)
        .any(|pair| pair[0].version >= pair[1].version)
    {
        return Err(bad(1, "releases are not in ascending version order"));
    }
    Ok(package)
}

fn release<'t>(
    rest: &'t str,
    tags: &[Wheel],
    last_wheels: &mut Option<(&'t str, Arc<[Wheel]>)>,
    number: usize,
) -> Result<Release, FormatError> {
    let bad = |message: String| FormatError {
        line: number,
        message,
    };
    let (version, rest) = split_space(rest);
    let version = Version::from_str(version).map_err(|e| bad(format!("bad version: {e}")))?;
    let mut release = Release::new(version);
    let (date, mut rest) = split_space(rest);
    match date {
        "-" => {}
        date if is_date(date) => release.uploaded = Some(date.to_string()),
        _ => return Err(bad("a release needs an upload date or `-`".to_string())),
    }
    while !rest.is_empty() {
        let (field, after) = split_space(rest);
        rest = after;
        if let Some(python) = field.strip_prefix("python=") {
            release.requires_python = Some(python.to_string());
        } else if let Some(list) = field.strip_prefix("wheels=") {
            release.wheels = match last_wheels {
                Some((written, wheels)) if *written == list => wheels.clone(),
                _ => {
                    let wheels = wheel_list(list, tags).map_err(bad)?;
                    *last_wheels = Some((list, wheels.clone()));
                    wheels
                }
            };
        } else if field == "sdist" {
            release.sdist = true;
        } else if field == "yanked" {
            release.yanked = true;
        } else {
            return Err(bad(format!("unknown release field `{field}`")));
        }
    }
    Ok(release)
}

/// The tags a release's `wheels=3-7,9` names.
fn wheel_list(list: &str, tags: &[Wheel]) -> Result<Arc<[Wheel]>, String> {
    let mut ranges = Vec::new();
    for part in list.split(',') {
        let (start, end) = part.split_once('-').unwrap_or((part, part));
        let (Ok(start), Ok(end)) = (start.parse::<usize>(), end.parse::<usize>()) else {
            return Err(format!("bad wheel list `{list}`"));
        };
        if start > end || end >= tags.len() {
            return Err(format!("wheel list `{list}` names unknown tags"));
        }
        ranges.push(start..=end);
    }
    Ok(ranges
        .into_iter()
        .flat_map(|range| tags[range].iter().cloned())
        .collect())
}

/// The text before the first space and the text after it (`""` when there is none). A byte
/// loop: the fields are a few bytes long, where setting up a searcher costs more than the search,
/// and a package's file has hundreds of lines.
fn split_space(text: &str) -> (&str, &str) {
    match text.bytes().position(|b| b == b' ') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    }
}

/// `YYYY-MM-DD`.
pub fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Package {
        let mut a = Release::new(Version::from_str("0.16.2").unwrap());
        a.uploaded = Some("2023-12-12".into());
        a.requires_python = Some(">=3.8".into());
        a.wheels = [
            "cp38-cp38-manylinux1_x86_64".into(),
            "cp39-cp39-manylinux1_x86_64".into(),
        ]
        .into();
        a.sdist = true;
        a.requires_dist = Some(vec!["numpy".into(), "torch==2.1.2".into()]);
        let mut b = Release::new(Version::from_str("0.17.0").unwrap());
        b.wheels = ["cp39-cp39-manylinux1_x86_64".into(), "py3-none-any".into()].into();
        b.yanked = true;
        b.requires_dist = Some(vec![]);
        Package {
            name: "torchvision".into(),
            source: "https://pypi.org/simple/".into(),
            as_of: "2026-12-02".into(),
            releases: vec![a, b],
        }
    }

    #[test]
    fn writes_and_reads_back_the_same_package() {
        let package = sample();
        let text = write(&package);
        assert!(text.contains("tag 0 cp38-cp38-manylinux1_x86_64\n"));
        assert!(text.contains("release 0.16.2 2023-12-12 python=>=3.8 wheels=0-1 sdist\n"));
        assert!(text.contains("release 0.17.0 - wheels=1-2 yanked\nmetadata 0.17.0\n"));
        assert_eq!(read(&text).unwrap(), package);
    }

    #[test]
    fn runs_of_numbers_are_compressed() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(ranges(&[4]), "4");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn malformed_files_are_errors_with_a_line() {
        let good = write(&sample());
        assert!(read("").is_err());
        assert!(read("something else\n").is_err());
        for (from, to) in [
            ("wheels=0-1", "wheels=0-9"),
            ("wheels=0-1", "wheels=1-0"),
            ("wheels=0-1", "wheels=a"),
            ("tag 1 ", "tag 7 "),
            ("2023-12-12", "yesterday"),
            ("requires 0.16.2 numpy", "requires 9.9 numpy"),
            ("release 0.17.0", "release not-a-version"),
            (" sdist", " sideways"),
            ("name torchvision", "colour blue"),
        ] {
            let broken = good.replacen(from, to, 1);
            assert_ne!(broken, good, "{from}");
            let error = read(&broken).unwrap_err();
            assert!(error.line >= 1, "{from}: {error}");
        }
        // Out of order releases.
        let swapped = good
            .replace("release 0.16.2", "release 0.99")
            .replace("requires 0.16.2", "requires 0.99")
            .replace("metadata 0.16.2", "metadata 0.99");
        assert!(read(&swapped).is_err());
    }
}
