//! Which releases a package index carries, from `index/cuda-indexes.txt`: a fix that sends a
//! package to another index must send it to one that has a release the requirement allows.

use std::str::FromStr;
use std::sync::OnceLock;

use pep440_rs::Version;
use version_ranges::Ranges;

/// The reviewed data file, compiled in.
const DATA: &str = include_str!("../../index/cuda-indexes.txt");

/// One index and what it carries of one package.
#[derive(Clone, Debug)]
pub struct Carried {
    /// The index URL, as a fix writes it.
    pub url: String,
    /// The package (normalized name).
    pub package: String,
    /// The releases it carries, as a set of versions.
    pub releases: Ranges<Version>,
}

/// Every line of the data file, in the file's order (newest CUDA first).
pub fn all() -> &'static [Carried] {
    static PARSED: OnceLock<Vec<Carried>> = OnceLock::new();
    PARSED.get_or_init(|| parse(DATA))
}

/// What `url` carries of `package`; `None` when the data does not describe that pair.
pub fn carried(url: &str, package: &str) -> Option<&'static Carried> {
    let url = url.trim_end_matches('/');
    all().iter().find(|c| c.url == url && c.package == package)
}

/// The indexes the data describes for `package`, in the file's order.
pub fn for_package(package: &str) -> impl Iterator<Item = &'static Carried> {
    all().iter().filter(move |c| c.package == package)
}

/// `URL PACKAGE SERIES...`, `#` comments; a series `2.1` stands for every 2.1.x release. Lines
/// that do not read are skipped (the unit test below holds every line of the shipped file).
fn parse(text: &str) -> Vec<Carried> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            let url = words.next()?.trim_end_matches('/').to_string();
            let package = crate::names::normalize(words.next()?);
            let mut releases = Ranges::empty();
            for series in words {
                releases = releases.union(&series_range(series)?);
            }
            (!releases.is_empty()).then_some(Carried {
                url,
                package,
                releases,
            })
        })
        .collect()
}

/// `2.1` → every release from 2.1 up to (not including) 2.2.
fn series_range(series: &str) -> Option<Ranges<Version>> {
    let (major, minor) = series.split_once('.')?;
    let major: u64 = major.parse().ok()?;
    let minor: u64 = minor.parse().ok()?;
    let low = Version::from_str(&format!("{major}.{minor}")).ok()?;
    let high = Version::from_str(&format!("{major}.{}", minor.checked_add(1)?)).ok()?;
    Some(Ranges::between(low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    #[test]
    fn every_data_line_reads() {
        let lines = DATA
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .count();
        assert_eq!(all().len(), lines);
        assert!(DATA.contains("source: https://pytorch.org/get-started/previous-versions/"));
        assert!(DATA.contains("verified: "));
    }

    #[test]
    fn torch_2_1_2_is_on_cu121_and_cu118_only() {
        let on: Vec<&str> = for_package("torch")
            .filter(|c| c.releases.contains(&v("2.1.2")))
            .map(|c| c.url.as_str())
            .collect();
        assert_eq!(
            on,
            [
                "https://download.pytorch.org/whl/cu121",
                "https://download.pytorch.org/whl/cu118"
            ]
        );
        let cu126 = carried("https://download.pytorch.org/whl/cu126/", "torch").unwrap();
        assert!(!cu126.releases.contains(&v("2.5.1")));
        assert!(cu126.releases.contains(&v("2.6.0")));
        assert!(cu126.releases.contains(&v("2.14.1")));
        assert!(carried("https://example.org/simple", "torch").is_none());
    }
}
