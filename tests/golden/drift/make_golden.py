#!/usr/bin/env python3
"""Writes golden.json: drift statistics and p-values from scipy and Evidently for src/drift.

Run with the pinned reference versions (scripts/setup-golden-venv.sh):

    .venv-golden/bin/python tests/golden/drift/make_golden.py

The inputs are not stored: each sample is a recipe (seed, size, shape, share of missing
values) expanded by a SplitMix64 generator with integer arithmetic and exactly rounded
float operations, which src/drift/drift_golden_test.cc repeats bit for bit. The table holds,
per case and method, what the reference returns: scipy's statistic and p-value, Evidently's
drift score, threshold and verdict, or the error a reference raises. Cases covering Evidently's
default selection also hold what a one-column `Report([DataDriftPreset()])` chose and scored,
and two multi-column datasets hold the dataset-level drift share.
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import scipy
import scipy.stats as st
from scipy.spatial import distance

import evidently
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
from evidently.legacy.calculations.stattests.registry import get_registered_stattest
from evidently.legacy.calculations.stattests.z_stattest import proportions_diff_z_stat_ind
from evidently.legacy.core import ColumnType

warnings.simplefilter("ignore")

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def generate(r):
    """Expands a recipe into a list of floats (numeric) or labels / None (categorical).

    Per element: one draw decides missingness (per mille: `nan`, then `inf`); a present value
    then takes the draws of its shape. Every float operation is a single IEEE operation in a
    fixed order so that C++ reproduces it exactly.
    """
    rng = SplitMix64(r["seed"])
    dist = r["dist"]
    nan, inf = r.get("nan", 0), r.get("inf", 0)
    loc, scale = float(r.get("loc", 0.0)), float(r.get("scale", 1.0))
    k, quant, offset = r.get("k", 1), r.get("quant", 0), r.get("offset", 0)
    out = []
    for _ in range(r["n"]):
        m = rng.next() % 1000
        if m < nan:
            out.append(None if dist in ("cat", "catint") else math.nan)
            continue
        if m < nan + inf:
            out.append(math.inf if m % 2 == 0 else -math.inf)
            continue
        if dist == "normal":  # Irwin-Hall(4) of 20-bit uniforms, optionally quantized
            s = sum(rng.next() >> 44 for _ in range(4))
            s = (s >> quant) << quant
            out.append(loc + scale * ((s - 2097152) / 1048576.0))
        elif dist == "skew":  # cube of a 20-bit uniform: a long right tail
            u = (rng.next() >> 44) / 1048576.0
            out.append(loc + scale * (u * u * u))
        elif dist == "discrete":
            out.append(loc + scale * float(rng.next() % k))
        elif dist == "constant":
            out.append(loc)
        elif dist in ("cat", "catint"):  # skewed towards low codes: min of two draws
            a, b = rng.next() % k, rng.next() % k
            code = min(a, b) + offset
            out.append("c%d" % code if dist == "cat" else code)
        else:
            raise ValueError(dist)
    return out


def num(x):
    """JSON has no NaN/inf: they travel as strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


NUMERIC_METHODS = ["ks", "wasserstein", "ed", "anderson", "cramer_von_mises", "mannw",
                   "psi", "kl_div", "jensenshannon", "hellinger", "chisquare", "z"]
CATEGORICAL_METHODS = ["chisquare", "z", "jensenshannon", "psi", "kl_div", "hellinger"]


def evidently_score(method, ref, cur, ctype):
    test = get_registered_stattest(method, ctype if method not in ("chisquare", "z")
                                   else ColumnType.Categorical)
    res = test(ref.copy(), cur.copy(), ctype, None)
    return float(res.drift_score), bool(res.drifted), float(res.actual_threshold)


