//! The README's report excerpt is the real output: each run of lines between `…` markers must
//! appear, in order and contiguously, in the output of the command its comment names (at 92
//! columns, no colour), and the excerpt ends where the report ends. A report change that is not
//! carried into the README fails here, with the real output to copy from; `UPDATE_README=1
//! cargo test --test readme` rewrites each part from the real output (a part keeps its first
//! line and its length; the last part runs to the end), for review in the diff.

use assert_cmd::Command;

const MARKER: &str = "<!-- report-excerpt: ";
const ELISION: &str = "  …";

#[test]
fn the_readme_excerpt_is_a_real_run() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let at = readme.find(MARKER).expect("README has a report excerpt");
    let rest = &readme[at + MARKER.len()..];
    let (args, rest) = rest.split_once(" -->").unwrap();
    let block = rest
        .split_once("```text\n")
        .and_then(|(_, b)| b.split_once("\n```"))
        .map(|(b, _)| b)
        .expect("a ```text block follows the marker");

    let mut command = Command::cargo_bin("mlcompat").unwrap();
    for name in [
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
        "TMUX",
        "MLCOMPAT_ASCII",
        "MLCOMPAT_EMOJI",
    ] {
        command.env_remove(name);
    }
    let output = command
        .env("COLUMNS", "92")
        .env("TERM", "xterm-256color")
        .args(args.split_whitespace())
        .output()
        .unwrap();
    let real = String::from_utf8(output.stdout).unwrap();
    let real: Vec<&str> = real.lines().collect();

    if std::env::var_os("UPDATE_README").is_some() {
        let updated = regenerate(block, &real);
        let readme = readme.replacen(block, &updated, 1);
        std::fs::write("README.md", readme).unwrap();
        return;
    }
    let excerpt: Vec<&str> = block.lines().collect();
    let chunks: Vec<&[&str]> = excerpt.split(|l| *l == ELISION).collect();
    let mut from = 0;
    let mut end = 0;
    for chunk in &chunks {
        // Blank lines at a chunk's edges only space the excerpt out.
        let start = chunk
            .iter()
            .position(|l| !l.is_empty())
            .unwrap_or(chunk.len());
        let stop = chunk
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(start, |i| i + 1);
        let chunk = &chunk[start..stop];
        if chunk.is_empty() {
            continue;
        }
        let found = (from..=real.len().saturating_sub(chunk.len()))
            .find(|&i| real[i..i + chunk.len()] == *chunk);
        let Some(found) = found else {
            panic!(
                "README.md's excerpt is stale: these lines are not in the output (in order):\n{}\n\nthe real output of `mlcompat {args}` at 92 columns:\n{}",
                chunk.join("\n"),
                real.join("\n")
            );
        };
        from = found + chunk.len();
        end = from;
    }
    assert_eq!(
        end,
        real.len(),
        "the excerpt ends with the report's last line (the verdict)"
    );
    assert!(
        chunks.len() > 2,
        "the excerpt shows several parts of the report"
    );
}

/// The excerpt with each part between `…` markers taken again from `real`: from the line that
/// starts it, as many lines as it had (the last part to the end), blank edges kept.
fn regenerate(block: &str, real: &[&str]) -> String {
    let excerpt: Vec<&str> = block.lines().collect();
    let chunks: Vec<&[&str]> = excerpt.split(|l| *l == ELISION).collect();
    let mut from = 0;
    let mut parts = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        let lead = chunk.iter().take_while(|l| l.is_empty()).count();
        let trail = chunk
            .iter()
            .rev()
            .take_while(|l| l.is_empty())
            .count()
            .min(chunk.len() - lead);
        let core = &chunk[lead..chunk.len() - trail];
        let Some(first) = core.first() else {
            parts.push(chunk.join("\n"));
            continue;
        };
        let start = (from..real.len())
            .find(|&i| real[i] == *first)
            .unwrap_or_else(|| {
                panic!("`{first}` is no longer in the output: edit README.md by hand")
            });
        let end = if n + 1 == chunks.len() {
            real.len()
        } else {
            (start + core.len()).min(real.len())
        };
        from = end;
        let mut lines = vec![""; lead];
        lines.extend_from_slice(&real[start..end]);
        lines.extend(std::iter::repeat_n("", trail));
        parts.push(lines.join("\n"));
    }
    parts.join(&format!("\n{ELISION}\n"))
}
