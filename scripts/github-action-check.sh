#!/usr/bin/env bash
# The check step of the GitHub Action (action.yml): runs `mlcompat check` on the project with
# its config (mlcompat.toml or [tool.mlcompat]) and the action's inputs, writes the annotations to
# stdout (the runner turns `::error file=…` lines into annotations on the diff), SARIF to a file
# for code scanning when asked, and the Markdown report to the step summary. It never fails by
# itself: it records mlcompat's exit code as the step output `exit-code`, so the SARIF upload
# still runs on a failing project and the action's last step fails the job.
#
# Inputs arrive as environment variables (never spliced into the script text, so a profile name
# cannot inject shell): INPUT_PATH, INPUT_PROFILES (one per line), INPUT_FAIL_ON, INPUT_CONFIG,
# INPUT_SARIF (true/false), INPUT_SARIF_FILE, INPUT_SUMMARY (true/false), INPUT_ARGS (extra
# words, split on whitespace). MLCOMPAT names the binary (default: mlcompat on PATH).
set -uo pipefail

mlcompat="${MLCOMPAT:-mlcompat}"
args=(check "${INPUT_PATH:-.}")
while IFS= read -r profile; do
    profile="${profile#"${profile%%[![:space:]]*}"}"
    profile="${profile%"${profile##*[![:space:]]}"}"
    if [ -n "$profile" ]; then
        args+=(--profile "$profile")
    fi
done <<< "${INPUT_PROFILES:-}"
if [ -n "${INPUT_FAIL_ON:-}" ]; then
    args+=(--fail-on "$INPUT_FAIL_ON")
fi
if [ -n "${INPUT_CONFIG:-}" ]; then
    args+=(--config "$INPUT_CONFIG")
fi
read -r -a extra <<< "${INPUT_ARGS:-}"
# ${extra[@]+...}: an empty array is "unbound" under set -u in bash 3.2 (macOS's).
args+=(${extra[@]+"${extra[@]}"})

"$mlcompat" "${args[@]}" --format github
code=$?

sarif_file="${INPUT_SARIF_FILE:-mlcompat.sarif}"
if [ "${INPUT_SARIF:-false}" = "true" ] && [ "$code" -ne 2 ]; then
    "$mlcompat" "${args[@]}" --format sarif > "$sarif_file"
fi
if [ "${INPUT_SUMMARY:-true}" = "true" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ "$code" -ne 2 ]; then
    "$mlcompat" "${args[@]}" --format markdown >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "exit-code=$code"
        echo "sarif-file=$sarif_file"
    } >> "$GITHUB_OUTPUT"
fi
exit 0
