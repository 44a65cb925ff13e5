#!/usr/bin/env python3
"""Records Optuna 5's TPE internals on fixed histories, for src/tune/tpe_golden_test.cc.

Run from the repository root after scripts/setup-tune-golden.sh:

    .venv-tune/bin/python tests/golden/tune/make_golden.py

Writes tests/golden/tune/optuna_golden.json (compact). Everything is seeded, so a rerun with
the pinned Optuna gives the same file. What is recorded:

* numpy RandomState draws (the stream our RandomState reproduces) and distribution rules;
* TPE cases: a fixed history (COMPLETE, PRUNED with intermediate values, FAIL, RUNNING with
  joint-sample attributes) and options; for each space TPE samples, Optuna's below/above split,
  both Parzen estimators' weights, kernel centres and bandwidths (or categorical kernel rows),
  24 candidates drawn from l(x) with a fixed numpy seed, log l, log g and their difference on
  those very candidates, the argmax, and the value a seeded `_sample` call returns;
* whole seeded studies (TPE, random, grid) driven by deterministic objectives: every trial's
  parameters, state and value.

One deliberate change to Optuna while recording: its bandwidth rule sorts kernel centres with
numpy's default argsort, whose order for equal centres is unspecified and differs between CPUs
(AVX-512 and AVX2 builds disagree), so Optuna's own output for tied observations (an int or a
stepped float seen twice) is not reproducible from machine to machine. The script pins that
one call to a stable sort, which is what our implementation does; nothing else is touched.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import optuna
import scipy
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import GridSampler
from optuna.samplers import RandomSampler
from optuna.samplers import TPESampler
from optuna.samplers._tpe import parzen_estimator as parzen_module
from optuna.samplers._tpe.sampler import _split_trials
from optuna.samplers._tpe.sampler import default_gamma
from optuna.trial import TrialState
from optuna.trial import create_trial

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optuna_golden.json")
N_EI = 24


class _StableArgsortNumpy:
    """numpy, except that argsort is stable (see the module docstring)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, *args, **kwargs):
        kwargs["kind"] = "stable"
        return np.argsort(a, *args, **kwargs)


parzen_module.np = _StableArgsortNumpy()
optuna.logging.set_verbosity(optuna.logging.ERROR)


# --------------------------------------------------------------------------------------------
# Serialisation


def dist_json(d):
    if isinstance(d, CategoricalDistribution):
        return {"type": "categorical", "choices": list(d.choices)}
    if isinstance(d, IntDistribution):
        return {"type": "int", "low": d.low, "high": d.high, "log": d.log, "step": d.step}
    return {"type": "float", "low": d.low, "high": d.high, "log": d.log, "step": d.step}


STATE = {
    TrialState.RUNNING: "RUNNING",
    TrialState.COMPLETE: "COMPLETE",
    TrialState.PRUNED: "PRUNED",
    TrialState.FAIL: "FAIL",
}


def floats(a):
    return [float(v) for v in np.asarray(a).ravel()]


# --------------------------------------------------------------------------------------------
# Spaces and objectives (the C++ test has the same ones)