def reference_statistic(method, ref, cur):
    """The statistic and p-value of the underlying scipy call (p NaN for distances)."""
    r, c = ref.to_numpy(), cur.to_numpy()
    if method == "ks":
        res = st.ks_2samp(r, c)
        return res.statistic, res.pvalue
    if method == "wasserstein":
        return st.wasserstein_distance(r, c), math.nan
    if method == "ed":
        return st.energy_distance(r, c), math.nan
    if method == "anderson":
        res = st.anderson_ksamp([r, c])
        return res.statistic, res.pvalue
    if method == "cramer_von_mises":
        res = st.cramervonmises_2samp(r, c)
        return res.statistic, res.pvalue
    if method == "mannw":
        res = st.mannwhitneyu(r, c, alternative="less")
        return res.statistic, res.pvalue
    if method == "chisquare":
        keys = list(set(ref.unique()) | set(cur.unique()))
        rc, cc = ref.value_counts(), cur.value_counts()
        k_norm = cur.shape[0] / ref.shape[0]
        f_exp = [rc.get(key, 0) * k_norm for key in keys]
        f_obs = [cc.get(key, 0) for key in keys]
        res = st.chisquare(f_obs, f_exp)
        return res.statistic, res.pvalue
    if method == "z":
        if ref.nunique() == 1 and cur.nunique() == 1 and ref.unique()[0] == cur.unique()[0]:
            return math.nan, 1.0
        first = sorted(set(ref.unique()) | set(cur.unique()))[0]
        z = proportions_diff_z_stat_ind(ref.apply(lambda x: 0 if x == first else 1),
                                        cur.apply(lambda x: 0 if x == first else 1))
        return z, math.nan  # the p-value is Evidently's drift score
    return math.nan, math.nan  # binned distances: the statistic is the score


def run_cramer_von_mises(ref, cur):
    """scipy's two-sample CvM, with Evidently's own copy recorded beside it.

    Evidently's copy of scipy's exact distribution keeps its counts in float16 or float32
    (np.min_scalar_type of a float), so for small samples its p-value drifts from scipy's exact
    integer count, or it fails outright on a casting error; src/drift follows scipy.
    """
    threshold = 0.1
    try:
        res = st.cramervonmises_2samp(ref.to_numpy(), cur.to_numpy())
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__ + ": " + str(e)[:120]}
    out = {"statistic": num(res.statistic), "p_value": num(res.pvalue), "score": num(res.pvalue),
           "threshold": threshold, "drifted": bool(res.pvalue <= threshold)}
    try:
        score, _, _ = evidently_score("cramer_von_mises", ref, cur, ColumnType.Numerical)
        out["evidently_score"] = num(score)
    except Exception as e:  # noqa: BLE001
        out["evidently_error"] = type(e).__name__ + ": " + str(e)[:120]
    return out


def run_method(method, ref, cur, ctype):
    if method == "cramer_von_mises":
        return run_cramer_von_mises(ref, cur)
    out = {}
    try:
        score, drifted, threshold = evidently_score(method, ref, cur, ctype)
        out.update(score=num(score), drifted=drifted, threshold=threshold)
    except Exception as e:  # noqa: BLE001 - the golden records that the reference refuses
        out["error"] = type(e).__name__ + ": " + str(e)[:120]
        return out
    stat, p = reference_statistic(method, ref, cur)
    if method in ("psi", "kl_div", "jensenshannon", "hellinger"):
        stat = score
    if method in ("ks", "chisquare", "z", "anderson", "mannw") and math.isnan(p):
        p = score
    out["statistic"] = num(stat)
    out["p_value"] = num(p)
    return out


def clean(values):
    if any(isinstance(v, str) for v in values):
        dtype = object
    elif all(isinstance(v, int) for v in values):
        dtype = "int64"
    else:
        dtype = float
    s = pd.Series(values, dtype=dtype)
    return s.replace([-np.inf, np.inf], np.nan).dropna()


