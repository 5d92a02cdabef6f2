#!/usr/bin/env bash
# Counts the components `mlcompat check` leaves unknown (❔) across the shared corpus, the measure
# of issue 12's done-criterion ("unknown components across the corpus runs are <= 3 %"): every
# project folder in ../shared/corpus, checked against an M2 MacBook and an A100 Linux machine.
# Prints the total, the unknown count and share, then each unknown name with how often it came up.
#
#   scripts/corpus-unknowns.sh                 # builds target/release/mlcompat first
#   MLCOMPAT=path/to/mlcompat CORPUS=dir scripts/corpus-unknowns.sh
#
# Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus=${CORPUS:-../shared/corpus}
profiles=(fixtures/profiles/macbook-m2-8gb.yaml fixtures/profiles/linux-a100-80gb.yaml)
if [[ -z "${MLCOMPAT:-}" ]]; then
    cargo build --release --quiet
    MLCOMPAT=${CARGO_TARGET_DIR:-target}/release/mlcompat
fi

report=$(mktemp)
trap 'rm -f "$report"' EXIT
for dir in "$corpus"/*/; do
    project=$(basename "$dir")
    for profile in "${profiles[@]}"; do
        machine=$(basename "$profile" .yaml)
        "$MLCOMPAT" check "$dir" --profile "$profile" --format json --fail-on never |
            jq -r --arg where "$project/$machine" \
                '.components[] | [$where, .name, .status] | @tsv' >>"$report"
    done
done

total=$(wc -l <"$report")
unknown=$(awk -F'\t' '$3 == "unknown"' "$report" | wc -l)
awk -v u="$unknown" -v t="$total" \
    'BEGIN { printf "unknown %d of %d components (%.1f %%)\n", u, t, t ? 100 * u / t : 0 }'
awk -F'\t' '$3 == "unknown" { print $2 "\t" $1 }' "$report" | sort |
    awk -F'\t' '{ n[$1]++; w[$1] = w[$1] (w[$1] ? " " : "") $2 }
        END { for (k in n) printf "%3d  %s  (%s)\n", n[k], k, w[k] }' | sort -k2
