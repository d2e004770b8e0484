#!/usr/bin/env bash
# `npm test`: unit, integration and end-to-end tests against real PostgreSQL and Redis
# (DATABASE_URL / REDIS_URL, else 127.0.0.1:5432 and 127.0.0.1:6379). Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# End-to-end tests run the built processes (kill -9, restarts), so build first.
build_log=$(npm run --silent build 2>&1) || { echo "$build_log"; exit 1; }
results=$(mktemp)
# Three jest workers on two cores: the end-to-end files spend much of their time waiting on the
# processes and emulators they start (engine ticks, machine transitions), so a third worker fills
# that idle CPU. The suite passes beside three CPU burners, which is harder than this. JEST_WORKERS overrides.
status=0
NODE_OPTIONS="--max-old-space-size=8192 ${NODE_OPTIONS:-}" npx jest --maxWorkers="${JEST_WORKERS:-3}" --json --outputFile="$results" "$@" 2>&1 | grep -v "^Test results written to" || status=${PIPESTATUS[0]}
# One plain closing line that any CI reader understands.
node -e 'const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$results" || true
rm -f "$results"
exit "$status"
