#!/usr/bin/env bash
# Measures `mlcompat probe`, `mlcompat check` and `mlcompat rules list` (release build) against a
# bare Python start-up, measured side by side in one hyperfine run:
# the cheapest thing any Python-based checker pays before doing any work.
# Prints a Markdown table: the README's speed table is this output.
#
#   scripts/bench.sh            # builds target/release/mlcompat first
#   MLCOMPAT=path/to/mlcompat scripts/bench.sh
#
# Needs hyperfine (Debian: apt-get install -y hyperfine), jq and GNU time (/usr/bin/time).
# Budget: check and rules list <= 0.3x the Python start and <= 5 ms median; probe <= 3 ms;
# peak RSS <= 10 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-50}
if [[ -z "${MLCOMPAT:-}" ]]; then
    cargo build --release --quiet
    MLCOMPAT=${CARGO_TARGET_DIR:-target}/release/mlcompat
fi
# The real interpreter, not a pyenv shim (a bash script that costs ~90 ms by itself).
python=$(python3 -I -S -c 'import sys; print(sys.executable)')

project=fixtures/projects/qlora-founding
profile=fixtures/profiles/macbook-m2-8gb.yaml
names=(python probe check "rules list")
commands=(
    "$python -I -S -c pass"
    "$MLCOMPAT probe"
    "$MLCOMPAT check $project --profile $profile"
    "$MLCOMPAT rules list"
)

results=$(mktemp)
trap 'rm -f "$results"' EXIT
# -N: no shell in between; -i: check exits 1 on a failing verdict, which is its job.
hyperfine -N -i --warmup 3 --runs "$runs" --style basic --export-json "$results" \
    "${commands[@]}" >&2

median_ms() { jq -r ".results[$1].median * 1000" "$results"; }

# Peak resident memory in KiB: median of 5 runs of GNU time's %M.
peak_kib() {
    for _ in 1 2 3 4 5; do
        { /usr/bin/time -f %M "$@" 2>&1 >/dev/null || true; } | tail -n 1
    done | sort -n | sed -n 3p
}

base=$(median_ms 0)
printf '\n| command | median ms | x python | peak MiB |\n| --- | ---: | ---: | ---: |\n'
for i in "${!names[@]}"; do
    ms=$(median_ms "$i")
    # shellcheck disable=SC2086 # the commands are word lists on purpose
    kib=$(peak_kib ${commands[$i]})
    awk -v n="${names[$i]}" -v ms="$ms" -v base="$base" -v kib="$kib" \
        'BEGIN { printf "| %s | %.2f | %.2f | %.1f |\n", n, ms, ms / base, kib / 1024 }'
done
