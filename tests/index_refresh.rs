//! `refresh` against an index served by the test itself on 127.0.0.1 (never the real network):
//! JSON pages, the HTML fallback, metadata files, metadata read out of a wheel by range
//! requests, errors, and the cache `check` then reads.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use mlcompat::index::Target;
use mlcompat::index::http::Client;
use mlcompat::index::install::{Outcome, choose};
use mlcompat::index::knowledge::Knowledge;
use mlcompat::index::refresh::{self, PackageError, Plan, RefreshError};
use mlcompat::profile::{Arch, Os};
use pep440_rs::Version;

/// A canned answer: status, content type, body.
type Reply = (u16, &'static str, Vec<u8>);

/// Serves `routes` on 127.0.0.1 until `Duration` passes, one connection at a time, honouring
/// `Range: bytes=-N` and `bytes=A-B`. Returns the base URL and the log of requested paths.
fn serve(routes: HashMap<String, Reply>, life: Duration) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut hits: HashMap<String, usize> = HashMap::new();
        let deadline = Instant::now() + life;
        while Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            let mut range = None;
            let mut accept = String::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
                let header = header.to_ascii_lowercase();
                if let Some(value) = header.strip_prefix("range: bytes=") {
                    range = Some(value.trim().to_string());
                }
                if let Some(value) = header.strip_prefix("accept: ") {
                    accept = value.trim().to_string();
                }
            }
            seen.lock().unwrap().push(path.clone());
            let hit = hits.entry(path.clone()).or_default();
            *hit += 1;
            let (mut status, content_type, mut body) = match path.as_str() {
                // Fails once, then answers: the client's one retry.
                "/simple/flaky/" if *hit == 1 => (503, "text/plain", b"busy".to_vec()),
                // Refuses JSON outright; answers a plain HTML request.
                "/simple/refuses-json/" if accept.contains("json") => {
                    (406, "text/plain", b"not acceptable".to_vec())
                }
                _ => {
                    routes
                        .get(&path)
                        .cloned()
                        .unwrap_or((404, "text/plain", b"not found".to_vec()))
                }
            };
            let mut extra = String::new();
            if let (Some(range), 200) = (range, status) {
                let total = body.len();
                let (start, end) = match range.split_once('-') {
                    Some(("", n)) => (total - n.parse::<usize>().unwrap().min(total), total - 1),
                    Some((a, b)) => (
                        a.parse().unwrap(),
                        b.parse::<usize>().unwrap().min(total - 1),
                    ),
                    None => (0, total - 1),
                };
                body = body[start..=end].to_vec();
                status = 206;
                extra = format!("Content-Range: bytes {start}-{end}/{total}\r\n");
            }
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
            let _ = stream.flush();
        }
    });
    (base, log)
}

