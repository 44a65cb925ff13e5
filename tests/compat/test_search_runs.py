"""search_runs: filters on metrics/params/tags/attributes, order_by, paging, several experiments."""

import mlflow
import pytest
from conftest import unique
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

# name, start_time, status, metrics, params, tags   (experiment A unless noted)
RUNS = {
    "r1": ("alpha-1", 1000, "FINISHED", {"loss": 0.5, "acc": 0.9},
           {"model": "lr", "depth": "3"}, {"team": "red", "env": "Prod"}),
    "r2": ("alpha-2", 2000, "FINISHED", {"loss": 0.3, "acc": 0.8},
           {"model": "rf", "depth": "10"}, {"team": "blue", "env": "prod"}),
    "r3": ("beta-1", 3000, "FAILED", {"loss": 0.7}, {"model": "lr"}, {"team": "red"}),
    "r4": ("beta-2", 4000, "RUNNING", {"acc": float("nan")}, {"model": "gbm"}, {}),
    "r5": ("gamma", 5000, "KILLED", {"loss": 1.5, "acc": 0.95}, {}, {"team": "green"}),
    "b1": ("alpha-b", 6000, "FINISHED", {"loss": 0.1}, {"model": "lr"}, {"team": "red"}),
}


class World:
    def __init__(self, exp_a, exp_b, ids):
        self.a, self.b, self.ids = exp_a, exp_b, ids
        self.by_id = {v: k for k, v in ids.items()}


@pytest.fixture(scope="module")
def world(server):
    client = MlflowClient(server.url)
    exp_a = client.create_experiment(unique("search-a"))
    exp_b = client.create_experiment(unique("search-b"))
    ids = {}
    for label, (name, start, status, metrics, params, tags) in RUNS.items():
        exp = exp_b if label.startswith("b") else exp_a
        run = client.create_run(exp, start_time=start, tags=tags, run_name=name)
        rid = run.info.run_id
        for k, v in metrics.items():
            client.log_metric(rid, k, v, timestamp=start, step=0)
        for k, v in params.items():
            client.log_param(rid, k, v)
        if status != "RUNNING":
            client.set_terminated(rid, status=status, end_time=start + 500)
        ids[label] = rid
    return World(exp_a, exp_b, ids)


def labels(world, runs):
    return [world.by_id[r.info.run_id] for r in runs]


def search(world, filter_string="", order_by=None, exps=None, **kw):
    client = MlflowClient()
    runs = client.search_runs(exps or [world.a], filter_string, order_by=order_by, **kw)
    return labels(world, runs)


def test_default_order_is_start_time_desc(world):
    assert search(world) == ["r5", "r4", "r3", "r2", "r1"]
    assert search(world, exps=[world.a, world.b]) == ["b1", "r5", "r4", "r3", "r2", "r1"]


