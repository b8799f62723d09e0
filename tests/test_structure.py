"""Structure-aware chunking: legal units found, chunks cut between clauses, section paths."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from legalrag.ingest.chunking import Chunk, Chunker
from legalrag.ingest.records import SourceDocument
from legalrag.ingest.structure import SEPARATOR, find_segments, find_units, label_of

# ../shared/data beside the checkout (as in test_eval_metrics); absent in CI.
_REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = next(
    (
        p
        for p in (_REPO.parent / "shared" / "data", _REPO.parent.parent / "shared" / "data")
        if p.is_dir()
    ),
    _REPO.parent / "shared" / "data",
)

NDA = """MUTUAL NON-DISCLOSURE AGREEMENT

This Agreement is made between Acme Ltd and Beta LLC.

1. Definitions
"Confidential Information" means any information one party discloses to the other.
"Purpose" means evaluating a possible joint venture between the parties.

2. Confidentiality
2.1 Obligations. The Receiving Party shall keep the Confidential Information secret.
2.2 Exceptions. The obligations in clause 2.1 do not apply to information that:
(a) is or becomes public through no fault of the Receiving Party;
(b) was known to the Receiving Party before it was disclosed;
(c) is developed by the Receiving Party without using the information.

3. Term
This Agreement lasts three years from the date it is signed by both parties.
"""

STATUTE = """# Residential Tenancies Act

ARTICLE IV
DEPOSITS

Section 5. Amount of deposit
A landlord may not ask for a deposit of more than two months' rent.
Section 5 of the old Act is repealed by this Article.

§ 12 Return of the deposit
The landlord returns the deposit within twenty-one days of the end of the tenancy.

§§ 13-14 Penalties
A landlord who keeps a deposit unlawfully pays twice its amount.

## Schedule
(i) the form of the notice;
(ii) the form of the receipt.
"""

POST = """Title: My landlord kept my deposit
Question: I moved out of my flat in March and left it clean. The landlord says he
needs three months to check it. Is that allowed in California?

