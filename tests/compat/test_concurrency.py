"""32 client processes log metrics at once; every acknowledged metric must be stored, exactly.

PLINTH_CONCURRENCY_SECONDS (default 60) sets how long they log; PLINTH_CONCURRENCY_PROCS
(default 32) how many processes. Processes share runs (4 per run) but each owns its metric keys,
so per-(run, key) counts are exact: acknowledged == stored, with zero client errors.
"""

import multiprocessing as mp
import os
import random
import time
import traceback

import pytest
from conftest import is_mlflow

DURATION = float(os.environ.get("PLINTH_CONCURRENCY_SECONDS", "60"))
PROCS = int(os.environ.get("PLINTH_CONCURRENCY_PROCS", "32"))
PROCS_PER_RUN = 4
KEYS_PER_PROC = 3


def _worker(idx, tracking_uri, run_id, ready_q, go, deadline, result_q):
    """One client process: alternates log_metric and log_batch until the shared deadline."""
    try:
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
        os.environ["DO_NOT_TRACK"] = "true"
        from mlflow import MlflowClient
        from mlflow.entities import Metric

        client = MlflowClient(tracking_uri)
        rng = random.Random(idx)
        keys = [f"w{idx:02d}_k{j}" for j in range(KEYS_PER_PROC)]
        next_step = dict.fromkeys(keys, 0)
        acked = dict.fromkeys(keys, 0)
        errors = []
        requests_done = 0
        ready_q.put(idx)
        go.wait(300)
        end = deadline.value
        while time.time() < end:
            ts = int(time.time() * 1000)
            try:
                if rng.random() < 0.5:
                    k = rng.choice(keys)
                    s = next_step[k]
                    next_step[k] += 1  # a failed write's step is never reused
                    client.log_metric(run_id, k, float(s), timestamp=ts, step=s)
                    acked[k] += 1
                else:
                    n = rng.randint(1, 200)
                    batch, counts = [], {}
                    for _ in range(n):
                        k = rng.choice(keys)
                        s = next_step[k]
                        next_step[k] += 1
                        batch.append(Metric(k, float(s), ts, s))
                        counts[k] = counts.get(k, 0) + 1
                    client.log_batch(run_id, metrics=batch)
                    for k, c in counts.items():
                        acked[k] += c
                requests_done += 1
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                errors.append(f"{type(e).__name__}: {str(e)[:300]}")
                if len(errors) > 20:
                    break
        result_q.put({"idx": idx, "run_id": run_id, "acked": acked, "next_step": next_step,
                      "errors": errors, "requests": requests_done})
    except Exception:  # noqa: BLE001
        result_q.put({"idx": idx, "run_id": run_id, "acked": {}, "next_step": {},
                      "errors": [traceback.format_exc()], "requests": 0})


@pytest.mark.slow
@pytest.mark.timeout(int(DURATION) + 900)
@pytest.mark.xfail(is_mlflow(), strict=False,
                   reason="mlflow server --workers 1 on SQLite answers part of 32 concurrent "
                          "clients with 400 BAD_REQUEST 'QueuePool limit of size 5 overflow 10 "
                          "reached' (see README)")
def test_concurrent_clients_lose_nothing(server, client, experiment_id):
    n_runs = max(1, PROCS // PROCS_PER_RUN)
    run_ids = [client.create_run(experiment_id, run_name=f"conc-{i}").info.run_id
               for i in range(n_runs)]
    # Separate client processes with no shared connection pools: a fork server that has imported
    # mlflow once forks each of them (spawning 32 fresh interpreters costs ~50 s on 2 cores).
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["mlflow", "mlflow.tracking", "mlflow.entities"])
    ready_q, result_q = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    deadline = ctx.Value("d", 0.0)
    procs = [
        ctx.Process(target=_worker, args=(i, server.url, run_ids[i % n_runs], ready_q, go,
                                          deadline, result_q), daemon=True)
        for i in range(PROCS)
    ]
    t_spawn = time.monotonic()
    for p in procs:
        p.start()
    for _ in range(PROCS):
        ready_q.get(timeout=300)
    spawn_s = time.monotonic() - t_spawn
    deadline.value = time.time() + DURATION
    t0 = time.monotonic()
    go.set()
    results = [result_q.get(timeout=DURATION + 600) for _ in range(PROCS)]
    elapsed = time.monotonic() - t0
    for p in procs:
        p.join(60)

    errors = [(r["idx"], e) for r in results for e in r["errors"]]
    total_acked = sum(sum(r["acked"].values()) for r in results)
    total_requests = sum(r["requests"] for r in results)
    print(f"\n[concurrency] {PROCS} procs x {DURATION:.0f}s (spawned in {spawn_s:.1f}s): "
          f"{total_requests} requests, {total_acked} metrics acknowledged "
          f"({total_acked / elapsed:.0f} metrics/s, {total_requests / elapsed:.0f} req/s), "
          f"{len(errors)} errors")
    assert not errors, errors[:10]
    assert total_acked > 0

    mismatches = []
    stored_total = 0
    for r in results:
        run = client.get_run(r["run_id"])
        for key, n_acked in r["acked"].items():
            hist = client.get_metric_history(r["run_id"], key)
            stored_total += len(hist)
            steps = sorted(m.step for m in hist)
            if len(hist) != n_acked or steps != list(range(n_acked)):
                mismatches.append((r["run_id"], key, n_acked, len(hist)))
            elif n_acked:
                assert run.data.metrics[key] == float(n_acked - 1)
    assert not mismatches, mismatches[:10]
    assert stored_total == total_acked
