"""Artifacts through the server's proxy (mlflow-artifacts:/ URIs), incl. a 200 MB file; with
PLINTH_COMPAT_ARTIFACTS_MODE=direct the client reads and writes the store itself (s3:// URIs)."""

import hashlib
import json
import os
import time
from pathlib import Path

import mlflow
import pytest
from conftest import artifacts_direct, is_plinth


def rel_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_log_artifact_and_nested_folders(client, api, experiment_id, tmp_path):
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "sub" / "a.json").write_text('{"a": 1}')
    (src / "sub" / "deeper" / "b.bin").write_bytes(bytes(range(256)) * 40)
    (src / "sub" / "deeper" / "empty.txt").write_bytes(b"")
    single = tmp_path / "single.csv"
    single.write_text("x,y\n1,2\n")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="copies/one")
        mlflow.log_artifacts(str(src), artifact_path="tree")
        mlflow.log_text("hello\nworld\n", "notes/readme.txt")
        mlflow.log_dict({"k": [1, 2, 3], "nested": {"x": "y"}}, "cfg/config.json")
        mlflow.log_dict({"k": 1}, "cfg/config.yaml")
    rid = run.info.run_id

    top = client.list_artifacts(rid)
    assert [(f.path, f.is_dir) for f in top] == [
        ("cfg", True), ("copies", True), ("notes", True), ("single.csv", False), ("tree", True)
    ]
    assert {f.path: f.file_size for f in top if not f.is_dir} == {"single.csv": 8}
    assert all(f.file_size is None for f in top if f.is_dir)
    tree = client.list_artifacts(rid, "tree")
    assert [(f.path, f.is_dir) for f in tree] == [
        ("tree/sub", True), ("tree/top.txt", False)
    ]
    deeper = client.list_artifacts(rid, "tree/sub/deeper")
    assert [f.path for f in deeper] == ["tree/sub/deeper/b.bin", "tree/sub/deeper/empty.txt"]
    assert deeper[0].file_size == 10240
    # MLflow omits file_size for an empty file (proto default skipped) -> the client reads None
    assert deeper[1].file_size in (None, 0)
    assert client.list_artifacts(rid, "does/not/exist") == []

    # download a folder, a nested folder, a single file and everything
    out = Path(client.download_artifacts(rid, "tree", str(tmp_path / "dl1")))
    assert rel_files(out) == rel_files(src)
    out = Path(mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="tree/sub/deeper",
                                                    dst_path=str(tmp_path / "dl2")))
    assert rel_files(out) == rel_files(src / "sub" / "deeper")
    f = Path(client.download_artifacts(rid, "copies/one/single.csv", str(tmp_path / "dl3")))
    assert f.read_text() == "x,y\n1,2\n"
    everything = Path(mlflow.artifacts.download_artifacts(run_id=rid,
                                                           dst_path=str(tmp_path / "dl4")))
    got = rel_files(everything)
    assert got["notes/readme.txt"] == b"hello\nworld\n"
    assert json.loads(got["cfg/config.json"]) == {"k": [1, 2, 3], "nested": {"x": "y"}}
    assert b"k: 1" in got["cfg/config.yaml"]
    assert got["tree/sub/deeper/b.bin"] == bytes(range(256)) * 40
    assert len(got) == 9

    assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/readme.txt") == "hello\nworld\n"
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/cfg/config.json")["nested"] == {"x": "y"}


@pytest.mark.skipif(artifacts_direct(), reason="direct artifacts mode: the server runs without "
                    "the proxy (--no-serve-artifacts)")
