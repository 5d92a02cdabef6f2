//! What the terminal can show: its width, whether it draws emoji, and whether colour is forced.
//! One place for the environment conventions, documented in the README ("Terminals").

use std::io::IsTerminal;

/// The columns to fit: the terminal's when stdout is one, else `COLUMNS`, else 100 (the width
/// a CI log or a pipe is read at).
pub fn width() -> usize {
    let measured = std::io::stdout()
        .is_terminal()
        .then(|| comfy_table::Table::new().width())
        .flatten();
    measured
        .map(usize::from)
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse().ok())
        })
        .unwrap_or(100)
        .max(40)
}

/// How the status icons can be drawn on this terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icons {
    /// ✅ ⚠️ ❌ ❔
    Emoji,
    /// `⚠` without its emoji selector, then a space: two columns whether or not the terminal
    /// honours the selector (tmux 3.3 draws `⚠️` one column wide, which shifted every ⚠️ row
    /// of a table one column left).
    NarrowWarning,
    /// `[ok] [warn] [FAIL] [?]`: terminals without emoji glyphs.
    Ascii,
}

/// The icons for this environment, from `lookup` (the process environment in the binary):
/// `MLCOMPAT_ASCII=1` or a console that has no emoji (`TERM=linux`, `TERM=dumb`) → ASCII;
/// `MLCOMPAT_EMOJI=narrow`, or tmux (`TMUX` set), → the narrow-safe warning;
/// `MLCOMPAT_EMOJI=wide` keeps the emoji where tmux is configured to draw them wide.
pub fn icons(lookup: impl Fn(&str) -> Option<String>) -> Icons {
    let set = |name: &str| lookup(name).is_some_and(|v| !v.is_empty() && v != "0");
    if set("MLCOMPAT_ASCII") {
        return Icons::Ascii;
    }
    match lookup("MLCOMPAT_EMOJI").as_deref() {
        Some("wide") => return Icons::Emoji,
        Some("narrow") => return Icons::NarrowWarning,
        Some("ascii") => return Icons::Ascii,
        _ => {}
    }
    if matches!(lookup("TERM").as_deref(), Some("linux" | "dumb")) {
        return Icons::Ascii;
    }
    if set("TMUX") {
        return Icons::NarrowWarning;
    }
    Icons::Emoji
}

/// Redraws a rendered report's `⚠️` as `⚠ ` for [`Icons::NarrowWarning`]: both are two columns
/// by Unicode's widths, so the tables laid out for one stay aligned with the other.
pub fn narrow_warnings(text: &str) -> String {
    text.replace("\u{26a0}\u{fe0f}", "\u{26a0} ")
}

/// Whether colour is forced under `--color auto` by `FORCE_COLOR` (any value but empty, `0` or
/// `false`; see force-color.org). `NO_COLOR` wins over it, as it does over `CLICOLOR_FORCE`,
/// and `--color always|never` wins over both.
pub fn force_color(lookup: impl Fn(&str) -> Option<String>) -> bool {
    let no_color = lookup("NO_COLOR").is_some_and(|v| !v.is_empty());
    let forced = lookup("FORCE_COLOR").is_some_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    forced && !no_color
}

