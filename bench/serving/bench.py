#!/usr/bin/env python3
"""Serving benchmark: one XGBoost model served by `plinth serve` and by `mlflow models serve`.

The model (XGBRegressor, 200 trees, depth 6, 30 features, trained on seeded synthetic data) is
saved once with `mlflow.xgboost.save_model(..., signature=...)` into a temporary folder by the
.venv-peers Python (`bench.py --make-model DIR`, which also writes the request bodies and
pyfunc's predictions for them). Then one server at a time, on loopback: plinth with default
options, plinth with micro-batching, MLflow's scoring server (uvicorn, 1 worker: its default) and
MLflow with 2 workers. Each server must answer every benchmark body with pyfunc's predictions
(max abs difference <= 1e-6) before it is measured; the run aborts otherwise.

Load: wrk (keep-alive HTTP/1.1 connections, closed loop) POSTs `dataframe_split` bodies of 1 or
64 rows to /invocations, cycling through distinct bodies, at several connection counts; each cell
has an untimed warm-up. Per cell: throughput, wrk's latency percentiles, errors (socket errors and
non-2xx), and the server's CPU per request: utime+stime of its whole process tree from /proc
before and after the timed wrk run. Peak RSS of each server is sampled throughout.

The driver is standard library only (the /proc helpers come from bench/tracking/bench.py);
only --make-model needs the .venv-peers packages (numpy, pandas, xgboost, mlflow).
See docs/benchmarks.md (the serving section, written with --docs) for the method and numbers.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.util
import json
import math
import os
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def _load_tracking():
    """bench/tracking/bench.py as a module (its /proc, port and formatting helpers)."""
    spec = importlib.util.spec_from_file_location(
        "plinth_tracking_bench", os.path.join(ROOT, "bench", "tracking", "bench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tb = _load_tracking()
CLK_TCK = tb.CLK_TCK
NOISY_CORES = tb.NOISY_CORES  # CPU used by other processes during a cell above which it is disturbed
fmt, ratio = tb.fmt, tb.ratio

N_FEATURES = 30
N_TREES = 200
MAX_DEPTH = 6
TRAIN_ROWS = 20_000
SINGLE_BODIES = 256  # distinct single-row bodies the load cycles through
BATCH_BODIES = 16  # distinct bodies for every other payload size
MAX_ABS_DIFF = 1e-6

ALL_TARGETS = ["plinth", "plinth-batch", "mlflow", "mlflow-w2"]
TARGET_TITLES = {"plinth": "plinth", "plinth-batch": "plinth (batching)", "mlflow": "MLflow",
                 "mlflow-w2": "MLflow (2 workers)"}
TARGET_KIND = {"plinth": "plinth", "plinth-batch": "plinth", "mlflow": "mlflow",
               "mlflow-w2": "mlflow"}
DOC_GROUP = "serving"
DOC_HEADING = "Model serving: plinth serve vs mlflow models serve"
DOC_COMMAND = "bench/serving/run.sh --docs"


# ----------------------------------------------------------------------------------------------
# The model and the request bodies (run by the .venv-peers Python: bench.py --make-model DIR)
# ----------------------------------------------------------------------------------------------

def make_model(out: str, seed: int, payloads: list[int]):
    import warnings
    warnings.filterwarnings("ignore")
    os.environ.setdefault("MLFLOW_TRACKING_URI", "file:///dev/null")  # no tracking server
    import numpy as np
    import pandas as pd
    import xgboost as xgb
    import mlflow
    import mlflow.pyfunc
    import mlflow.xgboost
    from mlflow.models import infer_signature

    t0 = time.monotonic()
    rng = np.random.default_rng(seed)
    cols = [f"f{i}" for i in range(N_FEATURES)]
    x = rng.normal(size=(TRAIN_ROWS, N_FEATURES))
    w = rng.normal(size=N_FEATURES)
    y = x @ w + np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2] + rng.normal(scale=0.1, size=TRAIN_ROWS)
    df = pd.DataFrame(x, columns=cols)
    model = xgb.XGBRegressor(n_estimators=N_TREES, max_depth=MAX_DEPTH, learning_rate=0.1,
                             tree_method="hist", random_state=seed, n_jobs=2)
    model.fit(df, y)
    train_s = time.monotonic() - t0
    model_dir = os.path.join(out, "model")
    sig = infer_signature(df.head(100), model.predict(df.head(100)))
    mlflow.xgboost.save_model(model, model_dir, signature=sig)

    # request rows: fresh samples, rounded to 6 decimals so that the JSON text is the value
    manifest = {"model_dir": model_dir, "columns": cols, "payloads": {},
                "train_rows": TRAIN_ROWS, "train_seconds": round(train_s, 2),
                "trees": N_TREES, "max_depth": MAX_DEPTH, "features": N_FEATURES,
                "model_bytes": sum(os.path.getsize(os.path.join(model_dir, f))
                                   for f in os.listdir(model_dir)),
                "versions": {"mlflow": mlflow.__version__, "xgboost": xgb.__version__,
                             "numpy": np.__version__, "pandas": pd.__version__}}
    pyfunc = mlflow.pyfunc.load_model(model_dir)
    for rows in payloads:
        n_bodies = SINGLE_BODIES if rows == 1 else BATCH_BODIES
        data = np.round(rng.normal(size=(n_bodies * rows, N_FEATURES)), 6)
        pred = np.asarray(pyfunc.predict(pd.DataFrame(data, columns=cols)), dtype=float)
        path = os.path.join(out, f"bodies-{rows}.jsonl")
        with open(path, "w") as f:
            for b in range(n_bodies):
                block = data[b * rows:(b + 1) * rows]
                body = {"dataframe_split": {"columns": cols,
                                            "data": [[float(v) for v in r] for r in block]}}
                f.write(json.dumps(body, separators=(",", ":")) + "\n")
        manifest["payloads"][str(rows)] = {
            "bodies_file": path, "bodies": n_bodies,
            "body_bytes": os.path.getsize(path) // n_bodies,
            "expected": [float(v) for v in pred]}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


# ----------------------------------------------------------------------------------------------
# Servers
# ----------------------------------------------------------------------------------------------

class Server:
    def __init__(self, target: str, args, tmp: str, model_dir: str, port: int):
        self.target, self.port, self.tmp = target, port, tmp
        self.proc = None
        self.log_path = os.path.join(tmp, f"{target}.log")
        env = tb.peer_env()
        venv_bin = os.path.join(args.venv, "bin")
        if TARGET_KIND[target] == "plinth":
            self.cmd = [args.plinth_bin, "serve", model_dir, "--host", "127.0.0.1",
                        "--port", str(port)]
            if target == "plinth-batch":
                self.cmd += ["--max-batch", str(args.max_batch),
                             "--batch-timeout-us", str(args.batch_timeout_us)]
        else:
            # `mlflow models serve` execs `uvicorn` by name: the venv's bin must be on PATH
            env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
            self.cmd = [os.path.join(venv_bin, "mlflow"), "models", "serve", "-m", model_dir,
                        "-h", "127.0.0.1", "-p", str(port), "--env-manager", "local"]
            if target == "mlflow-w2":
                self.cmd += ["-w", "2"]
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
                raise RuntimeError(f"{self.target} exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/ping")
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

    def log_lines(self) -> int:
        try:
            with open(self.log_path, "rb") as f:
                return sum(1 for _ in f)
        except OSError:
            return 0

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = self.proc.pid  # start_new_session: the server leads its own process group
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        self.log.close()


def predict(conn: http.client.HTTPConnection, body: bytes) -> list[float]:
    conn.request("POST", "/invocations", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {data[:300]!r}")
    out = json.loads(data)
    preds = out["predictions"] if isinstance(out, dict) else out
    return [float(v[0] if isinstance(v, list) else v) for v in preds]


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, manifest: dict, tmp: str):
        self.args, self.manifest, self.tmp = args, manifest, tmp
        self.answers: dict[str, dict[str, list[float]]] = {}  # target -> payload -> predictions

    def log(self, msg: str):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    def wait_quiet(self, limit: float, what: str, window: float = 2.0) -> dict:
        """Waits (at most `limit` s) for a window in which the machine is nearly idle (other
        engineers' builds and tests share these 2 cores)."""
        t = time.monotonic()
        while True:
            m0 = tb.machine_cpu_ticks()
            time.sleep(window)
            m1 = tb.machine_cpu_ticks()
            busy = (m1[0] - m0[0]) / CLK_TCK / window
            if busy <= self.args.quiet_cores or time.monotonic() - t >= limit:
                break
        waited = time.monotonic() - t
        quiet = busy <= self.args.quiet_cores
        if what == "start" or waited > window + 0.5:
            self.log(f"  machine busy {busy:.2f} cores before {what} (waited {waited:.0f}s"
                     f"{'' if quiet else ', gave up'})")
        return {"cores_busy_before": round(busy, 2), "waited_s": round(waited, 1),
                "quiet": quiet}

    def check(self, target: str, port: int) -> dict:
        """Every benchmark body once: the answers must be pyfunc's predictions."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out = {}
        worst = 0.0
        for rows in self.args.payloads:
            p = self.manifest["payloads"][str(rows)]
            got = []
            with open(p["bodies_file"], "rb") as f:
                for line in f:
                    line = line.strip()
                    if line:
                        preds = predict(conn, line)
                        if len(preds) != rows:
                            raise RuntimeError(f"{target}: {len(preds)} predictions for "
                                               f"{rows} rows")
                        got.extend(preds)
            exp = p["expected"]
            diff = max(abs(a - b) for a, b in zip(got, exp))
            worst = max(worst, diff)
            out[str(rows)] = {"rows": len(got), "max_abs_diff_vs_pyfunc": diff}
            self.answers.setdefault(target, {})[str(rows)] = got
        conn.close()
        # and directly against the answers of the targets checked before this one
        vs = {}
        for other, ans in self.answers.items():
            if other == target:
                continue
            d = max((abs(a - b) for r in ans for a, b in zip(ans[r],
                                                              self.answers[target].get(r, []))),
                    default=0.0)
            vs[other] = d
            worst = max(worst, d)
        res = {"payloads": out, "max_abs_diff_vs_targets": vs, "max_abs_diff": worst,
               "ok": worst <= MAX_ABS_DIFF}
        return res

    def wrk(self, url: str, rows: int, conns: int, duration: float) -> tuple[dict, float]:
        """One wrk run; returns its parsed summary and wrk's own CPU seconds."""
        a = self.args
        threads = max(1, min(a.wrk_threads, conns))
        cmd = [a.wrk, "-t", str(threads), "-c", str(conns), "-d", f"{duration:g}s",
               "--latency", "--timeout", f"{a.request_timeout:g}s",
               "-s", os.path.join(HERE, "wrk_post.lua"), url]
        env = dict(os.environ, BENCH_BODIES=self.manifest["payloads"][str(rows)]["bodies_file"])
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=duration + a.request_timeout + 60)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if r.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({r.returncode}): {r.stderr.strip()[:400]} "
                               f"{r.stdout.strip()[-400:]}")
        out = json.loads(line[len("BENCH_JSON "):])
        out["threads"] = threads
        out["command"] = " ".join(shlex.quote(x) for x in cmd[:-2]) + " " + \
            os.path.basename(cmd[-2]) + " " + cmd[-1]
        return out, wrk_cpu

    def cell(self, url: str, roots, sampler, rows: int, conns: int) -> dict:
        a = self.args
        quiet = self.wait_quiet(a.phase_wait_quiet, f"{rows} row(s) × {conns}") \
            if a.phase_wait_quiet > 0 else None
        if a.warmup > 0:
            self.wrk(url, rows, conns, a.warmup)
        name = f"{rows}x{conns}"
        cpu0 = tb.cpu_snapshot(roots)
        m0 = tb.machine_cpu_ticks()
        sampler.set_phase(name)
        w, wrk_cpu = self.wrk(url, rows, conns, a.duration)
        sampler.set_phase(None)
        cpu1 = tb.cpu_snapshot(roots)
        m1 = tb.machine_cpu_ticks()
        elapsed = w["duration_us"] / 1e6
        server_cpu = tb.cpu_delta_seconds(cpu0, cpu1)
        reqs = w["requests"]
        errors = w["connect"] + w["read"] + w["write"] + w["timeout"] + w["status"]
        ok = max(0, reqs - w["status"])
        machine = (m1[0] - m0[0]) / CLK_TCK
        other = (machine - server_cpu - wrk_cpu) / elapsed if elapsed > 0 else None
        res = {
            "rows": rows, "connections": conns, "threads": w["threads"],
            "requests": reqs, "ok_requests": ok, "errors": errors,
            "errors_detail": {k: w[k] for k in ("connect", "read", "write", "timeout", "status")},
            "elapsed_s": round(elapsed, 3),
            "req_per_s": ok / elapsed if elapsed > 0 else 0.0,
            "rows_per_s": ok * rows / elapsed if elapsed > 0 else 0.0,
            "p50_ms": w["p50_us"] / 1000, "p90_ms": w["p90_us"] / 1000,
            "p99_ms": w["p99_us"] / 1000, "p999_ms": w["p999_us"] / 1000,
            "mean_ms": w["mean_us"] / 1000, "max_ms": w["max_us"] / 1000,
            "server_cpu_s": round(server_cpu, 3),
            "cpu_us_per_req": server_cpu * 1e6 / ok if ok else None,
            "cpu_us_per_row": server_cpu * 1e6 / (ok * rows) if ok else None,
            "server_cores_used": server_cpu / elapsed if elapsed > 0 else None,
            "wrk_cores_used": wrk_cpu / elapsed if elapsed > 0 else None,
            "machine_cores_busy": machine / elapsed if elapsed > 0 else None,
            "other_cores_used": round(other, 3) if other is not None else None,
            "peak_rss_mb": sampler.peaks.get(name, 0) / 2**20,
            "quiet_before": quiet, "wrk_command": w["command"],
        }
        self.log(f"  {rows:3d} row(s) × {conns:3d} conn  {res['req_per_s']:9.1f} req/s  "
                 f"p50 {fmt(res['p50_ms'])} ms  p99 {fmt(res['p99_ms'])} ms  "
                 f"cpu {fmt(res['cpu_us_per_req'])} µs/req  server {fmt(res['server_cores_used'])}"
                 f" wrk {fmt(res['wrk_cores_used'])} other {tb.fmt_other(res['other_cores_used'])}"
                 f" cores  errors {errors}")
        return res

    def run_target(self, target: str, port: int) -> dict:
        a = self.args
        info = {"target": target, "cells": []}
        quiet = self.wait_quiet(a.wait_quiet, "start") if a.wait_quiet > 0 else None
        if quiet:
            info["quiet"] = quiet
        srv = Server(target, a, self.tmp, self.manifest["model_dir"], port)
        sampler = None
        try:
            self.log(f"{target}: starting on 127.0.0.1:{port}")
            info["startup_s"] = round(srv.start(), 2)
            info["command"] = srv.cmd
            roots = [srv.proc.pid]
            sampler = tb.RssSampler(roots, a.rss_interval)
            sampler.start()
            self.log(f"  healthy after {info['startup_s']}s")
            chk = self.check(target, port)
            info["check"] = chk
            self.log(f"  predictions: max abs difference {chk['max_abs_diff']:.3g} "
                     f"({'ok' if chk['ok'] else 'MISMATCH'})")
            if not chk["ok"]:
                raise MismatchError(f"{target} answers differ from pyfunc/the other servers by "
                                    f"{chk['max_abs_diff']:.3g} > {MAX_ABS_DIFF}: {chk}")
            s0 = tb.cpu_snapshot(roots)
            time.sleep(a.idle_seconds)
            s1 = tb.cpu_snapshot(roots)
            info["idle_cpu_ms_per_s"] = round(tb.cpu_delta_seconds(s0, s1) * 1000
                                              / a.idle_seconds, 2)
            url = f"http://127.0.0.1:{port}/invocations"
            for rows in a.payloads:
                for conns in a.concurrency:
                    r = self.cell(url, roots, sampler, rows, conns)
                    tries = 1
                    while (r.get("other_cores_used") or 0) > NOISY_CORES \
                            and tries <= a.noisy_retries:
                        self.log(f"  {r['other_cores_used']:.2f} cores used by other processes;"
                                 " measuring again")
                        r2 = self.cell(url, roots, sampler, rows, conns)
                        tries += 1
                        if (r2.get("other_cores_used") or 0) < (r.get("other_cores_used") or 0):
                            r = r2
                    r["attempts"] = tries
                    info["cells"].append(r)
                    if srv.proc.poll() is not None:
                        raise RuntimeError(f"{target} died:\n{srv.log_tail()}")
            procs = []
            for pid in tb.proc_tree(roots):
                procs.append({"pid": pid, "cmd": tb.cmdline(pid)[:160],
                              "rss_mb": round(tb.status_kb(pid, b"VmRSS:") / 1024, 1),
                              "hwm_mb": round(tb.status_kb(pid, b"VmHWM:") / 1024, 1)})
            info["processes"] = procs
            info["sum_vmhwm_mb"] = round(sum(p["hwm_mb"] for p in procs), 1)
            info["peak_rss_mb"] = round(sampler.peak_all / 2**20, 1)
            info["log_lines"] = srv.log_lines()
            info["status"] = "ok"
        except MismatchError:
            raise
        except Exception as e:
            info["status"] = "failed"
            info["error"] = str(e)
            info["log_tail"] = srv.log_tail(40)
            self.log(f"  FAILED: {e}")
        finally:
            if sampler:
                sampler.stop()
            srv.stop()
        return info


