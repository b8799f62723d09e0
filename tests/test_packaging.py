"""The built wheel carries what an installed legalrag needs: code, sample corpus, entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_ships_the_sample_corpus_and_the_command(tmp_path: Path) -> None:
    # Build from a copy, so the build leaves nothing in the checkout.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in ("legalrag", "app", "ingest", "eval", "prompts"):
        shutil.copytree(
            REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("legalrag-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "legalrag = legalrag.cli:main" in archive.read(entry_points).decode()
    for expected in (
        "legalrag/cli/__init__.py",
        "legalrag/ingest/pipeline.py",
        "legalrag/app/retrieval/__init__.py",
        "legalrag/ingest/sample_corpus/legal_advice_sample.jsonl",
        "legalrag/ingest/sample_corpus/README.md",
        "legalrag/eval/datasets/sample.jsonl",
    ):
        assert expected in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)
