"""Registers the best run and the runner-up of the demo's study (experiment given as the first
argument, "churn-xgb" by default) as versions of the `churn` model, with plain MLflow client
calls, and prints `best=N runner_up=M` for scripts/demo.sh."""
import sys

import mlflow

experiment = sys.argv[1] if len(sys.argv) > 1 else "churn-xgb"
runs = mlflow.search_runs(experiment_names=[experiment],
                          filter_string="tags.model_logged = 'true'",
                          order_by=["metrics.val_loss ASC"], max_results=50,
                          output_format="list")
# The best two distinct settings (repeated demos log the same settings again).
distinct = {}
for run in runs:
    distinct.setdefault(run.info.run_name, run)
versions = []
for run in list(distinct.values())[:2]:
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn",
                               tags={"val_loss": f"{run.data.metrics['val_loss']:.4f}"})
    versions.append(mv.version)
    print(f"registered {run.info.run_name} (val_loss {run.data.metrics['val_loss']:.4f}) "
          f"as churn version {mv.version}", flush=True)
print(f"best={versions[0]} runner_up={versions[1]}")
