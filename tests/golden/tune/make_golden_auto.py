#!/usr/bin/env python3
"""Records OptunaHub's AutoSampler (samplers/auto_sampler) choosing samplers on seeded studies,
for src/tune/auto_sampler_golden_test.cc.

Run from the repository root after scripts/setup-tune-golden.sh, with the AutoSampler source:

    .venv-tune/bin/python tests/golden/tune/make_golden_auto.py \
        --auto-sampler <optunahub-registry checkout>/package/samplers/auto_sampler/_sampler.py

(without --auto-sampler it is fetched with `optunahub.load_module`). Writes
tests/golden/tune/optuna_auto_golden.json (compact).

AutoSampler needs torch for Optuna's GPSampler; the golden values do not. GP is replaced by a
stand-in, a RandomSampler subclass named GPSampler seeded with the seed AutoSampler gives it,
and torch by an empty module, so what is recorded is AutoSampler's own logic: which sampler it
uses for each trial (its `auto:sampler` attribute), the seeds it draws, when it switches (first
COMPLETE trial, categorical and conditional spaces, the GP→CMA-ES budget, CMA-ES warm-started
from the first trials to complete), and every parameter the chosen samplers (random, TPE,
CMA-ES) suggest. The C++ test plugs the same stand-in into AutoSamplerOptions::gp_factory.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import types
import warnings

import numpy as np
import optuna
from optuna.samplers import RandomSampler
from optuna.samplers._tpe import parzen_estimator as parzen_module
from optuna.trial import TrialState

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optuna_auto_golden.json")


class _StableArgsortNumpy:
    """numpy with a stable argsort, for TPE's kernel-centre sort: as in make_golden.py, whose
    docstring explains why (numpy's default order of tied centres differs between CPUs)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, *args, **kwargs):
        kwargs["kind"] = "stable"
        return np.argsort(a, *args, **kwargs)


parzen_module.np = _StableArgsortNumpy()

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore")


class GPSampler(RandomSampler):
    """The stand-in for Optuna's GPSampler (see the module docstring)."""

    def __init__(self, *, seed=None, constraints_func=None, **kwargs):
        super().__init__(seed=seed)


def load_auto_sampler(path):
    # The real dependencies first, so that nothing of theirs meets the empty torch.
    import cmaes  # noqa: F401
    import scipy.stats  # noqa: F401

    torch = types.ModuleType("torch")
    torch.Tensor = type("Tensor", (), {})
    sys.modules.setdefault("torch", torch)
    if path is None:
        import optunahub

        module = optunahub.load_module("samplers/auto_sampler")
    else:
        spec = importlib.util.spec_from_file_location("auto_sampler_golden", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    module.GPSampler = GPSampler
    return module


def objective_factory(formula):
    def objective(trial):
        if formula == "rosen":
            x = trial.suggest_float("x", -3.0, 3.0)
            y = trial.suggest_float("y", -2.0, 4.0)
            return (1 - x) ** 2 + 100 * (y - x * x) ** 2
        if formula == "categorical":
            x = trial.suggest_float("x", -3.0, 3.0)
            c = trial.suggest_categorical("c", ["a", "b", "c"])
            return (x - 1) ** 2 + {"a": 0.0, "b": 0.5, "c": 1.0}[c]
        if formula == "conditional":
            x = trial.suggest_float("x", -3.0, 3.0)
            if x < 0:
                y = trial.suggest_float("y", 0.0, 5.0)
                return x * x + y
            z = trial.suggest_int("z", 1, 10)
            return (x - 1) ** 2 + z / 10
        if formula == "ints":
            n = trial.suggest_int("n", 1, 64)
            lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
            v = ((n - 20) / 10) ** 2 + (math.log10(lr) + 2.5) ** 2
            if v > 8:
                return float("nan")  # FAIL
            if v > 5:
                trial.report(v, 0)
                raise optuna.TrialPruned()
            return v
        raise ValueError(formula)

    return objective


def run(module, name, formula, n_trials, seed, budget):
    cls = module.AutoSampler
    saved = cls._MAX_BUDGET_FOR_SINGLE_GP
    cls._MAX_BUDGET_FOR_SINGLE_GP = budget
    try:
        study = optuna.create_study(sampler=cls(seed=seed))
        study.optimize(objective_factory(formula), n_trials=n_trials)
    finally:
        cls._MAX_BUDGET_FOR_SINGLE_GP = saved
    trials = []
    for t in study.trials:
        trials.append({
            "number": t.number,
            "state": t.state.name,
            "sampler": t.system_attrs["auto:sampler"],
            "params": {k: t.distributions[k].to_internal_repr(v) for k, v in t.params.items()},
        })
    switches = [(t["number"], t["sampler"]) for i, t in enumerate(trials)
                if i == 0 or trials[i - 1]["sampler"] != t["sampler"]]
    print(f"  {name}: {len(trials)} trials, samplers {switches}")
    return {"name": name, "formula": formula, "seed": seed, "max_budget_for_gp": budget,
            "trials": trials}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--auto-sampler", default=None,
                        help="path of OptunaHub's package/samplers/auto_sampler/_sampler.py")
    args = parser.parse_args()
    module = load_auto_sampler(args.auto_sampler)
    studies = [
        run(module, "numeric_default_budget", "rosen", 280, 1, 250),
        run(module, "numeric_budget20", "rosen", 60, 2, 20),
        run(module, "categorical", "categorical", 40, 3, 250),
        run(module, "conditional", "conditional", 40, 4, 250),
        run(module, "ints_pruned_failed_budget15", "ints", 50, 5, 15),
    ]
    golden = {
        "generator": "tests/golden/tune/make_golden_auto.py",
        "optuna_version": optuna.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "studies": studies,
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
