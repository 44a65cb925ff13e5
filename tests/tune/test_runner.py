"""`plinth tune --config study.yaml -- COMMAND`: the YAML becomes a study (every distribution
kind, sampler, pruner, budget), two trials run at once, each command gets its params as
--name=value args and PLINTH_PARAM_* variables, its plinth-metric lines are reported (and other
metrics logged to the trial's run), a non-zero exit fails the trial, and the runner prints the
best trial. Knobs: PLINTH_BIN (build/src/plinth)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import requests

from test_distributed import binary, start_server

STUDY_YAML = """
study: runner
direction: minimize
metric: loss
space:
  lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
  frac: {type: float, low: 0.0, high: 1.0, step: 0.25}
  depth: {type: int, low: 2, high: 10, step: 2}
  width: {type: int, low: 1, high: 64, log: true}
  kind: {type: categorical, choices: [svm, tree, "3"]}
sampler: {type: tpe, seed: 7, n_startup_trials: 4}
pruner: {type: none}
n_trials: 12
parallelism: 2
heartbeat_grace_seconds: 10
"""

# Checks that the args and the environment agree, fails trial 3 on purpose, reports a loss
# curve and one other metric, and leaves the objective to the last loss.
OBJECTIVE = r"""#!/bin/sh
set -e
for arg in "$@"; do
  case "$arg" in
    --depth=*) [ "${arg#--depth=}" = "$PLINTH_PARAM_DEPTH" ] || exit 9 ;;
    --kind=*) [ "${arg#--kind=}" = "$PLINTH_PARAM_KIND" ] || exit 9 ;;
  esac
done
[ -n "$MLFLOW_RUN_ID" ] || exit 8
[ "$PLINTH_TRIAL_NUMBER" = 3 ] && exit 3
loss=$(awk "BEGIN { print $PLINTH_PARAM_LR * 10 + $PLINTH_PARAM_DEPTH }")
echo "plinth-metric loss=$(awk "BEGIN { print $loss + 1 }") step=0"
echo "plinth-metric accuracy=0.9 step=0"
echo "plinth-metric loss=$loss step=1"
"""


def test_config_creates_the_study_and_runs_it(tmp_path: Path) -> None:
    server, base = start_server(tmp_path, f"sqlite:///{tmp_path}/plinth.db", 0)
    try:
        (tmp_path / "study.yaml").write_text(STUDY_YAML)
        objective = tmp_path / "objective.sh"
        objective.write_text(OBJECTIVE)
        objective.chmod(0o755)
        run = subprocess.run(
            [binary(), "tune", "--config", str(tmp_path / "study.yaml"), "--tracking-uri", base,
             "--", str(objective)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "best trial" in run.stdout
        assert "trial 3 FAIL" in run.stdout and "exit code 3" in run.stdout

        study = requests.get(base + "/api/plinth/v1/studies/get?study_name=runner",
                             timeout=30).json()["study"]
        assert study["sampler"]["type"] == "tpe" and study["sampler"]["seed"] == 7
        assert study["n_trials"] == 12 and study["metric_names"] == ["loss"]
        counts = study["trial_counts"]
        assert counts["COMPLETE"] == 12 and counts["FAIL"] == 1, counts
        trials = requests.get(base + "/api/plinth/v1/studies/trials?study_name=runner",
                              timeout=30).json()["trials"]
        for t in trials:
            p = t["params"]
            assert 1e-4 <= p["lr"] <= 1e-1
            assert p["frac"] in (0.0, 0.25, 0.5, 0.75, 1.0)
            assert p["depth"] in (2, 4, 6, 8, 10)
            assert 1 <= p["width"] <= 64 and isinstance(p["width"], int)
            assert p["kind"] in ("svm", "tree", "3")
            if t["state"] != "COMPLETE":
                continue
            assert t["value"] == t["intermediate_values"][-1]["value"]
            assert [v["step"] for v in t["intermediate_values"]] == [0, 1]
            mlflow_run = requests.get(base + "/api/2.0/mlflow/runs/get",
                                      params={"run_id": t["run_id"]}, timeout=30).json()["run"]
            metrics = {m["key"]: m["value"] for m in mlflow_run["data"]["metrics"]}
            assert metrics["loss"] == t["value"] and metrics["accuracy"] == 0.9
            params = {p["key"]: p["value"] for p in mlflow_run["data"]["params"]}
            assert params["kind"] == t["params"]["kind"]
            assert mlflow_run["info"]["status"] == "FINISHED"
        best = requests.get(base + "/api/plinth/v1/studies/best?study_name=runner",
                            timeout=30).json()["best_trials"][0]
        assert best["value"] == min(t["value"] for t in trials if t["state"] == "COMPLETE")
        print("runner:", json.dumps({"trials": len(trials), "best": best["value"]}))
    finally:
        server.terminate()
        server.wait(timeout=20)
