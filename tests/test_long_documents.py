"""Long documents: a question about one contract gets that contract's clauses.

Three non-disclosure agreements written for this test (tests/data/ndas) share every
clause heading and differ in parties, deadlines and governing law, as real NDAs do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from legalrag.app.retrieval import Retriever
from legalrag.ingest.run import ingest
from tests.conftest import make_retriever, make_settings

NDAS = Path(__file__).parent / "data" / "ndas"
COPACC = "copacc-top-mentors.txt"
RETURN_QUESTION = (
    "Consider the Non-Disclosure Agreement between CopAcc and ToP Mentors; within how "
    "many days must the Recipient return or destroy the materials, and may it keep a copy?"
)


@pytest.fixture(scope="module")
def ndas(tmp_path_factory: pytest.TempPathFactory, embedder):
    # Small chunks, so that each contract has many and the budget cannot hold them all.
    settings = make_settings(
        tmp_path_factory.mktemp("ndas"), chunk_size=60, chunk_overlap=10, context_max_tokens=300
    )
    ingest(settings, path=NDAS, quiet=True)
    return settings


@pytest.fixture(scope="module")
def retriever(ndas, embedder) -> Retriever:
    return make_retriever(ndas, embedder)


def test_several_clauses_of_the_named_contract_are_handed_over_within_budget(
    retriever: Retriever,
) -> None:
    passages = retriever.retrieve(RETURN_QUESTION).passages
    from_copacc = [p for p in passages if p.document_id == COPACC]
    # The contract the question names is read first, with more than one of its passages,
    # and its return clause (30 days, one archival copy) among them.
    assert passages[0].document_id == COPACC and len(from_copacc) >= 2
    text = " ".join(p.text for p in from_copacc)
    assert "Within 30 days" in text and "archival copy" in text
    # In document order, each an exact span with its section path.
    assert [p.start for p in from_copacc] == sorted(p.start for p in from_copacc)
    for passage in passages:
        document = (NDAS / passage.document_id).read_text(encoding="utf-8")
        assert passage.text == document[passage.start : passage.end]
    assert any(p.section.startswith("4. Return of materials") for p in from_copacc)
    tokens = sum(retriever.count_tokens(p.text) for p in passages)
    assert tokens <= retriever.settings.context_max_tokens


def test_naming_the_parties_is_what_finds_the_contract(ndas, embedder) -> None:
    named = make_retriever(ndas, embedder).rank_chunks(RETURN_QUESTION, depth=5)
    unnamed = make_retriever(ndas, embedder, document_naming=False).rank_chunks(
        RETURN_QUESTION, depth=5
    )
    assert {p.document_id for p in named.passages} == {COPACC}
    # Without the named-document ranking, the other contracts' identical return
    # clauses compete for the first places.
    assert {p.document_id for p in unnamed.passages} != {COPACC}
