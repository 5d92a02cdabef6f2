//! Training configs (YAML or JSON): the settings and model names that decide whether a run fits,
//! found at any depth, each with its line.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::{Evidence, ModelRef, Project, Setting, SettingKeys, SettingValue, model};
use crate::source::{self, SourceError};

/// Keys whose value names the model being trained or run.
const MODEL_KEYS: [&str; 7] = [
    // litgpt: `checkpoint_dir: checkpoints/meta-llama/Llama-2-7b-hf`.
    "checkpoint_dir",
    "base_model",
    "model_name_or_path",
    "model_name",
    "pretrained_model_name_or_path",
    "model_id",
    "model.name",
];

/// A YAML/JSON value with the line of every node, for evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl Node {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Node::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Spanned<Node>> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value.as_text() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Number(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Text(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

pub fn parse_node(text: &str, path: &Path) -> Result<Spanned<Node>, SourceError> {
    source::parse_yaml(text, path)
}

/// Reads one config; a file that is not YAML/JSON is skipped with a note, not an error, because
/// projects hold many YAML files that are not ours to judge.
pub fn read(file: &Path, relative: &str, keys: &SettingKeys, project: &mut Project) {
    if std::fs::metadata(file).is_ok_and(|m| m.len() > MAX_CONFIG_BYTES) {
        project.notes.push(format!(
            "{relative}: skipped, over {MAX_CONFIG_BYTES} bytes (a data file, not a config)"
        ));
        return;
    }
    let node = source::read_text(file).and_then(|text| parse_node(&text, file));
    match node {
        Ok(node) => {
            let models_before = project.models.len();
            collect(&node, relative, keys, project);
            super::frameworks::collect(&node, relative, project);
            apply_stated_size(&node, &mut project.models[models_before..]);
        }
        Err(error) => project.notes.push(format!("skipped {error}")),
    }
}

/// Training configs are small; a bigger YAML or JSON file is data.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Keys that state a model's size in parameters outright.
const PARAM_KEYS: [&str; 4] = [
    "num_parameters",
    "num_params",
    "n_params",
    "model_parameters",
];

/// A size the config states beats the one read from the name: the name rounds (`7b` for
/// 6.7B) and may say nothing.
fn apply_stated_size(node: &Spanned<Node>, models: &mut [ModelRef]) {
    let Some(stated) = find_number(&node.value, 0) else {
        return;
    };
    for model in models {
        model.params = Some(stated);
    }
}

fn find_number(node: &Node, depth: usize) -> Option<f64> {
    if depth > MAX_NESTING {
        return None;
    }
    match node {
        Node::Map(entries) => {
            entries
                .iter()
                .find_map(|(key, value)| match (key.value.as_text(), &value.value) {
                    (Some(k), Node::Number(n)) if PARAM_KEYS.contains(&k) && *n > 0.0 => Some(*n),
                    _ => find_number(&value.value, depth + 1),
                })
        }
        Node::Seq(items) => items.iter().find_map(|i| find_number(&i.value, depth + 1)),
        _ => None,
    }
}

/// How deep into a config's nesting keys are looked for; deeper is not a config a person wrote.
const MAX_NESTING: usize = 64;

/// Collects the settings `keys` names and the models a config names, with their lines.
fn collect(node: &Spanned<Node>, file: &str, keys: &SettingKeys, project: &mut Project) {
    let mut at = Place {
        file,
        keys,
        depth: 0,
    };
    collect_at(node, "", &mut at, project);
}

/// Where the walk through a config is.
struct Place<'a> {
    file: &'a str,
    keys: &'a SettingKeys,
    depth: usize,
}

fn collect_at(node: &Spanned<Node>, parent: &str, at: &mut Place, project: &mut Project) {
    let depth = at.depth;
    if depth > MAX_NESTING {
        return;
    }
    match &node.value {
        Node::Map(entries) => {
            for (key, value) in entries {
                let Some(name) = key.value.as_text() else {
                    continue;
                };
                let line = key.referenced.line() as u32;
                let evidence = Evidence {
                    file: at.file.to_string(),
                    line,
                };
                // `model: {name: ...}` names a model as `model.name`.
                let tail = format!("{parent}.{name}");
                if let Some(model_name) = value.value.as_text()
                    && names_model(name, &tail, model_name)
                {
                    project.models.push(ModelRef {
                        name: model_name.to_string(),
                        params: model::params_from_name(model_name),
                        evidence: evidence.clone(),
                    });
                }
                // DeepSpeed's own JSON says `zero_optimization: {stage: 3}`; accelerate's
                // config says `zero_stage: 3`. Both are the ZeRO stage.
                let setting = if parent == "zero_optimization" && name == "stage" {
                    "zero_stage"
                } else {
                    name
                };
                if at.keys.contains(setting)
                    && let Some(value) = scalar(&value.value)
                {
                    project.settings.push(Setting {
                        key: setting.to_string(),
                        value,
                        evidence,
                        // DeepSpeed's `stage` is read as `zero_stage`.
                        written: (setting != name).then(|| name.to_string()),
                    });
                }
                at.depth = depth + 1;
                collect_at(value, name, at, project);
            }
        }
        Node::Seq(items) => {
            for item in items {
                at.depth = depth + 1;
                collect_at(item, parent, at, project);
            }
        }
        _ => {}
    }
}