def test_artifact_proxy_raw_protocol(client, api, experiment_id):
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    base = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{rid}/artifacts"
    r = api.s.put(api.base + base + "/raw/dir/file.txt", data=b"payload-bytes",
                  headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    r = api.get(base + "/raw/dir/file.txt")
    assert r.status_code == 200
    assert r.content == b"payload-bytes"
    r = api.get("/api/2.0/mlflow-artifacts/artifacts", path=f"{experiment_id}/{rid}/artifacts/raw")
    assert r.status_code == 200
    assert r.json() == {"files": [{"path": "dir", "is_dir": True}]}
    r = api.get("/api/2.0/mlflow-artifacts/artifacts",
                path=f"{experiment_id}/{rid}/artifacts/raw/dir")
    assert r.json() == {"files": [{"path": "file.txt", "is_dir": False, "file_size": 13}]}
    # the tracking-side listing: paths relative to the run's artifact root
    r = api.get("/api/2.0/mlflow/artifacts/list", run_id=rid, path="raw/dir")
    assert r.status_code == 200
    body = r.json()
    assert body["root_uri"] == f"mlflow-artifacts:/{experiment_id}/{rid}/artifacts"
    assert body["files"] == [{"path": "raw/dir/file.txt", "is_dir": False, "file_size": 13}]
    # the artifact proxy refuses path traversal
    r = api.get(base + "/../../../../etc/passwd")
    assert r.status_code in (400, 404)
    r = api.get("/api/2.0/mlflow-artifacts/artifacts", path="../etc")
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    # a missing file is a JSON 404; a missing folder lists as empty
    r = api.get(base + "/raw/nope.txt")
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = api.get("/api/2.0/mlflow-artifacts/artifacts", path=f"{experiment_id}/{rid}/artifacts/nope")
    assert r.status_code == 200 and r.json().get("files", []) == []


@pytest.mark.skipif(not artifacts_direct(), reason="direct artifacts mode only")
def test_direct_mode_server_lists_but_does_not_proxy(client, api, experiment_id, tmp_path):
    """--no-serve-artifacts: the proxy answers 503 as mlflow server's does, and the tracking
    API still lists a run's artifacts from the store its artifact_uri names."""
    r = api.get("/api/2.0/mlflow-artifacts/artifacts", path="x")
    assert r.status_code == 503
    assert "disabled due to the mlflow server running with `--no-serve-artifacts`" in r.text
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    (tmp_path / "a.txt").write_text("abc")
    client.log_artifact(rid, str(tmp_path / "a.txt"), "d")
    r = api.get("/api/2.0/mlflow/artifacts/list", run_id=rid, path="d")
    assert r.status_code == 200, r.text
    assert r.json() == {"root_uri": run.info.artifact_uri,
                        "files": [{"path": "d/a.txt", "is_dir": False, "file_size": 3}]}
    assert [(f.path, f.file_size) for f in client.list_artifacts(rid, "d")] == [("d/a.txt", 3)]


def test_delete_artifact(client, experiment_id, tmp_path):
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    run = client.create_run(experiment_id)
    rid = run.info.run_id
    p = tmp_path / "gone.txt"
    p.write_text("bye")
    client.log_artifact(rid, str(p), "d")
    client.log_artifact(rid, str(p), "keep")
    repo = get_artifact_repository(run.info.artifact_uri)
    repo.delete_artifacts("d")
    assert [f.path for f in client.list_artifacts(rid)] == ["keep"]


LARGE_MB = int(os.environ.get("PLINTH_COMPAT_LARGE_MB", "200"))
RSS_LIMIT_MB = 150


@pytest.mark.large
@pytest.mark.skipif(os.environ.get("PLINTH_COMPAT_SKIP_LARGE") == "1",
                    reason="PLINTH_COMPAT_SKIP_LARGE=1")
@pytest.mark.timeout(900)
def test_large_artifact_streams_up_and_down(server, client, experiment_id, tmp_path):
    """A 200 MB artifact goes up and comes back byte-identical while the server's peak RSS stays
    far below the file size (asserted for plinth; reported for mlflow)."""
    size = LARGE_MB * 1024 * 1024
    src = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    sha = hashlib.sha256()
    with open(src, "wb") as f:
        for i in range(LARGE_MB):
            chunk = block[i % 997:] + block[: i % 997]  # every MiB differs
            f.write(chunk)
            sha.update(chunk)
    expected = sha.hexdigest()

    before = server.rss_report()
    reset = server.reset_peak_rss()
    run = client.create_run(experiment_id)
    rid = run.info.run_id
    t0 = time.monotonic()
    client.log_artifact(rid, str(src), "large")
    t_up = time.monotonic() - t0
    (info,) = client.list_artifacts(rid, "large")
    assert info.path == "large/big.bin" and info.file_size == size
    src.unlink()  # keep disk use down; the digest is known
    t0 = time.monotonic()
    out = Path(client.download_artifacts(rid, "large/big.bin", str(tmp_path / "dl")))
    t_down = time.monotonic() - t0
    sha = hashlib.sha256()
    with open(out, "rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            sha.update(chunk)
    assert out.stat().st_size == size
    assert sha.hexdigest() == expected
    after = server.rss_report()

    lines = [f"[large artifact] {LARGE_MB} MiB up {t_up:.1f}s down {t_down:.1f}s; "
             f"peak reset: {reset}"]
    for pid, (name, rss, hwm) in after.items():
        b = before.get(pid)
        lines.append(f"  pid {pid} {name[:70]}: VmRSS {rss // 1024} MiB, VmHWM {hwm // 1024} MiB"
                     + (f" (before: VmHWM {b[2] // 1024} MiB)" if b else ""))
    print("\n".join(lines))
    peak_mb = max((hwm for _, _, hwm in after.values()), default=0) / 1024
    if is_plinth():
        assert peak_mb < RSS_LIMIT_MB, "\n".join(lines)