Answer #1: No. California gives the landlord twenty-one days to return the deposit
or send an itemised statement. Write to him and cite Civil Code 1950.5.
"""


@pytest.fixture(scope="module")
def chunker(embedder) -> Chunker:
    return Chunker(
        embedder.count_tokens, chunk_size=40, chunk_overlap=10, max_tokens=embedder.max_tokens
    )


def _doc(text: str) -> SourceDocument:
    return SourceDocument(document_id="doc", text=text, source="test")


def _assert_exact_and_bounded(text: str, chunks: list[Chunk], embedder) -> None:
    assert chunks
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert embedder.count_tokens(chunk.text) <= embedder.max_tokens


def test_units_and_their_section_paths() -> None:
    paths = [segment.path for segment in find_segments(NDA) or []]
    sep = SEPARATOR
    assert paths[:2] == ["MUTUAL NON-DISCLOSURE AGREEMENT", "1. Definitions"]
    assert f'1. Definitions{sep}"Confidential Information"' in paths
    assert f"2. Confidentiality{sep}2.1 Obligations" in paths
    assert f"2. Confidentiality{sep}2.2 Exceptions{sep}(b) was known to the Receiving Party" in (
        p.rsplit(" before", 1)[0] for p in paths
    )
    # The title heads the preamble only: clause 1 is not nested under it.
    assert "3. Term" in paths


def test_articles_sections_paragraph_signs_and_markdown_headings() -> None:
    paths = [segment.path for segment in find_segments(STATUTE) or []]
    sep = SEPARATOR
    act = "Residential Tenancies Act"
    assert paths == [
        act,
        f"{act}{sep}ARTICLE IV DEPOSITS",
        f"{act}{sep}ARTICLE IV DEPOSITS{sep}Section 5. Amount of deposit",
        f"{act}{sep}ARTICLE IV DEPOSITS{sep}§ 12 Return of the deposit",
        f"{act}{sep}ARTICLE IV DEPOSITS{sep}§§ 13-14 Penalties",
        f"{act}{sep}Schedule",
        f"{act}{sep}Schedule{sep}(i) the form of the notice;",
        f"{act}{sep}Schedule{sep}(ii) the form of the receipt.",
    ]  # "Section 5 of the old Act ..." is a sentence, not a heading


def test_labels_are_cut_near_eighty_characters() -> None:
    assert label_of("5.2 Exceptions. The obligations of the Receiving Party " + "x " * 40) == (
        "5.2 Exceptions"
    )
    long = label_of("7. " + "The Receiving Party shall return every copy " * 5)
    assert len(long) <= 80 and long.endswith("…")


def test_chunks_end_between_clauses_with_the_path_of_their_first_character(
    chunker: Chunker, embedder
) -> None:
    chunks = chunker.split(_doc(NDA))
    _assert_exact_and_bounded(NDA, chunks, embedder)
    starts = {unit.start for unit in find_units(NDA)} | {0}
    ends = {unit.start for unit in find_units(NDA)} | {len(NDA)}
    for chunk in chunks:
        assert chunk.start in starts  # no chunk begins mid-clause
        assert chunk.end + len(NDA[chunk.end :]) - len(NDA[chunk.end :].lstrip()) in ends
    # Between whole clauses there is no overlap.
    assert all(b.start >= a.end for a, b in itertools.pairwise(chunks))
    segments = find_segments(NDA) or []
    for chunk in chunks:
        assert chunk.section == next(s.path for s in segments if s.start == chunk.start)
    sections = [chunk.section for chunk in chunks]
    assert f"2. Confidentiality{SEPARATOR}2.2 Exceptions" in sections
    assert sections[-1] == "3. Term"
    # A heading is never left alone at the end of a chunk, away from its text.
    assert not any(chunk.text.endswith("2. Confidentiality") for chunk in chunks)


def test_small_clauses_are_packed_together(embedder) -> None:
    roomy = Chunker(embedder.count_tokens, chunk_size=200, chunk_overlap=40, max_tokens=256)
    chunks = roomy.split(_doc(NDA))
    _assert_exact_and_bounded(NDA, chunks, embedder)
    assert len(chunks) <= 3
    assert any("(a) is or becomes" in c.text and "(c) is developed" in c.text for c in chunks)


def test_a_clause_longer_than_a_chunk_is_split_inside_it(embedder) -> None:
    chunker = Chunker(embedder.count_tokens, chunk_size=60, chunk_overlap=25, max_tokens=256)
    sentences = " ".join(
        f"The Receiving Party shall keep record number {n} of the disclosures in a safe place."
        for n in range(1, 16)
    )
    text = (
        f"Section 1. Definitions\nShort clause.\n\nSection 2. Records\n{sentences}\n\n"
        "Section 3. Term\nThree years.\n"
    )
    chunks = chunker.split(_doc(text))
    _assert_exact_and_bounded(text, chunks, embedder)
    inside = [c for c in chunks if c.section == "Section 2. Records"]
    assert len(inside) >= 3
    assert inside[0].text.startswith("Section 2. Records")  # the heading stays with its clause
    assert any(b.start < a.end for a, b in itertools.pairwise(inside))  # overlap inside only
    assert chunks[-1].section == "Section 3. Term"
    assert chunks[-1].text.startswith("Section 3. Term")


def test_a_plain_post_chunks_as_before(chunker: Chunker, embedder) -> None:
    assert find_segments(POST) is None
    chunks = chunker.split(_doc(POST))
    _assert_exact_and_bounded(POST, chunks, embedder)
    assert all(chunk.section == "" for chunk in chunks)
    # Exactly the recursive splitter's pieces, as before structure detection.
    pieces = chunker._pieces(POST, chunker._splitter, chunker.chunk_size)
    assert [chunk.text for chunk in chunks] == pieces


def test_a_post_with_a_short_numbered_list_has_no_structure() -> None:
    text = POST + "\nMy options:\n1. Sue in small claims court.\n2. Write a demand letter.\n"
    assert find_segments(text) is None


@pytest.mark.skipif(not (SHARED_DATA / "contractnli-dev").is_dir(), reason="no ../shared/data")
def test_contractnli_ndas_chunk_between_clauses(embedder) -> None:
    documents = json.loads((SHARED_DATA / "contractnli-dev" / "dev.json").read_text())["documents"]
    chunker = Chunker(embedder.count_tokens, chunk_size=200, chunk_overlap=40, max_tokens=256)
    structured = 0
    for document in documents:
        chunks = chunker.split(_doc(document["text"]))
        _assert_exact_and_bounded(document["text"], chunks, embedder)
        structured += any(chunk.section for chunk in chunks)
    assert structured >= 55  # measured: 59 of the 61
