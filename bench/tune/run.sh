#!/usr/bin/env bash
# The tuning benchmark (bench/tune/bench.py): plinth.tune vs Optuna 5 in one Python process, and
# plinth.tune through a `plinth server` the bench starts. Builds the native module
# ($BUILD_DIR/python) and the binary ($BUILD_DIR/src/plinth, or $PLINTH_BIN), uses .venv
# (Optuna 5.0.0, scipy; scripts/setup-venv.sh).
#   BUILD_DIR=build bench/tune/run.sh [--quick] [--docs] [--seeds N] [--budget-s S]
#       [--gp-budget-s S] [--skip-quality] [--server-only] [--sizes 100,1000]
#       [--quality-only] [--functions styblinski,rosenbrock] [--first-seed 20]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${BUILD_DIR:-build}"
bash scripts/setup-venv.sh >/dev/null
cmake --build "$BUILD_DIR" --target plinth_native plinth >/dev/null
export PLINTH_BIN="${PLINTH_BIN:-$BUILD_DIR/src/plinth}"
PYTHONPATH="$BUILD_DIR/python" exec .venv/bin/python bench/tune/bench.py "$@"