@pytest.mark.parametrize("flt, expected", [
    ("metrics.loss < 0.6", {"r1", "r2"}),
    ("metrics.loss <= 0.5", {"r1", "r2"}),
    ("metrics.loss > 0.5", {"r3", "r5"}),
    ("metrics.loss >= 0.7", {"r3", "r5"}),
    ("metrics.loss = 0.3", {"r2"}),
    ("metrics.loss != 0.3", {"r1", "r3", "r5"}),  # a run without the metric never matches
    ("metrics.acc > 0.85", {"r1", "r5"}),
    ("metric.loss < 1", {"r1", "r2", "r3"}),
    ("params.model = 'lr'", {"r1", "r3"}),
    ("params.model != 'lr'", {"r2", "r4"}),
    ("params.model LIKE '%r%'", {"r1", "r2", "r3"}),
    ("params.model LIKE 'L%'", set()),
    ("params.model ILIKE 'L%'", {"r1", "r3"}),
    ("param.depth = '10'", {"r2"}),
    ("params.depth IS NULL", {"r3", "r4", "r5"}),
    ("params.depth IS NOT NULL", {"r1", "r2"}),
    ("tags.team = 'red'", {"r1", "r3"}),
    ("tags.team != 'red'", {"r2", "r5"}),
    ("tags.env LIKE 'prod'", {"r2"}),
    ("tags.env ILIKE 'prod'", {"r1", "r2"}),
    ("tags.env ILIKE 'PR_D'", {"r1", "r2"}),
    ("tags.team LIKE '%e%'", {"r1", "r2", "r3", "r5"}),
    ("tags.team IS NULL", {"r4"}),
    ("tags.mlflow.runName = 'gamma'", {"r5"}),
    ("tags.`team` = 'blue'", {"r2"}),
    ('tags."team" = \'blue\'', {"r2"}),
    ("`params`.`model` = 'rf'", {"r2"}),
    ("attributes.status = 'FINISHED'", {"r1", "r2"}),
    ("attributes.status != 'FINISHED'", {"r3", "r4", "r5"}),
    ("attributes.run_name = 'beta-1'", {"r3"}),
    ("attributes.run_name LIKE 'alpha%'", {"r1", "r2"}),
    ("attributes.run_name ILIKE 'ALPHA%'", {"r1", "r2"}),
    ("run_name LIKE '%-2'", {"r2", "r4"}),
    ("attributes.start_time > 2500", {"r3", "r4", "r5"}),
    ("attributes.start_time <= 2000", {"r1", "r2"}),
    ("attributes.start_time = 3000", {"r3"}),
    ("attributes.end_time > 2400", {"r2", "r3", "r5"}),
    ("attributes.created >= 4000", {"r4", "r5"}),
    ("metrics.loss < 1 and params.model = 'lr'", {"r1", "r3"}),
    ("metrics.loss < 1 AND params.model = 'lr' AND tags.team = 'red' AND attributes.status = "
     "'FINISHED'", {"r1"}),
])
def test_filters(world, flt, expected):
    assert set(search(world, flt)) == expected


def test_filter_run_id_in_and_not_in(world):
    ids = world.ids
    assert set(search(world, f"attributes.run_id IN ('{ids['r1']}', '{ids['r4']}')")) == {"r1", "r4"}
    assert set(search(world, f"run_id = '{ids['r2']}'")) == {"r2"}
    assert set(search(world, f"attributes.run_id NOT IN ('{ids['r1']}', '{ids['r4']}')")) == {
        "r2", "r3", "r5"}


def test_in_is_only_for_run_id(world, api, fail_fast):
    """MLflow accepts IN/NOT IN lists only on run_id (other attributes: 400)."""
    for flt in ("attributes.status IN ('FAILED', 'KILLED')", "attributes.run_name IN ('gamma')"):
        with pytest.raises(MlflowException) as ei:
            search(world, flt)
        assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "Only ['run_id'] attributes support comparison with a list" in ei.value.message
        r = api.post("/api/2.0/mlflow/runs/search", {"experiment_ids": [world.a], "filter": flt})
        assert r.status_code == 400


def test_filter_across_experiments(world):
    assert set(search(world, "params.model = 'lr'", exps=[world.a, world.b])) == {"r1", "r3", "b1"}
    assert set(search(world, "tags.team = 'red'", exps=[world.b])) == {"b1"}
    assert set(search(world, "metrics.loss < 0.4", exps=[world.a, world.b])) == {"r2", "b1"}


@pytest.mark.parametrize("order_by, expected", [
    (["metrics.loss ASC"], ["r2", "r1", "r3", "r5", "r4"]),  # missing values last
    (["metrics.loss"], ["r2", "r1", "r3", "r5", "r4"]),
    (["metrics.loss DESC"], ["r5", "r3", "r1", "r2", "r4"]),  # missing values last in DESC too
    (["metrics.acc ASC"], ["r2", "r1", "r5", "r4", "r3"]),   # NaN after numbers, missing last
    (["metrics.acc DESC"], ["r5", "r1", "r2", "r4", "r3"]),  # NaN after numbers in DESC too
    (["params.depth ASC"], ["r2", "r1", "r5", "r4", "r3"]),  # strings: '10' < '3'; ties start DESC
    (["params.depth DESC"], ["r1", "r2", "r5", "r4", "r3"]),
    (["tags.team ASC"], ["r2", "r5", "r3", "r1", "r4"]),  # red ties broken by start_time DESC
    (["tags.team DESC", "attributes.start_time ASC"], ["r1", "r3", "r5", "r2", "r4"]),
    (["attributes.start_time ASC"], ["r1", "r2", "r3", "r4", "r5"]),
    (["start_time DESC"], ["r5", "r4", "r3", "r2", "r1"]),
    (["attributes.run_name DESC"], ["r5", "r4", "r3", "r2", "r1"]),
    (["run_name"], ["r1", "r2", "r3", "r4", "r5"]),
    (["attributes.status ASC", "metrics.loss DESC"], ["r3", "r1", "r2", "r5", "r4"]),
    (["attributes.end_time ASC"], ["r1", "r2", "r3", "r5", "r4"]),  # RUNNING: no end_time, last
    (["`metrics`.`loss` ASC"], ["r2", "r1", "r3", "r5", "r4"]),
])
def test_order_by(world, order_by, expected):
    assert search(world, order_by=order_by) == expected