def default_report(ref_values, cur_values, kind):
    """Evidently's own choice and score for one column under DataDriftPreset()."""
    dd = DataDefinition(numerical_columns=["x"]) if kind == "numeric" else \
        DataDefinition(categorical_columns=["x"])
    ref = pd.DataFrame({"x": ref_values})
    cur = pd.DataFrame({"x": cur_values})
    try:
        snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=dd),
                                               Dataset.from_pandas(ref, data_definition=dd))
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__ + ": " + str(e)[:120]}
    metrics = snap.dict()["metrics"]
    count = metrics[0]["value"]
    drift = metrics[1]
    return {"method": drift["config"]["method"], "threshold": drift["config"]["threshold"],
            "score": num(drift["value"]), "drifted": bool(count["count"] >= 1)}


def case(name, kind, ref, cur, methods=None, default=True):
    return {"name": name, "kind": kind, "ref": ref, "cur": cur, "methods": methods,
            "default": default}


def N(seed, n, **kw):
    return dict(seed=seed, n=n, dist="normal", **kw)


def cases():
    c = [
        # Small continuous samples: exact KS (n1 != n2 and n1 == n2), exact CvM and MWU.
        case("small_shift", "numeric", N(1, 200), N(2, 150, loc=0.3)),
        case("small_equal_n", "numeric", N(3, 100), N(4, 100, loc=0.1, scale=1.2)),
        case("tiny", "numeric", N(5, 7), N(6, 6, loc=0.5)),
        case("tiny_equal", "numeric", N(7, 5), N(8, 5, loc=-0.4)),
        case("three_values", "numeric", N(90, 2), N(91, 1)),
        case("cvm_exact_edge", "numeric", N(9, 20), N(10, 15, loc=0.2)),
        case("mwu_exact_one_small", "numeric", N(11, 8), N(12, 40, loc=0.6)),
        case("mwu_exact_long", "numeric", N(92, 2000), N(93, 3, loc=0.8)),
        case("cvm_exact_20x20", "numeric", N(94, 20), N(95, 20, loc=0.5)),
        case("no_drift_small", "numeric", N(13, 300), N(14, 280)),
        # Ties: quantized normals and small integer sets.
        case("ties_quantized", "numeric", N(15, 800, quant=17), N(16, 600, quant=17, loc=0.05)),
        case("ties_discrete10", "numeric", dict(seed=17, n=300, dist="discrete", k=10),
             dict(seed=18, n=250, dist="discrete", k=10, loc=0.0, scale=1.0)),
        case("ties_tiny", "numeric", dict(seed=19, n=6, dist="discrete", k=3),
             dict(seed=20, n=7, dist="discrete", k=3)),
        case("lowcard3", "numeric", dict(seed=21, n=500, dist="discrete", k=3),
             dict(seed=22, n=400, dist="discrete", k=3, loc=0.0)),
        case("lowcard2", "numeric", dict(seed=23, n=500, dist="discrete", k=2),
             dict(seed=24, n=400, dist="discrete", k=2)),
        case("lowcard5_large", "numeric", dict(seed=25, n=3000, dist="discrete", k=5),
             dict(seed=26, n=2000, dist="discrete", k=4)),
        case("lowcard25_large", "numeric", dict(seed=27, n=3000, dist="discrete", k=25, scale=0.5),
             dict(seed=28, n=2000, dist="discrete", k=30, scale=0.5)),
        # Constant columns.
        case("constant_same", "numeric", dict(seed=29, n=100, dist="constant", loc=1.5),
             dict(seed=30, n=80, dist="constant", loc=1.5)),
        case("constant_differ", "numeric", dict(seed=31, n=100, dist="constant", loc=1.5),
             dict(seed=32, n=80, dist="constant", loc=2.5)),
        case("constant_vs_spread", "numeric", dict(seed=33, n=1500, dist="constant", loc=0.0),
             N(34, 900)),
        # Missing values: NaN and +-inf are dropped before any test.
        case("nan_small", "numeric", N(35, 400, nan=50, inf=10), N(36, 300, nan=80, loc=0.2)),
        case("nan_large", "numeric", N(37, 3000, nan=30, inf=5), N(38, 2500, nan=100, scale=1.3)),
        # Large samples: default switches to normed Wasserstein; exact KS up to 10,000 rows.
        case("large_shift", "numeric", N(39, 5000), N(40, 4000, loc=0.05)),
        case("large_skew", "numeric", dict(seed=41, n=2000, dist="skew", scale=10.0),
             dict(seed=42, n=1500, dist="skew", scale=11.0)),
        case("boundary_ref1000", "numeric", N(43, 1000), N(44, 50, loc=0.3)),
        case("boundary_ref1001", "numeric", N(45, 1001), N(46, 50, loc=0.3)),
        case("wide_range", "numeric", N(47, 1200, scale=1e6, loc=3e6), N(48, 1000, scale=1e6)),
        # KS asymptotic (max n > 10,000): kstwo.sf at n = round(n1 n2 / (n1 + n2)).
        case("ks_asymp_pelzgood", "numeric", N(49, 12000), N(50, 3000, loc=0.03)),
        case("ks_asymp_smirnov", "numeric", N(51, 12000), N(52, 3000, loc=0.1)),
        case("ks_asymp_dmtw", "numeric", N(53, 12000), N(54, 11000)),
        case("ks_asymp_tail", "numeric", N(55, 12000), N(56, 3000, loc=0.5)),
        case("ks_asymp_dmtw_large", "numeric", N(201, 12000), N(201, 11000)),  # a prefix
        case("ks_asymp_zero", "numeric", N(55, 12000), N(56, 3000, loc=0.6)),
        case("ks_asymp_n100_dmtw", "numeric", N(57, 100), N(58, 11000)),
        case("ks_asymp_n100_pomeranz", "numeric", N(59, 100), N(60, 11000, loc=0.25)),
        case("ks_asymp_n100_smirnov", "numeric", N(61, 100), N(62, 11000, loc=0.7)),
        # Categorical columns.
        case("cat_small", "categorical", dict(seed=63, n=300, dist="cat", k=4),
             dict(seed=64, n=200, dist="cat", k=4)),
        case("cat_new_category", "categorical", dict(seed=65, n=300, dist="cat", k=3),
             dict(seed=66, n=200, dist="cat", k=4)),
        case("cat_lost_category", "categorical", dict(seed=67, n=300, dist="cat", k=5),
             dict(seed=68, n=200, dist="cat", k=3)),
        case("cat_binary", "categorical", dict(seed=69, n=300, dist="cat", k=2),
             dict(seed=70, n=250, dist="cat", k=2, offset=0)),
        case("cat_binary_sort", "categorical", dict(seed=71, n=300, dist="cat", k=2, offset=9),
             dict(seed=72, n=250, dist="cat", k=2, offset=9)),
        case("cat_single_same", "categorical", dict(seed=73, n=100, dist="cat", k=1),
             dict(seed=74, n=90, dist="cat", k=1)),
        case("cat_single_differ", "categorical", dict(seed=75, n=100, dist="cat", k=1),
             dict(seed=76, n=90, dist="cat", k=1, offset=1)),
        case("cat_large", "categorical", dict(seed=77, n=5000, dist="cat", k=12),
             dict(seed=78, n=3000, dist="cat", k=12)),
        # Integer categories sort as numbers (9 before 10), strings as text ("c10" first).
        case("cat_int_codes", "categorical", dict(seed=81, n=300, dist="catint", k=2, offset=9),
             dict(seed=82, n=250, dist="catint", k=3, offset=9)),
        case("cat_int_binary", "categorical", dict(seed=83, n=300, dist="catint", k=2, offset=9),
             dict(seed=84, n=250, dist="catint", k=2, offset=9)),
        case("cat_missing", "categorical", dict(seed=79, n=400, dist="cat", k=5, nan=100),
             dict(seed=80, n=300, dist="cat", k=5, nan=200)),
    ]
    return c


