"""Fixtures of the MLflow compatibility suite.

The suite drives the real MLflow Python client (``mlflow-skinny``) against a tracking server that
it starts itself. The target is chosen by ``PLINTH_COMPAT_TARGET``:

* ``plinth`` (default): ``build/src/plinth server ...`` (override the binary with ``PLINTH_BIN``);
* ``mlflow``: the reference ``mlflow server ... --workers 1`` from ``.venv-peers``
  (override with ``PLINTH_MLFLOW_BIN``), to prove the suite encodes MLflow's real behaviour.

Each server gets a free loopback port, a fresh temporary SQLite database and artifact folder, its
stdout/stderr in a log file whose tail is attached to every failing test's report.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

# Quiet the client before mlflow is imported anywhere: no telemetry phoning home (no network here).
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import psutil  # noqa: E402
import requests  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET = os.environ.get("PLINTH_COMPAT_TARGET", "plinth").strip().lower()
# PostgreSQL instead of SQLite for every server (make test sets it from scripts/pg-server.sh).
PG_DSN = os.environ.get("PLINTH_COMPAT_PG_DSN", "").strip()
if TARGET not in ("plinth", "mlflow"):
    raise pytest.UsageError(f"PLINTH_COMPAT_TARGET must be 'plinth' or 'mlflow', not {TARGET!r}")

SERVER_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "GX_ANALYTICS_ENABLED": "false",
    "WANDB_MODE": "offline",
}


def is_mlflow() -> bool:
    return TARGET == "mlflow"


def is_plinth() -> bool:
    return TARGET == "plinth"


# Artifacts: each server gets a local folder by default. PLINTH_COMPAT_ARTIFACTS_ROOT (e.g.
# s3://bucket/compat-<random>, with the AWS_* variables of scripts/s3-server.sh's env file) puts
# server NAME's artifacts under ROOT/NAME instead. PLINTH_COMPAT_ARTIFACTS_MODE picks how:
#   proxy (default)  --artifacts-destination ROOT/NAME: clients see mlflow-artifacts:/ URIs and
#                    the bytes go through the server;
#   direct           --no-serve-artifacts --default-artifact-root ROOT/NAME: clients get the
#                    store's own URIs and read and write there themselves (boto3 for s3://).
ARTIFACTS_ROOT = os.environ.get("PLINTH_COMPAT_ARTIFACTS_ROOT", "").strip().rstrip("/")
ARTIFACTS_MODE = os.environ.get("PLINTH_COMPAT_ARTIFACTS_MODE", "proxy").strip().lower()
if ARTIFACTS_MODE not in ("proxy", "direct"):
    raise pytest.UsageError(
        f"PLINTH_COMPAT_ARTIFACTS_MODE must be 'proxy' or 'direct', not {ARTIFACTS_MODE!r}")


def artifacts_direct() -> bool:
    """Clients hold the artifact store's own URIs (no proxy on the server)."""
    return ARTIFACTS_MODE == "direct"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plinth_bin() -> Path:
    # servers run with cwd=their work dir: resolve a relative PLINTH_BIN against the caller's cwd
    return Path(os.environ.get("PLINTH_BIN", REPO_ROOT / "build" / "src" / "plinth")).resolve()


def mlflow_bin() -> Path:
    return Path(os.environ.get("PLINTH_MLFLOW_BIN",
                               REPO_ROOT / ".venv-peers" / "bin" / "mlflow")).absolute()


