//! What a project declares: packages, training settings, models and the Python it pins, each
//! with the `file:line` it came from. Reading a project never executes anything from it.

mod budget;
mod conda;
mod config;
mod frameworks;
mod launch;
mod model;
mod paths;
mod pyproject;
mod python_code;
mod requirements;
mod scan;
mod setup;
mod variants;

use std::fmt;
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use pep508_rs::MarkerTree;
use serde::Serialize;

pub use crate::assessment::Evidence;
pub use crate::names::normalize as normalize_name;
pub use budget::{MAX_FILES, MAX_TOTAL_BYTES};
pub use model::params_from_name;
pub(crate) use requirements::package as package_from_requirement;
pub use scan::{MarkerTarget, ScanOptions, scan, scan_for, scan_with};
pub use variants::{
    OS_SUFFIXES, Platform, Role, classify as classify_requirements_file, os_suffix,
    preferences as variant_preferences,
};

/// Which training settings the config reader collects. The rules decide: a rule about a key
/// makes the reader collect that key, at any nesting, so a rule author never edits Rust to add a
/// setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SettingKeys {
    /// Every scalar key, for tools that read a project without judging it.
    #[default]
    All,
    /// Only these keys.
    Only(std::collections::BTreeSet<String>),
}

impl SettingKeys {
    /// Whether the reader collects `key`.
    pub fn contains(&self, key: &str) -> bool {
        match self {
            SettingKeys::All => true,
            SettingKeys::Only(keys) => keys.contains(key),
        }
    }
}

/// Everything read from a project.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Project {
    /// The manifest and config files that were read, relative to the root.
    pub files: Vec<String>,
    /// Every declared package, with where it is declared.
    pub packages: Vec<PackageDecl>,
    /// Training settings from configs.
    pub settings: Vec<Setting>,
    /// Models the configs name.
    pub models: Vec<ModelRef>,
    /// The Python version the project pins, if it pins one.
    pub python: Option<PythonPin>,
    /// The project's own distribution, when its pyproject.toml, setup.cfg or setup.py names one:
    /// a checkout of a package is judged as `pip install NAME` from it would be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
    /// Package indexes the project installs from (`--index-url`, `--extra-index-url`, uv sources).
    pub indexes: Vec<PackageIndex>,
    /// Version limits from `-c` constraints files: they narrow the packages declared elsewhere
    /// (already applied to `packages`) and declare nothing themselves.
    pub constraints: Vec<PackageDecl>,
    /// Things the reader noticed and skipped, for the report's notes.
    pub notes: Vec<String>,
    /// The config file PATH named, relative to the project root found above it, when `check`
    /// was given one recipe: that recipe is judged with the project's manifests, and the
    /// project's other recipes are left aside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
    /// Requirements files already read, so one reached twice (directly and through `-r`) counts once.
    #[serde(skip)]
    pub(crate) read_requirements: std::collections::BTreeSet<std::path::PathBuf>,
    /// Modules the configs name (Hydra's `_target_: flash_attn.modules.mha.MHA`), judged with
    /// the code's imports once every manifest is read.
    #[serde(skip)]
    pub(crate) config_imports: Vec<(String, Evidence)>,
    /// The config files each config inherits from (Hydra `defaults:`, `_base_:`), relative to
    /// the root and only inside the project: a recipe is judged with what it inherits.
    #[serde(skip)]
    pub(crate) config_bases: std::collections::BTreeMap<String, Vec<String>>,
    /// Whether [`MAX_PACKAGES`] was reached (and noted).
    #[serde(skip)]
    pub(crate) capped: bool,
    /// What is left of the bytes and files one run may read.
    #[serde(skip)]
    pub(crate) budget: budget::Budget,
}

/// How many packages (and as many constraints) one project may declare. Real projects declare
/// tens to a few hundred; a 4 MiB requirements file could declare 400,000, which would take
/// seconds and hundreds of megabytes to judge, so the rest is left with a note.
pub const MAX_PACKAGES: usize = 10_000;

/// How a package was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Installer {
    /// pip: requirements files, pyproject.toml, setup files, conda's `pip:` list.
    Pip,
    /// conda: environment files.
    Conda,
}

