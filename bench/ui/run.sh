#!/usr/bin/env bash
# The web UI benchmark: plinth's runs page vs MLflow's UI on the same 100,000 runs (runs.mjs), and
# a 1,000,000-point metric history: get-history-bulk-interval, full paging, the run page's chart
# (history.mjs). Installs what it needs through the project's scripts: .venv-peers (full mlflow,
# scripts/setup-peers.sh) and ui/node_modules (playwright-core, scripts/build-ui.sh); builds the
# binary ($BUILD_DIR/src/plinth, or $PLINTH_BIN). Chromium: /usr/bin/chromium (PLINTH_CHROMIUM).
# Results in bench/results/ui-<time>.{json,md}; --docs also rewrites the Web UI section of
# docs/benchmarks.md (between its bench:ui markers).
#   BUILD_DIR=build bench/ui/run.sh [--runs N] [--reps R] [--points N] [--timeout-s S] [--docs]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${BUILD_DIR:-build}"
RUNS=100000 REPS=3 POINTS=1000000 TIMEOUT=180 DOCS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --points) POINTS="$2"; shift 2 ;;
    --timeout-s) TIMEOUT="$2"; shift 2 ;;
    --docs) DOCS=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bash scripts/setup-peers.sh >/dev/null
bash scripts/build-ui.sh >/dev/null
if [ -z "${PLINTH_BIN:-}" ]; then
  cmake --build "$BUILD_DIR" --target plinth >/dev/null
  PLINTH_BIN="$(cd "$BUILD_DIR" && pwd)/src/plinth"
fi
export PLINTH_BIN MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
stamp="$(date -u +%Y%m%d-%H%M%S)"
out="bench/results/ui-$stamp"
mkdir -p bench/results
node bench/ui/runs.mjs --runs "$RUNS" --reps "$REPS" --timeout-s "$TIMEOUT" \
  --mlflow-python .venv-peers/bin/python --json "$out-runs.json"
node bench/ui/history.mjs --points "$POINTS" --reps "$REPS" --json "$out-history.json"
node bench/ui/report.mjs "$out-runs.json" "$out-history.json" > "$out.md"
cat "$out.md"
if [ "$DOCS" = 1 ]; then
  node bench/ui/report.mjs --docs docs/benchmarks.md "$out-runs.json" "$out-history.json"
fi
