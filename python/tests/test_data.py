"""plinth.data in process: validation and drift on DataFrames, numpy arrays and CSV paths,
answering what `plinth data validate|drift --format json` answers."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import plinth.data as pdata

REPO = Path(__file__).resolve().parents[2]
PLINTH = REPO / "build" / "src" / "plinth"

SUITE = """
name: customers
columns:
  - {name: customer_id, type: int, nullable: false}
  - {name: age, type: int}
  - {name: plan, type: string}
primary_key: [customer_id]
expectations:
  - expect_column_values_to_not_be_null: {column: age}
  - expect_column_values_to_be_between: {column: age, min_value: 0, max_value: 120}
  - expect_column_values_to_be_in_set: {column: plan, value_set: [basic, pro]}
  - expect_table_row_count_to_be_between: {min_value: 1, max_value: 100}
"""


def frame():
    return pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 6],
        "age": pd.array([34, None, 151, 28, 45, 61], dtype="Int64"),
        "plan": ["basic", "pro", "pro", "enterprise", None, "basic"],
    })


def by_type(report):
    return {r["expectation_config"]["expectation_type"]: r for r in report["results"]}


def test_validate_dataframe_finds_each_planted_fault_with_its_row():
    report = pdata.validate(frame(), SUITE)
    assert report["success"] is False
    results = by_type(report)
    nulls = results["expect_column_values_to_not_be_null"]
    assert not nulls["success"] and nulls["result"]["unexpected_count"] == 1
    between = results["expect_column_values_to_be_between"]
    assert not between["success"] and between["result"]["unexpected_count"] == 1
    assert [str(v) for v in between["result"]["partial_unexpected_list"]] == ["151"]
    in_set = results["expect_column_values_to_be_in_set"]
    assert in_set["result"]["partial_unexpected_list"] == ["enterprise"]
    assert results["expect_table_row_count_to_be_between"]["success"]


def test_validate_csv_path_equals_the_cli(tmp_path):
    csv = tmp_path / "customers.csv"
    frame().to_csv(csv, index=False)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    ours = pdata.validate(str(csv), str(suite))
    if not PLINTH.exists():
        pytest.skip("no plinth binary to compare with")
    cli = subprocess.run([str(PLINTH), "data", "validate", str(csv), "--suite", str(suite),
                          "--format", "json"], capture_output=True, text=True)
    assert cli.returncode == 1, cli.stderr  # failed expectations
    assert json.loads(cli.stdout)["results"] == ours["results"]
    assert "<html" in pdata.validate_html(str(csv), str(suite)).lower()


def test_drift_matches_scipy_and_the_cli(tmp_path):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 3000), "y": rng.normal(0, 1, 3000),
                        "plan": rng.choice(["a", "b", "c"], 3000)})
    cur = pd.DataFrame({"x": rng.normal(0.3, 1, 2000), "y": rng.normal(0, 1, 2000),
                        "plan": rng.choice(["a", "b", "c"], 2000, p=[0.6, 0.2, 0.2])})
    out = pdata.drift(ref, cur, method="ks", column_methods={"plan": "chisquare"})
    assert set(out["columns"]) == {"x", "y", "plan"}
    x = out["columns"]["x"]
    expected = stats.ks_2samp(ref.x, cur.x)
    assert x["test"] and x["drifted"] is True
    assert x["statistic"] == pytest.approx(expected.statistic, rel=1e-9)
    assert x["p_value"] == pytest.approx(expected.pvalue, rel=1e-6)
    assert out["columns"]["plan"]["drifted"] is True
    assert isinstance(out["dataset_drift"], bool) and 0 <= out["drift_share"] <= 1

    # numpy arrays, and the defaults (Evidently's selection) from paths vs the CLI
    arr = pdata.drift(ref[["x", "y"]].to_numpy(), cur[["x", "y"]].to_numpy())
    assert set(arr["columns"]) == {"column_1", "column_2"}
    a, b = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.to_csv(a, index=False)
    cur.to_csv(b, index=False)
    from_paths = pdata.drift(str(a), str(b))
    if PLINTH.exists():
        cli = subprocess.run([str(PLINTH), "data", "drift", "--reference", str(a), "--current",
                              str(b), "--format", "json"], capture_output=True, text=True)
        assert cli.returncode in (0, 1), cli.stderr
        assert json.loads(cli.stdout)["columns"] == from_paths["columns"]
    assert "<svg" in pdata.drift_html(ref, cur)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError):
        pdata.drift(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": [2.0]}), method="nope")
    with pytest.raises(ValueError):
        pdata.validate(frame(), "expectations: [{expect_nothing_real: {}}]\n")
    with pytest.raises(TypeError):
        pdata.validate(42, SUITE)


def test_stored_reference_and_missing_values_read_in_place(tmp_path):
    """save_reference keeps what drift needs (no rows): drift from it equals drift from the
    data. Missing values of every kind (NaN, None, pd.NA in nullable dtypes and strings) are
    nulls, whether the columns are read in place (numpy-backed) or through a mask."""
    rng = np.random.default_rng(3)
    n = 4000

    def frame(shift):
        plan = rng.choice(["a", "b", "c"], n).astype(object)
        plan[::97] = None
        plan[5::101] = np.nan
        plan[7::103] = pd.NA
        x = rng.normal(shift, 1, n)
        x[::50] = np.nan
        return pd.DataFrame({
            "x": x,
            "n": pd.Series(rng.integers(0, 30, n), dtype="Int64").where(rng.random(n) > 0.05),
            "k": rng.integers(0, 1_000_000, n),
            "flag": pd.Series(rng.random(n) < 0.4 + shift, dtype="boolean").where(
                rng.random(n) > 0.02),
            "plan": plan,
        })

    ref, cur = frame(0.0), frame(0.2)
    direct = pdata.drift(ref, cur)
    info = pdata.save_reference(ref, tmp_path / "ref.pdr")
    assert info["rows"] == n and info["columns"] == 5 and info["bytes"] > 0
    assert pdata.drift(str(tmp_path / "ref.pdr"), cur)["columns"] == direct["columns"]
    csv = tmp_path / "ref.csv"
    ref.to_csv(csv, index=False)
    pdata.save_reference(str(csv), tmp_path / "ref2.pdr")
    from_csv = pdata.drift(str(csv), cur)
    assert pdata.drift(str(tmp_path / "ref2.pdr"), cur)["columns"] == from_csv["columns"]
    # Nulls are dropped before the tests: the same as handing over only the valid values.
    x = direct["columns"]["x"]
    assert x["test"] == "wasserstein"
    valid = pd.DataFrame({"x": ref.x.dropna()}), pd.DataFrame({"x": cur.x.dropna()})
    assert pdata.drift(*valid)["columns"]["x"]["statistic"] == pytest.approx(x["statistic"],
                                                                                rel=1e-12)
    plan = pdata.drift(pd.DataFrame({"plan": ref.plan.dropna().astype(str)}),
                       pd.DataFrame({"plan": cur.plan.dropna().astype(str)}))["columns"]["plan"]
    assert plan["statistic"] == pytest.approx(direct["columns"]["plan"]["statistic"], rel=1e-12)
    with pytest.raises(ValueError, match="reference"):
        pdata.drift(cur, str(tmp_path / "ref.pdr"))
