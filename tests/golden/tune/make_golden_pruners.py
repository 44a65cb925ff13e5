#!/usr/bin/env python3
"""Records Optuna 5's pruner decisions on fixed intermediate-value histories, for
src/tune/pruners_golden_test.cc.

Run from the repository root after scripts/setup-tune-golden.sh:

    .venv-tune/bin/python tests/golden/tune/make_golden_pruners.py

Writes tests/golden/tune/optuna_pruners_golden.json (compact). Each scenario is a pruner with
its options, a direction, a study name (Hyperband hashes it), and an event log driven through
Optuna's own ask / report / should_prune / tell: trials are asked, report their curves step by
step (one at a time or several in lockstep, so that RUNNING trials' rung records matter), and
are told PRUNED as soon as Optuna says so, COMPLETE (or FAIL) at the end of their curve. Every
report records Optuna's answer and, for Hyperband, the trial's bracket at that moment; at the
end, every trial's successive-halving rung record (`completed_rung_<k>` system attributes).
The curves are seeded numpy draws rounded to 6 digits and include gaps, NaN values, short and
long trials, and failed trials, so that start-up, warm-up, interval, n_min_trials, "auto"
resources, bootstrap and maximisation are all exercised. The C++ test replays the same events.

Also two whole seeded TPE studies under Hyperband and the median pruner (parameters, states,
number of reports per trial): they show that TPE sees every trial under Hyperband, because
Optuna's per-bracket study view filters `get_trials` but TPE reads `_get_trials`.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import optuna
from optuna.pruners import HyperbandPruner
from optuna.pruners import MedianPruner
from optuna.pruners import PercentilePruner
from optuna.pruners import SuccessiveHalvingPruner
from optuna.samplers._tpe import parzen_estimator as parzen_module
from optuna.trial import TrialState

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optuna_pruners_golden.json")


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


def curves(seed, n_trials, n_steps, *, every=1, nan_rate=0.0, vary_length=False,
           fail_rate=0.0, maximize=False):
    """Per trial: (steps, values, ends_in_fail). Noisy decaying learning curves."""
    rng = np.random.RandomState(seed)
    out = []
    for _ in range(n_trials):
        quality = rng.uniform(0.0, 1.0)
        rate = rng.uniform(0.05, 0.5)
        stride = every if every > 0 else int(rng.randint(1, 4))
        length = n_steps if not vary_length else int(rng.randint(n_steps // 4, n_steps + 1))
        steps = list(range(0, length, stride))
        values = []
        for s in steps:
            v = quality + 1.0 / (1.0 + rate * s) + rng.normal(0.0, 0.05)
            if maximize:
                v = -v
            if rng.uniform() < nan_rate:
                v = float("nan")
            values.append(round(float(v), 6))
        out.append((steps, values, bool(rng.uniform() < fail_rate)))
    return out


def make_pruner(spec):
    kind, args = spec["type"], dict(spec["args"])
    if kind == "median":
        return MedianPruner(**args)
    if kind == "percentile":
        return PercentilePruner(**args)
    if kind == "successive_halving":
        return SuccessiveHalvingPruner(**args)
    if kind == "hyperband":
        return HyperbandPruner(**args)
    raise ValueError(kind)


def num(v):
    return None if v is None else (v if not math.isnan(v) else "nan")


def run_scenario(name, pruner_spec, direction, trial_curves, lockstep=1,
                 study_name="golden-pruners"):
    pruner = make_pruner(pruner_spec)
    study = optuna.create_study(study_name=study_name, direction=direction, pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    events = []
    n_decisions = n_pruned = 0
    queue = list(trial_curves)
    while queue:
        batch = [queue.pop(0) for _ in range(min(lockstep, len(queue)))]
        live = []
        for steps, values, fails in batch:
            trial = study.ask()
            events.append(["a", trial.number])
            live.append([trial, steps, values, fails, 0])
        while live:
            for entry in list(live):
                trial, steps, values, fails, i = entry
                step, value = steps[i], values[i]
                trial.report(value, step)
                decision = trial.should_prune()
                n_decisions += 1
                rec = ["r", trial.number, step, num(value), int(decision)]
                if isinstance(pruner, HyperbandPruner):
                    frozen = study._storage.get_trial(trial._trial_id)
                    rec.append(pruner._get_bracket_id(study, frozen))
                events.append(rec)
                entry[4] = i + 1
                if decision:
                    n_pruned += 1
                    study.tell(trial, state=TrialState.PRUNED)
                    events.append(["t", trial.number, "PRUNED", None])
                    live.remove(entry)
                elif entry[4] == len(steps):
                    if fails:
                        study.tell(trial, state=TrialState.FAIL)
                        events.append(["t", trial.number, "FAIL", None])
                    else:
                        final = values[-1] if not math.isnan(values[-1]) else 0.0
                        study.tell(trial, final)
                        events.append(["t", trial.number, "COMPLETE", final])
                    live.remove(entry)
    rungs = []
    for t in study.get_trials(deepcopy=False):
        r, k = [], 0
        while f"completed_rung_{k}" in t.system_attrs:
            r.append(num(t.system_attrs[f"completed_rung_{k}"]))
            k += 1
        rungs.append(r)
    print(f"  {name}: {len(study.trials)} trials, {n_decisions} decisions, {n_pruned} pruned")
    return {"name": name, "pruner": pruner_spec, "direction": direction,
            "study_name": study_name, "events": events, "completed_rungs": rungs}


def scenarios():
    out = []
    spec = lambda kind, **args: {"type": kind, "args": args}  # noqa: E731
    out.append(run_scenario("median_default", spec("median"), "minimize",
                            curves(1, 30, 20)))
    out.append(run_scenario("median_maximize", spec("median"), "maximize",
                            curves(2, 30, 20, maximize=True)))
    out.append(run_scenario(
        "median_warmup_interval_gaps_nan",
        spec("median", n_startup_trials=3, n_warmup_steps=5, interval_steps=4),
        "minimize", curves(3, 30, 30, every=0, nan_rate=0.08, vary_length=True, fail_rate=0.1)))
    out.append(run_scenario(
        "percentile25_min_trials_lockstep",
        spec("percentile", percentile=25.0, n_min_trials=3), "minimize",
        curves(4, 32, 16, vary_length=True), lockstep=4))
    out.append(run_scenario(
        "percentile80_maximize_nan",
        spec("percentile", percentile=80.0, n_startup_trials=0, n_warmup_steps=2,
             interval_steps=3), "maximize",
        curves(5, 30, 18, every=0, nan_rate=0.1, maximize=True)))
    out.append(run_scenario(
        "sha_default_auto", spec("successive_halving"), "minimize",
        curves(6, 30, 400, every=10, vary_length=True), lockstep=2))
    out.append(run_scenario(
        "sha_eta3_rate1_bootstrap2",
        spec("successive_halving", min_resource=1, reduction_factor=3,
             min_early_stopping_rate=1, bootstrap_count=2), "minimize",
        curves(7, 36, 40), lockstep=5))
    out.append(run_scenario(
        "sha_maximize_nan",
        spec("successive_halving", min_resource=2, reduction_factor=2), "maximize",
        curves(8, 30, 40, every=0, nan_rate=0.05, fail_rate=0.1, maximize=True), lockstep=3))
    out.append(run_scenario(
        "hyperband_default", spec("hyperband"), "minimize",
        curves(9, 45, 81, vary_length=True), lockstep=3, study_name="golden-hb"))
    out.append(run_scenario(
        "hyperband_eta2_max60_bootstrap1_maximize",
        spec("hyperband", min_resource=2, max_resource=60, reduction_factor=2, bootstrap_count=1),
        "maximize", curves(10, 40, 60, nan_rate=0.02, maximize=True), lockstep=4,
        study_name="hb-study-2"))
    return out


def sampler_study(name, pruner_spec, n_trials, seed, n_steps, study_name):
    """A whole seeded TPE study under a pruner. Optuna hands samplers a per-bracket view of the
    study under Hyperband, but TPE reads trials through Study._get_trials, which that view does
    not filter: recording the study shows what a sampler really sees."""
    pruner = make_pruner(pruner_spec)
    study = optuna.create_study(study_name=study_name, pruner=pruner,
                                sampler=optuna.samplers.TPESampler(seed=seed))

    def objective(trial):
        x = trial.suggest_float("x", -3.0, 3.0)
        y = trial.suggest_int("y", 0, 8)
        v = 0.0
        for step in range(n_steps):
            v = (x - 1) ** 2 + abs(y - 5) / 4 + 2.0 / (1 + step)
            trial.report(v, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return v

    study.optimize(objective, n_trials=n_trials)
    trials = [{"number": t.number, "state": t.state.name,
               "params": [t.params["x"], t.params["y"]],
               "n_reports": len(t.intermediate_values)} for t in study.trials]
    n_pruned = sum(t["state"] == "PRUNED" for t in trials)
    print(f"  {name}: {len(trials)} trials, {n_pruned} pruned")
    return {"name": name, "pruner": pruner_spec, "seed": seed, "n_steps": n_steps,
            "study_name": study_name, "trials": trials}


def sampler_studies():
    spec = lambda kind, **args: {"type": kind, "args": args}  # noqa: E731
    return [
        sampler_study("tpe_hyperband", spec("hyperband"), 60, 11, 27, "tpe-hb"),
        sampler_study("tpe_median", spec("median"), 40, 12, 10, "tpe-median"),
    ]


def main():
    golden = {
        "generator": "tests/golden/tune/make_golden_pruners.py",
        "optuna_version": optuna.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "scenarios": scenarios(),
        "sampler_studies": sampler_studies(),
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
