//! Reading a package's page from a PEP 503/691 "simple" index: the JSON form (PEP 691, with
//! PEP 700's upload times) and the HTML form as a fallback. Pure functions from text to a
//! [`Page`]; bad input is an error, never a panic.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::Version;
use serde::Deserialize;

use super::package::{Package, Release};
use super::tags::split_wheel_filename;
use crate::names::normalize as normalize_name;

/// What a package page says, before any metadata file is read.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// The releases and their files (`source` and `as_of` left for the caller).
    pub package: Package,
    /// For each release with a wheel, where its metadata can be read.
    pub metadata: BTreeMap<Version, MetadataSource>,
}

/// Where a release's core metadata can be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataSource {
    /// A PEP 658 metadata file (`<wheel url>.metadata`), which the index says exists.
    File(String),
    /// Only inside a wheel, at this URL (read by range requests: [`super::wheel`]).
    Wheel(String),
}

/// A page that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PageError(pub String);

#[derive(Deserialize)]
struct JsonPage {
    /// Required by PEP 691: a page without it is not a project page.
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default, rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: serde_json::Value,
    #[serde(default, rename = "core-metadata")]
    core_metadata: serde_json::Value,
    #[serde(default, rename = "data-dist-info-metadata")]
    dist_info_metadata: serde_json::Value,
    #[serde(default, rename = "upload-time")]
    upload_time: Option<String>,
}

/// One file as either form lists it.
struct File {
    filename: String,
    url: String,
    requires_python: Option<String>,
    yanked: bool,
    metadata: bool,
    uploaded: Option<String>,
}

/// Reads a PEP 691 JSON page of package `name`, found at `page_url` (relative file URLs are
/// resolved against it).
pub fn parse_json(name: &str, page_url: &str, text: &str) -> Result<Page, PageError> {
    let page: JsonPage = serde_json::from_str(text)
        .map_err(|e| PageError(format!("bad JSON from the index: {e}")))?;
    let truthy = |v: &serde_json::Value| {
        !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false))
    };
    let files = page
        .files
        .into_iter()
        .map(|f| File {
            url: join_url(page_url, &f.url),
            filename: f.filename,
            requires_python: f.requires_python,
            yanked: truthy(&f.yanked),
            metadata: truthy(&f.core_metadata) || truthy(&f.dist_info_metadata),
            uploaded: f
                .upload_time
                .filter(|t| t.len() >= 10 && t.is_char_boundary(10))
                .map(|t| t[..10].to_string()),
        })
        .collect();
    Ok(assemble(name, files))
}

/// Reads a PEP 503 HTML page: one `<a href=…>filename</a>` per file, with `data-requires-python`,
/// `data-yanked` and `data-core-metadata` (or `data-dist-info-metadata`) attributes.
pub fn parse_html(name: &str, page_url: &str, text: &str) -> Result<Page, PageError> {
    let mut files = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<a") {
        let start = at + found;
        let after_name = lower.as_bytes().get(start + 2).copied();
        at = start + 2;
        if !matches!(after_name, Some(b' ' | b'\t' | b'\n' | b'\r')) {
            continue;
        }
        let Some(open_end) = lower[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = lower[open_end..].find("</a>").map(|i| open_end + i) else {
            break;
        };
        let attributes = attributes(&text[start + 2..open_end]);
        at = close + 4;
        let Some(href) = attributes.get("href") else {
            continue;
        };
        let href = href.split('#').next().unwrap_or_default();
        let label = unescape(text[open_end + 1..close].trim());
        let filename = if label.is_empty() {
            href.rsplit('/').next().unwrap_or_default().to_string()
        } else {
            label
        };
        let metadata = ["data-core-metadata", "data-dist-info-metadata"]
            .iter()
            .any(|key| attributes.get(*key).is_some_and(|v| v != "false"));
        files.push(File {
            filename,
            url: join_url(page_url, href),
            requires_python: attributes.get("data-requires-python").cloned(),
            yanked: attributes.contains_key("data-yanked"),
            metadata,
            uploaded: None,
        });
    }
    if files.is_empty() && !lower.contains("<html") && !lower.contains("<!doctype") {
        return Err(PageError(
            "the index answered with neither JSON nor an HTML page".to_string(),
        ));
    }
    Ok(assemble(name, files))
}

/// `key="value"` pairs of an HTML tag, names lower-cased, values unescaped.
fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = tag.trim_start();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, remainder) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let end = inner.find(q).unwrap_or(inner.len());
                    (&inner[..end], inner.get(end + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            rest = remainder.trim_start();
            unescape(value)
        } else {
            String::new()
        };
        if name.is_empty() {
            // A stray `=` or quote: skip one character so the loop always advances.
            let mut chars = rest.chars();
            chars.next();
            rest = chars.as_str().trim_start();
            continue;
        }
        out.insert(name, value);
    }
    out
}

