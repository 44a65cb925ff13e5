"""Distributed tuning (issue 6's "Parallel and distributed" acceptance).

One `plinth server` (SQLite store) — and, when PLINTH_TEST_PG_DSN names a PostgreSQL server,
again with two `plinth server` replicas on one PostgreSQL database, the workers split between
them — and four `plinth tune --worker` processes, each its own HTTP client, on one study of 200
trials whose objective is a tiny shell script printing `plinth-metric` lines. Mid-run one
worker and its running command are killed with SIGKILL.
Afterwards:
  * no trial was lost or run twice: the trial numbers are 0..N-1, each used once, and each
    number's command started exactly once;
  * every trial has exactly one run (distinct run ids; the experiment holds N runs named
    trial-0 .. trial-<N-1>);
  * the killed trial is FAIL (its run FAILED) after the 2 s heartbeat grace period, a WAITING
    copy with the same params was queued (retry_failed) and completed;
  * the study still ends with exactly 200 COMPLETE trials and the surviving workers exit 0.

Knobs: PLINTH_BIN (build/src/plinth), PLINTH_TUNE_TRIALS (200), PLINTH_TUNE_REPORT (a JSON file
for the measured figures), PLINTH_TUNE_KEEP=1 keeps the work folder.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
TRIALS = int(os.environ.get("PLINTH_TUNE_TRIALS", "200"))
WORKERS = 4
GRACE_SECONDS = 2
STUDY = "distributed"

# The objective: logs its start (trial number, pid), reports three intermediate values, prints
# the objective. The one command that finds the `slow` flag takes it and hangs: that is the
# trial whose worker gets killed.
OBJECTIVE = r"""#!/bin/sh
echo "$PLINTH_TRIAL_NUMBER $$" >> "$TUNE_DIR/started"
if mv "$TUNE_DIR/slow" "$TUNE_DIR/slow.$$" 2>/dev/null; then
  echo "$PLINTH_TRIAL_NUMBER $$ $PPID" > "$TUNE_DIR/victim.tmp"
  mv "$TUNE_DIR/victim.tmp" "$TUNE_DIR/victim"
  sleep 600
fi
v=$(awk "BEGIN { print ($PLINTH_PARAM_X - 1) ^ 2 }")
for step in 0 1 2; do
  echo "plinth-metric loss=$v step=$step"
done
echo "plinth-objective value=$v"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> str:
    return os.environ.get("PLINTH_BIN", str(REPO / "build" / "src" / "plinth"))


def all_trials(base: str, study_id: int) -> list[dict]:
    trials, token = [], ""
    while True:
        url = f"{base}/api/plinth/v1/studies/trials?study_id={study_id}&max_results=100"
        page = requests.get(url + (f"&page_token={token}" if token else ""), timeout=30).json()
        trials += page["trials"]
        token = page.get("next_page_token", "")
        if not token:
            return trials


