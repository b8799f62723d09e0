"""The shipped sample corpus has pile-of-law's record shape and the promised coverage."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources

from legalrag.ingest.sources import sample_corpus_file

PILE_OF_LAW_KEYS = {"text", "created_timestamp", "downloaded_timestamp", "url"}
OUR_KEYS = {"jurisdiction", "topic"}
DATE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])-\d{4}$")


def _records() -> list[dict]:
    with sample_corpus_file().open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_shape_matches_pile_of_law_plus_our_metadata() -> None:
    records = _records()
    assert len(records) >= 150
    for record in records:
        assert set(record) == PILE_OF_LAW_KEYS | OUR_KEYS
        assert record["text"].startswith("Title: ")
        assert "\nQuestion: " in record["text"] and "\nAnswer #1: " in record["text"]
        assert DATE.match(record["created_timestamp"]) and DATE.match(
            record["downloaded_timestamp"]
        )
        assert record["url"].startswith("https://legalrag.example/sample/")
    assert len({r["url"] for r in records}) == len(records)
    assert len({r["text"] for r in records}) == len(records)


def test_coverage_of_topics_and_jurisdictions() -> None:
    records = _records()
    topics = Counter(r["topic"] for r in records)
    jurisdictions = Counter(r["jurisdiction"] for r in records)
    assert len(topics) >= 10 and min(topics.values()) >= 5
    assert len(jurisdictions) >= 12
    assert all(j == "US" or re.fullmatch(r"[A-Z]{2}", j) for j in jurisdictions)
    # The same question asked in several states, so that answers must tell them apart.
    deposit_states = {r["jurisdiction"] for r in records if r["topic"] == "security-deposits"}
    assert {"CA", "TX", "NY"} <= deposit_states


def test_marked_as_illustrative_and_shipped_with_the_package() -> None:
    readme = resources.files("legalrag.ingest") / "sample_corpus" / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "not legal advice" in text.lower()
    assert "illustrative" in text.lower()


def test_eval_questions_point_at_records_that_exist() -> None:
    urls = {r["url"] for r in _records()}
    path = resources.files("legalrag.eval") / "datasets" / "sample.jsonl"
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(questions) >= 40
    for question in questions:
        assert set(question["gold_source_ids"]) <= urls, question["id"]
        assert bool(question["gold_source_ids"]) == question["answerable"], question["id"]
    assert sum(not q["answerable"] for q in questions) >= 8
