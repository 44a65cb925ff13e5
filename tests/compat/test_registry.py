"""The Model Registry with the real client: registered models, model versions (from runs:/,
models:/<model_id> and registered versions), search with filters, order and paging, tags,
aliases, stages and latest versions, download URIs, mlflow.register_model, and the error codes
MLflow answers for missing and duplicate entities. Passes against `mlflow server` as against
plinth (SQLite or PostgreSQL)."""

import json
import os
import subprocess

import mlflow
import pytest
from conftest import artifacts_direct, is_plinth, plinth_bin, unique
from mlflow.exceptions import MlflowException

# Stages are deprecated in MLflow 3; the client warns on every call that uses them.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def assert_error(r, status, code, fragment=None):
    assert r.status_code == status, f"{r.status_code} {r.text[:500]}"
    body = r.json()
    assert body["error_code"] == code, body
    if fragment is not None:
        assert fragment in body["message"], body["message"]


def raises_code(code):
    class _Ctx:
        def __enter__(self):
            self.cm = pytest.raises(MlflowException)
            self.info = self.cm.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.cm.__exit__(*exc)
            assert self.info.value.error_code == code, self.info.value
            return handled

    return _Ctx()


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


def test_registered_model_lifecycle(client, api, fail_fast):
    name = unique("rm")
    created = client.create_registered_model(name, tags={"team": "fraud", "env": "dev"},
                                             description="first cut")
    assert created.name == name
    assert created.description == "first cut"
    assert created.tags == {"team": "fraud", "env": "dev"}
    assert created.creation_timestamp > 0

    got = client.get_registered_model(name)
    assert got.tags == {"team": "fraud", "env": "dev"}
    assert got.latest_versions == []
    assert got.aliases == {}

    with raises_code("RESOURCE_ALREADY_EXISTS"):
        client.create_registered_model(name)
    assert_error(api.post("/api/2.0/mlflow/registered-models/create", {"name": name}), 400,
                 "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists.")

    updated = client.update_registered_model(name, description="second cut")
    assert updated.description == "second cut"
    assert client.get_registered_model(name).description == "second cut"

    new_name = unique("rm-renamed")
    client.rename_registered_model(name, new_name)  # MlflowClient returns None here
    assert client.get_registered_model(new_name).description == "second cut"
    with raises_code("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(name)
    assert_error(api.get("/api/2.0/mlflow/registered-models/get", name=name), 404,
                 "RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")
    other = unique("rm-other")
    client.create_registered_model(other)
    with raises_code("RESOURCE_ALREADY_EXISTS"):
        client.rename_registered_model(new_name, other)

    client.delete_registered_model(new_name)
    with raises_code("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(new_name)
    with raises_code("RESOURCE_DOES_NOT_EXIST"):
        client.delete_registered_model(new_name)
    assert_error(api.post("/api/2.0/mlflow/registered-models/create", {"name": "a/b"}), 400,
                 "INVALID_PARAMETER_VALUE", "Names cannot contain '/' or ':'")


def test_search_registered_models_filters_orders_and_pages(client):
    prefix = unique("srch")
    names = [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c", f"{prefix}-D"]
    for i, n in enumerate(names):
        client.create_registered_model(n, tags={"grp": "x" if i % 2 == 0 else "y"})

    got = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'")
    assert [m.name for m in got] == sorted(names)
    got = client.search_registered_models(filter_string=f"name ILIKE '{prefix}-d'")
    assert [m.name for m in got] == [f"{prefix}-D"]
    got = client.search_registered_models(filter_string=f"name = '{prefix}-b'")
    assert [m.name for m in got] == [f"{prefix}-b"]
    got = client.search_registered_models(
        filter_string=f"name LIKE '{prefix}%' AND tags.grp = 'x'")
    assert [m.name for m in got] == [f"{prefix}-a", f"{prefix}-c"]
    got = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'",
                                          order_by=["name DESC"])
    assert [m.name for m in got] == sorted(names, reverse=True)

    # The most recently updated first.
    client.update_registered_model(f"{prefix}-b", description="touched")
    got = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'",
                                          order_by=["last_updated_timestamp DESC"])
    assert got[0].name == f"{prefix}-b"

    # Paging with tokens.
    page1 = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'",
                                            max_results=3)
    assert [m.name for m in page1] == sorted(names)[:3]
    assert page1.token
    page2 = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'",
                                            max_results=3, page_token=page1.token)
    assert [m.name for m in page2] == sorted(names)[3:]
    assert not page2.token

    with pytest.raises(MlflowException, match="Invalid attribute key"):
        client.search_registered_models(filter_string="foo = 'x'")
    with pytest.raises(MlflowException):
        client.search_registered_models(filter_string=f"name = '{prefix}-a' OR name = 'z'")


