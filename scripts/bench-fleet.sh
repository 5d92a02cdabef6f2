#!/usr/bin/env bash
# Fleet benchmark: one project judged against N saved profiles (default 10,000), the goal being
# under a second. Needs hyperfine (Debian: apt-get install hyperfine). Usage: scripts/bench-fleet.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Vary the machines so every rule path is taken: Macs of several sizes, NVIDIA boxes, CPU-only.
for i in $(seq 1 "$count"); do
  case $((i % 3)) in
    0) printf 'schema_version: 1\nsystem: { os: macos, os_version: "14.%d", arch: arm64, chip: Apple M2, memory: %d GB }\npython: { version: "3.13.5" }\ngpus: [{ vendor: apple, memory: %d GB }]\n' $((i % 7)) $((8 << (i % 4))) $((8 << (i % 4))) ;;
    1) printf 'schema_version: 1\nsystem: { os: linux, arch: x86_64, memory: 64 GB }\npython: { version: "3.11.9" }\ngpus: [{ vendor: nvidia, memory: %d GB, compute_capability: "8.%d", driver_version: "5%d0.1", cuda_version: "12.%d" }]\n' $((16 + i % 64)) $((i % 10)) $((2 + i % 7)) $((i % 9)) ;;
    2) printf 'schema_version: 1\nsystem: { os: linux, arch: x86_64, memory: %d GB }\npython: { version: "3.12.%d" }\n' $((8 + i % 56)) $((i % 9)) ;;
  esac > "$dir/m$(printf %05d "$i").yaml"
done
hyperfine --warmup 1 --runs 5 -N \
  "target/release/mlcompat check fixtures/projects/qlora-founding --profile $dir -q --fail-on never"
