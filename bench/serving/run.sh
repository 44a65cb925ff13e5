#!/usr/bin/env bash
# Serving benchmark: the same XGBoost model served by `plinth serve` and `mlflow models serve`,
# loaded by wrk with single-row and 64-row requests at several keep-alive concurrencies.
#   bench/serving/run.sh --docs     full run (~15 min), rewrites the serving section of docs/benchmarks.md
#   bench/serving/run.sh --quick    smoke run (~2-3 min), report under bench/results/ only
#   bench/serving/run.sh --targets plinth,mlflow --concurrency 1,16 --duration 5 ...   (see --help)
# plinth is build/src/plinth (`make build`); another binary: --plinth-bin PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

case " $* " in
  *" -h "*|*" --help "*) exec python3 bench/serving/bench.py --help ;;
esac

# mlflow (its scoring server), xgboost and scikit-learn live in .venv-peers.
bash scripts/setup-peers.sh

# wrk, the load generator, comes from Debian.
if ! command -v wrk >/dev/null 2>&1; then
  echo "run.sh: installing wrk"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends wrk \
    || { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends wrk; }
fi

export BENCH_COMMAND="bench/serving/run.sh${*:+ $*}"
exec python3 bench/serving/bench.py "$@"
