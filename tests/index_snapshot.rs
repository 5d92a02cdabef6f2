//! The snapshot that ships with mlcompat (index/snapshot/), read through the public API: real
//! facts from the index, what pip would install on real machines, the package list, and the
//! cache overlay `check` reads.

use std::str::FromStr;

use mlcompat::index::install::{Outcome, Why, choose};
use mlcompat::index::knowledge::{self, Knowledge};
use mlcompat::index::list::PackageList;
use mlcompat::index::{Libc, Package, Target, format, requires_dist};
use mlcompat::profile::{Arch, Os};
use pep440_rs::{Version, VersionSpecifiers};

fn package(name: &str) -> Package {
    Knowledge::builtin()
        .package(name)
        .map(|package| (*package).clone())
        .unwrap_or_else(|| panic!("{name} is in the snapshot"))
}

fn v(text: &str) -> Version {
    Version::from_str(text).unwrap()
}

fn spec(text: &str) -> VersionSpecifiers {
    VersionSpecifiers::from_str(text).unwrap()
}

/// The founding story's MacBook: Apple M2, macOS 14.5, Python 3.13.5.
fn macbook() -> Target {
    Target {
        macos: Some((14, 5)),
        ..Target::cpython("3.13.5", Os::Macos, Arch::Arm64).unwrap()
    }
}

fn linux(python: &str) -> Target {
    Target {
        libc: Some(Libc::Glibc(2, 35)),
        ..Target::cpython(python, Os::Linux, Arch::X86_64).unwrap()
    }
}

#[test]
fn torchvision_0_16_2_has_no_wheel_for_python_3_13_on_a_mac() {
    let torchvision = package("torchvision");
    let release = torchvision.release(&v("0.16.2")).unwrap();
    assert!(!release.wheels.iter().any(|tag| tag.starts_with("cp313")));
    assert!(!release.sdist);
    let choice = choose(&torchvision, Some(&spec("==0.16.2")), &macbook());
    assert_eq!(
        choice.outcome,
        Outcome::Nothing(Why::NoFile {
            version: v("0.16.2")
        })
    );
    // The first release with a CPython 3.13 wheel for an Apple-silicon Mac.
    let first = choice.nearest_wheel.clone().unwrap();
    assert!(first > v("0.16.2"));
    assert!(
        choice
            .describe("torchvision", &macbook())
            .starts_with(&format!(
                "torchvision 0.16.2 has no wheel for CPython 3.13 on macOS arm64; {first} is the first"
            ))
    );
    match choose(&torchvision, Some(&spec(&format!("=={first}"))), &macbook()).outcome {
        Outcome::Wheel { tag, .. } => assert!(tag.starts_with("cp313-cp313-macosx_"), "{tag}"),
        other => panic!("{other:?}"),
    }
    // On Python 3.11 the same pin installs.
    let py311 = Target {
        python: v("3.11.9"),
        ..macbook()
    };
    assert!(matches!(
        choose(&torchvision, Some(&spec("==0.16.2")), &py311).outcome,
        Outcome::Wheel { .. }
    ));
}

#[test]
fn torchvision_0_16_2_pairs_with_torch_2_1_2() {
    let torchvision = package("torchvision");
    let requires = requires_dist(&torchvision, &v("0.16.2"), &macbook(), &[]).unwrap();
    let torch = requires
        .iter()
        .find(|r| r.name.as_ref() == "torch")
        .unwrap();
    assert_eq!(torch.to_string(), "torch==2.1.2");
    // Extras stay out unless asked for.
    assert!(!requires.iter().any(|r| r.name.as_ref() == "scipy"));
    let with_scipy = requires_dist(&torchvision, &v("0.16.2"), &macbook(), &["scipy"]).unwrap();
    assert!(with_scipy.iter().any(|r| r.name.as_ref() == "scipy"));
    // Every release of a torch-paired package keeps its Requires-Dist.
    let with_wheels = torchvision
        .releases
        .iter()
        .filter(|r| !r.wheels.is_empty() && !r.yanked);
    for release in with_wheels.filter(|r| r.version >= v("0.10")) {
        assert!(
            release.requires_dist.is_some(),
            "torchvision {}",
            release.version
        );
    }
}

#[test]
fn tokenizers_0_12_1_builds_from_source_on_python_3_11() {
    let tokenizers = package("tokenizers");
    let release = tokenizers.release(&v("0.12.1")).unwrap();
    assert!(release.sdist);
    assert!(!release.wheels.iter().any(|tag| tag.starts_with("cp311")));
    let choice = choose(&tokenizers, Some(&spec("==0.12.1")), &linux("3.11.4"));
    assert_eq!(
        choice.outcome,
        Outcome::Sdist {
            version: v("0.12.1")
        }
    );
    assert!(choice.nearest_wheel.unwrap() > v("0.12.1"));
    // On 3.10 it has a wheel.
    assert!(matches!(
        choose(&tokenizers, Some(&spec("==0.12.1")), &linux("3.10.12")).outcome,
        Outcome::Wheel { .. }
    ));
}