/// A stored (uncompressed) zip holding `demo-N.dist-info/METADATA` after a larger module.
fn wheel_with_metadata(metadata: &str) -> Vec<u8> {
    let members = [
        ("demo/big.py", vec![b'#'; 100_000]),
        ("demo-1.0.dist-info/METADATA", metadata.as_bytes().to_vec()),
    ];
    let mut zip = Vec::new();
    let mut directory = Vec::new();
    for (name, data) in members {
        let offset = zip.len() as u32;
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        zip.extend_from_slice(&[20, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&[0; 8]);
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(&data);
        directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        directory.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0]);
        directory.extend_from_slice(&[0; 8]);
        directory.extend_from_slice(&(data.len() as u32).to_le_bytes());
        directory.extend_from_slice(&(data.len() as u32).to_le_bytes());
        directory.extend_from_slice(&(name.len() as u16).to_le_bytes());
        directory.extend_from_slice(&[0; 12]);
        directory.extend_from_slice(&offset.to_le_bytes());
        directory.extend_from_slice(name.as_bytes());
    }
    let cd_offset = zip.len() as u32;
    zip.extend_from_slice(&directory);
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0; 4]);
    zip.extend_from_slice(&2u16.to_le_bytes());
    zip.extend_from_slice(&2u16.to_le_bytes());
    zip.extend_from_slice(&(directory.len() as u32).to_le_bytes());
    zip.extend_from_slice(&cd_offset.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

const JSON: &str = "application/vnd.pypi.simple.v1+json";

/// An index with `demo` (JSON, a metadata file for 2.0, a wheel to read for 1.0), `htmlonly`
/// (an HTML page), `broken` (bad JSON).
fn index() -> HashMap<String, Reply> {
    let demo = r#"{"meta":{"api-version":"1.1"},"name":"demo","files":[
      {"filename":"demo-1.0-py3-none-any.whl","url":"/files/demo-1.0-py3-none-any.whl","hashes":{},
       "requires-python":">=3.8","upload-time":"2024-05-01T10:00:00Z"},
      {"filename":"demo-2.0-cp313-cp313-macosx_14_0_arm64.whl","url":"/files/demo-2.0-cp313-cp313-macosx_14_0_arm64.whl","hashes":{},
       "requires-python":">=3.10","core-metadata":{"sha256":"00"},"upload-time":"2025-05-01T10:00:00Z"},
      {"filename":"demo-2.0.tar.gz","url":"/files/demo-2.0.tar.gz","hashes":{},"requires-python":">=3.10"}
    ]}"#;
    let html = r#"<!DOCTYPE html><html><body>
      <a href="/files/htmlonly-0.3-py3-none-any.whl#sha256=00" data-requires-python="&gt;=3.9">htmlonly-0.3-py3-none-any.whl</a>
    </body></html>"#;
    let mut routes: HashMap<String, Reply> = HashMap::new();
    routes.insert(
        "/simple/demo/".into(),
        (200, JSON, demo.as_bytes().to_vec()),
    );
    routes.insert(
        "/files/demo-2.0-cp313-cp313-macosx_14_0_arm64.whl.metadata".into(),
        (
            200,
            "text/plain",
            b"Metadata-Version: 2.1\nName: demo\nVersion: 2.0\nRequires-Dist: torch==2.5.1\nRequires-Dist: colorama; sys_platform == \"win32\"\n\nbody\n".to_vec(),
        ),
    );
    routes.insert(
        "/files/demo-1.0-py3-none-any.whl".into(),
        (
            200,
            "application/octet-stream",
            wheel_with_metadata("Name: demo\nVersion: 1.0\nRequires-Dist: torch==2.1.2\n"),
        ),
    );
    routes.insert(
        "/simple/htmlonly/".into(),
        (200, "text/html", html.as_bytes().to_vec()),
    );
    routes.insert(
        "/simple/broken/".into(),
        (200, JSON, b"{\"files\": [".to_vec()),
    );
    for name in ["flaky", "refuses_json"] {
        let page = html.replace("htmlonly", name).into_bytes();
        routes.insert(
            format!("/simple/{}/", name.replace('_', "-")),
            (200, "text/html", page),
        );
    }
    routes
}

fn plan(base: &str, names: &[&str], out: &Path) -> Plan {
    Plan {
        index_url: format!("{base}/simple/"),
        names: names.iter().map(|n| n.to_string()).collect(),
        every_release: ["demo".to_string()].into_iter().collect(),
        out: out.to_path_buf(),
        summary_file: Some("_refresh.txt".into()),
        as_of: "2099-01-01".into(),
        max_requests: None,
    }
}

