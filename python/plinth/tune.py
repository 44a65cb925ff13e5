"""Hyperparameter search with an Optuna-shaped API on Plinth's C++ tuning engine.

    import plinth.tune

    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        return (x - 2) ** 2

    study = plinth.tune.create_study(direction="minimize",
                                     sampler=plinth.tune.TPESampler(seed=42))
    study.optimize(objective, n_trials=100)
    print(study.best_params, study.best_value)

With ``storage=None`` (the default) the study lives in this process, on the C++ engine, with no
server: sampling costs microseconds per trial where Optuna's takes milliseconds. With
``storage="http://host:5000"`` it lives on a plinth server (its ask/tell API): processes and hosts
that create or load the same study name share it, and each trial is a tracked MLflow run. The samplers
reproduce Optuna 5's (TPE's split, kernels and candidate scores are checked against Optuna's
own numbers), so a seeded study suggests what Optuna's would.
"""

from __future__ import annotations

import datetime
import enum
import math
import threading
import time
from typing import Any, Callable, Iterable, Sequence

from . import _native

__all__ = [
    "TrialPruned", "TrialState", "StudyDirection", "FrozenTrial", "Trial", "Study",
    "TPESampler", "RandomSampler", "GridSampler", "CmaEsSampler", "GPSampler", "AutoSampler",
    "MedianPruner", "PercentilePruner", "SuccessiveHalvingPruner", "HyperbandPruner", "NopPruner",
    "create_study", "load_study",
]


class TrialPruned(Exception):
    """Raise from an objective to stop a trial early; it is recorded as PRUNED."""


class TrialState(enum.IntEnum):
    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    def is_finished(self) -> bool:
        return self not in (TrialState.RUNNING, TrialState.WAITING)


class StudyDirection(enum.IntEnum):
    NOT_SET = 0
    MINIMIZE = 1
    MAXIMIZE = 2


# --- samplers (configuration only; the C++ engine samples) ---

class BaseSampler:
    _kind = ""

    def _options(self) -> dict:
        raise NotImplementedError


class TPESampler(BaseSampler):
    """Optuna v5's TPE defaults: multivariate, constant liar, 10 start-up trials, 24 candidates."""

    _kind = "tpe"

    def __init__(self, *, seed: int | None = None, n_startup_trials: int = 10,
                 n_ei_candidates: int = 24, multivariate: bool = True, group: bool = False,
                 constant_liar: bool = True, prior_weight: float = 1.0,
                 consider_magic_clip: bool = True, consider_endpoints: bool = False):
        self._opts = dict(seed=seed, n_startup_trials=n_startup_trials,
                          n_ei_candidates=n_ei_candidates, multivariate=multivariate,
                          group=group, constant_liar=constant_liar, prior_weight=prior_weight,
                          consider_magic_clip=consider_magic_clip,
                          consider_endpoints=consider_endpoints)

    def _options(self) -> dict:
        return dict(self._opts)


class RandomSampler(BaseSampler):
    _kind = "random"

    def __init__(self, seed: int | None = None):
        self._seed = seed

    def _options(self) -> dict:
        return {"seed": self._seed}


class GridSampler(BaseSampler):
    """Every combination of ``search_space`` ({name: [values]}) once, in a seeded random order."""

    _kind = "grid"

    def __init__(self, search_space: dict[str, Sequence[Any]], seed: int | None = None):
        self._space = {k: list(v) for k, v in search_space.items()}
        self._seed = seed

    def _options(self) -> dict:
        return {"search_space": self._space, "seed": self._seed}


class CmaEsSampler(BaseSampler):
    """Optuna's CmaEsSampler (the `cmaes` package's CMA-ES), reproduced seed for seed."""

    _kind = "cmaes"

    def __init__(self, *, seed: int | None = None, n_startup_trials: int = 1,
                 sigma0: float | None = None, popsize: int | None = None,
                 consider_pruned_trials: bool = False, warn_independent_sampling: bool = True):
        self._opts = dict(seed=seed, n_startup_trials=n_startup_trials, sigma0=sigma0,
                          popsize=popsize, consider_pruned_trials=consider_pruned_trials,
                          warn_independent_sampling=warn_independent_sampling)

    def _options(self) -> dict:
        return dict(self._opts)


