#!/usr/bin/env bash
# The tuning benchmark (bench/tune/bench.py): plinth.tune vs Optuna 5 in one Python process.
# Builds the native module (build/python), uses .venv (Optuna 5.0.0, scipy; scripts/setup-venv.sh).
#   bench/tune/run.sh [--quick] [--docs] [--seeds N] [--budget-s S] [--skip-quality]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${BUILD_DIR:-build}"
bash scripts/setup-venv.sh >/dev/null
cmake --build "$BUILD_DIR" --target plinth_native >/dev/null
PYTHONPATH="$BUILD_DIR/python" exec .venv/bin/python bench/tune/bench.py "$@"
