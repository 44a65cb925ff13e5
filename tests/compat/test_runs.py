"""Server basics, experiments made by the fluent API, run lifecycle, params and tags."""

import re
import time

import mlflow
import pytest
from conftest import unique
from mlflow.entities import RunStatus
from packaging.version import Version


def test_health(api):
    r = api.get("/health")
    assert r.status_code == 200
    assert r.text == "OK"


def test_version(api):
    r = api.get("/version")
    assert r.status_code == 200
    v = Version(r.text.strip())  # the client parses it with packaging.Version
    assert v.major >= 3, r.text


def test_server_info_capabilities(api):
    """mlflow-skinny >= 3.1x probes GET /api/3.0/mlflow/server-info before artifact downloads (and
    large uploads) to decide on multipart/presigned transfers. A 404 means "no capabilities"; a 200
    must be a JSON object (MLflow: all flags false for a local artifact store). A server that
    advertises multipart transfers must implement the presigned/MPU endpoints: the artifact tests
    then exercise them."""
    r = api.get("/api/3.0/mlflow/server-info")
    assert r.status_code in (200, 404), r.text[:300]
    if r.status_code == 200:
        info = r.json()
        assert isinstance(info, dict)
        assert info.get("workspaces_enabled", False) is False
        assert isinstance(info.get("multipart_uploads_enabled", False), bool)
        assert isinstance(info.get("multipart_downloads_enabled", False), bool)


def test_default_experiment_exists(client):
    exp = client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert client.get_experiment_by_name("Default").experiment_id == "0"


def test_set_experiment_creates_then_reuses(client, server):
    name = unique("setexp")
    assert client.get_experiment_by_name(name) is None
    exp = mlflow.set_experiment(name)
    assert exp.name == name
    assert re.fullmatch(r"\d+", exp.experiment_id)
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == f"{server.artifact_root}/{exp.experiment_id}"
    assert exp.creation_time and exp.last_update_time
    again = mlflow.set_experiment(name)
    assert again.experiment_id == exp.experiment_id
    assert mlflow.set_experiment(experiment_id=exp.experiment_id).name == name
    assert client.get_experiment_by_name(name).experiment_id == exp.experiment_id


def test_start_and_end_run(client, server, experiment_id):
    before = int(time.time() * 1000)
    with mlflow.start_run(run_name="lifecycle") as run:
        run_id = run.info.run_id
        assert re.fullmatch(r"[0-9a-f]{32}", run_id)
        live = client.get_run(run_id)
        assert live.info.status == "RUNNING"
        assert live.info.end_time is None
        assert live.info.experiment_id == experiment_id
        assert live.info.run_name == "lifecycle"
        assert live.info.lifecycle_stage == "active"
        assert live.info.artifact_uri == f"{server.artifact_root}/{experiment_id}/{run_id}/artifacts"
        assert live.data.tags["mlflow.runName"] == "lifecycle"
        assert before - 5000 <= live.info.start_time <= int(time.time() * 1000) + 5000
    done = client.get_run(run_id)
    assert done.info.status == "FINISHED"
    assert done.info.end_time is not None
    assert done.info.end_time >= done.info.start_time


def test_end_run_with_status_failed(client, experiment_id):
    run = mlflow.start_run()
    mlflow.end_run(status=RunStatus.to_string(RunStatus.FAILED))
    info = client.get_run(run.info.run_id).info
    assert info.status == "FAILED"
    assert info.end_time is not None


def test_exception_in_run_marks_failed(client, experiment_id):
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            1 / 0
    assert client.get_run(run.info.run_id).info.status == "FAILED"


def test_client_create_run_and_set_terminated(client, experiment_id):
    run = client.create_run(experiment_id, start_time=1_700_000_000_000, tags={"a": "b"},
                            run_name="explicit")
    assert run.info.start_time == 1_700_000_000_000
    assert run.info.status == "RUNNING"
    assert run.data.tags["a"] == "b"
    assert run.info.run_name == "explicit"
    client.set_terminated(run.info.run_id, status="KILLED", end_time=1_700_000_005_000)
    info = client.get_run(run.info.run_id).info
    assert info.status == "KILLED"
    assert info.end_time == 1_700_000_005_000


def test_generated_run_name(client, experiment_id):
    with mlflow.start_run() as run:
        pass
    got = client.get_run(run.info.run_id)
    assert got.info.run_name
    assert got.data.tags["mlflow.runName"] == got.info.run_name


def test_rename_run(client, experiment_id):
    with mlflow.start_run(run_name="before") as run:
        pass
    client.update_run(run.info.run_id, name="after")
    got = client.get_run(run.info.run_id)
    assert got.info.run_name == "after"
    assert got.data.tags["mlflow.runName"] == "after"


def test_resume_run(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_param("p", "1")
    with mlflow.start_run(run_id=run.info.run_id):
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
        mlflow.log_metric("m", 2.0)
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"p": "1"}
    assert got.data.metrics == {"m": 2.0}


def test_nested_runs(client, experiment_id):
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            pass
    got = client.get_run(child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_log_params(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_param("alpha", 0.5)  # same value again is fine
        mlflow.log_params({"beta": 3, "gamma": "x y", "nested/key.with-chars": "ok", "empty": ""})
        long_value = "v" * 6000
        mlflow.log_param("long", long_value)
    params = client.get_run(run.info.run_id).data.params
    assert params == {
        "alpha": "0.5", "beta": "3", "gamma": "x y", "nested/key.with-chars": "ok",
        "empty": "", "long": long_value,
    }


def test_tags_set_overwrite_delete(client, experiment_id):
    with mlflow.start_run() as run:
        mlflow.set_tag("t1", "a")
        mlflow.set_tag("t1", "b")  # tags are last-write-wins
        mlflow.set_tags({"t2": 2, "t3": "three"})
        client.set_tag(run.info.run_id, "big", "x" * 8000)
        client.delete_tag(run.info.run_id, "t2")
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["t1"] == "b"
    assert "t2" not in tags
    assert tags["t3"] == "three"
    assert tags["big"] == "x" * 8000
    # the client's own system tags travel too
    assert tags["mlflow.source.type"] == "LOCAL"
    assert "mlflow.user" in tags


def test_run_description_note(client, experiment_id):
    with mlflow.start_run(description="hello **markdown**") as run:
        pass
    assert client.get_run(run.info.run_id).data.tags["mlflow.note.content"] == "hello **markdown**"


def test_logging_to_finished_run_is_allowed(client, experiment_id):
    with mlflow.start_run() as run:
        pass
    client.log_metric(run.info.run_id, "late", 1.0)
    client.log_param(run.info.run_id, "late", "1")
    client.set_tag(run.info.run_id, "late", "1")
    data = client.get_run(run.info.run_id).data
    assert data.metrics["late"] == 1.0
    assert data.params["late"] == "1"
    assert data.tags["late"] == "1"


def test_get_run_wire_shape(api, client, experiment_id):
    """int64 fields are JSON numbers, ids strings, enums names (what other clients parse)."""
    run = client.create_run(experiment_id)
    client.log_metric(run.info.run_id, "m", 1.5, timestamp=123, step=7)
    r = api.get("/api/2.0/mlflow/runs/get", run_id=run.info.run_id)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()["run"]
    info = body["info"]
    assert isinstance(info["start_time"], int)
    assert info["experiment_id"] == experiment_id
    assert info["status"] == "RUNNING"
    assert info["run_id"] == info["run_uuid"] == run.info.run_id
    assert "end_time" not in info
    assert body["data"]["metrics"] == [{"key": "m", "value": 1.5, "timestamp": 123, "step": 7}]
