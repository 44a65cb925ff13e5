#!/usr/bin/env bash
# Tracking-server benchmark: plinth vs MLflow (SQLite) vs FastTrackML on this machine.
#   bench/tracking/run.sh            full run (~15 min), rewrites docs/benchmarks.md
#   bench/tracking/run.sh --quick    smoke run (~2 min), report under bench/results/ only
#   bench/tracking/run.sh --targets mlflow,fasttrackml --duration 10 ...   (see --help)
# plinth is skipped when build/src/plinth is missing (build it with `make build`).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

case " $* " in
  *" -h "*|*" --help "*) exec python3 bench/tracking/bench.py --help ;;
esac

# Peer servers (mlflow, fasttrackml) live in .venv-peers.
bash scripts/setup-peers.sh

export BENCH_COMMAND="bench/tracking/run.sh${*:+ $*}"
exec python3 bench/tracking/bench.py "$@"
