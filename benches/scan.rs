//! Scanning speed on generated inputs: a 10,000-line requirements file, a 2,000-file project
//! tree and a project of 1,000 Python files (each parsed for imports and CUDA assumptions), each
//! written into a temporary folder. Run with `cargo bench --bench scan`; the goal is
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

/// 1,000 Python modules of about 40 lines (imports, a model class, a training step), in 20
/// packages, next to a requirements.txt. With `cuda`, every training step puts tensors on CUDA
/// (the whole file must be parsed); without, none does (as in most modules of a real project),
/// and only the imports' part of each file is parsed.
fn python_project(dir: &Path, cuda: bool) {
    let device = if cuda { "cuda" } else { "cpu" };
    let to_device = if cuda { "model.cuda()" } else { "model" };
    std::fs::write(dir.join("requirements.txt"), "torch>=2.1\nnumpy\n").expect("write");
    for package in 0..20 {
        let folder = dir.join(format!("pkg{package}"));
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join("__init__.py"), "").expect("write");
        for module in 0..50 {
            let text = format!(
                r#""""Module {module} of package {package}."""
import os
import math
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from pkg{package} import helpers


class Block{module}(nn.Module):
    def __init__(self, width: int = 64, dropout: Optional[float] = 0.1):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout or 0.0)

    def forward(self, x):
        return self.dropout(self.norm(torch.relu(self.linear(x))))


def train_step(model, batch, optimizer, scale=math.sqrt(2)):
    model = {to_device}
    inputs = batch["inputs"].to("{device}")
    loss = model(inputs).pow(2).mean() * scale
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss)


def loader(dataset, batch_size=int(os.environ.get("BATCH", "8"))):
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2)


if __name__ == "__main__":
    print(train_step(Block{module}(), {{"inputs": torch.randn(4, 64)}}, None))
"#
            );
            std::fs::write(folder.join(format!("module{module}.py")), text).expect("write");
        }
    }
}

fn main() {
    let requirements = tempfile::tempdir().expect("tempdir");
    requirements_file(requirements.path());
    time("10,000-line requirements.txt", requirements.path());
    let tree = tempfile::tempdir().expect("tempdir");
    project_tree(tree.path());
    time("2,000-file project tree", tree.path());
    let python = tempfile::tempdir().expect("tempdir");
    python_project(python.path(), true);
    time("1,000 Python files, each with CUDA calls", python.path());
    let plain = tempfile::tempdir().expect("tempdir");
    python_project(plain.path(), false);
    time("1,000 Python files, no device code", plain.path());
}
