//! Globs in rules: `paged_*`, `nvidia-*-cu12`, `*/whl/rocm*`.

/// `paged_*`, `*_8bit`, `nvidia-*-cu12`: `*` stands for any run of characters (none too),
/// anywhere in the pattern; case is ignored.
pub fn glob(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let text = text.to_ascii_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    if !text.ends_with(last) {
        return false;
    }
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("paged_*", "paged_adamw_8bit"));
        assert!(glob("*8bit", "paged_adamw_8bit"));
        assert!(!glob("paged_*", "adamw_torch"));
        assert!(glob("nvidia-*-cu12", "nvidia-cublas-cu12"));
        assert!(!glob("nvidia-*-cu12", "nvidia-cublas-cu11"));
        assert!(!glob("nvidia-*-cu12", "nvidia-cu12"));
        assert!(glob(
            "*/whl/rocm*",
            "https://download.pytorch.org/whl/rocm6.2"
        ));
    }
}
