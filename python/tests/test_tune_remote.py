"""plinth.tune with storage="http://…": the same API on a study kept by a plinth server."""

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

import plinth.tune as tune

REPO = Path(__file__).resolve().parents[2]
PLINTH = Path(os.environ.get("PLINTH_BIN", REPO / "build" / "src" / "plinth"))


@pytest.fixture(scope="module")
def storage():
    if not PLINTH.exists():
        pytest.skip("no plinth binary")
    work = tempfile.mkdtemp(prefix="plinth-sdk-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(PLINTH), "server", "--port", str(port), "--backend-store-uri",
                             f"sqlite:///{work}/db.sqlite", "--artifacts-destination",
                             f"{work}/artifacts"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(url + "/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    if kind == "b":
        x += trial.suggest_int("shift", 0, 3)  # conditional parameter
    for step in range(5):
        trial.report((x - 2) ** 2 + 5 - step, step)
        if trial.should_prune():
            raise tune.TrialPruned()
    return (x - 2) ** 2


def test_remote_study_optimizes_shares_and_tracks_runs(storage):
    study = tune.create_study(storage=storage, study_name="sdk-remote",
                              sampler=tune.TPESampler(seed=3),
                              pruner=tune.MedianPruner(n_startup_trials=5))
    study.optimize(objective, n_trials=30, n_jobs=2)
    trials = study.trials
    assert sorted(t.number for t in trials) == list(range(30))
    states = {t.state for t in trials}
    assert tune.TrialState.COMPLETE in states
    assert study.best_value == min(t.value for t in trials
                                   if t.state == tune.TrialState.COMPLETE)
    assert "x" in study.best_params

    # Another "worker" loads the same study and continues it.
    other = tune.load_study(study_name="sdk-remote", storage=storage)
    other.optimize(objective, n_trials=5)
    assert len(study.trials) == 35
    # Every trial is a tracked run the MLflow REST API lists.
    runs = requests.post(storage + "/api/2.0/mlflow/runs/search",
                         json={"experiment_ids": [study._record["experiment_id"]],
                               "max_results": 100}, timeout=30).json()["runs"]
    assert len(runs) == 35
    assert {r["info"]["run_name"] for r in runs} == {f"trial-{n}" for n in range(35)}
    df = study.trials_dataframe()
    assert len(df) == 35 and "params_x" in df.columns

    # ask/tell by hand, and errors.
    t = study.ask()
    x = t.suggest_float("x", -10, 10)
    study.tell(t, (x - 2) ** 2)
    with pytest.raises(ValueError):
        study.tell(t, 1.0)  # already finished
    with pytest.raises(ValueError):
        tune.create_study(storage=storage, study_name="sdk-remote")  # exists
    same = tune.create_study(storage=storage, study_name="sdk-remote", load_if_exists=True)
    assert same.study_id == study.study_id
    with pytest.raises(KeyError):
        tune.load_study(study_name="nope", storage=storage)


def test_remote_auto_sampler(storage):
    """AutoSampler is served by plinth server: the study keeps it and optimizes with it."""
    study = tune.create_study(storage=storage, study_name="sdk-auto",
                              sampler=tune.AutoSampler(seed=1, gp_trials=10))
    assert study._record["sampler"]["type"] == "auto"
    assert study._record["sampler"]["gp_trials"] == 10  # GP for 10 trials, then TPE

    def quadratic(trial):
        return (trial.suggest_float("x", -3, 3) - 1) ** 2 + trial.suggest_float("y", -3, 3) ** 2

    study.optimize(quadratic, n_trials=14)
    trials = study.trials
    assert len(trials) == 14
    assert all(t.state == tune.TrialState.COMPLETE for t in trials)
    assert all(-3 <= t.params["x"] <= 3 for t in trials)
    assert study.best_value <= trials[0].value
