"""Data validation and drift on Plinth's C++ data engine, in process.

    import plinth.data
    report = plinth.data.validate(df, "suite.yaml")          # or a CSV path, or suite YAML text
    drift = plinth.data.drift(reference_df, current_df)       # or two CSV paths
    plinth.data.save_reference(train_df, "train.pdr")         # then drift("train.pdr", df)
    drift["dataset_drift"], drift["columns"]["age"]["p_value"]

Both return the structure `plinth data validate|drift --format json` prints. DataFrames are
handed to C++ column by column through numpy's buffer protocol: numeric columns are read in
place (no copy), string columns from the array of object pointers (each distinct str object
converted once). numpy 2-D arrays are accepted too (columns named column_1, column_2, …).
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import _native

__all__ = ["validate", "drift", "validate_html", "drift_html", "save_reference"]


def _suite_arg(suite) -> tuple[str, bool]:
    if isinstance(suite, os.PathLike):
        return os.fspath(suite), True
    if isinstance(suite, dict):
        import yaml  # only for dict suites

        return yaml.safe_dump(suite), False
    if isinstance(suite, str) and "\n" not in suite and os.path.exists(suite):
        return suite, True
    if isinstance(suite, str):
        return suite, False
    raise TypeError("suite must be a YAML path, YAML text or a dict")


def _columns(data) -> list[tuple[str, str, Any, Any]]:
    """(name, kind, values, null mask) per column of a DataFrame or a 2-D numpy array."""
    import numpy as np

    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError("a numpy array must be 2-D (rows × columns)")
        return [(f"column_{j + 1}", "float", np.ascontiguousarray(data[:, j], dtype=np.float64),
                 None) for j in range(data.shape[1])]
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover
        raise TypeError("pass a CSV path, a numpy array or a pandas DataFrame") from e
    if not isinstance(data, pd.DataFrame):
        raise TypeError("pass a CSV path, a numpy array or a pandas DataFrame")
    out = []
    for name in data.columns:
        s = data[name]
        dtype = s.dtype
        kind = dtype.kind
        # numpy-backed columns hold no null but NaN (floats): they go over as they are, read
        # in place. Nullable (extension) dtypes carry pd.NA: their nulls travel as a mask.
        numpy_backed = isinstance(dtype, np.dtype)
        mask = None
        if (kind == "M" or (not numpy_backed and kind in "biu")) and s.hasnans:
            mask = s.isna().to_numpy()
        if kind == "b":
            values = s.to_numpy() if numpy_backed else s.to_numpy(dtype=bool, na_value=False)
            out.append((str(name), "bool", values, mask))
        elif kind in "iu":
            values = (s.to_numpy() if numpy_backed and dtype == np.int64
                      else s.to_numpy(dtype=np.int64, na_value=0))
            out.append((str(name), "int", values, mask))
        elif kind == "f":
            values = (s.to_numpy() if numpy_backed and dtype == np.float64
                      else s.to_numpy(dtype=np.float64, na_value=np.nan))
            out.append((str(name), "float", values, None))
        elif kind == "M":
            micros = s.to_numpy(dtype="datetime64[us]").astype(np.int64)
            out.append((str(name), "timestamp", micros, mask))
        else:
            # Objects (str, None, NaN, pd.NA) are read by C++ from the array of pointers.
            out.append((str(name), "string", s.to_numpy(dtype=object), None))
    return out


def _is_path(data) -> bool:
    return isinstance(data, (str, os.PathLike))


def validate(data, suite) -> dict:
    """Runs a validation suite (YAML path, YAML text or dict) on a CSV path or a DataFrame.
    Returns the GE-shaped result: success, statistics, schema, results (each with success,
    observed value, unexpected count/percent and unexpected values with row numbers)."""
    text, is_path = _suite_arg(suite)
    if _is_path(data):
        return json.loads(_native.validate_file(os.fspath(data), text, is_path))
    return json.loads(_native.validate_table(_columns(data), text, is_path, "DataFrame"))


def validate_html(path, suite) -> str:
    """The self-contained HTML report of validating the CSV file at `path`."""
    text, is_path = _suite_arg(suite)
    return _native.validate_file(os.fspath(path), text, is_path, True)


def _drift_options(method, threshold, drift_share, column_methods, column_thresholds,
                   numerical_method, categorical_method) -> dict:
    return {"method": method, "threshold": threshold, "drift_share": drift_share,
            "numerical_method": numerical_method, "categorical_method": categorical_method,
            "per_column_method": dict(column_methods or {}),
            "per_column_threshold": dict(column_thresholds or {})}


def _drift_side(data):
    return os.fspath(data) if _is_path(data) else _columns(data)


def drift(reference, current, *, method: str | None = None, threshold: float | None = None,
          drift_share: float = 0.5, column_methods: dict | None = None,
          column_thresholds: dict | None = None, numerical_method: str | None = None,
          categorical_method: str | None = None) -> dict:
    """Column drift between two datasets with Evidently's default test selection unless told
    otherwise. Each side is a DataFrame, a 2-D numpy array or a CSV path; the reference may
    also be a stored drift reference (`save_reference` or `plinth data reference`), which
    gives the same report without the reference rows. Returns {"dataset_drift",
    "drift_share", "columns": {name: {"test", "statistic", "p_value", "threshold", "drifted",
    …}}, …} as `plinth data drift --format json` prints it."""
    options = _drift_options(method, threshold, drift_share, column_methods, column_thresholds,
                             numerical_method, categorical_method)
    return json.loads(_native.drift(_drift_side(reference), _drift_side(current), options))


def drift_html(reference, current, **kwargs) -> str:
    """The self-contained HTML drift report (per-column distribution plots)."""
    options = _drift_options(kwargs.get("method"), kwargs.get("threshold"),
                             kwargs.get("drift_share", 0.5), kwargs.get("column_methods"),
                             kwargs.get("column_thresholds"), kwargs.get("numerical_method"),
                             kwargs.get("categorical_method"))
    return _native.drift(_drift_side(reference), _drift_side(current), options, True)


def save_reference(data, path) -> dict:
    """Stores what drift needs of `data` (a DataFrame, numpy array or CSV path) at `path`: exact
    per-column samples (sorted distinct values with counts, category counts), no rows. Later
    `drift(path, current)` gives the report the rows would give. Returns {"rows", "columns",
    "bytes"}."""
    rows, columns, size = _native.save_reference(_drift_side(data), os.fspath(path))
    return {"rows": rows, "columns": columns, "bytes": size}