def read_status_kb(pid: int, field: str) -> int | None:
    """A `VmXXX:` line of /proc/<pid>/status in KiB (None if the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


class ServerProcess:
    """One tracking server (plinth or mlflow) on its own port, database and artifact folder."""

    def __init__(self, workdir: Path, name: str = "server", target: str = TARGET):
        self.target = target
        self.name = name
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.workdir / f"{name}.db"
        self.artifacts = self.workdir / f"{name}-artifacts"
        self.artifacts.mkdir(exist_ok=True)
        # Where the server keeps artifacts: the folder above, or ROOT/NAME (see ARTIFACTS_ROOT).
        self.artifact_location = f"{ARTIFACTS_ROOT}/{name}" if ARTIFACTS_ROOT else str(self.artifacts)
        self.log_path = self.workdir / f"{name}.log"
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def backend_uri(self) -> str:
        if PG_DSN:
            return self._postgres_uri()
        return f"sqlite:///{self.db_path}"

    def _postgres_uri(self) -> str:
        """A database of this server's own on the PostgreSQL server PLINTH_COMPAT_PG_DSN names
        (created on first use), so servers in one session do not see each other's data."""
        if getattr(self, "_pg_uri", None) is None:
            db = f"compat_{self.name}_{os.getpid()}_{int(time.time() * 1000) % 10**8}".lower()
            db = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in db)
            subprocess.run(["psql", PG_DSN, "-q", "-c", f"CREATE DATABASE {db}"], check=True,
                           capture_output=True)
            base, _, _ = PG_DSN.rpartition("/")
            self._pg_uri = f"{base}/{db}"
        return self._pg_uri

    @property
    def artifact_root(self) -> str:
        """The root of new experiments' artifact locations, as clients see it."""
        return self.artifact_location if artifacts_direct() else "mlflow-artifacts:"

    def command(self) -> list[str]:
        if artifacts_direct():
            artifacts = ["--no-serve-artifacts", "--default-artifact-root", self.artifact_location]
        else:
            artifacts = ["--artifacts-destination", self.artifact_location]
        common = [
            "server",
            "--backend-store-uri", self.backend_uri,
            *artifacts,
            "--host", "127.0.0.1",
            "--port", str(self.port),
        ]
        if self.target == "plinth":
            binary = plinth_bin()
            if not binary.exists():
                pytest.exit(
                    f"plinth binary not found at {binary} (build it, set PLINTH_BIN, or run with "
                    "PLINTH_COMPAT_TARGET=mlflow)",
                    returncode=4,
                )
            return [str(binary), *common]
        binary = mlflow_bin()
        if not binary.exists():
            pytest.exit(
                f"mlflow server not found at {binary}: run scripts/setup-peers.sh", returncode=4
            )
        return [str(binary), *common, "--workers", "1"]

    def start(self, timeout: float = 90.0, port: int | None = None) -> "ServerProcess":
        assert self.proc is None, "already running"
        self.port = port or self.port or free_port()
        env = {**os.environ, **SERVER_ENV}
        for k in ("MLFLOW_TRACKING_URI", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"):
            env.pop(k, None)
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n===== start {' '.join(self.command())}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            env=env,
            start_new_session=True,  # its own process group: stop() reaches mlflow's workers too
        )
        deadline = time.monotonic() + timeout
        last_err = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._close()
                raise RuntimeError(
                    f"{self.target} server exited with {rc} before it was healthy:\n{self.log_tail()}"
                )
            try:
                r = requests.get(self.url + "/health", timeout=2)
                if r.status_code == 200:
                    return self
                last_err = f"HTTP {r.status_code}"
            except requests.RequestException as e:  # not listening yet
                last_err = repr(e)
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"{self.target} server not healthy after {timeout}s ({last_err}):\n{self.log_tail()}"
        )

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM the server's process group, SIGKILL it after `grace` seconds."""
        if self.proc is None:
            return None
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            rc = self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            rc = None
        try:  # leftover workers (mlflow's uvicorn/huey children), or a server that ignored TERM
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if rc is None:
            rc = self.proc.wait(10)
        self._close()
        return rc

    def kill9(self) -> None:
        """`kill -9` the whole server process group, no grace: a crash."""
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self._close()

    def _close(self):
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    # -- observation --------------------------------------------------------------------------
    def pids(self) -> list[int]:
        if self.proc is None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            return [root.pid] + [c.pid for c in root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def reset_peak_rss(self) -> bool:
        """Reset VmHWM of every server process (Linux: write 5 to /proc/<pid>/clear_refs)."""
        ok = True
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                ok = False
        return ok

    def rss_report(self) -> dict[int, tuple[str, int, int]]:
        """{pid: (name, VmRSS KiB, VmHWM KiB)} over the server's process tree."""
        out = {}
        for pid in self.pids():
            hwm = read_status_kb(pid, "VmHWM")
            rss = read_status_kb(pid, "VmRSS")
            if hwm is None:
                continue
            try:
                name = " ".join(psutil.Process(pid).cmdline()[:4])
            except psutil.Error:
                name = "?"
            out[pid] = (name, rss or 0, hwm)
        return out

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no server log)"
        return "\n".join(lines[-n:])


