//! Scanning speed on generated inputs: a 10,000-line requirements file and a 2,000-file project
//! tree, each written into a temporary folder. Run with `cargo bench --bench scan`; the goal is
//! under 20 ms for each. Plain timing with `std::time` keeps the project free of a benchmark
//! dependency; it reports the median of repeated runs.

use std::path::Path;
use std::time::{Duration, Instant};

use mlcompat::project;

const RUNS: usize = 30;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(label: &str, path: &Path) {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let scanned = project::scan(path).expect("generated project scans");
        times.push(start.elapsed());
        std::hint::black_box(scanned);
    }
    println!("{label}: median {:?} over {RUNS} runs", median(times));
}

fn requirements_file(dir: &Path) {
    let mut text =
        String::from("# generated\n--index-url https://download.pytorch.org/whl/cu121\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "package-{i}[extra]>={i}.0,<{}.0 ; python_version >= \"3.8\"  # pinned\n",
            i + 1
        ));
    }
    std::fs::write(dir.join("requirements.txt"), text).expect("write");
}

/// 2,000 files in 40 folders: sources, data, a few configs and manifests, as a real tree mixes.
fn project_tree(dir: &Path) {
    std::fs::write(dir.join("requirements.txt"), "torch>=2.1\ntransformers\n").expect("write");
    for folder in 0..40 {
        let sub = dir.join(format!("pkg{folder}/sub"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        for file in 0..48 {
            std::fs::write(sub.join(format!("module{file}.py")), "x = 1\n").expect("write");
        }
        std::fs::write(
            sub.join("train.yaml"),
            "model_name_or_path: meta-llama/Llama-2-7b-hf\nbf16: true\nper_device_train_batch_size: 4\n",
        )
        .expect("write");
        std::fs::write(
            sub.join("meta.json"),
            "{\"name\": \"x\", \"items\": [1, 2, 3]}\n",
        )
        .expect("write");
    }
}

fn main() {
    let requirements = tempfile::tempdir().expect("tempdir");
    requirements_file(requirements.path());
    time("10,000-line requirements.txt", requirements.path());
    let tree = tempfile::tempdir().expect("tempdir");
    project_tree(tree.path());
    time("2,000-file project tree", tree.path());
}
