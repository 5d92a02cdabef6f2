//! Strings from projects, profiles and rule files, made safe for where they are shown.
//!
//! A file name, package name or requirement line is chosen by whoever wrote the project. Shown
//! raw, an OSC sequence in a conda package name retitles the terminal, a carriage return hides a
//! ❌ behind a file name, a bidi override reverses what a line appears to say, a newline starts a
//! line of its own (`::error file=…::` is a GitHub workflow command when printed in CI), and
//! `[click](https://…)` is a link in a Markdown report. So every renderer takes its input
//! through this module once, at its boundary ([`for_terminal`], [`for_markdown`]), and the CLI
//! escapes what it prints on stderr ([`terminal`]).
//!
//! What the escaping shows is the character's code, `\u{1b}`, as Rust writes it: visible, and
//! unambiguous about what was there.

use std::borrow::Cow;
use std::fmt::Write;

use crate::assessment::{Assessment, Finding, JudgedMachine};
use crate::profile::Profile;

/// Whether `c` changes what a terminal shows instead of being shown: C0 controls (newline, tab
/// and ESC among them), DEL, C1 controls (U+0085 NEL, U+009B CSI…), the bidi embeddings,
/// overrides and isolates, and the line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

/// `text` for a terminal or a log: each unsafe character as `\u{…}`.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text that mlcompat laid out in lines itself (the probe's `--explain`), with values from the
/// machine in it: each line escaped, the line breaks kept, no line a workflow command.
pub fn terminal_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&terminal(body));
        out.push_str(end);
    }
    no_workflow_commands(&out)
}

/// The characters that can start Markdown syntax inside a line: emphasis, code, links and
/// images (`![` needs the `[`), HTML (`<`), tables, strikethrough, math, entities, issue
/// references (`#12`), and the escape itself. Line-start syntax (`>`, `-`, `1.`) cannot occur:
/// newlines are escaped before this, and every line starts with the renderer's own text.
const MARKDOWN_SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '|', '~', '$', '&', '#'];

/// `text` for Markdown prose or a table cell: unsafe characters as `\u{…}` (with the backslash
/// itself escaped, so it shows), then every Markdown metacharacter escaped with a backslash.
///
/// A code span that opens and closes within `text` is kept (rule prose writes
/// `` `load_in_4bit: true` ``): nothing inside a code span is Markdown, so it can neither link
/// nor embed HTML, and it cannot run past `text`, whose backtick runs are all paired. A
/// backtick run without its pair is escaped, and so is `|` everywhere (tables).
pub fn markdown(text: &str) -> String {
    let visible = terminal(text);
    let chars: Vec<char> = visible.chars().collect();
    let mut out = String::with_capacity(visible.len() + 8);
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c == '`' {
            let run = backtick_run(&chars, at);
            if let Some(close) = closing_run(&chars, at + run, run) {
                // A `|` splits a GFM table cell even inside a code span.
                for &c in &chars[at..close + run] {
                    if c == '|' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                at = close + run;
                continue;
            }
            for _ in 0..run {
                out.push_str("\\`");
            }
            at += run;
            continue;
        }
        if MARKDOWN_SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
        at += 1;
    }
    out
}

/// How many backticks start at `at`.
fn backtick_run(chars: &[char], at: usize) -> usize {
    chars[at..].iter().take_while(|&&c| c == '`').count()
}

/// Where the next run of exactly `length` backticks at or after `from` starts: the end of a
/// code span, as CommonMark finds it.
fn closing_run(chars: &[char], from: usize, length: usize) -> Option<usize> {
    let mut at = from;
    while at < chars.len() {
        if chars[at] == '`' {
            let run = backtick_run(chars, at);
            if run == length {
                return Some(at);
            }
            at += run;
        } else {
            at += 1;
        }
    }
    None
}

