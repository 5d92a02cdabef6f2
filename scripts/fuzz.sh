#!/usr/bin/env bash
# Fuzzes every parser mlcompat runs on strangers' files, SECONDS per target (default 60):
#
#   scripts/fuzz.sh 600                 # every target, ten minutes each, one after another
#   scripts/fuzz.sh 600 rules profile   # only these targets
#   JOBS=2 scripts/fuzz.sh 600          # two targets at a time
#
# Targets: profile rules requirements conda pyproject config setup probe code (fuzz/fuzz_targets/).
# The seed corpus is built from fixtures/, rules/ and fuzz/seeds/ into fuzz/corpus/ (ignored by
# git), which keeps what the fuzzer learns between runs. A crash is saved in fuzz/artifacts/ and
# the script exits 1; reproduce it with `scripts/fuzz.sh repro TARGET FILE`.
#
# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer); RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them, so no nightly install is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
# Files the targets write go to memory when it can (/dev/shm), not the disk.
if [[ -z "${TMPDIR:-}" && -d /dev/shm && -w /dev/shm ]]; then export TMPDIR=/dev/shm; fi

ALL=(profile rules requirements conda pyproject config setup probe code)
# Bounded runs: a slow input over 5 s, memory over 512 MB, or an input over 64 KiB (four
# times nothing mlcompat reads is; the 4 MiB file cap is tested apart) count as failures.
FLAGS=(-rss_limit_mb=512 -max_len=65536 -timeout=5 -print_final_stats=1)

if [[ "${1:-}" == repro ]]; then
  exec cargo fuzz run --fuzz-dir fuzz "$2" "$3" -- "${FLAGS[@]}"
fi

seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL[@]}")

# Copies each seed into a target's corpus; `prefix` (one byte, as octal) is prepended for the
# targets whose first byte picks the file kind or parser.
seed() {
  local target="$1" prefix="$2"
  shift 2
  mkdir -p "fuzz/corpus/$target"
  local file
  for file in "$@"; do
    [[ -f "$file" ]] || continue
    local name
    name="seed-$(printf '%s' "$prefix$file" | cksum | cut -d' ' -f1)"
    { [[ -n "$prefix" ]] && printf "\\$prefix"; cat "$file"; } >"fuzz/corpus/$target/$name"
  done
}

build_corpus() {
  shopt -s nullglob globstar
  seed profile "" fixtures/profiles/* fixtures/profiles-bad/* fuzz/seeds/profile/*
  seed rules "" rules/*.yaml fuzz/seeds/rules/*
  seed requirements "" fixtures/projects/**/requirements*.txt fixtures/projects/**/constraints.txt \
    fixtures/projects/**/base*.txt fixtures/projects/**/common.txt fuzz/seeds/requirements/*
  seed conda "" fixtures/projects/**/environment*.yml fuzz/seeds/conda/*
  seed pyproject "" fixtures/projects/**/pyproject.toml fuzz/seeds/pyproject/*
  seed config "000" fixtures/projects/**/*.yaml fuzz/seeds/config/*.yaml
  seed config "001" fixtures/projects/**/*.json fuzz/seeds/config/*.json
  seed setup "000" fixtures/projects/**/setup.cfg fuzz/seeds/setup/*
  seed setup "001" fixtures/projects/**/setup.py
  # The probe target's first byte picks the parser (see fuzz/fuzz_targets/probe.rs).
  seed probe "000" fixtures/probe/nvidia-smi/*.csv
  seed probe "001" fixtures/probe/nvidia-smi/*banner.txt fixtures/probe/nvidia-smi/nvml-mismatch.txt
  seed probe "002" fixtures/probe/proc-driver-nvidia/version
  seed probe "003" fixtures/probe/proc-driver-nvidia/gpus/*/information
  seed probe "004" fixtures/probe/nvidia-smi/h100-mig-list.txt
  seed probe "005" fixtures/probe/sysctl/*
  seed probe "006" fixtures/probe/sw_vers/*
  seed probe "007" fixtures/probe/rocm-smi/*
  seed probe "010" fixtures/probe/drm/*/*/device/uevent
  seed probe "013" fixtures/probe/python/*version.py
}

build_corpus
# One build of every target (with no target named, `cargo fuzz build` builds them all).
cargo fuzz build --fuzz-dir fuzz

run_one() {
  local target="$1"
  mkdir -p fuzz/artifacts/"$target" fuzz/logs
  echo "fuzzing $target for ${seconds}s" >&2
  if nice cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
    "${FLAGS[@]}" -max_total_time="$seconds" >"fuzz/logs/$target.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "fuzz/logs/$target.log" | tail -n 1 | sed "s/^/$target: /" >&2
  else
    echo "$target: FAILED, see fuzz/logs/$target.log and fuzz/artifacts/$target/" >&2
    return 1
  fi
}

status=0
jobs="${JOBS:-1}"
running=0
for target in "${targets[@]}"; do
  run_one "$target" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while ((running > 0)); do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
