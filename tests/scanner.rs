//! The project scanner on small projects written for each shape it must read, on generated
//! large inputs, and on the real-world corpus when it is present.

use std::path::{Path, PathBuf};

use mlcompat::profile::Profile;
use mlcompat::project::{self, Installer, MarkerTarget, Project};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

fn profile(name: &str) -> Profile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/profiles")
        .join(format!("{name}.yaml"));
    Profile::load(&path).expect("fixture profile loads")
}

fn scan(name: &str) -> Project {
    project::scan(&fixture(name)).expect("fixture scans")
}

fn package<'a>(project: &'a Project, name: &str) -> &'a project::PackageDecl {
    project
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} declared; found {:?}", names(project)))
}

fn names(project: &Project) -> Vec<&str> {
    project.packages.iter().map(|p| p.name.as_str()).collect()
}

fn has_note(project: &Project, needle: &str) -> bool {
    project.notes.iter().any(|n| n.contains(needle))
}

#[test]
fn requirements_includes_constraints_urls_and_options() {
    let project = scan("requirements-includes");
    // `-r base/common.txt` is found relative to the including file, with its own evidence.
    assert_eq!(
        package(&project, "scipy").evidence.to_string(),
        "base/common.txt:3"
    );
    // `-c` narrows a package declared elsewhere and declares nothing itself.
    assert_eq!(package(&project, "datasets").specifier, ">=2.14,<3");
    assert!(!names(&project).contains(&"pandas"));
    assert_eq!(project.constraints.len(), 2);
    // Inline comments, extras, markers, continuations and hashes.
    assert_eq!(package(&project, "torch").specifier, "==2.1.2");
    assert_eq!(
        package(&project, "transformers").extras,
        ["torch", "sentencepiece"]
    );
    let accelerate = package(&project, "accelerate");
    assert_eq!(
        (accelerate.specifier.as_str(), accelerate.evidence.line),
        (">=0.25.0", 10)
    );
    assert_eq!(package(&project, "tokenizers").specifier, "===0.15.0");
    assert_eq!(package(&project, "numpy").specifier, ">=1.24, !=1.25.0, <2");
    // Wheel URLs tell the platform and CUDA version they are built for.
    let flash = package(&project, "flash-attn");
    assert_eq!(flash.wheel_platform.as_deref(), Some("linux_x86_64"));
    assert_eq!(flash.wheel_cuda.as_deref(), Some("12.2"));
    let vision = package(&project, "torchvision");
    assert_eq!(vision.wheel_cuda.as_deref(), Some("12.4"));
    assert!(vision.marker.is_some());
    let llama = package(&project, "llama-cpp-binaries");
    assert_eq!(llama.wheel_platform.as_deref(), Some("macosx_13_0_arm64"));
    // VCS references, named by `#egg=` or the repository; `-e .` is the project itself.
    assert!(
        package(&project, "peft")
            .url
            .as_deref()
            .unwrap_or("")
            .starts_with("git+")
    );
    assert!(package(&project, "some-tool").editable);
    assert!(has_note(
        &project,
        "requirements.txt:17: `.` installs a local project"
    ));
    // Indexes and find-links; the CUDA index is a fact.
    assert_eq!(project.indexes[0].cuda_version().as_deref(), Some("12.1"));
    assert_eq!(project.indexes.len(), 3);
}

#[test]
fn markers_follow_the_machine() {
    let mut mac = scan("requirements-includes");
    let m2 = profile("macbook-m2-8gb");
    mac.apply_markers(&MarkerTarget::for_profile(&m2, Some("3.11.4")));
    let mac_names = names(&mac);
    assert!(
        !mac_names.contains(&"bitsandbytes"),
        "sys_platform == linux"
    );
    assert!(
        !mac_names.contains(&"torchvision"),
        "platform_machine == x86_64"
    );
    assert!(
        mac_names.contains(&"llama-cpp-binaries"),
        "platform_system == Darwin"
    );
    assert!(
        mac_names.contains(&"safetensors"),
        "platform_machine == arm64"
    );
    assert!(mac_names.contains(&"transformers"), "python_version >= 3.8");

    let mut linux = scan("requirements-includes");
    let a100 = profile("linux-a100-80gb");
    linux.apply_markers(&MarkerTarget::for_profile(&a100, Some("3.10.12")));
    let linux_names = names(&linux);
    assert!(linux_names.contains(&"bitsandbytes"));
    assert!(linux_names.contains(&"torchvision"));
    assert!(!linux_names.contains(&"llama-cpp-binaries"));
    assert!(!linux_names.contains(&"safetensors"));
}

#[test]
fn include_cycles_are_noted_not_followed() {
    let project = scan("requirements-cycle");
    assert_eq!(names(&project), ["torch", "numpy"]);
    assert_eq!(project.packages.len(), 2);
    assert!(has_note(&project, "include cycle"));
}

