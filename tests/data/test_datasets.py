"""Dataset versions end to end against a `plinth server`: `plinth data add` stores the same bytes
once and a changed file as a new version, `list/show/get` round-trip (the download verified by
its SHA-256), `--run-id` links the version to a run (visible to the MLflow client), the drift
endpoint compares two stored versions, a corrupted upload is refused, and a large file
(PLINTH_DATASET_BIG_BYTES, 2 GB by default) is hashed, profiled and stored with memory bounded
far below its size."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
PLINTH = Path(os.environ.get("PLINTH_BIN", REPO / "build" / "src" / "plinth")).resolve()
BIG = int(os.environ.get("PLINTH_DATASET_BIG_BYTES", str(2 * 10**9)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    work = Path(tempfile.mkdtemp(prefix="plinth-datasets-"))
    port = free_port()
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen([str(PLINTH), "server", "--port", str(port), "--backend-store-uri",
                             f"sqlite:///{work}/db.sqlite", "--artifacts-destination",
                             str(work / "artifacts")], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(url + "/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield {"url": url, "work": work, "proc": proc}
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()
    shutil.rmtree(work, ignore_errors=True)


def plinth(server, *args, check=True):
    env = dict(os.environ, MLFLOW_TRACKING_URI=server["url"])
    r = subprocess.run([str(PLINTH), "data", *args], capture_output=True, text=True, env=env,
                       cwd=server["work"])
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def write_csv(path: Path, rows: int, shift: int = 0):
    with open(path, "w") as f:
        f.write("id,age,plan,score\n")
        for i in range(rows):
            f.write(f"{i},{20 + (i * 7 + shift) % 60},{'pro' if (i + shift) % 3 else 'basic'},"
                    f"{((i * 31 + shift) % 1000) / 10}\n")


def blobs(server) -> list[Path]:
    root = server["work"] / "artifacts" / "datasets" / "sha256"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_same_bytes_once_changed_file_new_version_and_round_trip(server, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(a, 5000)
    write_csv(b, 5000, shift=17)
    first = plinth(server, "add", str(a), "--name", "churn")
    assert "churn@1" in first.stdout and "new version" in first.stdout
    again = plinth(server, "add", str(a), "--name", "churn")
    assert "churn@1" in again.stdout and "unchanged" in again.stdout
    assert "bytes already stored" in again.stdout
    assert len(blobs(server)) == 1
    # The same bytes under another name: a version of that name, the bytes still stored once.
    other = plinth(server, "add", str(a), "--name", "churn-copy")
    assert "churn-copy@1" in other.stdout and "bytes already stored" in other.stdout
    assert len(blobs(server)) == 1
    changed = plinth(server, "add", str(b), "--name", "churn", "--description", "week 2")
    assert "churn@2" in changed.stdout and "new version" in changed.stdout
    assert len(blobs(server)) == 2

    shown = json.loads(plinth(server, "show", "churn@1").stdout)["dataset_version"]
    assert shown["digest"] == hashlib.sha256(a.read_bytes()).hexdigest()
    assert shown["num_rows"] == 5000 and shown["num_columns"] == 4
    assert [c["name"] for c in shown["schema"]] == ["id", "age", "plan", "score"]
    assert shown["profile"]["row_count"] == 5000
    latest = json.loads(plinth(server, "show", "churn").stdout)["dataset_version"]
    assert latest["version"] == 2 and latest["description"] == "week 2"
    out = tmp_path / "got.csv"
    plinth(server, "get", "churn@1", "-o", str(out))
    assert out.read_bytes() == a.read_bytes()
    listing = plinth(server, "list").stdout
    assert "churn  latest: 2  versions: 2" in listing and "churn-copy" in listing

    drift = requests.post(server["url"] + "/api/plinth/v1/drift",
                          json={"reference": "churn@1", "current": "churn@2"}, timeout=60)
    assert drift.status_code == 200, drift.text
    cols = drift.json()["columns"]
    assert set(cols) == {"id", "age", "plan", "score"}
    for c in cols.values():
        assert {"test", "statistic", "p_value", "threshold", "drifted"} <= set(c)
    bad = requests.post(server["url"] + "/api/plinth/v1/drift",
                        json={"reference": "churn@9", "current": "churn@2"}, timeout=60)
    assert bad.status_code == 404 and "churn" in bad.json()["message"]
    bad = requests.post(server["url"] + "/api/plinth/v1/drift", json={"reference": "churn"},
                        timeout=60)
    assert bad.status_code == 400 and "current" in bad.json()["message"]

    # The reference's drift reference was built once and stored beside its bytes; a client
    # downloads it (not the rows) and tests its own file against it: the same report.
    digest1 = hashlib.sha256(a.read_bytes()).hexdigest()
    stored = server["work"] / "artifacts" / "datasets" / "drift-references" / digest1
    assert stored.is_file() and stored.read_bytes().startswith(b"PLINTH-DRIFT-REFERENCE 1\n")
    again = requests.post(server["url"] + "/api/plinth/v1/drift",
                          json={"reference": "churn@1", "current": "churn@2"}, timeout=60)
    assert again.json() == drift.json()
    via_cli = json.loads(plinth(server, "drift", "--reference", "churn@1", "--current",
                                str(b)).stdout)
    local = json.loads(plinth(server, "drift", "--reference", str(a), "--current", str(b)).stdout)
    assert via_cli["columns"] == local["columns"] == cols
    saved = tmp_path / "churn1.pdr"
    summary = json.loads(plinth(server, "reference", str(a), "-o", str(saved)).stdout)
    assert summary["rows"] == 5000 and summary["columns"] == 4
    from_file = json.loads(plinth(server, "drift", "--reference", str(saved), "--current",
                                  str(b)).stdout)
    assert from_file["columns"] == cols
    r = requests.get(server["url"] + "/api/plinth/v1/datasets/drift-reference",
                     params={"name": "nope"}, timeout=30)
    assert r.status_code == 404
    r = requests.get(server["url"] + "/api/plinth/v1/datasets/drift-reference", timeout=30)
    assert r.status_code == 400 and "name" in r.json()["message"]
    missing = plinth(server, "drift", "--reference", "nope@1", "--current", str(b), check=False)
    assert missing.returncode == 2 and "nope@1" in missing.stderr


def test_corrupt_upload_and_unknown_bytes_are_refused(server):
    digest = "ab" * 32
    r = requests.put(f"{server['url']}/api/plinth/v1/datasets/blobs/{digest}", data=b"not it",
                     timeout=30)
    assert r.status_code == 400 and "nothing was stored" in r.json()["message"]
    r = requests.put(f"{server['url']}/api/plinth/v1/datasets/blobs/XYZ", data=b"x", timeout=30)
    assert r.status_code == 400
    r = requests.post(f"{server['url']}/api/plinth/v1/datasets/versions/create",
                      json={"name": "x", "digest": digest, "size_bytes": 6}, timeout=30)
    assert r.status_code in (400, 412) and "upload them first" in r.json()["message"]
    r = requests.post(f"{server['url']}/api/plinth/v1/datasets/versions/create",
                      json={"name": "x"}, timeout=30)
    assert r.status_code == 400 and "digest" in r.json()["message"]


def test_run_links_to_the_version(server, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=server["url"])
    exp = client.create_experiment(f"lineage-{time.time_ns()}")
    run = client.create_run(exp)
    data = tmp_path / "train.csv"
    write_csv(data, 100, shift=3)
    linked = plinth(server, "add", str(data), "--name", "train", "--run-id", run.info.run_id)
    assert "linked to run" in linked.stdout
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    ds = inputs[0].dataset
    assert ds.name == "train" and ds.source_type == "plinth"
    assert ds.digest == hashlib.sha256(data.read_bytes()).hexdigest()[:32]
    assert json.loads(ds.source)["uri"] == "plinth-datasets:/train/1"


def test_large_file_is_hashed_and_stored_in_bounded_memory(server, tmp_path):
    big = tmp_path / "big.csv"
    line_block = "".join(f"{i},{20 + i % 60},{'pro' if i % 3 else 'basic'},{i % 1000 / 10}\n"
                         for i in range(20000)).encode()
    with open(big, "wb") as f:
        f.write(b"id,age,plan,score\n")
        written = 0
        while written < BIG:
            f.write(line_block)
            written += len(line_block)
    size = big.stat().st_size
    server_rss_before = rss_kb(server["proc"].pid, "VmHWM")
    t0 = time.monotonic()
    r = plinth(server, "add", str(big), "--name", "big")
    seconds = time.monotonic() - t0
    assert "big@1" in r.stdout
    # ru_maxrss of the largest child waited for so far: the plinth CLI runs above are the only
    # children of this process, so this bounds the `data add` of the big file.
    client_peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    server_peak_kb = rss_kb(server["proc"].pid, "VmHWM")
    stored = blobs(server)[-1] if blobs(server) else None
    assert any(p.stat().st_size == size for p in blobs(server)), stored
    report = {"bytes": size, "seconds": round(seconds, 1), "client_peak_rss_mb":
              round(client_peak_kb / 1024, 1), "server_peak_rss_mb":
              round(server_peak_kb / 1024, 1), "server_peak_before_mb":
              round(server_rss_before / 1024, 1)}
    print("\n[datasets] large file:", json.dumps(report))
    out = os.environ.get("PLINTH_DATASET_REPORT")
    if out:
        Path(out).write_text(json.dumps(report) + "\n")
    # Bounded by the chunk sizes, not the file: a quarter of a GB at most (an eighth of 2 GB).
    bound = 256 * 2**20
    assert client_peak_kb * 1024 < bound, report
    assert server_peak_kb * 1024 < bound, report
    big.unlink()


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0
