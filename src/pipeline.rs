//! The pipeline of DESIGN.md in one call: scan the project for a machine, apply its markers,
//! judge it. `check`, `fix` and fix's own verification all go through here.

use std::collections::HashMap;
use std::path::Path;

use crate::assessment::{Assessment, JudgedMachine};
use crate::config::{self, Config};
use crate::profile::Profile;
use crate::project::{self, Platform, Project, ScanOptions};
use crate::rules::{self, Catalogue};
use crate::source::SourceError;

/// Scans `path` as `profile`'s machine would install it and judges it.
pub fn judge(
    path: &Path,
    profile: &Profile,
    notes: &[String],
    catalogue: &Catalogue,
) -> Result<Assessment, SourceError> {
    let project = scan(path, profile, catalogue, false)?;
    Ok(judge_scanned(project, profile, notes, catalogue))
}

/// Scans `path` as `profile`'s machine would install it (its variant files), reading the
/// settings the catalogue's rules judge. `originals` reads the files `fix --write` made for a
/// machine from their originals, as `fix` does ([`ScanOptions::originals`]).
pub fn scan(
    path: &Path,
    profile: &Profile,
    catalogue: &Catalogue,
    originals: bool,
) -> Result<Project, SourceError> {
    let keys = catalogue.setting_keys();
    let options = ScanOptions {
        profile: Some(profile),
        settings: &keys,
        originals,
    };
    project::scan_with(path, &options)
}

/// Judges an already scanned project (a fleet scans once per kind of machine).
pub fn judge_scanned(
    mut project: Project,
    profile: &Profile,
    notes: &[String],
    catalogue: &Catalogue,
) -> Assessment {
    project.notes.extend(notes.iter().cloned());
    rules::judge(project, profile, catalogue)
}

/// A machine to judge: a saved profile, or this machine as the probe saw it.
#[derive(Clone, Debug)]
pub struct MachineInput {
    /// The profile's file stem, or "this machine".
    pub name: String,
    /// The profile file it was loaded from, if any.
    pub file: Option<String>,
    /// The machine.
    pub profile: Profile,
    /// What the probe could not learn, for the report's notes.
    pub notes: Vec<String>,
}

impl MachineInput {
    /// A saved profile, named by its file stem.
    pub fn load(file: &Path) -> Result<MachineInput, SourceError> {
        let profile = Profile::load(file)?;
        let name = file.file_stem().map_or_else(
            || file.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        Ok(MachineInput {
            name,
            file: Some(file.display().to_string()),
            profile,
            notes: Vec::new(),
        })
    }
}

/// Judges the project at `path` on every machine. Which variant files a machine reads depends
/// only on its OS and platform preferences, so a fleet scans the project once per kind of
/// machine, not once per machine.
pub fn judge_fleet(
    path: &Path,
    machines: Vec<MachineInput>,
    catalogue: &Catalogue,
) -> Result<Vec<JudgedMachine>, SourceError> {
    let mut scans: HashMap<(Option<&'static str>, Vec<Option<Platform>>), Project> = HashMap::new();
    let keys = catalogue.setting_keys();
    machines
        .into_iter()
        .map(|machine| {
            let key = (
                project::os_suffix(&machine.profile),
                project::variant_preferences(&machine.profile),
            );
            let project = match scans.get(&key) {
                Some(scanned) => scanned.clone(),
                None => {
                    let options = ScanOptions {
                        profile: Some(&machine.profile),
                        settings: &keys,
                        originals: false,
                    };
                    let scanned = project::scan_with(path, &options)?;
                    scans.insert(key, scanned.clone());
                    scanned
                }
            };
            let report = judge_scanned(project, &machine.profile, &machine.notes, catalogue);
            Ok(JudgedMachine {
                name: machine.name,
                file: machine.file,
                report,
            })
        })
        .collect()
}

/// Applies the project config's `ignore` to every machine's report, after judging: ignored
/// findings leave the components and the verdict and are listed under `suppressed`.
pub fn suppress(judged: &mut [JudgedMachine], config: &Config, catalogue: &Catalogue) {
    let recommends = |rule: &str| {
        catalogue
            .rule(rule)
            .and_then(|loaded| loaded.rule())
            .map(|rule| rule.recommend.clone())
            .unwrap_or_default()
    };
    let fold = config::Fold {
        summary: rules::summary,
        verdict: rules::verdict,
    };
    for machine in judged {
        config::suppress(&mut machine.report, config, recommends, &fold);
    }
}
