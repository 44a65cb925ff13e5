#!/usr/bin/env python3
"""Optuna 5's side of bench/tune/decision_cost_bench.cc: the same histories and loops.

    .venv-tune/bin/python bench/tune/decision_cost_optuna.py [n_complete ...]

Pruners: n COMPLETE trials with 100 reported steps each (successive-halving rung records as
a live study would have written them), then 200 running trials report step by step and ask
should_prune after each report; printed: microseconds per should_prune call. CMA-ES: a whole
study on a 10-D sphere, microseconds per trial. In-memory storage throughout.
"""

from __future__ import annotations

import sys
import time
import types
import warnings

import numpy as np
import optuna
from optuna.trial import TrialState
from optuna.trial import create_trial

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore")

STEPS = 100
RUNNING = 200


def curve(rng, quality, step):
    return quality + 1.0 / (1.0 + 0.1 * step) + 0.05 * (rng.random_sample() - 0.5)


def prune_cost(make_pruner, rung_steps, n_complete):
    pruner = make_pruner()
    study = optuna.create_study(study_name="bench", pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    rng = np.random.RandomState(1)
    for number in range(n_complete):
        q = rng.random_sample()
        iv = {s: curve(rng, q, s) for s in range(STEPS)}
        attrs = {}
        if rung_steps is not None:
            steps = rung_steps(study, pruner, types.SimpleNamespace(number=number))
            attrs = {f"completed_rung_{k}": iv[step] for k, step in enumerate(steps)}
        study.add_trial(create_trial(state=TrialState.COMPLETE, value=iv[STEPS - 1],
                                     intermediate_values=iv, system_attrs=attrs))
    total, calls, pruned = 0.0, 0, 0
    for _ in range(RUNNING):
        trial = study.ask()
        q = rng.random_sample()
        for s in range(STEPS):
            trial.report(curve(rng, q, s), s)
            t0 = time.perf_counter()
            p = trial.should_prune()
            total += time.perf_counter() - t0
            calls += 1
            if p:
                pruned += 1
                break
        study.tell(trial, state=TrialState.PRUNED)
    return total / calls * 1e6, pruned


def hb_rungs(study, pruner, t):
    # "auto" max_resource resolves to 100 on these histories; resolving it up front sets the
    # brackets up before any trial exists, so each trial's rung records can be written with it.
    if not pruner._pruners:
        pruner._max_resource = STEPS
        pruner._try_initialization(study)
    b = pruner._get_bracket_id(study, t)
    steps, step = [], 3 ** b
    while step < STEPS:
        steps.append(step)
        step *= 3
    return steps


def study_cost(sampler, n_trials):
    study = optuna.create_study(sampler=sampler)

    def objective(trial):
        return sum((trial.suggest_float(f"x{d}", -5, 5) - 0.3 * d) ** 2 for d in range(10))

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n_trials)
    return (time.perf_counter() - t0) / n_trials * 1e6


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000, 10000]
    print(f"optuna {optuna.__version__}")
    print(f"{'pruner':22} {'n_complete':>10} {'us/decision':>14} {'pruned':>8}")
    cases = [
        ("median", lambda: optuna.pruners.MedianPruner(), None),
        ("percentile(25)", lambda: optuna.pruners.PercentilePruner(25.0), None),
        ("successive_halving", lambda: optuna.pruners.SuccessiveHalvingPruner(),
         lambda study, pruner, t: [1, 4, 16, 64]),
        ("hyperband", lambda: optuna.pruners.HyperbandPruner(), hb_rungs),
    ]
    for n in sizes:
        for name, make, rungs in cases:
            us, pruned = prune_cost(make, rungs, n)
            print(f"{name:22} {n:10d} {us:14.2f} {pruned:8d}", flush=True)
    print(f"\n{'sampler (10-D sphere)':22} {'n_trials':>10} {'us/trial':>14}")
    for n in (100, 1000):
        us = study_cost(optuna.samplers.CmaEsSampler(seed=1), n)
        print(f"{'cmaes':22} {n:10d} {us:14.2f}", flush=True)


if __name__ == "__main__":
    main()
