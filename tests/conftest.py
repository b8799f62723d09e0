"""Shared fixtures: real components, offline, each test with its own data folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from legalrag.privacy import keep_local

# Tests never reach the hub: everything they load ships in an installed package.
keep_local(hub_needed=False)

REPO = Path(__file__).resolve().parent.parent
NETGUARD_DIR = Path(__file__).resolve().parent / "netguard"


@pytest.fixture(autouse=True)
def _clean_settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LEGALRAG_* from the caller's shell, no legalrag.toml from the cwd."""
    for name in list(os.environ):
        if name.startswith("LEGALRAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embedder():
    """The bundled embedding model, loaded once."""
    from legalrag.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def fake():
    """A loopback OpenAI-compatible model (tests/fake_llm.py), one per test module;
    each test sets its ``script``."""
    from tests.fake_llm import start_fake_llm

    state, server = start_fake_llm()
    yield state
    server.shutdown()


def make_settings(data_dir: Path, **overrides):
    """Settings for one test's own index."""
    from legalrag.settings import load_settings

    return load_settings(data_dir=data_dir, **overrides)


def make_retriever(settings, embedder, **overrides):
    """A retriever over ``settings``' index that reuses the session's embedder."""
    from legalrag.factory import open_retriever

    return open_retriever(settings.model_copy(update=overrides), embedder)


def chat_settings(settings, *, llm_url: str, auth: str, secret: str, audit_log: Path, **more):
    """``settings`` for a chat behind a login, answering through the fake model at
    ``llm_url`` (no retries, a short deadline), auditing to ``audit_log``, its saved
    conversations in a database beside the log (the sample index stays as it was)."""
    from legalrag.settings import load_settings

    secrets = load_settings(auth=auth, session_secret=secret)  # parsed as the chat reads them
    update = {"llm_base_url": llm_url, "llm_timeout_s": 5.0, "llm_retries": 0}
    update |= {"auth": secrets.auth, "session_secret": secrets.session_secret}
    update["database_url"] = f"sqlite:///{audit_log.parent / 'legalrag.db'}"
    return settings.model_copy(update={**update, "audit_log": audit_log, **more})


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_jsonl(path: Path, records: list) -> Path:
    """Write records (objects, or raw strings for broken lines) as JSONL."""
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(record if isinstance(record, str) else json.dumps(record))
            out.write("\n")
    return path


def run_cli(
    *args: str, env: dict[str, str] | None = None, guard_log: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `legalrag` command in a fresh process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    full_env.update(env or {})
    if guard_log is not None:
        # sitecustomize in netguard/ blocks and records any non-loopback connection.
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(NETGUARD_DIR), full_env.get("PYTHONPATH", "")]
        )
        full_env["NETGUARD_LOG"] = str(guard_log)
    return subprocess.run(
        [sys.executable, "-m", "legalrag", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator:
    """The sample corpus ingested once into a session-wide index (read-only for tests)."""
    from legalrag.ingest.run import ingest

    data_dir = tmp_path_factory.mktemp("sample-index")
    settings = make_settings(data_dir)
    report = ingest(settings, quiet=True)
    yield settings, report