/// Whether `key: value` names the model. A bare `model:` key names many things (Hydra groups,
/// class names), so it counts only when its value reads like a model id (`org/name`, or a name
/// with a size such as `llama3:8b`).
fn names_model(key: &str, tail: &str, value: &str) -> bool {
    if value.is_empty() || value.contains("${") {
        return false;
    }
    if MODEL_KEYS.contains(&key) || MODEL_KEYS.contains(&tail) {
        return true;
    }
    key == "model"
        && !value.contains(' ')
        && (value.split('/').count() == 2 || model::params_from_name(value).is_some())
}

fn scalar(node: &Node) -> Option<SettingValue> {
    // DeepSpeed writes `fp16: {enabled: true}`: the block's switch is the setting's value.
    if let Some(enabled) = node.get("enabled")
        && let Some(value) = scalar(&enabled.value)
    {
        return Some(value);
    }
    match node {
        Node::Bool(b) => Some(SettingValue::Bool(*b)),
        Node::Number(n) => Some(SettingValue::Number(*n)),
        // An interpolation (`${oc.env:NUM_NODES}`) is never evaluated: its value is unknown and
        // yields nothing, as in framework configs and launch scripts.
        Node::Text(t) if t.contains("${") => None,
        Node::Text(t) => Some(SettingValue::Text(t.clone())),
        // A nested block (`deepspeed: {...}`, `fsdp: [...]`) is itself the setting.
        Node::Map(_) | Node::Seq(_) => Some(SettingValue::Bool(true)),
        Node::Null => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Project {
        let node = parse_node(text, Path::new("c.yaml")).unwrap();
        let mut project = Project::default();
        collect(&node, "c.yaml", &SettingKeys::All, &mut project);
        project
    }

    #[test]
    fn settings_are_found_at_any_depth_with_their_line() {
        let project = read_text(
            "model:\n  name: mistralai/Mistral-7B-v0.1\ntraining:\n  quantization_config:\n    load_in_4bit: true\n",
        );
        assert_eq!(project.models[0].name, "mistralai/Mistral-7B-v0.1");
        assert_eq!(project.models[0].evidence.line, 2);
        let setting = project.setting("load_in_4bit").next().unwrap();
        assert_eq!(setting.evidence.line, 5);
        assert_eq!(setting.value, SettingValue::Bool(true));
    }

    #[test]
    fn a_bare_model_key_counts_only_for_a_model_id() {
        let project = read_text(
            "model: transformer
other:
  model: mlx-community/Llama-3.2-1B-Instruct-4bit
",
        );
        assert_eq!(project.models.len(), 1);
        assert_eq!(project.models[0].params, Some(1e9));
    }

    #[test]
    fn deepspeed_blocks_take_their_enabled_switch() {
        let project = read_text("{\"bf16\": {\"enabled\": false}, \"num_parameters\": 3}");
        assert_eq!(
            project.setting("bf16").next().unwrap().value,
            SettingValue::Bool(false)
        );
    }

    #[test]
    fn the_zero_stage_reads_the_same_from_deepspeed_and_accelerate() {
        let deepspeed = read_text("{\n  \"zero_optimization\": {\n    \"stage\": 3\n  }\n}\n");
        let accelerate = read_text("deepspeed_config:\n  zero_stage: 3\nnum_processes: 8\n");
        for project in [deepspeed, accelerate] {
            let stage = project.setting("zero_stage").next().expect("a ZeRO stage");
            assert_eq!(stage.value, SettingValue::Number(3.0));
        }
    }

    #[test]
    fn json_configs_keep_lines_too() {
        let project = read_text(
            "{\n  \"bf16\": true,\n  \"model_name_or_path\": \"meta-llama/Llama-2-13b-hf\"\n}\n",
        );
        assert_eq!(project.settings[0].evidence.line, 2);
        assert_eq!(project.models[0].params, Some(13e9));
    }
}