#[test]
fn a_missing_include_is_an_error_at_its_line() {
    let error = project::scan(&fixture("requirements-missing-include")).unwrap_err();
    assert_eq!(error.line(), Some(3));
    assert!(error.to_string().contains("does-not-exist.txt"), "{error}");
}

#[test]
fn bom_crlf_tabs_and_non_ascii_read_cleanly() {
    let project = scan("requirements-encoding");
    assert_eq!(names(&project), ["torch", "numpy", "accelerate"]);
    assert_eq!(package(&project, "numpy").specifier, ">=1.26");
    assert_eq!(package(&project, "accelerate").evidence.line, 4);
}

#[test]
fn the_variant_for_the_machine_is_read() {
    let path = fixture("requirements-variants");
    let mac = project::scan_for(&path, Some(&profile("macbook-m2-8gb"))).unwrap();
    assert_eq!(names(&mac), ["torch", "mlx"]);
    assert!(has_note(
        &mac,
        "requirements_apple_silicon.txt: read as the requirements variant"
    ));
    assert!(has_note(&mac, "requirements.txt: not read"));
    assert!(has_note(&mac, "requirements-dev.txt: not read"));
    let linux = project::scan_for(&path, Some(&profile("linux-a100-80gb"))).unwrap();
    assert_eq!(names(&linux), ["torch", "bitsandbytes", "flash-attn"]);
    assert!(has_note(&linux, "requirements_cpu_only.txt: not read"));
}

#[test]
fn conda_environments_with_pip_sections() {
    let project = scan("conda-env");
    let python = project.python.as_ref().unwrap();
    assert_eq!(
        (python.specifier.as_str(), python.evidence.line),
        ("3.10", 7)
    );
    let pytorch = package(&project, "pytorch");
    assert_eq!(
        (pytorch.installer, pytorch.specifier.as_str()),
        (Installer::Conda, "==2.1.0.*")
    );
    assert_eq!(package(&project, "cudatoolkit").specifier, "==11.8.0");
    assert_eq!(package(&project, "numpy").specifier, ">=1.24,<2");
    assert_eq!(package(&project, "pytorch-cuda").evidence.line, 9);
    assert!(names(&project).contains(&"cudnn"));
    // `pip:` entries, one of them a `-r` include.
    assert_eq!(package(&project, "peft").installer, Installer::Pip);
    assert_eq!(package(&project, "bitsandbytes").specifier, "==0.41.1");
}

#[test]
fn pyproject_pep_621_extras_groups_and_uv_indexes() {
    let project = scan("pyproject-pep621");
    assert_eq!(package(&project, "torch").extra, None);
    assert_eq!(
        package(&project, "bitsandbytes").extra.as_deref(),
        Some("gpu")
    );
    assert_eq!(package(&project, "vllm").extra.as_deref(), Some("serve"));
    assert!(
        !names(&project).contains(&"pytest"),
        "dev and test are not runtime"
    );
    assert!(
        !names(&project).contains(&"trainer"),
        "a self-reference is not a dependency"
    );
    assert_eq!(project.python.as_ref().unwrap().specifier, ">=3.10,<3.13");
    assert_eq!(project.indexes[0].cuda_version().as_deref(), Some("12.4"));
    assert_eq!(project.indexes[0].evidence.line, 25);
}

#[test]
fn poetry_constraints_become_pep_440() {
    let project = scan("pyproject-poetry");
    assert_eq!(package(&project, "torch").specifier, ">=2.1.0, <3.0.0");
    assert_eq!(package(&project, "transformers").specifier, ">=4.36, <4.37");
    assert_eq!(package(&project, "peft").specifier, ">=0.7, <0.8");
    assert_eq!(package(&project, "peft").extras, ["torch"]);
    assert_eq!(package(&project, "numpy").specifier, "==1.26.4");
    assert_eq!(
        package(&project, "bitsandbytes").extra.as_deref(),
        Some("quant")
    );
    assert!(package(&project, "bitsandbytes").marker.is_some());
    assert_eq!(package(&project, "wandb").extra.as_deref(), Some("train"));
    assert!(!names(&project).contains(&"pytest"));
    assert_eq!(project.python.as_ref().unwrap().specifier, ">=3.10,<4.0");
}

#[test]
fn setup_cfg_and_literal_setup_py() {
    let project = scan("setup-files");
    assert_eq!(
        package(&project, "torch").evidence.to_string(),
        "setup.cfg:6"
    );
    assert_eq!(
        package(&project, "bitsandbytes").extra.as_deref(),
        Some("quant")
    );
    assert_eq!(
        package(&project, "deepspeed").evidence.to_string(),
        "setup.py:6"
    );
    assert!(names(&project).contains(&"xformers"));
}

