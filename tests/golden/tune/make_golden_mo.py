#!/usr/bin/env python3
"""Records Optuna 5.0.0's multi-objective machinery, for src/tune/multi_objective_golden_test.cc.

Run from the repository root after scripts/setup-tune-golden.sh:

    .venv-tune/bin/python tests/golden/tune/make_golden_mo.py

Writes tests/golden/tune/optuna_mo_golden.json (compact). Recorded:

* seeded RandomSampler studies with 2 and 3 objectives (minimise/maximise mixed, a rounded
  objective so the front has duplicates): every trial's parameters (internal values), values,
  and study.best_trials (the Pareto front);
* Optuna's own helpers on fixed loss arrays (2, 3 and 4 objectives, with duplicates):
  _is_pareto_front, _fast_non_domination_rank with n_below, compute_hypervolume, _solve_hssp and
  MOTPE's _split_complete_trials_multi_objective (through _split_trials on a study);
* MOTPE on fixed histories (2 and 3 objectives, running trials, multivariate on and off): the
  below/above split, both Parzen estimators' mixture weights, and the parameters TPE samples
  from a seed;
* seeded MOTPE studies (2 objectives, multivariate on, off and Optuna's default): every
  trial's parameters.

Parzen estimators are built with a stable argsort, as make_golden.py does (see there).
"""

from __future__ import annotations

import json
import math
import os
import types

import numpy as np
import optuna
from optuna._hypervolume import compute_hypervolume
from optuna._hypervolume.hssp import _solve_hssp
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import RandomSampler
from optuna.samplers import TPESampler
from optuna.samplers._tpe import parzen_estimator as parzen_module
from optuna.samplers._tpe.sampler import _split_complete_trials_multi_objective
from optuna.samplers._tpe.sampler import _split_trials
from optuna.study import StudyDirection
from optuna.samplers._tpe.sampler import default_gamma_multiobjective
from optuna.study._multi_objective import _fast_non_domination_rank
from optuna.study._multi_objective import _is_pareto_front
from optuna.trial import TrialState
from optuna.trial import create_trial

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optuna_mo_golden.json")


class _StableArgsortNumpy:
    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, *args, **kwargs):
        kwargs["kind"] = "stable"
        return np.argsort(a, *args, **kwargs)


parzen_module.np = _StableArgsortNumpy()
optuna.logging.set_verbosity(optuna.logging.ERROR)