# --------------------------------------------------------------------------------------------
# Session server
# --------------------------------------------------------------------------------------------
_SERVERS: list[ServerProcess] = []


@pytest.fixture(scope="session")
def workdir():
    base = os.environ.get("PLINTH_COMPAT_WORKDIR")
    if base:
        path = Path(base) / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        path.mkdir(parents=True)
    else:
        path = Path(tempfile.mkdtemp(prefix=f"plinth-compat-{TARGET}-"))
    yield path
    if os.environ.get("PLINTH_COMPAT_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"\n[compat] kept work dir {path}")


@pytest.fixture(scope="session")
def server(workdir):
    srv = ServerProcess(workdir, "server")
    _SERVERS.append(srv)
    t0 = time.monotonic()
    srv.start()
    print(f"\n[compat] target={TARGET} url={srv.url} ready in {time.monotonic() - t0:.1f}s "
          f"log={srv.log_path}")
    os.environ["MLFLOW_TRACKING_URI"] = srv.url
    import mlflow

    mlflow.set_tracking_uri(srv.url)
    yield srv
    rc = srv.stop()
    _SERVERS.remove(srv)
    print(f"\n[compat] {TARGET} server stopped (exit {rc})")


@pytest.fixture
def server_factory(workdir):
    """Extra, separately managed server instances (own database), stopped after the test."""
    made: list[ServerProcess] = []

    def make(name: str) -> ServerProcess:
        srv = ServerProcess(workdir, f"{name}-{uuid.uuid4().hex[:6]}")
        made.append(srv)
        _SERVERS.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()
        _SERVERS.remove(srv)


@pytest.fixture(autouse=True)
def _tracking(server):
    """Every test talks to the session server; no active run leaks from one test to the next."""
    import mlflow

    os.environ["MLFLOW_TRACKING_URI"] = server.url
    mlflow.set_tracking_uri(server.url)
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def client(server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server.url)


@pytest.fixture
def fail_fast(monkeypatch):
    """Error-path tests: no client retries, so a wrongly-5xx'd error fails at once instead of
    after minutes of back-off. (Statuses are also checked directly with `requests`.)"""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")


def unique(prefix: str = "exp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def experiment_id(client):
    """A fresh experiment, also made the fluent API's current experiment."""
    import mlflow

    exp = mlflow.set_experiment(unique("compat"))
    return exp.experiment_id


class Api:
    """Raw HTTP beside the client, for status codes and wire shapes."""

    def __init__(self, base: str):
        self.base = base
        self.s = requests.Session()

    def get(self, _path, **params):
        return self.s.get(self.base + _path, params=params, timeout=60)

    def post(self, _path, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.s.post(self.base + _path, timeout=60, **kw)


@pytest.fixture
def api(server):
    return Api(server.url)


def pytest_configure(config):
    config.addinivalue_line("markers", "large: 200 MB artifact streaming (PLINTH_COMPAT_SKIP_LARGE=1 skips)")
    config.addinivalue_line("markers", "slow: long-running acceptance test")
    config.addinivalue_line("markers", "plinth_only: meaningful only against plinth")


def pytest_report_header(config):
    try:
        import mlflow

        client_ver = mlflow.__version__
    except Exception as e:  # pragma: no cover
        client_ver = f"unavailable ({e})"
    binary = plinth_bin() if is_plinth() else mlflow_bin()
    return [f"compat target: {TARGET} ({binary})", f"mlflow client: {client_ver}",
            f"artifacts: {ARTIFACTS_MODE} mode, root {ARTIFACTS_ROOT or 'a local folder per server'}"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for srv in list(_SERVERS):
            rep.sections.append((f"{srv.target} server log tail ({srv.log_path})", srv.log_tail()))