#[test]
fn unparsable_pyproject_is_an_error_naming_the_line() {
    let error = project::scan(&fixture("pyproject-broken")).unwrap_err();
    assert_eq!(error.line(), Some(1));
    assert!(error.to_string().contains("pyproject.toml"));
}

#[test]
fn training_configs_at_any_depth_in_yaml_and_json() {
    let project = scan("training-configs");
    let setting = |key: &str| {
        project
            .setting(key)
            .next()
            .unwrap_or_else(|| panic!("{key} found"))
    };
    assert_eq!(
        setting("load_in_4bit").evidence.to_string(),
        "train.yaml:11"
    );
    assert_eq!(setting("optim").value.to_string(), "paged_adamw_8bit");
    assert_eq!(
        setting("torch_dtype").evidence.to_string(),
        "nested/deeper/deep.yaml:9"
    );
    assert_eq!(setting("fp16").value.to_string(), "true");
    assert_eq!(setting("distributed_type").value.to_string(), "MULTI_GPU");
    let model = |name: &str| project.models.iter().find(|m| m.name == name).unwrap();
    assert_eq!(model("mistralai/Mixtral-8x7B-v0.1").params, Some(56e9));
    assert_eq!(model("Qwen/Qwen2.5-0.5B-Instruct").params, Some(0.5e9));
    // A size the config states beats the name's.
    assert_eq!(
        model("meta-llama/Llama-2-70b-hf").params,
        Some(68976648192.0)
    );
    assert_eq!(
        model("meta-llama/Llama-2-70b-hf").evidence.to_string(),
        "nested/trainer_config.json:2"
    );
    // `model: transformer` is not a model id; CI, docs, data and package.json are not configs.
    assert_eq!(project.models.len(), 3);
    assert!(
        project
            .files
            .iter()
            .all(|f| !f.starts_with(".github") && !f.starts_with("data"))
    );
    assert!(has_note(&project, "broken.yaml"));
    assert_eq!(project.setting("load_in_4bit").count(), 1);
}

#[test]
fn a_ten_thousand_line_requirements_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# generated\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "package-{i}[extra]>={i}.0,<{}.0 ; python_version >= \"3.8\"  # note\n",
            i + 1
        ));
    }
    std::fs::write(dir.path().join("requirements.txt"), text).unwrap();
    let project = project::scan(dir.path()).unwrap();
    assert_eq!(project.packages.len(), 10_000);
    assert_eq!(project.packages[9_999].evidence.line, 10_001);
}

#[test]
fn garbage_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: [&[u8]; 6] = [
        b"\xff\xfe\x00garbage",
        b"-r\n-c\n--index-url\n-e\n@@@\n[x]\n;;;\n",
        b"torch @\nfoo ; bogus_marker == 1\n==1\n\\",
        b"pkg @ https://x/y.whl#egg=\n-r ../../../../etc\n",
        b"a\\\n\\\n\\\n",
        b"\xef\xbb\xbf",
    ];
    for (i, input) in inputs.iter().enumerate() {
        let path = dir.path().join(format!("requirements-{i}.txt"));
        std::fs::write(&path, input).unwrap();
        let _ = project::scan(&path);
    }
    for (name, body) in [
        ("environment.yml", "dependencies: 3\n"),
        ("config.yaml", "- - - [\n"),
        ("x.json", "{\"a\": [1, {\"load_in_4bit\": null}]}"),
        ("pyproject.toml", "[project]\ndependencies = 3\n"),
        ("setup.py", "install_requires = [\"unterminated"),
        ("setup.cfg", "[options]\ninstall_requires =\n  ===\n"),
    ] {
        std::fs::write(dir.path().join(name), body).unwrap();
        let _ = project::scan(&dir.path().join(name));
    }
}

/// The real-world corpus (`../shared/corpus`, or `MLCOMPAT_CORPUS`), when present: every
/// project scans without error and something is read from each.
#[test]
fn every_corpus_project_scans() {
    let corpus = std::env::var_os("MLCOMPAT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        println!("skipped: no corpus at {}", corpus.display());
        return;
    };
    let mac = profile("macbook-m2-8gb");
    let mut scanned = 0;
    for entry in entries.flatten().filter(|e| e.path().is_dir()) {
        let path = entry.path();
        for machine in [None, Some(&mac)] {
            let project = project::scan_for(&path, machine)
                .unwrap_or_else(|e| panic!("{} fails: {e}", path.display()));
            assert!(
                !project.packages.is_empty() || !project.settings.is_empty(),
                "nothing read from {}",
                path.display()
            );
        }
        scanned += 1;
    }
    println!("scanned {scanned} corpus projects");
}
