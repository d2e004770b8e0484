#!/usr/bin/env bash
# `npm start`: install if needed, build, then run API + worker + SLA monitor (see apps/launcher).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "capstan: building"
build_log=$(npm run --silent build 2>&1) || { echo "$build_log"; exit 1; }
exec node dist/apps/launcher/src/main.js
