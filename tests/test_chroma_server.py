"""Ingesting into a Chroma server (`chroma run`) through LEGALRAG_CHROMA_URL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from legalrag.errors import StoreUnavailableError
from legalrag.factory import open_store
from legalrag.ingest.run import ingest
from legalrag.store import describe_store
from legalrag.store.chroma import make_client
from tests.conftest import free_port, make_settings, run_cli


def _chroma_binary() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    if found is None:
        pytest.fail("the `chroma` command from chromadb is not installed")
    return found


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "chroma.log").open("w")
    proc = subprocess.Popen(
        [
            _chroma_binary(),
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"chroma run did not start: {(tmp_path / 'chroma.log').read_text()}"
                    )
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_ingest_through_the_url_setting_reaches_the_server(
    tmp_path: Path, chroma_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGALRAG_CHROMA_URL", chroma_server)
    settings = make_settings(tmp_path / "local")
    report = ingest(settings, limit=12, quiet=True)
    assert report.documents_ingested == 12
    # Nothing went to the embedded index: the data folder has no Chroma files.
    assert not (tmp_path / "local" / "chroma").exists()
    # The server holds it, as another client sees it.
    import chromadb

    host_port = chroma_server.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host_port[0], port=int(host_port[1]))
    assert client.get_collection("legal_advice").count() == report.chunks
    info = describe_store(open_store(settings))
    assert info.location == chroma_server and info.documents == 12
    # The CLI sees the same server.
    result = run_cli("index", "info", "--json", env={"LEGALRAG_CHROMA_URL": chroma_server})
    assert result.returncode == 0, result.stderr
    assert f'"chunks": {report.chunks}' in result.stdout


def test_a_server_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailableError, match="not reachable"):
        make_client(make_settings(tmp_path, chroma_url=url).store)
    result = run_cli("index", "info", env={"LEGALRAG_CHROMA_URL": url})
    assert result.returncode == 3
    assert url in result.stderr and "Traceback" not in result.stderr


def test_server_dying_mid_ingest_is_exit_3_and_a_rerun_resumes(tmp_path: Path) -> None:
    import os
    import signal

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_cmd = [
        _chroma_binary(),
        "run",
        "--path",
        str(tmp_path / "srv"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]

    def start_server() -> subprocess.Popen:
        proc = subprocess.Popen(server_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    return proc
            except OSError:
                assert time.monotonic() < deadline, "chroma run did not start"
                time.sleep(0.3)

    server = start_server()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    env.update(LEGALRAG_CHROMA_URL=url, LEGALRAG_WRITE_BATCH_SIZE="8", LEGALRAG_LOG_LEVEL="INFO")
    ingest_proc = subprocess.Popen(
        [sys.executable, "-m", "legalrag", "ingest", "--quiet", "--limit", "40"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert ingest_proc.stderr is not None
        stderr_lines = []
        for line in ingest_proc.stderr:
            stderr_lines.append(line)
            if "batch written" in line:
                server.send_signal(signal.SIGKILL)
                server.wait(timeout=30)
                break
        stderr_lines += ingest_proc.stderr.readlines()
        ingest_proc.wait(timeout=120)
        stderr = "".join(stderr_lines)
        assert ingest_proc.returncode == 3, stderr
        assert "Chroma server" in stderr and "resumes" in stderr
        assert "Traceback" not in stderr

        server = start_server()
        again = run_cli(
            "ingest", "--quiet", "--limit", "40", "--json", env={"LEGALRAG_CHROMA_URL": url}
        )
        assert again.returncode == 0, again.stderr
        report = json.loads(again.stdout)
        assert report["documents_ingested"] == 40
        assert report["chunks_already_indexed"] >= 8  # the first batch survived and was kept
    finally:
        server.kill()
        ingest_proc.kill()
