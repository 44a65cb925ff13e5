"""Dataset inputs (log_input / log_inputs) and the MLflow 3 logged-model flow (pyfunc.log_model)."""

import json

import mlflow
import pytest
from mlflow.entities import Dataset, DatasetInput, InputTag


def test_log_input_meta_dataset(client, experiment_id):
    from mlflow.data.http_dataset_source import HTTPDatasetSource
    from mlflow.data.meta_dataset import MetaDataset

    ds = MetaDataset(source=HTTPDatasetSource(url="https://example.com/train.csv"),
                     name="train-set", digest="d1g3st")
    with mlflow.start_run() as run:
        mlflow.log_input(ds, context="training", tags={"split": "train"})
        mlflow.log_input(ds, context="training")  # same dataset+context again: kept once
    inputs = client.get_run(run.info.run_id).inputs
    assert len(inputs.dataset_inputs) == 1
    di = inputs.dataset_inputs[0]
    assert di.dataset.name == "train-set"
    assert di.dataset.digest == "d1g3st"
    assert di.dataset.source_type == "http"
    assert json.loads(di.dataset.source) == {"url": "https://example.com/train.csv"}
    tags = {t.key: t.value for t in di.tags}
    assert tags == {"mlflow.data.context": "training", "split": "train"}


def test_log_inputs_entities_several_datasets(client, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    d1 = Dataset(name="a", digest="111", source_type="local", source='{"uri": "/tmp/a"}',
                 schema='{"mlflow_colspec": []}', profile='{"num_rows": 3}')
    d2 = Dataset(name="b", digest="222", source_type="http", source='{"url": "http://x/b"}')
    client.log_inputs(rid, datasets=[
        DatasetInput(d1, tags=[InputTag("mlflow.data.context", "train")]),
        DatasetInput(d2, tags=[InputTag("mlflow.data.context", "eval")]),
    ])
    got = {di.dataset.name: di for di in client.get_run(rid).inputs.dataset_inputs}
    assert set(got) == {"a", "b"}
    assert got["a"].dataset.schema == '{"mlflow_colspec": []}'
    assert got["a"].dataset.profile == '{"num_rows": 3}'
    assert got["b"].dataset.source == '{"url": "http://x/b"}'
    assert [t.value for t in got["b"].tags] == ["eval"]
    # search_runs returns inputs too, and can filter on them
    (found,) = client.search_runs([experiment_id], "dataset.name = 'b'")
    assert found.info.run_id == rid
    assert {di.dataset.name for di in found.inputs.dataset_inputs} == {"a", "b"}
    assert client.search_runs([experiment_id], "dataset.context = 'eval'")[0].info.run_id == rid
    assert client.search_runs([experiment_id], "dataset.digest = 'nope'") == []


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


def test_pyfunc_log_model_logged_model_flow(client, server, experiment_id, tmp_path):
    with mlflow.start_run() as run:
        mlflow.log_param("lr", "0.1")
        mlflow.log_metric("acc", 0.9, step=3)
        info = mlflow.pyfunc.log_model(name="model", python_model=Doubler())
    rid = run.info.run_id
    assert info.model_id.startswith("m-")
    assert info.model_uri == f"models:/{info.model_id}"

    lm = mlflow.get_logged_model(info.model_id)
    assert lm.model_id == info.model_id
    assert lm.name == "model"
    assert lm.experiment_id == experiment_id
    assert lm.source_run_id == rid
    assert str(lm.status) in ("READY", "LoggedModelStatus.READY")
    assert lm.artifact_location == (
        f"{server.artifact_root}/{experiment_id}/models/{info.model_id}/artifacts")
    assert lm.params.get("lr") == "0.1"

    outputs = client.get_run(rid).outputs
    assert [(o.model_id, o.step) for o in outputs.model_outputs] == [(info.model_id, 0)]

    # the model's files went through the artifact proxy (or straight to the store) and load back
    names = {f.path.rsplit("/", 1)[-1]
             for f in mlflow.artifacts.list_artifacts(artifact_uri=lm.artifact_location)}
    assert {"MLmodel", "python_model.pkl"} <= names
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert list(loaded.predict([1, 2, 3])) == [2, 4, 6]

    found = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    assert [m.model_id for m in found] == [info.model_id]
    found = mlflow.search_logged_models(experiment_ids=[experiment_id],
                                        filter_string="name = 'model'", output_format="list")
    assert [m.model_id for m in found] == [info.model_id]
