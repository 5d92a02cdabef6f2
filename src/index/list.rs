//! The reviewed package list (`index/packages.txt`): which packages the built-in snapshot knows,
//! in sections, and which of them keep `Requires-Dist` for every release.

use crate::names::normalize as normalize_name;

/// `index/packages.txt`, compiled in.
pub const PACKAGES_TXT: &str = include_str!("../../index/packages.txt");

/// The section `refresh` always fetches: the names the rules match.
pub const CATALOGUE: &str = "catalogue";
/// The section naming packages whose `Requires-Dist` is kept for every release.
pub const EVERY_RELEASE: &str = "every-release-metadata";
/// The section naming conda-only packages the rules match: listed so that a check can tell them
/// from forgotten names, never fetched.
pub const CONDA_ONLY: &str = "conda-only";

/// The parsed list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageList {
    /// `(section, normalized names)` in file order.
    pub sections: Vec<(String, Vec<String>)>,
}

impl PackageList {
    /// Reads the format: `[section]` headers, one name a line, `#` comments, blank lines.
    /// Names before any header go into a section named `""`.
    pub fn parse(text: &str) -> PackageList {
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                sections.push((name.trim().to_string(), Vec::new()));
                continue;
            }
            if sections.is_empty() {
                sections.push((String::new(), Vec::new()));
            }
            if let Some((_, names)) = sections.last_mut() {
                names.push(normalize_name(line));
            }
        }
        PackageList { sections }
    }

    /// The built-in list.
    pub fn builtin() -> PackageList {
        PackageList::parse(PACKAGES_TXT)
    }

    /// The names of one section.
    pub fn section(&self, name: &str) -> Vec<String> {
        self.sections
            .iter()
            .filter(|(section, _)| section == name)
            .flat_map(|(_, names)| names.iter().cloned())
            .collect()
    }

    /// Every name to fetch once, in file order ([`CONDA_ONLY`] left out).
    pub fn all(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.sections
            .iter()
            .filter(|(section, _)| section != CONDA_ONLY)
            .flat_map(|(_, names)| names.iter())
            .filter(|name| seen.insert(name.as_str()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_names_and_comments() {
        let list = PackageList::parse(
            "stray\n[a]\n# c\nTorch_Vision  # why\n\n[b]\ntorch\n[a]\nx\n[conda-only]\nc\n",
        );
        assert_eq!(list.section(CONDA_ONLY), vec!["c"]);
        assert_eq!(list.section("a"), vec!["torch-vision", "x"]);
        assert_eq!(list.section(""), vec!["stray"]);
        assert_eq!(list.all(), vec!["stray", "torch-vision", "torch", "x"]);
    }
}