class GPSampler(BaseSampler):
    """Gaussian-process Bayesian optimisation as Optuna 5's GPSampler (Matérn-5/2, log-EI)."""

    _kind = "gp"

    def __init__(self, *, seed: int | None = None, n_startup_trials: int = 10,
                 deterministic_objective: bool = False, warn_independent_sampling: bool = True,
                 lengthscale_prior: str = "optuna"):
        """``lengthscale_prior``: ``"optuna"`` (Optuna's GPSampler) or ``"dim_scaled"`` (the
        dimension-scaled LogNormal lengthscale prior of Hvarfner et al. 2024, BoTorch's
        default; an opt-in departure from Optuna)."""
        self._opts = dict(seed=seed, n_startup_trials=n_startup_trials,
                          deterministic_objective=deterministic_objective,
                          warn_independent_sampling=warn_independent_sampling,
                          lengthscale_prior=lengthscale_prior)

    def _options(self) -> dict:
        return dict(self._opts)


class AutoSampler(BaseSampler):
    """Picks GP, CMA-ES, TPE or random by search space and budget, as OptunaHub's AutoSampler.

    ``gp_trials`` (default 100, Plinth's rule): GP below that many COMPLETE trials, then TPE
    until CMA-ES takes over at 250; 250 or more is OptunaHub's GP-until-CMA-ES.
    """

    _kind = "auto"

    def __init__(self, *, seed: int | None = None, gp_trials: int | None = None):
        self._seed = seed
        self._gp_trials = gp_trials

    def _options(self) -> dict:
        return {"seed": self._seed, "gp_trials": self._gp_trials}


# --- pruners (configuration only; the C++ engine decides) ---

class BasePruner:
    _kind = ""

    def _options(self) -> dict:
        return {}


class NopPruner(BasePruner):
    _kind = "nop"


class PercentilePruner(BasePruner):
    _kind = "percentile"

    def __init__(self, percentile: float, n_startup_trials: int = 5, n_warmup_steps: int = 0,
                 interval_steps: int = 1, *, n_min_trials: int = 1):
        self._opts = dict(percentile=percentile, n_startup_trials=n_startup_trials,
                          n_warmup_steps=n_warmup_steps, interval_steps=interval_steps,
                          n_min_trials=n_min_trials)

    def _options(self) -> dict:
        return dict(self._opts)


class MedianPruner(PercentilePruner):
    """Optuna's default pruner."""

    def __init__(self, n_startup_trials: int = 5, n_warmup_steps: int = 0,
                 interval_steps: int = 1, *, n_min_trials: int = 1):
        super().__init__(50.0, n_startup_trials, n_warmup_steps, interval_steps,
                         n_min_trials=n_min_trials)


class SuccessiveHalvingPruner(BasePruner):
    _kind = "successive_halving"

    def __init__(self, min_resource: int | str = "auto", reduction_factor: int = 4,
                 min_early_stopping_rate: int = 0, bootstrap_count: int = 0):
        self._opts = dict(min_resource=None if min_resource == "auto" else int(min_resource),
                          reduction_factor=reduction_factor,
                          min_early_stopping_rate=min_early_stopping_rate,
                          bootstrap_count=bootstrap_count)

    def _options(self) -> dict:
        return dict(self._opts)


class HyperbandPruner(BasePruner):
    _kind = "hyperband"

    def __init__(self, min_resource: int = 1, max_resource: int | str = "auto",
                 reduction_factor: int = 3, bootstrap_count: int = 0):
        self._opts = dict(min_resource=min_resource,
                          max_resource=None if max_resource == "auto" else int(max_resource),
                          reduction_factor=reduction_factor, bootstrap_count=bootstrap_count)

    def _options(self) -> dict:
        return dict(self._opts)


# --- trials ---

