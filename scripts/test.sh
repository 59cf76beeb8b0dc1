#!/usr/bin/env bash
# The test command (README, CI): set up what is missing, then unit + integration + end-to-end tests, then
# the serial stage (tests that need the machine to themselves: vitest.serial.config.ts).
# Ends with a plain "tests: N passed, N failed" line read from vitest's JSON reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
report=$(mktemp)
serial=$(mktemp)
trap 'rm -f "$report" "$serial"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# Tests picked by name or path on the command line skip the serial stage.
if [ $# -eq 0 ]; then
  npx vitest run --config vitest.serial.config.ts --reporter=default --reporter=json --outputFile.json="$serial" || status=$?
fi
node -e '
  const fs = require("fs");
  const reports = process.argv.slice(1).filter((f) => fs.statSync(f).size > 0).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  if (!reports.length) process.exit(1);
  const sum = (k) => reports.reduce((n, r) => n + r[k], 0);
  const skipped = sum("numPendingTests") + sum("numTodoTests");
  console.log(`tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" "$serial" 2>/dev/null || echo "tests: no report (vitest exited with $status)"
exit "$status"
