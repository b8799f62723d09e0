"""Issue 20's fault battery for the data path (items 2, 9 and 10).

Each test feeds what the battery fed (a broken emoji, ids that collide, a BOM,
UTF-16, NUL bytes, a corpus with no word in it) through the real CLI where a user
meets it, and asserts the fixed behaviour: one bad record, file or question is
that record's rejection or that line's error, never the run's; ids are kept as
given and duplicates reported; nothing undecodable is indexed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from legalrag.app.questions import clean_question
from legalrag.app.retrieval.bm25 import BM25Index
from legalrag.errors import QuestionError
from legalrag.factory import open_store
from legalrag.ingest.run import ingest
from tests.conftest import make_settings, run_cli, write_jsonl

LEASE = {
    "id": "lease-1",
    "text": "Title: Deposit kept\nQuestion: My landlord kept my whole security deposit.\n"
    "Answer #1: A landlord must itemise deductions within 21 days.",
    "url": "https://legalrag.example/battery/lease",
    "jurisdiction": "CA",
}
WAGES = {
    "id": "wages-1",
    "text": "Title: Tips withheld\nQuestion: My boss keeps part of our tips.\n"
    "Answer #1: An employer may not keep any part of a gratuity.",
    "url": "https://legalrag.example/battery/wages",
    "jurisdiction": "NY",
}


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {"LEGALRAG_DATA_DIR": str(data_dir), **extra}


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _texts(settings) -> dict[str, list[str]]:
    """Every stored chunk's text, by document id."""
    got = open_store(settings).collection.get(include=["documents", "metadatas"])
    texts: dict[str, list[str]] = {}
    for text, meta in zip(got["documents"], got["metadatas"], strict=True):
        texts.setdefault(meta["document_id"], []).append(text)
    return texts


# --- item 2: one bad record kills a whole ingest -------------------------------------


def test_a_lone_surrogate_is_its_records_rejection_and_a_rerun_completes(tmp_path: Path) -> None:
    # json.dumps writes "\ud83d" as the escape the battery used: half an emoji.
    broken = [
        {"text": "Title: Broken\nAn emoji cut in half: \ud83d and more text."},
        {**LEASE, "id": "u", "url": "https://legalrag.example/\udc00"},
        {**LEASE, "id": "j", "jurisdiction": "C\ud800A"},
        {**LEASE, "id": "t", "topic": "housing-\udfff"},
        {**LEASE, "id": "\ud83dx"},
        {**LEASE, "id": "d", "created_timestamp": "01-02-\ud83d"},
    ]
    corpus = write_jsonl(tmp_path / "c.jsonl", [LEASE, *broken, WAGES])
    env = _env(tmp_path / "data")

    first = _json(run_cli("ingest", str(corpus), "--json", env=env))
    assert first["documents_read"] == 8 and first["documents_ingested"] == 2
    assert first["rejected_count"] == 6
    rejected = {r["location"]: r["reason"] for r in first["rejected_first"]}
    assert list(rejected) == [f"{corpus}:{n}" for n in range(2, 8)]
    for field, line in [("text", 2), ("url", 3), ("jurisdiction", 4), ("topic", 5), ("id", 6)]:
        assert field in rejected[f"{corpus}:{line}"] and "UTF-8" in rejected[f"{corpus}:{line}"]
    assert "created_timestamp" in rejected[f"{corpus}:7"]
    logged = [json.loads(line) for line in Path(first["rejects_log"]).read_text().splitlines()]
    assert [entry["location"] for entry in logged] == list(rejected)

    # A re-run died at the same line, so the file could never be ingested.
    again = ingest(make_settings(tmp_path / "data"), path=corpus, quiet=True)
    assert (again.documents_ingested, again.rejected_count, again.chunks_embedded) == (2, 6, 0)
    assert set(_texts(make_settings(tmp_path / "data"))) == {"lease-1", "wages-1"}


def test_retrieve_batch_reports_a_bad_question_line_and_goes_on(
    sample_index, tmp_path: Path
) -> None:
    settings, _ = sample_index
    batch = tmp_path / "questions.jsonl"
    with batch.open("wb") as out:
        out.write(b'{"id": "q1", "question": "Can my landlord keep my security deposit?"}\n')
        out.write(b'{"id": "q2", "question": "broken \\ud83d emoji"}\n')
        out.write(b'{"id": "q3", "question": "caf\xe9 in Latin-1, not UTF-8"}\n')
        out.write(b'{"id": "\\udc00", "question": "an id that cannot be printed"}\n')
        out.write(b'{"id": "q5", "question": "Can my employer keep my tips?"}\n')
    result = run_cli("retrieve", "--batch", str(batch), env=_env(settings.data_dir))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("id", line.get("line")) for line in lines] == ["q1", 2, 3, 4, "q5"]
    assert "UTF-8" in lines[1]["error"] and "UTF-8" in lines[2]["error"]
    assert "id" in lines[3]["error"]
    assert lines[0]["sources"] and lines[4]["sources"]


def test_a_single_question_with_a_lone_surrogate_is_a_usage_error(sample_index) -> None:
    settings, _ = sample_index
    env = _env(settings.data_dir)
    # Bytes that are not UTF-8 reach Python's argv as lone surrogates (surrogateescape).
    for command in ("retrieve", "ask"):
        result = run_cli(command, b"deposit \xed\xa0\xbd kept?", env=env)  # type: ignore[arg-type]
        assert result.returncode == 2, result.stderr
        assert "error:" in result.stderr and "UTF-8" in result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    # The chat and every other edge clean their questions through the same function.
    with pytest.raises(QuestionError, match="UTF-8"):
        clean_question("half an emoji \ud83d", max_chars=2000)
    assert clean_question("a whole emoji \U0001f600 ", max_chars=2000) == "a whole emoji \U0001f600"