/// The process environment, for [`icons`] and [`force_color`].
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Fits `(columns..., last)` rows to `width`: the first columns padded to their widest cell (each
/// at most `caps[i]`), the last wrapped under itself. When the last column would get fewer than
/// 24 characters, each row becomes its first columns on one line and the last wrapped below,
/// indented by 4. Words are never broken.
pub fn fit_rows(rows: &[Vec<String>], caps: &[usize], width: usize) -> String {
    let Some(columns) = rows.first().map(|r| r.len().saturating_sub(1)) else {
        return String::new();
    };
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
                .min(caps.get(i).copied().unwrap_or(usize::MAX))
        })
        .collect();
    let indent: usize = widths.iter().map(|w| w + 2).sum();
    let mut out = String::new();
    if width.saturating_sub(indent) >= 24 {
        let options = textwrap::Options::new(width - indent).break_words(false);
        for row in rows {
            let mut line = String::new();
            for (i, w) in widths.iter().enumerate() {
                let cell = row.get(i).map_or("", String::as_str);
                line.push_str(&format!("{cell:<w$}  "));
            }
            let last = row.last().map_or("", String::as_str);
            let wrapped = textwrap::wrap(last, &options);
            // A first column wider than its cap pushes its row's text right: start that text on
            // the next line, under the column, rather than past the width.
            let overflow = line.chars().count() > indent;
            for (n, part) in wrapped.iter().enumerate() {
                if n == 0 && !overflow {
                    out.push_str(&line);
                } else if n == 0 {
                    out.push_str(line.trim_end());
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                } else {
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str(part);
                out.push('\n');
            }
            if wrapped.is_empty() {
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
    } else {
        let options = textwrap::Options::new(width.saturating_sub(4).max(20))
            .initial_indent("    ")
            .subsequent_indent("    ")
            .break_words(false);
        for row in rows {
            // Aligned when the padded columns fit, else just separated.
            let head = if indent <= width {
                widths
                    .iter()
                    .enumerate()
                    .map(|(i, w)| format!("{:<w$}  ", row[i]))
                    .collect::<String>()
            } else {
                row[..columns].join("  ")
            };
            out.push_str(head.trim_end());
            out.push('\n');
            for part in textwrap::wrap(row.last().map_or("", String::as_str), &options) {
                out.push_str(&part);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn icons_follow_the_terminal() {
        assert_eq!(icons(env(&[("TERM", "xterm-256color")])), Icons::Emoji);
        assert_eq!(icons(env(&[("TERM", "linux")])), Icons::Ascii);
        assert_eq!(icons(env(&[("TERM", "dumb")])), Icons::Ascii);
        assert_eq!(
            icons(env(&[("TMUX", "/tmp/tmux-0/default,1,0")])),
            Icons::NarrowWarning
        );
        assert_eq!(
            icons(env(&[("TMUX", "x"), ("MLCOMPAT_EMOJI", "wide")])),
            Icons::Emoji
        );
        assert_eq!(
            icons(env(&[("MLCOMPAT_ASCII", "1"), ("MLCOMPAT_EMOJI", "wide")])),
            Icons::Ascii
        );
        assert_eq!(icons(env(&[("MLCOMPAT_ASCII", "0")])), Icons::Emoji);
    }

    #[test]
    fn the_narrow_warning_keeps_the_width() {
        assert_eq!(narrow_warnings("│ ⚠️ │ ✅ │"), "│ ⚠  │ ✅ │");
    }

    #[test]
    fn force_color_yields_to_no_color() {
        assert!(force_color(env(&[("FORCE_COLOR", "1")])));
        assert!(force_color(env(&[("FORCE_COLOR", "true")])));
        assert!(!force_color(env(&[("FORCE_COLOR", "0")])));
        assert!(!force_color(env(&[("FORCE_COLOR", "")])));
        assert!(!force_color(env(&[
            ("FORCE_COLOR", "1"),
            ("NO_COLOR", "1")
        ])));
        assert!(!force_color(env(&[])));
    }

    #[test]
    fn rows_fit_the_width_without_breaking_words() {
        let rows = vec![
            vec![
                "a-rule".to_string(),
                "fail".to_string(),
                "a title that is long enough to wrap around".to_string(),
            ],
            vec![
                "an-extremely-long-rule-identifier".to_string(),
                "ok".to_string(),
                "short".to_string(),
            ],
        ];
        let text = fit_rows(&rows, &[12, 4], 40);
        for line in text.lines() {
            assert!(line.chars().count() <= 40, "{line}");
        }
        assert!(text.contains("an-extremely-long-rule-identifier"));
        assert!(text.lines().any(|l| l.trim() == "short"));
        let narrow = fit_rows(&rows, &[30, 4], 40);
        let lines: Vec<&str> = narrow.lines().collect();
        assert_eq!(lines[0], format!("{:<30}  fail", "a-rule"), "{narrow}");
        assert_eq!(lines[1], "    a title that is long enough to");
    }
}
