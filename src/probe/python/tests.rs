use std::os::unix::fs::PermissionsExt;

use super::*;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/probe/python")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// An executable that fails the test if anything ever runs it.
fn never_run(path: &Path) {
    write(path, "#!/bin/sh\necho 'Python 9.9.9'\n");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A venv as `python -m venv` lays it out, with torch, bitsandbytes and an egg-info PyYAML.
fn venv(root: &Path) -> PathBuf {
    let site = root.join("lib/python3.11/site-packages");
    write(
        &root.join("pyvenv.cfg"),
        "home = /opt/python/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
    );
    never_run(&root.join("bin/python3"));
    write(
        &site.join("torch-2.15.0.dist-info/METADATA"),
        &fixture("torch-2.15.0-METADATA"),
    );
    write(
        &site.join("torch/version.py"),
        &fixture("torch-2.15.0-cu132-version.py"),
    );
    write(
        &site.join("bitsandbytes-0.50.2.dist-info/METADATA"),
        &fixture("Bitsandbytes-METADATA"),
    );
    write(
        &site.join("PyYAML-6.0.1-py3.11.egg-info/PKG-INFO"),
        &fixture("PyYAML-PKG-INFO"),
    );
    write(&site.join("typing_extensions-4.12.2.dist-info/RECORD"), "");
    root.join("bin/python3")
}

fn run_probe(executable: &Path, env: &Env, project: Option<&Path>) -> Probed {
    let mut probed = Probed::default();
    let mut python = Python::default();
    let runnable = !project.is_some_and(|p| inside(executable, p));
    read_version(executable, runnable, &mut python, &mut probed);
    read_packages(executable, env, &mut python, &mut probed);
    probed.profile.python = Some(python);
    probed
}

#[test]
fn a_venv_is_read_from_disk_with_its_packages_and_torch_build() {
    let dir = tempfile::tempdir().unwrap();
    let env = Env {
        virtual_env: Some(dir.path().join("venv")),
        ..Env::default()
    };
    let executable = venv(&dir.path().join("venv"));
    let found = find(None, &env, None, &mut Vec::new()).unwrap();
    assert_eq!(found.executable, executable);
    assert!(found.how.starts_with("VIRTUAL_ENV"), "{}", found.how);
    let probed = run_probe(&executable, &env, None);
    let python = probed.profile.python.unwrap();
    assert_eq!(python.version.as_deref(), Some("3.11.7"));
    let packages: Vec<_> = python
        .packages
        .iter()
        .map(|(k, v)| format!("{k}=={v}"))
        .collect();
    assert_eq!(
        packages,
        [
            "bitsandbytes==0.50.2",
            "pyyaml==6.0.1",
            "torch==2.15.0+cu132",
            "typing-extensions==4.12.2"
        ]
    );
    let torch = python.torch.unwrap();
    assert_eq!((torch.cuda.as_deref(), torch.hip), (Some("13.2"), None));
    assert!(probed.notes.is_empty(), "{:?}", probed.notes);
}

#[test]
fn a_pyenv_shim_is_resolved_without_running_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pyenv");
    never_run(&root.join("shims/python3"));
    never_run(&root.join("versions/3.11.7/bin/python3"));
    never_run(&root.join("versions/3.11.10/bin/python3"));
    never_run(&root.join("versions/3.12.4/bin/python3"));
    never_run(&dir.path().join("usr/bin/python3"));
    write(&root.join("version"), "3.11\n");
    let path = std::env::join_paths([root.join("shims"), dir.path().join("usr/bin")]).unwrap();
    let mut env = Env {
        path: Some(path),
        pyenv_root: Some(root.clone()),
        cwd: Some(dir.path().join("work")),
        ..Env::default()
    };
    let found = find(None, &env, None, &mut Vec::new()).unwrap();
    assert_eq!(
        found.executable,
        root.join("versions/3.11.10/bin/python3"),
        "a prefix picks the newest"
    );
    let (version, _) = version_on_disk(&found.executable, &mut Vec::new()).unwrap();
    assert_eq!(version, "3.11.10");

    write(&dir.path().join("work/.python-version"), "3.12.4\n");
    assert_eq!(
        find(None, &env, None, &mut Vec::new()).unwrap().executable,
        root.join("versions/3.12.4/bin/python3")
    );

    env.pyenv_version = Some("system".into());
    let found = find(None, &env, None, &mut Vec::new()).unwrap();
    assert_eq!(
        found.executable,
        dir.path().join("usr/bin/python3"),
        "system: the next on PATH"
    );
}

