"""Experiments: create/get, tags, rename, delete/restore with view types, search_experiments."""

import time

import mlflow
import pytest
from conftest import unique
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException


def test_create_get_with_tags(client, server):
    name = unique("tagged")
    eid = client.create_experiment(name, tags={"team": "ml", "prio": "1"})
    exp = client.get_experiment(eid)
    assert exp.name == name
    assert exp.tags == {"team": "ml", "prio": "1"}
    assert exp.artifact_location == f"{server.artifact_root}/{eid}"
    client.set_experiment_tag(eid, "prio", "2")
    client.set_experiment_tag(eid, "new", "x" * 5000)
    client.delete_experiment_tag(eid, "team")
    assert client.get_experiment(eid).tags == {"prio": "2", "new": "x" * 5000}
    assert client.get_experiment_by_name(name).tags["prio"] == "2"


def test_fluent_experiment_tags(client):
    exp = mlflow.set_experiment(unique("fluent-tags"))
    mlflow.set_experiment_tag("a", "1")
    mlflow.set_experiment_tags({"b": "2", "c": "3"})
    assert client.get_experiment(exp.experiment_id).tags == {"a": "1", "b": "2", "c": "3"}


def test_rename_experiment(client):
    old, new = unique("old"), unique("new")
    eid = client.create_experiment(old)
    before = client.get_experiment(eid).last_update_time
    time.sleep(0.01)
    client.rename_experiment(eid, new)
    exp = client.get_experiment(eid)
    assert exp.name == new
    assert exp.last_update_time >= before
    assert client.get_experiment_by_name(old) is None
    assert client.get_experiment_by_name(new).experiment_id == eid


def test_delete_restore_experiment_view_types(client):
    prefix = unique("life")
    keep = client.create_experiment(f"{prefix}-keep")
    gone = client.create_experiment(f"{prefix}-gone")
    run = client.create_run(gone)
    client.delete_experiment(gone)
    exp = client.get_experiment(gone)  # still readable by id
    assert exp.lifecycle_stage == "deleted"
    # runs of a deleted experiment are deleted too
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert client.get_experiment_by_name(f"{prefix}-gone").lifecycle_stage == "deleted"

    def names(view):
        return {e.name for e in client.search_experiments(view_type=view,
                                                          filter_string=f"name LIKE '{prefix}%'")}

    assert names(ViewType.ACTIVE_ONLY) == {f"{prefix}-keep"}
    assert names(ViewType.DELETED_ONLY) == {f"{prefix}-gone"}
    assert names(ViewType.ALL) == {f"{prefix}-keep", f"{prefix}-gone"}
    assert {e.name for e in client.search_experiments(filter_string=f"name LIKE '{prefix}%'")} == {
        f"{prefix}-keep"}

    client.restore_experiment(gone)
    assert client.get_experiment(gone).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert names(ViewType.DELETED_ONLY) == set()
    assert keep


def test_deleted_experiment_name_cannot_be_reused(client, fail_fast):
    name = unique("reuse")
    eid = client.create_experiment(name)
    client.delete_experiment(eid)
    with pytest.raises(MlflowException) as ei:
        client.create_experiment(name)
    assert ei.value.error_code == "RESOURCE_ALREADY_EXISTS"
    # set_experiment on a deleted experiment is a client-side error mentioning restore
    with pytest.raises(MlflowException, match="(?i)deleted"):
        mlflow.set_experiment(name)


def test_rename_deleted_experiment_fails(client, api, fail_fast):
    """MLflow answers INVALID_STATE with HTTP 500, so the default client retries it for minutes
    before giving up (see README). The same code with 400 is accepted: the client raises the same
    MlflowException, at once."""
    eid = client.create_experiment(unique("rd"))
    client.delete_experiment(eid)
    r = api.post("/api/2.0/mlflow/experiments/update", {"experiment_id": eid, "new_name": "x"})
    assert r.status_code in (400, 500), r.text
    assert r.json()["error_code"] == "INVALID_STATE"
    assert r.json()["message"] == "Cannot rename a non-active experiment."
    with pytest.raises(MlflowException):
        client.rename_experiment(eid, unique("rd2"))
    assert client.get_experiment(eid).name.startswith("rd-")


