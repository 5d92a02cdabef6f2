//! `mlcompat probe --explain`: each value of the profile beside where it came from (a file, a
//! command) or why it is unknown, so a surprising profile can be traced without a debugger.

use serde_json::Value;

use super::Probed;
use crate::size::ByteSize;

/// One line a source: `field  value  ← origin`.
pub fn render(probed: &Probed) -> String {
    let rows = rows(probed);
    let field_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    rows.iter()
        .map(|(field, value, origin)| {
            format!("{field:<field_width$}  {value:<value_width$}  ← {origin}\n")
        })
        .collect()
}

/// `(field, value, origin)` for each source, in the order they were read: for a caller that
/// lays them out at a terminal's width.
pub fn rows(probed: &Probed) -> Vec<(String, String, String)> {
    let profile = serde_json::to_value(&probed.profile).unwrap_or(Value::Null);
    probed
        .sources
        .iter()
        .map(|source| {
            let value = lookup(&profile, &source.field).map_or_else(|| "-".to_string(), summary);
            let value = as_size(&source.field, &value).unwrap_or(value);
            (source.field.clone(), value, source.origin.clone())
        })
        .collect()
}

/// Sizes are bytes in the profile; people read them as `8 GB`.
fn as_size(field: &str, value: &str) -> Option<String> {
    let size = field.ends_with("memory") || field.ends_with("working_set");
    let bytes: u64 = value.parse().ok().filter(|_| size)?;
    Some(ByteSize(bytes).to_string())
}

/// The value at a dotted path (`gpus.0.name`), if the profile has one.
fn lookup<'a>(value: &'a Value, field: &str) -> Option<&'a Value> {
    field.split('.').try_fold(value, |value, key| match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A value in a few words: text as is, a GPU by its name, a list or map by its size.
fn summary(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".to_string(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(items) if items.is_empty() => "none".to_string(),
        Value::Array(items) => format!("{} entries", items.len()),
        Value::Object(map) => match map.get("name") {
            Some(Value::String(name)) => name.clone(),
            _ if map.len() > 4 => format!("{} entries", map.len()),
            _ => map
                .iter()
                .map(|(k, v)| format!("{k}: {}", summary(v)))
                .collect::<Vec<_>>()
                .join(", "),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Gpu, Vendor};

    #[test]
    fn shows_each_value_beside_its_origin() {
        let mut probed = Probed::default();
        probed.profile.system.memory = Some(ByteSize(8 << 30));
        probed.profile.gpus.push(Gpu {
            name: Some("NVIDIA L40S".into()),
            ..Gpu::new(Vendor::Nvidia)
        });
        probed.learned("system.memory", "sysctl hw.memsize");
        probed.learned("gpus.0", "/proc/driver/nvidia");
        probed.unknown("gpus.0.memory", "nvidia-smi is not installed");
        let text = render(&probed);
        let lines: Vec<_> = text
            .lines()
            .map(str::split_whitespace)
            .map(Iterator::collect::<Vec<_>>)
            .collect();
        assert_eq!(lines[0][..3], ["system.memory", "8", "GB"]);
        assert!(text.contains("NVIDIA L40S"), "{text}");
        assert!(
            text.contains("← unknown because nvidia-smi is not installed"),
            "{text}"
        );
        assert_eq!(
            probed.notes,
            ["gpus.0.memory unknown: nvidia-smi is not installed"]
        );
    }
}