def start_server(work: Path, store_uri: str, index: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(work / f"server{index}.log", "wb")
    server = subprocess.Popen(
        [binary(), "server", "--port", str(port), "--backend-store-uri", store_uri,
         "--artifacts-destination", str(work / "artifacts")],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while True:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                return server, base
        except requests.ConnectionError:
            pass
        assert server.poll() is None, f"the server exited: see {work}/server{index}.log"
        assert time.time() < deadline, "the server did not start"
        time.sleep(0.1)


PG_DSN = os.environ.get("PLINTH_TEST_PG_DSN", "")


@pytest.mark.parametrize("backend", ["sqlite", "postgres-2-replicas"])
def test_four_workers_one_killed(tmp_path: Path, backend: str) -> None:
    if backend.startswith("postgres") and not PG_DSN:
        pytest.skip("PLINTH_TEST_PG_DSN is not set (scripts/pg-server.sh start)")
    work = Path(tempfile.mkdtemp(prefix="plinth-tune-")) if os.environ.get(
        "PLINTH_TUNE_KEEP") else tmp_path
    servers: list[subprocess.Popen] = []
    workers: list[subprocess.Popen] = []
    database = ""
    try:
        if backend == "sqlite":
            server, url = start_server(work, f"sqlite:///{work}/plinth.db", 0)
            servers.append(server)
            bases = [url]
        else:
            database = f"plinth_tune_{os.getpid()}"
            subprocess.run(["psql", PG_DSN, "-qc", f"CREATE DATABASE {database}"], check=True)
            uri = PG_DSN.rsplit("/", 1)[0] + "/" + database
            # The first replica creates the schema; the second starts on it.
            bases = []
            for i in range(2):
                server, url = start_server(work, uri, i)
                servers.append(server)
                bases.append(url)
        base = bases[0]

        created = requests.post(base + "/api/plinth/v1/studies/create", json={
            "name": STUDY, "direction": "minimize", "metric_name": "loss",
            "search_space": {"x": {"type": "float", "low": -5, "high": 5}},
            "sampler": {"type": "tpe", "seed": 1}, "pruner": {"type": "none"},
            "n_trials": TRIALS, "heartbeat_grace_seconds": GRACE_SECONDS, "retry_failed": True,
        }, timeout=30)
        assert created.status_code == 200, created.text
        study_id = created.json()["study"]["study_id"]

        objective = work / "objective.sh"
        objective.write_text(OBJECTIVE)
        objective.chmod(0o755)
        env = dict(os.environ, TUNE_DIR=str(work))
        env.pop("MLFLOW_TRACKING_URI", None)
        started = time.time()
        for i in range(WORKERS):
            log = open(work / f"worker{i}.log", "wb")
            workers.append(subprocess.Popen(
                [binary(), "tune", "--worker", "--study", STUDY, "--tracking-uri",
                 bases[i % len(bases)], "--", str(objective)],
                stdout=log, stderr=subprocess.STDOUT, env=env))

        # A quarter of the way in, raise the flag; the next command to start hangs, and its
        # worker and the command are killed with SIGKILL.
        def started_count() -> int:
            path = work / "started"
            return sum(1 for _ in open(path)) if path.exists() else 0

        while started_count() < TRIALS // 4:
            assert time.time() - started < 60, "the workers make no progress"
            time.sleep(0.05)
        (work / "slow").touch()
        while not (work / "victim").exists():
            assert time.time() - started < 90, "no command took the slow flag"
            time.sleep(0.02)
        victim_number, command_pid, worker_pid = map(int, (work / "victim").read_text().split())
        killed = [w for w in workers if w.pid == worker_pid]
        assert len(killed) == 1, "the hanging command's parent is not one of the workers"
        os.kill(worker_pid, signal.SIGKILL)
        try:
            os.kill(command_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the parent-death signal was faster
        killed_at = time.time()

        for w in workers:
            if w is killed[0]:
                assert w.wait(timeout=10) == -signal.SIGKILL
                continue
            assert w.wait(timeout=120) == 0, f"a worker failed: see {work}/worker*.log"
        duration = time.time() - started

        trials = all_trials(base, study_id)
        numbers = [t["number"] for t in trials]
        states = Counter(t["state"] for t in trials)
        # No trial lost, none handed out twice.
        assert sorted(numbers) == list(range(len(trials)))
        assert states["COMPLETE"] == TRIALS, states
        assert states["RUNNING"] == 0 and states["WAITING"] == 0, states
        # Each trial's command started exactly once.
        starts = Counter(int(line.split()[0]) for line in open(work / "started"))
        assert set(starts) == set(numbers)
        assert max(starts.values()) == 1, [n for n, c in starts.items() if c > 1]
        # Each trial has its own run, in the study's experiment.
        run_ids = [t.get("run_id") for t in trials]
        assert None not in run_ids and len(set(run_ids)) == len(trials)
        experiment_id = created.json()["study"]["experiment_id"]
        runs, token = [], None
        while True:
            body = {"experiment_ids": [experiment_id], "max_results": 1000}
            if token:
                body["page_token"] = token
            page = requests.post(base + "/api/2.0/mlflow/runs/search", json=body,
                                 timeout=30).json()
            runs += page.get("runs", [])
            token = page.get("next_page_token")
            if not token:
                break
        assert sorted(r["info"]["run_id"] for r in runs) == sorted(run_ids)
        assert sorted(r["info"]["run_name"] for r in runs) == sorted(
            f"trial-{n}" for n in numbers)
        # The killed trial failed after the grace period and was retried with its params.
        victim = next(t for t in trials if t["number"] == victim_number)
        assert victim["state"] == "FAIL"
        failed_after = victim["complete_time"] / 1000 - killed_at
        assert failed_after >= GRACE_SECONDS - 1.5  # its last heartbeat was shortly before the kill
        run = requests.get(base + "/api/2.0/mlflow/runs/get",
                           params={"run_id": victim["run_id"]}, timeout=30).json()["run"]
        assert run["info"]["status"] == "FAILED"
        retries = [t for t in trials if t.get("retry_of") == victim_number]
        assert len(retries) == 1 and retries[0]["state"] == "COMPLETE"
        assert retries[0]["params"] == victim["params"]
        others_failed = [t["number"] for t in trials if t["state"] == "FAIL"]
        assert others_failed == [victim_number]

        best = requests.get(base + f"/api/plinth/v1/studies/best?study_id={study_id}",
                            timeout=30).json()["best_trials"][0]
        report = {
            "backend": backend, "servers": len(servers), "trials": len(trials), "complete": states["COMPLETE"], "failed": states["FAIL"],
            "workers": WORKERS, "duration_seconds": round(duration, 1),
            "killed_trial": victim_number,
            "killed_trial_failed_seconds_after_kill": round(failed_after, 2),
            "retried_as": retries[0]["number"], "best_value": best["value"],
        }
        print("distributed tuning:", json.dumps(report))
        if os.environ.get("PLINTH_TUNE_REPORT"):
            with open(os.environ["PLINTH_TUNE_REPORT"], "a") as out:
                out.write(json.dumps(report) + "\n")
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        for server in servers:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if database:
            subprocess.run(["psql", PG_DSN, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                           check=False)
        if os.environ.get("PLINTH_TUNE_KEEP"):
            print("work folder kept:", work)