class FrozenTrial:
    """A trial's record (Optuna's FrozenTrial, single objective)."""

    def __init__(self, record: dict, user_attrs: dict, start, complete):
        self.number: int = record["number"]
        self.state = TrialState[record["state"]]
        self.value: float | None = record["value"]
        self._values = record.get("values")
        self.params: dict[str, Any] = dict(record["params"])
        self.distributions: dict[str, dict] = dict(record["distributions"])
        self.intermediate_values: dict[int, float] = dict(record["intermediate_values"])
        self.user_attrs: dict[str, Any] = dict(user_attrs)
        self.datetime_start: datetime.datetime | None = start
        self.datetime_complete: datetime.datetime | None = complete

    @property
    def values(self) -> list[float] | None:
        if self._values is not None:
            return list(self._values)
        return None if self.value is None else [self.value]

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.datetime_start and self.datetime_complete:
            return self.datetime_complete - self.datetime_start
        return None

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate_values) if self.intermediate_values else None

    def __repr__(self) -> str:
        return (f"FrozenTrial(number={self.number}, state={self.state.name}, "
                f"value={self.value}, params={self.params})")


class Trial:
    """What an objective receives: define-by-run suggestions and intermediate reports."""

    def __init__(self, study: "Study", number: int):
        self._study = study
        self.number = number

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        with self._study._lock:
            return self._study._native.suggest_float(self.number, name, float(low), float(high),
                                                     log, None if step is None else float(step))

    def suggest_int(self, name: str, low: int, high: int, step: int = 1,
                    log: bool = False) -> int:
        with self._study._lock:
            return self._study._native.suggest_int(self.number, name, int(low), int(high),
                                                   int(step), log)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        with self._study._lock:
            return self._study._native.suggest_categorical(self.number, name, list(choices))

    def report(self, value: float, step: int) -> None:
        with self._study._lock:
            self._study._native.report(self.number, float(value), int(step))

    def should_prune(self) -> bool:
        """Whether the study's pruner (MedianPruner by default, as in Optuna) stops this trial
        at its last reported step."""
        with self._study._lock:
            return self._study._native.should_prune(self.number)

    def set_user_attr(self, key: str, value: Any) -> None:
        self._study._user_attrs.setdefault(self.number, {})[key] = value

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self._study._user_attrs.get(self.number, {}))

    @property
    def params(self) -> dict[str, Any]:
        return self._study._frozen(self.number).params


# --- studies ---

def _direction(direction: str | StudyDirection) -> StudyDirection:
    if isinstance(direction, StudyDirection):
        return direction
    d = str(direction).lower()
    if d == "minimize":
        return StudyDirection.MINIMIZE
    if d == "maximize":
        return StudyDirection.MAXIMIZE
    raise ValueError(f"direction must be 'minimize' or 'maximize', not {direction!r}")