/// One declared package: its name, versions, markers and where it is declared.
#[derive(Clone, Debug, Serialize)]
pub struct PackageDecl {
    /// PEP 503 normalized name.
    pub name: String,
    /// The version constraint as written (`==0.41.1`, `>=2.0,<3`), empty when unconstrained.
    pub specifier: String,
    /// The parsed constraint; `None` means any version.
    #[serde(skip)]
    pub versions: Option<VersionSpecifiers>,
    /// The environment marker (`; sys_platform == "linux"`), applied once the target is known.
    #[serde(skip)]
    pub marker: Option<MarkerTree>,
    /// Which installer reads the declaration.
    pub installer: Installer,
    /// A direct reference (`pkg @ https://…whl`, `git+https://…`), as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The extras asked of the package (`transformers[torch]` → `torch`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// The optional-dependency extra (PEP 621, Poetry) or dependency group this package is
    /// declared in; `None` for a package every install gets. Extras are read because people
    /// install them (`pip install .[gpu]`), and marked so a report can say "only with [gpu]".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
    /// Installed in editable mode (`-e`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub editable: bool,
    /// The platform tag of a wheel URL (`linux_x86_64`, `macosx_11_0_arm64`, `win_amd64`,
    /// `any`): the machine the wheel installs on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel_platform: Option<String>,
    /// The CUDA version the declared build is for, from the local version it pins or its wheel
    /// URL (`+cu124` → `12.4`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel_cuda: Option<String>,
    /// Not declared by any manifest: the project's code imports it (`import flash_attn` →
    /// `flash-attn`), and `evidence` is the import. Judged like a declared package; the report
    /// says it is undeclared, and no manifest edit is pointed at the import line.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
    /// The declaring line as written, for fixes that edit it.
    pub raw: String,
    /// Where the index is named.
    pub evidence: Evidence,
    /// Not declared by the project: the declared package whose `Requires-Dist` brings it in, with
    /// where that one is declared (`peft (requirements.txt:3)`). Rules judge it like a declared
    /// package (torch pulled in by peft still meets the driver), but no edit is pointed at it:
    /// its `evidence` is the line of the package that pulls it in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implied_by: Option<String>,
    /// The project's own distribution ([`Distribution`]), built from the checkout: rules about
    /// the package judge it; the package index's wheels and requirements (of released builds)
    /// do not, and no edit is pointed at its name.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub own: bool,
}

impl PackageDecl {
    /// A declaration of `name` (normalized already) with any version, no marker, URL or extras,
    /// read by `installer` from `raw` at `evidence`; readers set what their line says besides.
    pub fn any_version(
        name: String,
        installer: Installer,
        raw: String,
        evidence: Evidence,
    ) -> PackageDecl {
        PackageDecl {
            name,
            specifier: String::new(),
            versions: None,
            marker: None,
            installer,
            url: None,
            extras: Vec::new(),
            extra: None,
            editable: false,
            wheel_platform: None,
            wheel_cuda: None,
            imported: false,
            raw,
            evidence,
            implied_by: None,
            own: false,
        }
    }

    /// The requirement as the file writes it: name and constraint, without marker, hashes or
    /// comment.
    pub fn written(&self) -> String {
        let raw = self.raw.trim();
        let end = raw
            .find([';', '#'])
            .or_else(|| raw.find(" --"))
            .unwrap_or(raw.len());
        raw[..end].trim().to_string()
    }
}

/// The distribution a project builds (`[project] name`, setup.cfg `[metadata] name`, setup.py's
/// literal `name=`), with where its name is written.
#[derive(Clone, Debug, Serialize)]
pub struct Distribution {
    /// PEP 503 normalized name.
    pub name: String,
    /// Its version, when the file writes one (`dynamic` versions, from git tags or code, are
    /// not known before a build).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the name is written.
    pub evidence: Evidence,
}

impl Distribution {
    /// The distribution as a declaration the rules judge: what `pip install NAME` from the
    /// checkout installs (its own version, when known), marked [`PackageDecl::own`] so that no
    /// edit and no package-index fact is pointed at it.
    pub fn as_declaration(&self) -> PackageDecl {
        let specifier = self
            .version
            .as_ref()
            .map(|v| format!("=={v}"))
            .unwrap_or_default();
        PackageDecl {
            versions: VersionSpecifiers::from_str(&specifier).ok(),
            own: true,
            specifier: specifier.clone(),
            ..PackageDecl::any_version(
                self.name.clone(),
                Installer::Pip,
                format!("{}{specifier}", self.name),
                self.evidence.clone(),
            )
        }
    }
}

/// A package index a project installs from.
#[derive(Clone, Debug, Serialize)]
pub struct PackageIndex {
    /// The index's URL.
    pub url: String,
    /// Where it is named.
    pub evidence: Evidence,
}

impl PackageIndex {
    /// The CUDA version a PyTorch-style index serves (`…/whl/cu121` → `12.1`, `cu130` → `13.0`).
    pub fn cuda_version(&self) -> Option<String> {
        self.url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .and_then(cuda_tag)
    }
}

