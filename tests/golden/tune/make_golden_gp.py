#!/usr/bin/env python3
"""Reference values for the GP sampler's deterministic pieces, for src/tune/gp_golden_test.cc.

Run from the repository root after scripts/setup-tune-golden.sh:

    .venv-tune/bin/python tests/golden/tune/make_golden_gp.py

Writes tests/golden/tune/gp_golden.json (compact). Optuna's GP code (optuna/_gp/gp.py,
prior.py, acqf.py) runs on torch, which the golden venv does not install (a multi-GB wheel),
so the formulas are re-stated here in numpy/scipy, line by line after Optuna 5.0.0's source:

* the Matern-5/2 ARD kernel with Hamming distance on categorical dimensions (gp.py kernel);
* the fit loss -(marginal log-likelihood + log prior) at given raw hyperparameters and its
  gradient (torch autograd in Optuna; here the closed form, checked against central finite
  differences before it is written);
* the posterior mean and variance (gp.py posterior);
* standard_logei / logei (acqf.py, with scipy's erfc and erfcx);
* qLogEI (acqf.py qLogEI + gp.py ConditionalGPRegressor) with base samples given as numpy's
  RandomState(seed).standard_normal, which the C++ sampler also draws;
* the MAP fit: scipy's L-BFGS-B on the same loss from all-ones (gp.py fit_kernel_params), its
  final loss (the C++ fit is a different L-BFGS, so only the reached loss is compared);
* Optuna's own search-space code (optuna/_gp/search_space.py, numpy only): normalisation,
  unnormalisation, rounding and the discrete grids;
* Optuna's GPSampler itself for its start-up phase (random trials before n_startup_trials
  COMPLETE trials, which needs no torch): a seeded study's parameters.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import optuna
from optuna._gp import search_space as gss
import scipy.linalg
import scipy.optimize
import scipy.special

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gp_golden.json")
MIN_NOISE = 1e-6


def matern52(d2):
    s = np.sqrt(5 * d2)
    return np.exp(-s) * ((5 / 3) * d2 + s + 1)


def matern52_deriv(d2):
    s = np.sqrt(5 * d2)
    return (-5 / 6) * (s + 1) * np.exp(-s)


def sqd(a, b, is_cat):
    d = (a[:, None, :] - b[None, :, :]) ** 2
    d[..., is_cat] = (d[..., is_cat] > 0).astype(float)
    return d


def kernel(a, b, is_cat, lam, scale):
    return matern52(sqd(a, b, is_cat) @ lam) * scale


def loss_and_grad(raw, X, y, is_cat, deterministic):
    d = X.shape[1]
    lam = np.exp(raw[:d])
    scale = np.exp(raw[d])
    raw_noise = 0.0 if deterministic else np.exp(raw[d + 1])
    noise = MIN_NOISE if deterministic else raw_noise + MIN_NOISE
    S = sqd(X, X, is_cat)
    D = S @ lam
    M = matern52(D)
    C = scale * M + noise * np.eye(len(y))
    L = np.linalg.cholesky(C)
    inv_l_y = scipy.linalg.solve_triangular(L, y, lower=True)
    mll = -np.log(np.diag(L)).sum() - 0.5 * inv_l_y @ inv_l_y
    prior = (
        -(0.1 / lam + 0.1 * lam).sum()
        + (2 - 1) * np.log(scale) - 1 * scale
        + (1.1 - 1) * np.log(noise) - 30 * noise
    )
    alpha = scipy.linalg.cho_solve((L, True), y)
    W = np.outer(alpha, alpha) - scipy.linalg.cho_solve((L, True), np.eye(len(y)))
    Mp = matern52_deriv(D)
    g = np.empty(d + 2)
    for k in range(d):
        g[k] = -(lam[k] * 0.5 * np.sum(W * scale * Mp * S[..., k]) + (0.1 / lam[k] - 0.1 * lam[k]))
    g[d] = -(scale * 0.5 * np.sum(W * M) + (1 - scale))
    g[d + 1] = 0.0 if deterministic else -(raw_noise * 0.5 * np.trace(W) + raw_noise * (0.1 / noise - 30))
    return -(mll + prior), g, mll, prior


def check_gradient(raw, X, y, is_cat, deterministic):
    _, g, _, _ = loss_and_grad(raw, X, y, is_cat, deterministic)
    for k in range(len(raw)):
        h = 1e-6
        e = np.zeros_like(raw)
        e[k] = h
        fd = (loss_and_grad(raw + e, X, y, is_cat, deterministic)[0]
              - loss_and_grad(raw - e, X, y, is_cat, deterministic)[0]) / (2 * h)
        assert abs(fd - g[k]) <= 1e-6 * max(1, abs(g[k])), (k, fd, g[k])


class Gp:
    def __init__(self, X, y, is_cat, lam, scale, noise):
        self.X, self.y, self.is_cat, self.lam, self.scale, self.noise = X, y, is_cat, lam, scale, noise
        C = kernel(X, X, is_cat, lam, scale) + noise * np.eye(len(y))
        self.L = np.linalg.cholesky(C)
        self.alpha = scipy.linalg.cho_solve((self.L, True), y)

    def k(self, x, rows=None):
        return kernel(np.atleast_2d(x), self.X if rows is None else rows, self.is_cat, self.lam, self.scale)

    def posterior(self, x):
        kx = self.k(x)
        mean = kx @ self.alpha
        V = scipy.linalg.cho_solve((self.L, True), kx.T).T
        var = np.maximum(self.scale - np.sum(kx * V, axis=1), 0.0)
        return mean, var

    def joint_posterior(self, xs):
        kx = self.k(xs)
        mean = kx @ self.alpha
        V = scipy.linalg.cho_solve((self.L, True), kx.T).T
        cov = self.k(xs, xs) - V @ kx.T
        np.fill_diagonal(cov, np.maximum(np.diag(cov), 0.0))
        return mean, cov


SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def standard_logei(z):
    z = np.asarray(z, dtype=float)
    with np.errstate(divide="ignore"):
        out = np.log((z_half := 0.5 * z) * scipy.special.erfc(-SQRT_HALF * z)
                     + np.exp(-z_half * z) * INV_SQRT_2PI)
    small = z < -25
    zs = z[small]
    out[small] = -0.5 * zs ** 2 - LOG_SQRT_2PI + np.log(1 + SQRT_HALF_PI * zs * scipy.special.erfcx(-SQRT_HALF * zs))
    return out


def logei(mean, var, f0):
    sigma = np.sqrt(var)
    return standard_logei((mean - f0) / sigma) + np.log(sigma)


def qlogei(gp, threshold, X_running, base, xs, noise=1e-12):
    mean_r, cov_rr = gp.joint_posterior(X_running)
    cov_rr = cov_rr + noise * np.eye(len(mean_r))
    Lr = np.linalg.cholesky(cov_rr)
    fant = mean_r + base[:, :-1] @ Lr.T
    A = scipy.linalg.cho_solve((Lr, True), (fant - mean_r).T)
    V_r = scipy.linalg.cho_solve((gp.L, True), gp.k(X_running).T)
    out = []
    for x in xs:
        mu, var = gp.posterior(x)
        c = gp.k(x, X_running)[0] - gp.k(x)[0] @ V_r
        cond_mean = mu[0] + c @ A
        w = scipy.linalg.cho_solve((Lr, True), c)
        cond_cov = max(var[0] + noise - c @ w, 0.0)
        samples = cond_mean + math.sqrt(cond_cov) * base[:, -1]
        y_all = np.concatenate([fant, samples[:, None]], axis=1)
        util = np.log(np.maximum(y_all - threshold, 1e-12))
        m = util.max(axis=1)
        out.append(float(scipy.special.logsumexp(m) - math.log(len(m))))
    return fant, out


def gp_section():
    rng = np.random.RandomState(7)
    n, d = 14, 4
    is_cat = np.array([False, False, False, True])
    X = rng.uniform(size=(n, d))
    X[:, 3] = rng.randint(0, 3, size=n)
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.3 * X[:, 3] + 0.05 * rng.randn(n)
    y = (y - y.mean()) / y.std()
    lam = np.array([2.0, 0.5, 5.0, 1.3])
    scale, noise = 1.7, 0.03
    raw = np.concatenate([np.log(lam), [np.log(scale), np.log(noise - MIN_NOISE)]])
    out = {"X": X.ravel().tolist(), "y": y.tolist(), "is_categorical": is_cat.tolist(),
           "lambda": lam.tolist(), "scale": scale, "noise": noise, "raw": raw.tolist()}
    out["kernel"] = kernel(X, X, is_cat, lam, scale).ravel().tolist()
    for det in (False, True):
        check_gradient(raw, X, y, is_cat, det)
        loss, g, mll, prior = loss_and_grad(raw, X, y, is_cat, det)
        key = "deterministic" if det else "noisy"
        out[key] = {"loss": loss, "grad": g.tolist(), "mll": mll, "log_prior": prior}
    gp = Gp(X, y, is_cat, lam, scale, noise)
    tx = rng.uniform(size=(6, d))
    tx[:, 3] = rng.randint(0, 3, size=6)
    tx[0] = X[2]  # at a training point
    mean, var = gp.posterior(tx)
    out["test_x"] = tx.ravel().tolist()
    out["post_mean"] = mean.tolist()
    out["post_var"] = var.tolist()
    threshold = float(y.max())
    out["threshold"] = threshold
    out["logei"] = logei(mean, var + 1e-12, threshold).tolist()

    # qLogEI with two running trials and 32 base samples from RandomState(123).
    X_running = rng.uniform(size=(2, d))
    X_running[:, 3] = [0, 2]
    base_seed, n_samples = 123, 32
    base = np.random.RandomState(base_seed).standard_normal((n_samples, 3))
    fant, q = qlogei(gp, threshold, X_running, base, tx)
    out["qlogei"] = {"running": X_running.ravel().tolist(), "seed": base_seed,
                     "n_samples": n_samples, "fantasies": fant.ravel().tolist(), "values": q}

    # MAP fit from all-ones, as fit_kernel_params does without a cache.
    for det in (False, True):
        raw0 = np.concatenate([np.zeros(d + 1), [np.log(1.0 - 0.99 * MIN_NOISE)]])
        res = scipy.optimize.minimize(lambda r: loss_and_grad(r, X, y, is_cat, det)[:2], raw0,
                                      jac=True, method="l-bfgs-b", options={"gtol": 1e-2})
        assert res.success, res.message
        out["fit_deterministic" if det else "fit_noisy"] = {"loss": float(res.fun), "raw": res.x.tolist()}
    return out


def logei_section():
    z = np.array([-60, -40, -30, -25.5, -25.0, -24.9, -20, -10, -5, -1, -0.1, 0, 0.1, 1, 3, 8, 30.0])
    return {"z": z.tolist(), "standard_logei": standard_logei(z).tolist(),
            "erfcx_x": [0.5, 3, 10, 14.9, 15.1, 17.7, 20, 30, 50],
            "erfcx": scipy.special.erfcx([0.5, 3, 10, 14.9, 15.1, 17.7, 20, 30, 50]).tolist()}


def search_space_section():
    dists = [
        ("a", optuna.distributions.FloatDistribution(0.1, 10.0, log=True)),
        ("b", optuna.distributions.FloatDistribution(0.0, 1.0, step=0.1)),
        ("c", optuna.distributions.IntDistribution(1, 100, log=True)),
        ("d", optuna.distributions.IntDistribution(-5, 5, step=2)),
        ("e", optuna.distributions.CategoricalDistribution(["x", "y", "z"])),
        ("f", optuna.distributions.FloatDistribution(-3.0, 2.0)),
    ]
    space = gss.SearchSpace(dict(dists))
    values = {"a": [0.1, 0.37, 10.0], "b": [0.0, 0.3, 1.0], "c": [1, 7, 100], "d": [-5, 1, 5],
              "e": [0, 2, 1], "f": [-3.0, 0.25, 2.0]}
    coords = [0.0, 0.013, 0.25, 0.5, 0.731, 0.999, 1.0]
    out = []
    for i, (name, dist) in enumerate(dists):
        st = space._scale_types[i]
        bounds = (space._bounds[i, 0], space._bounds[i, 1])
        step = space._steps[i]
        entry = {"name": name, "values": values[name]}
        entry["normalized"] = gss._normalize_one_param(np.array(values[name], dtype=float), st, bounds, step).tolist()
        if st != gss._ScaleType.CATEGORICAL:
            entry["rounded"] = gss._round_one_normalized_param(np.array(coords), st, bounds, step).tolist()
        unnorm = []
        for c in coords:
            x = np.full(len(dists), 0.5)
            x[4] = 1.0
            x[i] = c if st != gss._ScaleType.CATEGORICAL else float(min(int(c * 3), 2))
            v = space.get_unnormalized_param(x)[name]
            unnorm.append(dist.to_internal_repr(v) if st == gss._ScaleType.CATEGORICAL else float(v))
        entry["unnormalized"] = unnorm
        out.append(entry)
    grids = [g.tolist() for g in space.get_choices_of_discrete_params()]
    return {"coords": coords, "params": out, "discrete_indices": space.discrete_indices.tolist(),
            "grids": grids}


def startup_section():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = optuna.samplers.GPSampler(seed=11)
    study = optuna.create_study(sampler=sampler)

    def objective(trial):
        x = trial.suggest_float("x", -5, 5)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        k = trial.suggest_int("k", 1, 9)
        c = trial.suggest_categorical("c", ["p", "q", "r"])
        return x * x + math.log(lr) ** 2 + k + {"p": 0, "q": 1, "r": 2}[c]

    study.optimize(objective, n_trials=10)
    return [{"x": t.params["x"], "lr": t.params["lr"], "k": t.params["k"],
             "c": ["p", "q", "r"].index(t.params["c"]), "value": t.value} for t in study.trials]


def main():
    golden = {"optuna": optuna.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
              "gp": gp_section(), "logei": logei_section(), "search_space": search_space_section(),
              "startup": startup_section()}
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
