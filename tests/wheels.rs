//! Packages judged from the package index through the real CLI: what pip would install on the
//! machine, from the snapshot compiled into mlcompat (never the network, never the user's cache).

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{Project, changes_of, component};

const M2: &str = "fixtures/profiles/macbook-m2-8gb.yaml";
const A100: &str = "fixtures/profiles/linux-a100-80gb.yaml";

/// `check --format json` with an empty cache folder, so only the built-in snapshot is read.
fn check(project: &Project, profile: &str) -> Value {
    let cache = tempfile::tempdir().expect("a temporary folder");
    let output = Command::cargo_bin("mlcompat")
        .expect("the binary is built")
        .env("MLCOMPAT_CACHE_DIR", cache.path())
        .args([
            "check",
            project.path(),
            "--profile",
            profile,
            "--format",
            "json",
        ])
        .output()
        .expect("mlcompat runs");
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

fn index_finding<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "index-wheel" && f["component"] == name)
        .unwrap_or_else(|| panic!("no index finding for {name} in {report:#}"))
}

#[test]
fn a_pin_without_a_wheel_for_the_python_fails_and_names_the_first_release_with_one() {
    let project = Project::with_requirements(&["torchvision==0.16.2"]);
    let report = check(&project, M2);
    assert_eq!(component(&report, "torchvision")["status"], "fail");
    let finding = index_finding(&report, "torchvision");
    assert_eq!(
        finding["title"],
        "torchvision 0.16.2 has no wheel for CPython 3.13 on macOS arm64; 0.21.0 is the first"
    );
    assert!(
        finding["source"][0]
            .as_str()
            .unwrap()
            .starts_with("https://pypi.org/simple/ (package index as of 2026-12-02)")
    );
    assert_eq!(
        changes_of(&report),
        vec!["requirements.txt:1 `torchvision==0.16.2` -> `torchvision>=0.21.0`"]
    );
    assert_eq!(report["verdict"], "fail");
}

#[test]
fn an_sdist_only_release_builds_from_source_and_says_what_the_build_needs() {
    let project = Project::with_requirements(&["tokenizers==0.12.1"]);
    let report = check(&project, A100);
    assert_eq!(component(&report, "tokenizers")["status"], "warn");
    let finding = index_finding(&report, "tokenizers");
    assert_eq!(finding["status"], "warn");
    assert!(
        finding["title"]
            .as_str()
            .unwrap()
            .contains("builds from source on CPython 3.11 on Linux x86_64"),
        "{finding:#}"
    );
    assert!(
        finding["impact"][0]
            .as_str()
            .unwrap()
            .contains("Rust toolchain"),
        "{finding:#}"
    );
}

#[test]
fn a_package_the_index_knows_and_that_installs_is_ok_not_unknown() {
    let project = Project::with_requirements(&["requests", "addict>=2"]);
    let report = check(&project, M2);
    for name in ["requests", "addict"] {
        assert_eq!(component(&report, name)["status"], "ok", "{name}");
        assert_eq!(index_finding(&report, name)["status"], "ok");
    }
    assert!(
        index_finding(&report, "requests")["summary"]
            .as_str()
            .unwrap()
            .contains("wheel for CPython 3.13 on macOS arm64")
    );
    assert_eq!(report["verdict"], "ok");
    assert_eq!(report["knowledge"]["index_as_of"], "2026-12-02");
    assert_eq!(report["knowledge"]["source"], "built-in snapshot");
}

#[test]
fn a_range_installs_its_newest_release_with_a_wheel() {
    // 0.16.2 to 0.21.0 are allowed; pip takes 0.21.0 and its cp313 wheel.
    let project = Project::with_requirements(&["torchvision>=0.16,<0.22"]);
    let report = check(&project, M2);
    let finding = index_finding(&report, "torchvision");
    assert_eq!(finding["status"], "ok", "{finding:#}");
    assert!(
        finding["title"]
            .as_str()
            .unwrap()
            .starts_with("torchvision 0.21.0 installs")
    );
}

#[test]
fn unknown_packages_and_source_urls_are_not_judged_from_the_index() {
    let project = Project::with_requirements(&[
        "surely-not-a-package-mlcompat-knows==1.0",
        "requests @ git+https://example.invalid/requests.git@v2.0",
    ]);
    let report = check(&project, M2);
    assert_eq!(
        component(&report, "surely-not-a-package-mlcompat-knows")["status"],
        "unknown"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "index-wheel"),
        "{report:#}"
    );
}

