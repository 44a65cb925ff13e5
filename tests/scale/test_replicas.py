"""Many replicas on one PostgreSQL, with faults (issue 3's load-and-fault acceptance).

Three `plinth server` processes share one PostgreSQL database and one artifact root. 64 client
processes log through a client-side round-robin list of the replicas for two minutes. Mid-run,
one replica is killed with SIGKILL and restarted, and PostgreSQL itself is restarted once.
Afterwards:
  * every acknowledged write is in the database: each acknowledged metric point is there with
    its value (count and a SHA-256 checksum over the acknowledged points);
  * no run was created twice (each client operation carries a unique tag);
  * clients saw only retriable failures (connection errors, 502/503/504), never a 4xx or 500.

Clients behave like careful MLflow clients: on a retriable failure they retry on the next
replica with backoff; before retrying a create-run whose answer was lost they look the run up
by its operation tag (creation is not idempotent in MLflow's API; everything else they send is).

Needs PLINTH_TEST_PG_DSN and PLINTH_TEST_PG_DIR (scripts/pg-server.sh start; make test sets
them). Knobs: PLINTH_SCALE_SECONDS (120), PLINTH_SCALE_CLIENTS (64), PLINTH_SCALE_REPLICAS (3),
PLINTH_BIN (build/src/plinth), PLINTH_SCALE_KEEP=1 keeps the work folder.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
PG_DSN = os.environ.get("PLINTH_TEST_PG_DSN", "")
PG_DIR = os.environ.get("PLINTH_TEST_PG_DIR", "")
SECONDS = float(os.environ.get("PLINTH_SCALE_SECONDS", "120"))
CLIENTS = int(os.environ.get("PLINTH_SCALE_CLIENTS", "64"))
REPLICAS = int(os.environ.get("PLINTH_SCALE_REPLICAS", "3"))
RETRIABLE = {502, 503, 504}
METRICS_PER_BATCH = 10

pytestmark = pytest.mark.skipif(
    not PG_DSN or not PG_DIR,
    reason="PLINTH_TEST_PG_DSN/PLINTH_TEST_PG_DIR not set (scripts/pg-server.sh start)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(dsn: str, sql: str) -> str:
    out = subprocess.run(["psql", dsn, "-At", "-F", "\t", "-c", sql], check=True,
                         capture_output=True, text=True)
    return out.stdout


class Replica:
    def __init__(self, workdir: Path, index: int, store_uri: str, artifacts: str):
        self.index = index
        self.port = free_port()
        self.store_uri = store_uri
        self.artifacts = artifacts
        self.log = workdir / f"replica{index}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        binary = os.environ.get("PLINTH_BIN", str(REPO / "build" / "src" / "plinth"))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "server", "--backend-store-uri", self.store_uri,
                 "--artifacts-destination", self.artifacts, "--host", "127.0.0.1",
                 "--port", str(self.port), "--db-pool-size", "24"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica {self.index} exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"replica {self.index} not healthy in {timeout}s")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


def client_main(index: int, urls: list[str], experiment_id: str, deadline: float,
                journal_path: str) -> None:
    """One client process: create a run, log batches, finish it; again until the deadline.
    Writes one journal line per acknowledged write and a summary line at the end."""
    rng = random.Random(index)
    session = requests.Session()
    pos = index % len(urls)
    errors: dict[str, int] = {}
    fatal: list[str] = []

    def call(method: str, path: str, body: dict) -> requests.Response | None:
        """Sends until acknowledged; None only when the deadline passes first."""
        nonlocal pos
        delay = 0.05
        while True:
            url = urls[pos] + "/api/2.0/mlflow" + path
            try:
                if method == "GET":
                    r = session.get(url, params=body, timeout=30)
                else:
                    r = session.post(url, json=body, timeout=30)
                if r.status_code == 200:
                    return r
                key = f"http_{r.status_code}"
                errors[key] = errors.get(key, 0) + 1
                if r.status_code not in RETRIABLE:
                    fatal.append(f"{method} {path} -> {r.status_code} {r.text[:300]}")
                    return None
            except requests.RequestException as e:
                key = type(e).__name__
                errors[key] = errors.get(key, 0) + 1
            if time.monotonic() > deadline + 60:
                fatal.append(f"{method} {path}: not acknowledged 60 s after the deadline")
                return None
            pos = (pos + 1) % len(urls)
            time.sleep(delay * (0.5 + rng.random()))
            delay = min(delay * 2, 2.0)

    def find_run(op: str) -> str | None:
        r = call("POST", "/runs/search", {"experiment_ids": [experiment_id],
                                          "filter": f"tags.`scale.op` = '{op}'"})
        if r is None:
            return None
        runs = r.json().get("runs", [])
        return runs[0]["info"]["run_id"] if runs else None

    acked = 0
    with open(journal_path, "w") as journal:
        while time.monotonic() < deadline and not fatal:
            op = uuid.uuid4().hex
            body = {"experiment_id": experiment_id, "start_time": int(time.time() * 1000),
                    "tags": [{"key": "scale.op", "value": op}]}
            # Create: a lost answer may hide a run that was created; look before retrying.
            run_id = None
            attempt_failed = False
            while run_id is None and not fatal:
                if attempt_failed:
                    run_id = find_run(op)
                    if run_id is not None:
                        break
                url = urls[pos] + "/api/2.0/mlflow/runs/create"
                try:
                    r = session.post(url, json=body, timeout=30)
                    if r.status_code == 200:
                        run_id = r.json()["run"]["info"]["run_id"]
                        break
                    key = f"http_{r.status_code}"
                    errors[key] = errors.get(key, 0) + 1
                    if r.status_code not in RETRIABLE:
                        fatal.append(f"create -> {r.status_code} {r.text[:300]}")
                        break
                except requests.RequestException as e:
                    errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                attempt_failed = True
                pos = (pos + 1) % len(urls)
                time.sleep(0.05 + rng.random() * 0.2)
                if time.monotonic() > deadline + 60:
                    fatal.append("create: not acknowledged 60 s after the deadline")
            if run_id is None:
                break
            journal.write(json.dumps({"run": run_id, "op": op}) + "\n")
            step = 0
            for _ in range(rng.randint(3, 8)):
                if time.monotonic() > deadline:
                    break
                now = int(time.time() * 1000)
                metrics = [{"key": "m", "value": rng.random(), "timestamp": now, "step": step + i}
                           for i in range(METRICS_PER_BATCH)]
                r = call("POST", "/runs/log-batch", {"run_id": run_id, "metrics": metrics})
                if r is None:
                    break
                journal.write(json.dumps({"run": run_id,
                                          "points": [[m["step"], m["value"]] for m in metrics]})
                              + "\n")
                acked += 1
                step += METRICS_PER_BATCH
            pos = (pos + 1) % len(urls)  # round-robin per operation
        journal.write(json.dumps({"summary": True, "errors": errors, "fatal": fatal,
                                  "acked_batches": acked}) + "\n")


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="plinth-scale-"))
    yield path
    if os.environ.get("PLINTH_SCALE_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"kept {path}")


def test_replicas_survive_replica_kill_and_postgres_restart(workdir):
    db = f"scale_{os.getpid()}_{int(time.time()) % 100000}"
    psql(PG_DSN, f"CREATE DATABASE {db}")
    store_uri = PG_DSN.rpartition("/")[0] + "/" + db
    artifacts = str(workdir / "artifacts")
    replicas = [Replica(workdir, i, store_uri, artifacts) for i in range(REPLICAS)]
    try:
        for r in replicas:
            r.start()
        urls = [r.url for r in replicas]
        exp = requests.post(urls[0] + "/api/2.0/mlflow/experiments/create",
                            json={"name": "scale"}, timeout=10).json()["experiment_id"]

        start = time.monotonic()
        deadline = start + SECONDS
        ctx = mp.get_context("fork")
        journals = [str(workdir / f"client{i}.jsonl") for i in range(CLIENTS)]
        procs = [ctx.Process(target=client_main, args=(i, urls, exp, deadline, journals[i]))
                 for i in range(CLIENTS)]
        for p in procs:
            p.start()

        # Faults: kill a replica at 25%, bring it back 5 s later; restart PostgreSQL at 55%.
        events = []
        time.sleep(max(0.0, start + SECONDS * 0.25 - time.monotonic()))
        victim = replicas[-1]
        victim.kill9()
        events.append(f"t={time.monotonic() - start:.1f}s SIGKILL replica {victim.index}")
        time.sleep(5)
        victim.start()
        events.append(f"t={time.monotonic() - start:.1f}s replica {victim.index} restarted")
        time.sleep(max(0.0, start + SECONDS * 0.55 - time.monotonic()))
        t0 = time.monotonic()
        subprocess.run(["bash", str(REPO / "scripts" / "pg-server.sh"), "restart", PG_DIR],
                       check=True)
        events.append(f"t={t0 - start:.1f}s PostgreSQL restarted "
                      f"({time.monotonic() - t0:.1f}s down)")

        for p in procs:
            p.join(timeout=SECONDS + 180)
        assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
        elapsed = time.monotonic() - start

        # ---- what clients saw
        acked_points: dict[tuple[str, int], float] = {}
        acked_runs: set[str] = set()
        errors: dict[str, int] = {}
        fatal: list[str] = []
        batches = 0
        for path in journals:
            for line in open(path):
                rec = json.loads(line)
                if rec.get("summary"):
                    for k, v in rec["errors"].items():
                        errors[k] = errors.get(k, 0) + v
                    fatal += rec["fatal"]
                    batches += rec["acked_batches"]
                elif "points" in rec:
                    for step, value in rec["points"]:
                        acked_points[(rec["run"], step)] = value
                else:
                    acked_runs.add(rec["run"])

        # ---- what the database holds
        rows = psql(store_uri, "SELECT r.run_uuid, m.step, m.value FROM metrics m JOIN runs r "
                               "ON r.run_key = m.run_key WHERE m.key = 'm'")
        stored: dict[tuple[str, int], float] = {}
        for line in rows.splitlines():
            run, step, value = line.split("\t")
            stored[(run, int(step))] = float(value)
        runs_in_db = set(psql(store_uri, "SELECT run_uuid FROM runs").split())
        duplicates = psql(store_uri, "SELECT value, count(*) FROM tags WHERE key = 'scale.op' "
                                     "GROUP BY value HAVING count(*) > 1")

        missing = [k for k in acked_points if k not in stored]
        wrong = [k for k, v in acked_points.items() if k in stored and stored[k] != v]
        digest = lambda d: hashlib.sha256(  # noqa: E731
            "\n".join(f"{r} {s} {v!r}" for (r, s), v in sorted(d.items())).encode()).hexdigest()
        acked_digest = digest(acked_points)
        stored_digest = digest({k: stored[k] for k in acked_points if k in stored})
        report = {
            "seconds": round(elapsed, 1), "clients": CLIENTS, "replicas": REPLICAS,
            "events": events, "acked_runs": len(acked_runs), "runs_in_db": len(runs_in_db),
            "acked_batches": batches, "acked_points": len(acked_points),
            "stored_points": len(stored), "missing": len(missing), "wrong_value": len(wrong),
            "acked_checksum": acked_digest[:16], "stored_checksum": stored_digest[:16],
            "client_errors": errors, "fatal": fatal[:5],
            "batches_per_second": round(batches / elapsed, 1),
        }
        print("\nscale report: " + json.dumps(report, indent=1))
        (workdir / "report.json").write_text(json.dumps(report, indent=1))
        if os.environ.get("PLINTH_SCALE_REPORT"):
            Path(os.environ["PLINTH_SCALE_REPORT"]).write_text(json.dumps(report, indent=1))

        assert not fatal, fatal[:5]
        assert batches > 0
        assert acked_runs <= runs_in_db, f"{len(acked_runs - runs_in_db)} acknowledged runs missing"
        assert not missing, f"{len(missing)} acknowledged points missing, e.g. {missing[:3]}"
        assert not wrong, f"{len(wrong)} points with other values, e.g. {wrong[:3]}"
        assert acked_digest == stored_digest
        assert duplicates.strip() == "", f"runs created twice: {duplicates[:500]}"
        assert not any(k.startswith("http_") and int(k[5:]) not in RETRIABLE for k in errors), errors
    finally:
        for r in replicas:
            r.stop()
        subprocess.run(["psql", PG_DSN, "-q", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"],
                       capture_output=True)