/// `cu121` → `12.1`, `cu118` → `11.8`, `cu130` → `13.0`: PyTorch's spelling of a CUDA version
/// in index paths and wheel local versions. Anything else is `None`.
pub fn cuda_tag(tag: &str) -> Option<String> {
    tag.strip_prefix("cu")
        .filter(|digits| {
            (3..=4).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
        })
        .map(|digits| {
            format!(
                "{}.{}",
                &digits[..digits.len() - 1],
                &digits[digits.len() - 1..]
            )
        })
}

/// The CUDA version in a version's local part: `2.1.2+cu121` → `12.1`, flash-attn's
/// `2.5.8+cu122torch2.3cxx11abiFALSE` → `12.2`. `None` for a version without one.
pub fn local_cuda(version: &str) -> Option<String> {
    let (_, local) = version.split_once('+')?;
    let digits: String = local
        .strip_prefix("cu")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    cuda_tag(&format!("cu{digits}"))
}

/// A training setting such as `load_in_4bit: true`, found at any depth of a config.
#[derive(Clone, Debug, Serialize)]
pub struct Setting {
    /// The key, as written.
    pub key: String,
    /// Its value.
    pub value: SettingValue,
    /// Where it is set.
    pub evidence: Evidence,
    /// The key as the file writes it, where that is not `key`: a launch script's option
    /// (`--nnodes`, `--num_machines`, `--nproc-per-node`), accelerate's `num_machines` for
    /// `num_nodes`. An edit of the setting edits this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
}

/// A setting's value as the config writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// Anything else, as text.
    Text(String),
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Bool(b) => write!(f, "{b}"),
            SettingValue::Number(n) => write!(f, "{n}"),
            SettingValue::Text(t) => f.write_str(t),
        }
    }
}

/// A model the project trains or runs, with its size in parameters when it can be told.
#[derive(Clone, Debug, Serialize)]
pub struct ModelRef {
    /// The model's name or path, as written.
    pub name: String,
    /// Parameters, from the name (`7b`, `8x7B`) or the config; `None` when unknown.
    pub params: Option<f64>,
    /// Where it is named.
    pub evidence: Evidence,
}

/// The Python version the project pins, and where.
#[derive(Clone, Debug, Serialize)]
pub struct PythonPin {
    /// As written: `3.10`, `>=3.9,<3.12`.
    pub specifier: String,
    /// The pinned versions; `None` when the pin does not parse.
    #[serde(skip)]
    pub versions: Option<VersionSpecifiers>,
    /// Where it is pinned.
    pub evidence: Evidence,
}

impl Project {
    /// A project from declarations alone, as a rule's test case writes it. Each kind of fact
    /// gets a file of its own so evidence reads like a real project's.
    pub fn from_declarations(
        requirements: &[String],
        conda: &[String],
        settings: &[(String, SettingValue)],
        model: Option<&str>,
        python: Option<&str>,
    ) -> Project {
        let mut project = Project::default();
        let at = |file: &str, line: usize| Evidence {
            file: file.to_string(),
            line: line as u32 + 1,
        };
        for (i, line) in requirements.iter().enumerate() {
            // Index options, as a requirements file writes them, so rule tests can name the
            // index a CUDA build comes from.
            if let Some(url) = ["--index-url", "--extra-index-url", "-i"]
                .iter()
                .find_map(|option| line.trim().strip_prefix(option))
                .map(|rest| rest.trim_start_matches('=').trim())
            {
                project.indexes.push(PackageIndex {
                    url: url.to_string(),
                    evidence: at("requirements.txt", i),
                });
                continue;
            }
            if let Some(package) = requirements::parse_requirement(line, at("requirements.txt", i))
            {
                project.packages.push(package);
            }
        }
        for (i, spec) in conda.iter().enumerate() {
            conda::read_spec(spec, at("environment.yml", i), &mut project);
        }
        for (i, (key, value)) in settings.iter().enumerate() {
            project.settings.push(Setting {
                key: key.clone(),
                value: value.clone(),
                evidence: at("config.yaml", i),
                written: None,
            });
        }
        if let Some(name) = model {
            project.models.push(ModelRef {
                name: name.to_string(),
                params: params_from_name(name),
                evidence: at("config.yaml", settings.len()),
            });
        }
        if let Some(python) = python {
            conda::read_spec(
                &format!("python={python}"),
                at("environment.yml", conda.len()),
                &mut project,
            );
        }
        project
    }

    /// Adds a declared package (or, with `constraint`, a `-c` limit), up to [`MAX_PACKAGES`].
    pub(crate) fn declare(&mut self, package: PackageDecl, constraint: bool) {
        let list = if constraint {
            &mut self.constraints
        } else {
            &mut self.packages
        };
        if list.len() < MAX_PACKAGES {
            list.push(package);
        } else if !self.capped {
            self.capped = true;
            self.notes.push(format!(
                "{}: stopped reading packages after {MAX_PACKAGES}; the rest were not judged",
                package.evidence
            ));
        }
    }

