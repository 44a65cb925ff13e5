#!/usr/bin/env python3
"""Tracking-server benchmark: the same MLflow REST load against plinth, mlflow and FastTrackML.

Two groups of targets: on SQLite (plinth, mlflow, fasttrackml) and on PostgreSQL (plinth-pg: one
plinth server, plinth-pg3: three plinth replicas on one database, mlflow-pg: mlflow server), the
latter on a PostgreSQL server that run.sh starts (scripts/pg-server.sh), a fresh database each.
One target runs at a time, each on fresh temporary storage, on loopback. For each workload the
load generator (several processes, one raw http.client keep-alive connection each, pre-built
JSON bodies, perf_counter_ns timing) runs for a fixed duration (or a fixed request count), and
the server's whole process tree is measured from /proc: CPU (utime+stime, children included)
between the start and the end of the timed phase, and RSS sampled periodically.

Standard library only: it runs on any python3 >= 3.8 and never imports mlflow.
See docs/benchmarks.md (written by this script) for the method and the latest numbers.
"""
from __future__ import annotations

import argparse
import array
import datetime as dt
import http.client
import json
import math
import multiprocessing as mp
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
API = "/api/2.0/mlflow"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
HEADERS_JSON = {"Content-Type": "application/json"}
T0_MS = 1_700_000_000_000  # fixed timestamps so every server receives byte-identical requests

# Target groups: each is measured, reported and rewritten in docs/benchmarks.md on its own.
GROUPS = {"sqlite": ["plinth", "mlflow", "fasttrackml"],
          "pg": ["plinth-pg", "plinth-pg3", "mlflow-pg"]}
GROUP_ORDER = ["sqlite", "pg"]
ALL_TARGETS = GROUPS["sqlite"] + GROUPS["pg"]
TARGET_GROUP = {t: g for g, ts in GROUPS.items() for t in ts}
TARGET_TITLES = {"plinth": "plinth", "mlflow": "MLflow", "fasttrackml": "FastTrackML",
                 "plinth-pg": "plinth-pg", "plinth-pg3": "plinth-pg3", "mlflow-pg": "mlflow-pg"}
# The server program behind a target, and how many replicas of it share one database.
TARGET_KIND = {"plinth": "plinth", "mlflow": "mlflow", "fasttrackml": "fasttrackml",
               "plinth-pg": "plinth", "plinth-pg3": "plinth", "mlflow-pg": "mlflow"}
REPLICAS = {"plinth-pg3": 3}
TARGET_ALIASES = {"sqlite": GROUPS["sqlite"], "pg": GROUPS["pg"], "all": ALL_TARGETS}
WRITE_WORKLOADS = ["create-run", "log-batch-10", "log-batch-500", "log-metric"]
# Order of the timed phases. Reads run first, on the freshly seeded store, so every server is
# measured on the same data; write workloads follow (their volume depends on each server's speed).
WORKLOADS = ["search-runs", "get-history", "create-run", "log-batch-10", "log-batch-500", "log-metric"]
REPORT_ORDER = ["create-run", "log-batch-10", "log-batch-500", "log-metric", "search-runs", "get-history"]
WORKLOAD_DESC = {
    "create-run": "POST runs/create (one new run per request)",
    "log-batch-10": "POST runs/log-batch with 10 metrics (each worker logs to its own run, new step per request)",
    "log-batch-500": "POST runs/log-batch with 500 metrics (each worker logs to its own run, new step per request)",
    "log-metric": "POST runs/log-metric, one metric (each worker logs to its own run, new step per request)",
    "search-runs": "POST runs/search over {runs} runs of one experiment, filter `{filter}`, order_by `{order}`, max_results 100",
    "get-history": "GET metrics/get-history of one metric with {points} points, max_results 25000, following next_page_token to the end; one op = the whole series",
}
WARMUP = {  # untimed requests per worker before the timed phase
    "create-run": 10, "log-batch-10": 10, "log-batch-500": 3, "log-metric": 10,
    "search-runs": 2, "get-history": 0,
}
SEARCH_FILTER = "metrics.loss < 0.5 and params.lr = '0.01'"
SEARCH_ORDER = "metrics.loss DESC"
SEARCH_MAX = 100
HISTORY_KEY = "hist"
HISTORY_PAGE = 25000
NOISY_CORES = 0.25  # CPU used by other processes during a phase above which it counts as disturbed


# ----------------------------------------------------------------------------------------------
# /proc helpers
# ----------------------------------------------------------------------------------------------

def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _stat_fields(pid: int):
    s = _read(f"/proc/{pid}/stat")
    rp = s.rfind(b")")
    return s[s.find(b"(") + 1:rp].decode(errors="replace"), s[rp + 2:].split()


