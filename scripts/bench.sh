#!/usr/bin/env bash
# `npm run bench [-- http|kysely-vs-pg|operations|operations-in-flight|sla|kube-emulator|billing|upgrade-plans ...]`: the benchmarks under bench/, each printed as a ratio
# against a baseline run side by side in the same run. Goals are reported, never enforced: a missed
# goal does not fail this script (a bench that cannot run does). PostgreSQL and Redis come from
# DATABASE_URL / REDIS_URL, else 127.0.0.1:5432 (user postgres) and 127.0.0.1:6379; every run
# uses scratch databases and a Redis key prefix of its own and removes them at the end.
#
# Knobs for quick local runs (defaults in brackets): BENCH_SECONDS [8], BENCH_WARMUP_SECONDS [2],
# BENCH_CONNECTIONS [10], BENCH_HTTP_CASES [all; comma-separated parts of case names] for http; BENCH_ITERATIONS [2000], BENCH_WARMUP_ITERATIONS [200] for
# kysely-vs-pg; BENCH_OPERATIONS [1000], BENCH_IN_FLIGHT [20], BENCH_WARMUP_OPERATIONS [20],
# BENCH_TIMEOUT_SECONDS [150] for operations; BENCH_INFLIGHT_OPERATIONS [10000],
# BENCH_INFLIGHT_STEP_SECONDS [900], BENCH_INFLIGHT_HOLD_SECONDS [30], BENCH_INFLIGHT_POOL_SIZE [15],
# BENCH_INFLIGHT_POLL_MAX_MS [30000], BENCH_INFLIGHT_TIMEOUT_SECONDS [900] for operations-in-flight
# (issue 9 (a); it takes minutes); BENCH_CPU_PROF=<dir> writes a .cpuprofile of each
# http server under test. sla: BENCH_SLA_INGEST_CLUSTERS [2000], BENCH_SLA_INGEST_ROUNDS [100],
# BENCH_SLA_REPORT_CLUSTERS [2000], BENCH_SLA_RAW_CLUSTERS [100], BENCH_SLA_PROBE_CLUSTERS [2000],
# BENCH_SLA_PROBE_INTERVAL_MS [2000], BENCH_SLA_PROBE_SECONDS [20], BENCH_SLA_CONCURRENCY [256],
# BENCH_SLA_SKIP=ingest,reports,probes,detection. kube-emulator: BENCH_KUBE_SERVERS [1000],
# BENCH_KUBE_PROBE_INTERVAL_MS [10000], BENCH_KUBE_WRITES_PER_SECOND [10], BENCH_KUBE_SECONDS [60].
# upgrade-plans: BENCH_UPGRADE_CLUSTERS [10000], BENCH_UPGRADE_ORGANIZATIONS [100], BENCH_UPGRADE_RUNS [5].
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

all=(http kysely-vs-pg operations operations-in-flight sla kube-emulator billing upgrade-plans)
selected=("$@")
[ ${#selected[@]} -eq 0 ] && selected=("${all[@]}")
for name in "${selected[@]}"; do
  if [ ! -f "bench/${name}.bench.ts" ]; then
    echo "bench: no bench named '${name}' (have: ${all[*]})" >&2
    exit 2
  fi
done

started=$SECONDS
build_log=$(npm run --silent build 2>&1) || { echo "$build_log"; exit 1; }
echo "bench: built in $((SECONDS - started)) s"

for name in "${selected[@]}"; do
  echo
  node "dist/bench/${name}.bench.js"
done
echo
echo "bench: ${selected[*]} finished in $((SECONDS - started)) s"
