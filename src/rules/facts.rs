//! The facts a rule is judged against: the machine, the project, and what follows from both
//! (the Python the project runs on, the memory estimate).

use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::Version;
use version_ranges::Ranges;

use super::catalogue::Catalogue;
use super::memory_model::MemoryEstimate;
use super::versions::release_range;
use crate::profile::Profile;
use crate::project::{PackageDecl, Project};
use crate::wording;

#[derive(Clone)]
pub struct Facts<'a> {
    pub profile: &'a Profile,
    pub project: &'a Project,
    pub catalogue: &'a Catalogue,
    pub python: JudgedPython,
    pub memory: Option<MemoryEstimate>,
    /// The package a `for_each` rule is judging now; `{each}` in a rule stands for it.
    pub each: Option<String>,
    /// Whether installed versions narrow declarations. Rules about what pip can install
    /// (`partial: ignore`) judge declarations only: what is installed was installable.
    pub use_installed: bool,
    /// The project's packages by canonical name (indices into `project.packages`), so a rule
    /// asking about one package does not read them all: with a few thousand rule evaluations
    /// and a 4 MiB requirements file of 300,000 lines, that was minutes. Still valid for a
    /// [`Project::scoped_to`] copy, which keeps every package in order.
    pub(crate) by_name: std::sync::Arc<HashMap<String, Vec<usize>>>,
    /// The project's own distribution as a declaration ([`crate::project::Distribution`]): a
    /// checkout of a package is judged by the rules about that package, as `pip install NAME`
    /// from it would be.
    pub own: Option<std::sync::Arc<PackageDecl>>,
}

/// The Python the project runs on: the one it pins, else this machine's.
#[derive(Clone, Debug, Default)]
pub struct JudgedPython {
    pub versions: Option<Ranges<Version>>,
    /// `3.13.5 (this machine's python3)`, `3.10 (pinned at environment.yml:5)`.
    pub description: String,
}

impl<'a> Facts<'a> {
    /// The facts of a project on a machine, without the memory estimate (which is judged from
    /// these facts: see [`super::memory::estimate`]).
    pub fn new(profile: &'a Profile, project: &'a Project, catalogue: &'a Catalogue) -> Facts<'a> {
        Facts {
            profile,
            project,
            catalogue,
            python: judge_python(profile, project),
            memory: None,
            each: None,
            use_installed: true,
            by_name: std::sync::Arc::new(index_packages(project, catalogue)),
            own: project
                .distribution
                .as_ref()
                .map(|d| std::sync::Arc::new(d.as_declaration())),
        }
    }

    /// `{each}` replaced by the package a `for_each` rule is judging.
    pub fn resolve<'b>(&'b self, name: &'b str) -> &'b str {
        match (&self.each, name) {
            (Some(each), "{each}") => each,
            _ => name,
        }
    }

    /// The project's declarations of a package, under any of its names; the project's own
    /// distribution last, when it is that package.
    pub fn declared<'b>(&'b self, name: &'b str) -> impl Iterator<Item = &'b PackageDecl> {
        let name = self.resolve(name);
        let own = self
            .own
            .as_deref()
            .filter(move |own| self.catalogue.canonical(&own.name) == name);
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&at| &self.project.packages[at])
            .chain(own)
    }

    /// The canonical name of the project's own distribution, when it names one.
    pub fn own_name(&self) -> Option<&str> {
        self.own
            .as_deref()
            .map(|own| self.catalogue.canonical(&own.name))
    }
}

fn index_packages(project: &Project, catalogue: &Catalogue) -> HashMap<String, Vec<usize>> {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (at, package) in project.packages.iter().enumerate() {
        index
            .entry(catalogue.canonical(&package.name).to_string())
            .or_default()
            .push(at);
    }
    index
}

/// A pin that admits this machine's Python (`requires-python = ">=3.9"`) judges that Python;
/// a pin that does not (`python=3.10` in environment.yml) judges the pinned one, because the
/// environment the project builds will have it.
pub fn judge_python(profile: &Profile, project: &Project) -> JudgedPython {
    let probed = profile
        .python
        .as_ref()
        .and_then(|python| python.version.as_deref())
        .and_then(|text| {
            Version::from_str(text)
                .ok()
                .map(|v| (text, v.only_release()))
        });
    let pinned = project.python.as_ref().and_then(|pin| {
        pin.versions
            .clone()
            .map(|versions| (pin, release_range(versions)))
    });
    match (pinned, probed) {
        (Some((pin, range)), Some((text, version))) if range.contains(&version) => JudgedPython {
            versions: Some(Ranges::singleton(version)),
            description: wording::python_within_pin(&pin.evidence, &pin.specifier, text),
        },
        (Some((pin, range)), _) => JudgedPython {
            versions: Some(range),
            description: wording::python_pinned(&pin.evidence, &pin.specifier),
        },
        (None, Some((text, version))) => JudgedPython {
            versions: Some(Ranges::singleton(version)),
            description: wording::python_machine(text),
        },
        (None, None) => JudgedPython {
            versions: None,
            description: wording::python_unknown(),
        },
    }
}

/// The Python version environment markers are evaluated with: this machine's when the project
/// runs on it, else the `X.Y` the project pins, else none.
pub fn judged_python_version(profile: &Profile, project: &Project) -> Option<String> {
    let judged = judge_python(profile, project);
    if let Some(version) = judged.versions.as_ref().and_then(|v| v.as_singleton()) {
        return Some(version.to_string());
    }
    let pin = project.python.as_ref()?;
    let text = pin
        .specifier
        .trim_start_matches("==")
        .trim_end_matches(".*");
    text.chars()
        .all(|c| c.is_ascii_digit() || c == '.')
        .then(|| text.to_string())
        .filter(|t| !t.is_empty())
}