#[test]
fn bitsandbytes_0_49_0_has_a_macos_14_wheel_for_apple_silicon() {
    let bnb = package("bitsandbytes");
    let release = bnb.release(&v("0.49.0")).unwrap();
    assert!(
        release
            .wheels
            .iter()
            .any(|t| t.ends_with("macosx_14_0_arm64"))
    );
    match choose(&bnb, Some(&spec("==0.49.0")), &macbook()).outcome {
        Outcome::Wheel { tag, macos, .. } => {
            assert_eq!(tag, "py3-none-macosx_14_0_arm64");
            assert_eq!(macos, Some((14, 0)));
        }
        other => panic!("{other:?}"),
    }
    // macOS 13 is below its floor.
    let ventura = Target {
        macos: Some((13, 6)),
        ..macbook()
    };
    assert!(!matches!(
        choose(&bnb, Some(&spec("==0.49.0")), &ventura).outcome,
        Outcome::Wheel { .. }
    ));
}

#[test]
fn peft_pulls_in_torch() {
    let peft = package("peft");
    let newest = peft.newest().unwrap().version.clone();
    let requires = requires_dist(&peft, &newest, &macbook(), &[]).unwrap();
    assert!(requires.iter().any(|r| r.name.as_ref() == "torch"));
}

#[test]
fn the_snapshot_is_dated_sized_and_covers_the_list() {
    let as_of = knowledge::snapshot_as_of().unwrap();
    assert!(format::is_date(as_of), "{as_of}");
    assert_eq!(Knowledge::builtin().index_as_of().as_deref(), Some(as_of));
    let count = knowledge::snapshot_len();
    assert!((300..=500).contains(&count), "{count} packages");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("index/snapshot");
    let bytes: u64 = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(bytes < 10 << 20, "{bytes} bytes");
    // Every file reads back, and writing it again gives the same text (the format is stable).
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let package = format::read(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(package.name, name);
        assert_eq!(format::write(&package), text, "{name}");
    }
    // Every listed name is in the snapshot or recorded as not on the index.
    let summary = std::fs::read_to_string(root.join("_snapshot.txt")).unwrap();
    let missing: Vec<&str> = summary
        .lines()
        .find_map(|l| l.strip_prefix("not-found "))
        .map(|l| l.split(' ').collect())
        .unwrap_or_default();
    for name in PackageList::builtin().all() {
        assert!(
            root.join(format!("{name}.txt")).exists() || missing.contains(&name.as_str()),
            "{name} is listed in index/packages.txt but not in the snapshot"
        );
    }
}

#[test]
fn the_package_list_names_every_package_the_rules_match() {
    /// `package:` conditions as the rule files write them: a name, or a map with `name` (and
    /// `installer: conda` for conda-only names, which PyPI does not serve).
    fn walk(value: &serde_json::Value, out: &mut Vec<(String, bool)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("package", serde_json::Value::String(name)) => {
                            out.push((name.clone(), false))
                        }
                        ("package", serde_json::Value::Object(fields)) => {
                            if let Some(name) = fields.get("name").and_then(|n| n.as_str()) {
                                let conda = fields.get("installer").and_then(|i| i.as_str())
                                    == Some("conda");
                                out.push((name.to_string(), conda));
                            }
                        }
                        _ => walk(inner, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    // Read from the rule files themselves, as data: the engine's compiled form is its own.
    let rules_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut names = Vec::new();
    let mut aliases = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(rules_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let file: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        for rule in file["rules"].as_array().into_iter().flatten() {
            walk(&rule["when"], &mut names);
        }
        for (from, to) in file["aliases"].as_object().into_iter().flatten() {
            aliases.insert(from.clone(), to.as_str().unwrap_or_default().to_string());
        }
    }
    let list = PackageList::builtin();
    let listed = list.all();
    let conda = list.section(mlcompat::index::list::CONDA_ONLY);
    assert!(names.len() > 100, "{} package conditions", names.len());
    let mut unlisted = Vec::new();
    for (name, conda_only) in names {
        let pip = mlcompat::names::normalize(aliases.get(&name).unwrap_or(&name));
        if conda_only || conda.contains(&pip) || pip.contains('*') || pip.contains('{') {
            continue;
        }
        if !listed.contains(&pip) && !unlisted.contains(&pip) {
            unlisted.push(pip);
        }
    }
    assert!(
        unlisted.is_empty(),
        "not in index/packages.txt: {unlisted:?}"
    );
}

#[test]
fn a_newer_cache_file_overlays_the_snapshot_and_a_broken_one_is_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let mut torch = package("torch");
    let newest = torch.releases.last().unwrap().version.clone();
    // A cache a day older than the snapshot is ignored.
    torch.as_of = "2000-01-01".into();
    torch.releases.pop();
    std::fs::write(dir.path().join("torch.txt"), format::write(&torch)).unwrap();
    let knowledge = Knowledge::with_cache(Some(dir.path().to_path_buf()));
    assert_eq!(
        knowledge
            .package("torch")
            .unwrap()
            .releases
            .last()
            .unwrap()
            .version,
        newest
    );
    // A newer one wins.
    torch.as_of = "2999-01-01".into();
    std::fs::write(dir.path().join("torch.txt"), format::write(&torch)).unwrap();
    let knowledge = Knowledge::with_cache(Some(dir.path().to_path_buf()));
    let cached = knowledge.package("Torch").unwrap();
    assert_eq!(cached.as_of, "2999-01-01");
    assert!(cached.releases.last().unwrap().version < newest);
    // A package the snapshot lacks comes from the cache alone.
    let mut extra = torch.clone();
    extra.name = "only-in-cache".into();
    std::fs::write(dir.path().join("only-in-cache.txt"), format::write(&extra)).unwrap();
    assert!(knowledge.package("only_in_cache").is_some());
    assert!(knowledge.package("not-known-anywhere").is_none());
    // A broken file: the snapshot, and a note that names the file and line.
    std::fs::write(
        dir.path().join("numpy.txt"),
        "mlcompat-index 1\nname numpy\nrelease x\n",
    )
    .unwrap();
    let numpy = knowledge.package("numpy").unwrap();
    assert_eq!(Some(numpy.as_of.as_str()), knowledge::snapshot_as_of());
    let notes = knowledge.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("numpy.txt:3"), "{notes:?}");
    // An over-size file is not read whole.
    std::fs::write(dir.path().join("scipy.txt"), vec![b'a'; 5 << 20]).unwrap();
    assert!(knowledge.package("scipy").is_some());
    assert_eq!(knowledge.notes().len(), 2);
    // How old the knowledge used is: the oldest date among the packages looked up.
    assert_eq!(
        knowledge.index_as_of().as_deref(),
        knowledge::snapshot_as_of()
    );
}