def proc_tree(root) -> list[int]:
    """root (a pid or a list of pids) and all its descendants (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            _, f = _stat_fields(int(d))
        except OSError:
            continue
        children.setdefault(int(f[1]), []).append(int(d))
    out, i = ([root] if isinstance(root, int) else list(root)), 0
    while i < len(out):
        out.extend(children.get(out[i], []))
        i += 1
    return out


def cmdline(pid: int) -> str:
    try:
        return _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def cpu_snapshot(root) -> dict[int, tuple[int, str]]:
    """pid -> (utime+stime+cutime+cstime in ticks, short description) over the process tree.

    cutime/cstime count children that exited (and were reaped) in between, so the sum over the
    tree stays exact when a worker process is replaced during the measured phase."""
    snap = {}
    for pid in proc_tree(root):
        try:
            comm, f = _stat_fields(pid)
        except OSError:
            continue
        snap[pid] = (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14]), comm)
    return snap


def cpu_delta_seconds(a: dict, b: dict, reaped_in_tree: bool = False) -> float:
    total = 0
    for pid, (ticks, _) in b.items():
        total += ticks - a.get(pid, (0, ""))[0]
    # processes that vanished without being reaped by a process in the tree are lost; rare
    if reaped_in_tree:
        # every child is reaped by a process of the tree (PostgreSQL's postmaster reaps its
        # backends): the parent's cutime/cstime now holds the vanished child's whole life, so
        # the part it had used before the first snapshot is taken out again
        for pid, (ticks, _) in a.items():
            if pid not in b:
                total -= ticks
    return total / CLK_TCK


def rss_bytes(pids) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(_read(f"/proc/{pid}/statm").split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            pass
    return total


def pss_bytes(pids) -> int:
    """Σ proportional set size: shared pages (PostgreSQL's shared_buffers, mapped by every
    backend) count once in total instead of once per process as in Σ RSS."""
    total = 0
    for pid in pids:
        try:
            for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
                if line.startswith(b"Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, IndexError, ValueError):
            pass
    return total


def status_kb(pid: int, field: bytes) -> int:
    try:
        for line in _read(f"/proc/{pid}/status").splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    f = [int(x) for x in _read("/proc/stat").split(b"\n", 1)[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    total = sum(f[:8])
    return total - idle, total


class RssSampler(threading.Thread):
    """Samples the summed memory of process trees; keeps the max per phase.

    The "server" tree (all replicas) is measured as Σ RSS; an optional "pg" tree (the
    PostgreSQL server) as Σ PSS, sampled every `pg_every`-th tick (reading smaps costs more);
    "total" is the largest server + pg sum seen at one tick."""

    def __init__(self, root, interval: float, pg_root: int | None = None, pg_every: int = 4):
        super().__init__(daemon=True)
        self.root, self.interval, self.pg_root, self.pg_every = root, interval, pg_root, pg_every
        self.pids = proc_tree(root)
        self.pg_pids = proc_tree(pg_root) if pg_root else []
        self.pg_last = 0
        self.phase = None
        self.peaks: dict[str, int] = {}  # server, per phase
        self.pg_peaks: dict[str, int] = {}
        self.total_peaks: dict[str, int] = {}
        self.peak_all = 0
        self.pg_peak_all = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._tick = 0

    def set_phase(self, name):
        with self._lock:
            self.phase = name
            if name is not None:
                self.peaks.setdefault(name, 0)
                self.pg_peaks.setdefault(name, 0)
                self.total_peaks.setdefault(name, 0)
        self.sample(with_pg=True)

    def sample(self, with_pg: bool = False):
        v = rss_bytes(self.pids)
        if self.pg_root and (with_pg or self._tick % self.pg_every == 0):
            self.pg_last = pss_bytes(self.pg_pids)
        with self._lock:
            self.peak_all = max(self.peak_all, v)
            self.pg_peak_all = max(self.pg_peak_all, self.pg_last)
            if self.phase is not None:
                self.peaks[self.phase] = max(self.peaks[self.phase], v)
                self.pg_peaks[self.phase] = max(self.pg_peaks[self.phase], self.pg_last)
                self.total_peaks[self.phase] = max(self.total_peaks[self.phase], v + self.pg_last)

    def run(self):
        while not self._halt.wait(self.interval):
            self._tick += 1
            if self._tick % 8 == 0:  # new processes (workers, backends) show up in the tree
                try:
                    self.pids = proc_tree(self.root)
                    if self.pg_root:
                        self.pg_pids = proc_tree(self.pg_root)
                except OSError:
                    pass
            self.sample()

    def stop(self):
        self._halt.set()
        self.join(timeout=5)


# ----------------------------------------------------------------------------------------------
# HTTP client side (runs in the load-generator processes)
# ----------------------------------------------------------------------------------------------

class Conn(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def http_call(conn: Conn, method: str, path: str, body: bytes | None):
    conn.request(method, path, body=body, headers=HEADERS_JSON if body is not None else {})
    r = conn.getresponse()
    return r.status, r.read()


def post_json(conn: Conn, path: str, obj, retries: int = 8):
    """Seeding helper: POST with retries (SQLite 'database is locked' etc.). Returns parsed JSON."""
    body = json.dumps(obj).encode()
    seen = []
    for attempt in range(retries):
        try:
            status, data = http_call(conn, "POST", API + path, body)
        except (OSError, http.client.HTTPException) as e:
            seen.append(repr(e))
            conn.close()
            time.sleep(0.05 * (attempt + 1))
            continue
        if status == 200:
            return json.loads(data or b"{}")
        seen.append(f"HTTP {status}: {data[:300]!r}")
        if 400 <= status < 500 and status != 429:
            break  # a client error will not go away by retrying
        time.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"POST {path} failed ({len(seen)} tries): " + " | ".join(seen[:3]))


def metric_json(key: str, value: float, ts: int, step) -> str:
    return '{"key":"%s","value":%r,"timestamp":%d,"step":%s}' % (key, value, ts, step)


class History:
    """One get-history op: fetch every page of the series."""

    TOKEN_RE = re.compile(rb'"next_page_token"\s*:\s*"([^"]*)"')

    def __init__(self, run_id: str, points: int):
        self.base = (f"{API}/metrics/get-history?run_id={run_id}&metric_key={HISTORY_KEY}"
                     f"&max_results={HISTORY_PAGE}")
        self.points = points
        self.last_pages = 0

    def op(self, conn: Conn):
        path, got, pages = self.base, 0, 0
        while True:
            status, data = http_call(conn, "GET", path, None)
            pages += 1
            if status != 200:
                return False, f"HTTP {status}: {data[:200]!r}"
            got += data.count(b'"key"')
            i = data.rfind(b'"next_page_token"')
            m = self.TOKEN_RE.match(data, i) if i >= 0 else None
            if not m or not m.group(1):
                break
            if pages > 1000:
                return False, "more than 1000 pages"
            path = self.base + "&page_token=" + urllib.parse.quote(m.group(1).decode(), safe="")
        self.last_pages = pages
        if got != self.points:
            return False, f"got {got} points in {pages} pages, expected {self.points}"
        return True, None


def make_op(spec: dict, wid: int):
    """Returns op(conn) -> (ok, error_or_None). Bodies are pre-built; only the step number is
    spliced in per request (a single bytes.join), since MLflow rejects/slow-paths duplicate
    (key, step, timestamp, value) rows."""
    kind = spec["workload"]
    if kind == "create-run":
        path = API + "/runs/create"
        body = json.dumps({"experiment_id": spec["experiment_id"], "run_name": f"bench-w{wid}",
                           "start_time": T0_MS, "tags": [{"key": "bench", "value": "create-run"}]}
                          ).encode()

        def op(conn):
            status, data = http_call(conn, "POST", path, body)
            return (True, None) if status == 200 else (False, f"HTTP {status}: {data[:200]!r}")
        return op

    if kind in ("log-batch-10", "log-batch-500", "log-metric"):
        run_id = spec["run_ids"][wid]
        if kind == "log-metric":
            path = API + "/runs/log-metric"
            template = ('{"run_id":"%s","key":"loss","value":0.25,"timestamp":%d,"step":@S@}'
                        % (run_id, T0_MS)).encode()
        else:
            n = 10 if kind == "log-batch-10" else 500
            path = API + "/runs/log-batch"
            ms = ",".join(metric_json(f"m{k}", 0.5 + k / 1000.0, T0_MS + k, "@S@") for k in range(n))
            template = ('{"run_id":"%s","metrics":[%s]}' % (run_id, ms)).encode()
        parts = template.split(b"@S@")
        state = {"step": 0}

        def op(conn):
            state["step"] += 1
            body = b"%d" % state["step"]
            body = body.join(parts)
            status, data = http_call(conn, "POST", path, body)
            return (True, None) if status == 200 else (False, f"HTTP {status}: {data[:200]!r}")
        op.prebuilt_parts = parts  # keep the template alive/visible for debugging
        return op

    if kind == "search-runs":
        path = API + "/runs/search"
        body = json.dumps({"experiment_ids": [spec["experiment_id"]], "filter": SEARCH_FILTER,
                           "order_by": [SEARCH_ORDER], "max_results": SEARCH_MAX}).encode()
        marker = b'"run_id"'

        def op(conn):
            status, data = http_call(conn, "POST", path, body)
            if status != 200:
                return False, f"HTTP {status}: {data[:200]!r}"
            if data.count(marker) < min(SEARCH_MAX, spec["expected_matches"]):
                return False, f"short page: {data.count(marker)} run_id fields"
            return True, None
        return op

    if kind == "get-history":
        h = History(spec["run_id"], spec["points"])
        return h.op

    raise ValueError(kind)


def load_worker(wid, spec, host, port, barrier, out_q, duration, n_ops, warmup, timeout):
    """One load-generator process: one keep-alive connection, warm-up, barrier, timed loop."""
    errors, err_samples, reconnects = 0, [], 0
    lat = array.array("q")
    first = last = 0
    cpu0 = cpu1 = 0.0
    try:
        conn = Conn(host, port, timeout=timeout)
        op = make_op(spec, wid)
        for _ in range(warmup):
            try:
                op(conn)
            except (OSError, http.client.HTTPException):
                conn.close()
        barrier.wait(timeout=600)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = ru.ru_utime + ru.ru_stime
        pc = time.perf_counter_ns
        first = pc()
        deadline = first + int(duration * 1e9) if duration else None
        done = 0
        while True:
            if conn.sock is None and done:
                reconnects += 1
            t0 = pc()
            try:
                ok, err = op(conn)
            except (OSError, http.client.HTTPException) as e:
                ok, err = False, repr(e)
                conn.close()
            t1 = pc()
            done += 1
            if ok:
                lat.append(t1 - t0)
            else:
                errors += 1
                if len(err_samples) < 3:
                    err_samples.append(err)
            if deadline is not None:
                if t1 >= deadline:
                    break
            elif done >= n_ops:
                break
        last = pc()
        ru = resource.getrusage(resource.RUSAGE_SELF)
        cpu1 = ru.ru_utime + ru.ru_stime
        conn.close()
    except threading.BrokenBarrierError:
        err_samples.append("barrier broken (another worker failed)")
        errors += 1
    except Exception:
        errors += 1
        err_samples.append(traceback.format_exc(limit=3))
        try:
            barrier.abort()
        except Exception:
            pass
    out_q.put({"wid": wid, "lat": lat.tobytes(), "errors": errors, "err_samples": err_samples,
               "first": first, "last": last, "client_cpu": cpu1 - cpu0, "reconnects": reconnects})


# ----------------------------------------------------------------------------------------------
# Seed data (deterministic: every server gets identical runs)
# ----------------------------------------------------------------------------------------------

def run_data(i: int, seed: int) -> dict:
    rng = random.Random(seed * 1_000_003 + i)
    loss = rng.random()
    acc = max(0.0, min(1.0, 1.0 - loss * 0.8 + rng.uniform(-0.05, 0.05)))
    return {
        "name": f"run-{i:05d}",
        "params": {"lr": rng.choice(["0.1", "0.01", "0.001"]),
                   "batch_size": str(rng.choice([16, 32, 64, 128])),
                   "optimizer": rng.choice(["adam", "sgd", "adamw"]),
                   "layers": str(rng.randint(1, 8)),
                   "dropout": "%.2f" % rng.uniform(0, 0.5)},
        "metrics": {"loss": loss, "accuracy": acc, "val_loss": loss * rng.uniform(0.9, 1.3),
                    "val_accuracy": acc * rng.uniform(0.85, 1.0), "f1": acc * rng.uniform(0.9, 1.0)},
        "tags": {"team": rng.choice(["vision", "nlp", "tabular"]), "bench.seed": str(seed)},
    }


def expected_search(n_runs: int, seed: int):
    m = []
    for i in range(n_runs):
        d = run_data(i, seed)
        if d["metrics"]["loss"] < 0.5 and d["params"]["lr"] == "0.01":
            m.append((d["metrics"]["loss"], d["name"]))
    m.sort(reverse=True)
    return len(m), [name for _, name in m[:SEARCH_MAX]]


def seed_worker(wid, job, host, port, out_q, timeout):
    """Untimed seeding in a worker process. job['kind'] is 'runs' or 'history'."""
    res = {"wid": wid, "ok": 0, "error": None}
    try:
        conn = Conn(host, port, timeout=timeout)
        if job["kind"] == "runs":
            for i in job["indices"]:
                d = run_data(i, job["seed"])
                r = post_json(conn, "/runs/create", {
                    "experiment_id": job["experiment_id"], "run_name": d["name"],
                    "start_time": T0_MS + i,
                    "tags": [{"key": "mlflow.runName", "value": d["name"]}]})
                run_id = r["run"]["info"]["run_id"]
                post_json(conn, "/runs/log-batch", {
                    "run_id": run_id,
                    "params": [{"key": k, "value": v} for k, v in d["params"].items()],
                    "metrics": [{"key": k, "value": v, "timestamp": T0_MS + i, "step": 0}
                                for k, v in d["metrics"].items()],
                    "tags": [{"key": k, "value": v} for k, v in d["tags"].items()]})
                res["ok"] += 1
        else:
            rng_base = job["seed"]
            for b in job["batches"]:
                lo = b * job["batch_size"]
                hi = min(lo + job["batch_size"], job["points"])
                ms = ",".join(metric_json(HISTORY_KEY, round(math.sin(s / 500.0) + (s % 7) * 1e-3
                                                             + rng_base * 1e-9, 9), T0_MS + s, s)
                              for s in range(lo, hi))
                body = ('{"run_id":"%s","metrics":[%s]}' % (job["run_id"], ms)).encode()
                for attempt in range(8):
                    try:
                        status, data = http_call(conn, "POST", API + "/runs/log-batch", body)
                    except (OSError, http.client.HTTPException) as e:
                        status, data = -1, repr(e).encode()
                        conn.close()
                    if status == 200:
                        break
                    time.sleep(0.05 * (attempt + 1))
                else:
                    raise RuntimeError(f"history log-batch failed: {status} {data[:300]!r}")
                res["ok"] += hi - lo
        conn.close()
    except Exception:
        res["error"] = traceback.format_exc(limit=4)
    out_q.put(res)


# ----------------------------------------------------------------------------------------------
# Servers
# ----------------------------------------------------------------------------------------------

def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def pick_port(lo: int, hi: int) -> int:
    for p in range(lo, hi + 1):
        if port_free(p):
            return p
    raise RuntimeError(f"no free port in {lo}-{hi}")


def peer_env() -> dict:
    env = dict(os.environ)
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                "GX_ANALYTICS_ENABLED": "false", "WANDB_MODE": "offline",
                "PYTHONUNBUFFERED": "1"})
    for k in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        env.pop(k, None)
    return env


class Server:
    def __init__(self, target: str, args, tmp: str, port: int, db_uri: str | None = None,
                 replica: int = 0):
        """db_uri: the PostgreSQL database of a pg target (None: SQLite in tmp). Replicas of one
        target share tmp (the artifact folder) and the database; each has its own log."""
        self.target, self.args, self.tmp, self.port = target, args, tmp, port
        self.proc = None
        self.log_path = os.path.join(tmp, f"server-{replica}.log" if replica else "server.log")
        art = os.path.join(tmp, "artifacts")
        os.makedirs(art, exist_ok=True)
        env = peer_env()
        venv_bin = os.path.join(args.venv, "bin")
        kind = TARGET_KIND[target]
        if kind == "plinth":
            self.cmd = [args.plinth_bin, "server", "--backend-store-uri",
                        db_uri or f"sqlite:///{tmp}/plinth.db", "--artifacts-destination", art,
                        "--host", "127.0.0.1", "--port", str(port)]
            if db_uri and args.db_pool_size:
                self.cmd += ["--db-pool-size", str(args.db_pool_size)]
        elif kind == "mlflow":
            if db_uri:
                # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; MLflow's documented
                # driver is psycopg2 (installed by scripts/setup-peers.sh), named explicitly
                db_uri = db_uri.replace("postgresql://", "postgresql+psycopg2://", 1)
            self.cmd = [os.path.join(venv_bin, "mlflow"), "server", "--backend-store-uri",
                        db_uri or f"sqlite:///{tmp}/mlflow.db", "--artifacts-destination", art,
                        "--host", "127.0.0.1", "--port", str(port),
                        "--workers", str(args.mlflow_workers)]
            if not args.mlflow_jobs:
                # the GenAI job runner (7 huey consumer processes in MLflow 3.17) serves none of
                # the tracking API; off by default so MLflow's memory is not inflated by it
                env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        elif kind == "fasttrackml":
            self.cmd = [os.path.join(venv_bin, "fml"), "server", "--database-uri",
                        f"sqlite://{tmp}/fml.db", "--listen-address", f"127.0.0.1:{port}",
                        "--default-artifact-root", art]
        else:
            raise ValueError(target)
        self.env = env

    def start(self, timeout: float = 180.0) -> float:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            raise RuntimeError(f"port {self.port} already answers before {self.target} started")
        except OSError:
            pass
        t = time.monotonic()
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=self.tmp, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        while time.monotonic() - t < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.target} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return time.monotonic() - t
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.target} not healthy after {timeout}s:\n{self.log_tail()}")

    LOG_PROBLEM = re.compile(r"\[(error|warn|warning|critical)\]|\bERROR\b|\bCRITICAL\b|Traceback",
                             re.IGNORECASE)

    def log_problems(self, keep: int = 3) -> dict:
        """Lines of the server's log that report an error or a warning (count, first few)."""
        n, samples = 0, []
        try:
            with open(self.log_path, "rb") as f:
                for line in f:
                    t = line.decode(errors="replace").rstrip()
                    if self.LOG_PROBLEM.search(t):
                        n += 1
                        if len(samples) < keep:
                            samples.append(t[:240])
        except OSError:
            pass
        return {"lines": n, "samples": samples}

    def log_tail(self, n: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = self.proc.pid  # start_new_session: the server leads its own process group
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever is left of the group (e.g. workers of a parent that exited first)
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()


# ----------------------------------------------------------------------------------------------
# PostgreSQL (the pg targets): one server for the whole run, a fresh database per target
# ----------------------------------------------------------------------------------------------

class PgCluster:
    """The PostgreSQL server that run.sh started (scripts/pg-server.sh): DSN of its maintenance
    database and its folder (postmaster.pid gives the process tree to measure)."""

    STATS_SQL = ("select d.xact_commit, d.xact_rollback, d.deadlocks, d.blks_read, d.blks_hit, "
                 "d.tup_inserted, d.tup_updated, d.tup_deleted, d.tup_returned, "
                 "w.wal_records, w.wal_bytes, w.wal_sync, w.wal_write, "
                 "(select checkpoints_timed + checkpoints_req from pg_stat_bgwriter), "
                 "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, "
                 "pg_snapshot_xmax(pg_current_snapshot())::text::bigint "
                 "from pg_stat_database d, pg_stat_wal w where d.datname = '%s'")
    # The pg_stat_* counters are published by each backend when it goes idle, at most once a
    # second, so over a phase they are short by up to a second's worth (approximate); the WAL
    # position (wal_lsn, bytes) and the next transaction id (next_xid: transactions that wrote
    # something) are exact.
    STATS_KEYS = ["xact_commit", "xact_rollback", "deadlocks", "blks_read", "blks_hit",
                  "tup_inserted", "tup_updated", "tup_deleted", "tup_returned",
                  "wal_records", "wal_bytes", "wal_sync", "wal_write", "checkpoints",
                  "wal_lsn", "next_xid"]

    def __init__(self, dsn: str, pg_dir: str, psql: str = "psql"):
        self.dsn, self.dir, self.psql_bin = dsn, pg_dir, psql
        u = urllib.parse.urlsplit(dsn)
        if u.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"not a postgresql:// DSN: {dsn}")
        self._u = u

    def dsn_for(self, db: str) -> str:
        return urllib.parse.urlunsplit(self._u._replace(path="/" + db))

    def psql(self, sql: str, db: str | None = None, timeout: float = 120) -> str:
        r = subprocess.run([self.psql_bin, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                            "-d", self.dsn_for(db) if db else self.dsn, "-c", sql],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed ({sql[:80]}): {r.stderr.strip()[:400]}")
        return r.stdout.strip()

    def postmaster_pid(self) -> int:
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def create_db(self, name: str):
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')

    def drop_db(self, name: str):
        try:
            self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:
            pass

    def checkpoint(self):
        """Flushes what earlier phases or targets wrote, so their checkpoint does not land in
        the next measurement."""
        try:
            self.psql("CHECKPOINT", timeout=300)
        except Exception:
            pass

    def stats(self, db: str) -> dict:
        try:
            row = self.psql(self.STATS_SQL % db).split("|")
            return {k: int(v) for k, v in zip(self.STATS_KEYS, row)}
        except Exception:
            return {}

    def info(self) -> dict:
        keys = ["server_version", "max_connections", "shared_buffers", "synchronous_commit",
                "fsync", "wal_level", "max_wal_size", "checkpoint_timeout"]
        out = {}
        for k in keys:
            try:
                out[k] = self.psql(f"SHOW {k}")
            except Exception:
                out[k] = "?"
        return out


class PgActivitySampler(threading.Thread):
    """Samples pg_stat_activity of the benchmark database a few times per second through one
    persistent psql session: how many backends are active and what they wait on (no wait event
    = running on a CPU). Tells a CPU-bound PostgreSQL from one waiting on WAL flushes or locks."""

    END = "@@bench-end@@"

    def __init__(self, pg: PgCluster, db: str, interval: float):
        super().__init__(daemon=True)
        self.interval = interval
        self.sql = ("select coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, "
                    "'running'), count(*) from pg_stat_activity where datname = '%s' and "
                    "state = 'active' and pid <> pg_backend_pid() group by 1;\n"
                    "\\echo %s\n") % (db, self.END)
        self.proc = subprocess.Popen([pg.psql_bin, "-X", "-A", "-t", "-q", "-F", "|", "-d",
                                      pg.dsn_for(db)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.phase = None
        self.data: dict[str, dict] = {}
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def set_phase(self, name):
        with self._lock:
            self.phase = name
            if name is not None:
                self.data[name] = {"samples": 0, "events": {}}

    def result(self, name) -> dict | None:
        with self._lock:
            d = self.data.get(name)
            if not d or not d["samples"]:
                return None
            n = d["samples"]
            ev = {k: round(v / n, 2) for k, v in sorted(d["events"].items(), key=lambda x: -x[1])}
            return {"samples": n, "active_backends": round(sum(d["events"].values()) / n, 2),
                    "waits": ev}

    def run(self):
        while not self._halt.wait(self.interval):
            if self.phase is None:
                continue
            try:
                self.proc.stdin.write(self.sql)
                self.proc.stdin.flush()
                rows = {}
                while True:
                    line = self.proc.stdout.readline()
                    if not line:
                        return
                    line = line.strip()
                    if line == self.END:
                        break
                    if "|" in line:
                        k, v = line.rsplit("|", 1)
                        rows[k] = int(v)
            except (OSError, ValueError):
                return
            with self._lock:
                if self.phase is None:
                    continue
                d = self.data[self.phase]
                d["samples"] += 1
                for k, v in rows.items():
                    d["events"][k] = d["events"].get(k, 0) + v

    def stop(self):
        self._halt.set()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.join(timeout=5)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def percentile(sorted_vals, q: float) -> float:
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[k]


class Bench:
    def __init__(self, args, pg_cluster: PgCluster | None = None):
        self.args = args
        self.ctx = mp.get_context("fork")
        self.host = "127.0.0.1"
        self.pg_cluster = pg_cluster
        self.pg = None  # set for a pg target
        self.pg_root = None
        self.activity = None
        self.conc = args.concurrency
        self.ports: list[int] = []

    def log(self, msg: str):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    # -- one-off API calls from the driver process ------------------------------------------
    def api(self, path: str, obj):
        c = Conn(self.host, self.port, timeout=120)
        try:
            return post_json(c, path, obj)
        finally:
            c.close()

    def create_experiment(self, name: str) -> str:
        return str(self.api("/experiments/create", {"name": name})["experiment_id"])

    def create_runs(self, exp_id: str, n: int, prefix: str) -> list[str]:
        return [self.api("/runs/create", {"experiment_id": exp_id, "run_name": f"{prefix}-{i}",
                                          "start_time": T0_MS})["run"]["info"]["run_id"]
                for i in range(n)]

    # -- seeding --------------------------------------------------------------------------------
    def parallel_seed(self, jobs: list[dict]) -> int:
        q = self.ctx.Queue()
        procs = [self.ctx.Process(target=seed_worker, args=(w, j, self.host, self.port, q, 300),
                                  daemon=True) for w, j in enumerate(jobs)]
        for p in procs:
            p.start()
        total, errs = 0, []
        for _ in procs:
            r = q.get(timeout=7200)
            total += r["ok"]
            if r["error"]:
                errs.append(r["error"])
        for p in procs:
            p.join(timeout=30)
        if errs:
            raise RuntimeError("seeding failed:\n" + errs[0])
        return total

    def seed_search(self, info: dict) -> dict:
        a = self.args
        exp = self.create_experiment("bench-search")
        c = a.seed_concurrency
        jobs = [{"kind": "runs", "indices": list(range(w, a.search_runs, c)), "seed": a.seed,
                 "experiment_id": exp} for w in range(c)]
        t = time.monotonic()
        n = self.parallel_seed(jobs)
        secs = time.monotonic() - t
        self.log(f"  seeded {n} runs (params, metrics, tags) in {secs:.1f}s")
        exp_count, exp_top = expected_search(a.search_runs, a.seed)
        # correctness check: the first page must be the expected runs in the expected order
        r = self.api("/runs/search", {"experiment_ids": [exp], "filter": SEARCH_FILTER,
                                      "order_by": [SEARCH_ORDER], "max_results": SEARCH_MAX})
        names = [(run.get("info", {}).get("run_name")
                  or {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}
                  .get("mlflow.runName")) for run in r.get("runs", [])]
        check = {"expected_matches": exp_count, "first_page_len": len(names),
                 "first_page_matches_expected": names == exp_top,
                 "has_next_page_token": bool(r.get("next_page_token"))}
        if names != exp_top:
            diff = next((i for i, (x, y) in enumerate(zip(names, exp_top)) if x != y), min(len(names), len(exp_top)))
            check["first_difference_at"] = diff
            self.log(f"  WARNING: search first page differs from expected at position {diff}")
        info["seed"]["search-runs"] = {"runs": n, "seconds": round(secs, 2), "check": check}
        return {"experiment_id": exp, "expected_matches": exp_count}

    def seed_history(self, info: dict) -> dict:
        a = self.args
        exp = self.create_experiment("bench-history")
        run_id = self.create_runs(exp, 1, "history")[0]
        bs = 1000  # MLflow's log-batch limit is 1000 metrics per request
        nb = math.ceil(a.history_points / bs)
        c = a.seed_concurrency
        jobs = [{"kind": "history", "batches": list(range(w, nb, c)), "batch_size": bs,
                 "points": a.history_points, "run_id": run_id, "seed": a.seed} for w in range(c)]
        t = time.monotonic()
        n = self.parallel_seed(jobs)
        secs = time.monotonic() - t
        self.log(f"  seeded {n} points of '{HISTORY_KEY}' in {secs:.1f}s")
        h = History(run_id, a.history_points)
        c = Conn(self.host, self.port, timeout=600)
        t = time.monotonic()
        ok, err = h.op(c)
        c.close()
        check = {"ok": ok, "error": err, "pages": h.last_pages,
                 "first_fetch_seconds": round(time.monotonic() - t, 3)}
        if not ok:
            self.log(f"  WARNING: history check failed: {err}")
        info["seed"]["get-history"] = {"points": n, "seconds": round(secs, 2), "check": check}
        return {"run_id": run_id, "points": a.history_points}

    # -- timed phase ----------------------------------------------------------------------------
    def timed(self, name: str, spec: dict, sampler: RssSampler) -> dict:
        a = self.args
        c = self.conc
        spec = dict(spec, workload=name)
        warm = a.warmup if a.warmup is not None else WARMUP[name]
        duration = None if a.requests else a.duration
        per_worker = max(1, math.ceil(a.requests / c)) if a.requests else 0
        if self.pg:
            self.pg.checkpoint()  # what the previous phase wrote is flushed outside the timing
        quiet = self.wait_quiet(a.phase_wait_quiet, 1.0, name) if a.phase_wait_quiet > 0 else None
        barrier = self.ctx.Barrier(c + 1)
        q = self.ctx.Queue()
        # worker w talks to replica w % replicas (one replica: every worker on the same port)
        procs = [self.ctx.Process(target=load_worker, daemon=True,
                                  args=(w, spec, self.host, self.ports[w % len(self.ports)],
                                        barrier, q, duration, per_worker, warm,
                                        a.request_timeout)) for w in range(c)]
        for p in procs:
            p.start()
        t_wait = time.monotonic()
        while barrier.n_waiting < c and not barrier.broken:
            if time.monotonic() - t_wait > 900:
                barrier.abort()
                break
            if not any(p.is_alive() for p in procs):
                break
            time.sleep(0.005)
        pg_stats0 = self.pg.stats(self.pg_db) if self.pg else None
        pg0 = cpu_snapshot(self.pg_root) if self.pg else None
        cpu0 = cpu_snapshot(self.roots)
        m0 = machine_cpu_ticks()
        sampler.set_phase(name)
        if self.activity:
            self.activity.set_phase(name)
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        results = []
        deadline = time.monotonic() + (duration or 0) + 3600
        while len(results) < c and time.monotonic() < deadline:
            try:
                results.append(q.get(timeout=5))
            except Exception:
                if not any(p.is_alive() for p in procs) and q.empty():
                    break
        cpu1 = cpu_snapshot(self.roots)
        pg1 = cpu_snapshot(self.pg_root) if self.pg else None
        m1 = machine_cpu_ticks()
        sampler.set_phase(None)
        if self.activity:
            self.activity.set_phase(None)
        pg_stats1 = self.pg.stats(self.pg_db) if self.pg else None
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
        lat = array.array("q")
        errors, samples, reconnects, client_cpu = 0, [], 0, 0.0
        firsts, lasts = [], []
        for r in results:
            lat.frombytes(r["lat"])
            errors += r["errors"]
            samples.extend(r["err_samples"])
            reconnects += r["reconnects"]
            client_cpu += r["client_cpu"]
            if r["first"]:
                firsts.append(r["first"])
                lasts.append(r["last"])
        errors += c - len(results)
        elapsed = (max(lasts) - min(firsts)) / 1e9 if firsts else float("nan")
        vals = sorted(lat)
        ops = len(vals)
        server_cpu = cpu_delta_seconds(cpu0, cpu1)
        pg_cpu = cpu_delta_seconds(pg0, pg1, reaped_in_tree=True) if self.pg else 0.0
        busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
        # CPU used by anything else on the machine during the phase (other jobs, the driver):
        # a non-zero value means the numbers were taken on a shared, not an idle, machine
        other = ((m1[0] - m0[0]) / CLK_TCK - server_cpu - pg_cpu - client_cpu) / elapsed \
            if firsts and elapsed > 0 else None
        res = {
            "ops": ops, "errors": errors, "error_samples": samples[:5],
            "elapsed_s": round(elapsed, 3),
            "ops_per_s": ops / elapsed if ops and elapsed > 0 else 0.0,
            "p50_ms": percentile(vals, 0.50) / 1e6 if ops else None,
            "p90_ms": percentile(vals, 0.90) / 1e6 if ops else None,
            "p99_ms": percentile(vals, 0.99) / 1e6 if ops else None,
            "max_ms": vals[-1] / 1e6 if ops else None,
            "mean_ms": sum(vals) / ops / 1e6 if ops else None,
            "server_cpu_s": round(server_cpu, 3),
            "cpu_ms_per_op": server_cpu * 1000 / ops if ops else None,
            "server_cores_used": server_cpu / elapsed if ops and elapsed > 0 else None,
            "client_cpu_ms_per_op": client_cpu * 1000 / ops if ops else None,
            "client_cores_used": client_cpu / elapsed if firsts and elapsed > 0 else None,
            "machine_cpu_busy": round(busy, 3),
            "machine_cores_busy": round((m1[0] - m0[0]) / CLK_TCK / elapsed, 3)
            if firsts and elapsed > 0 else None,
            "other_cores_used": round(other, 3) if other is not None else None,
            "peak_rss_mb": sampler.peaks.get(name, 0) / 2**20,
            "reconnects": reconnects, "concurrency": c, "warmup_per_worker": warm,
            "quiet_before": quiet,
        }
        if self.pg:
            res.update({
                "pg_cpu_s": round(pg_cpu, 3),
                "pg_cpu_ms_per_op": pg_cpu * 1000 / ops if ops else None,
                "pg_cores_used": pg_cpu / elapsed if ops and elapsed > 0 else None,
                "total_cpu_ms_per_op": (server_cpu + pg_cpu) * 1000 / ops if ops else None,
                "pg_peak_pss_mb": sampler.pg_peaks.get(name, 0) / 2**20,
                "total_peak_mb": sampler.total_peaks.get(name, 0) / 2**20,
            })
            if pg_stats0 and pg_stats1:
                d = {k: pg_stats1[k] - pg_stats0.get(k, 0) for k in pg_stats1}
                res["pg_stats"] = d
                if ops:
                    res["pg_commits_per_op"] = d["xact_commit"] / ops  # approximate
                    res["pg_wal_syncs_per_op"] = d["wal_sync"] / ops  # approximate
                    res["pg_wal_kb_per_op"] = d["wal_lsn"] / 1024 / ops
                    res["pg_write_xacts_per_op"] = d["next_xid"] / ops
            act = self.activity.result(name) if self.activity else None
            if act:
                res["pg_activity"] = act
        if name == "get-history":
            res["points_per_op"] = spec["points"]
        extra = ""
        if self.pg:
            extra = (f"  pg cpu {fmt(res['pg_cpu_ms_per_op'])} ms/op  busy "
                     f"{res['machine_cpu_busy'] * 100:.0f}% (server {fmt(res['server_cores_used'])}"
                     f" pg {fmt(res['pg_cores_used'])} client {fmt(res['client_cores_used'])})")
        self.log(f"  {name:14s} {res['ops_per_s']:9.1f} ops/s  p50 {fmt(res['p50_ms'])} ms  "
                 f"p99 {fmt(res['p99_ms'])} ms  cpu {fmt(res['cpu_ms_per_op'])} ms/op  "
                 f"rss {res['peak_rss_mb']:.0f} MB  ops {ops}  errors {errors}" + extra
                 + (f"  e.g. {samples[0][:160]}" if samples else ""))
        return res

    def wait_quiet(self, limit: float, window: float = 2.0, what: str = "start") -> dict:
        """Waits (at most `limit` s) for a window in which the machine is nearly idle, so that
        another job's build or test run disturbs the measurement as little as possible."""
        a = self.args
        t = time.monotonic()
        busy = None
        while True:
            m0 = machine_cpu_ticks()
            time.sleep(window)
            m1 = machine_cpu_ticks()
            busy = (m1[0] - m0[0]) / CLK_TCK / window
            if busy <= a.quiet_cores or time.monotonic() - t >= limit:
                break
        waited = time.monotonic() - t
        if what == "start" or waited > window + 0.5:
            self.log(f"  machine busy {busy:.2f} cores before {what} (waited {waited:.0f}s)")
        return {"cores_busy_before": round(busy, 2), "waited_s": round(waited, 1)}

    def run_target(self, target: str) -> dict:
        a = self.args
        replicas = REPLICAS.get(target, 1)
        is_pg = TARGET_GROUP[target] == "pg"
        self.conc = a.pg3_concurrency if target == "plinth-pg3" and a.pg3_concurrency \
            else a.concurrency
        self.pg = self.pg_cluster if is_pg else None
        self.activity = None
        self.pg_root = None
        quiet = self.wait_quiet(a.wait_quiet) if a.wait_quiet > 0 else None
        tmp = tempfile.mkdtemp(prefix=f"plinth-bench-{target}-", dir=a.tmpdir)
        info = {"target": target, "storage": tmp, "seed": {}, "workloads": {},
                "replicas": replicas, "concurrency": self.conc}
        db_uri = None
        if is_pg:
            self.pg_db = f"bench_{target.replace('-', '_')}_{os.getpid()}"
            self.pg.create_db(self.pg_db)
            if a.pg_synchronous_commit:
                # a per-database setting: every connection of the servers gets it, no restart
                self.pg.psql(f'ALTER DATABASE "{self.pg_db}" SET synchronous_commit = '
                             f'{a.pg_synchronous_commit}')
                info["synchronous_commit"] = a.pg_synchronous_commit
            self.pg.checkpoint()
            db_uri = self.pg.dsn_for(self.pg_db)
            self.pg_root = self.pg.postmaster_pid()
            info["database"] = self.pg_db
        servers: list[Server] = []
        self.ports = []
        sampler = None
        try:
            if quiet:
                info["quiet"] = quiet
            t0 = time.monotonic()
            # one after the other: the first replica creates the schema of an empty database
            for i in range(replicas):
                port = pick_port(a.port_min, a.port_max)
                srv = Server(target, a, tmp, port, db_uri, i)
                servers.append(srv)
                self.ports.append(port)
                self.log(f"{target}: starting{f' replica {i}' if replicas > 1 else ''} on "
                         f"127.0.0.1:{port} ({tmp})")
                srv.start()
            info["startup_s"] = round(time.monotonic() - t0, 2)
            info["command"] = servers[0].cmd
            info["commands"] = [s.cmd for s in servers]
            info["port"] = self.ports[0]
            info["ports"] = self.ports
            if TARGET_KIND[target] == "mlflow":
                info["env"] = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": servers[0].env.get(
                    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "(default)")}
            self.port = self.ports[0]  # seeding and one-off calls go through replica 0
            self.roots = [s.proc.pid for s in servers]
            sampler = RssSampler(self.roots, a.rss_interval, self.pg_root)
            sampler.start()
            if is_pg and a.pg_activity_interval > 0:
                self.activity = PgActivitySampler(self.pg, self.pg_db, a.pg_activity_interval)
                self.activity.start()
            self.log(f"  healthy after {info['startup_s']}s")
            wl = [w for w in WORKLOADS if w in a.workloads]
            specs = {}
            t_seed = time.monotonic()
            if "search-runs" in wl:
                specs["search-runs"] = self.seed_search(info)
            if "get-history" in wl:
                specs["get-history"] = self.seed_history(info)
            logging_exp = None
            for w in wl:
                if w in ("create-run",):
                    specs[w] = {"experiment_id": self.create_experiment(f"bench-{w}")}
                elif w.startswith("log-"):
                    logging_exp = logging_exp or self.create_experiment("bench-logging")
                    specs[w] = {"run_ids": self.create_runs(logging_exp, self.conc, w)}
            info["seed_seconds"] = round(time.monotonic() - t_seed, 1)
            if self.pg:
                # the seeded tables as autovacuum would leave them a minute later (statistics,
                # visibility map), for every target alike: otherwise the first timed phase pays
                # for autovacuum and runs on plans made without statistics
                t_vac = time.monotonic()
                self.pg.psql("VACUUM (ANALYZE)", db=self.pg_db, timeout=1800)
                info["vacuum_analyze_s"] = round(time.monotonic() - t_vac, 1)
                self.pg.checkpoint()
            # idle CPU of the server (background threads, pollers) for context
            s0 = cpu_snapshot(self.roots)
            p0 = cpu_snapshot(self.pg_root) if self.pg else None
            time.sleep(a.idle_seconds)
            s1 = cpu_snapshot(self.roots)
            p1 = cpu_snapshot(self.pg_root) if self.pg else None
            info["idle_cpu_ms_per_s"] = round(cpu_delta_seconds(s0, s1) * 1000 / a.idle_seconds, 2)
            if self.pg:
                info["pg_idle_cpu_ms_per_s"] = round(
                    cpu_delta_seconds(p0, p1, reaped_in_tree=True) * 1000 / a.idle_seconds, 2)
            for w in wl:
                r = self.timed(w, specs[w], sampler)
                tries = 1
                # a phase disturbed by another job on the machine is measured again (bounded);
                # the cleaner of the attempts is kept and the number of attempts recorded
                while (r.get("other_cores_used") or 0) > NOISY_CORES and tries <= a.noisy_retries:
                    self.log(f"  {w}: {r['other_cores_used']:.2f} cores used by other processes; "
                             "measuring again")
                    r2 = self.timed(w, specs[w], sampler)
                    tries += 1
                    if (r2.get("other_cores_used") or 0) < (r.get("other_cores_used") or 0):
                        r = r2
                r["attempts"] = tries
                info["workloads"][w] = r
                for i, srv in enumerate(servers):
                    if srv.proc.poll() is not None:
                        raise RuntimeError(f"{target}{f' replica {i}' if replicas > 1 else ''} "
                                           f"died during {w}:\n{srv.log_tail()}")
            # process tree breakdown at the end (RSS now and high-water mark per process)
            procs = []
            for pid in proc_tree(self.roots):
                procs.append({"pid": pid, "cmd": cmdline(pid)[:160],
                              "rss_mb": round(status_kb(pid, b"VmRSS:") / 1024, 1),
                              "hwm_mb": round(status_kb(pid, b"VmHWM:") / 1024, 1)})
            info["processes"] = procs
            info["sum_vmhwm_mb"] = round(sum(p["hwm_mb"] for p in procs), 1)
            info["peak_rss_mb_whole_run"] = round(sampler.peak_all / 2**20, 1)
            if self.pg:
                pg_pids = proc_tree(self.pg_root)
                info["pg_processes"] = len(pg_pids)
                info["pg_pss_mb_end"] = round(pss_bytes(pg_pids) / 2**20, 1)
                info["pg_peak_pss_mb_whole_run"] = round(sampler.pg_peak_all / 2**20, 1)
                try:
                    info["pg_db_size_mb"] = round(int(self.pg.psql(
                        f"select pg_database_size('{self.pg_db}')")) / 2**20, 1)
                except Exception:
                    pass
            info["status"] = "ok"
        except Exception as e:
            info["status"] = "failed"
            info["error"] = f"{e}"
            info["log_tail"] = "\n".join(s.log_tail(40) for s in servers)
            if "PostgreSQL store: under construction" in info["log_tail"]:
                info["error"] += (f" ({os.path.relpath(a.plinth_bin, ROOT)} predates the "
                                  "PostgreSQL store: rebuild it, or pass --plinth-bin)")
            info["storage_kept"] = True  # for a post-mortem
            self.log(f"  FAILED: {e}\n  server log tail:\n{info['log_tail']}")
        finally:
            if self.activity:
                self.activity.stop()
            if sampler:
                sampler.stop()
            for srv in servers:
                srv.stop()
            probs = [srv.log_problems() for srv in servers]
            info["log_problems"] = {"lines": sum(p["lines"] for p in probs),
                                    "samples": [x for p in probs for x in p["samples"]][:3]}
            if a.keep_storage:
                info["storage_kept"] = True
            elif not info.get("storage_kept"):
                shutil.rmtree(tmp, ignore_errors=True)
            if is_pg and not a.keep_storage and not info.get("storage_kept"):
                self.pg.drop_db(self.pg_db)
        return info


def fmt_other(v) -> str:
    if v is None:
        return "—"
    return "≈0" if v < 0.05 else f"{v:.2f}"


def fmt(v, nd=None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if nd is not None:
        return f"{v:.{nd}f}"
    av = abs(v)
    if av >= 100:
        return f"{v:.0f}"
    if av >= 10:
        return f"{v:.1f}"
    if av >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


# ----------------------------------------------------------------------------------------------
# Versions / machine
# ----------------------------------------------------------------------------------------------

def sh(cmd, cwd=None) -> str:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60,
                              env=peer_env()).stdout.strip()
    except Exception:
        return ""


def machine_info(tmpdir: str) -> dict:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = status_like("/proc/meminfo", "MemTotal:")
    fs = sh(["df", "--output=fstype", tmpdir]).splitlines()
    return {"nproc": os.cpu_count(), "cpu_model": model, "mem_gb": round(mem / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "tmp_fs": fs[-1].strip() if fs else "?", "tmpdir": tmpdir}


def status_like(path: str, field: str) -> int:
    try:
        for line in open(path):
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def versions(args, targets) -> dict:
    v = {"plinth_git": sh(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT),
         "plinth_git_dirty": bool(sh(["git", "status", "--porcelain", "--", "src"], cwd=ROOT))}
    kinds = {TARGET_KIND[t] for t in targets}
    if "plinth" in kinds:
        v["plinth"] = sh([args.plinth_bin, "--version"]) or "(no --version)"
        try:  # the binary may be older or newer than HEAD: say when it was built
            v["plinth_built"] = dt.datetime.fromtimestamp(os.path.getmtime(args.plinth_bin)) \
                .astimezone().strftime("%Y-%m-%d %H:%M %Z")
        except OSError:
            pass
    py = os.path.join(args.venv, "bin", "python")
    if "mlflow" in kinds:
        v["mlflow"] = sh([py, "-c", "import mlflow; print(mlflow.__version__)"])
        v["uvicorn"] = sh([py, "-c", "import uvicorn; print(uvicorn.__version__)"])
        v["sqlalchemy"] = sh([py, "-c", "import sqlalchemy; print(sqlalchemy.__version__)"])
    if "mlflow-pg" in targets:
        v["psycopg2"] = sh([py, "-c", "import psycopg2; print(psycopg2.__version__.split()[0])"])
    if "fasttrackml" in kinds:
        v["fasttrackml"] = sh([os.path.join(args.venv, "bin", "fml"), "--version"]).replace("FastTrackML version ", "")
    return v


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def ratio(a, b) -> str:
    if a is None or b is None or not b or (isinstance(a, float) and math.isnan(a)):
        return "—"
    r = a / b
    if r < 1:
        return f"×{r:.2g}"
    return f"×{r:.2f}" if r < 10 else f"×{r:.1f}" if r < 100 else f"×{r:.0f}"


DOC_TITLE = "# Benchmarks"
LEGACY_TITLE = "# Benchmarks: tracking server"  # the file before it had sections
OLD_INTRO = ("_Written by `bench/tracking/bench.py`; do not edit by hand. Each section below is "
             "rewritten only by a run of its own targets (its date, machine and command are in "
             "it). Raw results: `bench/results/` (not committed)._")
DOC_INTRO = ("_Written by `bench/tracking/bench.py` and `bench/serving/bench.py`; do not edit by "
             "hand. Each section below is rewritten only by a run of its own targets (its date, "
             "machine and command are in it). Raw results: `bench/results/` (not committed)._")
GROUP_HEADINGS = {
    "sqlite": "SQLite store: plinth vs MLflow vs FastTrackML",
    "pg": "PostgreSQL store: plinth (1 and 3 replicas) vs MLflow",
}
GROUP_COMMANDS = {
    "sqlite": "bench/tracking/run.sh",
    "pg": "bench/tracking/run.sh --targets plinth-pg,plinth-pg3,mlflow-pg --docs",
}


def _anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def _markers(group: str) -> tuple[str, str]:
    return f"<!-- bench:{group}:begin -->", f"<!-- bench:{group}:end -->"


def groups_measured(res: dict) -> list[str]:
    """Groups of which this run measured (or tried and failed) at least one target."""
    got = {TARGET_GROUP[t["target"]] for t in res["targets"]
           if t.get("status") in ("ok", "failed")}
    return [g for g in GROUP_ORDER if g in got]


def parse_doc_blocks(text: str) -> dict[str, str]:
    """The group blocks of an existing docs/benchmarks.md (marker lines excluded). A file written
    before the markers existed holds only the SQLite results: it becomes the sqlite block, its
    headings one level deeper."""
    blocks = {}
    for g in GROUP_ORDER:
        b, e = _markers(g)
        i, j = text.find(b), text.find(e)
        if i >= 0 and j > i:
            blocks[g] = text[i + len(b):j].strip("\n")
    if not blocks and text.startswith(LEGACY_TITLE + "\n"):
        body = text[len(LEGACY_TITLE) + 1:].strip("\n")
        body = "\n".join("#" + ln if ln.startswith("#") else ln for ln in body.split("\n"))
        blocks["sqlite"] = f"## {GROUP_HEADINGS['sqlite']}\n\n{body}"
    return blocks


def other_doc_blocks(text: str) -> list[tuple[str, str]]:
    """(group, block) of the sections other benchmarks wrote (e.g. `serving` by
    bench/serving/bench.py), in file order: kept verbatim by a tracking run."""
    out = []
    for m in re.finditer(r"<!-- bench:([A-Za-z0-9_-]+):begin -->", text):
        g = m.group(1)
        if g in GROUP_ORDER:
            continue
        j = text.find(_markers(g)[1], m.end())
        if j > 0:
            out.append((g, text[m.end():j].strip("\n")))
    return out


def render_markdown(res: dict, existing: str | None = None) -> str:
    """The whole docs file: the title, an index, then one block per target group between HTML
    comment markers. Groups this run measured are rendered from `res`; the others are kept as
    they are in `existing` (the current file), so a PostgreSQL run does not erase the SQLite
    results and vice versa."""
    blocks = parse_doc_blocks(existing) if existing else {}
    for g in groups_measured(res) or [TARGET_GROUP[t["target"]] for t in res["targets"]][:1]:
        blocks[g] = "\n".join(_render_pg(res) if g == "pg" else _render_sqlite(res)).strip("\n")
    if existing is not None:  # the docs file: every group has its section, measured or not
        for g in GROUP_ORDER:
            blocks.setdefault(g, f"## {GROUP_HEADINGS[g]}\n\n_Not measured yet: run "
                                 f"`{GROUP_COMMANDS[g]}`._")
    others = other_doc_blocks(existing) if existing else []
    L = [DOC_TITLE, "", DOC_INTRO, ""]
    for g in GROUP_ORDER:
        if g in blocks:
            L.append(f"- [{GROUP_HEADINGS[g]}](#{_anchor(GROUP_HEADINGS[g])}) — "
                     f"`{GROUP_COMMANDS[g]}`")
    for g, block in others:  # their heading and the command of their "Reproduce:" line
        h = re.search(r"^## (.+)$", block, re.M)
        c = re.search(r"Reproduce: `([^`]+)`", block)
        if h:
            L.append(f"- [{h.group(1)}](#{_anchor(h.group(1))})"
                     + (f" — `{c.group(1)}`" if c else ""))
    L.append("")
    for g in GROUP_ORDER:
        if g in blocks:
            b, e = _markers(g)
            L += [b, "", blocks[g], "", e, ""]
    for g, block in others:
        b, e = _markers(g)
        L += [b, "", block, "", e, ""]
    # Paths inside the checkout are shown relative to it: the report must not name this
    # machine's folders.
    return "\n".join(L).replace(ROOT + "/", "")


def _render_sqlite(res: dict) -> list[str]:
    cfg, mach, ver = res["config"], res["machine"], res["versions"]
    targets = [t for t in res["targets"] if TARGET_GROUP[t["target"]] == "sqlite"]
    by = {t["target"]: t for t in targets}
    ok = {n: t for n, t in by.items() if t.get("status") == "ok"}
    L = []
    w = L.append
    w(f"## {GROUP_HEADINGS['sqlite']}")
    w("")
    w(f"_Measured on {res['date']} with `{res['command']}`._")
    w("")
    if cfg.get("quick"):
        w("> **Quick (smoke) run**: short durations and a smaller seed; numbers are indicative only.")
        w("")
    w("### Headline: server CPU per operation")
    w("")
    w("The machine has 2 cores shared by the load generator and the server, so throughput is "
      "partly bounded by the client; CPU time spent by the server per operation is the number "
      "that carries over to a bigger machine. Lower is better.")
    w("")
    present = [t for t in GROUPS["sqlite"] if t in ok]
    other = [(r.get("other_cores_used") or 0) for t in present for r in ok[t]["workloads"].values()]
    if other and max(other) > NOISY_CORES:
        n_bad = sum(1 for o in other if o > NOISY_CORES)
        w(f"> ⚠ **Shared machine**: in {n_bad} of {len(other)} timed phases other processes "
          f"used more than {NOISY_CORES} cores (up to {max(other):.2f} of 2) while the benchmark ran; "
          "those phases are flagged below. Throughput and latency there are understated; "
          "CPU per operation is the more robust number.")
        w("")
    w("| workload | " + " | ".join(f"{TARGET_TITLES[t]} CPU ms/op" for t in present)
      + " | " + " | ".join(f"{TARGET_TITLES[t]} ops/s" for t in present) + " |")
    w("|---|" + "---:|" * (2 * len(present)))
    for wl in REPORT_ORDER:
        if not any(wl in ok[t]["workloads"] for t in present):
            continue
        cells = [fmt(ok[t]["workloads"].get(wl, {}).get("cpu_ms_per_op")) for t in present]
        cells += [fmt(ok[t]["workloads"].get(wl, {}).get("ops_per_s")) for t in present]
        w(f"| {wl} | " + " | ".join(cells) + " |")
    w("")
    if "plinth" not in ok:
        why = by.get("plinth", {}).get("error") or by.get("plinth", {}).get("skipped") \
            or "not selected"
        w(f"**plinth was not measured in this run** ({why}); the plinth/peer ratio columns are "
          "empty until it is. Peer-vs-peer ratios are shown for context.")
        w("")
    else:
        wins = []
        for wl in REPORT_ORDER:
            p = ok["plinth"]["workloads"].get(wl)
            if not p:
                continue
            for peer in ("mlflow", "fasttrackml"):
                q = ok.get(peer, {}).get("workloads", {}).get(wl) if peer in ok else None
                if not q or not q.get("ops_per_s") or not p.get("ops_per_s"):
                    continue
                tr = p["ops_per_s"] / q["ops_per_s"]
                cr = (p["cpu_ms_per_op"] / q["cpu_ms_per_op"]) if q.get("cpu_ms_per_op") else None
                verdict = "win" if tr >= 1 and (cr is None or cr <= 1) else \
                    "LOSS" if tr < 1 and (cr is None or cr > 1) else "mixed"
                wins.append(f"| {wl} | {TARGET_TITLES[peer]} | {ratio(tr, 1)} | "
                            f"{ratio(cr, 1)} | {verdict} |")
        w("plinth against each peer (throughput ratio > 1 and CPU ratio < 1 are wins; "
          "anything else is shown as it is):")
        w("")
        w("| workload | peer | ops/s plinth ÷ peer | CPU/op plinth ÷ peer | verdict |")
        w("|---|---|---:|---:|---|")
        L.extend(wins)
        w("")

    w("### Setup")
    w("")
    w(f"- **Machine**: {mach['nproc']} CPUs ({mach['cpu_model']}), {mach['mem_gb']} GB RAM, "
      f"Linux {mach['kernel']}; server storage on {mach['tmp_fs']} (`{mach['tmpdir']}`).")
    vers = []
    if "plinth" in by:
        pv = str(ver.get("plinth", "—"))
        vers.append(f"{pv if pv.startswith('plinth') else 'plinth ' + pv} (git {ver.get('plinth_git')}"
                    f"{', binary built ' + ver['plinth_built'] if ver.get('plinth_built') else ''}"
                    f"{', src/ modified' if ver.get('plinth_git_dirty') else ''})")
    if "mlflow" in by:
        vers.append(f"MLflow {ver.get('mlflow')} (uvicorn {ver.get('uvicorn')}, SQLAlchemy "
                    f"{ver.get('sqlalchemy')})")
    if "fasttrackml" in by:
        vers.append(f"FastTrackML {ver.get('fasttrackml')}")
    w(f"- **Versions**: {'; '.join(vers)}; load generator Python {mach['python']}.")
    w(f"- **Date**: {res['date']}; total wall time {res['total_seconds'] / 60:.1f} min.")
    w(f"- **Command**: `{res['command']}`")
    w(f"- **Load**: {cfg['concurrency']} client processes, each one keep-alive HTTP/1.1 "
      "connection; "
      + (f"{cfg['requests']} requests per workload" if cfg.get("requests")
         else f"{cfg['duration']} s per workload")
      + f" after a short warm-up; seed {cfg['search_runs']} runs for search, "
      f"{cfg['history_points']} points for get-history.")
    w("")
    w("Servers as started (each on a fresh temporary directory, one at a time):")
    w("")
    for t in GROUPS["sqlite"]:
        if t not in by:
            continue
        info = by[t]
        if info.get("skipped"):
            w(f"- {TARGET_TITLES[t]}: skipped — {info['skipped']}")
            continue
        cmd = " ".join(shlex.quote(x) for x in info.get("command", []))
        extra = ""
        if t == "mlflow" and info.get("env"):
            extra = " with " + ", ".join(f"`{k}={v}`" for k, v in info["env"].items())
        w(f"- {TARGET_TITLES[t]}: `{cmd}`{extra}")
    w("")

    w("### Results per workload")
    w("")
    w("ops/s = completed operations ÷ wall time of the timed phase; p50/p99 = client-side "
      "latency of one operation; CPU ms/op = server process-tree CPU ÷ operations; peak RSS = "
      "max over the phase of the summed RSS of the server's processes. Ratio columns divide "
      "the row's server by the named peer (ops/s: higher is better; CPU/op: lower is better).")
    w("")
    for wl in REPORT_ORDER:
        rows = [(t, ok[t]["workloads"][wl]) for t in GROUPS["sqlite"]
                if t in ok and wl in ok[t]["workloads"]]
        if not rows:
            continue
        desc = WORKLOAD_DESC[wl].format(runs=cfg["search_runs"], filter=SEARCH_FILTER,
                                        order=SEARCH_ORDER, points=cfg["history_points"])
        w(f"#### {wl}")
        w("")
        w(desc + ".")
        w("")
        w("| server | ops/s | p50 ms | p99 ms | CPU ms/op | peak RSS MB | ops | errors "
          "| ops/s ÷ MLflow | CPU/op ÷ MLflow | ops/s ÷ FastTrackML | CPU/op ÷ FastTrackML |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        ref = {t: r for t, r in rows}
        for t, r in rows:
            m, f = ref.get("mlflow"), ref.get("fasttrackml")
            cells = [fmt(r["ops_per_s"]), fmt(r["p50_ms"]), fmt(r["p99_ms"]),
                     fmt(r["cpu_ms_per_op"]), fmt(r["peak_rss_mb"], 0), str(r["ops"]),
                     str(r["errors"]),
                     ratio(r["ops_per_s"], m and m["ops_per_s"]) if t != "mlflow" else "",
                     ratio(r["cpu_ms_per_op"], m and m["cpu_ms_per_op"]) if t != "mlflow" else "",
                     ratio(r["ops_per_s"], f and f["ops_per_s"]) if t != "fasttrackml" else "",
                     ratio(r["cpu_ms_per_op"], f and f["cpu_ms_per_op"]) if t != "fasttrackml" else ""]
            w(f"| {TARGET_TITLES[t]} | " + " | ".join(cells) + " |")
        w("")
        notes = []
        for t, r in rows:
            if r["errors"]:
                notes.append(f"{TARGET_TITLES[t]}: {r['errors']} failed operations, e.g. "
                             f"`{(r['error_samples'] or ['?'])[0][:200]}`")
            if r.get("reconnects"):
                notes.append(f"{TARGET_TITLES[t]}: {r['reconnects']} reconnects (keep-alive not held)")
        for t, r in rows:
            if (r.get("other_cores_used") or 0) > NOISY_CORES:
                notes.append(f"⚠ {TARGET_TITLES[t]}: other processes used "
                             f"{r['other_cores_used']:.2f} cores during this phase (shared "
                             "machine): its throughput and latency are understated; CPU/op "
                             "is less affected.")
        cores = ", ".join(f"{TARGET_TITLES[t]} {fmt(r['server_cores_used'])}" for t, r in rows)
        busy = ", ".join(f"{TARGET_TITLES[t]} {r['machine_cpu_busy'] * 100:.0f}%" for t, r in rows)
        client = ", ".join(f"{TARGET_TITLES[t]} {fmt(r['client_cpu_ms_per_op'])}" for t, r in rows)
        other = ", ".join(f"{TARGET_TITLES[t]} {fmt_other(r.get('other_cores_used'))}"
                          for t, r in rows)
        retried = [f"{TARGET_TITLES[t]} ({r['attempts']} attempts)" for t, r in rows
                   if r.get("attempts", 1) > 1]
        if retried:
            notes.append("Re-measured because another job disturbed the first attempt (the "
                         "cleaner attempt is shown): " + ", ".join(retried) + ".")
        notes.append(f"Server cores busy: {cores}. Machine CPU busy: {busy}. "
                     f"Load-generator CPU ms/op: {client}. Cores used outside the server and "
                     f"the load generator (other processes, kernel; ±0.15 accounting noise): "
                     f"{other}.")
        for n in notes:
            w(f"- {n}")
        w("")

    w("### Seeding and sanity checks")
    w("")
    w("| server | machine busy before start (cores) | startup s | idle CPU ms/s | seed search runs (s) | search first page as expected "
      "| seed history (s) | history fetch check | peak RSS whole run MB | Σ VmHWM MB | processes |")
    w("|---|---:|---:|---:|---:|---|---:|---|---:|---:|---:|")
    for t in GROUPS["sqlite"]:
        info = by.get(t)
        if not info or info.get("skipped"):
            continue
        if info.get("status") != "ok":
            w(f"| {TARGET_TITLES[t]} | FAILED: {str(info.get('error', ''))[:200]} ||||||||||")
            continue
        s = info["seed"].get("search-runs", {})
        h = info["seed"].get("get-history", {})
        sc = s.get("check", {})
        hc = h.get("check", {})
        w(f"| {TARGET_TITLES[t]} | {info.get('quiet', {}).get('cores_busy_before', '—')} | "
          f"{info.get('startup_s')} | {info.get('idle_cpu_ms_per_s')} | "
          f"{s.get('seconds', '—')} | "
          f"{('yes' if sc.get('first_page_matches_expected') else 'NO') if sc else '—'}"
          f"{' (%d matches)' % sc['expected_matches'] if sc else ''} | "
          f"{h.get('seconds', '—')} | "
          f"{('ok (pages: %s, first fetch %s s)' % (hc.get('pages'), hc.get('first_fetch_seconds'))) if hc.get('ok') else ('FAILED: ' + str(hc.get('error'))) if hc else '—'} | "
          f"{info.get('peak_rss_mb_whole_run')} | {info.get('sum_vmhwm_mb')} | "
          f"{len(info.get('processes', []))} |")
    w("")
    for t in GROUPS["sqlite"]:
        info = ok.get(t)
        if not info or len(info.get("processes", [])) <= 1:
            continue
        w(f"{TARGET_TITLES[t]} process tree at the end of the run (RSS / high-water mark, MB):")
        w("")
        for p in info["processes"]:
            w(f"- `{p['cmd'][:110]}` — {p['rss_mb']} / {p['hwm_mb']}")
        w("")

    quirks = []
    for t in present:
        hc = ok[t]["seed"].get("get-history", {}).get("check", {})
        pts = ok[t]["seed"].get("get-history", {}).get("points", 0)
        if hc.get("ok") and hc.get("pages") == 1 and pts > HISTORY_PAGE:
            quirks.append(f"{TARGET_TITLES[t]} ignores `max_results={HISTORY_PAGE}` on "
                          f"get-history and returns all {pts} points in one response.")
        elif hc.get("ok") and hc.get("pages", 0) > 1:
            quirks.append(f"{TARGET_TITLES[t]} pages get-history: {hc['pages']} responses "
                          f"for {pts} points at max_results={HISTORY_PAGE}.")
        n = len(ok[t].get("processes", []))
        if n > 1:
            quirks.append(f"{TARGET_TITLES[t]} runs as {n} processes (listed above); its CPU "
                          "and RSS are summed over all of them.")
    if "mlflow" in ok:
        quirks.append("MLflow answers pretty-printed JSON (indent 2) and rejects requests "
                      "without `Content-Type: application/json`; the load generator always "
                      "sends that header.")
    if quirks:
        w("### Server quirks seen in this run")
        w("")
        for q in quirks:
            w(f"- {q}")
        w("")
    w("### Method")
    w("")
    w("- One server at a time, on loopback, each on a fresh temporary directory (SQLite "
      "database file + artifact directory) that is deleted afterwards. Servers run with their "
      "default settings apart from the listed flags; their request logging stays as shipped "
      "(written to a file).")
    w("- Seeding (not timed): runs for search are created with runs/create followed by one "
      "runs/log-batch each (5 params, 5 metrics, 2 tags; deterministic values, so every server "
      "holds the same data), and the long series is logged in log-batch requests of 1000 "
      "points. Seeding requests are retried on failure; timed requests never are.")
    w("- Checks: the first search page must equal the top 100 runs computed locally from the "
      "seed; every get-history operation must return exactly the seeded number of points, and "
      "every other request must answer HTTP 200 — anything else counts as an error and is "
      "excluded from throughput and latency.")
    w("- Timed phases run in this order on each server: search-runs, get-history (on the freshly "
      "seeded store), then create-run, log-batch-10, log-batch-500, log-metric. Each uses "
      f"{cfg['concurrency']} load-generator processes with one keep-alive `http.client` "
      "connection each (TCP_NODELAY), pre-built JSON bodies (only the step number is spliced "
      "into a byte template, so metric rows never collide), a few untimed warm-up requests, "
      "then a barrier; every request is timed with `perf_counter_ns`.")
    w("- Server CPU = Σ (utime + stime + cutime + cstime) over the server's process tree from "
      "`/proc/<pid>/stat`, read just before the barrier opens and after the last worker "
      "reports, divided by completed operations; children (uvicorn workers etc.) are included. "
      "RSS = Σ VmRSS (`/proc/<pid>/statm`) over the tree, sampled every "
      f"{cfg['rss_interval']} s; the table shows the maximum during the phase.")
    w("- The load generator shares the 2 CPUs with the server; its own CPU per operation and "
      "the machine's total CPU use are listed under each table so a client-bound result can be "
      "recognised. Throughput of a fast server is therefore a lower bound.")
    w("- MLflow: `--workers` uvicorn processes (default of `mlflow server`: 4). MLflow 3's "
      "GenAI job runner (a supervisor and 7 huey consumer processes) is switched off with "
      "`MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false` unless `--mlflow-jobs` is given: it serves "
      "none of these endpoints and would only add memory to MLflow's side.")
    w("- FastTrackML: the `fml` Go binary from the `fasttrackml` wheel (installed with "
      "`--no-deps`, since the wheel pins mlflow<3 only for its Python helpers), SQLite via "
      "`--database-uri sqlite://<path>`; it serves the MLflow API under `/api/2.0/mlflow/` "
      "and `GET /health`.")
    w("- Before each server (up to `--wait-quiet` s) and each timed phase (up to "
      "`--phase-wait-quiet` s) the script waits for the machine to be nearly idle; CPU used by anything else during a phase is measured from `/proc/stat` and "
      "reported under each table (per-process and machine-wide accounting differ by up to "
      "~0.15 cores), with a warning when it exceeds 0.25 cores; such a phase is measured "
      "once more (`--noisy-retries`) and the cleaner attempt kept.")
    w("- Telemetry is off for the peers (`MLFLOW_DISABLE_TELEMETRY=true`, `DO_NOT_TRACK=true`).")
    w("")
    w("Reproduce: `bench/tracking/run.sh` (full, ~15–20 min; rewrites this section only) or "
      "`bench/tracking/run.sh --quick` (smoke run, does not rewrite this file unless `--docs` is "
      "given); `bench/tracking/run.sh --help` lists the knobs (`--targets`, `--duration`, "
      "`--concurrency`, `--workloads`, …).")
    w("")
    return L


def _adv(peer, own) -> str:
    """How many times `own` beats `peer` (peer ÷ own for costs, own ÷ peer for throughput is
    passed in swapped): '×N', '—' when unknown."""
    if peer is None or own is None or not own:
        return "—"
    return ratio(peer, own)


def _pg_waits(act: dict | None, n: int = 3) -> str:
    if not act:
        return "—"
    top = [f"{k} {v:.1f}" for k, v in list(act["waits"].items())[:n] if v >= 0.05]
    return f"{act['active_backends']:.1f}" + (f" ({', '.join(top)})" if top else "")


def _wait_share(act: dict | None, prefixes) -> float:
    if not act or not act.get("active_backends"):
        return 0.0
    return sum(v for k, v in act["waits"].items() if k.startswith(prefixes)) / act["active_backends"]


WAL_WAITS = ("LWLock:WALWrite", "IO:WALSync", "IO:WALWrite", "LWLock:WALInsert")


def scaling_verdict(one: dict, three: dict, nproc: int) -> str:
    """Says what bounds plinth-pg3's throughput in one phase, from the measured CPU shares and
    PostgreSQL's wait events (the 2× target applies where PostgreSQL is not the bottleneck)."""
    r = three["ops_per_s"] / one["ops_per_s"] if one.get("ops_per_s") else None
    busy = three.get("machine_cpu_busy") or 0
    pg_c = three.get("pg_cores_used") or 0
    srv_c = three.get("server_cores_used") or 0
    cli_c = three.get("client_cores_used") or 0
    oth_c = max(0.0, three.get("other_cores_used") or 0)
    act = three.get("pg_activity")
    parts = []
    if r is not None and r >= 2:
        parts.append("≥ 2× reached")
    active = act["active_backends"] if act else 0
    wal = _wait_share(act, WAL_WAITS)
    locks = _wait_share(act, ("Lock:",))
    if active >= 1 and wal >= 0.5:
        parts.append(f"**PostgreSQL: commit flushes** — {wal * 100:.0f}% of its "
                     f"{active:.1f} active backends wait on the WAL (one flush at a time)")
    elif active >= 1 and locks >= 0.3:
        parts.append(f"**PostgreSQL: row/table locks** — {locks * 100:.0f}% of its active "
                     "backends wait on a lock")
    if busy >= 0.9:
        who = sorted([("PostgreSQL", pg_c), ("plinth ×3", srv_c), ("load generator", cli_c),
                      ("other processes", oth_c)], key=lambda x: -x[1])
        parts.append(f"machine CPU-bound ({busy * 100:.0f}% of {nproc} cores: "
                     + ", ".join(f"{n} {c:.2f}" for n, c in who) + ")")
        if pg_c > srv_c and not (active >= 1 and wal >= 0.5):
            parts.append("**PostgreSQL** uses more CPU than the three replicas together")
    elif not parts:
        parts.append(f"neither CPU ({busy * 100:.0f}% busy) nor PostgreSQL waits: bounded by "
                     f"the {three.get('concurrency')} closed-loop clients' round trips")
    return "; ".join(parts)


def _render_pg(res: dict) -> list[str]:
    cfg, mach, ver = res["config"], res["machine"], res["versions"]
    pgi = res.get("postgres", {})
    targets = [t for t in res["targets"] if TARGET_GROUP[t["target"]] == "pg"]
    by = {t["target"]: t for t in targets}
    ok = {n: t for n, t in by.items() if t.get("status") == "ok"}
    present = [t for t in GROUPS["pg"] if t in ok]
    plinths = [t for t in ("plinth-pg", "plinth-pg3") if t in ok]
    ml = ok.get("mlflow-pg")
    nproc = mach["nproc"]
    L = []
    w = L.append
    w(f"## {GROUP_HEADINGS['pg']}")
    w("")
    w(f"_Measured on {res['date']} with `{res['command']}`._")
    w("")
    if cfg.get("quick"):
        w("> **Quick (smoke) run**: short durations and a smaller seed; numbers are indicative only.")
        w("")
    w(f"All three targets use one PostgreSQL {pgi.get('server_version', '?')} server on this "
      f"machine (a fresh database each): **plinth-pg** is one `plinth server`; **plinth-pg3** is "
      "three `plinth server` replicas on one database, load-generator process *w* talking to "
      "replica *w* mod 3 (no load balancer in between; seeding goes through replica 0); "
      f"**mlflow-pg** is `mlflow server` with {cfg.get('mlflow_workers')} uvicorn workers. "
      "*Server* CPU is the plinth (all replicas) or MLflow process trees; *PostgreSQL* CPU is "
      "the postmaster, its backends and background processes; *total* is their sum. Lower CPU "
      "per operation is better.")
    w("")
    other = [(r.get("other_cores_used") or 0) for t in present for r in ok[t]["workloads"].values()]
    if other and max(other) > NOISY_CORES:
        n_bad = sum(1 for o in other if o > NOISY_CORES)
        w(f"> ⚠ **Shared machine**: in {n_bad} of {len(other)} timed phases other processes "
          f"used more than {NOISY_CORES} cores (up to {max(other):.2f} of {nproc}) while the "
          "benchmark ran; those phases are flagged below. Throughput and latency there are "
          "understated; CPU per operation is the more robust number.")
        w("")
    for t in GROUPS["pg"]:
        info = by.get(t)
        if info and info.get("status") != "ok":
            w(f"**{t} was not measured** ({info.get('skipped') or info.get('error', '?')}).")
            w("")

    w("### Headline")
    w("")
    w("CPU ms/op as server + PostgreSQL = total.")
    w("")
    w("| workload | " + " | ".join(f"{t} ops/s" for t in present) + " | "
      + " | ".join(f"{t} CPU ms/op" for t in present) + " |")
    w("|---|" + "---:|" * (2 * len(present)))
    for wl in REPORT_ORDER:
        if not any(wl in ok[t]["workloads"] for t in present):
            continue
        cells = [fmt(ok[t]["workloads"].get(wl, {}).get("ops_per_s")) for t in present]
        for t in present:
            r = ok[t]["workloads"].get(wl, {})
            cells.append(f"{fmt(r.get('cpu_ms_per_op'))} + {fmt(r.get('pg_cpu_ms_per_op'))} = "
                         f"{fmt(r.get('total_cpu_ms_per_op'))}" if r else "—")
        w(f"| {wl} | " + " | ".join(cells) + " |")
    w("")

    if ml and plinths:
        w("### plinth against MLflow on PostgreSQL")
        w("")
        w("Each factor is how many times plinth does better: throughput plinth ÷ MLflow, CPU "
          "per operation MLflow ÷ plinth. Target: ≥ 30× on server CPU per operation.")
        w("")
        w("| workload | plinth | ops/s: plinth ÷ MLflow | server CPU/op: MLflow ÷ plinth | total CPU/op "
          "(with PostgreSQL): MLflow ÷ plinth | PostgreSQL CPU/op: MLflow ÷ plinth | ≥ 30× "
          "server CPU |")
        w("|---|---|---:|---:|---:|---:|---|")
        for wl in REPORT_ORDER:
            m = ml["workloads"].get(wl)
            if not m:
                continue
            for t in plinths:
                p = ok[t]["workloads"].get(wl)
                if not p:
                    continue
                sc = (m["cpu_ms_per_op"] / p["cpu_ms_per_op"]) \
                    if m.get("cpu_ms_per_op") and p.get("cpu_ms_per_op") else None
                w(f"| {wl} | {t} | {_adv(p.get('ops_per_s'), m.get('ops_per_s'))} | "
                  f"{_adv(m.get('cpu_ms_per_op'), p.get('cpu_ms_per_op'))} | "
                  f"{_adv(m.get('total_cpu_ms_per_op'), p.get('total_cpu_ms_per_op'))} | "
                  f"{_adv(m.get('pg_cpu_ms_per_op'), p.get('pg_cpu_ms_per_op'))} | "
                  f"{'—' if sc is None else 'yes' if sc >= 30 else 'NO'} |")
        w("")

    one, three = ok.get("plinth-pg"), ok.get("plinth-pg3")
    if one and three:
        w("### Write throughput: 3 replicas against 1")
        w("")
        w("Target: 3 replicas ≥ 2× one replica where PostgreSQL is not the bottleneck. Cores "
          "are CPU seconds per second of the phase, as measured for each process tree; "
          "*active backends* is the average number of PostgreSQL backends of the benchmark "
          "database running a statement, with what they waited on (`CPU:running` = no wait "
          "event, i.e. on a CPU or in the run queue).")
        w("")
        w("| workload | plinth-pg ops/s | plinth-pg3 ops/s | pg3 ÷ pg | machine busy pg / pg3 "
          "| pg3 cores: plinth ×3 / PostgreSQL / load gen / other | PostgreSQL share of busy "
          "CPU (pg / pg3) | WAL flushes/s ≈ (pg / pg3) | pg3 active backends (waits) | what "
          "bounds pg3 |")
        w("|---|---:|---:|---:|---|---|---|---|---|---|")
        for wl in WRITE_WORKLOADS:
            a1, a3 = one["workloads"].get(wl), three["workloads"].get(wl)
            if not a1 or not a3:
                continue

            def share(r):
                tot = r.get("machine_cores_busy")
                return f"{(r.get('pg_cores_used') or 0) / tot * 100:.0f}%" if tot else "—"
            def flushes(r):
                st = r.get("pg_stats")
                return fmt(st["wal_sync"] / r["elapsed_s"]) if st and r.get("elapsed_s") else "—"
            w(f"| {wl} | {fmt(a1['ops_per_s'])} | {fmt(a3['ops_per_s'])} | "
              f"{ratio(a3['ops_per_s'], a1['ops_per_s'] or None)} | "
              f"{a1['machine_cpu_busy'] * 100:.0f}% / {a3['machine_cpu_busy'] * 100:.0f}% | "
              f"{fmt(a3.get('server_cores_used'))} / {fmt(a3.get('pg_cores_used'))} / "
              f"{fmt(a3.get('client_cores_used'))} / {fmt_other(a3.get('other_cores_used'))} | "
              f"{share(a1)} / {share(a3)} | {flushes(a1)} / {flushes(a3)} | "
              f"{_pg_waits(a3.get('pg_activity'))} | "
              f"{scaling_verdict(a1, a3, nproc)} |")
        w("")
        w("- Every commit waits for its WAL flush (`synchronous_commit`), and PostgreSQL flushes "
          "the WAL one flush at a time, taking along every commit that is ready (group commit): "
          "where the WAL flushes per second are about the same for one and three replicas and "
          "the backends wait on `LWLock:WALWrite`/`IO:WALSync`, the flush rate of this disk "
          "bounds the write throughput, however many replicas send commits.")
        c1, c3 = one.get("concurrency", cfg["concurrency"]), three.get("concurrency", cfg["concurrency"])
        w(f"- Load: {c1} load-generator processes for plinth-pg, {c3} for plinth-pg3 "
          f"({'the same load' if c1 == c3 else 'set with --pg3-concurrency'}), each one "
          "keep-alive connection issuing one request at a time (closed loop).")
        if nproc <= 4:
            w(f"- **This machine has {nproc} cores.** The three replicas, PostgreSQL and the "
              "load generator all run on them, so adding replicas adds no CPU: pg3 can only "
              "win where one replica leaves cores idle (waiting on PostgreSQL round trips and "
              "commit flushes). The ratio here is a lower bound and not a scaling measurement; "
              "a real scaling claim needs replicas, PostgreSQL and the load generator on "
              "separate cores or hosts (e.g. `--pg3-concurrency 32` on a machine with ≥ 8 "
              "cores).")
        w("")

    w("### Setup")
    w("")
    w(f"- **Machine**: {nproc} CPUs ({mach['cpu_model']}), {mach['mem_gb']} GB RAM, "
      f"Linux {mach['kernel']}; storage (PostgreSQL data, artifacts) on {mach['tmp_fs']} "
      f"(`{mach['tmpdir']}`).")
    vers = []
    if plinths or any(TARGET_KIND[t] == "plinth" for t in by):
        pv = str(ver.get("plinth", "—"))
        vers.append(f"{pv if pv.startswith('plinth') else 'plinth ' + pv} (git {ver.get('plinth_git')}"
                    f"{', binary built ' + ver['plinth_built'] if ver.get('plinth_built') else ''}"
                    f"{', src/ modified' if ver.get('plinth_git_dirty') else ''})")
    if "mlflow-pg" in by:
        vers.append(f"MLflow {ver.get('mlflow')} (uvicorn {ver.get('uvicorn')}, SQLAlchemy "
                    f"{ver.get('sqlalchemy')}, psycopg2 {ver.get('psycopg2')})")
    w(f"- **Versions**: {'; '.join(vers)}; load generator Python {mach['python']}.")
    if pgi:
        w(f"- **PostgreSQL**: {pgi.get('server_version')} started by `scripts/pg-server.sh` "
          f"(loopback TCP, trust auth): max_connections {pgi.get('max_connections')}, "
          f"shared_buffers {pgi.get('shared_buffers')}, fsync {pgi.get('fsync')}, "
          + (f"synchronous_commit **{cfg['pg_synchronous_commit']}** for the benchmark "
             "databases (`--pg-synchronous-commit`; server default "
             f"{pgi.get('synchronous_commit')})" if cfg.get("pg_synchronous_commit") else
             f"synchronous_commit {pgi.get('synchronous_commit')} (every commit waits for its "
             "WAL flush)")
          + f", max_wal_size {pgi.get('max_wal_size')}, checkpoint_timeout "
          f"{pgi.get('checkpoint_timeout')}.")
    w(f"- **Date**: {res['date']}; total wall time of the run {res['total_seconds'] / 60:.1f} min.")
    w(f"- **Command**: `{res['command']}`")
    w(f"- **Load**: {cfg['concurrency']} client processes (plinth-pg3: "
      f"{(three or {}).get('concurrency', cfg.get('pg3_concurrency') or cfg['concurrency'])}), "
      "each one keep-alive HTTP/1.1 connection; "
      + (f"{cfg['requests']} requests per workload" if cfg.get("requests")
         else f"{cfg['duration']} s per workload")
      + f" after a short warm-up; seed {cfg['search_runs']} runs for search, "
      f"{cfg['history_points']} points for get-history.")
    w("")
    w("Servers as started (one target at a time, each on a fresh database and temporary "
      "artifact folder; the database name and ports differ per run):")
    w("")
    for t in GROUPS["pg"]:
        info = by.get(t)
        if not info:
            continue
        if info.get("skipped"):
            w(f"- {t}: skipped — {info['skipped']}")
            continue
        if not info.get("command"):
            continue
        cmd = " ".join(shlex.quote(x) for x in info["command"])
        extra = ""
        if info.get("env"):
            extra = " with " + ", ".join(f"`{k}={v}`" for k, v in info["env"].items())
        if len(info.get("commands", [])) > 1:
            extra += (f"; {len(info['commands'])} replicas, the others on ports "
                      + ", ".join(str(p) for p in info["ports"][1:]) + ", otherwise identical")
        w(f"- {t}: `{cmd}`{extra}")
    w("")

    w("### Results per workload")
    w("")
    w("ops/s = completed operations ÷ wall time of the timed phase; p50/p99 = client-side "
      "latency; CPU ms/op = CPU of the process tree ÷ operations (server = plinth replicas or "
      "MLflow processes; PG = PostgreSQL); memory: server = peak Σ RSS, PG = peak Σ PSS "
      "(shared buffers counted once), total = peak of their sum; write xacts/op = transactions "
      "that wrote (transaction ids consumed) per op and WAL KB/op (WAL position moved) are "
      "exact; WAL flushes/op comes from `pg_stat_wal`, which backends publish at most once a "
      "second, so it is approximate (≈). The ratio columns divide by mlflow-pg (ops/s: higher "
      "is better; CPU/op: lower is better).")
    w("")
    for wl in REPORT_ORDER:
        rows = [(t, ok[t]["workloads"][wl]) for t in GROUPS["pg"]
                if t in ok and wl in ok[t]["workloads"]]
        if not rows:
            continue
        desc = WORKLOAD_DESC[wl].format(runs=cfg["search_runs"], filter=SEARCH_FILTER,
                                        order=SEARCH_ORDER, points=cfg["history_points"])
        w(f"#### {wl}")
        w("")
        w(desc + ".")
        w("")
        w("| server | ops/s | p50 ms | p99 ms | server CPU ms/op | PG CPU ms/op | total CPU "
          "ms/op | server RSS MB | PG PSS MB | total MB | ops | errors | write xacts/op | WAL "
          "flushes/op ≈ | WAL KB/op | ops/s ÷ mlflow-pg | server CPU/op ÷ mlflow-pg | total "
          "CPU/op ÷ mlflow-pg |")
        w("|---|" + "---:|" * 18)
        m = dict(rows).get("mlflow-pg")
        for t, r in rows:
            cells = [fmt(r["ops_per_s"]), fmt(r["p50_ms"]), fmt(r["p99_ms"]),
                     fmt(r["cpu_ms_per_op"]), fmt(r.get("pg_cpu_ms_per_op")),
                     fmt(r.get("total_cpu_ms_per_op")), fmt(r["peak_rss_mb"], 0),
                     fmt(r.get("pg_peak_pss_mb"), 0), fmt(r.get("total_peak_mb"), 0),
                     str(r["ops"]), str(r["errors"]), fmt(r.get("pg_write_xacts_per_op")),
                     fmt(r.get("pg_wal_syncs_per_op")), fmt(r.get("pg_wal_kb_per_op"))]
            if t == "mlflow-pg":
                cells += ["", "", ""]
            else:
                cells += [ratio(r["ops_per_s"], m and m["ops_per_s"]),
                          ratio(r["cpu_ms_per_op"], m and m["cpu_ms_per_op"]),
                          ratio(r.get("total_cpu_ms_per_op"), m and m.get("total_cpu_ms_per_op"))]
            w(f"| {t} | " + " | ".join(cells) + " |")
        w("")
        notes = []
        for t, r in rows:
            if r["errors"]:
                notes.append(f"{t}: {r['errors']} failed operations, e.g. "
                             f"`{(r['error_samples'] or ['?'])[0][:200]}`")
            if r.get("reconnects"):
                notes.append(f"{t}: {r['reconnects']} reconnects (keep-alive not held)")
            st = r.get("pg_stats") or {}
            if st.get("deadlocks") or st.get("xact_rollback"):
                notes.append(f"{t}: PostgreSQL counted {st.get('xact_rollback', 0)} rollbacks and "
                             f"{st.get('deadlocks', 0)} deadlocks in this phase")
            if st.get("checkpoints"):
                notes.append(f"{t}: {st['checkpoints']} PostgreSQL checkpoint(s) started during "
                             "this phase (their cost is in PG CPU)")
            if (r.get("other_cores_used") or 0) > NOISY_CORES:
                notes.append(f"⚠ {t}: other processes used {r['other_cores_used']:.2f} cores "
                             "during this phase (shared machine): its throughput and latency "
                             "are understated; CPU/op is less affected.")
            if r.get("attempts", 1) > 1:
                notes.append(f"{t}: re-measured ({r['attempts']} attempts) because another job "
                             "disturbed the first; the cleaner attempt is shown.")
        cores = "; ".join(
            f"{t} {r['machine_cpu_busy'] * 100:.0f}% = server {fmt(r.get('server_cores_used'))} "
            f"+ PG {fmt(r.get('pg_cores_used'))} + load gen {fmt(r.get('client_cores_used'))} "
            f"+ other {fmt_other(r.get('other_cores_used'))}" for t, r in rows)
        notes.append(f"Machine CPU busy (of {nproc} cores) and cores used: {cores}.")
        notes.append("PostgreSQL backends active on average (top waits): " + "; ".join(
            f"{t} {_pg_waits(r.get('pg_activity'))}" for t, r in rows) + ".")
        for n in notes:
            w(f"- {n}")
        w("")

    w("### Seeding and sanity checks")
    w("")
    w("| server | replicas | startup s | idle CPU ms/s server / PG | seed search runs (s) | "
      "search first page as expected | seed history (s) | history fetch check | VACUUM "
      "ANALYZE after seeding (s) | peak RSS whole run MB (server) | peak PSS whole run MB (PG) "
      "| database MB at the end | server processes | PG processes |")
    w("|---|---:|---:|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for t in GROUPS["pg"]:
        info = by.get(t)
        if not info or info.get("skipped"):
            continue
        if info.get("status") != "ok":
            w(f"| {t} | FAILED: {str(info.get('error', ''))[:200]} ||||||||||||")
            continue
        s = info["seed"].get("search-runs", {})
        h = info["seed"].get("get-history", {})
        sc, hc = s.get("check", {}), h.get("check", {})
        w(f"| {t} | {info.get('replicas', 1)} | {info.get('startup_s')} | "
          f"{info.get('idle_cpu_ms_per_s')} / {info.get('pg_idle_cpu_ms_per_s', '—')} | "
          f"{s.get('seconds', '—')} | "
          f"{('yes' if sc.get('first_page_matches_expected') else 'NO') if sc else '—'}"
          f"{' (%d matches)' % sc['expected_matches'] if sc else ''} | "
          f"{h.get('seconds', '—')} | "
          f"{('ok (pages: %s, first fetch %s s)' % (hc.get('pages'), hc.get('first_fetch_seconds'))) if hc.get('ok') else ('FAILED: ' + str(hc.get('error'))) if hc else '—'} | "
          f"{info.get('vacuum_analyze_s', '—')} | "
          f"{info.get('peak_rss_mb_whole_run')} | {info.get('pg_peak_pss_mb_whole_run', '—')} | "
          f"{info.get('pg_db_size_mb', '—')} | {len(info.get('processes', []))} | "
          f"{info.get('pg_processes', '—')} |")
    w("")
    for t in GROUPS["pg"]:
        lp = (by.get(t) or {}).get("log_problems")
        if lp is None:
            continue
        if lp["lines"]:
            w(f"- {t}: {lp['lines']} error/warning lines in its log, e.g. "
              + "; ".join(f"`{x[:160]}`" for x in lp["samples"][:2]))
        else:
            w(f"- {t}: no error or warning in its log.")
    w("")

    w("### Method")
    w("")
    w("- Same workloads, bodies, checks and phase order as the SQLite section (search-runs, "
      "get-history on the freshly seeded store, then create-run, log-batch-10, log-batch-500, "
      "log-metric); only the store differs.")
    w("- One PostgreSQL server for the whole run, started by `bench/tracking/run.sh` with "
      "`scripts/pg-server.sh` (data in a temporary folder, stopped and removed on exit). Each "
      "target gets a fresh database (`CREATE DATABASE`; dropped afterwards) whose schema the "
      "server creates itself on start (plinth: the first replica; the others start after it; "
      "MLflow: its migrations). After seeding, `VACUUM (ANALYZE)` (untimed) leaves the tables "
      "as autovacuum would shortly after a bulk load, for every target alike. `CHECKPOINT` is "
      "issued before each target and each timed phase so that one phase's dirty pages are not "
      "flushed during the next.")
    w("- PostgreSQL CPU = the same Σ (utime + stime + cutime + cstime) over the process tree "
      "of the postmaster (pid from `postmaster.pid`): backends, checkpointer, WAL writer, "
      "autovacuum. A backend that exits during a phase is reaped by the postmaster, whose "
      "cutime then holds the backend's whole life; the part counted before the phase is "
      "subtracted again. The benchmark's own monitoring connection (one `pg_stat_activity` "
      f"query every {cfg.get('pg_activity_interval')} s) is included and negligible.")
    w("- PostgreSQL memory is Σ PSS (`/proc/<pid>/smaps_rollup`), since Σ RSS would count "
      "shared_buffers once per backend; plinth and MLflow memory is Σ RSS as in the SQLite "
      "section.")
    w("- The machine's CPU is shared by everything; *other* is machine busy time minus the "
      "server, PostgreSQL and the load generator (kernel, the driver, other jobs; ±0.15 "
      "cores accounting noise).")
    w("- MLflow: `mlflow server --backend-store-uri postgresql+psycopg2://…` (SQLAlchemy "
      "2.1 maps a bare `postgresql://` to psycopg 3; psycopg2 is MLflow's documented driver), "
      "MLflow's default connection pool per worker process, `--workers` as in the SQLite "
      "section, job runner off (`MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false`).")
    w("- plinth: `--db-pool-size` "
      + (str(cfg.get("db_pool_size")) if cfg.get("db_pool_size") else "left at its default (16)")
      + " per replica.")
    w("")
    w(f"Reproduce: `{GROUP_COMMANDS['pg']}` (full run, ~15–20 min on 2 cores; rewrites this "
      "section only) or `bench/tracking/run.sh --quick --targets plinth-pg,plinth-pg3,"
      "mlflow-pg` (smoke run, report under `bench/results/`). `--pg3-concurrency N` gives "
      "plinth-pg3 more clients than plinth-pg; `--db-pool-size N` sets plinth's pool.")
    w("")
    return L


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--targets", default=",".join(GROUPS["sqlite"]),
                   help="comma-separated subset of " + ",".join(ALL_TARGETS) + "; 'sqlite', "
                   "'pg' and 'all' name groups. The pg targets need a PostgreSQL server: "
                   "run.sh starts one (scripts/pg-server.sh) and passes it in BENCH_PG_DSN and "
                   "BENCH_PG_DIR")
    p.add_argument("--workloads", default=",".join(REPORT_ORDER),
                   help="comma-separated subset of " + ",".join(REPORT_ORDER))
    p.add_argument("--quick", action="store_true",
                   help="smoke run (~2-3 min): 3 s per workload, 1000 search runs, 20000 points")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds per timed workload (default 20, quick 3)")
    p.add_argument("--requests", type=int, default=0,
                   help="fixed operation count per workload instead of a duration")
    p.add_argument("--concurrency", type=int, default=8, help="load-generator processes")
    p.add_argument("--seed-concurrency", type=int, default=None,
                   help="processes used for seeding (default: --concurrency)")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed requests per worker before each phase (default per workload)")
    p.add_argument("--search-runs", type=int, default=None, help="runs seeded for search-runs "
                   "(default 10000, quick 1000)")
    p.add_argument("--history-points", type=int, default=None, help="points seeded for "
                   "get-history (default 100000, quick 20000)")
    p.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    p.add_argument("--mlflow-workers", type=int, default=4, help="mlflow server --workers")
    p.add_argument("--pg-dsn", default=os.environ.get("BENCH_PG_DSN"),
                   help="postgresql://USER@HOST:PORT/DB of a server where databases may be "
                   "created (default: $BENCH_PG_DSN, set by run.sh)")
    p.add_argument("--pg-dir", default=os.environ.get("BENCH_PG_DIR"),
                   help="folder of that server as made by scripts/pg-server.sh (DIR/data/"
                   "postmaster.pid gives the process tree to measure; default: $BENCH_PG_DIR)")
    p.add_argument("--pg3-concurrency", type=int, default=None,
                   help="load-generator processes for plinth-pg3 only (default: --concurrency, "
                   "so that plinth-pg and plinth-pg3 get the same load)")
    p.add_argument("--db-pool-size", type=int, default=None,
                   help="plinth server --db-pool-size for the pg targets (default: plinth's, 16)")
    p.add_argument("--pg-synchronous-commit", choices=["on", "off", "local", "remote_write"],
                   default=None, help="synchronous_commit of the benchmark databases (default: "
                   "the server's, on: every commit waits for its WAL flush). 'off' shows what "
                   "the servers do when commit flushes are not the limit (not durable)")
    p.add_argument("--pg-activity-interval", type=float, default=0.25,
                   help="seconds between samples of pg_stat_activity during a phase (0 = off)")
    p.add_argument("--mlflow-jobs", action="store_true",
                   help="leave MLflow's job-execution runner on (off by default)")
    p.add_argument("--plinth-bin", default=os.path.join(ROOT, "build", "src", "plinth"))
    p.add_argument("--venv", default=os.path.join(ROOT, ".venv-peers"))
    p.add_argument("--port-min", type=int, default=5100)
    p.add_argument("--port-max", type=int, default=5199)
    p.add_argument("--tmpdir", default=None, help="parent of the servers' temporary storage")
    p.add_argument("--request-timeout", type=float, default=300.0)
    p.add_argument("--rss-interval", type=float, default=0.25)
    p.add_argument("--idle-seconds", type=float, default=2.0)
    p.add_argument("--wait-quiet", type=float, default=None,
                   help="before each server, wait up to this many seconds for an idle machine "
                   "(default 120, quick 10)")
    p.add_argument("--phase-wait-quiet", type=float, default=None,
                   help="before each timed phase, wait up to this many seconds for an idle "
                   "machine (default 15, quick 0)")
    p.add_argument("--noisy-retries", type=int, default=None,
                   help="re-measure a phase during which other processes used more than "
                   f"{NOISY_CORES} cores, at most this many times (default 1, quick 0)")
    p.add_argument("--quiet-cores", type=float, default=0.3,
                   help="'idle' = at most this many cores busy over 2 s")
    p.add_argument("--keep-storage", action="store_true", help="keep the servers' temp dirs")
    p.add_argument("--results-dir", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--docs", dest="docs", action="store_true", default=None,
                   help="write docs/benchmarks.md (default: yes, except with --quick)")
    p.add_argument("--no-docs", dest="docs", action="store_false")
    p.add_argument("--docs-path", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--report-only", metavar="RESULTS_JSON",
                   help="only re-render the markdown from an earlier results file")
    p.add_argument("--command-label", default=os.environ.get("BENCH_COMMAND"),
                   help="command shown in the report (run.sh sets it)")
    a = p.parse_args(argv)
    targets = []
    for t in (t.strip() for t in a.targets.split(",")):
        for x in TARGET_ALIASES.get(t, [t] if t else []):
            if x not in targets:
                targets.append(x)
    a.targets = targets
    a.workloads = [w.strip() for w in a.workloads.split(",") if w.strip()]
    for t in a.targets:
        if t not in ALL_TARGETS:
            p.error(f"unknown target {t}")
    for w in a.workloads:
        if w not in REPORT_ORDER:
            p.error(f"unknown workload {w}")
    if a.duration is None:
        a.duration = 3.0 if a.quick else 20.0
    if a.search_runs is None:
        a.search_runs = 1000 if a.quick else 10000
    if a.wait_quiet is None:
        a.wait_quiet = 10.0 if a.quick else 120.0
    if a.noisy_retries is None:
        a.noisy_retries = 0 if a.quick else 1
    if a.phase_wait_quiet is None:
        a.phase_wait_quiet = 0.0 if a.quick else 15.0
    if a.history_points is None:
        a.history_points = 20000 if a.quick else 100000
    if a.seed_concurrency is None:
        a.seed_concurrency = a.concurrency
    if a.docs is None:
        a.docs = not a.quick
    a.tmpdir = a.tmpdir or tempfile.gettempdir()
    return a


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.report_only:
        with open(a.report_only) as f:
            res = json.load(f)
        md = render_markdown(res, read_text(a.docs_path))
        with open(a.docs_path, "w") as f:
            f.write(md)
        print(f"wrote {a.docs_path}")
        return 0
    t_start = time.monotonic()
    pg = None
    pg_error = None
    if any(TARGET_GROUP[t] == "pg" for t in a.targets):
        if not a.pg_dsn or not a.pg_dir:
            pg_error = ("no PostgreSQL server given: run bench/tracking/run.sh, which starts one, "
                        "or pass --pg-dsn and --pg-dir")
        else:
            try:
                pg = PgCluster(a.pg_dsn, a.pg_dir)
                pg.postmaster_pid()
                pg.psql("select 1")
            except Exception as e:
                pg, pg_error = None, f"PostgreSQL not usable: {e}"
    bench = Bench(a, pg)
    res = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
           "command": a.command_label or " ".join(shlex.quote(x) for x in [sys.executable] + sys.argv),
           "config": {k: v for k, v in vars(a).items()
                      if k in ("quick", "duration", "requests", "concurrency", "seed_concurrency",
                               "search_runs", "history_points", "seed", "mlflow_workers",
                               "mlflow_jobs", "workloads", "rss_interval", "warmup",
                               "pg3_concurrency", "db_pool_size", "pg_activity_interval",
                               "pg_synchronous_commit")},
           "machine": machine_info(a.tmpdir), "versions": versions(a, a.targets), "targets": []}
    if pg:
        res["postgres"] = pg.info()
    for t in a.targets:
        if TARGET_GROUP[t] == "pg" and pg is None:
            bench.log(f"{t}: skipped ({pg_error})")
            res["targets"].append({"target": t, "skipped": pg_error})
            continue
        if t == "mlflow-pg" and not sh([os.path.join(a.venv, "bin", "python"), "-c",
                                        "import psycopg2; print(1)"]):
            why = "psycopg2 missing in .venv-peers (run scripts/setup-peers.sh)"
            bench.log(f"{t}: skipped ({why})")
            res["targets"].append({"target": t, "skipped": why})
            continue
        if TARGET_KIND[t] == "plinth" and not os.access(a.plinth_bin, os.X_OK):
            bench.log(f"{t}: skipped ({a.plinth_bin} not built)")
            res["targets"].append({"target": t, "skipped": f"{os.path.relpath(a.plinth_bin, ROOT)} not built"})
            continue
        if TARGET_KIND[t] in ("mlflow", "fasttrackml"):
            exe = os.path.join(a.venv, "bin", "mlflow" if TARGET_KIND[t] == "mlflow" else "fml")
            if not os.access(exe, os.X_OK):
                bench.log(f"{t}: skipped ({exe} missing; run scripts/setup-peers.sh)")
                res["targets"].append({"target": t, "skipped": f"{exe} missing"})
                continue
        res["targets"].append(bench.run_target(t))
    res["total_seconds"] = round(time.monotonic() - t_start, 1)
    os.makedirs(a.results_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(a.results_dir, f"tracking-{stamp}{'-quick' if a.quick else ''}.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    bench.log(f"results: {os.path.relpath(path, ROOT)} (total {res['total_seconds'] / 60:.1f} min)")
    for t in res["targets"]:
        if t.get("status") == "ok":
            n = sum(r["errors"] for r in t["workloads"].values())
            bench.log(f"{t['target']}: {n} failed operations over "
                      f"{sum(r['ops'] for r in t['workloads'].values())} timed operations")
    if a.docs and not groups_measured(res):
        bench.log("nothing measured: docs/benchmarks.md left as it is")
        a.docs = False
    if a.docs:
        # only the groups measured now are replaced; the other sections stay as they are
        md = render_markdown(res, read_text(a.docs_path))
        os.makedirs(os.path.dirname(a.docs_path), exist_ok=True)
        with open(a.docs_path, "w") as f:
            f.write(md)
        bench.log(f"wrote {os.path.relpath(a.docs_path, ROOT)}")
    else:
        md = render_markdown(res)
        md_path = path[:-5] + ".md"
        with open(md_path, "w") as f:
            f.write(md)
        bench.log(f"report: {os.path.relpath(md_path, ROOT)} (docs/benchmarks.md untouched)")
    failed = [t["target"] for t in res["targets"] if t.get("status") == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
