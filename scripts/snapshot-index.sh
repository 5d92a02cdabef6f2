#!/usr/bin/env bash
# Rebuilds the package-index snapshot that ships with mlcompat (index/snapshot/) from the index's
# JSON API, for every package in index/packages.txt. It runs the same code as `mlcompat refresh`
# (src/index/), one request at a time with a pause between them, and stops reading metadata
# after MAX_REQUESTS requests. Metadata read before is kept, so a rebuild costs about one request
# per package plus the new releases' metadata.
#
#   scripts/snapshot-index.sh                 # every package, from PyPI
#   scripts/snapshot-index.sh --only torch    # some packages only (repeat --only)
#   INDEX_URL=https://mirror.example/simple/ scripts/snapshot-index.sh
#   CARGO_PROFILE=dev scripts/snapshot-index.sh --only torch   # skip the slow release build
#
# Then review `git diff --stat index/snapshot/` and commit it with its date.
set -euo pipefail
cd "$(dirname "$0")/.."
index_url="${INDEX_URL:-https://pypi.org/simple/}"
delay_ms="${DELAY_MS:-100}"
max_requests="${MAX_REQUESTS:-1500}"
profile="${CARGO_PROFILE:-release}"
cargo run --profile "$profile" --quiet -- refresh --all \
    --index-url "$index_url" \
    --out index/snapshot \
    --delay-ms "$delay_ms" \
    --max-requests "$max_requests" \
    "$@"
du -sh index/snapshot