def test_paging_with_page_token(world):
    client = MlflowClient()
    exps = [world.a, world.b]
    full = labels(world, client.search_runs(exps, order_by=["metrics.loss ASC"]))
    assert full == ["b1", "r2", "r1", "r3", "r5", "r4"]
    seen, token, pages = [], None, 0
    while True:
        page = client.search_runs(exps, order_by=["metrics.loss ASC"], max_results=4,
                                  page_token=token)
        seen += labels(world, page)
        pages += 1
        token = page.token
        if not token:
            break
        assert pages < 5
    assert seen == full
    assert pages == 2
    p1 = client.search_runs(exps, max_results=3)
    assert len(p1) == 3 and p1.token
    p2 = client.search_runs(exps, max_results=3, page_token=p1.token)
    assert len(p2) == 3
    assert not set(labels(world, p1)) & set(labels(world, p2))
    p3 = client.search_runs(exps, max_results=3, page_token=p2.token) if p2.token else []
    assert len(p3) == 0


def test_fluent_search_runs_list(world):
    runs = mlflow.search_runs(experiment_ids=[world.a], filter_string="tags.team = 'red'",
                              order_by=["attributes.start_time ASC"], output_format="list")
    assert labels(world, runs) == ["r1", "r3"]
    r1 = runs[0]
    assert r1.data.metrics == {"loss": 0.5, "acc": 0.9}
    assert r1.data.params == {"model": "lr", "depth": "3"}
    assert r1.data.tags["team"] == "red"
    assert r1.info.status == "FINISHED" and r1.info.end_time == 1500


def test_fluent_search_runs_by_experiment_name(world):
    name = MlflowClient().get_experiment(world.b).name
    runs = mlflow.search_runs(experiment_names=[name], output_format="list")
    assert labels(world, runs) == ["b1"]


def test_search_runs_raw_response(api, world):
    r = api.post("/api/2.0/mlflow/runs/search",
                 {"experiment_ids": [world.a], "filter": "attributes.run_name = 'gamma'",
                  "max_results": 10})
    assert r.status_code == 200
    body = r.json()
    assert "next_page_token" not in body or not body["next_page_token"]
    (run,) = body["runs"]
    assert run["info"]["run_name"] == "gamma"
    assert {m["key"] for m in run["data"]["metrics"]} == {"loss", "acc"}
    r = api.post("/api/2.0/mlflow/runs/search",
                 {"experiment_ids": [world.a], "filter": "attributes.run_name = 'nobody'"})
    assert r.status_code == 200 and r.json().get("runs", []) == []


def test_deleted_runs_and_view_types(client, experiment_id):
    keep = client.create_run(experiment_id).info.run_id
    gone = client.create_run(experiment_id).info.run_id
    client.delete_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "deleted"

    def ids(view):
        return {r.info.run_id for r in client.search_runs([experiment_id], run_view_type=view)}

    assert ids(ViewType.ACTIVE_ONLY) == {keep}
    assert ids(ViewType.DELETED_ONLY) == {gone}
    assert ids(ViewType.ALL) == {keep, gone}
    assert {r.info.run_id for r in client.search_runs([experiment_id])} == {keep}

    client.restore_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "active"
    assert ids(ViewType.ACTIVE_ONLY) == {keep, gone}
    assert ids(ViewType.DELETED_ONLY) == set()


def test_writes_to_deleted_run_rejected(client, experiment_id, fail_fast):
    rid = client.create_run(experiment_id).info.run_id
    client.delete_run(rid)
    with pytest.raises(MlflowException) as ei:
        client.log_metric(rid, "m", 1.0)
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "must be in the 'active' state" in ei.value.message
