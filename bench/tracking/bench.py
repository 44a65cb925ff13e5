#!/usr/bin/env python3
"""Tracking-server benchmark: the same MLflow REST load against plinth, mlflow and FastTrackML.

One server runs at a time, each on fresh temporary storage, on loopback. For each workload the
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

ALL_TARGETS = ["plinth", "mlflow", "fasttrackml"]
TARGET_TITLES = {"plinth": "plinth", "mlflow": "MLflow", "fasttrackml": "FastTrackML"}
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


def proc_tree(root: int) -> list[int]:
    """root and all its descendants (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            _, f = _stat_fields(int(d))
        except OSError:
            continue
        children.setdefault(int(f[1]), []).append(int(d))
    out, i = [root], 0
    while i < len(out):
        out.extend(children.get(out[i], []))
        i += 1
    return out


def cmdline(pid: int) -> str:
    try:
        return _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def cpu_snapshot(root: int) -> dict[int, tuple[int, str]]:
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


def cpu_delta_seconds(a: dict, b: dict) -> float:
    total = 0
    for pid, (ticks, _) in b.items():
        total += ticks - a.get(pid, (0, ""))[0]
    # processes that vanished without being reaped by a process in the tree are lost; rare
    return total / CLK_TCK


def rss_bytes(pids) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(_read(f"/proc/{pid}/statm").split()[1]) * PAGE_SIZE
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
    """Samples the summed RSS of the server's process tree; keeps the max per phase."""

    def __init__(self, root: int, interval: float):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.pids = proc_tree(root)
        self.phase = None
        self.peaks: dict[str, int] = {}
        self.peak_all = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def set_phase(self, name):
        with self._lock:
            self.phase = name
            if name is not None:
                self.peaks.setdefault(name, 0)
        self.sample()

    def sample(self):
        v = rss_bytes(self.pids)
        with self._lock:
            self.peak_all = max(self.peak_all, v)
            if self.phase is not None:
                self.peaks[self.phase] = max(self.peaks[self.phase], v)

    def run(self):
        n = 0
        while not self._halt.wait(self.interval):
            n += 1
            if n % 8 == 0:  # new processes (workers) show up in the tree
                try:
                    self.pids = proc_tree(self.root)
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
    def __init__(self, target: str, args, tmp: str, port: int):
        self.target, self.args, self.tmp, self.port = target, args, tmp, port
        self.proc = None
        self.log_path = os.path.join(tmp, "server.log")
        art = os.path.join(tmp, "artifacts")
        os.makedirs(art, exist_ok=True)
        env = peer_env()
        venv_bin = os.path.join(args.venv, "bin")
        if target == "plinth":
            self.cmd = [args.plinth_bin, "server", "--backend-store-uri",
                        f"sqlite:///{tmp}/plinth.db", "--artifacts-destination", art,
                        "--host", "127.0.0.1", "--port", str(port)]
        elif target == "mlflow":
            self.cmd = [os.path.join(venv_bin, "mlflow"), "server", "--backend-store-uri",
                        f"sqlite:///{tmp}/mlflow.db", "--artifacts-destination", art,
                        "--host", "127.0.0.1", "--port", str(port),
                        "--workers", str(args.mlflow_workers)]
            if not args.mlflow_jobs:
                # the GenAI job runner (7 huey consumer processes in MLflow 3.17) serves none of
                # the tracking API; off by default so MLflow's memory is not inflated by it
                env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        elif target == "fasttrackml":
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
# Driver
# ----------------------------------------------------------------------------------------------

def percentile(sorted_vals, q: float) -> float:
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[k]


class Bench:
    def __init__(self, args):
        self.args = args
        self.ctx = mp.get_context("fork")
        self.host = "127.0.0.1"

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
        c = a.concurrency
        spec = dict(spec, workload=name)
        warm = a.warmup if a.warmup is not None else WARMUP[name]
        duration = None if a.requests else a.duration
        per_worker = max(1, math.ceil(a.requests / c)) if a.requests else 0
        quiet = self.wait_quiet(a.phase_wait_quiet, 1.0, name) if a.phase_wait_quiet > 0 else None
        barrier = self.ctx.Barrier(c + 1)
        q = self.ctx.Queue()
        procs = [self.ctx.Process(target=load_worker, daemon=True,
                                  args=(w, spec, self.host, self.port, barrier, q, duration,
                                        per_worker, warm, a.request_timeout)) for w in range(c)]
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
        cpu0 = cpu_snapshot(self.root)
        m0 = machine_cpu_ticks()
        sampler.set_phase(name)
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
        cpu1 = cpu_snapshot(self.root)
        m1 = machine_cpu_ticks()
        sampler.set_phase(None)
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
        busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
        # CPU used by anything else on the machine during the phase (other jobs, the driver):
        # a non-zero value means the numbers were taken on a shared, not an idle, machine
        other = ((m1[0] - m0[0]) / CLK_TCK - server_cpu - client_cpu) / elapsed \
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
            "machine_cpu_busy": round(busy, 3),
            "other_cores_used": round(other, 3) if other is not None else None,
            "peak_rss_mb": sampler.peaks.get(name, 0) / 2**20,
            "reconnects": reconnects, "concurrency": c, "warmup_per_worker": warm,
            "quiet_before": quiet,
        }
        if name == "get-history":
            res["points_per_op"] = spec["points"]
        self.log(f"  {name:14s} {res['ops_per_s']:9.1f} ops/s  p50 {fmt(res['p50_ms'])} ms  "
                 f"p99 {fmt(res['p99_ms'])} ms  cpu {fmt(res['cpu_ms_per_op'])} ms/op  "
                 f"rss {res['peak_rss_mb']:.0f} MB  ops {ops}  errors {errors}"
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
        quiet = self.wait_quiet(a.wait_quiet) if a.wait_quiet > 0 else None
        tmp = tempfile.mkdtemp(prefix=f"plinth-bench-{target}-", dir=a.tmpdir)
        self.port = pick_port(a.port_min, a.port_max)
        srv = Server(target, a, tmp, self.port)
        info = {"target": target, "command": srv.cmd, "port": self.port, "storage": tmp,
                "seed": {}, "workloads": {}}
        if target == "mlflow":
            info["env"] = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": srv.env.get("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "(default)")}
        self.log(f"{target}: starting on 127.0.0.1:{self.port} ({tmp})")
        sampler = None
        try:
            if quiet:
                info["quiet"] = quiet
            info["startup_s"] = round(srv.start(), 2)
            self.root = srv.proc.pid
            sampler = RssSampler(self.root, a.rss_interval)
            sampler.start()
            self.log(f"  healthy after {info['startup_s']}s")
            wl = [w for w in WORKLOADS if w in a.workloads]
            specs = {}
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
                    specs[w] = {"run_ids": self.create_runs(logging_exp, a.concurrency, w)}
            # idle CPU of the server (background threads, pollers) for context
            s0 = cpu_snapshot(self.root)
            time.sleep(a.idle_seconds)
            s1 = cpu_snapshot(self.root)
            info["idle_cpu_ms_per_s"] = round(cpu_delta_seconds(s0, s1) * 1000 / a.idle_seconds, 2)
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
                if srv.proc.poll() is not None:
                    raise RuntimeError(f"{target} died during {w}:\n{srv.log_tail()}")
            # process tree breakdown at the end (RSS now and high-water mark per process)
            procs = []
            for pid in proc_tree(self.root):
                procs.append({"pid": pid, "cmd": cmdline(pid)[:160],
                              "rss_mb": round(status_kb(pid, b"VmRSS:") / 1024, 1),
                              "hwm_mb": round(status_kb(pid, b"VmHWM:") / 1024, 1)})
            info["processes"] = procs
            info["sum_vmhwm_mb"] = round(sum(p["hwm_mb"] for p in procs), 1)
            info["peak_rss_mb_whole_run"] = round(sampler.peak_all / 2**20, 1)
            info["status"] = "ok"
        except Exception as e:
            info["status"] = "failed"
            info["error"] = f"{e}"
            info["log_tail"] = srv.log_tail(40)
            info["storage_kept"] = True  # for a post-mortem
            self.log(f"  FAILED: {e}\n  server log tail:\n{info['log_tail']}")
        finally:
            if sampler:
                sampler.stop()
            srv.stop()
            if a.keep_storage:
                info["storage_kept"] = True
            elif not info.get("storage_kept"):
                shutil.rmtree(tmp, ignore_errors=True)
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
    if "plinth" in targets:
        v["plinth"] = sh([args.plinth_bin, "--version"]) or "(no --version)"
        try:  # the binary may be older or newer than HEAD: say when it was built
            v["plinth_built"] = dt.datetime.fromtimestamp(os.path.getmtime(args.plinth_bin)) \
                .astimezone().strftime("%Y-%m-%d %H:%M %Z")
        except OSError:
            pass
    py = os.path.join(args.venv, "bin", "python")
    if "mlflow" in targets:
        v["mlflow"] = sh([py, "-c", "import mlflow; print(mlflow.__version__)"])
        v["uvicorn"] = sh([py, "-c", "import uvicorn; print(uvicorn.__version__)"])
        v["sqlalchemy"] = sh([py, "-c", "import sqlalchemy; print(sqlalchemy.__version__)"])
    if "fasttrackml" in targets:
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