def test_model_versions_from_a_run(client, experiment_id, fail_fast):
    name = unique("mv")
    client.create_registered_model(name)
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    source = f"runs:/{rid}/model"
    v1 = client.create_model_version(name, source, run_id=rid, tags={"k": "v"},
                                     description="from a run")
    assert v1.version == "1"
    assert v1.run_id == rid
    assert v1.source == source
    assert v1.current_stage == "None"
    assert v1.status == "READY"
    assert v1.tags == {"k": "v"}
    assert v1.description == "from a run"
    v2 = client.create_model_version(name, "s3://bucket/models/2")
    assert v2.version == "2"
    assert v2.run_id in ("", None)
    assert client.get_model_version_download_uri(name, "1") == source
    assert client.get_model_version_download_uri(name, "2") == "s3://bucket/models/2"

    got = client.get_model_version(name, "1")
    assert got.run_id == rid and got.tags == {"k": "v"}
    updated = client.update_model_version(name, "1", description="better")
    assert updated.description == "better"

    latest = client.get_registered_model(name).latest_versions
    assert [v.version for v in latest] == ["2"]

    # A source the run_id does not identify is refused, with MLflow's message.
    with pytest.raises(MlflowException, match="The run_id request parameter must identify"):
        client.create_model_version(name, source)
    with pytest.raises(MlflowException, match="an absolute path must be provided"):
        client.create_model_version(name, "s3://bucket/a/../b")
    with raises_code("RESOURCE_DOES_NOT_EXIST"):
        client.create_model_version(unique("nope"), "s3://bucket/x")

    client.delete_model_version(name, "2")
    with raises_code("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(name, "2")
    v3 = client.create_model_version(name, "s3://bucket/models/3")
    assert v3.version == "3"  # deleted numbers are not given out again
    with raises_code("INVALID_PARAMETER_VALUE"):
        client.get_model_version(name, "two")


def test_search_model_versions(client, experiment_id):
    a, b = unique("smv-a"), unique("smv-b")
    client.create_registered_model(a)
    client.create_registered_model(b)
    run1 = client.create_run(experiment_id).info.run_id
    run2 = client.create_run(experiment_id).info.run_id
    client.create_model_version(a, f"runs:/{run1}/m", run_id=run1)
    client.create_model_version(a, f"runs:/{run2}/m", run_id=run2, tags={"quality": "good"})
    client.create_model_version(b, f"runs:/{run1}/m", run_id=run1)

    got = client.search_model_versions(f"name = '{a}'")
    assert sorted(v.version for v in got) == ["1", "2"]
    got = client.search_model_versions(f"run_id = '{run1}'")
    assert sorted((v.name, v.version) for v in got) == sorted([(a, "1"), (b, "1")])
    got = client.search_model_versions(f"name = '{a}' AND tags.quality = 'good'")
    assert [v.version for v in got] == ["2"]
    got = client.search_model_versions(f"name IN ('{a}', '{b}')",
                                       order_by=["name ASC", "version_number DESC"])
    assert [(v.name, v.version) for v in got] == [(a, "2"), (a, "1"), (b, "1")]
    got = client.search_model_versions(f"name = '{a}' AND version_number > 1")
    assert [v.version for v in got] == ["2"]
    page = client.search_model_versions(f"name = '{a}'", max_results=1)
    assert len(page) == 1 and page.token
    rest = client.search_model_versions(f"name = '{a}'", max_results=1, page_token=page.token)
    assert len(rest) == 1 and rest[0].version != page[0].version
    with pytest.raises(MlflowException, match="Invalid attribute key 'current_stage'"):
        client.search_model_versions("current_stage = 'None'")


def test_tags_on_models_and_versions(client, fail_fast):
    name = unique("tags")
    client.create_registered_model(name)
    client.create_model_version(name, "s3://bucket/t")
    client.set_registered_model_tag(name, "owner", "ann")
    client.set_registered_model_tag(name, "owner", "bob")
    client.set_model_version_tag(name, "1", "validated", "yes")
    assert client.get_registered_model(name).tags == {"owner": "bob"}
    assert client.get_model_version(name, "1").tags == {"validated": "yes"}
    client.delete_registered_model_tag(name, "owner")
    client.delete_model_version_tag(name, "1", "validated")
    client.delete_model_version_tag(name, "1", "never-set")  # MLflow: not an error
    assert client.get_registered_model(name).tags == {}
    assert client.get_model_version(name, "1").tags == {}
    with raises_code("RESOURCE_DOES_NOT_EXIST"):
        client.set_model_version_tag(name, "7", "k", "v")


def test_aliases(client, api, fail_fast):
    name = unique("alias")
    client.create_registered_model(name)
    for i in range(3):
        client.create_model_version(name, f"s3://bucket/a/{i}")
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    client.set_registered_model_alias(name, "champion", "3")  # re-pointed
    assert client.get_registered_model(name).aliases == {"champion": "3", "challenger": "2"}
    mv = client.get_model_version_by_alias(name, "champion")
    assert mv.version == "3"
    assert mv.aliases == ["champion"]
    assert client.get_model_version(name, "2").aliases == ["challenger"]
    assert client.get_model_version_by_alias(name, "latest").version == "3"

    client.delete_registered_model_alias(name, "challenger")
    assert client.get_registered_model(name).aliases == {"champion": "3"}
    with pytest.raises(MlflowException, match="Registered model alias challenger not found."):
        client.get_model_version_by_alias(name, "challenger")
    with pytest.raises(MlflowException, match="is reserved"):
        client.set_registered_model_alias(name, "latest", "1")
    with pytest.raises(MlflowException, match="is reserved"):
        client.set_registered_model_alias(name, "v1", "1")
    with raises_code("RESOURCE_DOES_NOT_EXIST"):
        client.set_registered_model_alias(name, "ghost", "9")

    # Deleting a version takes its aliases with it.
    client.delete_model_version(name, "3")
    assert client.get_registered_model(name).aliases == {}
    assert_error(api.get("/api/2.0/mlflow/registered-models/alias", name=name, alias="champion"),
                 400, "INVALID_PARAMETER_VALUE", "Registered model alias champion not found.")


def test_stages_and_latest_versions(client, api):
    name = unique("stages")
    client.create_registered_model(name)
    for i in range(4):
        client.create_model_version(name, f"s3://bucket/s/{i}")
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "staging")
    mv = client.transition_model_version_stage(name, "3", "production",
                                               archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert client.get_model_version(name, "2").current_stage == "Staging"

    prod = client.get_latest_versions(name, stages=["Production"])
    assert [v.version for v in prod] == ["3"]
    every = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert every == {"Archived": "1", "Staging": "2", "Production": "3", "None": "4"}
    with pytest.raises(MlflowException, match="Invalid Model Version stage"):
        client.transition_model_version_stage(name, "4", "prod")
    # MLflow answers this user error with a 500 (which its client retries for minutes);
    # plinth answers 400 with the same message.
    r = api.post("/api/2.0/mlflow/model-versions/transition-stage",
                 {"name": name, "version": "4", "stage": "Archived",
                  "archive_existing_versions": True})
    assert r.status_code == (400 if is_plinth() else 500), r.text
    assert "is not an Active stage" in r.json()["message"]


def test_register_model_from_a_logged_model(client, server, experiment_id):
    """MLflow 3's flow: log_model makes a logged model; register_model("runs:/<run>/model")
    finds it and registers models:/<model_id>; the version loads back by name and by alias."""
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="model", python_model=Doubler())
    rid = run.info.run_id
    name = unique("registered")
    mv = mlflow.register_model(f"runs:/{rid}/model", name)
    assert mv.version == "1"
    assert mv.run_id == rid
    assert mv.source == f"models:/{info.model_id}"
    lm = mlflow.get_logged_model(info.model_id)
    assert client.get_model_version_download_uri(name, "1") == lm.artifact_location
    registrations = json.loads(lm.tags["mlflow.modelVersions"])
    assert {(r["name"], str(r["version"])) for r in registrations} == {(name, "1")}

    # Again, straight from the logged model's URI: version 2 of the same model.
    mv2 = mlflow.register_model(info.model_uri, name)
    assert mv2.version == "2" and mv2.run_id == rid

    client.set_registered_model_alias(name, "production", "2")
    for uri in (f"models:/{name}/1", f"models:/{name}@production", f"models:/{name}/latest"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert list(loaded.predict([1, 2])) == [2, 4], uri

    # A version registered from another registered version shares its files and run.
    copy = unique("copy")
    client.create_registered_model(copy)
    mv3 = client.create_model_version(copy, f"models:/{name}@production")
    assert mv3.source == f"models:/{name}/2"
    assert mv3.run_id == rid
    assert client.get_model_version_download_uri(copy, "1") == lm.artifact_location


def test_register_model_from_run_artifacts(client, experiment_id, tmp_path):
    """The MLflow 2 flow: a model folder (with an MLmodel file) among the run's artifacts is
    registered from its artifact URI, which must lie inside the run's artifact root."""
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "MLmodel"), artifact_path="model")
    rid = run.info.run_id
    name = unique("classic")
    mv = mlflow.register_model(f"runs:/{rid}/model", name)
    assert mv.run_id == rid
    assert mv.source == f"{run.info.artifact_uri}/model"
    assert client.get_model_version_download_uri(name, mv.version) == mv.source
    if not artifacts_direct():  # proxied (mlflow-artifacts:) sources must lie in their run
        other = client.create_run(experiment_id).info.run_id
        with pytest.raises(MlflowException, match="must identify the resource"):
            client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=other)


