//! The README's report excerpt is the real output: each run of lines between `…` markers must
//! appear, in order and contiguously, in the output of the command its comment names (at 92
//! columns, no colour), and the excerpt ends where the report ends. A report change that is not
//! carried into the README fails here, with the real output to copy from.

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