class Study:
    """A study running in this process on the C++ engine."""

    def __init__(self, study_name: str, directions: list[StudyDirection], sampler: BaseSampler,
                 pruner: BasePruner | None = None):
        self.study_name = study_name
        self.directions = directions
        self.sampler = sampler
        self.pruner = pruner if pruner is not None else MedianPruner()
        self._native = _native.NativeStudy(sampler._kind, sampler._options(),
                                           [d == StudyDirection.MAXIMIZE for d in directions])
        self._native.set_name(study_name)
        self._native.set_pruner(self.pruner._kind, self.pruner._options())
        self._lock = threading.RLock()
        self._user_attrs: dict[int, dict] = {}
        self._starts: dict[int, datetime.datetime] = {}
        self._completes: dict[int, datetime.datetime] = {}
        self.user_attrs: dict[str, Any] = {}

    # ask/tell

    def ask(self) -> Trial:
        with self._lock:
            number = self._native.ask()
        self._starts[number] = datetime.datetime.now()
        return Trial(self, number)

    @property
    def direction(self) -> StudyDirection:
        if len(self.directions) > 1:
            raise RuntimeError("a multi-objective study has `directions`, not `direction`")
        return self.directions[0]

    def tell(self, trial: Trial | int, values: float | Sequence[float] | None = None,
             state: TrialState | None = None) -> FrozenTrial:
        return self._frozen(self._tell(trial, values, state))

    def _tell(self, trial, values=None, state=None) -> int:
        """tell() without building the FrozenTrial (optimize needs one only for callbacks);
        returns the trial's number."""
        number = trial if isinstance(trial, int) else trial.number
        name = None if state is None else TrialState(state).name
        if isinstance(values, (list, tuple)):
            with self._lock:
                self._native.tell_values(number, [float(v) for v in values], name)
        else:
            value = None if values is None else float(values)
            with self._lock:
                if len(self.directions) > 1 and value is not None:
                    self._native.tell_values(number, [value], name)
                else:
                    self._native.tell(number, value, name)
        self._completes[number] = datetime.datetime.now()
        return number

    def enqueue_trial(self, params: dict[str, Any]) -> None:
        with self._lock:
            self._native.enqueue(dict(params))

    def optimize(self, func: Callable[[Trial], float], n_trials: int | None = None,
                 timeout: float | None = None, n_jobs: int = 1,
                 catch: Iterable[type[Exception]] | type[Exception] = (),
                 callbacks: Sequence[Callable[["Study", FrozenTrial], None]] | None = None,
                 gc_after_trial: bool = False, show_progress_bar: bool = False) -> None:
        """Runs ``func`` on new trials until ``n_trials`` or ``timeout`` (seconds) is reached.
        A ``TrialPruned`` raised by ``func`` records the trial as PRUNED; another exception
        records it as FAIL and is re-raised unless it is one of ``catch``."""
        if isinstance(catch, type):
            catch = (catch,)
        catch = tuple(catch)
        if n_jobs == -1:
            import os
            n_jobs = os.cpu_count() or 1
        deadline = None if timeout is None else time.monotonic() + timeout
        counter = {"started": 0}
        counter_lock = threading.Lock()
        errors: list[BaseException] = []

        def next_slot() -> bool:
            with counter_lock:
                if errors:
                    return False
                if n_trials is not None and counter["started"] >= n_trials:
                    return False
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                counter["started"] += 1
                return True

        def worker():
            while next_slot():
                try:
                    self._run_trial(func, catch, callbacks)
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                    with counter_lock:
                        errors.append(e)
                    return

        if n_jobs <= 1:
            worker()
        else:
            threads = [threading.Thread(target=worker) for _ in range(n_jobs)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]

    def _on_trial_start(self, trial) -> None:
        pass

    def _on_trial_end(self, trial) -> None:
        pass

    def _run_trial(self, func, catch, callbacks) -> None:
        trial = self.ask()
        self._on_trial_start(trial)
        try:
            self._run_objective(trial, func, catch, callbacks)
        finally:
            self._on_trial_end(trial)

    def _run_objective(self, trial, func, catch, callbacks) -> None:
        # The told trial's FrozenTrial is built only for callbacks: without them a trial of a
        # cheap objective spends a fifth of its Python time building one.
        tell = self.tell if callbacks else self._tell
        try:
            value = func(trial)
        except TrialPruned:
            frozen = tell(trial, None, TrialState.PRUNED)
        except catch:
            frozen = tell(trial, None, TrialState.FAIL)
        except BaseException:
            self._tell(trial, None, TrialState.FAIL)
            raise
        else:
            if isinstance(value, (list, tuple)):
                frozen = tell(trial, list(value))  # wrong arity / NaN: FAIL, as Optuna
            else:
                ok = value is not None
                if ok:
                    try:
                        value = float(value)
                    except (TypeError, ValueError):
                        ok = False
                if not ok or math.isnan(value):
                    frozen = tell(trial, None, TrialState.FAIL)
                else:
                    frozen = tell(trial, value)
        for cb in callbacks or ():
            cb(self, frozen)

    # results

    def _frozen(self, number: int) -> FrozenTrial:
        with self._lock:
            record = self._native.trial(number)
        return FrozenTrial(record, self._user_attrs.get(number, {}), self._starts.get(number),
                           self._completes.get(number))

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.get_trials()

    def get_trials(self, deepcopy: bool = True,
                   states: Iterable[TrialState] | None = None) -> list[FrozenTrial]:
        with self._lock:
            n = self._native.size()
        out = [self._frozen(i) for i in range(n)]
        if states is not None:
            wanted = set(states)
            out = [t for t in out if t.state in wanted]
        return out

    @property
    def best_trial(self) -> FrozenTrial:
        if len(self.directions) > 1:
            raise RuntimeError("a multi-objective study has best_trials, not best_trial")
        with self._lock:
            best = self._native.best_trial()
        if best is None:
            raise ValueError("Record does not exist: no trial has completed yet")
        return self._frozen(best)

    @property
    def best_value(self) -> float:
        return self.best_trial.value

    @property
    def best_params(self) -> dict[str, Any]:
        return self.best_trial.params

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The Pareto front (COMPLETE trials no other dominates); with one objective, every
        trial with the best value."""
        with self._lock:
            numbers = self._native.best_trials()
        return [self._frozen(n) for n in numbers]

    def trials_dataframe(self):
        """The trials as a pandas DataFrame, with Optuna's column names (number, value,
        datetime_start, datetime_complete, duration, params_<name>, user_attrs_<name>, state)."""
        import pandas as pd

        rows = []
        for t in self.trials:
            row = {"number": t.number}
            if len(self.directions) > 1:
                for i, v in enumerate(t.values or [None] * len(self.directions)):
                    row[f"values_{i}"] = v
            else:
                row["value"] = t.value
            row.update({"datetime_start": t.datetime_start,
                        "datetime_complete": t.datetime_complete, "duration": t.duration})
            for k, v in t.params.items():
                row[f"params_{k}"] = v
            for k, v in t.user_attrs.items():
                row[f"user_attrs_{k}"] = v
            row["state"] = t.state.name
            rows.append(row)
        return pd.DataFrame(rows)

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = value


_STUDIES: dict[str, Study] = {}
_STUDIES_LOCK = threading.Lock()


def create_study(*, storage: str | None = None, sampler: BaseSampler | None = None,
                 pruner=None, study_name: str | None = None,
                 direction: str | StudyDirection | None = None,
                 load_if_exists: bool = False,
                 directions: Sequence[str] | None = None) -> Study:
    """Creates a study. ``storage=None`` runs it in this process (as Optuna's in-memory
    default); the sampler defaults to TPE with Optuna v5's settings."""
    if directions is not None and direction is not None:
        raise ValueError("give direction or directions, not both")
    ds = [_direction(d) for d in directions] if directions else [
        _direction(direction or "minimize")]
    if storage is not None:
        # A study on a plinth server (its ask/tell API): shared by every process that names it.
        return _create_remote(storage, sampler, pruner, study_name, ds, load_if_exists)
    with _STUDIES_LOCK:
        if study_name is not None and study_name in _STUDIES:
            if load_if_exists:
                return _STUDIES[study_name]
            raise ValueError(f"a study named {study_name!r} already exists")
        name = study_name or f"no-name-{len(_STUDIES)}-{int(time.time() * 1000)}"
        study = Study(name, ds, sampler or TPESampler(), pruner)
        _STUDIES[name] = study
    return study


