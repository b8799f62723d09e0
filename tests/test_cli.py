"""The `legalrag` command as a user runs it: clear one-line errors, useful summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_jsonl


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}


def test_ingest_summary_then_if_empty_skips(env: dict[str, str], tmp_path: Path) -> None:
    first = run_cli("ingest", "--limit", "6", env=env)
    assert first.returncode == 0, first.stderr
    assert "documents 6 (read 6, skipped 0)" in first.stdout
    assert "chunks/s" in first.stdout
    for stage in ("read", "chunk", "embed", "write"):
        assert stage in first.stderr  # the progress bars' final state

    again = run_cli("ingest", "--if-empty", env=env)
    assert again.returncode == 0
    assert "nothing to do" in again.stderr

    as_json = run_cli("ingest", "--limit", "6", "--json", env=env)
    report = json.loads(as_json.stdout)
    assert report["chunks_embedded"] == 0 and report["documents_ingested"] == 6

    info = json.loads(run_cli("index", "info", "--json", env=env).stdout)
    assert info["documents"] == 6 and info["dimension"] == 384


def test_retrieve_json_and_bad_questions(env: dict[str, str]) -> None:
    assert run_cli("ingest", "--limit", "20", "-q", env=env).returncode == 0
    result = run_cli(
        "retrieve", "Can my employer withhold my final paycheck?", "--k", "3", "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    sources = json.loads(result.stdout)["sources"]
    assert len(sources) == 3
    assert {"id", "document_id", "text", "score", "start", "end", "title", "url"} <= set(sources[0])
    # The first retrieve builds the BM25 index; no library's debug lines reach the user.
    assert "DEBUG" not in result.stderr, result.stderr

    empty = run_cli("retrieve", "   ", env=env)
    assert empty.returncode == 2 and "empty" in empty.stderr
    huge = run_cli("retrieve", "why " * 1000, env=env)
    assert huge.returncode == 2 and "limit" in huge.stderr
    for failed in (empty, huge):
        assert "Traceback" not in failed.stderr


def test_retrieve_without_an_index(env: dict[str, str]) -> None:
    result = run_cli("retrieve", "anything", env=env)
    assert result.returncode == 2
    assert "no index" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "/no/such/corpus.jsonl"), "no such file"),
        (("ingest", "--source", "westlaw"), "unknown --source"),
        (("ingest", "--partition", "4/3"), "partition"),
        (("ingest", "--limit", "0"), "--limit"),
        (("ingest", "--chunk-size", "20", "--chunk-overlap", "30"), "chunk_overlap"),
    ],
)
def test_bad_ingest_arguments_exit_2_and_write_nothing(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "chroma").exists()


def test_ingest_a_folder_of_text_files(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "contracts"
    (folder / "ndas").mkdir(parents=True)
    (folder / "ndas" / "acme.txt").write_text(
        "Mutual NDA.\n\nThe receiving party shall keep the information confidential for five years."
    )
    (folder / "lease.md").write_text("# Lease\n\nRent is due on the first day of each month.")
    write_jsonl(
        folder / "extra.jsonl",
        [{"text": "Title: Extra\nQuestion: q\nAnswer #1: a", "id": "x1"}, "oops"],
    )
    result = run_cli("ingest", str(folder), "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents_ingested"] == 3 and report["rejected_count"] == 1
    hits = json.loads(
        run_cli("retrieve", "how long is information kept confidential", "--json", env=env).stdout
    )
    assert hits["sources"][0]["document_id"] == "ndas/acme.txt"


MARKUP_TITLE = "Rent [/i] and [bold]deposits"


def test_markup_in_questions_and_documents_is_printed_as_written(
    env: dict[str, str], tmp_path: Path
) -> None:
    corpus = write_jsonl(
        tmp_path / "markup.jsonl",
        [
            {
                "id": "m1",
                "text": f"Title: {MARKUP_TITLE}\nQuestion: When is rent due?\n"
                "Answer #1: Rent is due on the first [/] day of each month, [link=x]always.",
                "topic": "[red]housing",
            },
            {"id": "m2", "text": "Title: Pets\nQuestion: Cats?\nAnswer #1: Ask the landlord."},
        ],
    )
    assert run_cli("ingest", str(corpus), "-q", env=env).returncode == 0
    question = "When is [/i] rent [bold]due?"
    shown = run_cli("retrieve", question, "--topic", "[red]housing", env=env)
    assert shown.returncode == 0, shown.stderr
    for literal in (question, "topic=[red]housing", MARKUP_TITLE, "first [/] day", "[link=x]"):
        assert literal in shown.stdout
    answered = run_cli("ask", question, "--k", "1", env=env)
    assert answered.returncode == 0, answered.stderr
    assert MARKUP_TITLE in answered.stdout and "first [/] day" in answered.stdout
    for failed in (shown, answered):
        assert "MarkupError" not in failed.stderr and "internal error" not in failed.stderr


def test_audit_tail_prints_markup_as_written(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "audit.jsonl",
        [{"time": "[bold]now", "user": "[/i]bob", "question": "Is [/] ok?", "error": "[red]x"}],
    )
    shown = run_cli("audit", "tail", env={"LEGALRAG_AUDIT_LOG": str(log)})
    assert shown.returncode == 0, shown.stderr
    assert "[bold]now [/i]bob · error" in shown.stdout
    assert "Q: Is [/] ok?" in shown.stdout and "error: [red]x" in shown.stdout
