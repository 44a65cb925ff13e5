#!/usr/bin/env python3
"""Trains seeded XGBoost models, saves them as MLflow models and records what the reference
stack answers for them, for src/serving/serving_golden_test.cc.

Run from the repository root after scripts/setup-peers.sh (which pins xgboost 3.2.0):

    .venv-peers/bin/python tests/golden/serving/make_golden.py OUT_DIR

scripts/test.sh runs it into $BUILD_DIR/serving-golden before ctest (nothing generated is
committed: models and 10,000-row tables are a few MB). OUT_DIR receives:

* one MLflow model directory per model (`mlflow.xgboost.save_model`: model.ubj by default, one
  model.json), trained on data with missing values (NaN);
* `<model>.x.f32`: 10,000 input rows (row-major little-endian float32, about 10% NaN);
* `<model>.<output>.f64`: the expected outputs (row-major little-endian float64) —
  `pyfunc` = `mlflow.pyfunc.load_model(dir).predict(df)`, `margin` = XGBoost's output_margin,
  `value` = the booster's transformed output, `proba` = predict_proba (sklearn classifiers);
* `manifest.json` listing every model, its files and the shape of each output.

Everything is seeded; a rerun with the same packages writes the same numbers.
OUT_DIR/make_golden.stamp holds a hash of this script and of the package versions: when it
matches, the script exits at once (scripts/test.sh calls it on every run).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import warnings

STAMP = "make_golden.stamp"


def inputs_hash() -> str:
    """This script and the versions of what it runs: the generated files depend on nothing else."""
    h = hashlib.sha256()
    with open(__file__, "rb") as f:
        h.update(f.read())
    for package in ("xgboost", "mlflow", "scikit-learn", "numpy", "pandas"):
        h.update(f"{package}=={importlib.metadata.version(package)}\n".encode())
    return h.hexdigest()


def up_to_date(out_dir: str, digest: str) -> bool:
    try:
        with open(os.path.join(out_dir, STAMP)) as f:
            return f.read().strip() == digest
    except OSError:
        return False


# The heavy imports come after the up-to-date check so that an unchanged rerun costs ~nothing.
if __name__ == "__main__" and len(sys.argv) == 2 and up_to_date(sys.argv[1], inputs_hash()):
    print(f"make_golden: {sys.argv[1]} up to date")
    sys.exit(0)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_TRACKING_URI", "file:///dev/null")  # never touch a tracking server

import mlflow  # noqa: E402
import mlflow.pyfunc  # noqa: E402
import mlflow.xgboost  # noqa: E402
import sklearn  # noqa: E402
import xgboost as xgb  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402

ROWS = 10_000
TRAIN_ROWS = 4_000
NAN_FRACTION = 0.1


def make_data(seed: int, n_features: int, rows: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, n_features)).astype(np.float32)
    x[:, ::3] *= 10.0  # a few wide-ranged columns
    x[rng.random(size=x.shape) < NAN_FRACTION] = np.nan
    return x


def latent(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1000)
    w = rng.normal(size=x.shape[1])
    z = np.nan_to_num(x, nan=0.0).astype(np.float64)
    return z @ w / np.sqrt(x.shape[1]) + 0.5 * np.sin(z[:, 0]) + rng.normal(scale=0.3, size=len(x))


def frame(x: np.ndarray, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(x, columns=names)


def write_array(out_dir: str, name: str, array) -> dict:
    array = np.asarray(array)
    shape = list(array.shape)
    array.astype("<f8").tofile(os.path.join(out_dir, name))
    return {"file": name, "shape": shape}


def record(out_dir: str, name: str, model, x_test: np.ndarray, names: list[str], *,
           model_format: str = "ubj", signature: bool = True) -> dict:
    """Saves `model` as an MLflow model and writes its expected outputs on `x_test`."""
    path = os.path.join(out_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    df = frame(x_test, names)
    sig = None
    if signature:
        pred = model.predict(df if not isinstance(model, xgb.Booster) else xgb.DMatrix(df))
        sig = infer_signature(df.head(50), np.asarray(pred)[:50])
    mlflow.xgboost.save_model(model, path, model_format=model_format, signature=sig)

    x_file = f"{name}.x.f32"
    x_test.astype("<f4").tofile(os.path.join(out_dir, x_file))
    entry = {"name": name, "dir": name, "x": x_file, "rows": int(x_test.shape[0]),
             "cols": int(x_test.shape[1]), "model_format": model_format, "outputs": {}}
    outputs = entry["outputs"]

    pyfunc = mlflow.pyfunc.load_model(path)
    outputs["pyfunc"] = write_array(out_dir, f"{name}.pyfunc.f64", pyfunc.predict(df))

    if isinstance(model, xgb.Booster):
        booster = model
        iteration_range = (0, 0)
    else:
        booster = model.get_booster()
        iteration_range = model._get_iteration_range(None)  # sklearn honours best_iteration
        entry["iteration_end"] = int(iteration_range[1])
    dm = xgb.DMatrix(df)
    outputs["margin"] = write_array(
        out_dir, f"{name}.margin.f64",
        booster.predict(dm, output_margin=True, iteration_range=iteration_range))
    outputs["value"] = write_array(out_dir, f"{name}.value.f64",
                                   booster.predict(dm, iteration_range=iteration_range))
    if isinstance(model, xgb.XGBClassifier):
        outputs["proba"] = write_array(out_dir, f"{name}.proba.f64", model.predict_proba(df))
    config = json.loads(booster.save_config())["learner"]
    entry["objective"] = config["objective"]["name"]
    entry["booster"] = config["gradient_booster"]["name"]
    return entry


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_golden.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    digest = inputs_hash()
    try:
        os.remove(os.path.join(out_dir, STAMP))  # a run cut short must not look complete
    except FileNotFoundError:
        pass
    models = []

    def names_for(n: int, prefix: str = "feature_") -> list[str]:
        return [f"{prefix}{i}" for i in range(n)]

    # sklearn binary classifier, trained on a DataFrame (feature names in the model file).
    seed, nf = 1, 12
    x, xt = make_data(seed, nf, TRAIN_ROWS), make_data(seed + 100, nf, ROWS)
    names = names_for(nf)
    y = (latent(x, seed) > 0.2).astype(int)
    m = xgb.XGBClassifier(n_estimators=60, max_depth=5, learning_rate=0.1, random_state=seed)
    m.fit(frame(x, names), y)
    models.append(record(out_dir, "sk_binary", m, xt, names))

    # sklearn regressor saved as JSON instead of UBJSON.
    seed, nf = 2, 10
    x, xt = make_data(seed, nf, TRAIN_ROWS), make_data(seed + 100, nf, ROWS)
    names = names_for(nf, "x")
    m = xgb.XGBRegressor(n_estimators=80, max_depth=6, learning_rate=0.1, random_state=seed)
    m.fit(frame(x, names), latent(x, seed) * 3.0 + 7.0)
    models.append(record(out_dir, "sk_regressor_json", m, xt, names, model_format="json"))

    # sklearn multiclass (multi:softprob, per-class intercepts in xgboost >= 3.1).
    seed, nf = 3, 8
    x, xt = make_data(seed, nf, TRAIN_ROWS), make_data(seed + 100, nf, ROWS)
    names = names_for(nf)
    y = np.digitize(latent(x, seed), [-0.8, 0.0, 0.7])
    m = xgb.XGBClassifier(n_estimators=30, max_depth=4, learning_rate=0.2, random_state=seed)
    m.fit(frame(x, names), y)
    models.append(record(out_dir, "sk_multiclass", m, xt, names))

    # sklearn classifier with early stopping: predict uses best_iteration, not every tree.
    seed, nf = 4, 9
    x, xt = make_data(seed, nf, TRAIN_ROWS), make_data(seed + 100, nf, ROWS)
    xv = make_data(seed + 200, nf, 1000)
    names = names_for(nf)
    m = xgb.XGBClassifier(n_estimators=300, max_depth=3, learning_rate=0.3, random_state=seed,
                          early_stopping_rounds=5)
    m.fit(frame(x, names), (latent(x, seed) > 0).astype(int),
          eval_set=[(frame(xv, names), (latent(xv, seed) > 0).astype(int))], verbose=False)
    models.append(record(out_dir, "sk_early_stopping", m, xt, names))

    # sklearn gamma regressor (log link).
    seed, nf = 5, 7
    x, xt = make_data(seed, nf, TRAIN_ROWS), make_data(seed + 100, nf, ROWS)
    names = names_for(nf)
    m = xgb.XGBRegressor(objective="reg:gamma", n_estimators=40, max_depth=4, random_state=seed)
    m.fit(frame(x, names), np.exp(latent(x, seed) * 0.5) + 0.1)
    models.append(record(out_dir, "sk_gamma", m, xt, names))

    # Raw Boosters trained on numpy arrays (no feature names in the model file).
    def train_booster(seed, nf, params, label_fn, rounds):
        x, xt = make_data(seed, nf, TRAIN_ROWS), make_data(seed + 100, nf, ROWS)
        booster = xgb.train({**params, "seed": seed}, xgb.DMatrix(x, label=label_fn(x, seed)),
                            num_boost_round=rounds)
        return booster, xt

    b, xt = train_booster(6, 15, {"objective": "binary:logistic", "max_depth": 5, "eta": 0.15},
                          lambda x, s: (latent(x, s) > 0).astype(float), 40)
    models.append(record(out_dir, "booster_logistic", b, xt, names_for(15, "f")))

    b, xt = train_booster(7, 6, {"objective": "count:poisson", "max_depth": 4, "eta": 0.1},
                          lambda x, s: np.random.default_rng(s).poisson(np.exp(latent(x, s))), 50)
    models.append(record(out_dir, "booster_poisson", b, xt, names_for(6, "f"), signature=False))

    b, xt = train_booster(8, 5, {"objective": "multi:softprob", "num_class": 3, "max_depth": 3},
                          lambda x, s: np.digitize(latent(x, s), [-0.5, 0.5]), 20)
    models.append(record(out_dir, "booster_softprob", b, xt, names_for(5, "f")))

    b, xt = train_booster(9, 5, {"objective": "multi:softmax", "num_class": 4, "max_depth": 3},
                          lambda x, s: np.digitize(latent(x, s), [-0.7, 0.0, 0.7]), 20)
    models.append(record(out_dir, "booster_softmax", b, xt, names_for(5, "f")))

    b, xt = train_booster(10, 8, {"objective": "binary:logitraw", "max_depth": 4},
                          lambda x, s: (latent(x, s) > 0.3).astype(float), 25)
    models.append(record(out_dir, "booster_logitraw", b, xt, names_for(8, "f")))

    # A linear booster: no trees, so `auto` serves it with the XGBoost runtime.
    b, xt = train_booster(13, 7, {"objective": "reg:squarederror", "booster": "gblinear"},
                          lambda x, s: latent(x, s) * 2.0 + 1.0, 30)
    models.append(record(out_dir, "booster_gblinear", b, xt, names_for(7, "f")))

    # DART: flat-trees folds the per-tree weights into the leaves.
    b, xt = train_booster(12, 6, {"objective": "binary:logistic", "booster": "dart",
                                  "max_depth": 4, "rate_drop": 0.2, "skip_drop": 0.3},
                          lambda x, s: (latent(x, s) > 0).astype(float), 20)
    models.append(record(out_dir, "booster_dart", b, xt, names_for(6, "f")))

    # The benchmark model: 200 trees of depth 6 on 30 features.
    seed, nf = 11, 30
    x, xt = make_data(seed, nf, 8_000), make_data(seed + 100, nf, ROWS)
    names = names_for(nf)
    m = xgb.XGBClassifier(n_estimators=200, max_depth=6, learning_rate=0.05, random_state=seed)
    m.fit(frame(x, names), (latent(x, seed) > 0).astype(int))
    models.append(record(out_dir, "bench_200x6x30", m, xt, names))

    manifest = {
        "xgboost_version": xgb.__version__,
        "mlflow_version": mlflow.__version__,
        "sklearn_version": sklearn.__version__,
        "models": models,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(out_dir, STAMP), "w") as f:
        f.write(digest + "\n")
    print(f"make_golden: {len(models)} models into {out_dir}")


if __name__ == "__main__":
    main()