#[test]
fn nothing_inside_the_project_is_chosen_from_path_or_run() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    never_run(&project.join("bin/python3"));
    never_run(&project.join(".venv/bin/python3"));
    never_run(&dir.path().join("usr/bin/python3"));
    let path = std::env::join_paths([
        PathBuf::from("bin"),
        project.join("bin"),
        dir.path().join("usr/bin"),
    ])
    .unwrap();
    let canonical = std::fs::canonicalize(&project).unwrap();
    let env = Env {
        path: Some(path),
        cwd: Some(project.clone()),
        ..Env::default()
    };
    let found = find(None, &env, Some(&canonical), &mut Vec::new()).unwrap();
    assert_eq!(found.executable, dir.path().join("usr/bin/python3"));

    // A project-local venv without pyvenv.cfg is described but never run (it would say 9.9.9).
    let inner = project.join(".venv/bin/python3");
    let probed = run_probe(&inner, &env, Some(&canonical));
    assert_eq!(probed.profile.python.unwrap().version, None);
    assert!(
        probed
            .notes
            .iter()
            .any(|n| n.contains("inside the audited project")),
        "{:?}",
        probed.notes
    );
}

#[test]
fn a_conda_environment_states_its_version_in_conda_meta() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("envs/ml");
    never_run(&prefix.join("bin/python3"));
    write(
        &prefix.join("conda-meta/python-3.10.14-hd12c33a_0_cpython.json"),
        "{}",
    );
    write(
        &prefix.join("conda-meta/pytorch-2.3.0-py3.10_cuda12.1_cudnn8.9.2_0.json"),
        "{}",
    );
    let (version, origin) = version_on_disk(&prefix.join("bin/python3"), &mut Vec::new()).unwrap();
    assert_eq!(version, "3.10.14");
    assert!(
        origin.ends_with("python-3.10.14-hd12c33a_0_cpython.json"),
        "{origin}"
    );
}

#[test]
fn reads_every_torch_version_file_style() {
    let read = |name: &str| parse_torch_version(&fixture(name));
    let (version, build) = read("torch-2.15.0-cu132-version.py");
    assert_eq!(
        (version.as_deref(), build.cuda.as_deref()),
        (Some("2.15.0+cu132"), Some("13.2"))
    );
    let (version, build) = read("torch-2.1.2-cu121-version.py");
    assert_eq!(
        (version.as_deref(), build.cuda.as_deref()),
        (Some("2.1.2+cu121"), Some("12.1"))
    );
    let (_, build) = read("torch-2.5.1-rocm6.2-version.py");
    assert_eq!(
        (build.cuda, build.hip.as_deref()),
        (None, Some("6.2.41133-dd7f95766"))
    );
    let (version, build) = read("torch-2.5.1-macos-version.py");
    assert_eq!(
        (version.as_deref(), build),
        (Some("2.5.1"), TorchBuild::default())
    );
    assert_eq!(
        parse_torch_version("garbage = = '"),
        (None, TorchBuild::default())
    );
}

#[test]
fn versions_in_folder_names_and_files() {
    assert_eq!(full_version_in("3.11.7").as_deref(), Some("3.11.7"));
    assert_eq!(
        full_version_in("cpython-3.12.4-linux-x86_64-gnu").as_deref(),
        Some("3.12.4")
    );
    assert_eq!(full_version_in("3.14.0rc1").as_deref(), Some("3.14.0rc1"));
    assert_eq!(full_version_in("python@3.13"), None);
    assert_eq!(full_version_in("13.2.1"), None);
    assert_eq!(
        pyvenv_version("version_info = 3.12.1.final.0\n").as_deref(),
        Some("3.12.1")
    );
    assert_eq!(
        minor_from_name(Path::new("/usr/bin/python3.11")).as_deref(),
        Some("3.11")
    );
    assert_eq!(
        first_version("# pinned\n3.11.7:3.10.13\n").as_deref(),
        Some("3.11.7")
    );
    assert_eq!(parse_version("Python 3.13.5\n").as_deref(), Some("3.13.5"));
    assert_eq!(parse_version("garbage"), None);
}

