//! Fetching packages from an index into a folder of index files: one page request per package
//! (JSON first, HTML as the fallback), then the metadata files that are not known yet, each file
//! written atomically. `mlcompat refresh` and the snapshot script both run this, one request at a
//! time.

use std::collections::BTreeSet;
use std::path::PathBuf;

use pep440_rs::Version;

use super::cache;
use super::format;
use super::http::{ACCEPT_PAGE, Fetch, HttpError};
use super::metadata;
use super::package::Package;
use super::simple::{self, MetadataSource, Page};
use super::wheel;
use crate::source;

/// The index used when none is configured.
pub const PYPI: &str = "https://pypi.org/simple/";

/// The biggest package page read (torch's JSON page is about 3 MB).
const PAGE_LIMIT: u64 = 64 << 20;
/// After this many packages in a row could not be reached, a refresh stops.
const MAX_UNREACHABLE_IN_A_ROW: usize = 3;

/// The biggest metadata file read (they are a few kilobytes; some embed a long README).
const METADATA_LIMIT: u64 = 4 << 20;

/// What to fetch, from where, into where.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The simple index's base URL (`https://pypi.org/simple/`).
    pub index_url: String,
    /// Normalized package names, each fetched once, in this order.
    pub names: Vec<String>,
    /// Packages whose `Requires-Dist` is read for every release, not only the newest.
    pub every_release: BTreeSet<String>,
    /// The folder the package files go into.
    pub out: PathBuf,
    /// The file naming the date and source of the run (`_refresh.txt`, `_snapshot.txt`); `None`
    /// for a partial run, which must not make the whole folder look that new.
    pub summary_file: Option<String>,
    /// Today, `YYYY-MM-DD`.
    pub as_of: String,
    /// The most requests to send: once reached, metadata is no longer read (package pages still
    /// are, so every listed package stays known).
    pub max_requests: Option<usize>,
}

/// Why one package could not be refreshed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// The index answered 404 (or 410): it does not have the package.
    #[error("not on this index")]
    NotFound,
    #[error("the index answered HTTP {0}")]
    /// Another unexpected status, after the retry.
    Status(u16),
    #[error(transparent)]
    /// The request failed (unreachable, timed out, too big).
    Http(#[from] HttpError),
    #[error("{0}")]
    /// The page was neither JSON nor HTML a simple index writes.
    BadPage(String),
    #[error("cannot write its file: {0}")]
    /// The package file could not be written (the old one is kept).
    Write(String),
    #[error("is not a package name")]
    /// The name is not a normalized package name, so it is neither fetched nor written.
    BadName,
}

/// Why a refresh stopped before the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    #[error("{0}")]
    /// The very first requests failed: the index cannot be reached at all.
    Unreachable(HttpError),
    #[error("cannot write to {0}")]
    /// The folder the files go into cannot be created or written.
    Folder(String),
}

/// What a refresh did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Packages with releases the previous knowledge did not have: `(name, new versions)`.
    pub changed: Vec<(String, Vec<Version>)>,
    /// Packages read whose releases were all known already.
    pub unchanged: usize,
    /// Names the index does not have.
    pub not_found: Vec<String>,
    /// Packages that could not be read, and why; their old files are kept.
    pub failed: Vec<(String, PackageError)>,
    /// Metadata files that could not be read: `(package, what happened)`; the release is kept
    /// without `Requires-Dist`.
    pub metadata_failed: Vec<(String, String)>,
    /// The request budget ran out, so some metadata was not read.
    pub budget_reached: bool,
    /// Requests sent, retries included.
    pub requests: usize,
}

