"""Source selection over a hand-built ranking: what the model is handed, and in what order."""

from __future__ import annotations

from collections.abc import Sequence

from legalrag.app.retrieval import Ranking, SelectionRules, select_sources
from legalrag.store import ChunkMetadata, StoredChunk

CONTRACT = (
    "1. Definitions. Confidential Information means all non-public information. "
    "2. Obligations. The Recipient shall not disclose Confidential Information. "
    "3. Exceptions. Information already public is not Confidential Information. "
    "4. Term. The obligations last three years after termination. "
    "5. Law. This agreement is governed by the laws of Delaware."
)
POLICY = "We share your data with processors. We never sell personal data to brokers."


def _chunk(document_id: str, text: str, start: int, end: int, index: int = 0) -> StoredChunk:
    meta = ChunkMetadata(document_id=document_id, start=start, end=end, chunk_index=index)
    return StoredChunk(f"{document_id}:{start}-{end}", text[start:end], meta)


def _clause(number: int) -> tuple[int, int]:
    start = CONTRACT.index(f"{number}. ")
    following = CONTRACT.find(f"{number + 1}. ")
    return start, (len(CONTRACT) if following < 0 else following - 1)


def _ranking(
    chunks: Sequence[StoredChunk], vectors: dict[str, list[float]] | None = None
) -> Ranking:
    ranked = [c.id for c in chunks]
    fused = {c: 1.0 / (60 + place) for place, c in enumerate(ranked, 1)}
    found = {c.id: c for c in chunks}
    return Ranking(ranked, fused, found, {}, {}, {}, vectors or {})


def _words(text: str) -> int:
    return len(text.split())


def _rules(**changes: float) -> SelectionRules:
    values = {"max_sources": 10, "budget_tokens": 1000, "per_document": 10, "diversity": 0.0}
    values.update(changes)
    return SelectionRules(rrf_k=60, **values)  # type: ignore[arg-type]


def test_several_passages_of_one_document_are_kept_merged_and_in_document_order() -> None:
    a2, a3, a5 = _clause(2), _clause(3), _clause(5)
    overlapping = (a2[0] + 10, a3[1])  # starts inside clause 2, runs to the end of 3
    policy = _chunk("policy", POLICY, 0, len(POLICY))
    ranked = [
        _chunk("nda", CONTRACT, *a5),
        policy,
        _chunk("nda", CONTRACT, *a2),
        _chunk("nda", CONTRACT, *overlapping),
    ]
    sources = select_sources(_ranking(ranked), _rules(), _words)

    # The contract first (its best passage ranked first), its passages in document
    # order; clause 2 and the overlapping chunk became one exact span, 5 stays apart.
    assert [(s.document_id, s.start, s.end) for s in sources] == [
        ("nda", a2[0], a3[1]),
        ("nda", *a5),
        ("policy", 0, len(POLICY)),
    ]
    for source in sources:
        text = CONTRACT if source.document_id == "nda" else POLICY
        assert source.text == text[source.start : source.end]
    # The order of merit is kept beside the reading order.
    assert [s.rank for s in sources] == [3, 1, 2]


def test_chunks_that_touch_merge_and_chunks_with_a_gap_stay_apart() -> None:
    one, two, four = _clause(1), _clause(2), _clause(4)
    touching = _chunk("nda", CONTRACT, one[1], two[0])  # the one space between 1 and 2
    ranked = [_chunk("nda", CONTRACT, *one), touching, _chunk("nda", CONTRACT, *four)]
    sources = select_sources(_ranking(ranked), _rules(), _words)
    assert [(s.start, s.end) for s in sources] == [(one[0], two[0]), four]
    assert sources[0].text == CONTRACT[one[0] : two[0]]


def test_the_budget_is_filled_by_what_fits_and_the_first_passage_is_always_given() -> None:
    long_clause, short_clause = _clause(1), _clause(4)
    ranked = [
        _chunk("nda", CONTRACT, 0, len(CONTRACT)),  # 50-odd words, over the budget alone
        _chunk("policy", POLICY, 0, len(POLICY)),
    ]
    sources = select_sources(_ranking(ranked), _rules(budget_tokens=20), _words)
    assert [s.document_id for s in sources] == ["nda"]  # given although over budget

    ranked = [
        _chunk("nda", CONTRACT, *long_clause),  # 9 words
        _chunk("policy", POLICY, 0, len(POLICY)),  # 13 words: does not fit after it
        _chunk("nda", CONTRACT, *short_clause),  # 9 words: fits
    ]
    sources = select_sources(_ranking(ranked), _rules(budget_tokens=20), _words)
    assert [(s.document_id, s.start) for s in sources] == [
        ("nda", long_clause[0]),
        ("nda", short_clause[0]),
    ]
    assert sum(_words(s.text) for s in sources) <= 20


def test_the_per_document_cap_and_the_number_of_sources_are_kept() -> None:
    clauses = [_chunk("nda", CONTRACT, *_clause(n)) for n in range(1, 6)]
    policy = _chunk("policy", POLICY, 0, len(POLICY))
    ranking = _ranking([*clauses[:3], policy, *clauses[3:]])

    capped = select_sources(ranking, _rules(per_document=2), _words)
    # Clause 3 ranked third but the contract had given its two; the policy came next.
    assert [(s.document_id, s.start) for s in capped] == [
        ("nda", _clause(1)[0]),
        ("nda", _clause(2)[0]),
        ("policy", 0),
    ]

    gapped = [_chunk("nda", CONTRACT, *_clause(n)) for n in (1, 3, 5)]
    few = select_sources(_ranking([*gapped, policy]), _rules(max_sources=2), _words)
    assert len(few) == 2 and {s.document_id for s in few} == {"nda"}


def test_diversity_passes_over_a_near_duplicate_when_asked() -> None:
    first = _chunk("nda", CONTRACT, *_clause(2))
    repeat = _chunk("other-nda", CONTRACT, *_clause(2))  # the same clause in another NDA
    different = _chunk("policy", POLICY, 0, len(POLICY))
    vectors = {first.id: [1.0, 0.0], repeat.id: [0.99, 0.05], different.id: [0.0, 1.0]}
    ranking = _ranking([first, repeat, different], vectors)

    in_rank_order = select_sources(ranking, _rules(max_sources=2), _words)
    assert [s.document_id for s in in_rank_order] == ["nda", "other-nda"]
    varied = select_sources(ranking, _rules(max_sources=2, diversity=0.5), _words)
    assert [s.document_id for s in varied] == ["nda", "policy"]
    assert varied[1].rank == 2
