#!/usr/bin/env bash
# make demo: start `plinth server` on the embedded default store (./plinth-data), run the
# quickstart with the real mlflow client, show where things are, then stop the server cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${PLINTH_BIN:-build/src/plinth}"
PORT="${PLINTH_DEMO_PORT:-5000}"
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
export MLFLOW_TRACKING_URI="http://127.0.0.1:${PORT}"

if curl -sf "http://127.0.0.1:${PORT}/health" >/dev/null 2>&1; then
  echo "demo: something already answers on port ${PORT}; set PLINTH_DEMO_PORT to another port" >&2
  exit 1
fi

mkdir -p plinth-data
echo "demo: starting $BIN server on ${MLFLOW_TRACKING_URI} (store: plinth-data/plinth.db, artifacts: plinth-data/artifacts)"
"$BIN" server --port "$PORT" >plinth-data/server.log 2>&1 &
server_pid=$!
stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
}
trap stop_server EXIT

for _ in $(seq 1 100); do
  curl -sf "${MLFLOW_TRACKING_URI}/health" >/dev/null 2>&1 && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo: the server exited; its log:" >&2
    cat plinth-data/server.log >&2
    exit 1
  fi
  sleep 0.1
done

# Data first: validate this month's customers with a suite, version the file (content-addressed:
# a re-run of the demo adds no new version), and compare next month's against it for drift.
echo "demo: data — validate, version, drift (plinth data …)"
PYTHONPATH=examples .venv/bin/python examples/make_churn_data.py plinth-data
"$BIN" data validate plinth-data/churn.csv --suite examples/churn-suite.yaml --format json \
  -o plinth-data/churn-validation.json && echo "  suite examples/churn-suite.yaml: all expectations met (plinth-data/churn-validation.json)"
"$BIN" data add plinth-data/churn.csv --name churn --suite examples/churn-suite.yaml \
  --description "demo customers" | sed 's/^/  /'
"$BIN" data drift --reference plinth-data/churn.csv --current plinth-data/churn-next.csv \
  --format html -o plinth-data/churn-drift.html
"$BIN" data drift --reference plinth-data/churn.csv --current plinth-data/churn-next.csv \
  --format json | .venv/bin/python examples/drift_summary.py
echo

# Training is a short study (plinth.tune, Optuna's API): 24 trials, TPE, median pruning; the study
# lives on the server, each trial is a tracked run (experiment churn-xgb).
echo "demo: tuning — a 24-trial study with pruning, every trial a tracked run"
PYTHONPATH="build/python:examples" .venv/bin/python examples/tune_quickstart.py

# Registry and serving: the best run becomes churn@production, `plinth serve` follows the alias,
# a promotion of the runner-up swaps the served model, and a rollback swaps it back.
echo
echo "demo: registering the best run and the runner-up as versions of 'churn'"
registered=$(.venv/bin/python examples/register_best.py churn-xgb)
sed '$d' <<<"$registered" | sed 's/^/  /'
versions=$(tail -1 <<<"$registered")
best=$(sed -n 's/^best=\([0-9]*\) .*/\1/p' <<<"$versions")
runner_up=$(sed -n 's/.*runner_up=\([0-9]*\)$/\1/p' <<<"$versions")
"$BIN" models promote churn "$best" --alias production

SERVE_PORT="${PLINTH_DEMO_SERVE_PORT:-8080}"
echo "demo: starting $BIN serve models:/churn@production on http://127.0.0.1:${SERVE_PORT}"
"$BIN" serve models:/churn@production --port "$SERVE_PORT" --poll-interval 0.2 \
  --prediction-log plinth-data/predictions >plinth-data/serve.log 2>&1 &
serve_pid=$!
stop_all() {
  kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" || true
  stop_server
}
trap stop_all EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:${SERVE_PORT}/v2/health/ready" >/dev/null 2>&1 && break
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    echo "demo: plinth serve exited; its log:" >&2
    cat plinth-data/serve.log >&2
    exit 1
  fi
  sleep 0.1
done

REQUEST='{"params": {"predict_method": "predict_proba"}, "dataframe_split": {"columns": ["tenure_months", "monthly_charges", "support_calls",
  "contract_months", "late_payments", "usage_gb"],
  "data": [[2, 95.5, 6, 1, 3, 12.0], [60, 40.0, 0, 24, 0, 80.5]]}}'
query() {  # prints the version that answered and its predictions
  curl -s -D - -o /tmp/plinth-demo-answer.json -H 'Content-Type: application/json' \
    -d "$REQUEST" "http://127.0.0.1:${SERVE_PORT}/invocations" \
    | tr -d '\r' | sed -n 's/^[Xx]-[Pp]linth-[Mm]odel-[Vv]ersion: //p' | tr -d '\n'
  echo " $(cat /tmp/plinth-demo-answer.json)"
}
wait_for_version() {
  for _ in $(seq 1 100); do
    [ "$(query | cut -d' ' -f1)" = "$1" ] && return 0
    sleep 0.1
  done
  echo "demo: the server never switched to version $1; its log:" >&2
  cat plinth-data/serve.log >&2
  exit 1
}
echo "demo: POST /invocations (a likely churner, a loyal customer) -> version, [P(stay), P(churn)] per customer"
echo "  $(query)"
echo "demo: promoting the runner-up (version $runner_up) to production"
"$BIN" models promote churn "$runner_up" --alias production
wait_for_version "$runner_up"
echo "  $(query)"
echo "demo: rolling production back"
"$BIN" models rollback churn --alias production
wait_for_version "$best"
echo "  $(query)"
echo "demo: the same over the Open Inference Protocol v2:"
curl -s -H 'Content-Type: application/json' "http://127.0.0.1:${SERVE_PORT}/v2/models/churn/infer" \
  -d '{"inputs": [{"name": "x", "shape": [1, 6], "datatype": "FP64", "data": [2, 95.5, 6, 1, 3, 12.0]}]}'
echo
echo "demo: swaps seen by the server: $(curl -s "http://127.0.0.1:${SERVE_PORT}/metrics" | sed -n 's/^plinth_serving_model_swaps_total //p')"
kill -TERM "$serve_pid" && wait "$serve_pid" || true

echo
echo "demo: runs and artifacts are in ./plinth-data (plinth.db, artifacts/); server log: plinth-data/server.log"
echo "demo: predictions served are logged in plinth-data/predictions/ (JSON lines)"
echo "demo: keep exploring with:  build/src/plinth server   then   MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI} python your_script.py"
echo "demo:                       build/src/plinth serve models:/churn@production --port ${SERVE_PORT}"
stop_server
trap - EXIT
echo "demo: servers stopped cleanly"