    /// The declarations of a package, by its normalized name.
    pub fn packages_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PackageDecl> {
        self.packages.iter().filter(move |p| p.name == name)
    }

    /// Drops the packages whose environment marker excludes the target machine, noting each.
    pub fn apply_markers(&mut self, target: &MarkerTarget) {
        let Some(environment) = target.environment() else {
            return;
        };
        let mut notes = Vec::new();
        self.packages.retain(|package| {
            let keep = package
                .marker
                .as_ref()
                .is_none_or(|marker| marker.evaluate(environment, &[]));
            if !keep {
                notes.push(format!(
                    "{}: {} is not for this machine (its marker excludes it)",
                    package.evidence, package.name
                ));
            }
            keep
        });
        self.notes.extend(notes);
    }

    /// Narrows each pip package by the `-c` constraints on its name, as pip does: the allowed
    /// versions are those both the requirement and the constraint allow. A constraint on a
    /// package nobody declares installs nothing and is left aside.
    pub(crate) fn apply_constraints(&mut self) {
        for constraint in &self.constraints {
            let Some(limit) = &constraint.versions else {
                continue;
            };
            for package in self
                .packages
                .iter_mut()
                .filter(|p| p.name == constraint.name && p.installer == Installer::Pip)
            {
                let joined = if package.specifier.is_empty() {
                    limit.to_string()
                } else {
                    format!("{},{}", package.specifier, limit)
                };
                package.versions = pep440_rs::VersionSpecifiers::from_str(&joined).ok();
                package.specifier = joined;
                self.notes.push(format!(
                    "{}: {} limited to {} by the constraint at {}",
                    package.evidence, package.name, package.specifier, constraint.evidence
                ));
            }
        }
    }

    /// The project as one config file sees it: the settings of `file` when it has any (else all
    /// settings), with every package. The memory model judges each model with its own recipe.
    pub fn scoped_to(&self, file: &str) -> Project {
        let mut scoped = self.clone();
        if self.settings.iter().any(|s| s.evidence.file == file) {
            // The file, then what it inherits (nearest first); a key the file (or a nearer
            // base) sets hides the same key further up.
            let chain = self.inheritance(file);
            let rank = |f: &str| chain.iter().position(|c| c == f);
            let mut nearest: std::collections::HashMap<&str, usize> = Default::default();
            for setting in &self.settings {
                if let Some(at) = rank(&setting.evidence.file) {
                    let best = nearest.entry(setting.key.as_str()).or_insert(at);
                    *best = (*best).min(at);
                }
            }
            scoped.settings.retain(|s| {
                rank(&s.evidence.file).is_some_and(|at| nearest.get(s.key.as_str()) == Some(&at))
            });
        }
        scoped
    }

    /// `file` and the project's configs it inherits from, nearest first, each once.
    pub(crate) fn inheritance(&self, file: &str) -> Vec<String> {
        const MAX_BASES: usize = 64;
        let mut chain = vec![file.to_string()];
        let mut at = 0;
        while at < chain.len() && chain.len() < MAX_BASES {
            for base in self.config_bases.get(&chain[at]).into_iter().flatten() {
                if !chain.contains(base) {
                    chain.push(base.clone());
                }
            }
            at += 1;
        }
        chain
    }

    /// The project without the settings and models of `files` (other recipes).
    pub fn without_files(&self, files: &[&str]) -> Project {
        let mut kept = self.clone();
        kept.settings
            .retain(|s| !files.contains(&s.evidence.file.as_str()));
        kept.models
            .retain(|m| !files.contains(&m.evidence.file.as_str()));
        kept
    }

    /// Whether another config of the project inherits from `file`.
    pub fn is_base(&self, file: &str) -> bool {
        self.config_bases
            .values()
            .any(|bases| bases.iter().any(|b| b == file))
    }

    /// Every value of a setting, wherever the configs set it.
    pub fn setting(&self, key: &str) -> impl Iterator<Item = &Setting> {
        self.settings.iter().filter(move |s| s.key == key)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cuda_indexes_name_their_version() {
        let index = |url: &str| super::PackageIndex {
            url: url.to_string(),
            evidence: super::Evidence {
                file: "r.txt".into(),
                line: 1,
            },
        };
        assert_eq!(
            index("https://download.pytorch.org/whl/cu121")
                .cuda_version()
                .as_deref(),
            Some("12.1")
        );
        assert_eq!(
            index("https://download.pytorch.org/whl/cu130/")
                .cuda_version()
                .as_deref(),
            Some("13.0")
        );
        assert_eq!(
            index("https://download.pytorch.org/whl/cpu").cuda_version(),
            None
        );
        assert_eq!(index("https://pypi.org/simple").cuda_version(), None);
    }
}
