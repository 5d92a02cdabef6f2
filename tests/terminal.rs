//! What reaches a terminal: colour forced or refused by the environment's conventions, icons a
//! terminal can draw at the width the tables assume, and listings fitted to the width.

use assert_cmd::Command;

const FOUNDING: &str = "fixtures/projects/qlora-founding";
const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";

fn run(env: &[(&str, &str)], args: &[&str]) -> String {
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
    command.env("TERM", "xterm-256color").env("COLUMNS", "80");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.args(args).output().unwrap();
    String::from_utf8(output.stdout).unwrap()
}

fn report(env: &[(&str, &str)]) -> String {
    run(
        env,
        &["check", FOUNDING, "--profile", M2, "--fail-on", "never"],
    )
}

/// Display width as a terminal that draws `⚠️` two columns wide counts it.
fn width(line: &str) -> usize {
    line.chars()
        .filter(|c| *c != '\u{fe0f}')
        .map(|c| match c {
            '\u{2705}' | '\u{274c}' | '\u{2754}' => 2,
            '\u{26a0}' if line.contains("\u{26a0}\u{fe0f}") => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn force_color_colours_a_pipe_unless_no_color_says_otherwise() {
    assert!(!report(&[]).contains('\u{1b}'));
    assert!(report(&[("FORCE_COLOR", "1")]).contains('\u{1b}'));
    assert!(!report(&[("FORCE_COLOR", "0")]).contains('\u{1b}'));
    assert!(!report(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]).contains('\u{1b}'));
    assert!(report(&[("CLICOLOR_FORCE", "1")]).contains('\u{1b}'));
}

#[test]
fn a_console_without_emoji_gets_ascii_and_tmux_a_warning_sign_of_two_columns() {
    let plain = report(&[]);
    assert!(plain.contains("⚠️"));
    for env in [[("TERM", "linux")], [("MLCOMPAT_ASCII", "1")]] {
        let text = report(&env);
        assert!(text.is_ascii(), "{env:?}");
        assert!(text.contains("[FAIL]"));
    }
    let tmux = report(&[("TMUX", "/tmp/tmux-1000/default,42,0")]);
    assert!(!tmux.contains("⚠️") && tmux.contains("⚠ "), "{tmux}");
    // The same layout: every line as wide as in the emoji report, counting `⚠` as one column
    // (tmux 3.3) there and `⚠️` as two here.
    let tmux_widths: Vec<usize> = tmux
        .lines()
        .map(|l| {
            l.chars()
                .map(|c| if "✅❌❔".contains(c) { 2 } else { 1 })
                .sum()
        })
        .collect();
    let plain_widths: Vec<usize> = plain.lines().map(width).collect();
    assert_eq!(tmux_widths, plain_widths);
    assert!(report(&[("TMUX", "x"), ("MLCOMPAT_EMOJI", "wide")]).contains("⚠️"));
    // JSON and Markdown are not drawn by the terminal: unchanged.
    let markdown = run(
        &[("TERM", "linux")],
        &["check", FOUNDING, "--profile", M2, "--format", "markdown"],
    );
    assert!(markdown.contains("❌"));
}

#[test]
fn rules_list_and_probe_explain_fit_80_columns() {
    for args in [&["rules", "list"][..], &["probe", "--explain"][..]] {
        let text = run(&[], args);
        assert!(text.lines().count() > 5, "{args:?}");
        for line in text.lines() {
            let words_fit = line.split_whitespace().all(|w| w.chars().count() <= 80);
            assert!(
                line.chars().count() <= 80 || !words_fit,
                "{args:?}: {} columns: {line}",
                line.chars().count()
            );
        }
    }
    let wide = run(&[("COLUMNS", "200")], &["rules", "list"]);
    assert!(wide.starts_with("ID "), "a header names the columns");
    let first = wide.lines().nth(1).unwrap();
    assert!(
        first.contains("  fail  ") || first.contains("  warn  ") || first.contains("  ok  "),
        "{first}"
    );
}

#[test]
fn man_writes_a_page_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[], &["man", "--dir", dir.path().to_str().unwrap()]);
    for page in [
        "mlcompat.1",
        "mlcompat-check.1",
        "mlcompat-fix.1",
        "mlcompat-probe.1",
        "mlcompat-rules-show.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}: {out}");
    }
    let check = run(&[], &["man", "check"]);
    assert!(check.contains(".SH \"EXIT STATUS\""));
    assert!(check.contains("\\-\\-fail\\-on"));
}
