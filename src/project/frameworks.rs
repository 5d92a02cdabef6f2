//! What training frameworks' configs say about the hardware a run needs, read from the parsed
//! YAML/JSON of every config (after the generic setting reader of `config.rs`), each with its
//! line:
//!
//! - Lightning (`trainer: {accelerator, devices, precision, num_nodes}`) and litgpt (the same
//!   keys at the top level): `accelerator`, `devices` (a count: `8`, `[0, 1]`, `"0,1"`; `auto`
//!   and `-1` mean "all" and stay unknown), `precision`, `num_nodes`;
//! - accelerate's config: `num_machines` → `num_nodes`;
//! - torchtune, detectron2/yacs and many recipe configs: `device: cuda` / `MODEL.DEVICE: cuda`
//!   → `device` (or `DEVICE`, as written, so a fix can edit the line);
//! - DeepSpeed: `zero_optimization.offload_optimizer.device` / `offload_param.device` →
//!   `offload_optimizer` / `offload_param` (`cpu`, `nvme`);
//! - Hydra's `_target_: flash_attn.modules.mha.MHA` names a module the run imports: a
//!   dependency, judged like an import in the code (see `python_code.rs`) when the import map
//!   knows the module (a `_target_` also names the project's own code: `src.models.…`).
//!
//! An interpolation (`${trainer.devices}`, `${oc.env:NGPUS}`) is never evaluated: the value
//! stays unknown and yields nothing.

use serde_saphyr::Spanned;

use super::config::Node;
use super::{Evidence, Project, Setting, SettingValue};

/// How deep into a config's nesting framework keys are looked for.
const MAX_NESTING: usize = 64;

/// The device names a `device:` key may hold; any other value is not a device.
const DEVICE_NAMES: [&str; 5] = ["cuda", "cpu", "mps", "xpu", "auto"];

pub(super) fn collect(node: &Spanned<Node>, file: &str, project: &mut Project) {
    walk(node, &[], file, project, 0);
    let bases = bases(&node.value, file);
    if !bases.is_empty() {
        project.config_bases.insert(file.to_string(), bases);
    }
}

/// The configs `file` inherits from, as project-relative paths: Hydra's `defaults:` list
/// (`- base` → `base.yaml`, `- model: llama` → `model/llama.yaml`, beside the file; `_self_`,
/// `null` and interpolations skipped) and mmengine/detectron2's `_base_:` (a path or a list of
/// them, relative to the file). A path that leaves the project folder is not followed.
fn bases(node: &Node, file: &str) -> Vec<String> {
    const MAX: usize = 64;
    let folder = file.rsplit_once('/').map_or("", |(folder, _)| folder);
    let mut names: Vec<String> = Vec::new();
    if let Some(defaults) = node.get("defaults")
        && let Node::Seq(items) = &defaults.value
    {
        for item in items.iter().take(MAX) {
            let name = match &item.value {
                Node::Text(name) if name != "_self_" => Some(name.clone()),
                Node::Map(entries) => entries.first().and_then(|(group, option)| {
                    let group = group
                        .value
                        .as_text()?
                        .trim_start_matches("override ")
                        .trim();
                    let option = option.value.as_text()?;
                    Some(format!("{group}/{option}"))
                }),
                _ => None,
            };
            if let Some(name) = name.filter(|n| !n.contains("${") && !n.contains("???")) {
                let name = name.trim_start_matches('/');
                let has_extension = name.ends_with(".yaml") || name.ends_with(".yml");
                names.push(if has_extension {
                    name.to_string()
                } else {
                    format!("{name}.yaml")
                });
            }
        }
    }
    if let Some(base) = node.get("_base_") {
        match &base.value {
            Node::Text(path) => names.push(path.clone()),
            Node::Seq(items) => names.extend(
                items
                    .iter()
                    .take(MAX)
                    .filter_map(|i| i.value.as_text().map(str::to_string)),
            ),
            _ => {}
        }
    }
    names
        .iter()
        .filter_map(|name| inside_project(folder, name))
        .collect()
}

