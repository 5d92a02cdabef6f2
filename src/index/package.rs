//! What the index publishes about one package, kept compact: its releases, each with the wheel
//! tags it has files for, whether it has an sdist, its `Requires-Python`, whether it is yanked,
//! when it was uploaded, and (where fetched) its `Requires-Dist`.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use super::tags::WheelTag;

use pep440_rs::{Version, VersionSpecifiers};

/// One package as the index lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    /// The PEP 503 normalized name.
    pub name: String,
    /// The index it was read from (`https://pypi.org/simple/`).
    pub source: String,
    /// The day it was read (`YYYY-MM-DD`).
    pub as_of: String,
    /// Releases in ascending version order.
    pub releases: Vec<Release>,
}

/// A wheel's `python-abi-platform` tag as in its file name, parsed the first time an
/// installer's choice needs it and then kept: the releases of a package file share each tag, and
/// a fleet judges the same tags for every machine. Cloning shares it.
#[derive(Clone)]
pub struct Wheel(Arc<(Box<str>, OnceLock<Option<WheelTag>>)>);

impl Wheel {
    /// The tag parsed, `None` when it is not a wheel tag.
    pub fn parsed(&self) -> Option<&WheelTag> {
        self.0.1.get_or_init(|| WheelTag::parse(&self.0.0)).as_ref()
    }
}

impl From<&str> for Wheel {
    fn from(tag: &str) -> Wheel {
        Wheel(Arc::new((tag.into(), OnceLock::new())))
    }
}

impl std::ops::Deref for Wheel {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.0
    }
}

impl PartialEq for Wheel {
    fn eq(&self, other: &Wheel) -> bool {
        **self == **other
    }
}

impl Eq for Wheel {}

impl std::fmt::Debug for Wheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for Wheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// One release (version) and the files it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// The PEP 440 version.
    pub version: Version,
    /// The day its first file was uploaded (`YYYY-MM-DD`), when the index says.
    pub uploaded: Option<String>,
    /// `Requires-Python` as published, whitespace removed (`>=3.9`).
    pub requires_python: Option<String>,
    /// Whether a source distribution exists (an installer can build from it).
    pub sdist: bool,
    /// Every file of the release is yanked (PEP 592): installers skip it unless pinned with `==`.
    pub yanked: bool,
    /// The distinct `python-abi-platform` tags of its wheels, as in the file names. Shared:
    /// most releases repeat the tags of the one before, so a package file read once holds one
    /// list per run of releases with the same tags, and each tag once.
    pub wheels: Arc<[Wheel]>,
    /// `Requires-Dist` from the release's metadata file, when it was fetched (PEP 658); `None`
    /// when not fetched, `Some(vec![])` for a release that requires nothing.
    pub requires_dist: Option<Vec<String>>,
}

impl Release {
    /// A release with no files known yet.
    pub fn new(version: Version) -> Release {
        Release {
            version,
            uploaded: None,
            requires_python: None,
            sdist: false,
            yanked: false,
            wheels: Arc::new([]),
            requires_dist: None,
        }
    }

    /// Adds the wheel tags the release does not list yet (releases are built file by file, and
    /// merged), making one new shared list however many are added.
    pub fn add_wheels(&mut self, wheels: impl IntoIterator<Item = Wheel>) {
        let mut list = self.wheels.to_vec();
        let before = list.len();
        for wheel in wheels {
            if !list.contains(&wheel) {
                list.push(wheel);
            }
        }
        if list.len() > before {
            self.wheels = list.into();
        }
    }

    /// Whether `Requires-Python` admits `python`; a missing or unreadable one admits every
    /// Python, as pip treats it.
    pub fn admits_python(&self, python: &Version) -> bool {
        match self
            .requires_python
            .as_deref()
            .map(VersionSpecifiers::from_str)
        {
            Some(Ok(spec)) => spec.contains(python),
            _ => true,
        }
    }
}

impl Package {
    /// A package of one release with one wheel, read from a direct reference to a wheel file
    /// (`name @ https://…/gradio-4.37.2+custom.20-py3-none-any.whl`): the file name says
    /// everything an installer checks (PEP 427), so such a declaration is judged like an index's
    /// package. `source` is the URL and `as_of` is empty: nothing was read from an index.
    /// `None` when the URL does not end in a wheel file name whose version parses.
    pub fn from_wheel_url(name: &str, url: &str) -> Option<Package> {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let file = path
            .rsplit('/')
            .next()?
            .replace("%2B", "+")
            .replace("%2b", "+");
        let (version, tag) = super::tags::split_wheel_filename(&file)?;
        let version = Version::from_str(version).ok()?;
        let mut release = Release::new(version);
        release.add_wheels([Wheel::from(tag.as_str())]);
        Some(Package {
            name: name.to_string(),
            source: url.to_string(),
            as_of: String::new(),
            releases: vec![release],
        })
    }

    /// The release with exactly this version.
    pub fn release(&self, version: &Version) -> Option<&Release> {
        self.releases
            .binary_search_by(|r| r.version.cmp(version))
            .ok()
            .map(|i| &self.releases[i])
    }

    /// The newest release that is neither yanked nor a pre-release, else the newest of all: the
    /// one a plain `pip install NAME` considers first.
    pub fn newest(&self) -> Option<&Release> {
        self.releases
            .iter()
            .rev()
            .find(|r| !r.yanked && !r.version.any_prerelease())
            .or_else(|| self.releases.last())
    }

    /// Sorts releases by version and merges duplicates (`1.0` and `1.0.0` are one version).
    pub fn normalize(&mut self) {
        self.releases.sort_by(|a, b| a.version.cmp(&b.version));
        let mut merged: Vec<Release> = Vec::with_capacity(self.releases.len());
        for release in std::mem::take(&mut self.releases) {
            match merged.last_mut() {
                Some(last) if last.version == release.version => {
                    last.sdist |= release.sdist;
                    last.yanked &= release.yanked;
                    last.add_wheels(release.wheels.iter().cloned());
                    last.uploaded = min_date(last.uploaded.take(), release.uploaded);
                    last.requires_python = last.requires_python.take().or(release.requires_python);
                    last.requires_dist = last.requires_dist.take().or(release.requires_dist);
                }
                _ => merged.push(release),
            }
        }
        self.releases = merged;
    }

    /// Versions in `self` that `before` did not have, newest last: what a refresh brought.
    pub fn new_since(&self, before: Option<&Package>) -> Vec<&Version> {
        let known: BTreeMap<&Version, ()> = before
            .map(|b| b.releases.iter().map(|r| (&r.version, ())).collect())
            .unwrap_or_default();
        self.releases
            .iter()
            .map(|r| &r.version)
            .filter(|v| !known.contains_key(v))
            .collect()
    }
}

fn min_date(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