/// Runs `plan`: `previous` gives what was known before (for the summary, and so that metadata
/// already read is not fetched again); `progress` is told `(done, total, name)` before each
/// package. Stops early only when the index cannot be reached at all.
pub fn run(
    plan: &Plan,
    fetch: &mut dyn Fetch,
    previous: &dyn Fn(&str) -> Option<Package>,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Summary, RefreshError> {
    std::fs::create_dir_all(&plan.out)
        .map_err(|e| RefreshError::Folder(format!("{}: {e}", plan.out.display())))?;
    let mut summary = Summary::default();
    let mut reached = false;
    // The network gone in the middle of a run: stop rather than wait out every package's
    // timeouts. The files written so far are whole and stay.
    let mut unreachable_in_a_row = 0;
    for (i, name) in plan.names.iter().enumerate() {
        progress(i, plan.names.len(), name);
        let before = previous(name);
        let result = one(plan, fetch, name, before.as_ref(), &mut summary);
        if matches!(
            &result,
            Err(PackageError::Http(HttpError::Unreachable { .. }))
        ) {
            unreachable_in_a_row += 1;
        } else {
            unreachable_in_a_row = 0;
        }
        match result {
            Err(PackageError::Http(error @ HttpError::Unreachable { .. }))
                if !reached || unreachable_in_a_row >= MAX_UNREACHABLE_IN_A_ROW =>
            {
                return Err(RefreshError::Unreachable(error));
            }
            Ok(package) => {
                reached = true;
                let new: Vec<Version> = package
                    .new_since(before.as_ref())
                    .into_iter()
                    .cloned()
                    .collect();
                if new.is_empty() {
                    summary.unchanged += 1;
                } else {
                    summary.changed.push((name.clone(), new));
                }
            }
            Err(PackageError::NotFound) => {
                reached = true;
                summary.not_found.push(name.clone());
            }
            Err(error) => {
                if !matches!(error, PackageError::Http(_) | PackageError::BadName) {
                    reached = true;
                }
                summary.failed.push((name.clone(), error));
            }
        }
    }
    progress(plan.names.len(), plan.names.len(), "");
    summary.requests = fetch.requests();
    let mut text = format!(
        "as-of {}\nsource {}\npackages {}\nrequests {}\n",
        plan.as_of,
        plan.index_url,
        plan.names.len() - summary.not_found.len() - summary.failed.len(),
        summary.requests
    );
    if !summary.not_found.is_empty() {
        text.push_str(&format!("not-found {}\n", summary.not_found.join(" ")));
    }
    if let Some(file) = &plan.summary_file {
        source::write_atomically(&plan.out.join(file), &text)
            .map_err(|e| RefreshError::Folder(e.to_string()))?;
    }
    Ok(summary)
}

/// The index URL: `--index-url`, else `UV_INDEX_URL`, else `PIP_INDEX_URL`, else PyPI.
pub fn index_url(flag: Option<&str>, var: &dyn Fn(&str) -> Option<String>) -> String {
    flag.map(str::to_string)
        .or_else(|| var("UV_INDEX_URL"))
        .or_else(|| var("PIP_INDEX_URL"))
        .map(|url| url.trim().to_string())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| PYPI.to_string())
}

/// The URL of a package's page: `{index}/{name}/`.
pub fn page_url(index_url: &str, name: &str) -> String {
    format!("{}/{name}/", index_url.trim_end_matches('/'))
}

/// Fetches, completes and writes one package.
fn one(
    plan: &Plan,
    fetch: &mut dyn Fetch,
    name: &str,
    before: Option<&Package>,
    summary: &mut Summary,
) -> Result<Package, PackageError> {
    if !cache::is_package_name(name) {
        return Err(PackageError::BadName);
    }
    let url = page_url(&plan.index_url, name);
    let mut response = fetch.get(&url, ACCEPT_PAGE, PAGE_LIMIT)?;
    // An index that refuses the negotiation outright (406) still serves PEP 503's HTML.
    if response.status == 406 {
        response = fetch.get(&url, "text/html", PAGE_LIMIT)?;
    }
    match response.status {
        200 => {}
        404 | 410 => return Err(PackageError::NotFound),
        status => return Err(PackageError::Status(status)),
    }
    let parsed = if response.content_type.contains("json") {
        simple::parse_json(name, &url, &response.body)
    } else {
        simple::parse_html(name, &url, &response.body)
    };
    let Page {
        mut package,
        metadata: metadata_urls,
    } = parsed.map_err(|e| PackageError::BadPage(e.0))?;
    package.source = plan.index_url.clone();
    package.as_of = plan.as_of.clone();
    // Metadata read before stays: a published file never changes.
    if let Some(before) = before {
        for release in &mut package.releases {
            if let Some(old) = before.release(&release.version) {
                release.requires_dist.clone_from(&old.requires_dist);
            }
        }
    }
    let newest = package.newest().map(|r| r.version.clone());
    let every = plan.every_release.contains(name);
    for release in &mut package.releases {
        if release.requires_dist.is_some() || !(every || Some(&release.version) == newest.as_ref())
        {
            continue;
        }
        let Some(source) = metadata_urls.get(&release.version) else {
            continue;
        };
        if plan.max_requests.is_some_and(|max| fetch.requests() >= max) {
            summary.budget_reached = true;
            continue;
        }
        let text = match source {
            MetadataSource::File(url) => match fetch.get(url, "*/*", METADATA_LIMIT) {
                Ok(response) if response.status == 200 => Ok(response.body),
                Ok(response) => Err(format!("HTTP {}", response.status)),
                Err(error) => Err(error.to_string()),
            },
            MetadataSource::Wheel(url) => wheel::fetch_metadata(fetch, url),
        };
        match text {
            Ok(text) => release.requires_dist = Some(metadata::requires_dist(&text)),
            Err(why) => summary
                .metadata_failed
                .push((format!("{name} {}", release.version), why)),
        }
    }
    source::write_atomically(
        &cache::package_file(&plan.out, name),
        &format::write(&package),
    )
    .map_err(|e| PackageError::Write(e.to_string()))?;
    Ok(package)
}