def load_study(*, study_name: str, storage: str | None = None,
               sampler: BaseSampler | None = None, pruner=None) -> Study:
    if storage is not None:
        record = _Api(storage).call("/get", query={"study_name": study_name})["study"]
        return RemoteStudy(storage, record, sampler, pruner)
    with _STUDIES_LOCK:
        if study_name not in _STUDIES:
            raise KeyError(f"no study named {study_name!r} in this process")
        return _STUDIES[study_name]


# --- studies on a plinth server (storage="http://host:port") ---

class _Api:
    """JSON over HTTP to /api/plinth/v1/studies (http.client: no dependency). Each thread keeps
    one connection open (HTTP/1.1 keep-alive): a trial is several small requests, and a new TCP
    connection for each would cost more than the server's work."""

    def __init__(self, storage: str):
        import os
        import urllib.parse

        self.base = storage.rstrip("/") + "/api/plinth/v1/studies"
        url = urllib.parse.urlsplit(storage)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"storage must be an http:// or https:// URL, not {storage!r}")
        self._scheme, self._host, self._port = url.scheme, url.hostname, url.port
        self._path = url.path.rstrip("/") + "/api/plinth/v1/studies"
        self._local = threading.local()
        self.headers = {"Content-Type": "application/json"}
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        user = os.environ.get("MLFLOW_TRACKING_USERNAME")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif user:
            import base64

            cred = f"{user}:{os.environ.get('MLFLOW_TRACKING_PASSWORD', '')}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(cred).decode()

    def _connection(self, fresh: bool = False):
        import http.client

        conn = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            cls = (http.client.HTTPSConnection if self._scheme == "https"
                   else http.client.HTTPConnection)
            conn = cls(self._host, self._port, timeout=120)
            self._local.conn = conn
        return conn

    def call(self, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        import http.client
        import json
        import urllib.parse

        target = self._path + path
        if query:
            target += "?" + urllib.parse.urlencode(query, doseq=True)
        data = None if body is None else json.dumps(body).encode()
        method = "POST" if body is not None else "GET"
        for attempt in range(2):
            reused = attempt == 0 and getattr(self._local, "conn", None) is not None
            conn = self._connection(fresh=attempt > 0)
            try:
                conn.request(method, target, body=data, headers=self.headers)
                r = conn.getresponse()
                status, payload = r.status, r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed while idle: send again on a new
                # one. A failure on a new connection is the caller's to see.
                self._local.conn = None
                conn.close()
                if not reused:
                    raise
        if status < 400:
            return json.loads(payload or b"{}")
        try:
            message = json.loads(payload).get("message", f"HTTP {status}")
        except ValueError:
            message = f"HTTP {status}"
        if status == 404:
            raise KeyError(message)
        if 400 <= status < 500:
            raise ValueError(message)
        raise RuntimeError(f"{status}: {message}")


def _remote_frozen(t: dict) -> FrozenTrial:
    record = {"number": t["number"], "state": t["state"], "value": t.get("value"),
              "values": t.get("values"), "params": t.get("params", {}),
              "distributions": t.get("distributions", {}),
              "intermediate_values": {iv["step"]: iv["value"]
                                      for iv in t.get("intermediate_values", [])}}

    def when(ms):
        return None if not ms else datetime.datetime.fromtimestamp(ms / 1000)

    frozen = FrozenTrial(record, t.get("user_attrs", {}), when(t.get("start_time")),
                         when(t.get("complete_time")))
    frozen.trial_id = t.get("trial_id")
    frozen.run_id = t.get("run_id")
    return frozen


class RemoteTrial(Trial):
    """A trial of a study on a plinth server: each suggestion is sampled by the server."""

    def __init__(self, study: "RemoteStudy", record: dict):
        self._study = study
        self.number = record["number"]
        self._id = record["trial_id"]
        self._params = dict(record.get("params", {}))
        self._should_prune = False
        self.run_id = record.get("run_id")

    def _suggest(self, name: str, distribution: dict):
        if name in self._params:
            return self._params[name]
        r = self._study._api.call("/suggest", {"trial_id": self._id, "name": name,
                                               "distribution": distribution})
        self._params[name] = r["value"]
        return r["value"]

    def suggest_float(self, name, low, high, *, step=None, log=False):
        d = {"type": "float", "low": float(low), "high": float(high), "log": log}
        if step is not None:
            d["step"] = float(step)
        return float(self._suggest(name, d))

    def suggest_int(self, name, low, high, step=1, log=False):
        return int(self._suggest(name, {"type": "int", "low": int(low), "high": int(high),
                                        "step": int(step), "log": log}))

    def suggest_categorical(self, name, choices):
        return self._suggest(name, {"type": "categorical", "choices": list(choices)})

    def report(self, value: float, step: int) -> None:
        r = self._study._api.call("/report", {"trial_id": self._id, "step": int(step),
                                              "value": float(value)})
        self._should_prune = bool(r.get("should_prune", False))

    def should_prune(self) -> bool:
        return self._should_prune

    def set_user_attr(self, key: str, value: Any) -> None:
        self._study._api.call("/trials/set-user-attr", {"trial_id": self._id, "key": key,
                                                        "value": value})

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self._study._frozen(self.number).user_attrs

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)


