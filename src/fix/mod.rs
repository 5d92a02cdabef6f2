//! `mlcompat fix`: the edits that make the project run best on the target machine, written as
//! new files for it (`requirements-macos.txt`, `environment-macos.yml`, `config-macos.yaml`)
//! beside the originals. The edits are solved for ([`solve`]): each component's alternatives
//! are tried against the project judged again, and the best set wins. Lines are edited in place.

mod edit;
mod indexes;
mod solve;

pub use solve::{Solved, solve};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::assessment::Status;
use crate::assessment::{Assessment, ChangeAt};
use crate::pipeline;
use crate::profile::Profile;
use crate::publish;
use crate::rules::Catalogue;
use crate::source::{self, SourceError};

use edit::Lines;

/// The files a fix writes and what it could not do.
#[derive(Clone, Debug, Default)]
pub struct FixPlan {
    /// The fixed files, in path order.
    pub files: Vec<FixedFile>,
    /// The edits, one per line (an index line inserted before a requirement is its own), in
    /// file and line order.
    pub edits: Vec<ChangeAt>,
    /// Rules whose failing or warning findings are gone (or milder) once the edits are in
    /// place: the problems this fix claims to address.
    pub addressed: BTreeSet<String>,
    /// Problems the edits leave, and edits that could not be applied, with why.
    pub unfixable: Vec<String>,
    /// The project files the report was made from.
    pub read: Vec<String>,
}

/// One file the fix writes: its original, the fixed copy's name, and both texts.
#[derive(Clone, Debug)]
pub struct FixedFile {
    /// The original, relative to the project folder.
    pub original: String,
    /// The new file, relative to the project folder.
    pub target: String,
    /// The original's text.
    pub before: String,
    /// The fixed text, includes renamed to the fixed files.
    pub after: String,
    /// The edits alone, without includes renamed: the file as it would read under its
    /// original name, which is how the fix is verified.
    pub in_place: String,
}

/// The suffix for a machine: `macos`, `linux`, `windows`.
/// `check` on the folder reads these files in place of their originals on a machine with that
/// OS ([`crate::project::os_suffix`]).
pub fn default_suffix(profile: &Profile) -> String {
    crate::project::os_suffix(profile)
        .unwrap_or("fixed")
        .to_string()
}

/// `requirements.txt` + `macos` → `requirements-macos.txt`, in the same folder.
pub fn target_name(original: &str, suffix: &str) -> String {
    let (folder, name) = match original.rsplit_once('/') {
        Some((folder, name)) => (format!("{folder}/"), name),
        None => (String::new(), original),
    };
    let renamed = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => format!("{stem}-{suffix}.{extension}"),
        _ => format!("{name}-{suffix}"),
    };
    format!("{folder}{renamed}")
}

/// Works out every file's text with `edits` (from [`solve`]) applied; reads the originals,
/// writes nothing. [`conclude`] then says what the edits address, once the fixed project is
/// judged.
pub fn plan(
    root: &Path,
    assessment: &Assessment,
    edits: &[ChangeAt],
    suffix: &str,
) -> Result<FixPlan, SourceError> {
    let mut by_file: BTreeMap<&str, Vec<&ChangeAt>> = BTreeMap::new();
    for change in edits {
        by_file.entry(&change.file).or_default().push(change);
    }
    let mut plan = FixPlan {
        read: assessment.files.clone(),
        ..FixPlan::default()
    };
    let mut edited: BTreeMap<String, (String, Lines)> = BTreeMap::new();
    for (file, changes) in by_file {
        let text = source::read_text(&root.join(file))?;
        let mut lines = Lines::new(&text, file.ends_with(".json"));
        for change in changes {
            match lines.apply(change.line, &change.edit) {
                Ok(()) => plan.edits.push(change.clone()),
                Err(why) => plan.unfixable.push(format!(
                    "{}:{}: {} ({why})",
                    change.file, change.line, change.change
                )),
            }
        }
        edited.insert(file.to_string(), (text, lines));
    }
    let in_place: BTreeMap<String, String> = edited
        .iter()
        .map(|(file, (_, lines))| (file.clone(), lines.render()))
        .collect();
    follow_renames(root, assessment, suffix, &mut edited)?;
    for (original, (before, lines)) in edited {
        let after = lines.render();
        if after != before {
            plan.files.push(FixedFile {
                target: target_name(&original, suffix),
                in_place: in_place
                    .get(&original)
                    .cloned()
                    .unwrap_or_else(|| before.clone()),
                original,
                before,
                after,
            });
        }
    }
    Ok(plan)
}

/// Fills in what the fix addresses and what it leaves, from the report before the edits and
/// the one predicted after them (`None` when nothing changes).
pub fn conclude(plan: &mut FixPlan, before: &Assessment, after: Option<&Assessment>) {
    let remaining = after.unwrap_or(before);
    plan.addressed = before
        .findings
        .iter()
        .filter(|f| f.status >= Status::Warn)
        .filter(|f| {
            !remaining
                .findings
                .iter()
                .any(|g| g.rule == f.rule && g.component == f.component && g.status >= f.status)
        })
        .map(|f| f.rule.clone())
        .collect();
    for finding in remaining
        .findings
        .iter()
        .filter(|f| f.status >= Status::Warn)
    {
        plan.unfixable.push(format!(
            "{}: {} (no edit can fix this; see the options in `mlcompat check`)",
            finding.component, finding.title
        ));
    }
}

