//! `Requires-Dist` from a core metadata file (the `METADATA` of a wheel, served beside it as
//! `<wheel>.metadata` by PEP 658): RFC 822-style headers, read up to the blank line before the
//! description.

/// The `Requires-Dist` values of a metadata file, in order, with folded lines joined.
pub fn requires_dist(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_requires = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if in_requires && let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
            continue;
        }
        in_requires = false;
        if let Some((key, value)) = line.split_once(':')
            && key.trim().eq_ignore_ascii_case("requires-dist")
        {
            let value = value.trim();
            if !value.is_empty() {
                out.push(value.to_string());
                in_requires = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requires_dist_headers_only() {
        let text = "Metadata-Version: 2.1\nName: torchvision\nVersion: 0.16.2\n\
                    Requires-Dist: numpy\nRequires-Dist: requests\n\
                    Requires-Dist: torch (==2.1.2)\nrequires-dist: scipy ; extra == \"scipy\"\n\
                    Classifier: x\n\nRequires-Dist: not-a-header-in-the-body\n";
        assert_eq!(
            requires_dist(text),
            vec![
                "numpy",
                "requests",
                "torch (==2.1.2)",
                "scipy ; extra == \"scipy\""
            ]
        );
        assert_eq!(requires_dist(""), Vec::<String>::new());
        assert_eq!(
            requires_dist("Requires-Dist: a;\n  python_version < \"3.8\"\n"),
            vec!["a; python_version < \"3.8\""]
        );
    }
}
