"""Plinth quickstart: ordinary MLflow client code, pointed at `plinth server`.

Run with MLFLOW_TRACKING_URI=http://127.0.0.1:5000 (make demo does this). Nothing here is
Plinth-specific: the same script works unchanged against `mlflow server`.
"""
import json
import math
import os
import random
import tempfile

import mlflow
from mlflow import MlflowClient


def train(lr: float, depth: int, epochs: int = 30, seed: int = 0) -> None:
    """A toy training loop with a realistic-looking loss curve."""
    rng = random.Random(seed)
    with mlflow.start_run(run_name=f"gbt-lr{lr}-d{depth}"):
        mlflow.log_params({"learning_rate": lr, "max_depth": depth, "epochs": epochs,
                           "model": "gradient-boosted-trees"})
        mlflow.set_tags({"team": "churn", "stage": "demo"})
        floor = 0.18 + 0.02 * abs(depth - 6) + (0.05 if lr > 0.2 else 0.0)
        for epoch in range(epochs):
            train_loss = floor + 0.8 * math.exp(-lr * 4 * epoch) + rng.gauss(0, 0.005)
            val_loss = train_loss + 0.03 + 0.002 * max(0, epoch - 20) * depth / 6
            mlflow.log_metrics({"train_loss": train_loss, "val_loss": val_loss,
                                "val_auc": 1.0 - val_loss / 2}, step=epoch)
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report.json")
            with open(report, "w") as f:
                json.dump({"lr": lr, "depth": depth, "final_val_loss": val_loss}, f, indent=2)
            mlflow.log_artifact(report, artifact_path="reports")
        mlflow.log_text(f"learning_rate={lr}\nmax_depth={depth}\n", "config/params.txt")


def main() -> None:
    uri = mlflow.get_tracking_uri()
    mlflow.set_experiment("plinth-quickstart")
    for seed, (lr, depth) in enumerate([(0.05, 4), (0.1, 6), (0.3, 8), (0.1, 8)]):
        train(lr, depth, seed=seed)

    best = mlflow.search_runs(experiment_names=["plinth-quickstart"],
                              filter_string="params.model = 'gradient-boosted-trees'",
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