/// A file that includes a fixed file (`-r requirements.txt`) must include the fixed one, so it
/// gets a fixed copy too, even when nothing else in it changes.
fn follow_renames(
    root: &Path,
    assessment: &Assessment,
    suffix: &str,
    edited: &mut BTreeMap<String, (String, Lines)>,
) -> Result<(), SourceError> {
    let renamed: Vec<(String, String)> = edited
        .keys()
        .map(|original| {
            (
                base(original).to_string(),
                base(&target_name(original, suffix)).to_string(),
            )
        })
        .collect();
    for file in &assessment.files {
        let entry = match edited.get_mut(file) {
            Some(entry) => entry,
            None => {
                let Ok(text) = source::read_text(&root.join(file)) else {
                    continue;
                };
                let lines = Lines::new(&text, file.ends_with(".json"));
                edited.entry(file.clone()).or_insert((text, lines))
            }
        };
        for (from, to) in &renamed {
            if base(file) != from.as_str() {
                entry.1.rename_reference(from, to);
            }
        }
    }
    Ok(())
}

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A unified diff of one file, original → fixed.
pub fn diff(file: &FixedFile) -> String {
    similar::TextDiff::from_lines(&file.before, &file.after)
        .unified_diff()
        .context_radius(2)
        .header(&file.original, &file.target)
        .to_string()
}

/// Writes the fixed files beside their originals, all or none ([`publish::all_or_none`]).
/// Refuses to overwrite an original, and, unless `force`, any name that exists (a dangling link
/// too): checked first for a clear message, and again by the publication itself, so a second
/// run racing this one fails instead of silently replacing its files.
pub fn write(root: &Path, plan: &FixPlan, force: bool) -> Result<Vec<PathBuf>, SourceError> {
    let originals: BTreeSet<&str> = plan.files.iter().map(|f| f.original.as_str()).collect();
    for file in &plan.files {
        let target = root.join(&file.target);
        if originals.contains(file.target.as_str()) {
            return Err(SourceError::new(
                &target,
                "is an original the fix reads; choose another --suffix",
            ));
        }
        if std::fs::symlink_metadata(&target).is_ok() && !force {
            return Err(SourceError::new(
                &target,
                "already exists; use --force to replace it",
            ));
        }
    }
    let files: Vec<publish::NewFile<'_>> = plan
        .files
        .iter()
        .map(|file| publish::NewFile {
            path: root.join(&file.target),
            text: &file.after,
        })
        .collect();
    publish::all_or_none(&files, force)?;
    Ok(files.into_iter().map(|file| file.path).collect())
}

/// Judges the project as it would be after the fix: in a private temporary folder, the files it
/// read, each fixed one in place of its original under the original's name (so a fixed
/// `pyproject.toml` is read as one).
pub fn verify(
    root: &Path,
    plan: &FixPlan,
    profile: &Profile,
    catalogue: &Catalogue,
) -> Result<Assessment, SourceError> {
    let folder = std::env::temp_dir().join(format!(
        "mlcompat-fix-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let result = copy_fixed(root, plan, &folder)
        .and_then(|()| pipeline::judge(&folder, profile, &[], catalogue));
    let _ = std::fs::remove_dir_all(&folder);
    result
}

fn copy_fixed(root: &Path, plan: &FixPlan, folder: &Path) -> Result<(), SourceError> {
    let fixed: BTreeMap<&str, &FixedFile> = plan
        .files
        .iter()
        .map(|f| (f.original.as_str(), f))
        .collect();
    for file in &plan.read {
        let text = match fixed.get(file.as_str()) {
            Some(fixed) => fixed.in_place.clone(),
            None => source::read_text(&root.join(file))?,
        };
        let target = folder.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SourceError::new(parent, e.to_string()))?;
        }
        std::fs::write(&target, text).map_err(|e| SourceError::new(&target, e.to_string()))?;
    }
    Ok(())
}

/// How to use a fixed file.
pub fn how_to_use(target: &str) -> String {
    let name = base(target);
    if name.starts_with("requirements") {
        format!("pip install -r {target}")
    } else if name.starts_with("environment") || name.starts_with("conda") {
        format!("conda env create -f {target}")
    } else if name == "pyproject.toml" || name.starts_with("pyproject") {
        format!("copy {target} over pyproject.toml, then pip install .")
    } else {
        format!("point your training command at {target}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_named_for_the_machine() {
        assert_eq!(
            target_name("requirements.txt", "macos"),
            "requirements-macos.txt"
        );
        assert_eq!(
            target_name("configs/qlora.yaml", "macos"),
            "configs/qlora-macos.yaml"
        );
        assert_eq!(target_name("Makefile", "linux"), "Makefile-linux");
        assert_eq!(
            target_name(".python-version", "macos"),
            ".python-version-macos"
        );
    }

    #[test]
    fn usage_follows_the_kind_of_file() {
        assert_eq!(
            how_to_use("requirements-macos.txt"),
            "pip install -r requirements-macos.txt"
        );
        assert_eq!(
            how_to_use("environment-macos.yml"),
            "conda env create -f environment-macos.yml"
        );
        assert!(how_to_use("config-macos.yaml").contains("training command"));
    }
}