/// The HTML entities an index writes in attribute values (`&gt;=3.8`).
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Resolves a file URL against the page it was found on: absolute URLs as they are, `//host/…`
/// with the page's scheme, `/path` on the page's host, anything else relative to the page.
pub fn join_url(base: &str, href: &str) -> String {
    if href.contains("://") {
        return href.to_string();
    }
    let (scheme, after_scheme) = base.split_once("://").unwrap_or(("https", base));
    if let Some(rest) = href.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    let host_end = after_scheme.find('/').unwrap_or(after_scheme.len());
    let host = &after_scheme[..host_end];
    if href.starts_with('/') {
        return format!("{scheme}://{host}{href}");
    }
    let path = &after_scheme[host_end..];
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if !path.ends_with('/') {
        segments.pop();
    }
    for part in href.split('/') {
        match part {
            ".." => {
                segments.pop();
            }
            "." | "" => {}
            other => segments.push(other),
        }
    }
    let trailing = if href.ends_with('/') { "/" } else { "" };
    format!("{scheme}://{host}/{}{trailing}", segments.join("/"))
}

/// The version of an sdist: `scikit-learn-0.20.0.tar.gz` → `0.20.0`. The name part is matched
/// against the package (names in old sdists are not normalized and may hold dashes).
fn sdist_version<'a>(name: &str, filename: &'a str) -> Option<&'a str> {
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"]
        .iter()
        .find_map(|ext| {
            filename
                .len()
                .checked_sub(ext.len())
                .filter(|&cut| filename.is_char_boundary(cut))
                .filter(|&cut| filename[cut..].eq_ignore_ascii_case(ext))
                .map(|cut| &filename[..cut])
        })?;
    stem.match_indices('-')
        .map(|(i, _)| i)
        .find(|&i| normalize_name(&stem[..i]) == name)
        .or_else(|| stem.rfind('-'))
        .map(|i| &stem[i + 1..])
        .filter(|v| !v.is_empty())
}

