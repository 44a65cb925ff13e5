"""plinth.tune in process: the Optuna-shaped API on the C++ engine. When Optuna is importable
(make test runs this file with .venv-tune, Optuna 5.0.0), seeded studies are compared with
Optuna's own, parameter for parameter."""

import math
import threading

import pytest

import plinth.tune as tune


def quadratic(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_int("y", -5, 5)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    return (x - 2) ** 2 + (y + 1) ** 2 + {"a": 1.0, "b": 0.0, "c": 2.0}[kind]


def test_optimize_finds_a_good_point_and_reports_like_optuna():
    study = tune.create_study(direction="minimize", sampler=tune.TPESampler(seed=1))
    study.optimize(quadratic, n_trials=80)
    assert len(study.trials) == 80
    assert all(t.state == tune.TrialState.COMPLETE for t in study.trials)
    assert study.best_value < 1.5
    assert set(study.best_params) == {"x", "y", "kind"}
    assert study.best_trial.value == study.best_value
    best = min(study.trials, key=lambda t: t.value)
    assert best.number == study.best_trial.number
    assert study.trials[0].duration is not None


def test_maximize_conditional_space_pruning_and_failures():
    def objective(trial):
        model = trial.suggest_categorical("model", ["linear", "tree"])
        if model == "tree":
            depth = trial.suggest_int("depth", 1, 8, log=True)
            score = depth / 8
        else:
            c = trial.suggest_float("c", 1e-3, 1e2, log=True)
            score = 1 - abs(math.log10(c)) / 5
        for step in range(3):
            trial.report(score * (step + 1) / 3, step)
        if trial.number % 7 == 3:
            raise tune.TrialPruned()
        if trial.number % 11 == 5:
            return float("nan")  # FAIL, as Optuna records a NaN objective
        return score

    study = tune.create_study(direction="maximize", sampler=tune.TPESampler(seed=3))
    study.optimize(objective, n_trials=40)
    states = [t.state for t in study.trials]
    assert states.count(tune.TrialState.PRUNED) == len([n for n in range(40) if n % 7 == 3])
    assert tune.TrialState.FAIL in states
    pruned = next(t for t in study.trials if t.state == tune.TrialState.PRUNED)
    assert pruned.intermediate_values and pruned.last_step == 2
    assert study.best_value <= 1.0
    df = study.trials_dataframe()
    assert list(df.columns[:5]) == ["number", "value", "datetime_start", "datetime_complete",
                                    "duration"]
    assert "params_model" in df.columns and len(df) == 40


def test_exceptions_fail_the_trial_and_propagate_unless_caught():
    def boom(trial):
        trial.suggest_float("x", 0, 1)
        raise RuntimeError("boom")

    study = tune.create_study()
    with pytest.raises(RuntimeError, match="boom"):
        study.optimize(boom, n_trials=3)
    assert [t.state for t in study.trials] == [tune.TrialState.FAIL]
    study.optimize(boom, n_trials=3, catch=(RuntimeError,))
    assert len(study.trials) == 4
    with pytest.raises(ValueError):
        study.best_trial


def test_callbacks_get_each_told_trial_as_optuna_hands_them():
    seen = []

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 1:
            raise tune.TrialPruned()
        return None if trial.number == 2 else x

    study = tune.create_study(sampler=tune.RandomSampler(seed=0))
    study.optimize(objective, n_trials=4, callbacks=[lambda s, t: seen.append((s, t))])
    assert [t.number for _, t in seen] == [0, 1, 2, 3]
    assert all(s is study for s, _ in seen)
    assert [t.state for _, t in seen] == [tune.TrialState.COMPLETE, tune.TrialState.PRUNED,
                                          tune.TrialState.FAIL, tune.TrialState.COMPLETE]
    assert seen[0][1].value == seen[0][1].params["x"]
    assert seen[3][1].datetime_complete is not None


def test_ask_tell_enqueue_grid_and_errors():
    study = tune.create_study(sampler=tune.RandomSampler(seed=0))
    study.enqueue_trial({"x": 0.25})
    t = study.ask()
    assert t.suggest_float("x", 0, 1) == 0.25
    study.tell(t, 1.0)
    with pytest.raises(ValueError):
        t.suggest_float("y", 1, 0)
    t2 = study.ask()
    with pytest.raises(ValueError):
        t2.suggest_float("x", 0, 1, log=True, step=0.1)
    study.tell(t2, state=tune.TrialState.FAIL)
    with pytest.raises(RuntimeError):
        study.tell(t2, 1.0)  # already finished

    grid = tune.create_study(sampler=tune.GridSampler({"a": [1, 2], "b": ["x", "y"]}, seed=0))
    grid.optimize(lambda tr: tr.suggest_int("a", 1, 2) + len(tr.suggest_categorical("b", ["x", "y"])),
                  n_trials=4)
    combos = {(tr.params["a"], tr.params["b"]) for tr in grid.trials}
    assert combos == {(1, "x"), (1, "y"), (2, "x"), (2, "y")}
    with pytest.raises(ValueError):
        tune.create_study(direction="sideways")


def test_parallel_jobs_run_every_trial_once():
    seen = []
    lock = threading.Lock()

    def objective(trial):
        with lock:
            seen.append(trial.number)
        return trial.suggest_float("x", 0, 1)

    study = tune.create_study(sampler=tune.TPESampler(seed=5))
    study.optimize(objective, n_trials=60, n_jobs=4)
    assert sorted(seen) == list(range(60))
    assert len(study.trials) == 60


optuna = pytest.importorskip("optuna", reason="Optuna is compared where it is installed")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seeded_tpe_study_suggests_what_optunas_does(seed):
    # No integer parameter: tied kernel centres are ordered by numpy's unstable argsort in
    # Optuna (platform-dependent), so whole studies are compared on spaces without ties
    # (src/tune/README.md, "Known differences").
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective_for(suggest):
        def objective(trial):
            x = suggest(trial, "float", "x", -5.0, 5.0)
            lr = suggest(trial, "log", "lr", 1e-4, 1e-1)
            c = suggest(trial, "cat", "c", ["relu", "tanh", "gelu"])
            return x * x + math.log10(lr) ** 2 / 10 + (c != "tanh")
        return objective

    def plinth_suggest(trial, kind, name, *args):
        if kind == "float":
            return trial.suggest_float(name, *args)
        if kind == "log":
            return trial.suggest_float(name, *args, log=True)
        if kind == "int":
            return trial.suggest_int(name, *args)
        return trial.suggest_categorical(name, *args)

    ours = tune.create_study(sampler=tune.TPESampler(seed=seed))
    ours.optimize(objective_for(plinth_suggest), n_trials=40)
    theirs = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    theirs.optimize(objective_for(plinth_suggest), n_trials=40)
    for a, b in zip(ours.trials, theirs.trials):
        assert a.params.keys() == b.params.keys()
        for k in a.params:
            if isinstance(a.params[k], float):
                assert a.params[k] == pytest.approx(b.params[k], rel=1e-9, abs=1e-12), (a.number, k)
            else:
                assert a.params[k] == b.params[k], (a.number, k)
    assert ours.best_value == pytest.approx(theirs.best_value, rel=1e-9)


def test_pruners_stop_bad_trials_like_optunas_default():
    def objective(trial):
        slope = trial.suggest_float("slope", 0.0, 1.0)
        for step in range(20):
            trial.report(slope * (step + 1), step)  # lower is better: big slopes are bad
            if trial.should_prune():
                raise tune.TrialPruned()
        return slope * 20

    for pruner in (None, tune.MedianPruner(n_startup_trials=3),
                   tune.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
                   tune.HyperbandPruner(min_resource=1, max_resource=20)):
        study = tune.create_study(sampler=tune.RandomSampler(seed=4), pruner=pruner)
        study.optimize(objective, n_trials=40)
        pruned = [t for t in study.trials if t.state == tune.TrialState.PRUNED]
        assert pruned, pruner
        complete = [t.params["slope"] for t in study.trials if t.state == tune.TrialState.COMPLETE]
        # What survives is better on average than what was stopped.
        assert sum(complete) / len(complete) < sum(t.params["slope"] for t in pruned) / len(pruned)
    nop = tune.create_study(sampler=tune.RandomSampler(seed=4), pruner=tune.NopPruner())
    nop.optimize(objective, n_trials=20)
    assert all(t.state == tune.TrialState.COMPLETE for t in nop.trials)


@pytest.mark.parametrize("sampler", ["cmaes", "gp", "auto"])
def test_model_based_samplers_beat_random_search(sampler):
    def sphere(trial):
        return sum(trial.suggest_float(f"x{i}", -5, 5) ** 2 for i in range(3))

    make = {"cmaes": lambda: tune.CmaEsSampler(seed=0),
            "gp": lambda: tune.GPSampler(seed=0),
            "auto": lambda: tune.AutoSampler(seed=0)}[sampler]
    n = 40 if sampler != "cmaes" else 120
    ours = tune.create_study(sampler=make())
    ours.optimize(sphere, n_trials=n)
    rand = tune.create_study(sampler=tune.RandomSampler(seed=0))
    rand.optimize(sphere, n_trials=n)
    assert ours.best_value < rand.best_value


def test_auto_sampler_gp_trials_hands_over_after_the_gp():
    """gp_trials=N: the GP's points for the first N trials, TPE's afterwards."""
    def sphere(trial):
        return sum(trial.suggest_float(f"x{i}", -5, 5) ** 2 for i in range(2))

    runs = {}
    for gp_trials in (15, 250):
        study = tune.create_study(sampler=tune.AutoSampler(seed=3, gp_trials=gp_trials))
        study.optimize(sphere, n_trials=20)
        runs[gp_trials] = [t.params for t in study.trials]
    assert runs[15][:15] == runs[250][:15]
    assert runs[15][15:] != runs[250][15:]
    with pytest.raises(Exception):
        tune.create_study(sampler=tune.AutoSampler(gp_trials=-1))


def test_multi_objective_pareto_front():
    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        return x, (1 - x) ** 2  # a trade-off: every point is Pareto-optimal in theory

    study = tune.create_study(directions=["minimize", "minimize"],
                              sampler=tune.TPESampler(seed=1))
    study.optimize(objective, n_trials=30)
    front = study.best_trials
    assert front and all(len(t.values) == 2 for t in front)
    for a in front:
        for b in study.trials:
            if b.state == tune.TrialState.COMPLETE:
                dominates = all(bv <= av for av, bv in zip(a.values, b.values)) and \
                    any(bv < av for av, bv in zip(a.values, b.values))
                assert not dominates
    with pytest.raises(RuntimeError):
        study.best_trial
    df = study.trials_dataframe()
    assert {"values_0", "values_1"} <= set(df.columns)