# --- item 9: duplicate ids replace records silently ----------------------------------


def test_ids_are_kept_as_given_and_duplicates_reported(tmp_path: Path, capsys) -> None:
    from legalrag.cli import render

    records = [
        {**LEASE, "id": "7"},
        {**WAGES, "id": 7},
        {**LEASE, "id": True, "text": LEASE["text"] + " (bool id)"},
        {**LEASE, "id": 7.0, "text": LEASE["text"] + " (float id)"},
        {**LEASE, "id": "07", "text": LEASE["text"] + " (another document)"},
    ]
    corpus = write_jsonl(tmp_path / "ids.jsonl", records)
    report = _json(run_cli("ingest", str(corpus), "--json", env=_env(tmp_path / "data")))
    assert report["documents_read"] == 5 and report["documents_ingested"] == 2
    assert [
        (r["location"], "bool" in r["reason"] or "float" in r["reason"])
        for r in report["rejected_first"]
    ] == [(f"{corpus}:3", True), (f"{corpus}:4", True)]
    assert report["duplicates"] == 1
    assert report["duplicates_first"] == [
        {"location": f"{corpus}:2", "document_id": "7", "replaced": f"{corpus}:1"}
    ]
    stored = _texts(make_settings(tmp_path / "data"))
    assert set(stored) == {"7", "07"}
    assert any("gratuity" in text for text in stored["7"])  # the later record won
    assert not any("security deposit" in text for text in stored["7"])

    # One document per batch: the duplicate is found across batches, counted once.
    small = ingest(make_settings(tmp_path / "small", write_batch_size=1), path=corpus, quiet=True)
    assert (small.documents_ingested, small.duplicates, small.rejected_count) == (2, 1, 2)
    assert small.chunks == sum(len(texts) for texts in stored.values())
    # The rejects log lists every record not in the index: the replaced one too.
    logged = [json.loads(line) for line in Path(small.rejects_log).read_text().splitlines()]
    assert [entry["location"] for entry in logged] == [f"{corpus}:{n}" for n in (1, 3, 4)]
    assert f"{corpus}:2" in logged[0]["reason"]
    capsys.readouterr()
    render.ingest_summary(small, quiet=True)
    shown = capsys.readouterr()
    assert "read 5, skipped 2, duplicates 1" in shown.out
    assert f"{corpus}:2" in shown.err and f"{corpus}:1" in shown.err


# --- item 10: encodings --------------------------------------------------------------


def test_boms_and_utf16_are_decoded_and_undecodable_files_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    body = "Title: Notice period\nThe tenant must give thirty days' written notice — § 1946."
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (LEASE, WAGES))
    (folder / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + lines.encode("utf-8"))
    (folder / "bom.txt").write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    (folder / "utf16.txt").write_bytes(body.encode("utf-16"))  # with its BOM
    (folder / "utf16be.md").write_bytes(b"\xfe\xff" + body.encode("utf-16-be"))
    u16 = json.dumps({**LEASE, "id": "u16", "text": LEASE["text"] + " (UTF-16)"}) + "\r\n"
    (folder / "utf16.jsonl").write_bytes(u16.encode("utf-16"))
    (folder / "nobom16.txt").write_bytes(body.encode("utf-16-le"))
    (folder / "nobom16.jsonl").write_bytes(lines.encode("utf-16-le"))
    (folder / "nul.txt").write_bytes(b"\x00" * 300)

    report = _json(run_cli("ingest", str(folder), "--json", env=_env(tmp_path / "data")))
    rejected = {Path(r["location"]).name: r["reason"] for r in report["rejected_first"]}
    assert set(rejected) == {"nobom16.txt", "nobom16.jsonl", "nul.txt"}
    assert "UTF-16" in rejected["nobom16.txt"] and "UTF-16" in rejected["nobom16.jsonl"]
    assert "NUL" in rejected["nul.txt"]
    assert report["documents_ingested"] == 6

    stored = _texts(make_settings(tmp_path / "data"))
    assert set(stored) == {"lease-1", "wages-1", "u16", "bom.txt", "utf16.txt", "utf16be.md"}
    for name in ("bom.txt", "utf16.txt", "utf16be.md"):
        assert "".join(stored[name]).startswith("Title: Notice period")
        assert "§ 1946" in "".join(stored[name])
    assert not any("\ufeff" in t or "\x00" in t for texts in stored.values() for t in texts)


def test_an_index_with_no_word_token_still_retrieves_by_the_dense_stage(tmp_path: Path) -> None:
    words_none = [
        {"id": "p1", "text": "!!! ??? ... --- *** the and of to a"},
        {"id": "p2", "text": "§ ¶ — … « » (i) (a) it is was"},
    ]
    settings = make_settings(tmp_path / "data")
    assert ingest(settings, path=write_jsonl(tmp_path / "p.jsonl", words_none), quiet=True).chunks
    env = _env(tmp_path / "data", LEGALRAG_RELEVANCE_FLOOR="-1")
    result = _json(run_cli("retrieve", "security deposit", "--json", env=env))
    assert {s["document_id"] for s in result["sources"]} == {"p1", "p2"}
    assert all(s["stages"]["bm25"] is None for s in result["sources"])
    assert all(s["stages"]["dense"] is not None for s in result["sources"])
    # The BM25 index the CLI built is read back from its cache, still finding nothing.
    assert list(settings.bm25_dir.rglob("no_words"))
    cached = BM25Index.for_store(open_store(settings), settings.bm25_dir)
    assert cached.chunk_ids and cached.search("security deposit", 5) == []