def render_markdown(res: dict) -> str:
    # Paths inside the checkout are shown relative to it: the report must not name this
    # machine's folders.
    return _render_markdown(res).replace(ROOT + "/", "")


def _render_markdown(res: dict) -> str:
    cfg, mach, ver = res["config"], res["machine"], res["versions"]
    targets = res["targets"]
    by = {t["target"]: t for t in targets}
    ok = {n: t for n, t in by.items() if t.get("status") == "ok"}
    L = []
    w = L.append
    w("# Benchmarks: tracking server")
    w("")
    w(f"_Written by `bench/tracking/bench.py` on {res['date']}; do not edit by hand — rerun the "
      "command below. Raw results: `bench/results/` (not committed)._")
    w("")
    if cfg.get("quick"):
        w("> **Quick (smoke) run**: short durations and a smaller seed; numbers are indicative only.")
        w("")
    w("## Headline: server CPU per operation")
    w("")
    w("The machine has 2 cores shared by the load generator and the server, so throughput is "
      "partly bounded by the client; CPU time spent by the server per operation is the number "
      "that carries over to a bigger machine. Lower is better.")
    w("")
    present = [t for t in ALL_TARGETS if t in ok]
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

    w("## Setup")
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
    for t in ALL_TARGETS:
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

    w("## Results per workload")
    w("")
    w("ops/s = completed operations ÷ wall time of the timed phase; p50/p99 = client-side "
      "latency of one operation; CPU ms/op = server process-tree CPU ÷ operations; peak RSS = "
      "max over the phase of the summed RSS of the server's processes. Ratio columns divide "
      "the row's server by the named peer (ops/s: higher is better; CPU/op: lower is better).")
    w("")
    for wl in REPORT_ORDER:
        rows = [(t, ok[t]["workloads"][wl]) for t in ALL_TARGETS
                if t in ok and wl in ok[t]["workloads"]]
        if not rows:
            continue
        desc = WORKLOAD_DESC[wl].format(runs=cfg["search_runs"], filter=SEARCH_FILTER,
                                        order=SEARCH_ORDER, points=cfg["history_points"])
        w(f"### {wl}")
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

    w("## Seeding and sanity checks")
    w("")
    w("| server | machine busy before start (cores) | startup s | idle CPU ms/s | seed search runs (s) | search first page as expected "
      "| seed history (s) | history fetch check | peak RSS whole run MB | Σ VmHWM MB | processes |")
    w("|---|---:|---:|---:|---:|---|---:|---|---:|---:|---:|")
    for t in ALL_TARGETS:
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
    for t in ALL_TARGETS:
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
        w("## Server quirks seen in this run")
        w("")
        for q in quirks:
            w(f"- {q}")
        w("")
    w("## Method")
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
    w("Reproduce: `bench/tracking/run.sh` (full, ~15–20 min) or `bench/tracking/run.sh --quick` "
      "(smoke run, does not rewrite this file unless `--docs` is given); "
      "`bench/tracking/run.sh --help` lists the knobs (`--targets`, `--duration`, "
      "`--concurrency`, `--workloads`, …).")
    w("")
    return "\n".join(L)


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--targets", default=",".join(ALL_TARGETS),
                   help="comma-separated subset of " + ",".join(ALL_TARGETS))
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
    a.targets = [t.strip() for t in a.targets.split(",") if t.strip()]
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


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.report_only:
        with open(a.report_only) as f:
            res = json.load(f)
        md = render_markdown(res)
        with open(a.docs_path, "w") as f:
            f.write(md)
        print(f"wrote {a.docs_path}")
        return 0
    t_start = time.monotonic()
    bench = Bench(a)
    res = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
           "command": a.command_label or " ".join(shlex.quote(x) for x in [sys.executable] + sys.argv),
           "config": {k: v for k, v in vars(a).items()
                      if k in ("quick", "duration", "requests", "concurrency", "seed_concurrency",
                               "search_runs", "history_points", "seed", "mlflow_workers",
                               "mlflow_jobs", "workloads", "rss_interval", "warmup")},
           "machine": machine_info(a.tmpdir), "versions": versions(a, a.targets), "targets": []}
    for t in a.targets:
        if t == "plinth" and not os.access(a.plinth_bin, os.X_OK):
            bench.log(f"plinth: skipped ({a.plinth_bin} not built)")
            res["targets"].append({"target": t, "skipped": f"{os.path.relpath(a.plinth_bin, ROOT)} not built"})
            continue
        if t in ("mlflow", "fasttrackml"):
            exe = os.path.join(a.venv, "bin", "mlflow" if t == "mlflow" else "fml")
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
    md = render_markdown(res)
    if a.docs:
        os.makedirs(os.path.dirname(a.docs_path), exist_ok=True)
        with open(a.docs_path, "w") as f:
            f.write(md)
        bench.log(f"wrote {os.path.relpath(a.docs_path, ROOT)}")
    else:
        md_path = path[:-5] + ".md"
        with open(md_path, "w") as f:
            f.write(md)
        bench.log(f"report: {os.path.relpath(md_path, ROOT)} (docs/benchmarks.md untouched)")
    failed = [t["target"] for t in res["targets"] if t.get("status") == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