#[test]
fn a_venv_uv_made_says_so_in_pyvenv_cfg() {
    let uv = "home = /x/bin\nimplementation = CPython\nuv = 0.4.18\nversion_info = 3.12.1\n";
    assert!(made_by_uv(uv));
    assert!(!made_by_uv("home = /usr/bin\nversion = 3.11.7\n"));
    assert!(!made_by_uv("home = /opt/uv/bin\n"));
}

#[test]
fn reads_the_architecture_of_an_interpreter_binary() {
    let mut macho_x86 = [0u8; 20];
    macho_x86[..8].copy_from_slice(&[0xcf, 0xfa, 0xed, 0xfe, 0x07, 0x00, 0x00, 0x01]);
    assert_eq!(header_arch(&macho_x86), Some(Arch::X86_64));
    let mut macho_arm = macho_x86;
    macho_arm[4] = 0x0c;
    assert_eq!(header_arch(&macho_arm), Some(Arch::Arm64));
    let mut fat = [0u8; 20];
    fat[..4].copy_from_slice(&[0xca, 0xfe, 0xba, 0xbe]);
    assert_eq!(header_arch(&fat), None, "a universal binary runs natively");
    let mut elf = [0u8; 20];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[18] = 0xb7;
    assert_eq!(header_arch(&elf), Some(Arch::Arm64));
    assert_eq!(binary_arch(Path::new("/nonexistent/python3")), None);
}

#[test]
fn an_x86_64_python_on_an_arm64_mac_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let python3 = dir.path().join("python3");
    let mut header = vec![0xcf, 0xfa, 0xed, 0xfe, 0x07, 0x00, 0x00, 0x01];
    header.resize(64, 0);
    std::fs::write(&python3, header).unwrap();
    let mut probed = Probed::default();
    probed.profile.system.os = Some(Os::Macos);
    probed.profile.system.arch = Some(Arch::Arm64);
    let mut python = Python::default();
    read_arch(&python3, &mut python, &mut probed);
    assert_eq!(python.arch, Some(Arch::X86_64));
    assert!(probed.notes[0].contains("Rosetta"), "{:?}", probed.notes);
}

#[test]
fn names_and_versions_come_from_folder_names_without_opening_metadata() {
    assert_eq!(
        from_folder_name("torch-2.1.0+cpu.dist-info"),
        Some(("torch".to_string(), "2.1.0+cpu".to_string()))
    );
    assert_eq!(
        from_folder_name("typing_extensions-4.12.2.dist-info"),
        Some(("typing_extensions".to_string(), "4.12.2".to_string()))
    );
    assert_eq!(
        from_folder_name("PyYAML-6.0.1-py3.11.egg-info"),
        Some(("PyYAML".to_string(), "6.0.1".to_string()))
    );
    // No version, or not the shape of one: the metadata header is read instead.
    assert_eq!(from_folder_name("mypkg.egg-info"), None);
    assert_eq!(from_folder_name("evil.dist-info"), None);
    assert_eq!(from_folder_name("foo-bar-1.0.dist-info"), None);

    // A METADATA that would say otherwise is not opened when the folder name says it all.
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("demo-1.0.dist-info/METADATA"),
        "Name: other\nVersion: 9.9\n",
    );
    write(
        &dir.path().join("dev.egg-info/PKG-INFO"),
        "Name: Dev_Pkg\nVersion: 0.1.dev0\n",
    );
    let found = read_distributions(dir.path(), &mut Vec::new());
    let found: Vec<String> = found.iter().map(|(k, v)| format!("{k}=={v}")).collect();
    assert_eq!(found, ["demo==1.0", "dev-pkg==0.1.dev0"]);
}
