#!/usr/bin/env python3
"""Data benchmark: plinth's data engine vs Evidently, Great Expectations, whylogs and DVC.

One run on one machine, four comparisons on the same generated data (seeded numpy, written to a
temporary folder as CSV by pyarrow; in-process peers get the identical pandas DataFrames, built
again from the same seed in their own process):

1. Drift: `plinth data drift` (CLI, from the two CSV files, and from a stored reference built
   once by `plinth data reference` plus the current CSV) and `plinth.data.drift` (in process,
   from DataFrames) vs Evidently's `Report([DataDriftPreset()])` (from the same DataFrames), 1M
   rows x 100 mixed columns per side. Evidently's per-column choice of test and score must equal
   plinth's (same test, |difference| <= 1e-6) on every column, or the drift comparison aborts.
   Evidently also runs on a 10 % slice, to show how it scales.
2. Validation: a 20-expectation suite (plinth YAML and the same suite in GX 1.x) on the
   reference CSV: `plinth data validate` (the whole process) vs GX's pandas engine
   (`pd.read_csv` + the validation run; the context and suite set-up is timed separately and
   left out). Both must flag the same expectations as failing.
3. Profiling: `plinth data profile` (the whole process, from the CSV) vs whylogs `why.log(df)`
   (from the DataFrame in memory; pandas' read of the same file is reported beside it).
4. Hashing: `sha256sum` and `dvc add` (fresh git + DVC repo each time) on a ~2 GB file (the two
   CSV files concatenated). `plinth data add` (against a fresh `plinth server`) is measured
   when the binary has that command, else reported as pending.

Each measurement is a wall time, the CPU time of the process (tree), and the peak RSS; each tool
runs --repeats times (best and spread reported). Before each timed run the script waits (up to
--phase-wait-quiet s) for a quiet machine, and it records how many cores other processes used
during the run (⚠ above 0.25). The driver is standard library only; the workers (`--worker OP`)
run in .venv-data (scripts/setup-data-peers.sh).
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def _load_tracking():
    """bench/tracking/bench.py as a module (its /proc, formatting and docs helpers)."""
    spec = importlib.util.spec_from_file_location(
        "plinth_tracking_bench", os.path.join(ROOT, "bench", "tracking", "bench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tb = _load_tracking()
CLK_TCK = tb.CLK_TCK
NOISY_CORES = tb.NOISY_CORES
DOC_GROUP = "data"
DOC_HEADING = "Data engine: plinth data vs Evidently, Great Expectations, whylogs, DVC"
DOC_COMMAND = "bench/data/run.sh --docs"
MATCH_TOL = 1e-6  # Evidently's score vs plinth's, absolute (relative above 1)
N_COLS = 100

# ----------------------------------------------------------------------------------------------
# The data (worker side: numpy, pandas)
# ----------------------------------------------------------------------------------------------
# 100 columns: id, 40 float (f00-f39), 29 int (i00-i19 wide 0..1000, i20-i28 five values),
# 10 bool (b0-b9), 20 string categories (s00-s19, 5/10/20/50 labels). The current side drifts
# in about a quarter of the columns (shifted location, changed shares).

FLOAT_COLS = [f"f{j:02d}" for j in range(40)]
INT_COLS = [f"i{j:02d}" for j in range(29)]
BOOL_COLS = [f"b{j}" for j in range(10)]
STR_COLS = [f"s{j:02d}" for j in range(20)]
NUMERIC_COLS = ["id"] + FLOAT_COLS + INT_COLS
CATEGORICAL_COLS = BOOL_COLS + STR_COLS
STR_K = [5, 10, 20, 50]


def _labels(k: int) -> list[str]:
    return [f"c{k}_{i:03d}" for i in range(k)]


def drifted_by_design() -> list[str]:
    out = [f"f{j:02d}" for j in range(40) if j % 4 == 3]
    out += [f"i{j:02d}" for j in range(29) if j % 5 == 4]
    out += [f"b{j}" for j in range(10) if j % 3 == 2]
    out += [f"s{j:02d}" for j in range(20) if j % 4 == 1]
    return out


def make_frame(rows: int, seed: int, side: str):
    """The reference (side "ref") or current ("cur") DataFrame. Each column has its own
    generator, so a prefix of `rows` rows is the same data as a smaller `rows`."""
    import numpy as np
    import pandas as pd

    cur = side == "cur"
    s = 1 if cur else 0
    cols = {"id": np.arange(rows, dtype=np.int64)}
    for j, name in enumerate(FLOAT_COLS):
        g = np.random.default_rng([seed, s, 1, j])
        shift = cur and j % 4 == 3
        if j < 20:
            x = g.normal(0.25 if shift else 0.0, 1.0, rows)
        elif j < 30:
            x = g.lognormal(0.2 if shift else 0.0, 0.5, rows) * 100
        else:
            x = g.uniform(100 if shift else 0, 1000, rows)
        x = np.round(x, 11)
        if j < 2:  # 1 % missing
            x[g.random(rows) < 0.01] = np.nan
        cols[name] = x
    for j, name in enumerate(INT_COLS):
        g = np.random.default_rng([seed, s, 2, j])
        shift = cur and j % 5 == 4
        if j < 20:
            x = g.integers(0, 1001, rows)
            if shift:
                x = np.minimum(x + 100, 1000)
        else:
            p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
            x = g.choice(5, rows, p=p[::-1] if shift else p)
        cols[name] = x.astype(np.int64)
    for j, name in enumerate(BOOL_COLS):
        g = np.random.default_rng([seed, s, 3, j])
        cols[name] = g.random(rows) < (0.6 if cur and j % 3 == 2 else 0.5)
    for j, name in enumerate(STR_COLS):
        g = np.random.default_rng([seed, s, 4, j])
        k = STR_K[j % 4]
        w = 1.0 / np.arange(1, k + 1)
        if cur and j % 4 == 1:
            w = w[::-1]
        codes = g.choice(k, rows, p=w / w.sum())
        cols[name] = np.array(_labels(k), dtype=object)[codes]
    return pd.DataFrame(cols)


def suite_expectations(rows: int) -> list[tuple[str, dict]]:
    """The 20 expectations, in GX's names and arguments. On the reference data 5 fail by design
    (f00 has nulls, f03 is mostly outside [-1, 1], s01 has two labels outside the set, (s00, i01)
    repeats, f08 > f09 holds only half the time)."""
    return [
        ("expect_table_row_count_to_be_between",
         {"min_value": int(rows * 0.9), "max_value": int(rows * 1.1)}),
        ("expect_table_column_count_to_equal", {"value": N_COLS}),
        ("expect_column_values_to_not_be_null", {"column": "id"}),
        ("expect_column_values_to_not_be_null", {"column": "f00"}),
        ("expect_column_values_to_be_unique", {"column": "id"}),
        ("expect_column_values_to_be_between", {"column": "f02", "min_value": -10, "max_value": 10}),
        ("expect_column_values_to_be_between",
         {"column": "f03", "min_value": -1, "max_value": 1, "mostly": 0.9}),
        ("expect_column_values_to_be_between", {"column": "i00", "min_value": 0, "max_value": 1000}),
        ("expect_column_values_to_be_in_set", {"column": "s00", "value_set": _labels(5)}),
        ("expect_column_values_to_be_in_set", {"column": "s01", "value_set": _labels(10)[:8]}),
        ("expect_column_values_to_not_be_in_set", {"column": "s02", "value_set": ["unknown", "n/a"]}),
        ("expect_column_values_to_match_regex", {"column": "s03", "regex": "^c[0-9]+_[0-9]{3}$"}),
        ("expect_column_value_lengths_to_be_between", {"column": "s04", "min_value": 6, "max_value": 7}),
        ("expect_compound_columns_to_be_unique", {"column_list": ["s00", "i01"]}),
        ("expect_column_mean_to_be_between", {"column": "f04", "min_value": -0.05, "max_value": 0.05}),
        ("expect_column_median_to_be_between", {"column": "f05", "min_value": -0.05, "max_value": 0.05}),
        ("expect_column_stdev_to_be_between", {"column": "f06", "min_value": 0.95, "max_value": 1.05}),
        ("expect_column_quantile_values_to_be_between",
         {"column": "f07", "quantile_ranges": {"quantiles": [0.05, 0.5, 0.95],
                                               "value_ranges": [[-1.75, -1.55], [-0.05, 0.05],
                                                                [1.55, 1.75]]}}),
        ("expect_column_pair_values_A_to_be_greater_than_B", {"column_A": "f08", "column_B": "f09"}),
        ("expect_column_unique_value_count_to_be_between",
         {"column": "s05", "min_value": 10, "max_value": 10}),
    ]


def expectation_key(etype: str, kw: dict) -> str:
    col = kw.get("column") or kw.get("column_list") or [kw.get("column_A"), kw.get("column_B")]
    if etype.startswith("expect_table"):
        col = ""
    return f"{etype.lower()}:{json.dumps(col)}"


def suite_yaml(rows: int) -> str:
    """The plinth suite (YAML; JSON is YAML, so each entry is written as JSON)."""
    lines = ["name: bench-data", "expectations:"]
    for etype, kw in suite_expectations(rows):
        lines.append(f"  - {etype}: {json.dumps(kw)}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Measuring (both sides)
# ----------------------------------------------------------------------------------------------

def log(msg: str):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_quiet(limit: float, quiet_cores: float, what: str, window: float = 2.0) -> dict:
    """Waits (at most `limit` s) for a window in which the machine is nearly idle (other
    engineers' builds share these 2 cores)."""
    t = time.monotonic()
    busy = float("nan")
    while True:
        m0 = tb.machine_cpu_ticks()
        time.sleep(window)
        m1 = tb.machine_cpu_ticks()
        busy = (m1[0] - m0[0]) / CLK_TCK / window
        if busy <= quiet_cores or time.monotonic() - t >= limit:
            break
    waited = time.monotonic() - t
    quiet = busy <= quiet_cores
    if waited > window + 0.5 or not quiet:
        log(f"    machine busy {busy:.2f} cores before {what} (waited {waited:.0f}s"
            f"{'' if quiet else ', gave up'})")
    return {"cores_busy_before": round(busy, 2), "waited_s": round(waited, 1), "quiet": quiet}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Resets this process's VmHWM (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def timed_in_process(fn, quiet_limit: float, quiet_cores: float, what: str):
    """(result, record) of one call of fn in this process: wall, CPU (all threads), peak RSS
    (VmHWM after a reset) and RSS before, the CPU other processes used meanwhile."""
    quiet = wait_quiet(quiet_limit, quiet_cores, what) if quiet_limit > 0 else None
    reset_peak_rss()
    rss0 = _status_kb("VmRSS:")
    m0 = tb.machine_cpu_ticks()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    m1 = tb.machine_cpu_ticks()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    machine = (m1[0] - m0[0]) / CLK_TCK
    rec = {"wall_s": round(wall, 4), "cpu_s": round(cpu, 3),
           "peak_rss_mb": round(_status_kb("VmHWM:") / 1024, 1),
           "rss_before_mb": round(rss0 / 1024, 1),
           "other_cores": round(max(0.0, machine - cpu) / max(wall, 1e-9), 2), "quiet": quiet}
    return out, rec


def run_cmd(cmd, quiet_limit: float, quiet_cores: float, what: str, cwd=None, env=None,
            timeout: float = 3600, stdout=None) -> dict:
    """One run of a command: wall, CPU of its process tree (wait4: the child and the
    descendants it waited for), peak RSS (largest process of the tree), others' cores."""
    quiet = wait_quiet(quiet_limit, quiet_cores, what) if quiet_limit > 0 else None
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = tempfile.TemporaryFile()
    m0 = tb.machine_cpu_ticks()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err,
                         stdin=subprocess.DEVNULL)
    timed_out = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > timeout:
            p.kill()
            timed_out = True
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    m1 = tb.machine_cpu_ticks()
    p.returncode = os.waitstatus_to_exitcode(status)
    if stdout:
        out.close()
    err.seek(0)
    stderr = err.read().decode(errors="replace")
    err.close()
    cpu = ru.ru_utime + ru.ru_stime
    machine = (m1[0] - m0[0]) / CLK_TCK
    return {"wall_s": round(wall, 4), "cpu_s": round(cpu, 3),
            "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),
            "other_cores": round(max(0.0, machine - cpu) / max(wall, 1e-9), 2),
            "exit": p.returncode, "timed_out": timed_out, "quiet": quiet,
            "stderr_tail": stderr[-1500:] if p.returncode else ""}


