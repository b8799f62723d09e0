"""Each benchmark's --quick mode runs and writes its figures (nothing about speed).

The full runs, whose figures docs/benchmarks.md records, take about an hour; these
keep the scripts working. Each runs as a user would run it: its own process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _run(name: str, tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    env["LEGALRAG_DATA_DIR"] = str(tmp_path / "data")  # never the user's own index
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), "--quick", "--out", str(out), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["benchmark"] == name and figures["mode"] == "quick"
    assert figures["machine"]["cores"] >= 1
    return figures


def test_query_latency(tmp_path: Path) -> None:
    figures = _run("query_latency", tmp_path)
    (size,) = figures["sizes"]
    assert size["chunks"] == 2000
    stages = {(row["stage"], row["filter"]) for row in size["rows"]}
    assert stages == {
        (stage, where)
        for stage in ("raw chroma", "dense", "bm25", "fused")
        for where in ("none", "jurisdiction", "topic+dates")
    }
    assert all(row["n"] == 20 and row["p50_ms"] > 0 for row in size["rows"])
    assert size["rss_mib"] > 0 and size["disk_mib"]["chroma"] > 0
    judged = {t["target"] for t in figures["targets"]}
    assert "fused p95 at 2,000 chunks" in judged and len(judged) == 7


def test_answer_overhead(tmp_path: Path, sample_index) -> None:
    settings, _ = sample_index
    figures = _run("answer_overhead", tmp_path, "--data-dir", str(settings.data_dir))
    assert figures["answers"] == 5 and figures["sources"] == 8
    parts = {row["part"]: row for row in figures["rows"]}
    assert parts["everything but the model"]["p50_ms"] >= parts["verify"]["p50_ms"] > 0
    embedding = parts["verify: embedding the answer's sentences"]["p50_ms"]
    assert embedding > 0 and parts["everything but model arithmetic"]["p50_ms"] >= 0
    names = ("everything but the model", "everything but model arithmetic")
    assert len(figures["targets"]) == len(names)
    for target, name in zip(figures["targets"], names, strict=True):
        assert target["met"] == (parts[name]["p95_ms"] <= 50)


def test_answer_overhead_through_an_embeddings_endpoint(tmp_path: Path, sample_index) -> None:
    settings, _ = sample_index
    figures = _run(
        "answer_overhead", tmp_path, "--data-dir", str(settings.data_dir), "--embedding-endpoint"
    )
    assert figures["embedding"].startswith("endpoint") and figures["answers"] == 5
    parts = {row["part"]: row for row in figures["rows"]}
    assert parts["retrieve (question embedded)"]["p50_ms"] > 0
    assert parts["everything but the model"]["p50_ms"] >= parts["verify"]["p50_ms"] > 0


def test_ingest_overhead(tmp_path: Path) -> None:
    figures = _run("ingest_overhead", tmp_path)
    assert figures["records"] == 12 and figures["chunks"] > 12
    assert figures["ratio"] > 0 and figures["peak_rss_mib"][0] > 0
    (target,) = figures["targets"]
    assert target["met"] == (figures["ratio"] >= 0.9)


def test_langchain_baseline(tmp_path: Path) -> None:
    figures = _run("langchain_baseline", tmp_path)
    assert [row["pipeline"] for row in figures["rows"]] == ["legalrag (hybrid)", "LangChain recipe"]
    assert all(0 <= row["recall@5"] <= 1 for row in figures["rows"])
    assert all(row["chunks"] > 0 for row in figures["indexing"])


def test_scale_ingest_partitions_equal_one_process(tmp_path: Path) -> None:
    figures = _run("scale_ingest", tmp_path)
    assert figures["equal_ids"] and figures["equal_texts_and_metadata"]
    assert figures["max_vector_difference"] < 1e-4
    assert [run["records"] for run in figures["runs"]] == [300, 300]


def test_verify_latency(tmp_path: Path) -> None:
    figures = _run("verify_latency", tmp_path)
    latency = figures["latency"]
    assert latency["n"] == 20 and 0 < latency["p50_ms"] <= latency["p95_ms"]
    (target,) = figures["targets"]
    assert target["met"] == (latency["p95_ms"] <= 150)


def test_ingest_documents(tmp_path: Path) -> None:
    figures = _run("ingest_documents", tmp_path)
    text, scanned = figures["rows"]
    assert text["pages"] == 10 and text["pages_per_s"] > 0
    assert scanned["pages"] == 2 and scanned["mean_ocr_confidence"] > 80


def test_api_load(tmp_path: Path, sample_index) -> None:
    settings, _ = sample_index
    figures = _run("api_load", tmp_path, "--data-dir", str(settings.data_dir))
    rows = figures["rows"]
    assert [row["clients"] for row in rows] == [4, 8]
    assert all(row["errors"] == 0 and row["requests"] == row["clients"] for row in rows)
    assert all(0 < row["p50_ms"] <= row["p95_ms"] for row in rows)
    talk = figures["conversation"]
    assert talk["answered"] == 4 and talk["alternated"]
    assert [turn["replica"] for turn in talk["turns"]] == [1, 2, 1, 2]
    # The follow-up was rewritten on the other replica from the history sent.
    assert "California" in talk["turns"][1]["searched"]


def test_store_write(tmp_path: Path) -> None:
    # sky/chroma.yaml's proxy is Debian's nginx: .ci/run installs it (CI fails without).
    if shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin") is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (apt-get install nginx)")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    figures = _run("store_write", tmp_path)
    rows = figures["rows"]
    assert [row["writers"] for row in rows] == [1, 1, 4]
    assert all(row["chunks"] == 512 and row["chunks_per_s"] > 0 for row in rows)