/// `folder/name` with `.` and `..` resolved; `None` when it climbs out of the project.
fn inside_project(folder: &str, name: &str) -> Option<String> {
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

fn walk(node: &Spanned<Node>, path: &[&str], file: &str, project: &mut Project, depth: usize) {
    if depth > MAX_NESTING {
        return;
    }
    match &node.value {
        Node::Map(entries) => {
            for (key, value) in entries {
                let Some(name) = key.value.as_text() else {
                    continue;
                };
                let evidence = Evidence {
                    file: file.to_string(),
                    line: key.referenced.line() as u32,
                };
                read_key(name, &value.value, path, evidence, project);
                let mut below = path.to_vec();
                below.push(name);
                walk(value, &below, file, project, depth + 1);
            }
        }
        Node::Seq(items) => {
            for item in items {
                walk(item, path, file, project, depth + 1);
            }
        }
        _ => {}
    }
}

fn read_key(name: &str, value: &Node, path: &[&str], evidence: Evidence, project: &mut Project) {
    let parent = path.last().copied().unwrap_or_default();
    if name == "_target_" {
        if let Some(target) = literal_text(value)
            && let Some((module, _)) = target.rsplit_once('.')
            && module
                .split('.')
                .all(|part| !part.is_empty() && part.chars().all(is_identifier_char))
        {
            project.config_imports.push((module.to_string(), evidence));
        }
        return;
    }
    // Lightning's `trainer:` block, or litgpt's top level.
    let trainer = parent == "trainer" || path.is_empty();
    // The generic reader may have taken the same key at the same line (when a rule names it):
    // this reading (a device count, not `[0, 1]` as "set") replaces it rather than doubling it.
    let mut set = |key: &str, value: SettingValue| {
        let same = project
            .settings
            .iter_mut()
            .rev()
            .find(|s| s.key == key && s.evidence == evidence);
        match same {
            Some(setting) => setting.value = value,
            None => project.settings.push(Setting {
                key: key.to_string(),
                value,
                evidence: evidence.clone(),
                // accelerate's `num_machines` is read as `num_nodes`.
                written: (key != name).then(|| name.to_string()),
            }),
        }
    };
    match name {
        "accelerator" if trainer => {
            if let Some(text) = literal_text(value) {
                set("accelerator", SettingValue::Text(text.to_ascii_lowercase()));
            }
        }
        "devices" if trainer => {
            if let Some(count) = device_count(value) {
                set("devices", SettingValue::Number(count));
            }
        }
        "precision" if trainer => match value {
            Node::Number(n) => set("precision", SettingValue::Number(*n)),
            _ => {
                if let Some(text) = literal_text(value) {
                    set("precision", SettingValue::Text(text.to_string()));
                }
            }
        },
        "num_nodes" if trainer => {
            if let Node::Number(n) = value {
                set("num_nodes", SettingValue::Number(*n));
            }
        }
        "num_machines" => {
            if let Node::Number(n) = value {
                set("num_nodes", SettingValue::Number(*n));
            }
        }
        "device" | "DEVICE" if !matches!(parent, "offload_optimizer" | "offload_param") => {
            if let Some(text) = literal_text(value) {
                let base = text
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if DEVICE_NAMES.contains(&base.as_str()) {
                    set(name, SettingValue::Text(text.to_string()));
                }
            }
        }
        _ => {}
    }
    // DeepSpeed: `offload_optimizer: {device: cpu}` inside `zero_optimization`.
    if name == "device"
        && let [.., "zero_optimization", block] = path
        && matches!(*block, "offload_optimizer" | "offload_param")
        && let Some(text) = literal_text(value)
        && text != "none"
    {
        set(block, SettingValue::Text(text.to_string()));
    }
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A text value that is not an interpolation.
fn literal_text(value: &Node) -> Option<&str> {
    value
        .as_text()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.contains("${"))
}

/// How many devices a Lightning `devices:` asks for: `8`, `[0, 1]`, `"0,1"`, `"4"`; `auto` and
/// `-1` (every device there is) are unknown.
fn device_count(value: &Node) -> Option<f64> {
    match value {
        Node::Number(n) if *n >= 1.0 => Some(*n),
        Node::Seq(items) if !items.is_empty() => Some(items.len() as f64),
        Node::Text(_) => {
            let text = literal_text(value)?;
            if let Ok(n) = text.parse::<f64>() {
                return (n >= 1.0).then_some(n);
            }
            let ids: Vec<&str> = text.split(',').map(str::trim).collect();
            ids.iter()
                .all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
                .then_some(ids.len() as f64)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read(text: &str) -> Project {
        let node = super::super::config::parse_node(text, Path::new("c.yaml")).unwrap();
        let mut project = Project::default();
        collect(&node, "c.yaml", &mut project);
        project
    }

    fn settings(project: &Project) -> Vec<String> {
        project
            .settings
            .iter()
            .map(|s| format!("{} {}={}", s.evidence.line, s.key, s.value))
            .collect()
    }

    #[test]
    fn hydra_defaults_and_base_files_stay_inside_the_project() {
        let node = super::super::config::parse_node(
            "defaults:\n  - base\n  - model: llama\n  - override /trainer: ddp\n  - _self_\n  - data: ${oc.env:DATA}\n_base_: ['../shared/opt.yaml', '../../../etc/passwd']\n",
            Path::new("c.yaml"),
        )
        .unwrap();
        assert_eq!(
            bases(&node.value, "conf/exp/run.yaml"),
            [
                "conf/exp/base.yaml",
                "conf/exp/model/llama.yaml",
                "conf/exp/trainer/ddp.yaml",
                "conf/shared/opt.yaml"
            ]
        );
    }

    #[test]
    fn a_recipe_is_scoped_with_what_it_inherits_nearest_first() {
        let mut project = Project::default();
        for (file, text) in [
            (
                "conf/base.yaml",
                "trainer:\n  devices: 8\n  precision: bf16-mixed\n",
            ),
            (
                "conf/run.yaml",
                "defaults:\n  - base\n  - _self_\ntrainer:\n  devices: 1\n",
            ),
            ("conf/other.yaml", "trainer:\n  precision: 32\n"),
        ] {
            let node = super::super::config::parse_node(text, Path::new(file)).unwrap();
            collect(&node, file, &mut project);
        }
        let scoped = project.scoped_to("conf/run.yaml");
        // run.yaml's own `devices: 1` hides the base's 8; the base's precision is inherited;
        // other.yaml is not in the chain.
        assert_eq!(settings(&scoped), ["3 precision=bf16-mixed", "5 devices=1"]);
    }

    #[test]
    fn a_key_the_generic_reader_took_is_replaced_not_doubled() {
        let node =
            super::super::config::parse_node("trainer:\n  devices: [0, 1]\n", Path::new("c.yaml"))
                .unwrap();
        let mut project = Project::default();
        project.settings.push(Setting {
            key: "devices".to_string(),
            value: SettingValue::Bool(true),
            evidence: Evidence {
                file: "c.yaml".to_string(),
                line: 2,
            },
            written: None,
        });
        collect(&node, "c.yaml", &mut project);
        assert_eq!(settings(&project), ["2 devices=2"]);
    }

    #[test]
    fn lightning_trainer_blocks() {
        let project = read(
            "model:\n  _target_: flash_attn.modules.mha.MHA\ntrainer:\n  accelerator: GPU\n  devices: [0, 1]\n  precision: bf16-mixed\n  num_nodes: 2\ndata:\n  devices: 99\n",
        );
        assert_eq!(
            settings(&project),
            [
                "4 accelerator=gpu",
                "5 devices=2",
                "6 precision=bf16-mixed",
                "7 num_nodes=2"
            ]
        );
        assert_eq!(project.config_imports[0].0, "flash_attn.modules.mha");
        assert_eq!(project.config_imports[0].1.line, 2);
    }

    #[test]
    fn litgpt_top_level_and_interpolations() {
        let project = read(
            "devices: \"0,1,2\"\nprecision: 16\nnum_nodes: ${oc.env:NODES}\ntrainer:\n  devices: ${oc.env:NGPUS}\n  accelerator: auto\n",
        );
        assert_eq!(
            settings(&project),
            ["1 devices=3", "2 precision=16", "6 accelerator=auto"]
        );
        assert!(settings(&read("devices: auto\ntrainer: {devices: -1}\n")).is_empty());
    }

    #[test]
    fn devices_in_recipes_yacs_and_deepspeed() {
        let project = read(
            "device: cuda\nMODEL:\n  DEVICE: \"cuda:0\"\n  WEIGHTS: x\ndataset:\n  device: my-dataset\nzero_optimization:\n  stage: 3\n  offload_optimizer:\n    device: cpu\n  offload_param:\n    device: nvme\nnum_machines: 2\n",
        );
        assert_eq!(
            settings(&project),
            [
                "1 device=cuda",
                "3 DEVICE=cuda:0",
                "10 offload_optimizer=cpu",
                "12 offload_param=nvme",
                "13 num_nodes=2",
            ]
        );
    }
}