/// A direct reference to a wheel file says in its name (PEP 427) where it installs: pip takes a
/// pure-Python wheel anywhere and refuses one built for another platform.
#[test]
fn a_wheel_url_is_judged_by_its_file_name() {
    let project = Project::with_requirements(&[
        "https://github.com/oobabooga/gradio/releases/download/4.37.2-custom.20/gradio-4.37.2+custom.20-py3-none-any.whl",
        "llama-cpp-binaries @ https://example.invalid/v0.124.0/llama_cpp_binaries-0.124.0-py3-none-macosx_13_0_arm64.whl",
    ]);
    let on_mac = check(&project, M2);
    assert_eq!(component(&on_mac, "gradio")["status"], "ok", "{on_mac:#}");
    assert_eq!(component(&on_mac, "llama-cpp-binaries")["status"], "ok");
    let finding = index_finding(&on_mac, "gradio");
    assert!(
        finding["source"][0]
            .as_str()
            .unwrap()
            .ends_with("gradio-4.37.2+custom.20-py3-none-any.whl"),
        "{finding:#}"
    );
    let on_linux = check(&project, A100);
    assert_eq!(component(&on_linux, "gradio")["status"], "ok");
    assert_eq!(
        component(&on_linux, "llama-cpp-binaries")["status"],
        "fail",
        "{on_linux:#}"
    );
}

#[test]
fn torch_pulled_in_by_peft_meets_the_driver_rules_and_says_what_pulls_it_in() {
    let project = Project::with_requirements(&["peft"]);
    let report = check(&project, A100);
    let torch = component(&report, "torch");
    // Driver 535 cannot run PyPI's CUDA 13 builds of torch >= 2.11, which peft's `torch>=…` gets.
    assert_eq!(torch["status"], "warn", "{report:#}");
    assert!(
        torch["summary"]
            .as_str()
            .unwrap()
            .ends_with("(pulled in by peft (requirements.txt:1))"),
        "{torch:#}"
    );
    assert_eq!(torch["evidence"][0]["line"], 1);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["component"] == "torch"
                && f["rule"] != "index-wheel"
                && f["status"] == "warn")
    );
    // Nothing edits a line the project does not have: torch has none of its own.
    assert!(
        changes_of(&report).iter().all(|c| !c.contains("torch")),
        "{:?}",
        changes_of(&report)
    );
    // Only packages a rule can warn or fail about once installed are followed in: not numpy.
    assert!(
        report["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "numpy" && c["name"] != "pyyaml")
    );
}

#[test]
fn a_declared_package_is_not_implied_again() {
    let project = Project::with_requirements(&["peft", "torch==2.5.1"]);
    let report = check(&project, A100);
    let torch = component(&report, "torch");
    assert!(
        !torch["summary"].as_str().unwrap().contains("pulled in by"),
        "{torch:#}"
    );
}

#[test]
fn a_pair_pip_cannot_install_together_fails_with_the_pair_that_works() {
    let project = Project::with_requirements(&["torch==2.3.0", "torchvision==0.16.2"]);
    let report = check(&project, A100);
    assert_eq!(component(&report, "torchvision")["status"], "fail");
    let pair = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "index-pair")
        .unwrap_or_else(|| panic!("no pair finding in {report:#}"));
    assert_eq!(
        pair["title"],
        "torchvision 0.16.2 requires torch==2.1.2; torchvision 0.18.0 pairs with torch 2.3.0"
    );
    assert_eq!(
        changes_of(&report),
        vec!["requirements.txt:2 `torchvision==0.16.2` -> `torchvision==0.18.0`"]
    );
    assert_eq!(report["verdict"], "fail");
}

#[test]
fn a_range_pip_can_settle_within_is_not_a_conflict() {
    // torchvision>=0.16 allows 0.18.0, which pairs with torch 2.3.0: pip backtracks to it.
    let project = Project::with_requirements(&["torch==2.3.0", "torchvision>=0.16"]);
    let report = check(&project, A100);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "index-pair"),
        "{report:#}"
    );
}
