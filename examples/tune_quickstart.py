"""The demo's training as a short hyperparameter study: plinth.tune (Optuna's API) with the study
kept by `plinth server` (storage = the tracking URI), so every trial is a tracked MLflow run.
TPE picks learning rate, depth and subsampling; the median pruner stops trials whose
validation loss lags after a few boosting rounds (reported from an XGBoost callback).
Completed trials log their learning curves, a report and the model into their run."""
import json
import os
import tempfile

import mlflow
import xgboost as xgb
from mlflow.models import infer_signature

import plinth.tune
from quickstart import churn_data

STUDY = "churn-xgb"
ROUNDS = 60


class ReportToTrial(xgb.callback.TrainingCallback):
    """Reports the validation log loss every 5 rounds and stops the trial when the pruner says."""

    def __init__(self, trial):
        self.trial = trial

    def after_iteration(self, model, epoch, evals_log):
        if epoch % 5 == 4:
            self.trial.report(evals_log["validation_1"]["logloss"][-1], epoch)
            if self.trial.should_prune():
                raise plinth.tune.TrialPruned()
        return False


def objective(trial):
    lr = trial.suggest_float("learning_rate", 0.01, 0.5, log=True)
    depth = trial.suggest_int("max_depth", 2, 8)
    subsample = trial.suggest_float("subsample", 0.5, 1.0)
    x_train, y_train = churn_data(4000, seed=100)
    x_val, y_val = churn_data(1000, seed=200)
    model = xgb.XGBClassifier(n_estimators=ROUNDS, max_depth=depth, learning_rate=lr,
                              subsample=subsample, eval_metric=["logloss", "auc"],
                              random_state=trial.number, callbacks=[ReportToTrial(trial)])
    model.fit(x_train, y_train, eval_set=[(x_train, y_train), (x_val, y_val)], verbose=False)
    curves = model.evals_result()
    val_loss = curves["validation_1"]["logloss"][-1]
    # The trial's run exists already (the server made it): log the rest of what it produced.
    with mlflow.start_run(run_id=trial.run_id):
        for step in range(ROUNDS):
            mlflow.log_metrics({"train_loss": curves["validation_0"]["logloss"][step],
                                "val_loss": curves["validation_1"]["logloss"][step],
                                "val_auc": curves["validation_1"]["auc"][step]}, step=step)
        mlflow.log_params({"n_estimators": ROUNDS, "model": "gradient-boosted-trees"})
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report.json")
            with open(report, "w") as f:
                json.dump({"learning_rate": lr, "max_depth": depth, "val_loss": val_loss}, f)
            mlflow.log_artifact(report, artifact_path="reports")
        mlflow.xgboost.log_model(model, name="model",
                                 signature=infer_signature(x_val, model.predict(x_val)),
                                 input_example=x_val.head(2))
        mlflow.set_tag("model_logged", "true")
    return val_loss


def main() -> None:
    study = plinth.tune.create_study(
        storage=mlflow.get_tracking_uri(), study_name=STUDY, load_if_exists=True,
        sampler=plinth.tune.TPESampler(seed=42, n_startup_trials=8),
        pruner=plinth.tune.MedianPruner(n_startup_trials=5, n_warmup_steps=10))
    study.optimize(objective, n_trials=24)
    states = [t.state.name for t in study.trials]
    print(f"\nStudy {STUDY}: {len(states)} trials — {states.count('COMPLETE')} complete, "
          f"{states.count('PRUNED')} pruned")
    print(f"  best: trial {study.best_trial.number}, val_loss {study.best_value:.4f}, "
          f"params {study.best_params}")
    print(f"  experiment id {study._record['experiment_id']} (each trial is a run: trial-N)")


if __name__ == "__main__":
    main()
