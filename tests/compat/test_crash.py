"""Durability: `kill -9` the server mid-load; after a restart on the same database every
acknowledged write (metric, param, tag, through single calls and log_batch) is present.

Runs a separate server instance with its own database. Meant for plinth; against mlflow it runs
too (MLflow commits each request to SQLite before answering) unless PLINTH_COMPAT_SKIP_CRASH=1.
"""

import multiprocessing as mp
import os
import random
import time
import traceback

import pytest
from conftest import unique

CLIENTS = int(os.environ.get("PLINTH_CRASH_CLIENTS", "4"))
LOAD_SECONDS = float(os.environ.get("PLINTH_CRASH_LOAD_SECONDS", "6"))


def _crash_worker(idx, tracking_uri, run_id, ready_q, go, stop, result_q):
    """Logs until `stop`; records only writes the server acknowledged with 200."""
    try:
        # fail fast once the server is gone: no retries, short timeouts
        os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
        os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "10"
        os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
        from mlflow import MlflowClient
        from mlflow.entities import Metric, Param, RunTag

        client = MlflowClient(tracking_uri)
        rng = random.Random(1000 + idx)
        acked = {"metrics": [], "params": {}, "tags": {}}
        failures = 0
        n = 0
        ready_q.put(idx)
        go.wait(300)
        while not stop.is_set() and failures < 50:
            n += 1
            ts = int(time.time() * 1000)
            kind = rng.random()
            try:
                if kind < 0.3:
                    client.log_metric(run_id, f"c{idx}", float(n), timestamp=ts, step=n)
                    acked["metrics"].append((f"c{idx}", n))
                elif kind < 0.45:
                    client.log_param(run_id, f"c{idx}_p{n}", str(n))
                    acked["params"][f"c{idx}_p{n}"] = str(n)
                elif kind < 0.6:
                    client.set_tag(run_id, f"c{idx}_t{n}", str(n))
                    acked["tags"][f"c{idx}_t{n}"] = str(n)
                else:
                    ms = [Metric(f"c{idx}_b", float(n * 1000 + j), ts, n * 1000 + j)
                          for j in range(rng.randint(1, 300))]
                    ps = [Param(f"c{idx}_bp{n}_{j}", "v") for j in range(rng.randint(0, 5))]
                    ts_ = [RunTag(f"c{idx}_bt{n}_{j}", "v") for j in range(rng.randint(0, 5))]
                    client.log_batch(run_id, metrics=ms, params=ps, tags=ts_)
                    acked["metrics"] += [(m.key, m.step) for m in ms]
                    acked["params"].update({p.key: p.value for p in ps})
                    acked["tags"].update({t.key: t.value for t in ts_})
            except Exception:  # noqa: BLE001 - the server died under us: not acknowledged
                failures += 1
                time.sleep(0.05)
        result_q.put({"idx": idx, "run_id": run_id, "acked": acked, "error": None})
    except Exception:  # noqa: BLE001
        result_q.put({"idx": idx, "run_id": run_id, "acked": None,
                      "error": traceback.format_exc()})


@pytest.mark.slow
@pytest.mark.plinth_only
@pytest.mark.timeout(900)
@pytest.mark.skipif(os.environ.get("PLINTH_COMPAT_SKIP_CRASH") == "1",
                    reason="PLINTH_COMPAT_SKIP_CRASH=1")
def test_acknowledged_writes_survive_kill_9(server_factory):
    from mlflow import MlflowClient

    srv = server_factory("crash")
    srv.start()
    client = MlflowClient(srv.url)
    exp = client.create_experiment(unique("crash"))
    runs = [client.create_run(exp).info.run_id for _ in range(2)]
    client.log_param(runs[0], "before_crash", "yes")

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["mlflow", "mlflow.tracking", "mlflow.entities"])
    ready_q, result_q = ctx.Queue(), ctx.Queue()
    go, stop = ctx.Event(), ctx.Event()
    procs = [ctx.Process(target=_crash_worker,
                         args=(i, srv.url, runs[i % len(runs)], ready_q, go, stop, result_q),
                         daemon=True) for i in range(CLIENTS)]
    for p in procs:
        p.start()
    for _ in range(CLIENTS):
        ready_q.get(timeout=300)
    go.set()
    time.sleep(LOAD_SECONDS)
    srv.kill9()  # mid-load: requests are in flight right now
    time.sleep(0.5)
    stop.set()
    results = [result_q.get(timeout=120) for _ in range(CLIENTS)]
    for p in procs:
        p.join(30)
    errs = [r["error"] for r in results if r["error"]]
    assert not errs, errs

    srv.start(port=srv.port)  # same database, same artifacts, same port
    client = MlflowClient(srv.url)
    assert client.get_run(runs[0]).data.params["before_crash"] == "yes"
    n_metrics = n_params = n_tags = 0
    for r in results:
        rid, acked = r["run_id"], r["acked"]
        data = client.get_run(rid).data
        missing_p = {k: v for k, v in acked["params"].items() if data.params.get(k) != v}
        missing_t = {k: v for k, v in acked["tags"].items() if data.tags.get(k) != v}
        assert not missing_p, f"client {r['idx']}: acknowledged params lost: {list(missing_p)[:10]}"
        assert not missing_t, f"client {r['idx']}: acknowledged tags lost: {list(missing_t)[:10]}"
        by_key = {}
        for key, step in acked["metrics"]:
            by_key.setdefault(key, set()).add(step)
        for key, steps in by_key.items():
            stored = {m.step for m in client.get_metric_history(rid, key)}
            lost = steps - stored
            assert not lost, f"client {r['idx']}: {len(lost)} acknowledged {key} metrics lost"
        n_metrics += len(acked["metrics"])
        n_params += len(acked["params"])
        n_tags += len(acked["tags"])
    print(f"\n[crash] {CLIENTS} clients, killed after {LOAD_SECONDS}s: {n_metrics} metrics, "
          f"{n_params} params, {n_tags} tags acknowledged and all present after restart")
    assert n_metrics > 0 and n_params > 0 and n_tags > 0
    # the restarted server takes writes to the same runs
    client.log_metric(runs[0], "after_restart", 1.0)
    client.set_terminated(runs[0])
    assert client.get_run(runs[0]).data.metrics["after_restart"] == 1.0