SPACE = {
    "x": FloatDistribution(-3.0, 3.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "k": IntDistribution(1, 10),
    "c": CategoricalDistribution(["a", "b", "c"]),
}
CHOICES = ["a", "b", "c"]


def suggest_all(trial):
    x = trial.suggest_float("x", -3.0, 3.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    k = trial.suggest_int("k", 1, 10)
    c = trial.suggest_categorical("c", CHOICES)
    return x, lr, k, CHOICES.index(c)


# The objectives, also written in the C++ test: 2 or 3 values of the four parameters.
def objectives(x, lr, k, c, n_obj):
    f1 = round(x * x + 0.1 * k, 1)  # rounded: ties and duplicate fronts
    f2 = (x - 1.5) ** 2 + abs(math.log10(lr) + 2) + 0.5 * c
    f3 = abs(x + 1) + 0.2 * (10 - k)
    return [f1, f2, f3][:n_obj]


def params_json(t):
    return [t.params["x"], t.params["lr"], t.params["k"], CHOICES.index(t.params["c"])]


def random_studies():
    out = []
    for seed, directions in [(3, ["minimize", "maximize"]), (8, ["minimize", "minimize", "minimize"])]:
        study = optuna.create_study(directions=directions, sampler=RandomSampler(seed=seed))
        n_obj = len(directions)

        def objective(trial):
            return objectives(*suggest_all(trial), n_obj)

        study.optimize(objective, n_trials=30)
        out.append({
            "seed": seed, "directions": directions,
            "trials": [{"params": params_json(t), "values": t.values} for t in study.trials],
            "best_trials": sorted(t.number for t in study.best_trials),
        })
    return out


def loss_cases():
    rng = np.random.RandomState(5)
    cases = []
    for m, n in [(2, 30), (3, 25), (4, 14)]:
        # Near a simplex (wide fronts, several ranks), rounded to a grid (ties, duplicates).
        p = rng.uniform(size=(n, m))
        loss = np.round((p / p.sum(axis=1, keepdims=True) + 0.3 * rng.uniform(size=(n, 1))) * 20) / 20
        loss[3] = loss[7]
        case = {"m": m, "loss": loss.ravel().tolist()}
        case["pareto"] = _is_pareto_front(loss, assume_unique_lexsorted=False).tolist()
        case["ranks"] = {str(nb): _fast_non_domination_rank(loss, n_below=nb).tolist()
                         for nb in (1, 5, 12, n)}
        ref = np.max(loss, axis=0) + 0.5
        case["reference"] = ref.tolist()
        case["hypervolume"] = compute_hypervolume(loss, ref)
        case["hypervolume_front"] = compute_hypervolume(loss[_is_pareto_front(loss, False)], ref)
        front = loss[_is_pareto_front(loss, False)]
        idx = np.arange(len(front)) + 100
        case["hssp"] = {str(k): _solve_hssp(front, idx, k, ref).tolist()
                        for k in range(1, len(front) + 1)}
        # HSSP on a rank with duplicates (the "fewer unique than subset" path).
        dup = np.concatenate([front[:3], front[:3], front[1:2]])
        case["hssp_dup"] = {"loss": dup.ravel().tolist(),
                            "selected": _solve_hssp(dup, np.arange(len(dup)), 5, ref).tolist()}
        # MOTPE's split of these rows as COMPLETE trials of a minimising study.
        study = types.SimpleNamespace(directions=[StudyDirection.MINIMIZE] * m)
        trials = [types.SimpleNamespace(values=list(row)) for row in loss]
        case["split"] = {}
        for nb in (1, 4, 7, 12):
            below, _ = _split_complete_trials_multi_objective(trials, study, nb)
            chosen = {id(t) for t in below}
            case["split"][str(nb)] = [i for i, t in enumerate(trials) if id(t) in chosen]
        cases.append(case)
    return cases


def fill_history(study, n_obj, n_complete, n_running, seed):
    rng = np.random.RandomState(seed)
    specs = []
    for i in range(n_complete + n_running):
        x = float(np.round(rng.uniform(-3, 3), 3))
        lr = float(10 ** np.round(rng.uniform(-4, 0), 3))
        k = int(rng.randint(1, 11))
        c = int(rng.randint(0, 3))
        params = {"x": x, "lr": lr, "k": k, "c": CHOICES[c]}
        if i < n_complete:
            values = objectives(x, lr, k, c, n_obj)
            study.add_trial(create_trial(state=TrialState.COMPLETE, params=params,
                                         distributions=SPACE, values=values))
            specs.append({"state": "COMPLETE", "params": [x, lr, k, c], "values": values})
        else:
            study.add_trial(create_trial(state=TrialState.RUNNING, params=params, distributions=SPACE))
            specs.append({"state": "RUNNING", "params": [x, lr, k, c]})
    return specs


def tpe_histories():
    out = []
    for n_obj, n_complete, n_running, multivariate, seed in [
        (2, 60, 0, True, 1), (2, 45, 3, True, 2), (2, 45, 3, False, 3), (3, 70, 2, True, 4),
        (2, 150, 0, True, 5),
    ]:
        directions = ["minimize", "maximize", "minimize"][:n_obj]
        sampler = TPESampler(seed=seed + 100, multivariate=multivariate)
        study = optuna.create_study(directions=directions, sampler=sampler)
        specs = fill_history(study, n_obj, n_complete, n_running, seed)
        trial = study.ask()
        frozen = study._storage.get_trial(trial._trial_id)
        trials = [t for t in study._get_trials(deepcopy=False, states=[TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING]) if t.number != frozen.number]
        n = sum(t.state != TrialState.RUNNING for t in trials)
        below, above = _split_trials(study, trials, default_gamma_multiobjective(n))
        space = dict(sorted(SPACE.items())) if multivariate else {"x": SPACE["x"]}
        mpe_below = sampler._build_parzen_estimator(study, space, below, handle_below=True)
        mpe_above = sampler._build_parzen_estimator(study, space, above, handle_below=False)
        sampled = sampler._sample(study, frozen, space)
        out.append({
            "directions": directions, "multivariate": multivariate, "seed": seed + 100,
            "trials": specs,
            "below": [t.number for t in below], "above": [t.number for t in above],
            "weights_below": mpe_below._mixture_distribution.weights.tolist(),
            "weights_above": mpe_above._mixture_distribution.weights.tolist(),
            "space": list(space.keys()),
            "sampled": {k: (CHOICES.index(v) if k == "c" else v) for k, v in sampled.items()},
        })
    return out


def tpe_studies():
    out = []
    # None: Optuna's default, univariate with several objectives.
    for seed, multivariate in [(21, True), (22, False), (23, None)]:
        study = optuna.create_study(directions=["minimize", "maximize"],
                                    sampler=TPESampler(seed=seed, multivariate=multivariate))

        def objective(trial):
            return objectives(*suggest_all(trial), 2)

        study.optimize(objective, n_trials=60)
        out.append({"seed": seed, "multivariate": multivariate,
                    "trials": [{"params": params_json(t), "values": t.values} for t in study.trials],
                    "best_trials": sorted(t.number for t in study.best_trials)})
    return out


def main():
    golden = {"optuna": optuna.__version__, "numpy": np.__version__,
              "random_studies": random_studies(), "loss_cases": loss_cases(),
              "tpe_histories": tpe_histories(), "tpe_studies": tpe_studies()}
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