#[test]
fn refresh_reads_json_html_metadata_and_wheels_and_reports_what_changed() {
    let (base, log) = serve(index(), Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(&base, &["demo", "htmlonly", "broken", "absent"], dir.path());
    let mut client = Client::new();
    let mut seen = Vec::new();
    let summary = refresh::run(&plan, &mut client, &|_| None, &mut |done, total, name| {
        seen.push(format!("{done}/{total} {name}"))
    })
    .unwrap();
    assert_eq!(seen.first().map(String::as_str), Some("0/4 demo"));
    assert_eq!(summary.not_found, vec!["absent"]);
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].0, "broken");
    assert!(
        matches!(&summary.failed[0].1, PackageError::BadPage(m) if m.contains("bad JSON")),
        "{:?}",
        summary.failed
    );
    let changed: Vec<(String, usize)> = summary
        .changed
        .iter()
        .map(|(name, versions)| (name.clone(), versions.len()))
        .collect();
    assert_eq!(
        changed,
        vec![("demo".to_string(), 2), ("htmlonly".to_string(), 1)]
    );
    // htmlonly's wheel is not on the server: the release is kept without Requires-Dist.
    assert_eq!(
        summary.metadata_failed,
        vec![("htmlonly 0.3".to_string(), "HTTP 404".to_string())]
    );

    // The cache is what `check` reads.
    let knowledge = Knowledge::with_cache(Some(dir.path().to_path_buf()));
    let demo = knowledge.package("Demo").unwrap();
    assert_eq!(demo.as_of, "2099-01-01");
    assert_eq!(demo.releases.len(), 2);
    let two = &demo.releases[1];
    assert!(two.sdist);
    assert_eq!(two.requires_python.as_deref(), Some(">=3.10"));
    assert_eq!(two.uploaded.as_deref(), Some("2025-05-01"));
    let mac = Target {
        macos: Some((14, 5)),
        ..Target::cpython("3.13.5", Os::Macos, Arch::Arm64).unwrap()
    };
    let windows = Target::cpython("3.13.5", Os::Windows, Arch::X86_64).unwrap();
    let requires = |target: &Target, version: &str| -> Vec<String> {
        mlcompat::index::requires_dist(&demo, &Version::from_str(version).unwrap(), target, &[])
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect()
    };
    assert_eq!(requires(&mac, "2.0"), vec!["torch==2.5.1"]);
    assert_eq!(requires(&windows, "2.0").len(), 2);
    // 1.0's metadata came out of the wheel itself, by range requests.
    assert_eq!(requires(&mac, "1.0"), vec!["torch==2.1.2"]);
    assert!(matches!(
        choose(&demo, None, &mac).outcome,
        Outcome::Wheel { .. }
    ));
    assert!(matches!(
        choose(&demo, None, &windows).outcome,
        Outcome::Sdist { .. }
    ));
    let html = knowledge.package("htmlonly").unwrap();
    assert_eq!(html.releases[0].requires_python.as_deref(), Some(">=3.9"));
    assert!(
        knowledge
            .package("broken")
            .is_none_or(|p| p.as_of != "2099-01-01")
    );
    assert_eq!(knowledge.index_as_of().as_deref(), Some("2099-01-01"));

    // The wheel was never downloaded whole: only ranges of it were asked for, and few requests.
    let log = log.lock().unwrap().clone();
    assert!(
        log.iter().filter(|p| p.ends_with(".whl")).count() <= 3,
        "{log:?}"
    );
    assert_eq!(summary.requests, log.len());
    // Nothing half-written is left behind.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains("mlcompat-tmp"), "{name}");
    }

    // A second refresh reuses the metadata it has: pages only.
    let before = Knowledge::with_cache(Some(dir.path().to_path_buf()));
    let mut again = Client::new();
    let plan = self::plan(&base, &["demo"], dir.path());
    let second = refresh::run(
        &plan,
        &mut again,
        &|name| before.package(name).map(|p| (*p).clone()),
        &mut |_, _, _| {},
    )
    .unwrap();
    assert_eq!(second.requests, 1);
    assert_eq!(second.unchanged, 1);
    assert!(second.changed.is_empty());
}

#[test]
fn an_unreachable_index_stops_with_an_error_and_keeps_the_cache() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("demo.txt"), "kept").unwrap();
    let plan = plan(
        &format!("http://127.0.0.1:{port}"),
        &["demo", "other"],
        dir.path(),
    );
    let error = refresh::run(&plan, &mut Client::new(), &|_| None, &mut |_, _, _| {}).unwrap_err();
    assert!(matches!(error, RefreshError::Unreachable(_)), "{error}");
    assert!(error.to_string().contains("cannot reach"), "{error}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("demo.txt")).unwrap(),
        "kept"
    );
}

