"""Error paths: codes, HTTP statuses and messages the client relies on, and no retry storms.

Every status is checked with `requests` first (so a wrong 5xx fails at once), then the client's
behaviour: the MLflow client retries 429/5xx up to 7 times with exponential back-off, so a
deterministic user error answered with 5xx would stall a user for minutes.
"""

import time

import mlflow
import pytest
from conftest import unique
from mlflow.exceptions import MlflowException, RestException

MISSING_RUN = "f" * 32
JSON = {"Content-Type": "application/json"}


def assert_error(r, status, code, fragment=None):
    assert r.status_code == status, f"{r.status_code} {r.text[:500]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert body["error_code"] == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    if fragment is not None:
        assert fragment in body["message"], body["message"]
    return body


def test_missing_run_is_404_at_once_with_default_retries(client, api):
    r = api.get("/api/2.0/mlflow/runs/get", run_id=MISSING_RUN)
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", f"Run with id={MISSING_RUN} not found")
    t0 = time.monotonic()  # client with its default retry policy: 404 is not retried
    with pytest.raises(MlflowException) as ei:
        client.get_run(MISSING_RUN)
    assert time.monotonic() - t0 < 5
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert ei.value.get_http_status_code() == 404
    assert isinstance(ei.value, RestException)


@pytest.mark.parametrize("path, body", [
    ("runs/log-metric", {"key": "x", "value": 1, "timestamp": 1}),
    ("runs/log-batch", {"metrics": [{"key": "x", "value": 1, "timestamp": 1, "step": 0}]}),
    ("runs/log-parameter", {"key": "x", "value": "1"}),
    ("runs/set-tag", {"key": "x", "value": "1"}),
    ("runs/delete-tag", {"key": "x"}),
    ("runs/update", {"status": "FINISHED"}),
    ("runs/delete", {}),
])
def test_writes_to_missing_run_are_404(api, path, body):
    r = api.post(f"/api/2.0/mlflow/{path}", {"run_id": MISSING_RUN, **body})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", f"Run with id={MISSING_RUN} not found")


def test_missing_run_through_fluent_and_client_writes(client, fail_fast):
    t0 = time.monotonic()
    for call in (lambda: client.log_metric(MISSING_RUN, "m", 1.0),
                 lambda: client.log_param(MISSING_RUN, "p", "1"),
                 lambda: client.set_tag(MISSING_RUN, "t", "1"),
                 lambda: client.list_artifacts(MISSING_RUN)):
        with pytest.raises(MlflowException) as ei:
            call()
        assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:
        mlflow.start_run(run_id=MISSING_RUN)
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert time.monotonic() - t0 < 10


def test_metric_history_of_missing_run_is_empty(api, client):
    """MLflow does not check the run here: an unknown run has an empty history (200 `{}`)."""
    r = api.get("/api/2.0/mlflow/metrics/get-history", run_id=MISSING_RUN, metric_key="m")
    assert r.status_code == 200
    assert r.json().get("metrics", []) == []
    assert client.get_metric_history(MISSING_RUN, "m") == []


def test_missing_experiment(client, api, fail_fast):
    r = api.get("/api/2.0/mlflow/experiments/get", experiment_id="987654321")
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=987654321 exists")
    with pytest.raises(MlflowException) as ei:
        client.get_experiment("987654321")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    name = unique("absent")
    r = api.get("/api/2.0/mlflow/experiments/get-by-name", experiment_name=name)
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name '{name}'")
    assert client.get_experiment_by_name(name) is None  # the client maps that 404 to None
    r = api.post("/api/2.0/mlflow/runs/create", {"experiment_id": "987654321"})
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=987654321 exists")


