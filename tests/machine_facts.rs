//! The machine facts the probe now reads (distro, libc, CPU features) as a saved profile carries
//! them: the report names a Linux machine by its distro and says its glibc (stated, or taken
//! from a known release), and rules can test CPU features.

use assert_cmd::Command;
use serde_json::Value;

fn mlcompat(dir: &std::path::Path, args: &[&str]) -> (String, i32) {
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .current_dir(dir)
        .env("COLUMNS", "100")
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap(),
        output.status.code().unwrap(),
    )
}

const RULE: &str = r#"rules:
  - id: demo-needs-avx2
    component: demo
    when:
      all:
        - package: demo
        - not: { cpu_feature: [avx2, fma] }
    status: fail
    title: "demo needs AVX2 and FMA"
    problem: "Its wheels are built for x86-64-v3."
    source: "https://example.org/demo"
    verified: 2026-12-02
"#;

fn setup(profiles: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "demo==1.0\n").unwrap();
    std::fs::write(dir.path().join("rule.yaml"), RULE).unwrap();
    for (name, text) in profiles {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn status(dir: &std::path::Path, profile: &str) -> String {
    let (out, _) = mlcompat(
        dir,
        &[
            "check",
            ".",
            "--rules",
            "rule.yaml",
            "--profile",
            profile,
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "demo")
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_cpu_feature_condition_holds_fails_or_is_unknown() {
    let base = "schema_version: 1\nsystem: { os: linux, arch: x86_64";
    let dir = setup(&[
        (
            "v3.yaml",
            &format!("{base}, cpu_features: [avx, avx2, fma] }}\n"),
        ),
        (
            "v2.yaml",
            &format!("{base}, cpu_features: [sse4_2, avx] }}\n"),
        ),
        ("unsaid.yaml", &format!("{base} }}\n")),
    ]);
    // Has both: the rule does not fire, and nothing else judges demo.
    assert_eq!(status(dir.path(), "v3.yaml"), "unknown");
    assert_eq!(status(dir.path(), "v2.yaml"), "fail");
    // A profile that lists no features cannot say the CPU lacks them.
    assert_eq!(status(dir.path(), "unsaid.yaml"), "unknown");
}

#[test]
fn a_misspelt_cpu_feature_is_refused_with_its_rule() {
    let dir = setup(&[]);
    std::fs::write(
        dir.path().join("rule.yaml"),
        RULE.replace("[avx2, fma]", "avx-2"),
    )
    .unwrap();
    let (out, code) = mlcompat(dir.path(), &["rules", "lint", "rule.yaml"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("cpu_feature `avx-2`"), "{out}");
}

#[test]
fn the_report_names_the_distro_and_its_glibc() {
    let dir = setup(&[
        (
            "ubuntu.yaml",
            "schema_version: 1\nsystem: { os: linux, os_version: '22.04', distro: Ubuntu 22.04.4 LTS }\n",
        ),
        (
            "stated.yaml",
            "schema_version: 1\nsystem: { os: linux, distro: Debian GNU/Linux 12 (bookworm), libc: { family: glibc, version: '2.36' } }\n",
        ),
        (
            "alpine.yaml",
            "schema_version: 1\nsystem: { os: linux, distro: Alpine Linux v3.20, libc: { family: musl } }\n",
        ),
        (
            "bare.yaml",
            "schema_version: 1\nsystem: { os: linux, os_version: '22.04' }\n",
        ),
    ]);
    for (profile, line) in [
        (
            "ubuntu.yaml",
            "OS       Ubuntu 22.04.4 LTS; glibc 2.35 (the distro release's)",
        ),
        (
            "stated.yaml",
            "OS       Debian GNU/Linux 12 (bookworm); glibc 2.36",
        ),
        (
            "alpine.yaml",
            "OS       Alpine Linux v3.20; musl (version unknown)",
        ),
        ("bare.yaml", "OS       Linux 22.04; libc unknown"),
    ] {
        let (out, _) = mlcompat(
            dir.path(),
            &["check", ".", "--profile", profile, "--color", "never"],
        );
        assert!(
            out.lines().any(|l| l.trim_end() == format!("  {line}")),
            "{profile}:\n{out}"
        );
    }
}
