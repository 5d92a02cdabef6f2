//! The pipeline of DESIGN.md in one call: scan the project for a machine, apply its markers,
//! judge it. `check`, `fix` and fix's own verification all go through here.

use std::path::Path;

use crate::assessment::Assessment;
use crate::profile::Profile;
use crate::project::{self, MarkerTarget, Project};
use crate::rules::{self, Catalogue};
use crate::source::SourceError;

/// Scans `path` as `profile`'s machine would install it and judges it.
pub fn judge(
    path: &Path,
    profile: &Profile,
    notes: &[String],
    catalogue: &Catalogue,
) -> Result<Assessment, SourceError> {
    let project = project::scan_for(path, Some(profile))?;
    Ok(judge_scanned(project, profile, notes, catalogue))
}

/// Judges an already scanned project (a fleet scans once per kind of machine).
pub fn judge_scanned(
    mut project: Project,
    profile: &Profile,
    notes: &[String],
    catalogue: &Catalogue,
) -> Assessment {
    let python = rules::judged_python_version(profile, &project);
    project.apply_markers(&MarkerTarget::for_profile(profile, python.as_deref()));
    project.notes.extend(notes.iter().cloned());
    rules::assess(profile, &project, catalogue)
}
