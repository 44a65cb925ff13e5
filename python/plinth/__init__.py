"""Plinth's Python SDK.

``plinth.tune`` is an Optuna-shaped hyperparameter search running on Plinth's C++ engine in
process (``storage=None``). The package is a thin layer: sampling and study bookkeeping happen
in the native module ``plinth._native``.
"""

__version__ = "0.1.0"

from . import data, tune  # noqa: E402,F401
