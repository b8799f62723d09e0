"""Chunking: token-bounded, on natural boundaries, with exact character spans."""

from __future__ import annotations

import itertools

import pytest

from legalrag.ingest.chunking import Chunker, chunk_id
from legalrag.ingest.records import SourceDocument
from legalrag.ingest.sources import read_sample

PARAGRAPH = (
    "Under the statute the landlord must return the deposit within twenty-one days. "
    "The landlord may deduct unpaid rent and the cost of repairing damage beyond normal wear. "
    "An itemized statement must accompany any deduction over one hundred twenty-five dollars. "
)


def distinct_paragraphs(count: int) -> list[str]:
    """Paragraphs of distinct sentences (repeated text would be deduplicated)."""
    return [
        " ".join(
            f"Rule {p}.{s} says the tenant in county {p * 10 + s} gets notice by day {s + 3}."
            for s in range(1, 6)
        )
        for p in range(1, count + 1)
    ]


@pytest.fixture(scope="module")
def chunker(embedder) -> Chunker:
    return Chunker(
        embedder.count_tokens, chunk_size=60, chunk_overlap=25, max_tokens=embedder.max_tokens
    )


def _doc(text: str, doc_id: str = "doc") -> SourceDocument:
    return SourceDocument(document_id=doc_id, text=text, source="test")


def test_spans_map_back_exactly_and_respect_the_token_limit(chunker: Chunker, embedder) -> None:
    text = "Title: Deposit\nQuestion: When?\n\n" + "\n\n".join(distinct_paragraphs(8))
    chunks = chunker.split(_doc(text))
    assert len(chunks) > 3
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert embedder.count_tokens(chunk.text) <= chunker.chunk_size + 8  # merge rounding
        assert embedder.count_tokens(chunk.text) <= embedder.max_tokens
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # Overlap: some chunk begins before the previous one ends.
    assert any(b.start < a.end for a, b in itertools.pairwise(chunks))
    # Coverage: every non-space character of the text is in some chunk.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_splits_prefer_sentence_ends(chunker: Chunker) -> None:
    chunks = chunker.split(_doc(" ".join(distinct_paragraphs(6))))
    assert sum(c.text.endswith(".") for c in chunks) >= len(chunks) - 1


def test_text_without_any_separator_is_still_cut_below_the_limit(embedder) -> None:
    chunker = Chunker(
        embedder.count_tokens, chunk_size=400, chunk_overlap=20, max_tokens=embedder.max_tokens
    )
    assert chunker.chunk_size == embedder.max_tokens  # clamped to what the model reads
    text = "x" * 5000 + "".join(f"{i}" for i in range(3000))
    chunks = chunker.split(_doc(text))
    assert len(chunks) > 1
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert embedder.count_tokens(chunk.text) <= embedder.max_tokens


def test_ids_are_stable_and_depend_on_document_and_text(chunker: Chunker) -> None:
    text = "\n\n".join(distinct_paragraphs(3))
    first = chunker.split(_doc(text, "a"))
    again = chunker.split(_doc(text, "a"))
    other_doc = chunker.split(_doc(text, "b"))
    assert [c.id for c in first] == [c.id for c in again]
    assert not {c.id for c in first} & {c.id for c in other_doc}
    assert first[0].id == chunk_id("a", first[0].text)


def test_repeated_paragraph_is_kept_once_with_unique_ids(chunker: Chunker) -> None:
    text = "\n\n".join(["The same disclaimer paragraph appears here."] * 5 + [PARAGRAPH])
    chunks = chunker.split(_doc(text))
    assert len({c.id for c in chunks}) == len(chunks)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text


def test_every_sample_record_chunks_with_exact_spans(embedder) -> None:
    chunker = Chunker(
        embedder.count_tokens, chunk_size=200, chunk_overlap=40, max_tokens=embedder.max_tokens
    )
    documents = [
        item for item in read_sample(max_chars=2_000_000) if isinstance(item, SourceDocument)
    ]
    assert len(documents) >= 150
    for document in documents:
        chunks = chunker.split(document)
        assert chunks, document.document_id
        for chunk in chunks:
            assert document.text[chunk.start : chunk.end] == chunk.text
            assert embedder.count_tokens(chunk.text) <= embedder.max_tokens
