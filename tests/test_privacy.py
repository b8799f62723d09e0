"""A lawyer's documents and questions never leave the machine unless the user says so.

Two guards: a Python-level one (socket.connect/getaddrinfo patched in the
subprocess) that names what was attempted, and, where strace exists, a
system-call trace that also sees native code (Rust in Chroma, tokenizers).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from legalrag.tokens import tiktoken_encoding
from tests.conftest import NETGUARD_DIR, run_cli, write_jsonl

RECORD = {
    "text": (
        "Title: Deposit\nQuestion: My landlord kept my deposit.\n"
        "Answer #1: In California the landlord has 21 days."
    ),
    "url": "https://legalrag.example/t/1",
    "jurisdiction": "CA",
}


def test_ingest_info_and_retrieve_make_no_outbound_connection(tmp_path: Path) -> None:
    guard_log = tmp_path / "attempts.log"
    env = {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}
    corpus = write_jsonl(tmp_path / "c.jsonl", [RECORD])
    for args in (
        ("ingest", str(corpus), "-q"),
        ("ingest", "-q", "--limit", "5"),
        ("index", "info"),
        ("retrieve", "security deposit deadline", "--json"),
    ):
        result = run_cli(*args, env=env, guard_log=guard_log)
        assert result.returncode == 0, (args, result.stderr)
    attempts = guard_log.read_text() if guard_log.exists() else ""
    assert attempts == "", f"outbound connections attempted:\n{attempts}"


def test_the_guard_itself_catches_an_outbound_attempt(tmp_path: Path) -> None:
    """The guard is real: a deliberate outbound connect is recorded and refused."""
    guard_log = tmp_path / "attempts.log"
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('198.51.100.7', 80), timeout=1)\n"
        "except OSError as e:\n"
        "    print('refused', e)\n"
    )
    env = {"PYTHONPATH": str(NETGUARD_DIR), "NETGUARD_LOG": str(guard_log)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert "refused" in result.stdout
    assert "198.51.100.7" in guard_log.read_text()


_LOCAL_ADDRESSES = ("::1", "::ffff:127.0.0.1", "0.0.0.0", "::")
needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def _traced(trace: Path, command: list[str], env: dict[str, str]) -> list[str]:
    """Run ``command`` under strace; the connect/sendto calls that left the machine."""
    result = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect,sendto", "-o", str(trace), *command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "ptrace" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    outbound = []
    for line in trace.read_text().splitlines():
        for addr in re.findall(r'inet_(?:addr|pton)\((?:AF_INET6, )?"([^"]+)"', line):
            if not (addr.startswith("127.") or addr in _LOCAL_ADDRESSES):
                outbound.append(line)
    return outbound


@needs_strace
def test_the_trace_itself_sees_an_outbound_attempt(tmp_path: Path) -> None:
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('198.51.100.7', 80), timeout=0.2)\n"
        "except OSError:\n"
        "    pass\n"
    )
    outbound = _traced(tmp_path / "t", [sys.executable, "-c", code], env=dict(os.environ))
    assert any("198.51.100.7" in line for line in outbound)


@needs_strace
def test_no_native_code_connects_out_either(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    env["LEGALRAG_DATA_DIR"] = str(tmp_path / "data")
    corpus = write_jsonl(tmp_path / "c.jsonl", [RECORD])
    outbound = []
    for n, args in enumerate((("ingest", str(corpus), "-q"), ("retrieve", "deposit", "--json"))):
        command = [sys.executable, "-m", "legalrag", *args]
        outbound += _traced(tmp_path / f"trace.{n}", command, env)
    assert outbound == [], "\n".join(outbound)


def test_tiktoken_counts_tokens_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"network used: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    encoding = tiktoken_encoding(tmp_path / "tiktoken", "cl100k_base")
    assert encoding.encode("hello world") == [15339, 1917]
    o200k = tiktoken_encoding(tmp_path / "tiktoken", "o200k_base")
    assert len(o200k.encode("The tenant must give thirty days notice.")) > 5
    with pytest.raises(ValueError, match="offline"):
        tiktoken_encoding(tmp_path / "tiktoken", "p50k_base")
