"""Seeds N runs into an MLflow SQLite store through MLflow's own SQLAlchemy models.

The schema is created by mlflow's SqlAlchemyStore (its alembic migrations), the experiment by its
create_experiment; the runs, tags, params, metrics and latest_metrics rows are then inserted in
bulk with SQLAlchemy Core into those same tables, filled as MLflow's create_run / log_batch fill
them — one statement per table per chunk, instead of ~4 requests per run through `mlflow server`
(which would take the better part of an hour for 100,000 runs). The runs are the ones
bench/ui/runs.mjs logs into plinth over REST (same names, times, params, metrics and tags).

    python bench/ui/seed_mlflow.py --db DIR/mlflow.db --runs 100000
prints the experiment id.
"""

import argparse
import os
import sys

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

from mlflow.store.tracking.dbmodels.models import (  # noqa: E402
    SqlLatestMetric,
    SqlMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore  # noqa: E402

T0 = 1735689600000  # 2025-01-01T00:00:00Z
LRS = ["0.1", "0.01", "0.001", "0.0001"]
OPTIMIZERS = ["adam", "sgd", "rmsprop"]
BATCHES = ["32", "64", "128", "256"]
TEAMS = ["vision", "nlp", "tabular", "speech"]


def run_spec(i):
    """Run i, exactly as bench/ui/runs.mjs's runSpec(i) logs it into plinth."""
    acc = (i * 7919 % 10007) / 10007
    start = T0 + i * 1000
    return {
        "name": f"run-{i:06d}",
        "start": start,
        "end": start + 60000,
        "params": {
            "lr": LRS[i % 4],
            "depth": str(2 + i % 10),
            "optimizer": OPTIMIZERS[i % 3],
            "batch_size": BATCHES[(i // 4) % 4],
        },
        "metrics": {"acc": acc, "loss": 1 - acc, "f1": acc * 0.9},
        "tags": {"mlflow.runName": f"run-{i:06d}", "mlflow.user": "bench", "team": TEAMS[i % 4]},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=100000)
    ap.add_argument("--chunk", type=int, default=5000)
    args = ap.parse_args()

    store = SqlAlchemyStore(f"sqlite:///{args.db}", "mlflow-artifacts:/")
    exp_id = store.create_experiment("bench-runs")
    store.set_experiment_tag(exp_id, _tag("mlflow.experimentKind", "custom_model_development"))
    artifact_root = store.get_experiment(exp_id).artifact_location

    tables = [SqlRun, SqlTag, SqlParam, SqlMetric, SqlLatestMetric]
    with store.engine.begin() as conn:
        for lo in range(0, args.runs, args.chunk):
            rows = {t: [] for t in tables}
            for i in range(lo, min(args.runs, lo + args.chunk)):
                s = run_spec(i)
                run_uuid = f"{i:032x}"
                rows[SqlRun].append({
                    "run_uuid": run_uuid,
                    "name": s["name"],
                    "source_type": "LOCAL",
                    "source_name": "",
                    "entry_point_name": "",
                    "user_id": "bench",
                    "status": "FINISHED",
                    "start_time": s["start"],
                    "end_time": s["end"],
                    "deleted_time": None,
                    "source_version": "",
                    "lifecycle_stage": "active",
                    "artifact_uri": f"{artifact_root}/{run_uuid}/artifacts",
                    "experiment_id": int(exp_id),
                })
                for k, v in s["tags"].items():
                    rows[SqlTag].append({"key": k, "value": v, "run_uuid": run_uuid})
                for k, v in s["params"].items():
                    rows[SqlParam].append({"key": k, "value": v, "run_uuid": run_uuid})
                for k, v in s["metrics"].items():
                    m = {"key": k, "value": v, "timestamp": s["end"], "step": 0, "is_nan": False,
                         "run_uuid": run_uuid}
                    rows[SqlMetric].append(m)
                    rows[SqlLatestMetric].append(dict(m))
            for t in tables:
                conn.execute(t.__table__.insert(), rows[t])
    print(exp_id)


def _tag(key, value):
    from mlflow.entities import ExperimentTag

    return ExperimentTag(key, value)


if __name__ == "__main__":
    sys.exit(main())