def test_register_model_creates_the_registered_model_once(client, experiment_id):
    name = unique("fluent")
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(name="model", python_model=Doubler())
    rid = run.info.run_id
    assert mlflow.register_model(f"runs:/{rid}/model", name).version == "1"
    # The second call meets RESOURCE_ALREADY_EXISTS for the model and goes on.
    assert mlflow.register_model(f"runs:/{rid}/model", name).version == "2"
    assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["2", "1"]


def test_prompts_live_in_the_registry_but_out_of_model_searches():
    """mlflow.genai's prompt registry is the model registry with mlflow.prompt.* tags: prompts
    version, alias and load, and plain model searches leave them out."""
    name = unique("prompt").replace("-", "_")
    p1 = mlflow.genai.register_prompt(name=name, template="Hi {{name}}", commit_message="first")
    assert p1.version == 1
    p2 = mlflow.genai.register_prompt(name=name, template="Hello {{name}}!")
    assert p2.version == 2
    assert mlflow.genai.load_prompt(f"prompts:/{name}/1").template == "Hi {{name}}"
    mlflow.genai.set_prompt_alias(name, alias="prod", version=1)
    assert mlflow.genai.load_prompt(f"prompts:/{name}@prod").template == "Hi {{name}}"
    assert name not in [m.name for m in mlflow.search_registered_models(max_results=1000)]
    assert name in [p.name for p in mlflow.genai.search_prompts(max_results=1000)]


@pytest.mark.plinth_only
@pytest.mark.skipif(not is_plinth(), reason="Plinth's own alias history and CLI")
def test_promote_and_rollback_with_the_cli(client, server):
    name = unique("cli")
    client.create_registered_model(name)
    for i in range(3):
        client.create_model_version(name, f"s3://bucket/cli/{i}")
    env = {**os.environ, "MLFLOW_TRACKING_URI": server.url}

    def plinth(*args):
        done = subprocess.run([str(plinth_bin()), "models", *args], env=env,
                              capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr

    for version in ("1", "2", "3"):
        rc, out = plinth("promote", name, version, "--alias", "production")
        assert rc == 0, out
    client.set_registered_model_alias(name, "production", "2")  # an MLflow client moves it too
    rc, out = plinth("rollback", name, "--alias", "production")
    assert rc == 0, out
    assert client.get_model_version_by_alias(name, "production").version == "3"
    rc, out = plinth("rollback", name, "--alias", "production")
    assert rc == 0, out
    assert client.get_model_version_by_alias(name, "production").version == "2"
    rc, out = plinth("history", name, "--alias", "production")
    assert rc == 0, out
    assert out.count("rollback") == 2 and "promote" in out