def test_changing_param_value_is_400_at_once(client, api, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    client.log_param(rid, "p", "a")
    r = api.post("/api/2.0/mlflow/runs/log-parameter", {"run_id": rid, "key": "p", "value": "b"})
    body = assert_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert body["message"] == (
        f"Changing param values is not allowed. Param with key='p' was already logged with "
        f"value='a' for run ID='{rid}'. Attempted logging new value 'b'.")
    t0 = time.monotonic()  # default retry policy: a 400 is raised at once
    with pytest.raises(MlflowException) as ei:
        client.log_param(rid, "p", "c")
    assert time.monotonic() - t0 < 5
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    assert ei.value.get_http_status_code() == 400
    assert "Changing param values is not allowed" in ei.value.message
    with mlflow.start_run(run_id=rid):
        with pytest.raises(MlflowException, match="Changing param values is not allowed"):
            mlflow.log_params({"p": "d"})
    r = api.post("/api/2.0/mlflow/runs/log-batch",
                 {"run_id": rid, "params": [{"key": "p", "value": "e"}]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed")
    assert client.get_run(rid).data.params == {"p": "a"}


def test_duplicate_param_keys_in_one_batch(api, client, experiment_id):
    rid = client.create_run(experiment_id).info.run_id
    r = api.post("/api/2.0/mlflow/runs/log-batch", {"run_id": rid, "params": [
        {"key": "q", "value": "1"}, {"key": "q", "value": "2"}]})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Duplicate parameter keys have been submitted")


def test_duplicate_experiment(client, api, fail_fast):
    name = unique("dup")
    client.create_experiment(name)
    r = api.post("/api/2.0/mlflow/experiments/create", {"name": name})
    assert_error(r, 400, "RESOURCE_ALREADY_EXISTS", f"Experiment(name={name}) already exists")
    with pytest.raises(MlflowException) as ei:
        client.create_experiment(name)
    assert ei.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert ei.value.get_http_status_code() == 400
    # set_experiment tolerates it: it finds the existing experiment
    assert mlflow.set_experiment(name).name == name


@pytest.mark.parametrize("raw", [
    "not json at all",
    '{"run_id": "abc", "key": "m", "value": 1, "timestamp": 1',  # truncated
    '{"run_id": oops}',
])
def test_malformed_json_body_is_400(api, raw):
    """MLflow treats an unparsable body as `{}` and so answers 400 INVALID_PARAMETER_VALUE naming
    the first missing required field. A server may instead name the JSON problem (then
    INVALID_PARAMETER_VALUE or BAD_REQUEST, both 400 and not retried by the client)."""
    r = api.s.post(api.base + "/api/2.0/mlflow/runs/log-metric", data=raw, headers=JSON,
                   timeout=30)
    assert r.status_code == 400, r.text[:300]
    body = r.json()
    assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST"), body
    msg = body["message"]
    assert ("Missing value for required parameter 'run_id'" in msg
            or "json" in msg.lower()), msg


def test_wrong_or_missing_content_type(api):
    r = api.s.post(api.base + "/api/2.0/mlflow/experiments/create", data='{"name": "x"}',
                   headers={"Content-Type": "text/plain"}, timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE",
                 "Bad Request. Content-Type must be one of ['application/json'].")
    r = api.s.post(api.base + "/api/2.0/mlflow/experiments/create", data='{"name": "x"}',
                   timeout=30)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type header is missing.")
    name = unique("charset")
    r = api.s.post(api.base + "/api/2.0/mlflow/experiments/create", data=f'{{"name": "{name}"}}',
                   headers={"Content-Type": "application/json; charset=utf-8"}, timeout=30)
    assert r.status_code == 200 and r.json()["experiment_id"]


def test_missing_required_and_wrong_types(api, client, experiment_id):
    r = api.get("/api/2.0/mlflow/runs/get")
    assert_error(r, 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'run_id'. See the API docs for more "
                 "information about request parameters.")
    rid = client.create_run(experiment_id).info.run_id
    r = api.post("/api/2.0/mlflow/runs/log-metric", {"run_id": rid, "key": "k", "value": 1})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'timestamp'")
    r = api.post("/api/2.0/mlflow/runs/log-metric",
                 {"run_id": rid, "key": "k", "value": "abc", "timestamp": 1})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Invalid value \"abc\" for parameter 'value'")
    r = api.post("/api/2.0/mlflow/experiments/create", {"name": 5})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'name'")
    r = api.post("/api/2.0/mlflow/experiments/create", {"name": ""})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'")


def test_invalid_keys_and_lengths(api, client, experiment_id):
    rid = client.create_run(experiment_id).info.run_id
    url = "/api/2.0/mlflow/runs/log-metric"
    r = api.post(url, {"run_id": rid, "key": "bad key!", "value": 1, "timestamp": 1})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Names may only contain alphanumerics")
    r = api.post(url, {"run_id": rid, "key": "../up", "value": 1, "timestamp": 1})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "must not resolve to other names")
    r = api.post("/api/2.0/mlflow/runs/set-tag", {"run_id": rid, "key": "k" * 251, "value": "v"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "'key' exceeds the maximum length of 250")
    r = api.post("/api/2.0/mlflow/experiments/create", {"name": "x" * 501})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "'name' exceeds the maximum length of 500")
    # over-long param/tag VALUES are truncated (MLFLOW_TRUNCATE_LONG_VALUES, default on), not refused
    r = api.post("/api/2.0/mlflow/runs/log-parameter", {"run_id": rid, "key": "lp", "value": "x" * 6001})
    assert r.status_code == 200
    r = api.post("/api/2.0/mlflow/runs/set-tag", {"run_id": rid, "key": "lt", "value": "y" * 8001})
    assert r.status_code == 200
    data = client.get_run(rid).data
    assert data.params["lp"] == "x" * 6000
    assert data.tags["lt"] == "y" * 8000


@pytest.mark.parametrize("flt, fragment", [
    ("metrics.x <> 1", "Invalid comparator '<>'"),
    ("metrics.x < 1 OR metrics.y > 2", "Invalid clause(s) in filter string: 'OR'"),
    ("metrics.x <", "Invalid clause(s) in filter string"),
    ("foo bar baz", "Invalid clause(s) in filter string"),
    ("foo.x = 'a'", "Invalid entity type 'foo'"),
    ("attributes.nope = 'a'", "Invalid attribute key 'nope' specified"),
    ("params.x > 1", "Expected a quoted string value for parameter"),
    ("metrics.x = 'a'", "Expected numeric value type for metric"),
    ("params.x = 'unterminated", "Invalid clause(s) in filter string"),
])
def test_bad_search_filter_is_400(api, client, fail_fast, flt, fragment):
    r = api.post("/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "filter": flt})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", fragment)
    with pytest.raises(MlflowException) as ei:
        client.search_runs(["0"], flt)
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("body, fragment", [
    ({"order_by": ["metrics.x SIDEWAYS"]}, "Invalid ordering key in order_by clause"),
    ({"order_by": ["nope.x ASC"]}, "Invalid entity type 'nope'"),
    ({"order_by": ["attributes.nope"]}, "Invalid attribute key 'nope' specified"),
    ({"max_results": 50001}, "Invalid value 50001 for parameter 'max_results' supplied"),
    ({"page_token": "garbage"}, "Invalid page token"),
])
def test_bad_search_arguments_are_400(api, body, fragment):
    r = api.post("/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], **body})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", fragment)


@pytest.mark.parametrize("body, fragment", [
    ({"max_results": 10, "filter": "name = "}, "Invalid clause(s) in filter string"),
    ({"max_results": 10, "filter": "nope = 'x'"}, "Invalid attribute key 'nope' specified"),
    ({"max_results": 10, "order_by": ["bogus"]}, "Invalid attribute key 'bogus' specified"),
    ({"max_results": 50001}, "It must be at most 50000"),
    ({"max_results": -1}, "It must be a positive integer"),
])
def test_bad_search_experiments_arguments_are_400(api, body, fragment):
    r = api.post("/api/2.0/mlflow/experiments/search", body)
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", fragment)


def test_empty_experiment_ids_search_returns_nothing(api):
    r = api.post("/api/2.0/mlflow/runs/search", {"experiment_ids": []})
    assert r.status_code == 200
    assert r.json().get("runs", []) == []


def test_unknown_endpoint_is_404(api, fail_fast):
    r = api.get("/api/2.0/mlflow/no-such-endpoint")
    assert r.status_code == 404
    r = api.post("/api/2.0/mlflow/runs/no-such-endpoint", {})
    assert r.status_code in (404, 405)


def test_writes_to_deleted_experiment_rejected(client, api, fail_fast):
    eid = client.create_experiment(unique("dead"))
    client.delete_experiment(eid)
    r = api.post("/api/2.0/mlflow/runs/create", {"experiment_id": eid})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE", "must be in the 'active' state")
