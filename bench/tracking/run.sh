#!/usr/bin/env bash
# Tracking-server benchmark: plinth vs MLflow (SQLite) vs FastTrackML, and on PostgreSQL plinth
# (1 and 3 replicas) vs MLflow, on this machine.
#   bench/tracking/run.sh            full SQLite run (~15 min), rewrites its section of docs/benchmarks.md
#   bench/tracking/run.sh --targets plinth-pg,plinth-pg3,mlflow-pg --docs
#                                    full PostgreSQL run (~15-20 min), rewrites its section only
#   bench/tracking/run.sh --quick    smoke run (~2 min), report under bench/results/ only
#   bench/tracking/run.sh --targets mlflow,fasttrackml --duration 10 ...   (see --help)
# plinth is skipped when build/src/plinth is missing (build it with `make build`).
# When a PostgreSQL target (plinth-pg, plinth-pg3, mlflow-pg; or the group names pg, all) is
# selected, a throwaway PostgreSQL server is started with scripts/pg-server.sh for the run and
# stopped (its folder removed) on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

case " $* " in
  *" -h "*|*" --help "*) exec python3 bench/tracking/bench.py --help ;;
esac

# Peer servers (mlflow with psycopg2, fasttrackml) live in .venv-peers.
bash scripts/setup-peers.sh

export BENCH_COMMAND="bench/tracking/run.sh${*:+ $*}"

targets=""
prev=""
for arg in "$@"; do
  case "$arg" in
    --targets=*) targets="${arg#--targets=}" ;;
  esac
  [ "$prev" = "--targets" ] && targets="$arg"
  prev="$arg"
done

needs_pg=0
IFS=',' read -r -a tlist <<<"$targets"
for t in "${tlist[@]}"; do
  case "$t" in
    plinth-pg|plinth-pg3|mlflow-pg|pg|all) needs_pg=1 ;;
  esac
done

if [ "$needs_pg" = "1" ]; then
  env_file="$(bash scripts/pg-server.sh start)"
  BENCH_PG_DSN="$(sed -n 's/^PLINTH_TEST_PG_DSN=//p' "$env_file")"
  BENCH_PG_DIR="$(sed -n 's/^PLINTH_TEST_PG_DIR=//p' "$env_file")"
  export BENCH_PG_DSN BENCH_PG_DIR
  trap 'bash scripts/pg-server.sh stop "$BENCH_PG_DIR"' EXIT
  # Ctrl-C or a kill of this script still stops PostgreSQL (the EXIT trap runs after these)
  trap 'exit 130' INT
  trap 'exit 143' TERM
  echo "run.sh: PostgreSQL for the pg targets at $BENCH_PG_DSN"
  python3 bench/tracking/bench.py "$@"
else
  exec python3 bench/tracking/bench.py "$@"
fi
