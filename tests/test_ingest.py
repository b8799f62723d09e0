"""Ingestion into a real embedded Chroma with the real bundled model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from legalrag.errors import IndexBusyError, IndexMismatchError, IndexNotFoundError
from legalrag.factory import open_store, open_store_for_writing
from legalrag.ingest.partition import Partition
from legalrag.ingest.run import ingest
from legalrag.ingest.sources import sample_corpus_file
from legalrag.store import ModelStamp, describe_store
from tests.conftest import make_settings, run_cli, write_jsonl


def _sample_records() -> list[dict]:
    with sample_corpus_file().open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _snapshot(settings) -> dict[str, tuple[str, dict]]:
    """Every chunk of the index: id -> (text, metadata)."""
    got = open_store(settings).collection.get(include=["documents", "metadatas"])
    return {
        i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def test_clean_ingest_of_the_sample_corpus(sample_index) -> None:
    settings, report = sample_index
    records = _sample_records()
    assert report.rejected_count == 0
    assert report.documents_read == report.documents_ingested == len(records)
    assert report.chunks == report.chunks_embedded > len(records)
    info = describe_store(open_store(settings))
    assert info.documents == len(records)
    assert info.chunks == report.chunks
    assert info.embedding_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert info.dimension == 384
    assert info.sources == {"sample": len(records)}
    assert len(info.jurisdictions) >= 12 and len(info.topics) >= 10


def test_stored_chunks_point_at_exact_spans_of_their_record(sample_index) -> None:
    settings, _ = sample_index
    texts = {r["url"]: r["text"] for r in _sample_records()}
    snapshot = _snapshot(settings)
    for text, meta in snapshot.values():
        assert texts[meta["document_id"]][meta["start"] : meta["end"]] == text
        assert meta["title"] and meta["url"] == meta["document_id"]
        assert isinstance(meta["created_day"], int)
    # Every record is represented, from its first character.
    starts = {(m["document_id"], m["start"]) for _, m in snapshot.values()}
    assert all((url, 0) in starts for url in texts)


def test_rerun_adds_nothing(sample_index) -> None:
    settings, first = sample_index
    before = _snapshot(settings)
    again = ingest(settings, quiet=True)
    assert again.chunks_embedded == 0
    assert again.chunks_removed == 0
    assert again.chunks_already_indexed == first.chunks
    assert _snapshot(settings) == before


def test_changed_document_replaces_its_old_chunks(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    records = _sample_records()[:3]
    corpus = write_jsonl(tmp_path / "c.jsonl", records)
    ingest(settings, path=corpus, quiet=True)
    old_chunks = {
        i for i, (_, m) in _snapshot(settings).items() if m["document_id"] == records[0]["url"]
    }
    records[0] = {**records[0], "text": records[0]["text"] + "\n\nEdit: the landlord paid in full."}
    write_jsonl(corpus, records)
    report = ingest(settings, path=corpus, quiet=True)
    assert report.chunks_removed >= 1 and report.chunks_embedded >= 1
    after = _snapshot(settings)
    fresh = make_settings(tmp_path / "fresh")
    ingest(fresh, path=corpus, quiet=True)
    assert set(after) == set(_snapshot(fresh))
    assert any(text.endswith("paid in full.") for text, _ in after.values())
    assert old_chunks - set(after)  # at least one old chunk is gone


def test_malformed_lines_are_counted_and_change_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    good = _sample_records()[:2]
    corpus = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            good[0],
            "{not json",
            {"text": ""},
            ["a", "list"],
            {**good[1], "created_timestamp": "yesterday"},
            good[1],
        ],
    )
    report = ingest(settings, path=corpus, quiet=True)
    assert report.documents_read == 6
    assert report.documents_ingested == 2
    assert report.rejected_count == 4
    assert [r.location for r in report.rejected] == [f"{corpus}:{n}" for n in (2, 3, 4, 5)]
    logged = [json.loads(line) for line in Path(report.rejects_log).read_text().splitlines()]
    assert [entry["location"] for entry in logged] == [r.location for r in report.rejected]
    clean = make_settings(tmp_path / "clean")
    ingest(clean, path=write_jsonl(tmp_path / "good.jsonl", good), quiet=True)

    def without_source(snapshot: dict) -> dict:  # `source` names the file that was read
        return {
            i: (text, {k: v for k, v in meta.items() if k != "source"})
            for i, (text, meta) in snapshot.items()
        }

    assert without_source(_snapshot(settings)) == without_source(_snapshot(clean))


def test_opening_an_index_with_another_model_is_refused(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "data")
    open_store_for_writing(settings, ModelStamp("Alibaba-NLP/gte-Qwen2-7B-instruct", 3584)).close()
    with pytest.raises(IndexMismatchError, match="gte-Qwen2-7B-instruct"):
        ingest(settings, quiet=True, limit=2)
    with pytest.raises(IndexMismatchError):
        open_store(settings, embedder)
    assert open_store(settings).count() == 0


def test_cli_reports_model_mismatch_and_missing_index_in_one_line(tmp_path: Path) -> None:
    env = {"LEGALRAG_DATA_DIR": str(tmp_path / "data")}
    missing = run_cli("index", "info", env=env)
    assert missing.returncode == 2
    assert "no index" in missing.stderr and "legalrag ingest" in missing.stderr
    assert "Traceback" not in missing.stderr

    open_store_for_writing(
        make_settings(tmp_path / "data"), ModelStamp("some/other-model", 768)
    ).close()
    mismatch = run_cli("ingest", "--limit", "1", "-q", env=env)
    assert mismatch.returncode == 2
    assert "some/other-model" in mismatch.stderr and "Traceback" not in mismatch.stderr


def test_one_writer_at_a_time_on_the_embedded_index(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "data")
    held = open_store_for_writing(settings, ModelStamp(embedder.model_name, embedder.dimension))
    try:
        with pytest.raises(IndexBusyError, match="another process is writing"):
            ingest(settings, limit=1, quiet=True)
        busy = run_cli(
            "ingest", "--limit", "1", "-q", env={"LEGALRAG_DATA_DIR": str(tmp_path / "data")}
        )
        assert busy.returncode == 2 and "LEGALRAG_CHROMA_URL" in busy.stderr
    finally:
        held.close()
    assert ingest(settings, limit=1, quiet=True).documents_ingested == 1


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="legalrag ingest"):
        open_store(make_settings(tmp_path / "nothing"))


def test_partitions_together_equal_the_whole(tmp_path: Path, sample_index) -> None:
    whole_settings, _ = sample_index
    shared = make_settings(tmp_path / "parts")
    reports = [ingest(shared, partition=Partition(i, 3), quiet=True) for i in range(3)]
    owned = [r.documents_ingested for r in reports]
    assert sum(owned) == len(_sample_records())
    assert all(n > 0 for n in owned)  # each partition really got a share
    assert all(
        r.documents_ingested + r.documents_outside_partition == r.documents_read for r in reports
    )
    assert _snapshot(shared) == _snapshot(whole_settings)


def test_partition_membership_is_deterministic_and_exclusive() -> None:
    ids = [f"doc-{i}" for i in range(300)]
    parts = [Partition.parse(f"{i}/3") for i in range(3)]
    for doc_id in ids:
        assert sum(p.owns(doc_id) for p in parts) == 1
    assert [d for d in ids if parts[1].owns(d)] == [d for d in ids if Partition(1, 3).owns(d)]
    with pytest.raises(ValueError):
        Partition.parse("3/3")
    with pytest.raises(ValueError):
        Partition.parse("one of three")


def test_pile_of_law_source_streams_and_checks_the_row_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lzma

    from legalrag.ingest.run import Source

    rows = [
        {
            "text": f"Title: Post {i}\nQuestion: Can my landlord do this?\nAnswer #1: Reply {i}.",
            "created_timestamp": "02-03-2017",
            "downloaded_timestamp": "04-20-2022",
            "url": f"https://www.reddit.com/r/legaladvice/comments/p{i}/",
        }
        for i in range(5)
    ]
    rows[2] = {**rows[2], "text": None}
    lines = "\n".join(json.dumps(r) for r in rows).encode()
    (tmp_path / "train.r_legaldvice.jsonl.xz").write_bytes(lzma.compress(lines))
    monkeypatch.setenv(
        "LEGALRAG_PILE_OF_LAW_DATA_FILES", str(tmp_path / "{split}.r_legaldvice.jsonl.xz")
    )
    report = ingest(make_settings(tmp_path / "data"), source=Source.pile_of_law, quiet=True)
    assert report.documents_ingested == 4
    assert [r.location for r in report.rejected] == ["pile-of-law:train:3"]
    assert any("read 5 records" in w and "109,740" in w for w in report.warnings)
    info = describe_store(open_store(make_settings(tmp_path / "data")))
    assert info.sources == {"pile-of-law": 4}

    limited = ingest(
        make_settings(tmp_path / "limited"), source=Source.pile_of_law, limit=2, quiet=True
    )
    assert limited.documents_read == 2 and not limited.warnings