# ----------------------------------------------------------------------------------------------
# Workers (run by the .venv-data Python: bench.py --worker OP --spec JSON)
# ----------------------------------------------------------------------------------------------

def worker_gen(spec: dict) -> dict:
    """Writes ref.csv and cur.csv (and the suite) into spec["dir"]."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    out = {"files": {}}
    for side in ("ref", "cur"):
        t0 = time.monotonic()
        df = make_frame(spec["rows"], spec["seed"], side)
        gen_s = time.monotonic() - t0
        path = os.path.join(spec["dir"], f"{side}.csv")
        t0 = time.monotonic()
        table = pa.Table.from_pandas(df, preserve_index=False)
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
        out["files"][side] = {"path": path, "bytes": os.path.getsize(path),
                              "generate_s": round(gen_s, 1),
                              "write_s": round(time.monotonic() - t0, 1)}
        del df, table
    with open(os.path.join(spec["dir"], "suite.yaml"), "w") as f:
        f.write(suite_yaml(spec["rows"]))
    return out


def _frames(spec: dict):
    ref = make_frame(spec["rows"], spec["seed"], "ref")
    cur = make_frame(spec["rows"], spec["seed"], "cur")
    return ref, cur


def _plinth_scores(rep: dict) -> dict:
    return {c: {"test": v["test"], "score": v["score"], "drifted": v["drifted"]}
            for c, v in rep["columns"].items()}


def compare_scores(ev: dict, pl: dict) -> dict:
    """Evidently's per-column (method, score) vs plinth's (test, score)."""
    mism, max_diff, methods = [], 0.0, {}
    for col, e in ev.items():
        p = pl.get(col)
        if p is None:
            mism.append(f"{col}: missing in plinth")
            continue
        methods[e["method"]] = methods.get(e["method"], 0) + 1
        if p["test"] != e["method"]:
            mism.append(f"{col}: test {p['test']} vs Evidently {e['method']}")
            continue
        a, b = p["score"], e["score"]
        if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
            if a != b:
                mism.append(f"{col}: score {a} vs Evidently {b}")
            continue
        d = abs(a - b) / max(1.0, abs(b))
        max_diff = max(max_diff, d)
        if d > MATCH_TOL:
            mism.append(f"{col}: score {a!r} vs Evidently {b!r}")
        if p["drifted"] != e["drifted"]:
            mism.append(f"{col}: drifted {p['drifted']} vs Evidently {e['drifted']}")
    extra = sorted(set(pl) - set(ev))
    mism += [f"{c}: not in Evidently's report" for c in extra]
    return {"columns_compared": len(ev), "max_rel_diff": max_diff, "mismatches": mism,
            "tests": methods, "ok": not mism}


def worker_evidently(spec: dict) -> dict:
    """Evidently's DataDriftPreset on the DataFrames (optionally a prefix of the rows), repeats
    times; then plinth.data.drift on the same frames for the per-column check."""
    import warnings
    warnings.filterwarnings("ignore")
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = _frames(spec)
    dd = DataDefinition(numerical_columns=NUMERIC_COLS, categorical_columns=CATEGORICAL_COLS)

    def run():
        snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=dd),
                                               Dataset.from_pandas(ref, data_definition=dd))
        return snap.dict()

    runs, result = [], None
    for i in range(spec["repeats"]):
        result, rec = timed_in_process(run, spec["quiet_limit"], spec["quiet_cores"],
                                       f"evidently run {i + 1}")
        runs.append(rec)
        log(f"    evidently {spec['rows']} rows: {rec['wall_s']:.1f}s wall, {rec['cpu_s']:.1f}s CPU")
        if spec.get("partial_out"):  # kept if a later run is stopped at the cap
            with open(spec["partial_out"], "w") as f:
                json.dump({"runs": runs, "partial": True}, f)
        if rec["wall_s"] > spec.get("single_run_over", 1e18):
            break  # one run already took very long: the second would not fit the run's budget
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
    names = {t.display_name: name for name, by_type in _registered_stat_tests.items()
             for t in by_type.values()}  # the snapshot names the test by its display name
    metrics = result["metrics"]
    ev = {}
    for m in metrics[1:]:
        v = m["value"]
        ev[m["config"]["column"]] = {"method": names.get(m["config"]["method"],
                                                         m["config"]["method"]),
                                     "threshold": m["config"]["threshold"],
                                     "score": float(v) if v is not None else None}
    for col, e in ev.items():
        m, t, s = e["method"], e["threshold"], e["score"]
        p_test = m in ("ks", "chisquare", "z", "anderson", "cramer_von_mises", "mannw")
        e["drifted"] = (s <= t if m in ("ks", "cramer_von_mises") else s < t) if p_test else \
            (s > t if m == "ed" else s >= t)
    out = {"runs": runs, "version": evidently.__version__,
           "drifted_count": metrics[0]["value"]["count"],
           "drifted_share": metrics[0]["value"]["share"], "columns": ev}
    if spec.get("check"):
        import plinth.data
        pl = _plinth_scores(plinth.data.drift(ref, cur))
        out["check"] = compare_scores(ev, pl)
    return out


def worker_sdk_drift(spec: dict) -> dict:
    import plinth.data

    ref, cur = _frames(spec)
    runs, rep = [], None
    for i in range(spec["repeats"]):
        rep, rec = timed_in_process(lambda: plinth.data.drift(ref, cur), spec["quiet_limit"],
                                    spec["quiet_cores"], f"plinth.data.drift run {i + 1}")
        runs.append(rec)
        log(f"    plinth.data.drift: {rec['wall_s']:.2f}s wall, {rec['cpu_s']:.2f}s CPU")
    return {"runs": runs, "scores": _plinth_scores(rep),
            "number_of_drifted_columns": rep["number_of_drifted_columns"],
            "dataset_drift": rep["dataset_drift"]}


def worker_gx(spec: dict) -> dict:
    import warnings
    warnings.filterwarnings("ignore")
    import logging
    logging.disable(logging.WARNING)
    import pandas as pd
    import great_expectations as gx
    import great_expectations.expectations as gxe

    def camel(name: str) -> str:
        return "".join(p[:1].upper() + p[1:] for p in name.split("_"))

    t0 = time.monotonic()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(
        globally=False)
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset(name="csv")
    batch_def = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name="bench-data"))
    for etype, kw in suite_expectations(spec["rows"]):
        suite.add_expectation(getattr(gxe, camel(etype))(**kw))
    setup_s = time.monotonic() - t0

    phases = {}

    def run():
        t = time.perf_counter()
        df = pd.read_csv(spec["csv"])
        phases["read_csv_s"] = time.perf_counter() - t
        t = time.perf_counter()
        # Batch.validate: the validation without the result store (ValidationDefinition.run
        # fails storing results that carry numpy 2 bools in GX 1.24).
        res = batch_def.get_batch(batch_parameters={"dataframe": df}).validate(suite)
        phases["validate_s"] = time.perf_counter() - t
        return res

    runs, res = [], None
    for i in range(spec["repeats"]):
        res, rec = timed_in_process(run, spec["quiet_limit"], spec["quiet_cores"],
                                    f"GX run {i + 1}")
        rec.update({k: round(v, 3) for k, v in phases.items()})
        runs.append(rec)
        log(f"    GX: {rec['wall_s']:.1f}s wall (read_csv {rec['read_csv_s']:.1f}s, "
            f"validate {rec['validate_s']:.1f}s), {rec['cpu_s']:.1f}s CPU")
    outcome = {}
    for r in res.results:
        cfg = r.expectation_config
        kw = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        outcome[expectation_key(cfg.type, kw)] = bool(r.success)
    return {"runs": runs, "setup_s": round(setup_s, 2), "version": gx.__version__,
            "pandas": pd.__version__, "success": bool(res.success), "outcome": outcome}


def worker_whylogs(spec: dict) -> dict:
    import warnings
    warnings.filterwarnings("ignore")
    os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
    import whylogs as why

    ref = make_frame(spec["rows"], spec["seed"], "ref")
    runs, view = [], None
    for i in range(spec["repeats"]):
        view, rec = timed_in_process(lambda: why.log(ref).profile().view(), spec["quiet_limit"],
                                     spec["quiet_cores"], f"whylogs run {i + 1}")
        runs.append(rec)
        log(f"    whylogs: {rec['wall_s']:.1f}s wall, {rec['cpu_s']:.1f}s CPU")
    return {"runs": runs, "version": why.__version__,
            "metrics_per_column": {c: sorted(view.get_column(c).get_metric_names())
                                   for c in ("f02", "i00", "b0", "s00")},
            "columns": len(view.get_columns())}


WORKERS = {"gen": worker_gen, "evidently": worker_evidently, "sdk-drift": worker_sdk_drift,
           "gx": worker_gx, "whylogs": worker_whylogs}


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, a, tmp: str):
        self.a, self.tmp = a, tmp
        self.py = os.path.join(a.venv, "bin", "python")
        self.env = tb.peer_env()
        self.env["PYTHONPATH"] = a.python_path + (os.pathsep + self.env["PYTHONPATH"]
                                                  if self.env.get("PYTHONPATH") else "")
        self.env["WHYLOGS_NO_ANALYTICS"] = "True"

    def spec(self, **kw) -> dict:
        return {"rows": self.a.rows, "seed": self.a.seed, "repeats": self.a.repeats,
                "quiet_limit": self.a.phase_wait_quiet, "quiet_cores": self.a.quiet_cores,
                "dir": self.tmp, **kw}

    def worker(self, op: str, spec: dict, timeout: float) -> dict:
        """Runs a worker in .venv-data; its JSON answer, or {"error": ...}."""
        out = os.path.join(self.tmp, f"worker-{op}.json")
        cmd = [self.py, os.path.abspath(__file__), "--worker", op, "--spec", json.dumps(spec),
               "--worker-out", out]
        t0 = time.monotonic()
        try:
            r = subprocess.run(cmd, env=self.env, stdout=sys.stdout, stderr=subprocess.PIPE,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            res = {"error": f"timed out after {timeout:.0f}s", "timed_out": True,
                   "process_s": round(time.monotonic() - t0, 1)}
            if spec.get("partial_out") and os.path.exists(spec["partial_out"]):
                with open(spec["partial_out"]) as f:
                    res.update(json.load(f))  # the runs that finished before the cap
            return res
        if r.returncode != 0:
            return {"error": r.stderr.decode(errors="replace")[-3000:]}
        with open(out) as f:
            res = json.load(f)
        res["process_s"] = round(time.monotonic() - t0, 1)
        return res

    def cli(self, args: list[str], what: str, out_path: str | None = None,
            cwd: str | None = None, exe: str | None = None, ok_exits=(0,),
            repeats: int | None = None) -> list[dict]:
        runs = []
        for i in range(repeats or self.a.repeats):
            rec = run_cmd([exe or self.a.plinth_bin] + args, self.a.phase_wait_quiet,
                          self.a.quiet_cores, f"{what} run {i + 1}", cwd=cwd, env=self.env,
                          stdout=out_path)
            if rec["exit"] not in ok_exits:
                raise RuntimeError(f"{what} exited {rec['exit']}: {rec['stderr_tail']}")
            runs.append(rec)
            log(f"    {what}: {rec['wall_s']:.2f}s wall, {rec['cpu_s']:.2f}s CPU, "
                f"{rec['peak_rss_mb']:.0f} MB")
        return runs

    def plinth_data_add(self, path: str, i: int) -> dict:
        """`plinth data add FILE --format other` against a fresh `plinth server` (SQLite and
        artifacts in a scratch folder): wall time of the client; CPU of client + server (the
        server's from /proc before and after); peak RSS of either."""
        a = self.a
        d = tempfile.mkdtemp(prefix="plinth-server-", dir=self.tmp)
        port = tb.pick_port(5400, 5499)
        log_f = open(os.path.join(d, "server.log"), "wb")
        srv = subprocess.Popen(
            [a.plinth_bin, "server", "--backend-store-uri", f"sqlite:///{d}/plinth.db",
             "--artifacts-destination", os.path.join(d, "artifacts"), "--host", "127.0.0.1",
             "--port", str(port)], cwd=d, env=self.env, stdout=log_f, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            t = time.monotonic()
            while time.monotonic() - t < 60:
                if srv.poll() is not None:
                    return {"error": f"plinth server exited {srv.returncode}"}
                try:
                    import urllib.request
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                    break
                except Exception:  # noqa: BLE001
                    time.sleep(0.2)
            s0 = tb.cpu_snapshot(srv.pid)
            rec = run_cmd([a.plinth_bin, "data", "add", path, "--name", f"bench{i}",
                           "--format", "other", "--tracking-uri", f"http://127.0.0.1:{port}"],
                          a.phase_wait_quiet, a.quiet_cores, f"plinth data add run {i + 1}",
                          cwd=d, env=self.env)
            s1 = tb.cpu_snapshot(srv.pid)
            server_cpu = tb.cpu_delta_seconds(s0, s1)
            server_hwm = tb.status_kb(srv.pid, b"VmHWM:") / 1024
            if rec["exit"] != 0:
                return {"error": rec["stderr_tail"]}
            rec["client_cpu_s"] = rec["cpu_s"]
            rec["server_cpu_s"] = round(server_cpu, 3)
            rec["cpu_s"] = round(rec["cpu_s"] + server_cpu, 3)
            rec["client_peak_rss_mb"] = rec["peak_rss_mb"]
            rec["server_peak_rss_mb"] = round(server_hwm, 1)
            rec["peak_rss_mb"] = max(rec["peak_rss_mb"], round(server_hwm, 1))
            # the server's CPU is the tool's own, not another process's
            rec["other_cores"] = round(max(0.0, rec["other_cores"] - server_cpu
                                           / max(rec["wall_s"], 1e-9)), 2)
            stored = sum(os.path.getsize(os.path.join(r, f))
                         for r, _, fs in os.walk(os.path.join(d, "artifacts")) for f in fs)
            rec["stored_bytes"] = stored
            return rec
        finally:
            os.killpg(srv.pid, 15)
            try:
                srv.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(srv.pid, 9)
                srv.wait()
            log_f.close()
            shutil.rmtree(d, ignore_errors=True)

    # ------------------------------------------------------------------------------------------
    def drift(self, files: dict) -> dict:
        a = self.a
        out = {}
        slice_rows = max(1000, a.rows // 10)
        log(f"drift: Evidently on a {slice_rows}-row prefix, and the per-column check")
        ev_small = self.worker("evidently", self.spec(rows=slice_rows, check=True,
                                                      repeats=a.slice_repeats),
                               a.evidently_cap)
        out["evidently_slice"] = ev_small
        if "error" in ev_small:
            log(f"  Evidently on the slice failed: {ev_small['error'][-500:]}")
        elif not ev_small["check"]["ok"]:
            log("ABORT drift comparison: Evidently and plinth differ: "
                + "; ".join(ev_small["check"]["mismatches"][:10]))
            out["aborted"] = "slice check: " + "; ".join(ev_small["check"]["mismatches"][:10])
            return out
        else:
            c = ev_small["check"]
            log(f"  check on {c['columns_compared']} columns: same tests {c['tests']}, "
                f"max relative score difference {c['max_rel_diff']:.2e}")
        log(f"drift: plinth data drift (CLI) on {a.rows} x {N_COLS}, twice the CSV files")
        rep_path = os.path.join(self.tmp, "drift.json")
        out["plinth_cli"] = {"runs": self.cli(
            ["data", "drift", "--reference", files["ref"]["path"], "--current",
             files["cur"]["path"], "--format", "json", "-o", rep_path], "plinth data drift")}
        with open(rep_path) as f:
            cli_rep = json.load(f)
        out["plinth_cli"]["number_of_drifted_columns"] = cli_rep["number_of_drifted_columns"]
        out["plinth_cli"]["dataset_drift"] = cli_rep["dataset_drift"]
        cli_scores = _plinth_scores(cli_rep)
        # A stored reference (what monitoring keeps): built once, then each report parses
        # only the current file. Its report must be the CLI's.
        pdr = os.path.join(self.tmp, "ref.pdr")
        log("drift: plinth data reference (once), then plinth data drift --reference ref.pdr")
        out["plinth_reference_build"] = {"runs": self.cli(
            ["data", "reference", files["ref"]["path"], "-o", pdr], "plinth data reference",
            repeats=1)}
        out["plinth_reference_build"]["bytes"] = os.path.getsize(pdr)
        ref_rep_path = os.path.join(self.tmp, "drift-stored.json")
        out["plinth_stored"] = {"runs": self.cli(
            ["data", "drift", "--reference", pdr, "--current", files["cur"]["path"],
             "--format", "json", "-o", ref_rep_path], "plinth data drift --reference ref.pdr")}
        with open(ref_rep_path) as f:
            stored_scores = _plinth_scores(json.load(f))
        out["plinth_stored"]["same_as_csv"] = stored_scores == cli_scores
        if stored_scores != cli_scores:
            log("  note: the stored-reference report differs from the CSV one")
        log("drift: plinth.data.drift (in process, DataFrames)")
        sdk = self.worker("sdk-drift", self.spec(), 1800)
        out["plinth_sdk"] = sdk
        if "error" not in sdk:
            diff = [c for c in cli_scores if cli_scores[c] != sdk["scores"].get(c)]
            out["cli_vs_sdk_differences"] = diff
            if diff:
                log(f"  note: CLI and SDK reports differ on {diff[:5]}")
            sdk.pop("scores", None)
        log(f"drift: Evidently DataDriftPreset on {a.rows} x {N_COLS} (cap {a.evidently_cap:.0f}s)")
        # The first run gets the cap (plus the frames' generation); a second run happens only
        # when the first took at most --evidently-single-run-over seconds.
        ev = self.worker("evidently", self.spec(
            check=False, single_run_over=a.evidently_single_run_over,
            partial_out=os.path.join(self.tmp, "evidently-partial.json")),
            a.evidently_cap + a.evidently_single_run_over + 180)
        out["evidently"] = ev
        if "error" not in ev:
            chk = compare_scores(ev["columns"], cli_scores)
            out["check_full"] = chk
            if not chk["ok"]:
                log("ABORT drift comparison: Evidently and plinth differ on the full data: "
                    + "; ".join(chk["mismatches"][:10]))
                out["aborted"] = "full check: " + "; ".join(chk["mismatches"][:10])
            else:
                log(f"  full check on {chk['columns_compared']} columns: same tests "
                    f"{chk['tests']}, max relative score difference {chk['max_rel_diff']:.2e}")
            ev.pop("columns", None)
        else:
            log(f"  Evidently: {ev['error'][-300:]}")
        if "columns" in ev_small:
            ev_small.pop("columns")
        return out

    def validation(self, files: dict) -> dict:
        a = self.a
        suite = os.path.join(self.tmp, "suite.yaml")
        out = {"csv_bytes": files["ref"]["bytes"], "expectations": len(suite_expectations(a.rows))}
        log(f"validation: plinth data validate ({out['expectations']} expectations, "
            f"{files['ref']['bytes'] / 1e9:.2f} GB)")
        rep_path = os.path.join(self.tmp, "validate.json")
        out["plinth_cli"] = {"runs": self.cli(
            ["data", "validate", files["ref"]["path"], "--suite", suite, "--format", "json",
             "-o", rep_path], "plinth data validate", ok_exits=(0, 1))}
        with open(rep_path) as f:
            rep = json.load(f)
        pl = {}
        for r in rep["results"]:
            cfg = r["expectation_config"]
            pl[expectation_key(cfg["expectation_type"], cfg["kwargs"])] = bool(r["success"])
        out["plinth_cli"]["outcome"] = pl
        log("validation: Great Expectations (pandas engine: read_csv + validation run)")
        gxr = self.worker("gx", self.spec(csv=files["ref"]["path"]), a.gx_cap)
        out["gx"] = gxr
        if "error" not in gxr:
            keys = sorted(set(pl) | set(gxr["outcome"]))
            diff = [k for k in keys if pl.get(k) != gxr["outcome"].get(k)]
            out["same_failures"] = not diff
            out["failing_plinth"] = sorted(k for k, v in pl.items() if not v)
            out["failing_gx"] = sorted(k for k, v in gxr["outcome"].items() if not v)
            out["differences"] = diff
            log(f"  failing: plinth {len(out['failing_plinth'])}, GX {len(out['failing_gx'])}; "
                f"{'same expectations' if not diff else 'DIFFERENT: ' + '; '.join(diff)}")
        else:
            log(f"  GX: {gxr['error'][-500:]}")
        return out

    def profiling(self, files: dict) -> dict:
        log("profiling: plinth data profile")
        prof = os.path.join(self.tmp, "profile.json")
        out = {"plinth_cli": {"runs": self.cli(["data", "profile", files["ref"]["path"],
                                                "-o", prof], "plinth data profile")}}
        out["plinth_cli"]["profile_bytes"] = os.path.getsize(prof)
        log("profiling: whylogs why.log(df)")
        out["whylogs"] = self.worker("whylogs", self.spec(), self.a.whylogs_cap)
        if "error" in out["whylogs"]:
            log(f"  whylogs: {out['whylogs']['error'][-500:]}")
        return out

    def hashing(self, files: dict) -> dict:
        a = self.a
        big = os.path.join(self.tmp, "big.bin")
        with open(big, "wb") as w:
            for side in ("ref", "cur"):
                with open(files[side]["path"], "rb") as r:
                    shutil.copyfileobj(r, w, 8 << 20)
            # pad to hash_bytes with the reference file's first bytes
            while w.tell() < a.hash_bytes:
                with open(files["ref"]["path"], "rb") as r:
                    while w.tell() < a.hash_bytes:
                        chunk = r.read(min(8 << 20, int(a.hash_bytes) - w.tell()))
                        if not chunk:
                            break
                        w.write(chunk)
        size = os.path.getsize(big)
        out = {"bytes": size}
        log(f"hashing: {size / 1e9:.2f} GB file (page cache warm)")
        subprocess.run(["cat", big], stdout=subprocess.DEVNULL, check=True)
        out["sha256sum"] = {"runs": self.cli([big], "sha256sum", exe="sha256sum")}
        out["md5sum"] = {"runs": self.cli([big], "md5sum", exe="md5sum")}
        help_text = subprocess.run([a.plinth_bin, "data", "--help"], capture_output=True,
                                   text=True).stdout
        out["plinth_has_data_add"] = bool(re.search(r"^\s+add\s", help_text, re.M))
        if out["plinth_has_data_add"]:
            log("hashing: plinth data add (a fresh plinth server per run)")
            runs = []
            for i in range(a.repeats):
                rec = self.plinth_data_add(big, i)
                if rec.get("error"):
                    out["plinth_error"] = rec["error"]
                    log(f"  plinth data add failed: {rec['error'][-300:]}")
                    break
                runs.append(rec)
                log(f"    plinth data add: {rec['wall_s']:.2f}s wall, {rec['cpu_s']:.2f}s CPU "
                    f"(client {rec['client_cpu_s']:.2f}s, server {rec['server_cpu_s']:.2f}s)")
            if runs:
                out["plinth_data_add"] = {"runs": runs}
        else:
            log("hashing: the plinth binary has no `data add` yet: its part is pending")
        dvc = os.path.join(a.venv, "bin", "dvc")
        runs = []
        for i in range(a.repeats):
            repo = tempfile.mkdtemp(prefix="dvc-repo-", dir=self.tmp)
            subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
            subprocess.run([dvc, "init", "-q"], cwd=repo, check=True, env=self.env)
            subprocess.run([dvc, "config", "core.analytics", "false"], cwd=repo, check=True,
                           env=self.env)
            os.link(big, os.path.join(repo, "big.bin"))
            rec = run_cmd([dvc, "add", "-q", "big.bin"], a.phase_wait_quiet, a.quiet_cores,
                          f"dvc add run {i + 1}", cwd=repo, env=self.env)
            if rec["exit"] != 0:
                raise RuntimeError(f"dvc add failed: {rec['stderr_tail']}")
            with open(os.path.join(repo, "big.bin.dvc")) as f:
                rec["dvc_file"] = f.read()[:300]
            shutil.rmtree(repo, ignore_errors=True)
            runs.append(rec)
            log(f"    dvc add: {rec['wall_s']:.2f}s wall, {rec['cpu_s']:.2f}s CPU")
        out["dvc_add"] = {"runs": runs}
        os.remove(big)
        return out


def versions(a) -> dict:
    sh = tb.sh
    py = os.path.join(a.venv, "bin", "python")
    v = {"plinth_git": sh(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT),
         "plinth_git_dirty": bool(sh(["git", "status", "--porcelain", "--", "src"], cwd=ROOT)),
         "plinth": (sh([a.plinth_bin, "--version"]) or "(no --version)").replace("plinth ", "")}
    try:
        v["plinth_built"] = dt.datetime.fromtimestamp(os.path.getmtime(a.plinth_bin)) \
            .astimezone().strftime("%Y-%m-%d %H:%M %Z")
    except OSError:
        pass
    code = ("import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in "
            "['evidently','great_expectations','whylogs','dvc','pandas','numpy','scipy',"
            "'pyarrow']}))")
    try:
        v.update(json.loads(sh([py, "-c", code])))
    except ValueError:
        pass
    v["sha256sum"] = (sh(["sha256sum", "--version"]).splitlines() or ["?"])[0]
    return v


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------

def best(runs):
    return min(runs, key=lambda r: r["wall_s"]) if runs else None


def spread(runs) -> str:
    if not runs:
        return "—"
    w = sorted(r["wall_s"] for r in runs)
    return f"{w[0]:.2f}–{w[-1]:.2f}" if len(w) > 1 else f"{w[0]:.2f} (1 run)"


def noisy(runs) -> bool:
    return any((r.get("other_cores") or 0) > NOISY_CORES for r in runs or [])


def _s(v) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _mb(v) -> str:
    return "—" if v is None else f"{v:,.0f} MB"


def row(title: str, shape: str, runs, ref_wall=None, note: str = "") -> str:
    b = best(runs)
    if not b:
        return f"| {title} | {shape} | — | — | — | — | — | {note} |"
    flag = " ⚠" if noisy(runs) else ""
    rat = "×1" if ref_wall is None else tb.ratio(b["wall_s"], ref_wall) if ref_wall else "—"
    others = max(r.get("other_cores") or 0 for r in runs)
    return (f"| {title} | {shape} | **{_s(b['wall_s'])}**{flag} | {spread(runs)} | "
            f"{_s(b['cpu_s'])} | {_mb(b['peak_rss_mb'])} | {rat} | "
            f"{others:.2f}{(' · ' + note) if note else ''} |")


def header(vs: str = "plinth") -> list[str]:
    return ["| tool | data | wall s (best) | wall s (all runs) | CPU s | peak RSS | "
            f"time vs {vs} | others' cores · notes |",
            "|---|---|---:|---|---:|---:|---:|---|"]


HEADER = header()


def verdicts(res: dict) -> list[dict]:
    out = []
    d = res.get("drift", {})
    cli = best(d.get("plinth_cli", {}).get("runs"))
    sdk = best((d.get("plinth_sdk") or {}).get("runs"))
    stored = best((d.get("plinth_stored") or {}).get("runs"))
    ev = d.get("evidently") or {}
    evb = best(ev.get("runs"))
    cap = res["config"]["evidently_cap"]
    if cli and sdk:
        # Like for like: Evidently reports on two DataFrames already in memory; so does
        # plinth.data.drift. The CLI also parses the two CSV files (1.9 GB), which Evidently's
        # time leaves out; its figures are given beside.
        if d.get("aborted"):
            out.append({"target": "drift ≥ 50× Evidently", "met": False,
                        "detail": "comparison aborted: " + d["aborted"][:200]})
        elif evb:
            r_sdk = evb["wall_s"] / sdk["wall_s"]
            out.append({"target": "drift ≥ 50× Evidently", "met": r_sdk >= 50,
                        "detail": f"same input (two DataFrames): Evidently {evb['wall_s']:.1f} s "
                                  f"vs plinth.data.drift {sdk['wall_s']:.2f} s (×{r_sdk:.0f}; "
                                  f"CPU ×{evb['cpu_s'] / sdk['cpu_s']:.0f}); from files, "
                                  f"plinth data drift {cli['wall_s']:.2f} s (×"
                                  f"{evb['wall_s'] / cli['wall_s']:.0f}) on the two CSV files"
                                  + (f", {stored['wall_s']:.2f} s (×"
                                     f"{evb['wall_s'] / stored['wall_s']:.0f}) on a stored "
                                     "reference and the current CSV" if stored else "")})
        elif ev.get("timed_out"):
            out.append({"target": "drift ≥ 50× Evidently",
                        "met": cap / sdk["wall_s"] >= 50,
                        "detail": f"Evidently did not finish within the {cap:.0f} s cap: "
                                  f"> ×{cap / sdk['wall_s']:.0f}"})
        out.append({"target": "drift under 3 s", "met": sdk["wall_s"] < 3,
                    "detail": f"plinth.data.drift {sdk['wall_s']:.2f} s from the DataFrames "
                              "(Evidently's input)"
                              + (f"; plinth data drift {stored['wall_s']:.2f} s from a stored "
                                 "reference and the current CSV (0.95 GB parsed)" if stored else "")
                              + f"; {cli['wall_s']:.2f} s from the two CSV files (1.9 GB parsed: "
                                "not under 3 s)"})
    elif cli:
        if d.get("aborted"):
            out.append({"target": "drift ≥ 50× Evidently", "met": False,
                        "detail": "comparison aborted: " + d["aborted"][:200]})
        elif evb:
            r_cli = evb["wall_s"] / cli["wall_s"]
            r_sdk = evb["wall_s"] / sdk["wall_s"] if sdk else None
            out.append({"target": "drift ≥ 50× Evidently", "met": r_cli >= 50,
                        "detail": f"wall time: Evidently {evb['wall_s']:.1f} s vs plinth CLI "
                                  f"{cli['wall_s']:.2f} s (×{r_cli:.0f})"
                                  + (f", in process {sdk['wall_s']:.2f} s (×{r_sdk:.0f})"
                                     if r_sdk else "")
                                  + f"; CPU time: Evidently {evb['cpu_s']:.1f} s vs plinth CLI "
                                    f"{cli['cpu_s']:.2f} s (×{evb['cpu_s'] / cli['cpu_s']:.0f})"
                                  + (f", in process {sdk['cpu_s']:.2f} s "
                                     f"(×{evb['cpu_s'] / sdk['cpu_s']:.0f})" if sdk else "")})
        elif ev.get("timed_out"):
            out.append({"target": "drift ≥ 50× Evidently",
                        "met": cap / cli["wall_s"] >= 50,
                        "detail": f"Evidently did not finish within the {cap:.0f} s cap: "
                                  f"> ×{cap / cli['wall_s']:.0f}"})
        ncpu = res["machine"].get("nproc") or 1
        floor = cli["cpu_s"] / ncpu
        out.append({"target": "drift under 3 s", "met": cli["wall_s"] < 3,
                    "detail": f"plinth data drift {cli['wall_s']:.2f} s wall from the two CSV "
                              f"files" + (f", plinth.data.drift {sdk['wall_s']:.2f} s from "
                                          "DataFrames" if sdk else "")
                              + (f"; its {cli['cpu_s']:.1f} s of CPU keep it above "
                                 f"{floor:.1f} s even on an idle {ncpu}-core machine"
                                 if floor >= 3 else "")})
    v = res.get("validation", {})
    pv = best(v.get("plinth_cli", {}).get("runs"))
    gv = best((v.get("gx") or {}).get("runs"))
    if pv and gv:
        r = gv["wall_s"] / pv["wall_s"]
        out.append({"target": "validation ≥ 20× Great Expectations", "met": r >= 20,
                    "detail": f"GX {gv['wall_s']:.1f} s (read_csv {gv['read_csv_s']:.1f} s + "
                              f"validation {gv['validate_s']:.1f} s) vs plinth "
                              f"{pv['wall_s']:.2f} s (×{r:.0f}); CPU time: GX "
                              f"{gv['cpu_s']:.1f} s vs plinth {pv['cpu_s']:.2f} s "
                              f"(×{gv['cpu_s'] / pv['cpu_s']:.0f}); same failing expectations: "
                              f"{'yes' if v.get('same_failures') else 'NO'}"})
    p = res.get("profiling", {})
    pp, wl = best(p.get("plinth_cli", {}).get("runs")), best((p.get("whylogs") or {}).get("runs"))
    if pp and wl:
        out.append({"target": "profiling (no target)", "met": None,
                    "detail": f"plinth data profile {pp['wall_s']:.1f} s from the CSV vs whylogs "
                              f"{wl['wall_s']:.1f} s from a DataFrame already in memory "
                              f"(×{wl['wall_s'] / pp['wall_s']:.1f} wall, "
                              f"×{wl['cpu_s'] / pp['cpu_s']:.1f} CPU)"})
    h = res.get("hashing", {})
    if h.get("sha256sum"):
        dv, sh = best(h["dvc_add"]["runs"]), best(h["sha256sum"]["runs"])
        pa = best((h.get("plinth_data_add") or {}).get("runs"))
        out.append({"target": "hashing (no target)", "met": None,
                    "detail": (f"plinth data add {pa['wall_s']:.1f} s vs dvc add "
                               f"{dv['wall_s']:.1f} s on {h['bytes'] / 1e9:.2f} GB ("
                               + (f"plinth ×{dv['wall_s'] / pa['wall_s']:.1f} faster"
                                  if dv["wall_s"] >= pa["wall_s"] else
                                  f"dvc add ×{pa['wall_s'] / dv['wall_s']:.1f} faster")
                               + f"; CPU {pa['cpu_s']:.1f} s vs {dv['cpu_s']:.1f} s; "
                               f"sha256sum alone {sh['wall_s']:.1f} s)" if pa
                               else f"plinth's part pending (no `plinth data add` yet); dvc add "
                                    f"{dv['wall_s']:.1f} s, sha256sum {sh['wall_s']:.1f} s on "
                                    f"{h['bytes'] / 1e9:.2f} GB")})
    return out


def render_section(res: dict) -> list[str]:
    cfg, mach, ver = res["config"], res["machine"], res["versions"]
    rows, L = cfg["rows"], []
    w = L.append
    shape = f"{rows:,} × {N_COLS}"
    w(f"## {DOC_HEADING}")
    w("")
    w(f"_Measured on {res['date']} with `{res['command']}`; total {res['total_seconds'] / 60:.0f} "
      "min._")
    w("")
    if cfg.get("quick"):
        w("> **Quick (smoke) run** on 100,000 rows: indicative only.")
        w("")
    allruns = [r for sect in ("drift", "validation", "profiling", "hashing")
               for tool in (res.get(sect) or {}).values() if isinstance(tool, dict)
               for r in tool.get("runs", [])]
    bad = [r for r in allruns if (r.get("other_cores") or 0) > NOISY_CORES]
    if bad:
        w(f"> ⚠ **Shared machine**: during {len(bad)} of {len(allruns)} timed runs other processes "
          f"used more than {NOISY_CORES} cores (up to {max(r['other_cores'] for r in bad):.2f} of "
          f"{mach['nproc']}; other engineers build C++ here). Those rows are marked ⚠: their wall "
          "times are overstated, CPU times less so. Every tool ran under the same conditions "
          "(best of its runs).")
        w("")
    w("### The issue's targets")
    w("")
    for v in verdicts(res):
        verdict = "" if v["met"] is None else (": met" if v["met"] else ": NOT met")
        w(f"- **{v['target']}{verdict}.** {v['detail']}.")
    w("")

    # --- drift
    d = res.get("drift", {})
    w("### Drift report")
    w("")
    w(f"Reference and current: {shape} each (1 id, 40 float, 29 int, 10 bool, 20 string "
      f"columns; {len(drifted_by_design())} columns drift by design), "
      f"{res['files']['ref']['bytes'] / 1e6:,.0f} MB + {res['files']['cur']['bytes'] / 1e6:,.0f} "
      "MB of CSV. Evidently gets the same DataFrames the SDK gets, with the column kinds plinth "
      "infers (id, float and int numerical; bool and string categorical) as its DataDefinition.")
    w("")
    chk = d.get("check_full") or (d.get("evidently_slice") or {}).get("check")
    if d.get("aborted"):
        w(f"> **Comparison aborted**: {d['aborted']}")
        w("")
    elif chk:
        where = "all" if d.get("check_full") else "the slice's"
        w(f"Same tests, same numbers: on {where} {chk['columns_compared']} columns Evidently "
          f"chose the test plinth chose ({', '.join(f'{k} ×{n}' for k, n in chk['tests'].items())}) "
          f"and its drift score differs from plinth's by at most {chk['max_rel_diff']:.1e} "
          f"(relative; limit {MATCH_TOL:g}); drift decisions agree on every column.")
        w("")
    cli = best(d.get("plinth_cli", {}).get("runs"))
    cw = cli["wall_s"] if cli else None
    L += HEADER
    w(row("`plinth data drift` (CLI, CSV → JSON)", shape, d.get("plinth_cli", {}).get("runs")))
    st = d.get("plinth_stored") or {}
    if st.get("runs"):
        rb = d.get("plinth_reference_build") or {}
        w(row("`plinth data drift --reference ref.pdr` (stored reference + current CSV)", shape,
              st["runs"], cw, (f"same report as from the CSV files: "
                               f"{'yes' if st.get('same_as_csv') else 'NO'}; ref.pdr "
                               f"{rb.get('bytes', 0) / 1e6:,.0f} MB, built once by `plinth data "
                               f"reference` in {best(rb.get('runs'))['wall_s']:.1f} s"
                               if rb.get("runs") else "")))
    sdk = d.get("plinth_sdk") or {}
    w(row("`plinth.data.drift` (in process, DataFrames)", shape, sdk.get("runs"), cw,
          "RSS includes the two DataFrames" if sdk.get("runs") else sdk.get("error", "")[:80]))
    ev = d.get("evidently") or {}
    if ev.get("runs"):
        w(row("Evidently `DataDriftPreset` (DataFrames)", shape, ev["runs"], cw,
              "RSS includes the two DataFrames"))
    else:
        w(f"| Evidently `DataDriftPreset` | {shape} | "
          f"{'> ' + str(int(cfg['evidently_cap'])) + ' (cap)' if ev.get('timed_out') else 'failed'}"
          " | — | — | — | — | |")
    evs = d.get("evidently_slice") or {}
    srows = max(1000, rows // 10)
    if evs.get("runs"):
        w(row("Evidently `DataDriftPreset` (DataFrames)", f"{srows:,} × {N_COLS}", evs["runs"],
              0, "10 % prefix of the same rows"))
    w("")
    if ev.get("runs") and evs.get("runs"):
        f = best(ev["runs"])["wall_s"] / best(evs["runs"])["wall_s"]
        w(f"Evidently's time grows ×{f:.1f} from {srows:,} to {rows:,} rows (×10 the data).")
        w("")

    # --- validation
    v = res.get("validation", {})
    if v:
        w("### Validation suite")
        w("")
        w(f"{v['expectations']} expectations (row and column counts, not-null, unique, between "
          "with and without `mostly`, in/not in set, regex, value lengths, compound unique, mean, "
          "median, stdev, quantiles, column pair A > B, unique value count) on the reference CSV "
          f"({v['csv_bytes'] / 1e9:.2f} GB, {shape}). The same suite is plinth YAML and a GX "
          "ExpectationSuite; GX runs on its pandas engine with its default result format "
          "(SUMMARY). GX's time is `pd.read_csv` + `Batch.validate(suite)` (GX 1.24's "
          "`ValidationDefinition.run` fails storing results that hold numpy 2 bools; "
          "`Batch.validate` runs the same validation without the result store); the ephemeral "
          f"context and suite set-up ({(v.get('gx') or {}).get('setup_s', '—')} s) is left "
          "out. plinth's time is the whole `plinth data validate` process.")
        w("")
        if "same_failures" in v:
            fp = [k.split(":")[0] + " " + k.split(":", 1)[1] for k in v["failing_plinth"]]
            w(f"Failing expectations: {'the same' if v['same_failures'] else '**different**'} — "
              f"plinth {len(v['failing_plinth'])}, GX {len(v['failing_gx'])} "
              f"({'; '.join(x.replace(chr(34), '') for x in fp)})."
              + ("" if v["same_failures"] else f" Differences: {v['differences']}."))
            w("")
        pvr = v.get("plinth_cli", {}).get("runs")
        pw = best(pvr)["wall_s"] if pvr else None
        L += HEADER
        w(row("`plinth data validate` (CLI)", shape, pvr))
        g = v.get("gx") or {}
        if g.get("runs"):
            b = best(g["runs"])
            w(row("Great Expectations (read_csv + run)", shape, g["runs"], pw,
                  f"read_csv {b['read_csv_s']:.1f} s + run {b['validate_s']:.1f} s"))
        else:
            w(f"| Great Expectations | {shape} | failed | — | — | — | — | "
              f"{g.get('error', '')[:80]} |")
        w("")

    # --- profiling
    p = res.get("profiling", {})
    if p:
        w("### Profiling")
        w("")
        wl = p.get("whylogs") or {}
        w("- **plinth** (`plinth data profile`, from the CSV): per column count, nulls, distinct "
          "(HyperLogLog), min/max/mean/std, quantiles (KLL, k = 200), histogram, top-k "
          "(Misra–Gries, 64 counters); one mergeable JSON of "
          f"{p['plinth_cli'].get('profile_bytes', 0) / 1e3:,.0f} kB.")
        mpc = wl.get("metrics_per_column")
        per = "; ".join(f"{c}: {', '.join(m)}" for c, m in mpc.items()) \
            if isinstance(mpc, dict) else "—"
        w("- **whylogs** (`why.log(df).profile().view()`, from the DataFrame in memory): its "
          f"default metrics per column ({per}): counts with nulls/NaN, inferred types, a KLL "
          "distribution with mean/stddev and quantiles, HLL cardinality, frequent items for "
          "strings and ints, int min/max. The CSV read is not in its time: "
          "pandas' `read_csv` of the same file took "
          + (f"{best(v['gx']['runs'])['read_csv_s']:.1f} s (GX's run above)."
             if v and (v.get("gx") or {}).get("runs") else "— s."))
        w("")
        prr = p["plinth_cli"]["runs"]
        L += HEADER
        w(row("`plinth data profile` (CLI, from CSV)", shape, prr))
        if wl.get("runs"):
            w(row("whylogs `why.log(df)` (DataFrame in memory)", shape, wl["runs"],
                  best(prr)["wall_s"], "RSS includes the DataFrame"))
        else:
            w(f"| whylogs | {shape} | failed | — | — | — | — | {wl.get('error', '')[:80]} |")
        w("")

    # --- hashing
    h = res.get("hashing", {})
    if h:
        gb = h["bytes"] / 1e9
        w("### Hashing a dataset version")
        w("")
        if h.get("measured"):  # merged from a later run of this section alone
            w(f"_This part was measured separately on {h['measured']['date']} "
              f"(`{h['measured']['command']}`, plinth built {h['measured']['plinth_built']}), "
              "once the binary had `plinth data add`; the same data and method._")
            w("")
        w(f"One {gb:.2f} GB file (the two CSV files concatenated, padded with the reference), "
          "in the page cache. `dvc add` runs in a fresh `git init` + `dvc init` repository each "
          "time (the file hard-linked in), so it hashes (MD5) and copies the file into its "
          "cache.")
        w("")
        if h.get("plinth_data_add"):
            ref_runs, title = h["plinth_data_add"]["runs"], "`plinth data add --format other`"
            b = best(ref_runs)
            w(f"plinth: `plinth data add FILE --format other` (hash with SHA-256 and store the "
              "bytes once by content; no CSV profile) against a fresh `plinth server` (SQLite, "
              "local artifacts in the same scratch folder) per run; CPU = client + server "
              f"(best run: client {b['client_cpu_s']:.2f} s, server {b['server_cpu_s']:.2f} s), "
              f"peak RSS = the larger of the two (client {b['client_peak_rss_mb']:.0f} MB, "
              f"server {b['server_peak_rss_mb']:.0f} MB).")
            w("")
        else:
            ref_runs, title = None, None
            w("**plinth: pending.** The `plinth` binary measured has no `data add` (nor another "
              "command that exposes its SHA-256 hasher), so there is nothing of plinth's to time "
              "yet; `sha256sum` (coreutils) stands for the speed a single-stream SHA-256 reaches "
              "on this CPU, which is what a plinth hasher must match.")
            w("")
        L += header("plinth" if ref_runs else "sha256sum")
        rw = best(ref_runs)["wall_s"] if ref_runs else best(h["sha256sum"]["runs"])["wall_s"]
        if ref_runs:
            w(row(title, f"{gb:.2f} GB", ref_runs))
        sha = h["sha256sum"]["runs"]
        w(row("`sha256sum`", f"{gb:.2f} GB", sha, rw if ref_runs else None,
              f"{h['bytes'] / best(sha)['wall_s'] / 1e6:,.0f} MB/s"))
        md5 = h["md5sum"]["runs"]
        w(row("`md5sum`", f"{gb:.2f} GB", md5, rw,
              f"{h['bytes'] / best(md5)['wall_s'] / 1e6:,.0f} MB/s"))
        w(row("`dvc add`", f"{gb:.2f} GB", h["dvc_add"]["runs"], rw,
              "MD5 + copy into .dvc/cache"))
        w("")
        if not ref_runs:
            w("(Without a plinth row, ratios in this table are against `sha256sum`.)")
            w("")

    # --- method
    w("### Method")
    w("")
    w(f"- Data: seeded numpy (seed {cfg['seed']}), written as CSV by pyarrow (shortest "
      "round-trip floats, rounded to 11 decimals, 1 % empty cells in f00/f01) into a temporary "
      "folder; the Python tools rebuild the identical DataFrames from the seed in their own "
      "process (untimed).")
    w(f"- Each tool runs {cfg['repeats']} times (Evidently on the full data runs once when that "
      f"run takes over {cfg['evidently_single_run_over']:.0f} s, to fit the run's budget; on the "
      f"10 % prefix {cfg.get('slice_repeats', cfg['repeats'])} time(s)); the table "
      "shows the best wall time, all wall times, and the CPU time and peak RSS of the best run. "
      "Command-line tools: wall time around the process, CPU = user + system of the process "
      "tree (`wait4`), peak RSS = its largest process. In-process tools: wall and CPU "
      "(`getrusage`, all threads) around the call, peak RSS = the process's high-water mark, "
      "reset before the call (so it includes the DataFrames already in memory).")
    w(f"- Before each timed run the script waits up to {cfg['phase_wait_quiet']:.0f} s for "
      f"≤ {cfg['quiet_cores']} busy cores; \"others' cores\" is the most CPU other processes "
      "used during any run of that tool (from `/proc/stat` minus the tool's own CPU).")
    ev_budget = cfg["evidently_cap"] + cfg["evidently_single_run_over"] + 180
    w(f"- Caps: Evidently's process on the full data gets {ev_budget:.0f} s (building the "
      "frames, its first run and, when that took at most "
      f"{cfg['evidently_single_run_over']:.0f} s, a second run); GX's process "
      f"{cfg['gx_cap']:.0f} s, whylogs' {cfg['whylogs_cap']:.0f} s.")
    w("")
    w(f"Machine: {mach['nproc']} cores ({mach['cpu_model']}), {mach['mem_gb']} GB RAM, Linux "
      f"{mach['kernel']}, Python {mach['python']}. Versions: plinth {ver.get('plinth')} "
      f"(git {ver.get('plinth_git')}{', src modified' if ver.get('plinth_git_dirty') else ''}, "
      f"built {ver.get('plinth_built', '?')}), Evidently {ver.get('evidently')}, Great "
      f"Expectations {ver.get('great_expectations')}, whylogs {ver.get('whylogs')}, DVC "
      f"{ver.get('dvc')}, pandas {ver.get('pandas')}, numpy {ver.get('numpy')}, scipy "
      f"{ver.get('scipy')}, pyarrow {ver.get('pyarrow')}; {ver.get('sha256sum')}.")
    w("")
    w(f"Reproduce: `{DOC_COMMAND}` (raw results under `bench/results/`; "
      "`bench/data/run.sh --quick` for a smoke run on 100,000 rows).")
    return L


def write_docs(path: str, section: list[str]):
    """Replaces the data section of docs/benchmarks.md (between its markers), or appends it
    (with an index entry) when the file has none; the other sections stay as they are."""
    begin, end = f"<!-- bench:{DOC_GROUP}:begin -->", f"<!-- bench:{DOC_GROUP}:end -->"
    block = "\n".join(section).strip("\n").replace(ROOT + "/", "")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        text = f"{tb.DOC_TITLE}\n\n{tb.DOC_INTRO}\n"
    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i + len(begin)] + "\n\n" + block + "\n\n" + text[j:]
    else:
        entry = f"- [{DOC_HEADING}](#{tb._anchor(DOC_HEADING)}) — `{DOC_COMMAND}`"
        lines = text.rstrip("\n").split("\n")
        idx = [k for k, ln in enumerate(lines) if ln.startswith("- [") and "](#" in ln]
        if idx and entry not in lines:
            lines.insert(idx[-1] + 1, entry)
        text = "\n".join(lines) + "\n\n" + begin + "\n\n" + block + "\n\n" + end + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_report(a, res: dict, stem: str):
    section = render_section(res)
    md_path = stem + ".md"
    with open(md_path, "w") as f:
        f.write(("# Benchmarks\n\n" + "\n".join(section)).replace(ROOT + "/", ""))
    print(f"report: {os.path.relpath(md_path, ROOT)}")
    if a.docs:
        write_docs(a.docs_path, section)
        print(f"wrote {os.path.relpath(a.docs_path, ROOT)} (data section)")


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: 100,000 rows")
    p.add_argument("--rows", type=int, default=None, help="rows per side (default 1,000,000)")
    p.add_argument("--repeats", type=int, default=2, help="timed runs per tool")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--sections", default="drift,validation,profiling,hashing")
    p.add_argument("--hash-bytes", type=float, default=None,
                   help="size of the hashed file (default 2e9; quick 2e8)")
    p.add_argument("--evidently-cap", type=float, default=900.0,
                   help="seconds one Evidently process may take per run on the full data")
    p.add_argument("--evidently-single-run-over", type=float, default=300.0,
                   help="skip Evidently's further runs on the full data when one took longer")
    p.add_argument("--slice-repeats", type=int, default=1,
                   help="Evidently's runs on the 10 %% prefix (the per-column check and scaling)")
    p.add_argument("--gx-cap", type=float, default=1500.0, help="seconds for the GX process")
    p.add_argument("--whylogs-cap", type=float, default=1200.0)
    p.add_argument("--wait-quiet", type=float, default=None,
                   help="seconds to wait for a quiet machine before starting (default 60, quick 0)")
    p.add_argument("--phase-wait-quiet", type=float, default=None,
                   help="seconds to wait for a quiet machine before each timed run "
                   "(default 10, quick 0)")
    p.add_argument("--quiet-cores", type=float, default=0.3)
    p.add_argument("--plinth-bin", default=os.path.join(ROOT, "build", "src", "plinth"))
    p.add_argument("--python-path", default=os.path.join(ROOT, "build", "python"),
                   help="where the plinth Python package (with _native) is built")
    p.add_argument("--venv", default=os.path.join(ROOT, ".venv-data"))
    p.add_argument("--tmpdir", default=None)
    p.add_argument("--results-dir", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--docs", action="store_true",
                   help="rewrite the data section of docs/benchmarks.md")
    p.add_argument("--docs-path", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--report-only", metavar="RESULTS_JSON")
    p.add_argument("--command-label", default=os.environ.get("BENCH_COMMAND"))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.rows is None:
        a.rows = 100_000 if a.quick else 1_000_000
    if a.hash_bytes is None:
        a.hash_bytes = 2e8 if a.quick else 2e9
    if a.wait_quiet is None:
        a.wait_quiet = 0.0 if a.quick else 60.0
    if a.phase_wait_quiet is None:
        a.phase_wait_quiet = 0.0 if a.quick else 10.0
    a.sections = [s for s in a.sections.split(",") if s]
    a.tmpdir = a.tmpdir or tempfile.gettempdir()
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.worker:
        res = WORKERS[a.worker](json.loads(a.spec))
        with open(a.worker_out, "w") as f:
            json.dump(res, f)
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
                     (py, "run scripts/setup-data-peers.sh")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench: {exe} missing: {why}")
    if not os.path.isdir(os.path.join(a.python_path, "plinth")):
        sys.exit(f"bench: no plinth Python package in {a.python_path}: build it (make build)")
    tmp = tempfile.mkdtemp(prefix="plinth-bench-data-", dir=a.tmpdir)
    try:
        ver = versions(a)
        # Measure copies: other engineers may rebuild build/ while this runs.
        os.makedirs(os.path.join(tmp, "bin"))
        a.plinth_bin = shutil.copy2(a.plinth_bin, os.path.join(tmp, "bin", "plinth"))
        shutil.copytree(os.path.join(a.python_path, "plinth"),
                        os.path.join(tmp, "python", "plinth"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        a.python_path = os.path.join(tmp, "python")
        bench = Bench(a, tmp)
        res = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
               "command": a.command_label or " ".join(shlex.quote(x)
                                                      for x in [sys.executable] + sys.argv),
               "config": {k: v for k, v in vars(a).items()
                          if k in ("quick", "rows", "repeats", "seed", "sections", "hash_bytes",
                                   "evidently_cap", "evidently_single_run_over", "gx_cap",
                                   "whylogs_cap", "wait_quiet", "phase_wait_quiet",
                                   "quiet_cores", "slice_repeats")},
               "machine": tb.machine_info(a.tmpdir), "versions": ver}
        if a.wait_quiet > 0:
            res["quiet_at_start"] = wait_quiet(a.wait_quiet, a.quiet_cores, "start")
        log(f"generating {a.rows:,} x {N_COLS} reference and current CSV in {tmp}")
        gen = bench.worker("gen", bench.spec(), 1800)
        if "error" in gen:
            sys.exit(f"bench: generating the data failed:\n{gen['error']}")
        files = res["files"] = gen["files"]
        for side, f in files.items():
            log(f"  {side}.csv: {f['bytes'] / 1e6:,.0f} MB (generated {f['generate_s']}s, "
                f"written {f['write_s']}s)")
        for sect in ("drift", "validation", "profiling", "hashing"):
            if sect in a.sections:
                try:
                    res[sect] = getattr(bench, sect)(files)
                except Exception as e:  # noqa: BLE001 — a failed section is reported
                    log(f"{sect} failed: {e}")
                    res[sect + "_error"] = str(e)[-2000:]
        res["total_seconds"] = round(time.monotonic() - t_start, 1)
        os.makedirs(a.results_dir, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        stem = os.path.join(a.results_dir, f"data-{stamp}{'-quick' if a.quick else ''}")
        with open(stem + ".json", "w") as f:
            json.dump(res, f, indent=1)
        log(f"results: {os.path.relpath(stem + '.json', ROOT)} "
            f"(total {res['total_seconds'] / 60:.1f} min)")
        for v in verdicts(res):
            log(f"target {v['target']}: {'—' if v['met'] is None else 'met' if v['met'] else 'NOT met'}"
            f" — {v['detail']}")
        write_report(a, res, stem)
        return 2 if (res.get("drift") or {}).get("aborted") else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
