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

.venv/bin/python examples/quickstart.py

echo
echo "demo: runs and artifacts are in ./plinth-data (plinth.db, artifacts/); server log: plinth-data/server.log"
echo "demo: keep exploring with:  build/src/plinth server   then   MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI} python your_script.py"
stop_server
trap - EXIT
echo "demo: server stopped cleanly"
