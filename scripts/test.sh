#!/usr/bin/env bash
# The test command (README, CI): set up what is missing, then unit + integration + end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx vitest run "$@"