MIXED = {
    "x": FloatDistribution(-3.0, 3.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "n": IntDistribution(0, 100, step=5),
    "k": IntDistribution(1, 64, log=True),
    "act": CategoricalDistribution(["relu", "tanh", "gelu"]),
}
ACT_COST = {"relu": 0.0, "tanh": 0.5, "gelu": 0.2}


def mixed_value(p):
    return ((p["x"] - 1.0) ** 2 + (math.log10(p["lr"]) + 2.0) ** 2 + ((p["n"] - 35) / 50) ** 2
            + (math.log2(p["k"]) - 3.0) ** 2 / 4 + ACT_COST[p["act"]])


def suggest_mixed(trial):
    return {
        "x": trial.suggest_float("x", -3.0, 3.0),
        "lr": trial.suggest_float("lr", 1e-4, 1.0, log=True),
        "n": trial.suggest_int("n", 0, 100, step=5),
        "k": trial.suggest_int("k", 1, 64, log=True),
        "act": trial.suggest_categorical("act", ["relu", "tanh", "gelu"]),
    }


def objective_value(name, trial):
    """Suggests and evaluates; returns (value, pruned)."""
    if name == "quadratic1d":
        x = trial.suggest_float("x", -5.0, 10.0)
        return (x - 2.0) ** 2
    if name == "mixed5d":
        return mixed_value(suggest_mixed(trial))
    if name == "conditional":
        model = trial.suggest_categorical("model", ["a", "b"])
        if model == "a":
            x = trial.suggest_float("x", -5.0, 5.0)
            return (x - 1.0) ** 2
        y = trial.suggest_int("y", 0, 20)
        z = trial.suggest_float("z", 0.01, 10.0, log=True)
        return (y - 7) ** 2 / 10 + math.log(z) ** 2 + 0.5
    if name == "stepped":
        a = trial.suggest_float("a", 0.0, 1.0, step=0.1)
        b = trial.suggest_int("b", -10, 10, step=2)
        return (a - 0.3) ** 2 + (b - 4) ** 2 / 100
    if name == "grid":
        a = trial.suggest_int("a", 1, 3)
        b = trial.suggest_categorical("b", ["x", "y"])
        c = trial.suggest_float("c", 0.0, 2.0)
        return a + (1.0 if b == "y" else 0.0) + c
    raise ValueError(name)


def run_objective(name, trial):
    """The objective with the study-level twists: some trials pruned, some failed."""
    value = objective_value(name, trial)
    if name in ("mixed5d", "stepped") and trial.number % 7 == 3:
        trial.report(value + 1.0, 0)
        trial.report(value + 0.5, 1)
        raise optuna.TrialPruned()
    if name == "mixed5d" and trial.number % 11 == 5:
        return float("nan")  # FAIL
    return value


# --------------------------------------------------------------------------------------------
# Fixed histories for the internals cases


def random_params(rng, space):
    params = {}
    for name, d in space.items():
        if isinstance(d, CategoricalDistribution):
            params[name] = d.choices[rng.randint(len(d.choices))]
        elif isinstance(d, IntDistribution):
            if d.log:
                params[name] = int(min(d.high, max(d.low, round(math.exp(
                    rng.uniform(math.log(d.low), math.log(d.high)))))))
            else:
                params[name] = int(d.low + d.step * rng.randint((d.high - d.low) // d.step + 1))
        elif d.log:
            params[name] = float(math.exp(rng.uniform(math.log(d.low), math.log(d.high))))
        elif d.step is not None:
            k = rng.randint(int(round((d.high - d.low) / d.step)) + 1)
            params[name] = float(min(d.high, d.low + k * d.step))
        else:
            params[name] = float(rng.uniform(d.low, d.high))
    return params


def value_of(space, params, rng):
    v = 0.0
    for name, d in space.items():
        p = params[name]
        if isinstance(d, CategoricalDistribution):
            v += 0.3 * d.choices.index(p)
        elif d.log:
            v += (math.log(p) - math.log(d.low)) / (math.log(d.high) - math.log(d.low))
        else:
            v += abs(p - (d.low + d.high) / 3) / (d.high - d.low)
    return v + 0.01 * rng.rand()


def make_history(seed, space, n, *, n_pruned=0, n_fail=0, n_running=0, conditional=None,
                 ties=False, partial_running=False):
    """A list of trial specs: dicts with state, value, params (name -> (dist, value)),
    intermediate, relative (for running trials)."""
    rng = np.random.RandomState(seed)
    specs = []
    for i in range(n):
        sp = conditional(rng) if conditional is not None else dict(space)
        params = random_params(rng, sp)
        if ties and i % 3 == 0 and specs:
            # Repeat an earlier trial's values: equal kernel centres.
            prev = specs[rng.randint(len(specs))]["params"]
            for name in params:
                if name in prev and prev[name][0] == sp[name]:
                    params[name] = prev[name][1]
        value = value_of(sp, params, rng)
        spec = {"state": TrialState.COMPLETE, "value": value,
                "params": {k: (sp[k], params[k]) for k in sp}, "intermediate": {}, "relative": {}}
        specs.append(spec)
    order = rng.permutation(n)
    for j in order[:n_pruned]:
        s = specs[j]
        s["state"] = TrialState.PRUNED
        kind = rng.randint(4)
        if kind == 0:
            s["intermediate"] = {}
        elif kind == 1:
            s["intermediate"] = {0: s["value"] + 1.0, 2: float("nan")}
        else:
            last = int(rng.randint(1, 4))
            s["intermediate"] = {st: s["value"] + (last - st) * 0.3 for st in range(last + 1)}
        s["value"] = None
    for j in order[n_pruned:n_pruned + n_fail]:
        specs[j]["state"] = TrialState.FAIL
        specs[j]["value"] = None
    for j in order[n_pruned + n_fail:n_pruned + n_fail + n_running]:
        s = specs[j]
        s["state"] = TrialState.RUNNING
        s["value"] = None
        # A running trial's joint sample is published in system attributes; it may also have
        # suggested some parameters already (those win).
        s["relative"] = {k: v for k, v in s["params"].items()}
        if partial_running and rng.rand() < 0.5:
            keep = sorted(s["params"])[: max(1, len(s["params"]) // 2)]
            s["params"] = {k: s["params"][k] for k in keep}
            s["relative"] = {k: (d, random_params(rng, {k: d})[k])
                             for k, (d, _) in s["relative"].items()}
        elif not partial_running:
            s["params"] = {}
    return specs


def build_study(specs, sampler, direction):
    study = optuna.create_study(sampler=sampler, direction=direction)
    for s in specs:
        t = create_trial(
            state=s["state"], value=s["value"],
            params={k: v for k, (d, v) in s["params"].items()},
            distributions={k: d for k, (d, v) in s["params"].items()},
            intermediate_values=s["intermediate"])
        study.add_trial(t)
        if s["relative"]:
            trial_id = study._storage.get_all_trials(study._study_id)[-1]._trial_id
            study._storage.set_trial_system_attr(
                trial_id, "tpe:relative_params:0",
                json.dumps({k: v for k, (d, v) in s["relative"].items()}))
    return study


def spec_json(specs):
    out = []
    for s in specs:
        out.append({
            "state": STATE[s["state"]],
            "value": s["value"],
            "params": [[k, dist_json(d), v] for k, (d, v) in s["params"].items()],
            "intermediate": [[int(k), float(v)] for k, v in sorted(s["intermediate"].items())],
            "relative": [[k, dist_json(d), d.to_internal_repr(v)]
                         for k, (d, v) in s["relative"].items()],
        })
    return out


def estimator_json(mpe, space):
    mix = mpe._mixture_distribution
    dims = []
    for d in mix.distributions:
        if isinstance(d, parzen_module._BatchedCategoricalDistributions):
            dims.append({"cat_weights": [floats(row) for row in d.weights]})
        else:
            dims.append({"mus": floats(d.mu), "sigmas": floats(d.sigma)})
    return {"weights": floats(mix.weights), "dims": dims}


def record_space(study, sampler, current, space, cand_seed, sample_seed):
    """Optuna's `_sample` step by step for one space."""
    if sampler._constant_liar:
        states = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING]
    else:
        states = [TrialState.COMPLETE, TrialState.PRUNED]
    trials = study._get_trials(deepcopy=False, states=states, use_cache=False)
    trials = [t for t in trials if t.number != current.number]
    n = sum(t.state != TrialState.RUNNING for t in trials)
    below, above = _split_trials(study, trials, default_gamma(n))
    mpe_below = sampler._build_parzen_estimator(study, space, below, handle_below=True)
    mpe_above = sampler._build_parzen_estimator(study, space, above, handle_below=False)
    cands = mpe_below.sample(np.random.RandomState(cand_seed), N_EI)
    log_l = mpe_below.log_pdf(cands)
    log_g = mpe_above.log_pdf(cands)
    scores = log_l - log_g
    best = int(np.argmax(scores))
    sampler._rng.rng.seed(sample_seed)
    sampled = sampler._sample(study, current, space)
    return {
        "space": [[k, dist_json(d)] for k, d in space.items()],
        "n_below": default_gamma(n),
        "below": [t.number for t in below],
        "above": [t.number for t in above],
        "l": estimator_json(mpe_below, space),
        "g": estimator_json(mpe_above, space),
        "candidate_seed": cand_seed,
        "candidates": [floats(cands[k]) for k in space],
        "log_l": floats(log_l),
        "log_g": floats(log_g),
        "scores": floats(scores),
        "best": best,
        "sample_seed": sample_seed,
        "sampled": [space[k].to_internal_repr(sampled[k]) for k in space],
    }


def tpe_case(name, specs, options, direction="minimize", independent=()):
    sampler = TPESampler(seed=0, **options)
    study = build_study(specs, sampler, direction)
    trial = study.ask()
    current = study._storage.get_trial(trial._trial_id)
    relative = sampler.infer_relative_search_space(study, current)
    spaces = []
    seed = 100
    if relative:
        if options.get("group"):
            for sub in sampler._search_space_group.search_spaces:
                part = {k: d for k, d in sorted(sub.items()) if not d.single() and k in relative}
                if part:
                    spaces.append(record_space(study, sampler, current, part, seed, seed + 1))
                    seed += 2
        else:
            spaces.append(record_space(study, sampler, current, relative, seed, seed + 1))
            seed += 2
    for pname in independent:
        dist = next(s["params"][pname][0] for s in specs if pname in s["params"])
        spaces.append(record_space(study, sampler, current, {pname: dist}, seed, seed + 1))
        seed += 2
    relative_sampled = None
    if relative:
        sampler._rng.rng.seed(7)
        params = sampler.sample_relative(study, current, relative)
        relative_sampled = [[k, relative[k].to_internal_repr(v)] for k, v in params.items()]
    return {
        "name": name,
        "direction": direction,
        "options": options,
        "trials": spec_json(specs),
        "relative_space": [[k, dist_json(d)] for k, d in relative.items()],
        "relative_sample_seed": 7,
        "relative_sampled": relative_sampled,
        "spaces": spaces,
    }


def conditional_space(rng):
    if rng.rand() < 0.5:
        return {"model": CategoricalDistribution(["a", "b"]), "x": FloatDistribution(-5.0, 5.0)}
    return {"model": CategoricalDistribution(["a", "b"]), "y": IntDistribution(0, 20),
            "z": FloatDistribution(0.01, 10.0, log=True)}


def tpe_cases():
    cases = []
    f1 = {"x": FloatDistribution(-5.0, 10.0)}
    cases.append(tpe_case("float_1d_univariate", make_history(1, f1, 30),
                          {"multivariate": False}, independent=["x"]))
    cases.append(tpe_case("float_1d_few_observations", make_history(2, f1, 11),
                          {"multivariate": True}))
    cases.append(tpe_case("float_1d_mostly_pruned", make_history(3, f1, 10, n_pruned=9),
                          {"multivariate": True}))
    stepped = {"a": FloatDistribution(0.0, 1.0, step=0.1)}
    cases.append(tpe_case("stepped_float_ties", make_history(4, stepped, 45, ties=True),
                          {"multivariate": True}))
    log1 = {"lr": FloatDistribution(1e-5, 1e-1, log=True)}
    cases.append(tpe_case("log_float", make_history(5, log1, 50), {"multivariate": True},
                          direction="maximize"))
    ints = {"n": IntDistribution(0, 100, step=5), "k": IntDistribution(1, 1024, log=True)}
    cases.append(tpe_case("int_step_and_log", make_history(6, ints, 60, ties=True),
                          {"multivariate": True}))
    cat = {"c": CategoricalDistribution(["a", "b", "c", "d"]), "x": FloatDistribution(0.0, 1.0)}
    cases.append(tpe_case("categorical", make_history(7, cat, 45, ties=True),
                          {"multivariate": True}))
    mixed_specs = make_history(8, MIXED, 80, n_pruned=9, n_fail=3, n_running=4,
                               partial_running=True)
    cases.append(tpe_case("mixed_5d_multivariate", mixed_specs, {"multivariate": True}))
    cases.append(tpe_case("mixed_5d_multivariate_maximize", mixed_specs, {"multivariate": True},
                          direction="maximize"))
    cases.append(tpe_case("mixed_5d_univariate", mixed_specs, {"multivariate": False},
                          independent=sorted(MIXED)))
    cases.append(tpe_case("mixed_5d_no_constant_liar", mixed_specs,
                          {"multivariate": True, "constant_liar": False}))
    cond_specs = make_history(9, None, 50, n_pruned=3, n_running=2,
                              conditional=conditional_space)
    cases.append(tpe_case("conditional_multivariate", cond_specs, {"multivariate": True},
                          independent=["x", "y", "z"]))
    cases.append(tpe_case("conditional_group", cond_specs,
                          {"multivariate": True, "group": True}))
    return cases


# --------------------------------------------------------------------------------------------
# Whole seeded studies


def run_study(name, sampler, objective, n_trials, batch=1, direction="minimize"):
    study = optuna.create_study(sampler=sampler, direction=direction)
    if isinstance(sampler, GridSampler):
        # The grid sampler stops the study when the grid is exhausted, which only optimize()
        # allows; each later optimize() call then runs one trial past the grid.
        study.optimize(lambda t: run_objective(objective, t), n_trials=n_trials)
        while len(study.trials) < n_trials:
            study.optimize(lambda t: run_objective(objective, t), n_trials=1)
    done = len(study.trials)
    while done < n_trials:
        trials = [study.ask() for _ in range(min(batch, n_trials - done))]
        results = []
        for t in trials:
            try:
                results.append((t, run_objective(objective, t), None))
            except optuna.TrialPruned:
                results.append((t, None, TrialState.PRUNED))
        for t, v, state in results:
            study.tell(t, v, state=state)
        done += len(trials)
    out = []
    for t in study.trials:
        out.append({
            "state": STATE[t.state],
            "value": t.value,
            "params": [[k, t.distributions[k].to_internal_repr(v)] for k, v in t.params.items()],
        })
    return {"name": name, "objective": objective, "batch": batch, "direction": direction,
            "trials": out}


def studies():
    out = []
    out.append(dict(run_study("tpe_quadratic_1d", TPESampler(seed=1), "quadratic1d", 40),
                    sampler="tpe", options={"seed": 1}))
    out.append(dict(run_study("tpe_mixed_5d", TPESampler(seed=2), "mixed5d", 60),
                    sampler="tpe", options={"seed": 2}))
    out.append(dict(run_study("tpe_mixed_5d_batch_liar", TPESampler(seed=5), "mixed5d", 48,
                              batch=4), sampler="tpe", options={"seed": 5}))
    out.append(dict(run_study("tpe_conditional_univariate",
                              TPESampler(seed=3, multivariate=False), "conditional", 50),
                    sampler="tpe", options={"seed": 3, "multivariate": False}))
    out.append(dict(run_study("tpe_conditional_group",
                              TPESampler(seed=4, multivariate=True, group=True), "conditional",
                              50), sampler="tpe", options={"seed": 4, "group": True}))
    out.append(dict(run_study("tpe_stepped_maximize", TPESampler(seed=8), "stepped", 40,
                              direction="maximize"), sampler="tpe", options={"seed": 8}))
    out.append(dict(run_study("random_mixed_5d", RandomSampler(seed=6), "mixed5d", 25),
                    sampler="random", options={"seed": 6}))
    grid = {"a": [1, 2, 3], "b": ["x", "y"], "c": [0.5, 1.5]}
    out.append(dict(run_study("grid", GridSampler(grid, seed=7), "grid", 15),
                    sampler="grid", options={"seed": 7}, grid=[[k, v] for k, v in grid.items()]))
    return out


# --------------------------------------------------------------------------------------------
# numpy stream and distribution rules


def rng_golden():
    rs = np.random.RandomState(42)
    samples = floats(rs.random_sample(6))
    rs = np.random.RandomState(3)
    ints = [int(rs.randint(0, hi)) for hi in (1, 2, 7, 100, 1000, 2**31)]
    items = list(range(10))
    np.random.RandomState(0).shuffle(items)
    p = np.array([0.1, 0.25, 0.3, 0.35])
    choice = [int(v) for v in np.random.RandomState(9).choice(4, p=p, size=12)]
    return {"seed": 42, "random_sample": samples, "randint_seed": 3,
            "randint_high": [1, 2, 7, 100, 1000, 2**31], "randint": ints,
            "shuffle10_seed0": items, "choice_seed": 9, "choice_p": floats(p),
            "choice": choice}


def distribution_golden():
    cases = [
        FloatDistribution(0.0, 1.0, step=0.1), FloatDistribution(0.1, 1.0, step=0.25),
        FloatDistribution(-1.3, 2.9, step=0.7), FloatDistribution(1e-3, 0.0101, step=0.003),
        FloatDistribution(0.0, 0.05, step=0.1), FloatDistribution(2.5, 2.5),
        FloatDistribution(1e-8, 1.0, log=True), IntDistribution(0, 10, step=3),
        IntDistribution(3, 3), IntDistribution(-7, 20, step=4), IntDistribution(0, 2, step=3),
        CategoricalDistribution(["only"]),
    ]
    out = []
    for d in cases:
        j = dist_json(d)
        # The arguments as given: the snapped high is what the constructor computes.
        out.append({"dist": j, "single": d.single()})
    raw = [(0.0, 1.0, 0.1), (0.1, 1.0, 0.25), (-1.3, 2.9, 0.7), (1e-3, 0.0101, 0.003),
           (0.0, 0.05, 0.1), (0.0, 1.0, 0.3), (0.15, 3.14159, 0.01)]
    snapped = [[lo, hi, st, FloatDistribution(lo, hi, step=st).high] for lo, hi, st in raw]
    return {"cases": out, "float_step_high": snapped}


def main():
    golden = {
        "generator": "tests/golden/tune/make_golden.py",
        "optuna_version": optuna.__version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": sys.version.split()[0],
        "n_ei_candidates": N_EI,
        "rng": rng_golden(),
        "distributions": distribution_golden(),
        "tpe_cases": tpe_cases(),
        "studies": studies(),
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(golden['tpe_cases'])} TPE cases, "
          f"{sum(len(c['spaces']) for c in golden['tpe_cases'])} spaces, "
          f"{len(golden['studies'])} studies")


if __name__ == "__main__":
    main()