/// Groups files into releases. Files whose version does not parse (pre-PEP 440 names such as
/// `0.1dev-r1234`), eggs and installers are left out: pip does not install them either.
fn assemble(name: &str, files: Vec<File>) -> Page {
    let name = normalize_name(name);
    let mut releases: BTreeMap<Version, Release> = BTreeMap::new();
    let mut pythons: BTreeMap<Version, BTreeMap<String, usize>> = BTreeMap::new();
    let mut all_yanked: BTreeMap<Version, bool> = BTreeMap::new();
    let mut metadata: BTreeMap<Version, MetadataSource> = BTreeMap::new();
    for file in files {
        let (version, wheel) = match split_wheel_filename(&file.filename) {
            Some((version, tag)) => (version, Some(tag)),
            None => match sdist_version(&name, &file.filename) {
                Some(version) => (version, None),
                None => continue,
            },
        };
        let Ok(version) = Version::from_str(version) else {
            continue;
        };
        let release = releases
            .entry(version.clone())
            .or_insert_with(|| Release::new(version.clone()));
        match &wheel {
            Some(tag) => release.add_wheels([super::package::Wheel::from(tag.as_ref())]),
            None => release.sdist = true,
        }
        if let Some(uploaded) = file.uploaded
            && release.uploaded.as_ref().is_none_or(|u| &uploaded < u)
        {
            release.uploaded = Some(uploaded);
        }
        if let Some(python) = file.requires_python {
            let python: String = python.chars().filter(|c| !c.is_whitespace()).collect();
            if !python.is_empty() {
                *pythons
                    .entry(version.clone())
                    .or_default()
                    .entry(python)
                    .or_default() += 1;
            }
        }
        let yanked = all_yanked.entry(version.clone()).or_insert(true);
        *yanked &= file.yanked;
        if let (Some(tag), false) = (&wheel, file.yanked) {
            // A metadata file beats reading the wheel; a pure-Python wheel, the smallest, beats
            // another wheel.
            let better = match metadata.get(&version) {
                None => true,
                Some(MetadataSource::File(_)) => false,
                Some(MetadataSource::Wheel(_)) => file.metadata || tag.ends_with("-none-any"),
            };
            if better {
                let source = if file.metadata {
                    MetadataSource::File(format!("{}.metadata", file.url))
                } else {
                    MetadataSource::Wheel(file.url.clone())
                };
                metadata.insert(version, source);
            }
        }
    }
    for (version, release) in &mut releases {
        release.yanked = all_yanked.get(version).copied().unwrap_or(false);
        // Files of one release almost always agree; where they do not, the most common wins.
        release.requires_python = pythons.get(version).and_then(|counts| {
            counts
                .iter()
                .max_by_key(|(_, count)| **count)
                .map(|(python, _)| python.clone())
        });
    }
    Page {
        package: Package {
            name,
            source: String::new(),
            as_of: String::new(),
            releases: releases.into_values().collect(),
        },
        metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_pages_group_files_into_releases() {
        let text = r#"{"meta":{"api-version":"1.1"},"name":"demo","files":[
          {"filename":"demo-1.0.tar.gz","url":"../../files/demo-1.0.tar.gz","hashes":{},
           "requires-python":">= 3.8","yanked":false,"upload-time":"2024-01-02T03:04:05.000Z"},
          {"filename":"demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl","url":"https://files.example/demo-1.0-cp311.whl","hashes":{},
           "requires-python":">=3.8","core-metadata":{"sha256":"ab"},"upload-time":"2024-01-01T00:00:00Z"},
          {"filename":"demo-2.0rc1-py3-none-any.whl","url":"/f/demo-2.0rc1-py3-none-any.whl","hashes":{},
           "yanked":"broken","data-dist-info-metadata":true},
          {"filename":"demo-0.1.egg","url":"x","hashes":{}},
          {"filename":"demo-0.1dev-r12.tar.gz","url":"x","hashes":{}}
        ],"versions":["1.0","2.0rc1"]}"#;
        let page = parse_json("Demo", "https://idx.example/simple/demo/", text).unwrap();
        let p = &page.package;
        assert_eq!(p.name, "demo");
        assert_eq!(p.releases.len(), 2);
        let one = &p.releases[0];
        assert_eq!(one.version.to_string(), "1.0");
        assert!(one.sdist);
        assert_eq!(
            one.wheels.to_vec(),
            vec!["cp311-cp311-manylinux_2_17_x86_64".into()]
        );
        assert_eq!(one.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(one.uploaded.as_deref(), Some("2024-01-01"));
        assert!(!one.yanked);
        let two = &p.releases[1];
        assert!(two.yanked && !two.sdist);
        assert_eq!(
            page.metadata.get(&one.version),
            Some(&MetadataSource::File(
                "https://files.example/demo-1.0-cp311.whl.metadata".into()
            ))
        );
        // A yanked file's metadata is not the release's to read.
        assert!(!page.metadata.contains_key(&two.version));
    }

    #[test]
    fn bad_json_is_an_error() {
        assert!(parse_json("x", "https://i/", "{\"files\": [").is_err());
        assert!(parse_json("x", "https://i/", "{}").is_err());
        assert!(
            parse_json("x", "https://i/", r#"{"files":[]}"#)
                .unwrap()
                .package
                .releases
                .is_empty()
        );
        assert!(parse_json("x", "https://i/", r#"{"files":[{"filename":3}]}"#).is_err());
    }

    #[test]
    fn html_pages_are_read_as_a_fallback() {
        let text = r#"<!DOCTYPE html><html><body>
          <a href="https://f.example/demo-1.0-py3-none-any.whl#sha256=00" data-requires-python="&gt;=3.9" data-core-metadata="sha256=11">demo-1.0-py3-none-any.whl</a><br/>
          <A HREF='../demo-1.0.zip' data-yanked="">demo-1.0.zip</A>
          <a href="demo_old-0.5.tar.gz">demo_old-0.5.tar.gz</a>
          <abbr>not a link</abbr>
        </body></html>"#;
        let page = parse_html("demo", "https://i.example/simple/demo/", text).unwrap();
        let p = &page.package;
        assert_eq!(p.releases.len(), 2);
        assert_eq!(p.releases[0].version.to_string(), "0.5");
        let one = &p.releases[1];
        assert_eq!(one.requires_python.as_deref(), Some(">=3.9"));
        assert!(one.sdist);
        assert!(!one.yanked, "only one of its two files is yanked");
        assert_eq!(
            page.metadata.values().next(),
            Some(&MetadataSource::File(
                "https://f.example/demo-1.0-py3-none-any.whl.metadata".into()
            ))
        );
        assert!(parse_html("demo", "https://i/", "garbage").is_err());
        // Broken markup ends the scan without a panic.
        for broken in [
            "<html><a href=\"x",
            "<html><a =>",
            "<html><a href='a'>b",
            "<html><a",
        ] {
            let _ = parse_html("demo", "https://i/", broken);
        }
    }

    #[test]
    fn urls_resolve_against_the_page() {
        let base = "https://pypi.org/simple/torch/";
        assert_eq!(join_url(base, "https://f/x.whl"), "https://f/x.whl");
        assert_eq!(join_url(base, "//f.host/x.whl"), "https://f.host/x.whl");
        assert_eq!(
            join_url(base, "/packages/x.whl"),
            "https://pypi.org/packages/x.whl"
        );
        assert_eq!(
            join_url(base, "../../packages/x.whl"),
            "https://pypi.org/packages/x.whl"
        );
        assert_eq!(
            join_url(base, "x.whl"),
            "https://pypi.org/simple/torch/x.whl"
        );
        assert_eq!(
            join_url("http://127.0.0.1:80/simple", "demo/"),
            "http://127.0.0.1:80/demo/"
        );
    }

    #[test]
    fn sdist_names_with_dashes() {
        assert_eq!(
            sdist_version("scikit-learn", "scikit-learn-0.20.0.tar.gz"),
            Some("0.20.0")
        );
        assert_eq!(sdist_version("pyyaml", "PyYAML-5.1.zip"), Some("5.1"));
        assert_eq!(sdist_version("x", "x.tar.gz"), None);
        assert_eq!(sdist_version("x", "x-1.0.exe"), None);
        assert_eq!(sdist_version("x", "é.tar.gz"), None);
    }
}