class MismatchError(RuntimeError):
    pass


# ----------------------------------------------------------------------------------------------
# Versions / machine
# ----------------------------------------------------------------------------------------------

def versions(args, manifest: dict) -> dict:
    v = {"plinth_git": tb.sh(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT),
         "plinth_git_dirty": bool(tb.sh(["git", "status", "--porcelain", "--", "src"], cwd=ROOT)),
         "plinth": tb.sh([args.plinth_bin, "--version"]) or "(no --version)"}
    try:
        v["plinth_built"] = dt.datetime.fromtimestamp(os.path.getmtime(args.plinth_bin)) \
            .astimezone().strftime("%Y-%m-%d %H:%M %Z")
    except OSError:
        pass
    v.update(manifest.get("versions", {}))
    py = os.path.join(args.venv, "bin", "python")
    v["uvicorn"] = tb.sh([py, "-c", "import uvicorn; print(uvicorn.__version__)"])
    wrk = tb.sh([args.wrk, "--version"]).splitlines()
    v["wrk"] = wrk[0].split(" [")[0] if wrk else "?"
    return v


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def _cells(t: dict) -> dict:
    return {(c["rows"], c["connections"]): c for c in t.get("cells", [])}


def _x(v) -> str:
    """A ratio as '×N' (N ≥ 1 shown with few digits)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return ratio(v, 1)


def _div(a, b):
    return a / b if a is not None and b else None


def verdicts(res: dict) -> list[dict]:
    """The issue's two targets, evaluated on this run's numbers."""
    by = {t["target"]: t for t in res["targets"] if t.get("status") == "ok"}
    out = []
    p, m = by.get("plinth"), by.get("mlflow")
    if p and m and 1 in res["config"]["payloads"]:
        pc, mc = _cells(p), _cells(m)
        conns = res["config"]["concurrency"]
        best_p = max((pc[(1, c)] for c in conns if (1, c) in pc), key=lambda c: c["req_per_s"])
        peers = [_cells(by[t]) for t in ("mlflow", "mlflow-w2") if t in by]
        best_m_t = max(((t, by[t]) for t in ("mlflow", "mlflow-w2") if t in by),
                       key=lambda x: max(c["req_per_s"] for c in x[1]["cells"] if c["rows"] == 1))
        best_m = max((c for c in best_m_t[1]["cells"] if c["rows"] == 1),
                     key=lambda c: c["req_per_s"])
        r_best = best_p["req_per_s"] / best_m["req_per_s"] if best_m["req_per_s"] else None
        same = [(c, pc[(1, c)]["req_per_s"] / mc[(1, c)]["req_per_s"]) for c in conns
                if (1, c) in pc and (1, c) in mc and mc[(1, c)]["req_per_s"]]
        worst_same = min(same, key=lambda x: x[1]) if same else None
        met = r_best is not None and r_best >= 20 and (worst_same is None or worst_same[1] >= 20)
        cpu = [(c, mc[(1, c)]["cpu_us_per_req"] / pc[(1, c)]["cpu_us_per_req"]) for c in conns
               if (1, c) in pc and (1, c) in mc and pc[(1, c)]["cpu_us_per_req"]
               and mc[(1, c)]["cpu_us_per_req"]]
        cells_ = [pc.get((1, c)) for c in conns] + [mc.get((1, c)) for c in conns]
        disturbed = any((x.get("other_cores_used") or 0) > NOISY_CORES for x in cells_ if x)
        detail = (f"plinth's best single-row throughput {best_p['req_per_s']:.0f} req/s "
                  f"({best_p['connections']} connections) vs MLflow's best "
                  f"{best_m['req_per_s']:.0f} req/s ({TARGET_TITLES[best_m_t[0]]}, "
                  f"{best_m['connections']} connections): {_x(r_best)}")
        if worst_same:
            detail += (f"; at equal connection counts (plinth vs MLflow 1 worker) the ratio is "
                       + ", ".join(f"{_x(r)} at {c}" for c, r in same))
        if cpu:
            detail += ("; server CPU per request, MLflow ÷ plinth (the figure least affected by "
                       "a busy machine): " + ", ".join(f"{_x(r)} at {c}" for c, r in cpu))
        out.append({"target": "≥ 20× MLflow's single-row throughput", "met": met,
                    "detail": detail, "ratio_best": r_best, "disturbed": disturbed})
    if p and 1 in res["config"]["payloads"]:
        pc = _cells(p)
        mod = res["config"]["moderate_connections"]
        c = pc.get((1, mod))
        if c:
            met = c["p99_ms"] < 2.0
            others = ", ".join(f"{fmt(pc[(1, k)]['p99_ms'])} ms at {k}"
                               for k in res["config"]["concurrency"]
                               if (1, k) in pc and k != mod)
            pb = _cells(by["plinth-batch"]).get((1, mod)) if "plinth-batch" in by else None
            detail = (f"plinth p99 at {mod} keep-alive connections, single-row: "
                      f"{fmt(c['p99_ms'])} ms (p50 {fmt(c['p50_ms'])} ms, "
                      f"{c['req_per_s']:.0f} req/s, server {fmt(c['server_cores_used'])} cores, "
                      f"wrk {fmt(c['wrk_cores_used'])} cores)"
                      + (f"; other concurrencies: {others}" if others else "")
                      + (f"; with batching: {fmt(pb['p99_ms'])} ms at {mod}" if pb else ""))
            disturbed = (c.get("other_cores_used") or 0) > NOISY_CORES
            if disturbed:
                detail += (f" — ⚠ other processes used {c['other_cores_used']:.2f} of the 2 "
                           "cores during this cell, so the server's threads waited for a CPU; "
                           "a tail latency measured like that says little about the server")
            out.append({"target": "p99 under 2 ms at moderate load on 2 cores", "met": met,
                        "detail": detail, "disturbed": disturbed})
    return out


def verdict_word(v: dict) -> str:
    if v["met"]:
        return "met" + (" (even on a busy machine)" if v.get("disturbed") else "")
    if v.get("disturbed"):
        return "NOT met in this run — inconclusive, the machine was busy; re-run on a quiet one"
    return "NOT met"


def render_section(res: dict) -> list[str]:
    cfg, mach, ver = res["config"], res["machine"], res["versions"]
    by = {t["target"]: t for t in res["targets"]}
    ok = {n: t for n, t in by.items() if t.get("status") == "ok"}
    present = [t for t in ALL_TARGETS if t in ok]
    L = []
    w = L.append
    w(f"## {DOC_HEADING}")
    w("")
    w(f"_Measured on {res['date']} with `{res['command']}`._")
    w("")
    if cfg.get("quick"):
        w("> **Quick (smoke) run**: short cells and fewer concurrencies; numbers are "
          "indicative only.")
        w("")
    cells = [c for t in present for c in ok[t]["cells"]]
    noisy = [c for c in cells if (c.get("other_cores_used") or 0) > NOISY_CORES]
    if noisy:
        w(f"> ⚠ **Shared machine**: in {len(noisy)} of {len(cells)} cells other processes used "
          f"more than {NOISY_CORES} cores (up to {max(c['other_cores_used'] for c in noisy):.2f} "
          "of 2) while wrk ran; they are marked ⚠ below. Their throughput and latency are "
          "understated; CPU per request is less affected. Re-run `"
          + DOC_COMMAND + "` on a quiet machine.")
        w("")
    for t, info in by.items():
        if info.get("status") == "failed":
            w(f"> **{TARGET_TITLES[t]} failed**: {str(info.get('error'))[:300]}")
            w("")

    w("### The issue's targets")
    w("")
    vs = verdicts(res)
    if not vs:
        w("_Not evaluated: plinth or MLflow was not measured with single-row requests._")
    for v in vs:
        w(f"- **{v['target']}: {verdict_word(v)}.** {v['detail']}.")
    w("")
    w(f"Moderate load = {cfg['moderate_connections']} keep-alive connections in a closed loop "
      "(each sends its next request when the previous answer arrives), i.e. a few requests in "
      "flight on 2 cores shared by the server and the load generator.")
    w("")

    for rows in cfg["payloads"]:
        w(f"### {rows} row{'s' if rows > 1 else ''} per request")
        w("")
        p = next(iter(ok.values()), None)
        body = res["model"]["payloads"].get(str(rows), {})
        w(f"`POST /invocations` with a `dataframe_split` body of {rows} row"
          f"{'s' if rows > 1 else ''} × {N_FEATURES} columns (~{body.get('body_bytes', '?')} "
          f"bytes; wrk cycles through {body.get('bodies', '?')} distinct bodies).")
        w("")
        if p is None:
            continue
        # headline: plinth vs MLflow per concurrency
        if "plinth" in ok and "mlflow" in ok:
            pc, mc = _cells(ok["plinth"]), _cells(ok["mlflow"])
            m2 = _cells(ok["mlflow-w2"]) if "mlflow-w2" in ok else {}
            pb = _cells(ok["plinth-batch"]) if "plinth-batch" in ok else {}
            w("| connections | plinth req/s | MLflow req/s | throughput × | plinth p50 / p99 ms "
              "| MLflow p50 / p99 ms | plinth CPU µs/req | MLflow CPU µs/req | CPU/req MLflow ÷ "
              "plinth |" + (" MLflow 2 workers req/s | × vs 2 workers |" if m2 else ""))
            w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if m2 else ""))
            for c in cfg["concurrency"]:
                a_, b_ = pc.get((rows, c)), mc.get((rows, c))
                if not a_ or not b_:
                    continue
                flag = " ⚠" if any((x.get("other_cores_used") or 0) > NOISY_CORES
                                   for x in (a_, b_)) else ""
                row = [f"{c}{flag}", fmt(a_["req_per_s"]), fmt(b_["req_per_s"]),
                       _x(_div(a_["req_per_s"], b_["req_per_s"])),
                       f"{fmt(a_['p50_ms'])} / {fmt(a_['p99_ms'])}",
                       f"{fmt(b_['p50_ms'])} / {fmt(b_['p99_ms'])}",
                       fmt(a_["cpu_us_per_req"]), fmt(b_["cpu_us_per_req"]),
                       _x(_div(b_["cpu_us_per_req"], a_["cpu_us_per_req"]))]
                if m2:
                    c2 = m2.get((rows, c))
                    row += [fmt(c2["req_per_s"]) if c2 else "—",
                            _x(_div(a_["req_per_s"], c2["req_per_s"])) if c2 else "—"]
                w("| " + " | ".join(row) + " |")
            w("")
        w("All targets (req/s counts 2xx answers only; rows/s = req/s × rows; CPU = the "
          "server's process tree; cores = average cores used during the cell by the server, "
          "by wrk and by everything else):")
        w("")
        w("| server | conns | req/s | rows/s | p50 ms | p90 ms | p99 ms | max ms | CPU µs/req "
          "| CPU µs/row | server / wrk / other cores | peak RSS MB | errors |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
        for t in present:
            tc = _cells(ok[t])
            for c in cfg["concurrency"]:
                x = tc.get((rows, c))
                if not x:
                    continue
                flag = " ⚠" if (x.get("other_cores_used") or 0) > NOISY_CORES else ""
                err = str(x["errors"])
                if x["errors"]:
                    err += " (" + ", ".join(f"{k} {v}" for k, v in x["errors_detail"].items()
                                            if v) + ")"
                w(f"| {TARGET_TITLES[t]} | {c}{flag} | {fmt(x['req_per_s'])} | "
                  f"{fmt(x['rows_per_s'])} | {fmt(x['p50_ms'])} | {fmt(x['p90_ms'])} | "
                  f"{fmt(x['p99_ms'])} | {fmt(x['max_ms'])} | {fmt(x['cpu_us_per_req'])} | "
                  f"{fmt(x['cpu_us_per_row'])} | {fmt(x['server_cores_used'])} / "
                  f"{fmt(x['wrk_cores_used'])} / {tb.fmt_other(x['other_cores_used'])} | "
                  f"{fmt(x['peak_rss_mb'], 0)} | {err} |")
        w("")

    w("### Setup")
    w("")
    model = res["model"]
    w(f"- **Machine**: {mach['nproc']} CPUs ({mach['cpu_model']}), {mach['mem_gb']} GB RAM, "
      f"Linux {mach['kernel']}. Servers, wrk and the driver share the same cores.")
    pv = str(ver.get("plinth", "—"))
    w(f"- **Versions**: {pv if pv.startswith('plinth') else 'plinth ' + pv} (git "
      f"{ver.get('plinth_git')}"
      f"{', binary built ' + ver['plinth_built'] if ver.get('plinth_built') else ''}"
      f"{', src/ modified' if ver.get('plinth_git_dirty') else ''}); MLflow {ver.get('mlflow')} "
      f"(uvicorn {ver.get('uvicorn')}), XGBoost {ver.get('xgboost')}, pandas "
      f"{ver.get('pandas')}, numpy {ver.get('numpy')}; {ver.get('wrk')}.")
    w(f"- **Model**: `xgboost.XGBRegressor(n_estimators={model['trees']}, "
      f"max_depth={model['max_depth']}, learning_rate=0.1, tree_method='hist')` trained on "
      f"{model['train_rows']} synthetic rows × {model['features']} features (seed "
      f"{cfg['seed']}), saved with `mlflow.xgboost.save_model(..., signature=...)` "
      f"(model.ubj, {model['model_bytes'] / 2**20:.1f} MB); both servers load the same folder.")
    w(f"- **Load**: wrk, {cfg['wrk_threads']} thread(s) (at most one per connection), "
      f"keep-alive connections {', '.join(map(str, cfg['concurrency']))}; each cell "
      f"{cfg['duration']:g} s after a {cfg['warmup']:g} s untimed warm-up at the same "
      f"concurrency; request timeout {cfg['request_timeout']:g} s.")
    w(f"- **Date**: {res['date']}; total wall time {res['total_seconds'] / 60:.1f} min.")
    w(f"- **Command**: `{res['command']}`")
    w("")
    w("| server | command | startup s | idle CPU ms/s | check: max abs diff | peak RSS MB "
      "| Σ VmHWM MB | processes | log lines |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for t in ALL_TARGETS:
        info = by.get(t)
        if not info:
            continue
        if info.get("status") != "ok":
            w(f"| {TARGET_TITLES[t]} | FAILED: {str(info.get('error', ''))[:200]} ||||||||")
            continue
        cmd = " ".join(shlex.quote(x) for x in info["command"])
        cmd = cmd.replace(res["model"]["model_dir"], "MODEL_DIR")
        w(f"| {TARGET_TITLES[t]} | `{cmd}` | {info['startup_s']} | "
          f"{info.get('idle_cpu_ms_per_s')} | {info['check']['max_abs_diff']:.2g} | "
          f"{info.get('peak_rss_mb')} | {info.get('sum_vmhwm_mb')} | "
          f"{len(info.get('processes', []))} | {info.get('log_lines')} |")
    w("")

    w("### Method")
    w("")
    w("- One server at a time on loopback, each started on the same model folder and stopped "
      "after its cells. Before a server is measured it answers every benchmark body once; the "
      "predictions must equal `mlflow.pyfunc.load_model(dir).predict(df)` and every server "
      f"measured before it within {MAX_ABS_DIFF:g} (absolute), or the run aborts.")
    w("- plinth: `plinth serve MODEL_DIR` with its defaults (automatic worker threads, runtime "
      "`auto` = the flattened trees, no micro-batching, no access log); `plinth (batching)` adds "
      f"`--max-batch {cfg['max_batch']} --batch-timeout-us {cfg['batch_timeout_us']}`.")
    w("- MLflow: `mlflow models serve -m MODEL_DIR --env-manager local` (uvicorn running "
      "`mlflow.pyfunc.scoring_server`), 1 worker (its default) and `-w 2` (one worker per "
      "core); uvicorn's access log stays on as shipped (one line per request to a file). "
      "With `-w 2` uvicorn binds the listening socket itself and hands it to its workers, and "
      "the accepted connections then keep Nagle's algorithm on (uvicorn issue Kludex/uvicorn#3149): "
      "each keep-alive answer waits ~40 ms for the client's delayed ACK, which is why 2 workers "
      "are slower than 1 at low concurrency. That is how `mlflow models serve -w 2` behaves as "
      "shipped; a client that opens a new connection per request does not see it.")
    w("- wrk runs closed-loop: each connection sends its next request as soon as the previous "
      "answer arrives, so throughput is what the server sustains with that many requests in "
      "flight, and latency includes queueing. Latency percentiles are wrk's (per request, "
      "from send to complete response). Bodies are pre-formatted once per wrk thread "
      "(`bench/serving/wrk_post.lua`) and cycled, so neither server sees one row repeated.")
    w("- Errors = wrk's socket errors (connect, read, write, timeout) + non-2xx answers; "
      "req/s counts 2xx answers only.")
    w("- Server CPU = Σ (utime + stime + cutime + cstime) over the server's process tree "
      "(uvicorn's workers included) from `/proc/<pid>/stat`, read right before and right after "
      "the timed wrk run, ÷ answered requests. wrk's CPU comes from its rusage; *other* = the "
      "machine's busy time (`/proc/stat`) minus server and wrk (±0.15 cores accounting noise). "
      "RSS = Σ VmRSS over the tree, sampled every "
      f"{cfg['rss_interval']} s; peak over the whole run.")
    w(f"- On 2 cores the load generator competes with the server: a server that needs little "
      "CPU per request is partly bounded by wrk, so its throughput here is a lower bound; CPU "
      "per request is the figure that carries over to a bigger machine.")
    w(f"- Before each server (up to {cfg['wait_quiet']:g} s) and each cell (up to "
      f"{cfg['phase_wait_quiet']:g} s) the script waits for the machine to be idle (≤ "
      f"{cfg['quiet_cores']} cores busy over 2 s); a cell during which other processes used "
      f"more than {NOISY_CORES} cores is measured again (up to {cfg['noisy_retries']} times) "
      "and the cleaner attempt kept; the rest are marked ⚠.")
    w("")
    w(f"Reproduce: `{DOC_COMMAND}` (full run, ~{res['total_seconds'] / 60:.0f} min here; rewrites "
      "this section only) or `bench/serving/run.sh --quick` (smoke run, report under "
      "`bench/results/`); knobs: `bench/serving/run.sh --help`.")
    w("")
    return L


def write_docs(path: str, section: list[str]):
    """Replaces the serving section of docs/benchmarks.md (between its markers), or appends it
    (with an index entry) when the file has none; the other sections stay as they are."""
    begin, end = f"<!-- bench:{DOC_GROUP}:begin -->", f"<!-- bench:{DOC_GROUP}:end -->"
    block = "\n".join(section).strip("\n").replace(ROOT + "/", "")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        text = f"{tb.DOC_TITLE}\n\n{tb.DOC_INTRO}\n"
    if text.startswith(tb.LEGACY_TITLE + "\n"):  # written before the file had other sections
        text = tb.DOC_TITLE + text[len(tb.LEGACY_TITLE):]
    text = text.replace(tb.OLD_INTRO, tb.DOC_INTRO)
    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i + len(begin)] + "\n\n" + block + "\n\n" + text[j:]
    else:
        entry = (f"- [{DOC_HEADING}](#{tb._anchor(DOC_HEADING)}) — `{DOC_COMMAND}`")
        lines = text.rstrip("\n").split("\n")
        idx = [k for k, ln in enumerate(lines) if ln.startswith("- [") and "](#" in ln]
        if idx and entry not in lines:
            lines.insert(idx[-1] + 1, entry)
        text = "\n".join(lines) + "\n\n" + begin + "\n\n" + block + "\n\n" + end + "\n"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--targets", default=",".join(ALL_TARGETS),
                   help="comma-separated subset of " + ",".join(ALL_TARGETS))
    p.add_argument("--payloads", default="1,64", help="rows per request, comma-separated")
    p.add_argument("--concurrency", default=None,
                   help="keep-alive connections per cell, comma-separated (default 1,4,16,64; "
                   "quick 1,4,16)")
    p.add_argument("--moderate-connections", type=int, default=4,
                   help="the concurrency at which the 'p99 under 2 ms at moderate load' target "
                   "is judged")
    p.add_argument("--quick", action="store_true",
                   help="smoke run (~2-3 min): 2 s cells, 1 s warm-up, 3 concurrencies, "
                   "no waiting for a quiet machine")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds per timed cell (default 10, quick 2)")
    p.add_argument("--warmup", type=float, default=None,
                   help="seconds of untimed load before each cell (default 3, quick 1)")
    p.add_argument("--wrk-threads", type=int, default=1,
                   help="wrk threads (capped at the connection count); the same for every server")
    p.add_argument("--max-batch", type=int, default=64, help="plinth-batch: --max-batch")
    p.add_argument("--batch-timeout-us", type=int, default=200,
                   help="plinth-batch: --batch-timeout-us")
    p.add_argument("--seed", type=int, default=42, help="seed of the model's data and the rows")
    p.add_argument("--plinth-bin", default=os.path.join(ROOT, "build", "src", "plinth"))
    p.add_argument("--venv", default=os.path.join(ROOT, ".venv-peers"))
    p.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    p.add_argument("--port-min", type=int, default=5300)
    p.add_argument("--port-max", type=int, default=5399)
    p.add_argument("--tmpdir", default=None, help="parent of the model's temporary folder")
    p.add_argument("--request-timeout", type=float, default=10.0, help="wrk --timeout (s)")
    p.add_argument("--rss-interval", type=float, default=0.25)
    p.add_argument("--idle-seconds", type=float, default=2.0)
    p.add_argument("--wait-quiet", type=float, default=None,
                   help="before each server, wait up to this many seconds for an idle machine "
                   "(default 180, quick 0)")
    p.add_argument("--phase-wait-quiet", type=float, default=None,
                   help="before each cell, wait up to this many seconds for an idle machine "
                   "(default 20, quick 0)")
    p.add_argument("--noisy-retries", type=int, default=None,
                   help="re-measure a cell during which other processes used more than "
                   f"{NOISY_CORES} cores, at most this many times (default 1, quick 0)")
    p.add_argument("--quiet-cores", type=float, default=0.3,
                   help="'idle' = at most this many cores busy over 2 s")
    p.add_argument("--results-dir", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--docs", action="store_true",
                   help="also rewrite the serving section of docs/benchmarks.md")
    p.add_argument("--docs-path", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--report-only", metavar="RESULTS_JSON",
                   help="only re-render the report (and with --docs the docs section) from an "
                   "earlier results file")
    p.add_argument("--make-model", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--command-label", default=os.environ.get("BENCH_COMMAND"),
                   help="command shown in the report (run.sh sets it)")
    a = p.parse_args(argv)
    a.targets = [t.strip() for t in a.targets.split(",") if t.strip()]
    for t in a.targets:
        if t not in ALL_TARGETS:
            p.error(f"unknown target {t}")
    a.payloads = [int(x) for x in a.payloads.split(",") if x.strip()]
    if a.concurrency is None:
        a.concurrency = "1,4,16" if a.quick else "1,4,16,64"
    a.concurrency = [int(x) for x in a.concurrency.split(",") if x.strip()]
    if a.duration is None:
        a.duration = 2.0 if a.quick else 10.0
    if a.warmup is None:
        a.warmup = 1.0 if a.quick else 3.0
    if a.wait_quiet is None:
        a.wait_quiet = 0.0 if a.quick else 180.0
    if a.phase_wait_quiet is None:
        a.phase_wait_quiet = 0.0 if a.quick else 20.0
    if a.noisy_retries is None:
        a.noisy_retries = 0 if a.quick else 1
    a.tmpdir = a.tmpdir or tempfile.gettempdir()
    return a


def write_report(a, res: dict, stem: str):
    section = render_section(res)
    md_path = stem + ".md"
    with open(md_path, "w") as f:
        f.write(("# Benchmarks\n\n" + "\n".join(section)).replace(ROOT + "/", ""))
    print(f"report: {os.path.relpath(md_path, ROOT)}")
    if a.docs:
        write_docs(a.docs_path, section)
        print(f"wrote {os.path.relpath(a.docs_path, ROOT)} (serving section)")


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.make_model:
        make_model(a.make_model, a.seed, a.payloads)
        return 0
    if a.report_only:
        with open(a.report_only) as f:
            res = json.load(f)
        write_report(a, res, a.report_only[:-5] if a.report_only.endswith(".json")
                     else a.report_only)
        return 0
    t_start = time.monotonic()
    py = os.path.join(a.venv, "bin", "python")
    for exe, why in ((a.plinth_bin, "build it (make build) or pass --plinth-bin"),
                     (py, "run scripts/setup-peers.sh"), (a.wrk, "apt-get install wrk")):
        if not (os.access(exe, os.X_OK) or shutil.which(exe)):
            sys.exit(f"bench: {exe} missing: {why}")
    tmp = tempfile.mkdtemp(prefix="plinth-bench-serving-", dir=a.tmpdir)
    log = lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", flush=True)  # noqa: E731
    try:
        log(f"training and saving the model in {tmp}")
        r = subprocess.run([py, os.path.abspath(__file__), "--make-model", tmp, "--seed",
                            str(a.seed), "--payloads", ",".join(map(str, a.payloads))],
                           env=tb.peer_env(), capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            sys.exit(f"bench: making the model failed:\n{r.stderr[-3000:]}")
        with open(os.path.join(tmp, "manifest.json")) as f:
            manifest = json.load(f)
        log(f"  model: {manifest['trees']} trees, depth {manifest['max_depth']}, "
            f"{manifest['features']} features, trained in {manifest['train_seconds']}s")
        bench = Bench(a, manifest, tmp)
        res = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
               "command": a.command_label or " ".join(shlex.quote(x)
                                                      for x in [sys.executable] + sys.argv),
               "config": {k: v for k, v in vars(a).items()
                          if k in ("quick", "duration", "warmup", "concurrency", "payloads",
                                   "wrk_threads", "max_batch", "batch_timeout_us", "seed",
                                   "request_timeout", "rss_interval", "wait_quiet",
                                   "phase_wait_quiet", "noisy_retries", "quiet_cores",
                                   "moderate_connections", "targets")},
               "machine": tb.machine_info(a.tmpdir), "versions": versions(a, manifest),
               "model": {**{k: v for k, v in manifest.items() if k != "payloads"},
                         "payloads": {k: {kk: vv for kk, vv in p.items() if kk != "expected"}
                                      for k, p in manifest["payloads"].items()}},
               "targets": []}
        aborted = None
        for t in a.targets:
            port = tb.pick_port(a.port_min, a.port_max)
            try:
                res["targets"].append(bench.run_target(t, port))
            except MismatchError as e:
                aborted = str(e)
                log(f"ABORT: {e}")
                res["targets"].append({"target": t, "status": "failed", "error": aborted})
                break
        # pairwise check across every measured server, for the record
        res["check_max_abs_diff"] = max((t["check"]["max_abs_diff"] for t in res["targets"]
                                         if "check" in t), default=None)
        res["total_seconds"] = round(time.monotonic() - t_start, 1)
        os.makedirs(a.results_dir, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        stem = os.path.join(a.results_dir, f"serving-{stamp}{'-quick' if a.quick else ''}")
        with open(stem + ".json", "w") as f:
            json.dump(res, f, indent=1)
        log(f"results: {os.path.relpath(stem + '.json', ROOT)} "
            f"(total {res['total_seconds'] / 60:.1f} min)")
        if aborted:
            log("predictions differ: no report written to docs")
            return 2
        for v in verdicts(res):
            log(f"target {v['target']}: {verdict_word(v)} — {v['detail']}")
        write_report(a, res, stem)
        return 1 if any(t.get("status") == "failed" for t in res["targets"]) else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
