"""Metrics: steps, timestamps, NaN/±inf, the latest-value rule, history paging, log_batch limits."""

import math
import sys
import time

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

# MLflow's SQL store keeps ±inf clamped to ±DBL_MAX (and NaN as is_nan): this is what a client reads
# back from the reference server with a SQLite backend. A drop-in server must return the same.
DBL_MAX = sys.float_info.max


def history(client, run_id, key):
    return [(m.value, m.step, m.timestamp) for m in client.get_metric_history(run_id, key)]


def test_log_metric_steps_and_timestamps(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_metric("loss", 0.9, step=0, timestamp=1_000)
        mlflow.log_metric("loss", 0.5, step=1, timestamp=2_000)
        mlflow.log_metric("loss", 0.25, step=2, timestamp=3_000)
        mlflow.log_metric("acc", 0.1)  # default step 0, timestamp now
        mlflow.log_metrics({"a": 1, "b": -2.5e-300}, step=4)
    rid = run.info.run_id
    assert history(client, rid, "loss") == [(0.9, 0, 1000), (0.5, 1, 2000), (0.25, 2, 3000)]
    (acc,) = client.get_metric_history(rid, "acc")
    assert acc.step == 0 and abs(acc.timestamp - time.time() * 1000) < 60_000
    data = client.get_run(rid).data
    assert data.metrics == {"loss": 0.25, "acc": 0.1, "a": 1.0, "b": -2.5e-300}
    assert history(client, rid, "a")[0][1] == 4
    assert client.get_metric_history(rid, "never-logged") == []


def test_nan_and_infinities(client, api, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_metric("nan", float("nan"), step=0, timestamp=10)
        mlflow.log_metric("pinf", float("inf"), step=0, timestamp=10)
        mlflow.log_metric("ninf", float("-inf"), step=0, timestamp=10)
        mlflow.log_metrics({"bnan": float("nan"), "binf": float("inf")}, step=3)
        mlflow.log_metric("mixed", 1.0, step=0, timestamp=1)
        mlflow.log_metric("mixed", float("nan"), step=1, timestamp=2)
        mlflow.log_metric("mixed", float("-inf"), step=2, timestamp=3)
    rid = run.info.run_id
    m = client.get_run(rid).data.metrics
    assert math.isnan(m["nan"]) and math.isnan(m["bnan"])
    assert m["pinf"] == DBL_MAX and m["binf"] == DBL_MAX
    assert m["ninf"] == -DBL_MAX
    assert m["mixed"] == -DBL_MAX  # latest = highest step
    (h,) = history(client, rid, "nan")
    assert math.isnan(h[0]) and h[1:] == (0, 10)
    assert history(client, rid, "pinf") == [(DBL_MAX, 0, 10)]
    assert history(client, rid, "ninf") == [(-DBL_MAX, 0, 10)]
    mixed = history(client, rid, "mixed")
    assert mixed[0] == (1.0, 0, 1) and math.isnan(mixed[1][0]) and mixed[2] == (-DBL_MAX, 2, 3)
    # on the wire, NaN is the JSON string "NaN" (proto JSON); finite values are numbers
    r = api.get("/api/2.0/mlflow/metrics/get-history", run_id=rid, metric_key="nan")
    assert r.json()["metrics"][0]["value"] == "NaN"


def test_nan_and_inf_accepted_as_proto_json_strings(client, api, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    for key, value in (("s_nan", "NaN"), ("s_inf", "Infinity"), ("s_ninf", "-Infinity")):
        r = api.post("/api/2.0/mlflow/runs/log-metric",
                     {"run_id": rid, "key": key, "value": value, "timestamp": 5, "step": 0})
        assert r.status_code == 200, r.text
    m = client.get_run(rid).data.metrics
    assert math.isnan(m["s_nan"]) and m["s_inf"] == DBL_MAX and m["s_ninf"] == -DBL_MAX


def test_latest_metric_is_max_step_then_timestamp_then_value(client, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    client.log_metric(rid, "m", 1.5, timestamp=5, step=2)
    client.log_metric(rid, "m", 7.5, timestamp=10, step=1)  # newer timestamp but lower step
    client.log_metric(rid, "m", 3.5, timestamp=4, step=2)
    client.log_metric(rid, "m", 2.5, timestamp=5, step=2)  # ties on (step, ts): higher value wins
    assert client.get_run(rid).data.metrics["m"] == 2.5
    # history comes back ordered by (timestamp, step, value)
    assert history(client, rid, "m") == [(3.5, 2, 4), (1.5, 2, 5), (2.5, 2, 5), (7.5, 1, 10)]


def test_negative_and_large_steps(client, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    client.log_metric(rid, "s", 1.0, timestamp=1, step=-5)
    client.log_metric(rid, "s", 2.0, timestamp=2, step=2**53)
    assert history(client, rid, "s") == [(1.0, -5, 1), (2.0, 2**53, 2)]
    assert client.get_run(rid).data.metrics["s"] == 2.0


def test_duplicate_metric_rows_are_deduplicated(client, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    for _ in range(3):
        client.log_metric(rid, "d", 1.0, timestamp=7, step=1)
    client.log_batch(rid, metrics=[Metric("d", 1.0, 7, 1), Metric("d", 2.0, 7, 1)])
    assert history(client, rid, "d") == [(1.0, 1, 7), (2.0, 1, 7)]


def test_metric_history_paging_over_25000_points(client, api, experiment_id):
    """The client pages get-history at 25000 per request; 26,500 points need two pages."""
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    n = 26_500
    base_ts = 1_700_000_000_000
    for start in range(0, n, 1000):
        client.log_batch(rid, metrics=[Metric("long", float(i) / 7, base_ts + i, i)
                                       for i in range(start, min(n, start + 1000))])
    hist = client.get_metric_history(rid, "long")
    assert len(hist) == n
    assert [m.step for m in hist] == list(range(n))
    assert all(m.value == float(m.step) / 7 and m.timestamp == base_ts + m.step for m in hist)
    assert client.get_run(rid).data.metrics["long"] == float(n - 1) / 7
    # the raw protocol: a page of max_results with a next_page_token, then the rest
    r = api.get("/api/2.0/mlflow/metrics/get-history", run_id=rid, metric_key="long",
                max_results=25000)
    assert r.status_code == 200
    body = r.json()
    assert len(body["metrics"]) == 25000 and body.get("next_page_token")
    r2 = api.get("/api/2.0/mlflow/metrics/get-history", run_id=rid, metric_key="long",
                 max_results=25000, page_token=body["next_page_token"])
    body2 = r2.json()
    assert len(body2["metrics"]) == n - 25000
    assert not body2.get("next_page_token")
    assert body2["metrics"][0]["step"] == 25000


def test_log_batch_mixed(client, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    client.log_batch(
        rid,
        metrics=[Metric("x", 1.0, 100, 0), Metric("x", 2.0, 200, 1), Metric("y", 3.0, 100, 0)],
        params=[Param("p1", "a"), Param("p2", "b")],
        tags=[RunTag("t1", "a"), RunTag("t1", "b")],  # last write wins inside one batch
    )
    data = client.get_run(rid).data
    assert data.metrics == {"x": 2.0, "y": 3.0}
    assert data.params == {"p1": "a", "p2": "b"}
    assert data.tags["t1"] == "b"


def test_log_batch_at_limits(client, api, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    url = "/api/2.0/mlflow/runs/log-batch"
    metrics = [{"key": "lim", "value": i, "timestamp": 1, "step": i} for i in range(1000)]
    params = [{"key": f"p{i}", "value": "v"} for i in range(100)]
    tags = [{"key": f"t{i}", "value": "v"} for i in range(100)]
    assert api.post(url, {"run_id": rid, "metrics": metrics}).status_code == 200
    assert api.post(url, {"run_id": rid, "params": params}).status_code == 200
    assert api.post(url, {"run_id": rid, "tags": tags}).status_code == 200
    mixed = {"run_id": rid, "metrics": metrics[:800],
             "params": [{"key": f"q{i}", "value": "v"} for i in range(100)],
             "tags": [{"key": f"u{i}", "value": "v"} for i in range(100)]}
    assert api.post(url, mixed).status_code == 200  # exactly 1000 entities
    data = client.get_run(rid).data
    assert len(client.get_metric_history(rid, "lim")) == 1000
    assert len(data.params) == 200
    assert sum(1 for k in data.tags if k.startswith(("t", "u")) and k[1:].isdigit()) == 200
    # the client splits oversized batches by itself
    client.log_batch(rid, metrics=[Metric("split", 1.0, 1, i) for i in range(2500)],
                     params=[Param(f"sp{i}", "v") for i in range(250)])
    assert len(client.get_metric_history(rid, "split")) == 2500
    assert sum(1 for k in client.get_run(rid).data.params if k.startswith("sp")) == 250


@pytest.mark.parametrize(
    "what, body, fragment",
    [
        ("metrics", {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i}
                                 for i in range(1001)]}, "at most 1000 metrics"),
        ("params", {"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]},
         "at most 100 params"),
        ("tags", {"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]},
         "at most 100 tags"),
        ("total", {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i}
                               for i in range(901)],
                   "params": [{"key": f"p{i}", "value": "v"} for i in range(100)]},
         "at most 1000 metrics, params, and tags"),
    ],
)
def test_log_batch_over_limits(client, api, experiment_id, fail_fast, what, body, fragment):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    t0 = time.monotonic()
    r = api.post("/api/2.0/mlflow/runs/log-batch", {"run_id": rid, **body})
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fragment in err["message"], err["message"]
    # nothing of a rejected batch is stored
    data = client.get_run(rid).data
    assert data.metrics == {} and data.params == {}
    assert not [k for k in data.tags if not k.startswith("mlflow.")]
    # the same through the client's store: an MlflowException at once (no retries)
    from mlflow.entities import Metric as M
    from mlflow.tracking._tracking_service.utils import _get_store

    store = _get_store()
    with pytest.raises(MlflowException) as ei:
        store.log_batch(rid, metrics=[M("m", 1, 1, i) for i in range(1001)], params=[], tags=[])
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    assert time.monotonic() - t0 < 15