def datasets():
    """Multi-column frames for the dataset-level share (all columns of a side share n)."""
    small = {"n_ref": 600, "n_cur": 500, "columns": [
        {"name": "a", "kind": "numeric", "ref": N(101, 600), "cur": N(102, 500, loc=0.4)},
        {"name": "b", "kind": "numeric", "ref": N(103, 600, nan=20), "cur": N(104, 500)},
        {"name": "c", "kind": "numeric", "ref": dict(seed=105, n=600, dist="discrete", k=3),
         "cur": dict(seed=106, n=500, dist="discrete", k=3)},
        {"name": "d", "kind": "categorical", "ref": dict(seed=107, n=600, dist="cat", k=4),
         "cur": dict(seed=108, n=500, dist="cat", k=5)},
    ]}
    large = {"n_ref": 2000, "n_cur": 1500, "columns": [
        {"name": "a", "kind": "numeric", "ref": N(111, 2000), "cur": N(112, 1500, loc=0.2)},
        {"name": "b", "kind": "numeric", "ref": N(113, 2000), "cur": N(114, 1500)},
        {"name": "c", "kind": "numeric", "ref": dict(seed=115, n=2000, dist="discrete", k=4),
         "cur": dict(seed=116, n=1500, dist="discrete", k=4)},
        {"name": "d", "kind": "categorical", "ref": dict(seed=117, n=2000, dist="cat", k=6),
         "cur": dict(seed=118, n=1500, dist="cat", k=6)},
        {"name": "e", "kind": "numeric", "ref": dict(seed=119, n=2000, dist="skew"),
         "cur": dict(seed=120, n=1500, dist="skew", scale=1.5)},
    ]}
    out = []
    for ds in (small, large):
        ref = pd.DataFrame({col["name"]: generate(col["ref"]) for col in ds["columns"]})
        cur = pd.DataFrame({col["name"]: generate(col["cur"]) for col in ds["columns"]})
        dd = DataDefinition(
            numerical_columns=[c["name"] for c in ds["columns"] if c["kind"] == "numeric"],
            categorical_columns=[c["name"] for c in ds["columns"] if c["kind"] == "categorical"])
        snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=dd),
                                               Dataset.from_pandas(ref, data_definition=dd))
        metrics = snap.dict()["metrics"]
        per_column = {}
        for m in metrics[1:]:
            per_column[m["config"]["column"]] = {"method": m["config"]["method"],
                                                 "threshold": m["config"]["threshold"],
                                                 "score": num(m["value"])}
        out.append({"columns": ds["columns"], "drift_share": 0.5,
                    "drifted_count": int(metrics[0]["value"]["count"]),
                    "drifted_share": num(metrics[0]["value"]["share"]),
                    "per_column": per_column})
    return out


def main():
    table = {
        "about": "Golden drift statistics for src/drift; written by make_golden.py, do not edit.",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "evidently": evidently.__version__},
        "cases": [],
        "datasets": [],
    }
    for cs in cases():
        ref_raw, cur_raw = generate(cs["ref"]), generate(cs["cur"])
        ref, cur = clean(ref_raw), clean(cur_raw)
        ctype = ColumnType.Numerical if cs["kind"] == "numeric" else ColumnType.Categorical
        methods = cs["methods"] or (NUMERIC_METHODS if cs["kind"] == "numeric"
                                    else CATEGORICAL_METHODS)
        results = {m: run_method(m, ref, cur, ctype) for m in methods}
        entry = {"name": cs["name"], "kind": cs["kind"], "ref": cs["ref"], "cur": cs["cur"],
                 "results": results}
        if cs["default"]:
            entry["default"] = default_report(ref_raw, cur_raw, cs["kind"])
        table["cases"].append(entry)
        print(cs["name"], file=sys.stderr)
    table["datasets"] = datasets()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
    with open(path, "w") as f:
        json.dump(table, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