class RemoteStudy(Study):
    """A study kept by a plinth server: workers in other processes or on other hosts share it
    (create_study/load_study with the same name and storage), every trial is a tracked run, and
    the server fails trials whose worker stops sending heartbeats."""

    def __init__(self, storage: str, record: dict, sampler=None, pruner=None):
        self._api = _Api(storage)
        self._record = record
        self.study_name = record["name"]
        self.study_id = record["study_id"]
        self.directions = [_direction(d) for d in record["directions"]]
        self.sampler = sampler
        self.pruner = pruner
        self._lock = threading.RLock()
        self._user_attrs = {}
        self.user_attrs = dict(record.get("user_attrs", {}))
        self._ids: dict[int, int] = {}
        self._grace = float(record.get("heartbeat_grace_seconds", 60))
        self._running: set[int] = set()
        self._beater = None

    def ask(self) -> Trial:
        r = self._api.call("/ask", {"study_id": self.study_id})
        if r.get("trial") is None:
            raise RuntimeError("the server has no trial to give (the study's n_trials is "
                               "reached)" if r.get("study_done") else "no trial available now")
        trial = RemoteTrial(self, r["trial"])
        self._ids[trial.number] = trial._id
        return trial

    def tell(self, trial, values=None, state=None) -> FrozenTrial:
        trial_id = trial._id if isinstance(trial, RemoteTrial) else self._trial_id(trial)
        body: dict[str, Any] = {"trial_id": trial_id}
        if state is not None:
            body["state"] = TrialState(state).name
        if isinstance(values, (list, tuple)):
            body["values"] = [float(v) for v in values]
        elif values is not None:
            body["value"] = float(values)
        return _remote_frozen(self._api.call("/tell", body)["trial"])

    def _tell(self, trial, values=None, state=None) -> int:
        return self.tell(trial, values, state).number

    def _trial_id(self, number: int) -> int:
        if number not in self._ids:
            self._ids[number] = self._frozen(number).trial_id
        return self._ids[number]

    def _on_trial_start(self, trial) -> None:
        # One heartbeat thread per study beats for every trial running in this process, so the
        # server does not fail them after its grace period.
        with self._lock:
            self._running.add(trial._id)
            if self._beater is None:
                self._beater = threading.Thread(target=self._beat, daemon=True)
                self._beater.start()

    def _on_trial_end(self, trial) -> None:
        with self._lock:
            self._running.discard(trial._id)

    def _beat(self) -> None:
        while True:
            time.sleep(max(self._grace / 3, 0.5))
            with self._lock:
                running = list(self._running)
            for trial_id in running:
                try:
                    self._api.call("/heartbeat", {"trial_id": trial_id})
                except Exception:  # noqa: BLE001 - the next beat retries
                    pass

    def enqueue_trial(self, params: dict[str, Any]) -> None:
        self._api.call("/enqueue", {"study_id": self.study_id, "params": dict(params)})

    def _frozen(self, number: int) -> FrozenTrial:
        for t in self.get_trials():
            if t.number == number:
                return t
        raise KeyError(f"no trial {number}")

    def get_trials(self, deepcopy: bool = True, states=None) -> list[FrozenTrial]:
        out, token = [], None
        while True:
            query: dict[str, Any] = {"study_id": self.study_id, "max_results": 1000}
            if states is not None:
                query["states"] = [TrialState(s).name for s in states]
            if token:
                query["page_token"] = token
            r = self._api.call("/trials", query=query)
            out += [_remote_frozen(t) for t in r.get("trials", [])]
            token = r.get("next_page_token")
            if not token:
                return out

    @property
    def best_trials(self) -> list[FrozenTrial]:
        r = self._api.call("/best", query={"study_id": self.study_id})
        return [_remote_frozen(t) for t in r.get("best_trials", [])]

    @property
    def best_trial(self) -> FrozenTrial:
        if len(self.directions) > 1:
            raise RuntimeError("a multi-objective study has best_trials, not best_trial")
        best = self.best_trials
        if not best:
            raise ValueError("Record does not exist: no trial has completed yet")
        return best[0]


def _remote_config(obj, kind_map=None) -> dict | None:
    if obj is None:
        return None
    kind = obj._kind
    if kind == "nop":
        kind = "none"
    return {"type": kind, **{k: v for k, v in obj._options().items() if v is not None}}


def _create_remote(storage, sampler, pruner, study_name, directions, load_if_exists,
                   search_space=None, n_trials=None):
    body: dict[str, Any] = {"name": study_name or f"study-{int(time.time() * 1000)}",
                            "directions": [d.name.lower() for d in directions],
                            "load_if_exists": load_if_exists}
    if sampler is not None:
        body["sampler"] = _remote_config(sampler)
    if pruner is not None:
        body["pruner"] = _remote_config(pruner)
    record = _Api(storage).call("/create", body)["study"]
    return RemoteStudy(storage, record, sampler, pruner)
