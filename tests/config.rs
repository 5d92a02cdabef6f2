//! The project's own settings (`mlcompat.toml`, `[tool.mlcompat]` in pyproject.toml): ignored
//! findings leave the verdict and are listed with their reason, flags win over the file, and a
//! mistake in the file is exit 2 naming its file and line.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const A100: &str = "fixtures/profiles/linux-a100-80gb.yaml";
const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";
/// The A100's only ⚠️ on the founding project.
const TORCH_CUDA13: &str = "torch-pypi-cuda-13-needs-driver-580";

/// A copy of the founding project with `files` added.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("fixtures/projects/qlora-founding").unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn check(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .env("COLUMNS", "100")
        .arg("check")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
        output.status.code().unwrap(),
    )
}

fn json(dir: &Path, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (out, _, code) = check(dir, &all);
    (serde_json::from_str(&out).expect("one JSON document"), code)
}

#[test]
fn an_ignored_finding_leaves_the_verdict_and_is_listed_with_its_reason() {
    let before = project(&[]);
    let (report, code) = json(before.path(), &["--profile", A100, "--fail-on", "warn"]);
    assert_eq!((report["verdict"].as_str(), code), (Some("warn"), 1));

    let toml = format!(
        "fail-on = \"warn\"\nignore = [{{ rule = \"{TORCH_CUDA13}\", component = \"torch\", reason = \"our runners have driver 580\" }}]\n"
    );
    let dir = project(&[("mlcompat.toml", &toml)]);
    let (report, code) = json(dir.path(), &["--profile", A100]);
    assert_eq!(report["verdict"], "ok");
    assert_eq!(
        code, 0,
        "fail-on warn from the file, and nothing warns any more"
    );
    assert_eq!(report["summary"]["warn"], 0);
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == TORCH_CUDA13)
    );
    assert!(report["changes"].as_array().unwrap().is_empty());
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["rule"], TORCH_CUDA13);
    assert_eq!(suppressed[0]["component"], "torch");
    assert_eq!(suppressed[0]["reason"], "our runners have driver 580");

    let (table, _, _) = check(dir.path(), &["--profile", A100, "--color", "never"]);
    // One paragraph (wrapped at the width) before the verdict.
    let paragraph: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("Ignored by the project's config"))
        .take_while(|l| !l.is_empty())
        .map(str::trim)
        .collect();
    let (markdown, _, _) = check(dir.path(), &["--profile", A100, "--format", "markdown"]);
    assert!(
        markdown.contains(&format!(
            "**Ignored by the project's config** (1): `{TORCH_CUDA13}` on torch (our runners have driver 580)"
        )),
        "{markdown}"
    );
    assert_eq!(
        paragraph.join(" "),
        format!(
            "Ignored by the project's config (1): {TORCH_CUDA13} on torch (our runners have driver 580)"
        )
    );
}

#[test]
fn pyproject_tool_mlcompat_is_read_and_rule_colon_component_works() {
    let pyproject = format!(
        "[project]\nname = \"demo\"\ndependencies = [\"torch>=2.1.0\"]\n\n[tool.mlcompat]\nfail-on = \"warn\"\nignore = [\"{TORCH_CUDA13}:torch\"]\n"
    );
    let dir = project(&[("pyproject.toml", &pyproject)]);
    let (report, code) = json(dir.path(), &["--profile", A100]);
    assert_eq!((report["verdict"].as_str(), code), (Some("ok"), 0));
    assert_eq!(report["suppressed"][0]["rule"], TORCH_CUDA13);
    assert!(report["suppressed"][0].get("reason").is_none());
}

#[test]
fn flags_win_over_the_file() {
    let dir = project(&[(
        "mlcompat.toml",
        "fail-on = \"warn\"\nprofiles = [\"machines/m2.yaml\"]\n",
    )]);
    std::fs::create_dir(dir.path().join("machines")).unwrap();
    std::fs::copy(M2, dir.path().join("machines/m2.yaml")).unwrap();
    // The file's profile (relative to the file) and fail-on.
    let (report, code) = json(dir.path(), &[]);
    assert_eq!(report["profile"]["system"]["os"], "macos");
    assert_eq!(code, 1);
    // --profile and --fail-on replace them.
    let (report, code) = json(dir.path(), &["--profile", A100, "--fail-on", "never"]);
    assert_eq!(report["profile"]["system"]["os"], "linux");
    assert_eq!(code, 0);
    // --no-config reads no file: the A100's ⚠️ is under the default fail-on.
    let (_, code) = json(dir.path(), &["--profile", A100, "--no-config"]);
    assert_eq!(code, 0);
    let (_, code) = json(dir.path(), &["--profile", A100]);
    assert_eq!(code, 1, "the file's fail-on = warn");
}

#[test]
fn mistakes_in_the_file_are_exit_2_with_file_and_line() {
    let dir = project(&[(
        "pyproject.toml",
        "[project]\nname = \"demo\"\n\n[tool.mlcompat]\nfail-on = \"warn\"\nfail_on = \"never\"\n",
    )]);
    let (_, stderr, code) = check(dir.path(), &["--profile", A100]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("pyproject.toml:6:1: unknown field `fail_on`"),
        "{stderr}"
    );

    let dir = project(&[("mlcompat.toml", "ignore = [\n  \"no-such-rule\",\n]\n")]);
    let (out, stderr, code) = check(dir.path(), &["--profile", A100, "--format", "json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("mlcompat.toml:2: ignore: no rule has the id `no-such-rule`"),
        "{stderr}"
    );
    let error: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(error["error"]["line"], 2);
}
