"""Battery (issue 20, item 5): a re-ingest that corrects a record's metadata is written.

Chunk ids hash the document id and the text, so a record whose text stays the same
but whose jurisdiction, date or URL were corrected used to keep the old values:
`--jurisdiction CA` then found nothing. The fix updates the stored metadata in place,
without embedding the chunks again.
"""

from __future__ import annotations

import json
from pathlib import Path

from legalrag.factory import open_store
from legalrag.ingest.run import ingest
from tests.conftest import make_retriever, make_settings, run_cli, write_jsonl

TEXT = (
    "Title: Deposit kept after move-out\nQuestion: My landlord kept my whole security "
    "deposit.\nAnswer #1: A landlord must return the security deposit, less itemized "
    "deductions, within 21 days after the tenant moves out."
)


def _stored(settings) -> list[dict]:
    got = open_store(settings).collection.get(include=["metadatas"])
    return got["metadatas"]


def test_corrected_metadata_is_rewritten_on_re_ingest(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "data")
    corpus = tmp_path / "corpus.jsonl"
    first = {
        "id": "post-1",
        "text": TEXT,
        "jurisdiction": "TX",
        "topic": "security-deposits",
        "created_timestamp": "03-01-2019",
        "url": "https://legalrag.example/old",
    }
    ingest(settings, path=write_jsonl(corpus, [first]), quiet=True)
    assert {m["jurisdiction"] for m in _stored(settings)} == {"TX"}
    question = "How long does a landlord have to return a security deposit?"
    before = make_retriever(settings, embedder)  # its BM25 cache is written now
    assert before.retrieve(question, filters=_filters("TX")).passages

    corrected = {**first, "jurisdiction": "CA", "created_timestamp": "04-02-2020"}
    corrected["url"] = "https://legalrag.example/new"
    del corrected["topic"]  # a field the correction removes must go too
    report = ingest(settings, path=write_jsonl(corpus, [corrected]), quiet=True)

    assert report.chunks_embedded == 0  # the text did not change: nothing embedded again
    assert report.chunks_updated == report.chunks > 0
    stored = _stored(settings)
    assert {m["jurisdiction"] for m in stored} == {"CA"}
    assert {m["created"] for m in stored} == {"2020-04-02"}
    assert {m["created_day"] for m in stored} == {20200402}
    assert {m["url"] for m in stored} == {"https://legalrag.example/new"}
    assert all("topic" not in m for m in stored)

    # Retrieval sees the correction: the BM25 cache on disk (with its filter columns)
    # was written at the old metadata, under the same chunk ids, and is not reused.
    retriever = make_retriever(settings, embedder)
    found = retriever.retrieve(question, filters=_filters("CA"))
    assert [p.document_id for p in found.passages] == ["post-1"]
    assert found.passages[0].url == "https://legalrag.example/new"
    assert retriever.retrieve(question, filters=_filters("TX")).passages == []

    # A third run with the same metadata changes nothing.
    again = ingest(settings, path=write_jsonl(corpus, [corrected]), quiet=True)
    assert again.chunks_updated == 0 and again.chunks_embedded == 0


def test_the_cli_finds_the_corrected_jurisdiction(tmp_path: Path) -> None:
    env = {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}
    corpus = tmp_path / "corpus.jsonl"
    record = {"id": "7", "text": TEXT, "jurisdiction": "TX"}
    assert run_cli("ingest", str(write_jsonl(corpus, [record])), "-q", env=env).returncode == 0
    write_jsonl(corpus, [{**record, "jurisdiction": "CA"}])
    done = run_cli("ingest", str(corpus), "--json", "-q", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["chunks_updated"] >= 1
    hits = run_cli(
        "retrieve", "security deposit 21 days", "--jurisdiction", "CA", "--json", env=env
    )
    assert hits.returncode == 0, hits.stderr
    assert [s["jurisdiction"] for s in json.loads(hits.stdout)["sources"]] == ["CA"]


def _filters(state: str):
    from legalrag.app.retrieval import Filters

    return Filters(jurisdiction=state)
