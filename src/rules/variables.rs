//! The values a rule's messages may quote, from the facts and what the condition matched.

use std::collections::BTreeMap;

use std::str::FromStr;

use pep440_rs::Version;
use version_ranges::Ranges;

use super::condition::{self, Trace};
use super::facts::Facts;
use super::rule::Change;
use super::template::Variables;
use super::versions::release_range;
use crate::profile::Vendor;

/// The values a message may quote: `{package.version}`, `{ram}`, `{memory.need}`, ...
pub fn variables(facts: &Facts, trace: &Trace) -> Variables {
    let profile = facts.profile;
    let mut vars = BTreeMap::new();
    let mut put = |key: &'static str, value: Option<String>| {
        if let Some(value) = value {
            vars.insert(key, value);
        }
    };
    put("each", facts.each.clone());
    put("os", profile.system.os.map(|os| os.to_string()));
    put("os_version", profile.system.os_version.clone());
    put("arch", profile.system.arch.map(|a| a.to_string()));
    put("chip", profile.system.chip.clone());
    put("ram", profile.system.memory.map(|m| m.to_string()));
    put("python.version", Some(facts.python.description.clone()));
    let nvidia = profile.gpus_of(Vendor::Nvidia).next();
    let gpu = nvidia.or(profile.gpus.first());
    put("gpu.name", gpu.and_then(|g| g.name.clone()));
    put("gpu.count", Some(profile.gpus.len().to_string()));
    put(
        "gpu.memory",
        gpu.and_then(|g| g.memory.map(|m| m.to_string())),
    );
    put("cuda", nvidia.and_then(|g| g.cuda_version.clone()));
    put("driver", nvidia.and_then(|g| g.driver_version.clone()));
    put(
        "compute_capability",
        nvidia.and_then(|g| g.compute_capability.clone()),
    );
    // A condition such as `not: { package: x }` binds no package; say so rather than
    // leaving the placeholder in the text.
    put(
        "package.version",
        Some(crate::wording::version_not_declared()),
    );
    if let Some(package) = &trace.package {
        put("package.name", Some(package.name.clone()));
        put("package.version", Some(package.version_text()));
        put(
            "package.avoid",
            package.avoid.as_ref().map(super::versions::describe),
        );
        let cuda = facts
            .declared(&package.name)
            .find_map(|decl| condition::build_cuda(decl, facts));
        put("package.cuda", cuda.map(|v| v.to_string()));
    }
    put(
        "installed.version",
        trace
            .installed
            .clone()
            .or_else(|| trace.package.as_ref().and_then(|p| p.installed.clone())),
    );
    if let Some((key, value)) = &trace.setting {
        put("setting.key", Some(key.clone()));
        put("setting.value", Some(value.to_string()));
    }
    if let Some(memory) = &facts.memory {
        put("model.name", Some(memory.model.name.clone()));
        put("memory.need", Some(memory.need.to_string()));
        put("memory.budget", memory.budget.map(|b| b.to_string()));
        put("memory.device", Some(memory.device.clone()));
        put("memory.arithmetic", Some(memory.arithmetic.clone()));
        put("memory.workload", Some(memory.workload.clone()));
    }
    vars
}

/// The command that puts the declared package into the profile's Python, with the build this
/// rule's `use_index` names (else the CUDA index the project installs it from): the installed
/// release again from that index when the declaration allows it (`--force-reinstall`: another
/// build of the same version), else what the declaration asks for. `None` when the condition
/// bound no installed package.
pub fn install_command(facts: &Facts, trace: &Trace, changes: &[Change]) -> Option<String> {
    let package = trace.package.as_ref()?;
    let installed = trace.installed.as_ref().or(package.installed.as_ref())?;
    let python = facts.profile.python.as_ref()?;
    let decl = facts.declared(&package.name).next()?;
    let release = Version::from_str(installed).ok()?.only_release();
    let allowed = decl
        .versions
        .clone()
        .map_or_else(Ranges::full, release_range)
        .contains(&release);
    let requirement = if allowed {
        format!("{}=={release}", package.name)
    } else {
        let specifier: String = package.specifier.split_whitespace().collect();
        format!("{}{specifier}", package.name)
    };
    let index = changes.iter().find_map(|change| match change {
        Change::UseIndex(url) => Some(url.as_str()),
        _ => None,
    });
    let extra_index = facts
        .project
        .indexes
        .iter()
        .find(|i| i.cuda_version().is_some())
        .map(|i| i.url.as_str())
        .filter(|_| index.is_none());
    let command = crate::index::install::Command {
        installer: python.installer,
        python: python.executable.as_deref(),
        name: &package.name,
        requirement: &requirement,
        reinstall: allowed,
        index,
        extra_index,
    };
    Some(command.line())
}