/// Today's date in UTC, `YYYY-MM-DD`, from the system clock.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    civil_date(days as i64)
}

/// Days since 1970-01-01 → `YYYY-MM-DD` (the proleptic Gregorian calendar).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_789), "2026-12-02");
    }

    /// A fetcher that must not be called.
    struct Nothing;

    impl Fetch for Nothing {
        fn get(
            &mut self,
            url: &str,
            _: &str,
            _: u64,
        ) -> Result<super::super::http::Response, HttpError> {
            panic!("fetched {url}")
        }
        fn get_range(
            &mut self,
            url: &str,
            _: &str,
            _: u64,
        ) -> Result<super::super::http::RangeResponse, HttpError> {
            panic!("fetched {url}")
        }
        fn requests(&self) -> usize {
            0
        }
    }

    #[test]
    fn names_that_are_not_package_names_are_never_fetched_or_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cache");
        let plan = Plan {
            index_url: PYPI.into(),
            names: vec!["../escape".into(), "a/b".into(), "".into()],
            every_release: BTreeSet::new(),
            out: out.clone(),
            summary_file: Some("_refresh.txt".into()),
            as_of: "2026-12-02".into(),
            max_requests: None,
        };
        let summary = run(&plan, &mut Nothing, &|_| None, &mut |_, _, _| {}).unwrap();
        assert_eq!(summary.failed.len(), 3);
        assert!(
            summary
                .failed
                .iter()
                .all(|(_, e)| *e == PackageError::BadName)
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    }

    #[test]
    fn the_index_url_comes_from_the_flag_then_uv_then_pip() {
        let vars = |uv: Option<&'static str>, pip: Option<&'static str>| {
            move |key: &str| match key {
                "UV_INDEX_URL" => uv.map(str::to_string),
                "PIP_INDEX_URL" => pip.map(str::to_string),
                _ => None,
            }
        };
        assert_eq!(
            index_url(Some("http://f/"), &vars(Some("http://u/"), None)),
            "http://f/"
        );
        assert_eq!(
            index_url(None, &vars(Some("http://u/"), Some("http://p/"))),
            "http://u/"
        );
        assert_eq!(index_url(None, &vars(None, Some("http://p/"))), "http://p/");
        assert_eq!(index_url(None, &vars(None, None)), PYPI);
    }

    /// Answers the first page with an empty JSON page, then cannot reach anything.
    struct DropsOut(usize);

    impl Fetch for DropsOut {
        fn get(
            &mut self,
            url: &str,
            _: &str,
            _: u64,
        ) -> Result<super::super::http::Response, HttpError> {
            self.0 += 1;
            if self.0 == 1 {
                return Ok(super::super::http::Response {
                    status: 200,
                    content_type: "application/vnd.pypi.simple.v1+json".into(),
                    body: r#"{"files":[]}"#.into(),
                });
            }
            Err(HttpError::Unreachable {
                url: url.into(),
                message: "timed out".into(),
            })
        }
        fn get_range(
            &mut self,
            url: &str,
            _: &str,
            _: u64,
        ) -> Result<super::super::http::RangeResponse, HttpError> {
            panic!("fetched {url}")
        }
        fn requests(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn a_network_gone_in_the_middle_stops_the_run_and_keeps_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
        let plan = Plan {
            index_url: PYPI.into(),
            names,
            every_release: BTreeSet::new(),
            out: dir.path().to_path_buf(),
            summary_file: Some("_refresh.txt".into()),
            as_of: "2026-12-02".into(),
            max_requests: None,
        };
        let mut fetch = DropsOut(0);
        let error = run(&plan, &mut fetch, &|_| None, &mut |_, _, _| {}).unwrap_err();
        assert!(error.to_string().contains("timed out"), "{error}");
        assert_eq!(fetch.0, 1 + MAX_UNREACHABLE_IN_A_ROW);
        assert!(dir.path().join("p0.txt").exists());
        assert!(!dir.path().join("_refresh.txt").exists());
    }

    #[test]
    fn page_urls() {
        assert_eq!(
            page_url("https://pypi.org/simple/", "torch"),
            "https://pypi.org/simple/torch/"
        );
        assert_eq!(page_url("http://h/simple", "a-b"), "http://h/simple/a-b/");
    }
}
