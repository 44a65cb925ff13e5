"""Plinth quickstart: ordinary MLflow client code, pointed at `plinth server`.

Run with MLFLOW_TRACKING_URI=http://127.0.0.1:5000 (make demo does this). Nothing here is
Plinth-specific: the same script works unchanged against `mlflow server`. Each run trains an
XGBoost churn classifier on synthetic data, logs its learning curves, a report, and the model
itself (`mlflow.xgboost.log_model`), which `make demo` then registers and serves.
"""
import json
import os
import tempfile

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow import MlflowClient
from mlflow.models import infer_signature

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_months",
            "late_payments", "usage_gb"]


def churn_data(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic customers; churn is likelier with short tenure, many calls, late payments."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        "tenure_months": rng.integers(1, 72, rows).astype(float),
        "monthly_charges": rng.normal(70, 20, rows).round(2),
        "support_calls": rng.poisson(1.5, rows).astype(float),
        "contract_months": rng.choice([1.0, 12.0, 24.0], rows),
        "late_payments": rng.poisson(0.5, rows).astype(float),
        "usage_gb": rng.gamma(2.0, 20.0, rows).round(1),
    })
    logit = (-1.0 - 0.04 * x.tenure_months + 0.5 * x.support_calls + 0.8 * x.late_payments
             - 0.05 * x.contract_months + 0.01 * (x.monthly_charges - 70))
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def train(lr: float, depth: int, rounds: int = 60, seed: int = 0) -> None:
    x_train, y_train = churn_data(4000, seed=100)
    x_val, y_val = churn_data(1000, seed=200)
    with mlflow.start_run(run_name=f"xgb-lr{lr}-d{depth}"):
        mlflow.log_params({"learning_rate": lr, "max_depth": depth, "n_estimators": rounds,
                           "model": "gradient-boosted-trees"})
        mlflow.set_tags({"team": "churn", "stage": "demo"})
        model = xgb.XGBClassifier(n_estimators=rounds, max_depth=depth, learning_rate=lr,
                                  eval_metric=["logloss", "auc"], random_state=seed)
        model.fit(x_train, y_train, eval_set=[(x_train, y_train), (x_val, y_val)],
                  verbose=False)
        curves = model.evals_result()
        for step in range(rounds):
            mlflow.log_metrics({"train_loss": curves["validation_0"]["logloss"][step],
                                "val_loss": curves["validation_1"]["logloss"][step],
                                "val_auc": curves["validation_1"]["auc"][step]}, step=step)
        val_loss = curves["validation_1"]["logloss"][-1]
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report.json")
            with open(report, "w") as f:
                json.dump({"lr": lr, "depth": depth, "final_val_loss": val_loss}, f, indent=2)
            mlflow.log_artifact(report, artifact_path="reports")
        mlflow.log_text(f"learning_rate={lr}\nmax_depth={depth}\n", "config/params.txt")
        mlflow.xgboost.log_model(model, name="model",
                                 signature=infer_signature(x_val, model.predict(x_val)),
                                 input_example=x_val.head(2))


def main() -> None:
    uri = mlflow.get_tracking_uri()
    mlflow.set_experiment("plinth-quickstart")
    for seed, (lr, depth) in enumerate([(0.05, 4), (0.1, 3), (0.3, 8), (0.1, 6)]):
        train(lr, depth, seed=seed)

    best = mlflow.search_runs(experiment_names=["plinth-quickstart"],
                              filter_string="params.model = 'gradient-boosted-trees' AND params.n_estimators = '60'",
                              order_by=["metrics.val_loss ASC"], max_results=1,
                              output_format="list")[0]
    client = MlflowClient()
    history = client.get_metric_history(best.info.run_id, "val_loss")
    files = [f.path for f in client.list_artifacts(best.info.run_id, "reports")]
    print()
    print(f"Best run: {best.info.run_name} ({best.info.run_id})")
    print(f"  params:   lr={best.data.params['learning_rate']} depth={best.data.params['max_depth']}")
    print(f"  val_loss: {best.data.metrics['val_loss']:.4f} after {len(history)} logged steps")
    print(f"  artifacts: {files}")
    print(f"Tracking server: {uri}  (REST: {uri}/api/2.0/mlflow/experiments/search)")


if __name__ == "__main__":
    main()