/// `check` loads only the packages a project names: looking up a few of the biggest packages,
/// with the snapshot embedded, stays within a few milliseconds even in a debug build.
#[test]
fn looking_up_packages_parses_only_those() {
    let knowledge = Knowledge::builtin();
    let start = std::time::Instant::now();
    for name in [
        "torch",
        "torchvision",
        "transformers",
        "numpy",
        "bitsandbytes",
        "peft",
    ] {
        assert!(knowledge.package(name).is_some(), "{name}");
    }
    let elapsed = start.elapsed();
    eprintln!("six lookups: {elapsed:?}");
    assert!(
        elapsed < std::time::Duration::from_millis(250),
        "{elapsed:?}"
    );
}

/// Every package in the snapshot, on every kind of machine: no panic, and an answer that holds
/// together (a wheel names a tag the release has; nothing installing names a reason).
#[test]
fn every_package_resolves_on_every_kind_of_machine() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("index/snapshot");
    let targets = [
        macbook(),
        Target::cpython("3.12.4", Os::Macos, Arch::X86_64).unwrap(),
        linux("3.11.4"),
        Target::cpython("3.13.1", Os::Linux, Arch::Arm64).unwrap(),
        Target::cpython("3.10.11", Os::Windows, Arch::X86_64).unwrap(),
        Target {
            free_threaded: true,
            ..linux("3.13.1")
        },
    ];
    let knowledge = Knowledge::builtin();
    let mut wheels = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let Some(package) = knowledge.package(&name) else {
            continue;
        };
        for target in &targets {
            let choice = choose(&package, None, target);
            if let Outcome::Wheel { version, tag, .. } = &choice.outcome {
                assert!(
                    package
                        .release(version)
                        .unwrap()
                        .wheels
                        .iter()
                        .any(|w| **w == **tag),
                    "{name}"
                );
                wheels += 1;
            }
            assert!(!choice.describe(&name, target).is_empty());
        }
    }
    assert!(wheels > 1500, "{wheels} wheel answers");
}

/// pip on an Intel Mac installs torch 2.2.2, the last release with macOS x86_64 wheels; on Linux
/// with the glibc unknown, the newest torch needs glibc 2.28, which is said.
#[test]
fn torch_on_an_intel_mac_and_on_a_linux_that_does_not_say_its_glibc() {
    let torch = package("torch");
    let intel = Target {
        macos: Some((14, 7)),
        ..Target::cpython("3.12.4", Os::Macos, Arch::X86_64).unwrap()
    };
    match choose(&torch, None, &intel).outcome {
        Outcome::Wheel { version, tag, .. } => {
            assert_eq!(version, v("2.2.2"));
            assert!(tag.ends_with("x86_64"), "{tag}");
        }
        other => panic!("{other:?}"),
    }
    let unknown_glibc = Target::cpython("3.12.4", Os::Linux, Arch::X86_64).unwrap();
    let choice = choose(&torch, None, &unknown_glibc);
    assert!(choice.assumed_glibc);
    let (newest, _, glibc) = choice.with_newer_glibc.clone().unwrap();
    assert_eq!(&newest, &torch.newest().unwrap().version);
    assert_eq!(glibc, (2, 28));
    assert!(choice.describe("torch", &unknown_glibc).contains(&format!(
        "torch {newest} needs glibc ≥ 2.28; this profile does not say"
    )));
}
