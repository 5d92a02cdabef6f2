//! A model's size in parameters, read from its name the way people read it: `Llama-2-13b-hf`,
//! `Mistral-7B-v0.1`, `Qwen2.5-0.5B`, `Mixtral-8x7B` (a mixture of experts).

/// Parameters named in a model name, or `None` when the name states no size.
///
/// A mixture of experts `NxS` counts `N × S`, an upper bound: experts share their attention
/// layers, so Mixtral-8x7B has 46.7B parameters rather than 56B.
pub fn params_from_name(name: &str) -> Option<f64> {
    let base = name.rsplit('/').next().unwrap_or(name);
    tokens(base).find_map(size_token)
}

/// The tokens of a name split at `-`, `_`, `/`, `:` and spaces (dots stay: `0.5B`, `2.5`).
fn tokens(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '_', ' ', ':'])
}

/// `7b`, `13B`, `0.5B`, `350m`, `8x7B`, `1.1B`.
fn size_token(token: &str) -> Option<f64> {
    let lower = token.to_ascii_lowercase();
    let (number, scale) = if let Some(n) = lower.strip_suffix('b') {
        (n, 1e9)
    } else if let Some(n) = lower.strip_suffix('m') {
        (n, 1e6)
    } else {
        return None;
    };
    let (experts, size) = match number.split_once('x') {
        Some((experts, size)) => (experts.parse::<f64>().ok()?, size),
        None => (1.0, number),
    };
    if size.is_empty() || !size.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let size: f64 = size.parse().ok()?;
    (size > 0.0).then_some(experts * size * scale)
}

#[cfg(test)]
mod tests {
    use super::params_from_name;

    #[test]
    fn sizes_come_from_common_names() {
        assert_eq!(params_from_name("meta-llama/Llama-2-7b-hf"), Some(7e9));
        assert_eq!(params_from_name("meta-llama/Llama-2-13b-hf"), Some(13e9));
        assert_eq!(params_from_name("mistralai/Mistral-7B-v0.1"), Some(7e9));
        assert_eq!(params_from_name("Qwen/Qwen2.5-0.5B-Instruct"), Some(0.5e9));
        assert_eq!(
            params_from_name("TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
            Some(1.1e9)
        );
        assert_eq!(params_from_name("mistralai/Mixtral-8x7B-v0.1"), Some(56e9));
        assert_eq!(params_from_name("huggyllama/llama-65b"), Some(65e9));
        assert_eq!(params_from_name("facebook/opt-350m"), Some(350e6));
        assert_eq!(params_from_name("llama3.1:8b"), Some(8e9));
    }

    #[test]
    fn names_without_a_size_are_unknown() {
        assert_eq!(params_from_name("bert-base-cased"), None);
        assert_eq!(params_from_name("gpt2"), None);
        assert_eq!(params_from_name("./output/checkpoint-500"), None);
        assert_eq!(params_from_name("Llama-3-70B-v2b"), Some(70e9));
    }
}