def test_delete_twice_and_restore_active_are_not_found(client, api, fail_fast):
    """Deleting a deleted experiment, or restoring an active one, is RESOURCE_DOES_NOT_EXIST."""
    eid = client.create_experiment(unique("dd"))
    client.delete_experiment(eid)
    r = api.post("/api/2.0/mlflow/experiments/delete", {"experiment_id": eid})
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    client.restore_experiment(eid)
    r = api.post("/api/2.0/mlflow/experiments/restore", {"experiment_id": eid})
    assert r.status_code == 404
    assert r.json()["message"] == f"No Experiment with id={eid} exists"


def test_search_experiments_filter_and_order(client):
    prefix = unique("sx")
    ids = {}
    for n, tag in (("b", "x"), ("a", "y"), ("c", "x")):
        ids[n] = client.create_experiment(f"{prefix}-{n}", tags={"kind": tag})
        time.sleep(0.005)

    def names(**kw):
        return [e.name.rsplit("-", 1)[1] for e in client.search_experiments(**kw)]

    like = f"name LIKE '{prefix}-%'"
    assert names(filter_string=like, order_by=["name ASC"]) == ["a", "b", "c"]
    assert names(filter_string=like, order_by=["name DESC"]) == ["c", "b", "a"]
    assert names(filter_string=like) == ["c", "a", "b"]  # default: creation_time DESC
    assert names(filter_string=like, order_by=["creation_time ASC"]) == ["b", "a", "c"]
    assert names(filter_string=like, order_by=["experiment_id DESC"]) == ["c", "a", "b"]
    assert names(filter_string=like, order_by=["last_update_time ASC"]) == ["b", "a", "c"]
    assert names(filter_string=f"{like} AND tags.kind = 'x'", order_by=["name"]) == ["b", "c"]
    assert names(filter_string=f"name = '{prefix}-a'") == ["a"]
    assert names(filter_string=f"name ILIKE '{prefix.upper()}-%' AND name != '{prefix}-a'",
                 order_by=["name"]) == ["b", "c"]
    assert names(filter_string=f"{like} AND tags.kind LIKE 'y%'") == ["a"]
    assert names(filter_string=f"{like} AND tags.kind IS NULL") == []
    created = client.get_experiment(ids["a"]).creation_time
    assert names(filter_string=f"{like} AND creation_time >= {created}",
                 order_by=["name"]) == ["a", "c"]


def test_search_experiments_paging(client):
    prefix = unique("page")
    made = [client.create_experiment(f"{prefix}-{i:02d}") for i in range(7)]
    seen, token, pages = [], None, 0
    while True:
        page = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'",
                                         order_by=["name ASC"], max_results=3, page_token=token)
        seen += [e.experiment_id for e in page]
        pages += 1
        token = page.token
        if not token:
            break
    assert seen == made
    assert pages == 3
    # the fluent helper pages by itself
    assert len(mlflow.search_experiments(filter_string=f"name LIKE '{prefix}-%'")) == 7


def test_search_experiments_raw(api):
    r = api.post("/api/2.0/mlflow/experiments/search",
                 {"max_results": 1000, "filter": "name = 'Default'"})
    assert r.status_code == 200
    (exp,) = r.json()["experiments"]
    assert exp["experiment_id"] == "0"
    assert exp["lifecycle_stage"] == "active"
    assert isinstance(exp["creation_time"], int)
    # GET is registered too (query parameters)
    r = api.get("/api/2.0/mlflow/experiments/search", max_results=5, filter="name = 'Default'")
    assert r.status_code == 200 and r.json()["experiments"][0]["name"] == "Default"
