#!/usr/bin/env bash
# Data benchmark: plinth data drift / validate / profile vs Evidently's DataDriftPreset, Great
# Expectations (pandas engine) and whylogs, and hashing a ~2 GB file vs `dvc add`, on seeded
# generated data (1,000,000 rows x 100 columns per side, CSV in a temporary folder).
#   bench/data/run.sh --docs     full run (~20-25 min), rewrites the data section of docs/benchmarks.md
#   bench/data/run.sh --quick    smoke run on 100,000 rows (~3-5 min), report under bench/results/ only
#   bench/data/run.sh --sections drift --repeats 3 ...   (see --help)
# plinth is build/src/plinth and its Python package build/python (`make build`);
# another binary: --plinth-bin PATH, another package folder: --python-path DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

case " $* " in
  *" -h "*|*" --help "*) exec python3 bench/data/bench.py --help ;;
esac

# Evidently, Great Expectations, whylogs, DVC, pandas, numpy, scipy, pyarrow live in .venv-data.
bash scripts/setup-data-peers.sh

export BENCH_COMMAND="bench/data/run.sh${*:+ $*}"
exec python3 bench/data/bench.py "$@"
