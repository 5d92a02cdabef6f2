//! conda environment files: conda specs (`pkg=1.2=build`, `channel::pkg`, `pkg>=1`), the `pip:`
//! subsection, and the Python the environment pins.

use std::path::Path;
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use serde_saphyr::Spanned;

use super::config::{Node, parse_node};
use super::{Evidence, Installer, PackageDecl, Project, PythonPin, normalize_name, requirements};
use crate::source::{self, SourceError};

pub fn read(file: &Path, relative: &str, project: &mut Project) -> Result<(), SourceError> {
    let text = source::read_text(file)?;
    let root = parse_node(&text, file)?;
    let Some(dependencies) = root.value.get("dependencies") else {
        return Ok(());
    };
    let Node::Seq(items) = &dependencies.value else {
        return Err(SourceError::invalid(
            file,
            Some(dependencies.referenced.line()),
            "`dependencies` should be a list",
        ));
    };
    let base = file.parent().unwrap_or(Path::new("."));
    for item in items {
        let evidence = evidence_of(item, relative);
        match &item.value {
            Node::Text(spec) => read_spec(spec, evidence, project),
            Node::Number(n) => read_spec(&n.to_string(), evidence, project),
            Node::Map(_) => {
                let Some(Spanned {
                    value: Node::Seq(pip),
                    ..
                }) = item.value.get("pip")
                else {
                    continue;
                };
                for entry in pip {
                    if let Node::Text(line) = &entry.value {
                        let evidence = evidence_of(entry, relative);
                        requirements::read_entry(base, file, line, evidence, project)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn evidence_of(node: &Spanned<Node>, relative: &str) -> Evidence {
    Evidence {
        file: relative.to_string(),
        line: node.referenced.line() as u32,
    }
}

/// `pytorch-cuda=11.8`, `cudatoolkit=11.3.1=h2bc3f7f_2`, `conda-forge::numpy>=1.2`, `python=3.10`.
pub(super) fn read_spec(spec: &str, evidence: Evidence, project: &mut Project) {
    let spec = spec.split('#').next().unwrap_or("").trim();
    let spec = spec.rsplit("::").next().unwrap_or(spec);
    let split = spec
        .find(['=', '<', '>', '!', '~', ' '])
        .unwrap_or(spec.len());
    let (name, constraint) = spec.split_at(split);
    let name = normalize_name(name);
    if name.is_empty() {
        return;
    }
    let specifier = pep440_of(constraint.trim());
    let versions = (!specifier.is_empty())
        .then(|| VersionSpecifiers::from_str(&specifier).ok())
        .flatten();
    if name == "python" {
        project.python = Some(PythonPin {
            specifier: constraint.trim().trim_start_matches('=').to_string(),
            versions,
            evidence,
        });
        return;
    }
    project.declare(
        PackageDecl {
            specifier,
            versions,
            ..PackageDecl::any_version(name, Installer::Conda, spec.to_string(), evidence)
        },
        false,
    );
}

/// conda's match spec to PEP 440: `=1.2` means `1.2.*`, `=1.2=build` drops the build,
/// `1.2|1.3` is not expressible and reads as unconstrained.
fn pep440_of(constraint: &str) -> String {
    if constraint.is_empty() || constraint.contains('|') {
        return String::new();
    }
    if let Some(rest) = constraint.strip_prefix("==") {
        return format!("=={}", rest.split('=').next().unwrap_or(rest));
    }
    if let Some(rest) = constraint.strip_prefix('=') {
        let version = rest
            .split('=')
            .next()
            .unwrap_or(rest)
            .trim_end_matches(".*");
        return format!("=={version}.*");
    }
    if constraint.starts_with(['<', '>', '!', '~']) {
        return constraint.replace(' ', "");
    }
    // `pkg 1.2` (space-separated) is conda's `=1.2`.
    format!("=={}.*", constraint.trim_end_matches(".*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conda_specs_become_pep_440() {
        assert_eq!(pep440_of("=11.8"), "==11.8.*");
        assert_eq!(pep440_of("=11.3.1=h2bc3f7f_2"), "==11.3.1.*");
        assert_eq!(pep440_of("==2.1.0"), "==2.1.0");
        assert_eq!(pep440_of(">=1.20, <2"), ">=1.20,<2");
        assert_eq!(pep440_of("=3.10.*"), "==3.10.*");
        assert_eq!(pep440_of("1.1|1.2"), "");
    }

    #[test]
    fn channels_go_and_python_is_a_pin() {
        let mut project = Project::default();
        let evidence = Evidence {
            file: "environment.yml".into(),
            line: 4,
        };
        read_spec("pytorch::pytorch-cuda=11.8", evidence.clone(), &mut project);
        read_spec("python=3.10", evidence, &mut project);
        assert_eq!(project.packages[0].name, "pytorch-cuda");
        assert_eq!(project.packages[0].specifier, "==11.8.*");
        assert_eq!(project.python.as_ref().unwrap().specifier, "3.10");
    }
}
