#!/usr/bin/env python3
"""Records Optuna 5's CmaEsSampler (with the pinned `cmaes` package) on seeded studies, for
src/tune/cmaes_golden_test.cc.

Run from the repository root after scripts/setup-tune-golden.sh:

    .venv-tune/bin/python tests/golden/tune/make_golden_cmaes.py

Writes tests/golden/tune/optuna_cmaes_golden.json (compact). Recorded:

* numpy RandomState.randn draws (cmaes samples z ~ N(0, I) with the legacy Gaussian);
* seeded studies over float, log-float, int, log-int, stepped and mixed (with a categorical,
  sampled independently) spaces, minimising and maximising, with failed and pruned trials,
  another popsize and n_startup_trials, and a warm start from source trials: every trial's
  state, value, parameters (internal values) and CMA generation (`cma:generation`), and, for
  each trial whose sampling told the optimizer a generation, the optimizer Optuna pickled
  there (mean, sigma, C, p_sigma, p_c, generation);
* the objective of each study is a fixed formula the C++ test evaluates too.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings

import cmaes
import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import CmaEsSampler
from optuna.trial import TrialState

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optuna_cmaes_golden.json")

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore")


def dist_json(d):
    if isinstance(d, FloatDistribution):
        return {"type": "float", "low": d.low, "high": d.high, "log": d.log, "step": d.step}
    if isinstance(d, IntDistribution):
        return {"type": "int", "low": d.low, "high": d.high, "log": d.log, "step": d.step}
    return {"type": "categorical", "choices": list(d.choices)}


# name -> (space, objective formula id). The C++ test has the same formulas.
SPACES = {
    "float1d": {"x": FloatDistribution(-5.0, 5.0)},
    "float2d": {"x": FloatDistribution(-3.0, 3.0), "y": FloatDistribution(-2.0, 4.0)},
    "float4d": {f"x{i}": FloatDistribution(-2.0, 2.0) for i in range(4)},
    "float10d": {f"x{i}": FloatDistribution(-1.0 - i, 1.0 + i) for i in range(10)},
    "log_int": {"lr": FloatDistribution(1e-4, 1.0, log=True), "n": IntDistribution(1, 64),
                "depth": IntDistribution(1, 1000, log=True)},
    "steps": {"a": IntDistribution(0, 20, step=2), "b": FloatDistribution(-1.0, 1.0, step=0.25),
              "c": FloatDistribution(0.0, 10.0)},
    "mixed": {"x": FloatDistribution(-3.0, 3.0), "k": IntDistribution(-5, 5),
              "opt": CategoricalDistribution(["sgd", "adam", "rmsprop"]),
              "w": FloatDistribution(0.01, 100.0, log=True)},
}


def objective_value(formula, p):
    """The objective; the C++ test evaluates the same formulas in the same order."""
    if formula == "sphere":
        return sum((v - 0.3) ** 2 for k, v in sorted(p.items()) if not isinstance(v, str))
    if formula == "rosen":
        x, y = p["x"], p["y"]
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2
    if formula == "hp":
        return (math.log10(p["lr"]) + 2.5) ** 2 + ((p["n"] - 20) / 10) ** 2 + \
            (math.log(p["depth"]) - 3) ** 2
    if formula == "steps":
        return (p["a"] - 7) ** 2 / 10 + (p["b"] - 0.3) ** 2 + abs(p["c"] - 4.2)
    if formula == "mixed":
        bonus = {"sgd": 0.5, "adam": 0.0, "rmsprop": 0.2}[p["opt"]]
        return (p["x"] - 1) ** 2 + abs(p["k"] + 2) / 3 + (math.log10(p["w"]) - 1) ** 2 + bonus
    raise ValueError(formula)


def suggest_all(trial, space):
    out = {}
    for name, d in space.items():
        out[name] = trial._suggest(name, d)
    return out


def snapshot(sampler, trial):
    opt = sampler._restore_optimizer([trial])
    if opt is None:
        return None
    return {"generation": opt.generation, "mean": opt._mean.tolist(), "sigma": float(opt._sigma),
            "cov": opt._C.ravel().tolist(), "p_sigma": opt._p_sigma.tolist(),
            "p_c": opt._pc.tolist(), "popsize": opt.population_size}


def run_study(name, space_name, formula, n_trials, sampler_args, *, direction="minimize",
              fail_above=None, prune_above=None, source=None):
    space = SPACES[space_name]
    args = dict(sampler_args)
    if source is not None:
        args["source_trials"] = source.trials
    sampler = CmaEsSampler(**args)
    study = optuna.create_study(direction=direction, sampler=sampler)

    def objective(trial):
        p = suggest_all(trial, space)
        v = objective_value(formula, p)
        if fail_above is not None and v > fail_above:
            return float("nan")  # FAIL
        if prune_above is not None and v > prune_above:
            trial.report(v, 0)
            raise optuna.TrialPruned()
        return v if direction == "minimize" else -v

    study.optimize(objective, n_trials=n_trials)
    trials = []
    for t in study.trials:
        trials.append({
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": {k: t.distributions[k].to_internal_repr(v) for k, v in t.params.items()},
            "generation": t.system_attrs.get("cma:generation", -1),
            "snapshot": snapshot(sampler, t),
        })
    n_tells = sum(1 for t in trials if t["snapshot"] is not None)
    print(f"  {name}: {len(trials)} trials, {n_tells} generations told")
    out = {"name": name, "space_name": space_name,
           "space": {k: dist_json(d) for k, d in space.items()}, "formula": formula,
           "direction": direction, "sampler": sampler_args, "fail_above": fail_above,
           "prune_above": prune_above, "trials": trials}
    if source is not None:
        out["source_study"] = source.name
    return out, study


class _Source:
    def __init__(self, name, trials):
        self.name, self.trials = name, trials


def main():
    rng = {}
    for seed in (0, 1, 12345, 2**31 - 3):
        rng[str(seed)] = np.random.RandomState(seed).randn(25).tolist()
    studies = []
    s, _ = run_study("float1d", "float1d", "sphere", 40, {"seed": 1})
    studies.append(s)
    s, _ = run_study("float2d_rosen", "float2d", "rosen", 60, {"seed": 2})
    studies.append(s)
    s, _ = run_study("float4d_sphere", "float4d", "sphere", 60, {"seed": 3})
    studies.append(s)
    s, _ = run_study("float10d_sphere", "float10d", "sphere", 80, {"seed": 11})
    studies.append(s)
    s, _ = run_study("log_int", "log_int", "hp", 50, {"seed": 4})
    studies.append(s)
    s, _ = run_study("steps", "steps", "steps", 50, {"seed": 5, "n_startup_trials": 3})
    studies.append(s)
    s, _ = run_study("mixed_categorical", "mixed", "mixed", 50, {"seed": 6})
    studies.append(s)
    s, _ = run_study("float2d_maximize_popsize5_fail_prune", "float2d", "rosen", 60,
                     {"seed": 7, "popsize": 5, "n_startup_trials": 2},
                     direction="maximize", fail_above=400.0, prune_above=150.0)
    studies.append(s)
    s, _ = run_study("float2d_consider_pruned", "float2d", "rosen", 50,
                     {"seed": 8, "consider_pruned_trials": True}, prune_above=100.0)
    studies.append(s)
    s, src = run_study("source_random", "float2d", "rosen", 30, {"seed": 9, "n_startup_trials": 30})
    studies.append(s)
    s, _ = run_study("float2d_warm_start", "float2d", "rosen", 40, {"seed": 10},
                     source=_Source("source_random", src.trials))
    studies.append(s)
    golden = {
        "generator": "tests/golden/tune/make_golden_cmaes.py",
        "optuna_version": optuna.__version__,
        "cmaes_version": cmaes.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "randn": rng,
        "studies": studies,
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
