"""A run killed with SIGKILL half-way resumes: the re-run embeds only what is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from legalrag.factory import open_store
from legalrag.ingest.run import ingest
from tests.conftest import make_settings

BATCHES_BEFORE_KILL = 3


def _everything(settings) -> dict:
    got = open_store(settings).collection.get(include=["documents", "metadatas", "embeddings"])
    return {
        i: (d, m, np.asarray(e))
        for i, d, m, e in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        )
    }


def test_sigkill_midway_then_rerun_equals_a_clean_run(tmp_path: Path, sample_index) -> None:
    clean_settings, clean_report = sample_index
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGALRAG_")}
    env.update(
        LEGALRAG_DATA_DIR=str(data_dir),
        LEGALRAG_WRITE_BATCH_SIZE="16",  # many small batches, so there is a middle
        LEGALRAG_LOG_LEVEL="INFO",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "legalrag", "ingest", "--quiet"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    written = 0
    deadline = time.monotonic() + 240
    assert proc.stderr is not None
    for line in proc.stderr:
        if "batch written" in line:
            written += 1
            if written == BATCHES_BEFORE_KILL:
                os.kill(proc.pid, signal.SIGKILL)
                break
        assert time.monotonic() < deadline, "ingest never got going"
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    settings = make_settings(data_dir)
    partial = open_store(settings).count()
    assert 0 < partial < clean_report.chunks

    resumed = ingest(settings, quiet=True)
    # Resumed, not redone: what the killed run wrote is not embedded again.
    assert resumed.chunks_already_indexed >= partial - 16
    assert resumed.chunks_embedded == clean_report.chunks - resumed.chunks_already_indexed
    assert resumed.chunks_embedded < clean_report.chunks

    after, clean = _everything(settings), _everything(clean_settings)
    assert set(after) == set(clean)
    for chunk_id, (text, meta, vector) in after.items():
        clean_text, clean_meta, clean_vector = clean[chunk_id]
        assert (text, meta) == (clean_text, clean_meta)
        np.testing.assert_allclose(vector, clean_vector, atol=1e-4)