/// Makes sure no line starts a GitHub workflow command: the runner reads a line whose text
/// (leading blanks aside) begins with `::` as one. Such a line gets a `\` before its `::`,
/// which Markdown renders as nothing and a terminal shows. Colour codes at the start of a line
/// are looked past: the stream strips them when stdout is a CI log, not a terminal (and every
/// ESC left in a report is mlcompat's own, the project's having been escaped).
pub fn no_workflow_commands(text: &str) -> String {
    if !text.contains("::") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive('\n') {
        let start = line.len() - after_blanks_and_colour(line).len();
        if line[start..].starts_with("::") {
            out.push_str(&line[..start]);
            out.push('\\');
            out.push_str(&line[start..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `line` past its leading blanks and SGR colour sequences (`ESC [ … m`).
fn after_blanks_and_colour(mut line: &str) -> &str {
    loop {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let Some(rest) = trimmed.strip_prefix("\u{1b}[") else {
            return trimmed;
        };
        match rest.find(|c: char| !(c.is_ascii_digit() || c == ';')) {
            Some(end) if rest[end..].starts_with('m') => line = &rest[end + 1..],
            _ => return trimmed,
        }
    }
}

/// One machine's report, every string in it escaped for a terminal (table, text, GitHub).
pub fn for_terminal(assessment: &Assessment) -> Assessment {
    map_assessment(assessment, &|s| terminal(s).into_owned())
}

/// One machine's report, every string in it escaped for Markdown.
pub fn for_markdown(assessment: &Assessment) -> Assessment {
    map_assessment(assessment, &markdown)
}

/// A fleet, every string (machine names too) escaped by `escape`.
pub fn fleet(machines: &[JudgedMachine], escape: &dyn Fn(&str) -> String) -> Vec<JudgedMachine> {
    machines
        .iter()
        .map(|machine| JudgedMachine {
            name: escape(&machine.name),
            file: machine.file.as_deref().map(escape),
            report: map_assessment(&machine.report, escape),
        })
        .collect()
}

/// Terminal escaping, as a function for [`fleet`].
pub fn terminal_owned(text: &str) -> String {
    terminal(text).into_owned()
}

/// Every string a renderer shows, through `escape`. A string field added to the assessment or
/// the profile must be added here (the test below fails for the ones it knows of).
fn map_assessment(assessment: &Assessment, escape: &dyn Fn(&str) -> String) -> Assessment {
    let each = |items: &[String]| items.iter().map(|s| escape(s)).collect::<Vec<_>>();
    let mut out = assessment.clone();
    out.profile = map_profile(&assessment.profile, escape);
    out.python = escape(&assessment.python);
    out.files = each(&assessment.files);
    out.notes = each(&assessment.notes);
    for component in &mut out.components {
        component.name = escape(&component.name);
        component.summary = escape(&component.summary);
        for evidence in &mut component.evidence {
            evidence.file = escape(&evidence.file);
        }
    }
    for finding in &mut out.findings {
        map_finding(finding, escape);
    }
    // Findings the project's config waives, and its reasons: the config is the project's too.
    for suppressed in &mut out.suppressed {
        map_finding(&mut suppressed.finding, escape);
        suppressed.reason = suppressed.reason.as_deref().map(escape);
    }
    for option in &mut out.recommendations {
        option.id = escape(&option.id);
        option.title = escape(&option.title);
        option.best_for = escape(&option.best_for);
        option.steps = each(&option.steps);
        option.pros = each(&option.pros);
        option.cons = each(&option.cons);
    }
    for change in &mut out.changes {
        change.file = escape(&change.file);
        change.change = escape(&change.change);
        change.rule = escape(&change.rule);
    }
    if let Some(memory) = &mut out.memory {
        map_memory(memory, escape);
    }
    // Recipes: their file names, models and findings come from the project.
    for recipe in &mut out.recipes {
        recipe.file = escape(&recipe.file);
        recipe.kind = escape(&recipe.kind);
        recipe.model = recipe.model.as_deref().map(escape);
        recipe.summary = escape(&recipe.summary);
        if let Some(memory) = &mut recipe.memory {
            map_memory(memory, escape);
        }
        for finding in &mut recipe.findings {
            map_finding(finding, escape);
        }
        for change in &mut recipe.changes {
            change.file = escape(&change.file);
            change.change = escape(&change.change);
            change.rule = escape(&change.rule);
        }
    }
    out
}

fn map_memory(memory: &mut crate::assessment::MemoryOut, escape: &dyn Fn(&str) -> String) {
    memory.model = escape(&memory.model);
    memory.workload = escape(&memory.workload);
    memory.arithmetic = escape(&memory.arithmetic);
    memory.device = escape(&memory.device);
}

fn map_finding(finding: &mut Finding, escape: &dyn Fn(&str) -> String) {
    let each = |items: &[String]| items.iter().map(|s| escape(s)).collect::<Vec<_>>();
    finding.rule = escape(&finding.rule);
    finding.component = escape(&finding.component);
    finding.title = escape(&finding.title);
    finding.summary = escape(&finding.summary);
    finding.problem = escape(&finding.problem);
    finding.impact = each(&finding.impact);
    finding.solution = each(&finding.solution);
    finding.source = each(&finding.source);
    finding.verified = escape(&finding.verified);
    for evidence in &mut finding.evidence {
        evidence.file = escape(&evidence.file);
    }
}

/// The profile with every free-text string escaped. Enumerations (OS, architecture, vendor)
/// are left as they are: they can only hold their own safe words, and escaping their
/// spelling (`x86\_64`) would change their meaning.
fn map_profile(profile: &Profile, escape: &dyn Fn(&str) -> String) -> Profile {
    let text = |value: &mut Option<String>| {
        if let Some(value) = value {
            *value = escape(value);
        }
    };
    let mut out = profile.clone();
    text(&mut out.system.os_version);
    text(&mut out.system.model);
    text(&mut out.system.chip);
    if let Some(python) = &mut out.python {
        text(&mut python.version);
        text(&mut python.executable);
        python.packages = python
            .packages
            .iter()
            .map(|(name, version)| (escape(name), escape(version)))
            .collect();
        if let Some(torch) = &mut python.torch {
            text(&mut torch.cuda);
            text(&mut torch.hip);
        }
    }
    for gpu in &mut out.gpus {
        text(&mut gpu.name);
        text(&mut gpu.compute_capability);
        text(&mut gpu.driver_version);
        text(&mut gpu.cuda_version);
        text(&mut gpu.gfx_target);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_c1_and_bidi_are_shown() {
        assert_eq!(terminal("a\u{1b}]0;x\u{7}b"), "a\\u{1b}]0;x\\u{7}b");
        assert_eq!(terminal("ok\r❌"), "ok\\u{d}❌");
        assert_eq!(terminal("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m");
        assert_eq!(
            terminal("\u{202e}txt.exe\u{2066}"),
            "\\u{202e}txt.exe\\u{2066}"
        );
        assert_eq!(terminal("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert!(matches!(terminal("plain ≥ 3 ✅"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_metacharacters_are_escaped() {
        assert_eq!(
            markdown("[click](https://example.org)"),
            "\\[click\\](https://example.org)"
        );
        assert_eq!(markdown("a`b`|<img>"), "a`b`\\|\\<img>");
        assert_eq!(markdown("`[x](y)` and ``a`b``"), "`[x](y)` and ``a`b``");
        assert_eq!(markdown("one ` open"), "one \\` open");
        assert_eq!(markdown("``x`"), "\\`\\`x\\`");
        assert_eq!(markdown("x\n::error::y"), "x\\\\u{a}::error::y");
    }

    #[test]
    fn no_line_starts_a_workflow_command() {
        assert_eq!(
            no_workflow_commands("a\n  ::error file=a::x\n::warning::y"),
            "a\n  \\::error file=a::x\n\\::warning::y"
        );
        assert_eq!(terminal_lines("a\u{1b}\n::b\n"), "a\\u{1b}\n\\::b\n");
        assert_eq!(
            no_workflow_commands("\u{1b}[1m\u{1b}[31m ::error::x\u{1b}[0m\n"),
            "\u{1b}[1m\u{1b}[31m \\::error::x\u{1b}[0m\n"
        );
    }

    #[test]
    fn profile_strings_are_escaped_and_the_rest_kept() {
        let mut profile = Profile::default();
        profile.system.chip = Some("M2\u{1b}[2J".to_string());
        profile.system.arch = Some(crate::profile::Arch::X86_64);
        profile.system.memory = Some(crate::size::ByteSize(8 << 30));
        let mut gpu = crate::profile::Gpu::new(crate::profile::Vendor::Nvidia);
        gpu.name = Some("[A100](https://x)".to_string());
        profile.gpus.push(gpu);
        let escaped = map_profile(&profile, &markdown);
        assert_eq!(escaped.system.chip.as_deref(), Some("M2\\\\u{1b}\\[2J"));
        assert_eq!(
            escaped.gpus[0].name.as_deref(),
            Some("\\[A100\\](https://x)")
        );
        assert_eq!(escaped.system.arch, profile.system.arch);
        assert_eq!(escaped.system.memory, profile.system.memory);
    }
}