#[test]
fn the_refresh_command_reads_the_project_and_the_index_it_is_given() {
    // Every other name (the rules' packages) is answered 404 by the server.
    let (base, log) = serve(index(), Duration::from_secs(60));
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("requirements.txt"),
        "demo>=1\nhtmlonly\n",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .args(["refresh", project.path().to_str().unwrap(), "--index-url"])
        .arg(format!("{base}/simple/"))
        .env("MLCOMPAT_CACHE_DIR", cache.path())
        .env_remove("UV_INDEX_URL")
        .env_remove("PIP_INDEX_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("demo: 2 new releases (2.0, 1.0)"),
        "{stdout}"
    );
    assert!(stdout.contains("htmlonly: 1 new release (0.3)"), "{stdout}");
    assert!(stdout.contains("Not on this index: "), "{stdout}");
    // Not a terminal: plain progress lines on stderr.
    assert!(stderr.contains("] demo\n"), "{stderr}");
    let file = cache.path().join("index").join("demo.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("mlcompat-index 1\nname demo\n"), "{text}");
    // The project's packages and the rules' were asked for, nothing else.
    let log = log.lock().unwrap().clone();
    assert!(log.contains(&"/simple/demo/".to_string()));
    assert!(log.contains(&"/simple/torch/".to_string()));
    assert!(
        log.iter()
            .all(|p| p.starts_with("/simple/") || p.starts_with("/files/"))
    );

    // An index URL from the environment; bad JSON makes the run fail with exit 2.
    let (bad, _) = serve(
        [(
            "/simple/demo/".to_string(),
            (200u16, JSON, b"not json".to_vec()),
        )]
        .into_iter()
        .collect(),
        Duration::from_secs(60),
    );
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .args(["refresh", project.path().to_str().unwrap()])
        .env("MLCOMPAT_CACHE_DIR", cache.path())
        .env("UV_INDEX_URL", format!("{bad}/simple/"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("demo: bad JSON from the index"), "{stderr}");
    // The good file from the first run is still whole.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn an_unreachable_index_is_exit_2_with_the_url() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cache = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .args(["refresh", project.path().to_str().unwrap(), "--index-url"])
        .arg(format!("http://127.0.0.1:{port}/simple/"))
        .env("MLCOMPAT_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains(&format!("cannot reach http://127.0.0.1:{port}/simple/")),
        "{stderr}"
    );
}

#[test]
fn a_missing_project_is_exit_2_naming_it_before_any_request() {
    let cache = tempfile::tempdir().unwrap();
    let missing = cache.path().join("no-such-project");
    let output = Command::cargo_bin("mlcompat")
        .unwrap()
        .arg("refresh")
        .arg(&missing)
        // Nothing listens here: a request would fail differently.
        .args(["--index-url", "http://127.0.0.1:9/simple/"])
        .env("MLCOMPAT_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("no-such-project"), "{stderr}");
    assert!(!stderr.contains("cannot reach"), "{stderr}");
}

#[test]
fn a_server_error_is_retried_once_and_a_refused_negotiation_falls_back_to_html() {
    let (base, log) = serve(index(), Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(&base, &["flaky", "refuses-json"], dir.path());
    let summary = refresh::run(&plan, &mut Client::new(), &|_| None, &mut |_, _, _| {}).unwrap();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let names: Vec<&str> = summary.changed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["flaky", "refuses-json"]);
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log.iter().filter(|p| *p == "/simple/flaky/").count(),
        2,
        "{log:?}"
    );
    assert_eq!(
        log.iter().filter(|p| *p == "/simple/refuses-json/").count(),
        2,
        "{log:?}"
    );
}

/// A closed stdout (`>&-`) is exit 2 for refresh as for every command: its summary of what
/// changed had nowhere to go. (The cache is still written: the summary comes after.)
#[cfg(unix)]
#[test]
fn a_closed_stdout_is_exit_2() {
    let (base, _) = serve(index(), Duration::from_secs(60));
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("requirements.txt"), "demo>=1\n").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg("\"$0\" \"$@\" >&-")
        .arg(assert_cmd::cargo::cargo_bin("mlcompat"))
        .args(["refresh", project.path().to_str().unwrap(), "--index-url"])
        .arg(format!("{base}/simple/"))
        .env("MLCOMPAT_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("stdout: it is closed"), "{stderr}");
}
