//! Linux distributions: the os-release file, and the glibc each release ships.
//!
//! Which manylinux wheels install depends on the machine's glibc. A probed profile states it;
//! a hand-written one usually names only its distro ("Ubuntu 22.04"), and DESIGN.md takes the
//! glibc from the release it names. Only releases whose glibc is a fact of the release (a stable
//! distribution never moves its glibc to a new upstream version) are in the table; anything
//! else stays unknown.

/// The fields of an os-release file that mlcompat uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `PRETTY_NAME`: "Debian GNU/Linux 12 (bookworm)".
    pub pretty_name: Option<String>,
    /// `ID`: "debian", "ubuntu", "rhel".
    pub id: Option<String>,
    /// `VERSION_ID`: "12", "22.04", "9.4".
    pub version_id: Option<String>,
}

/// Parses os-release(5): `KEY=value` lines, values optionally in single or double quotes with
/// backslash escapes. Control characters are dropped, as the name reaches a terminal.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut release = OsRelease::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        let value = Some(value).filter(|v| !v.is_empty());
        match key.trim() {
            "PRETTY_NAME" => release.pretty_name = value,
            "ID" => release.id = value,
            "VERSION_ID" => release.version_id = value,
            _ => {}
        }
    }
    release
}

fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The glibc a distro release ships, by its name as os-release's PRETTY_NAME (or a person)
/// writes it. Seen on primary pages on 2026-12-02: packages.debian.org/src:glibc (bullseye
/// 2.31-13, bookworm 2.36-9) and docs.aws.amazon.com/linux/al2023/ug/core-glibc (AL2023: 2.34).
/// From the distros' glibc package versions, not re-read that day: launchpad.net's glibc for
/// Ubuntu (focal 2.31, jammy 2.35, noble 2.39), Debian trixie's 2.41, the RHEL 8/9 packages
/// (glibc-2.28-*.el8, glibc-2.34-*.el9, rebuilt unchanged by Rocky and Alma) and Amazon Linux
/// 2's glibc-2.26 (also the version of Anaconda's glibc-amzn2 CDT package).
const GLIBC: [(&str, &str, &str); 14] = [
    // (name as written, release, glibc)
    ("ubuntu", "20.04", "2.31"),
    ("ubuntu", "22.04", "2.35"),
    ("ubuntu", "24.04", "2.39"),
    ("debian", "11", "2.31"),
    ("debian", "12", "2.36"),
    ("debian", "13", "2.41"),
    ("red hat enterprise linux", "8", "2.28"),
    ("red hat enterprise linux", "9", "2.34"),
    ("rocky linux", "8", "2.28"),
    ("rocky linux", "9", "2.34"),
    ("almalinux", "8", "2.28"),
    ("almalinux", "9", "2.34"),
    ("amazon linux", "2", "2.26"),
    ("amazon linux", "2023", "2.34"),
];

/// The glibc of the release `distro` names ("Ubuntu 22.04.4 LTS", "Debian GNU/Linux 12
/// (bookworm)", "Rocky Linux 9.4 (Blue Onyx)", "Amazon Linux 2023"), or `None` for a release
/// not in the table. A point release keeps its release's glibc (22.04.4 is 22.04), but
/// "Amazon Linux 2" is not "Amazon Linux 2023".
pub fn glibc_of(distro: &str) -> Option<&'static str> {
    let lower = distro.to_ascii_lowercase();
    GLIBC.iter().find_map(|(name, release, glibc)| {
        let rest = lower.strip_prefix(name)?;
        // Debian writes "Debian GNU/Linux 12"; RHEL "Red Hat Enterprise Linux 9.4 (Plow)".
        let rest = rest.trim_start_matches(" gnu/linux").trim_start();
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let matches = number == *release
            || number
                .strip_prefix(release)
                .is_some_and(|tail| tail.starts_with('.'));
        matches.then_some(*glibc)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_os_release_with_quotes_and_escapes() {
        let release = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n# comment\nBAD\nX='a \\\"b\\\"'\n",
        );
        assert_eq!(
            release.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(release.id.as_deref(), Some("debian"));
        assert_eq!(release.version_id.as_deref(), Some("12"));
        let hostile = parse_os_release("PRETTY_NAME=\"Evil\u{1b}[2J OS\"\n");
        assert_eq!(hostile.pretty_name.as_deref(), Some("Evil[2J OS"));
    }

    #[test]
    fn known_releases_give_their_glibc_and_others_none() {
        for (distro, glibc) in [
            ("Ubuntu 22.04.4 LTS", Some("2.35")),
            ("Ubuntu 20.04", Some("2.31")),
            ("Ubuntu 24.04.1 LTS", Some("2.39")),
            ("Debian GNU/Linux 12 (bookworm)", Some("2.36")),
            ("Debian GNU/Linux 13 (trixie)", Some("2.41")),
            ("Debian 11", Some("2.31")),
            ("Red Hat Enterprise Linux 9.4 (Plow)", Some("2.34")),
            ("Rocky Linux 8.10 (Green Obsidian)", Some("2.28")),
            ("AlmaLinux 9.5 (Teal Serval)", Some("2.34")),
            ("Amazon Linux 2", Some("2.26")),
            ("Amazon Linux 2023.6.20241212", Some("2.34")),
            ("Ubuntu 22.10", None),
            ("Ubuntu 2.04", None),
            ("Debian GNU/Linux trixie/sid", None),
            ("Arch Linux", None),
            ("Fedora Linux 41", None),
        ] {
            assert_eq!(glibc_of(distro), glibc, "{distro}");
        }
    }
}
