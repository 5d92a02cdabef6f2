//! The values a rule's messages may quote, from the facts and what the condition matched.

use std::collections::BTreeMap;

use super::condition::{self, Trace};
use super::facts::Facts;
use super::template::Variables;
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
