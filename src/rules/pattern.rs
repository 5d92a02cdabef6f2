//! Globs in rules: `paged_*`, `nvidia-*-cu12`, `*/whl/rocm*`.

/// `paged_*`, `*_8bit`, `nvidia-*-cu12`: `*` stands for any run of characters (none too),
/// anywhere in the pattern; case is ignored.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let mut parts = pattern.split(|&b| b == b'*');
    let first = parts.next().unwrap_or_default();
    let Some(rest) = starts_with(text, first) else {
        return false;
    };
    let mut middles: Vec<&[u8]> = parts.collect();
    let Some(last) = middles.pop() else {
        // No `*`: the whole text must be the pattern.
        return rest.is_empty();
    };
    if rest.len() < last.len() || !rest[rest.len() - last.len()..].eq_ignore_ascii_case(last) {
        return false;
    }
    let mut rest = &rest[..rest.len() - last.len()];
    for middle in middles {
        match find(rest, middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// What follows `prefix` in `text`, ignoring ASCII case.
fn starts_with<'a>(text: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

/// Where `needle` first occurs in `haystack`, ignoring ASCII case.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
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
        assert!(glob("Paged_*", "PAGED_adamw"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXcYb"));
        assert!(!glob("ab*ba", "aba"));
        assert!(glob(
            "*/whl/rocm*",
            "https://download.pytorch.org/whl/rocm6.2"
        ));
    }
}
