//! Package names as PEP 503 compares them. One normalizer for the probe (installed
//! distributions), the project reader (declarations) and the rules, so `Flash_Attn`,
//! `flash-attn` and `flash.attn` are one package everywhere.

/// PEP 503: lower case, runs of `-`, `_` and `.` become one `-`; leading and trailing
/// separators and whitespace are dropped.
pub fn normalize(name: &str) -> String {
    // Most names are written normalized already (`torch`, `flash-attn`): copy them.
    let bytes = name.as_bytes();
    let plain = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.first().is_some_and(plain)
        && bytes.last().is_some_and(plain)
        && bytes.iter().all(|b| plain(b) || *b == b'-')
        && !name.contains("--")
    {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut pending_dash = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            pending_dash = !out.is_empty();
        } else {
            if pending_dash {
                out.push('-');
                pending_dash = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn runs_of_separators_become_one_dash() {
        assert_eq!(normalize("Flash_Attn"), "flash-attn");
        assert_eq!(normalize("ruamel.yaml"), "ruamel-yaml");
        assert_eq!(normalize("a-_.b"), "a-b");
        assert_eq!(normalize("zope..interface"), "zope-interface");
        assert_eq!(normalize("PyYAML"), "pyyaml");
        assert_eq!(normalize(" torch "), "torch");
        assert_eq!(normalize("_private_"), "private");
        assert_eq!(normalize("flash-attn"), "flash-attn");
        assert_eq!(normalize("a--b"), "a-b");
        assert_eq!(normalize("-a"), "a");
        assert_eq!(normalize("Ärger"), "ärger");
    }
}
