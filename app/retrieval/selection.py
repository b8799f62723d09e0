"""Source selection: which ranked chunks a model is handed, within the context budget.

The ranking finds the evidence; selection decides what the model reads. One
source per document suits short forum posts and throws evidence away on long
documents (a contract's answer sits in three clauses, not one), so selection
works by passage:

- the best-ranked chunks are taken greedily until the token budget or the
  number of sources is reached, several from one document when they rank;
- a per-document cap and a diversity rule (maximal marginal relevance, over the
  index's own vectors) keep one document or one repeated clause from filling it;
- chunks of one document that overlap or touch are merged into one exact span
  (``document[start:end] == text``; chunks with a gap between them stay apart,
  as the gap's characters were never retrieved);
- sources are handed over grouped by document, documents in order of their best
  passage, each document's passages in document order, so the model reads a
  contract's clauses as the contract has them. ``rank`` keeps the order of merit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from legalrag.app.retrieval.fusion import Ranking
from legalrag.app.retrieval.passages import RetrievedPassage
from legalrag.store import StoredChunk
from legalrag.store.schema import pages_of


@dataclass(frozen=True)
class SelectionRules:
    """How many sources, how much text, and how varied."""

    max_sources: int
    budget_tokens: int
    per_document: int  # chunks at most from one document
    diversity: float  # MMR's weight on novelty: 0 = rank order only, 1 = novelty only
    rrf_k: int  # the fusion's constant, to turn a place in the ranking into relevance


@dataclass
class _Span:
    """One merged run of selected chunks of a document."""

    start: int
    end: int
    text: str
    chunk_ids: list[str]
    merit: int  # place in the selection of its best chunk (0: chosen first)


def _merge(chunks: Sequence[StoredChunk], merit: dict[str, int]) -> list[_Span]:
    """A document's selected chunks as disjoint exact spans, in document order."""
    spans: list[_Span] = []
    for chunk in sorted(chunks, key=lambda c: (c.metadata.start, c.metadata.end)):
        start, end = chunk.metadata.start, chunk.metadata.end
        last = spans[-1] if spans else None
        if last is not None and start <= last.end:
            if end > last.end:
                last.text += chunk.text[last.end - start :]
                last.end = end
            last.chunk_ids.append(chunk.id)
            last.merit = min(last.merit, merit[chunk.id])
            continue
        spans.append(_Span(start, end, chunk.text, [chunk.id], merit[chunk.id]))
    return spans


class _Selection:
    """The chunks chosen so far, per document, and what they cost."""

    def __init__(self, count_tokens: Callable[[str], int]) -> None:
        self.count_tokens = count_tokens
        self.by_document: dict[str, list[StoredChunk]] = {}
        self.merit: dict[str, int] = {}
        self.cost: dict[str, int] = {}  # tokens of each document's merged spans
        self.spans: dict[str, int] = {}

    @property
    def tokens(self) -> int:
        return sum(self.cost.values())

    @property
    def sources(self) -> int:
        return sum(self.spans.values())

    def trial(self, chunk: StoredChunk) -> tuple[int, int]:
        """(tokens, sources) of the whole selection if ``chunk`` were added."""
        document_id = chunk.metadata.document_id
        chunks = [*self.by_document.get(document_id, []), chunk]
        merit = {**self.merit, chunk.id: len(self.merit)}
        spans = _merge(chunks, merit)
        cost = sum(self.count_tokens(s.text) for s in spans)
        tokens = self.tokens - self.cost.get(document_id, 0) + cost
        sources = self.sources - self.spans.get(document_id, 0) + len(spans)
        return tokens, sources

    def add(self, chunk: StoredChunk) -> None:
        document_id = chunk.metadata.document_id
        self.merit[chunk.id] = len(self.merit)
        chunks = self.by_document.setdefault(document_id, [])
        chunks.append(chunk)
        spans = _merge(chunks, self.merit)
        self.cost[document_id] = sum(self.count_tokens(s.text) for s in spans)
        self.spans[document_id] = len(spans)


def _unit(vector: Sequence[float] | None) -> np.ndarray | None:
    if vector is None:
        return None
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else None


def select_sources(
    ranking: Ranking,
    rules: SelectionRules,
    count_tokens: Callable[[str], int],
) -> list[RetrievedPassage]:
    """The sources for a ranking: merged exact spans, grouped by document, within budget.

    The first chunk is always given (a model handed nothing cannot say the sources
    are silent); after that, a chunk that would break the budget, the number of
    sources or its document's cap is passed over and the next one tried.
    """
    pool = [c for c in ranking.ranked if c in ranking.found]
    # Relevance from the place in the final ranking (after any reranker), on the
    # fusion's own reciprocal-rank curve: 1.0 for the first chunk.
    relevance = {c: (rules.rrf_k + 1) / (rules.rrf_k + place) for place, c in enumerate(pool, 1)}
    units = {c: _unit(ranking.vectors.get(c)) for c in pool} if rules.diversity > 0 else {}
    chosen: list[np.ndarray] = []
    selection = _Selection(count_tokens)
    per_document: dict[str, int] = {}
    while pool:
        chunk_id = _next(pool, relevance, units, chosen, rules.diversity)
        pool.remove(chunk_id)
        chunk = ranking.found[chunk_id]
        document_id = chunk.metadata.document_id
        if per_document.get(document_id, 0) >= rules.per_document:
            continue
        tokens, sources = selection.trial(chunk)
        if selection.merit and (tokens > rules.budget_tokens or sources > rules.max_sources):
            continue
        selection.add(chunk)
        per_document[document_id] = per_document.get(document_id, 0) + 1
        if units.get(chunk_id) is not None:
            chosen.append(units[chunk_id])
    return _passages(selection, ranking)


def _next(
    pool: list[str],
    relevance: dict[str, float],
    units: dict[str, np.ndarray | None],
    chosen: list[np.ndarray],
    diversity: float,
) -> str:
    """The candidate with the best marginal relevance (rank order when diversity is 0)."""
    if diversity <= 0 or not chosen:
        return pool[0]
    picked = np.stack(chosen)

    def marginal(chunk_id: str) -> float:
        unit = units.get(chunk_id)
        redundancy = 0.0 if unit is None else float(np.max(picked @ unit))
        return (1 - diversity) * relevance[chunk_id] - diversity * redundancy

    return max(pool, key=marginal)


def _passages(selection: _Selection, ranking: Ranking) -> list[RetrievedPassage]:
    spans_of = {
        document_id: _merge(chunks, selection.merit)
        for document_id, chunks in selection.by_document.items()
    }
    merit_order = sorted(s.merit for spans in spans_of.values() for s in spans)
    rank_of = {merit: rank for rank, merit in enumerate(merit_order, start=1)}
    documents = sorted(spans_of, key=lambda d: min(s.merit for s in spans_of[d]))
    passages: list[RetrievedPassage] = []
    for document_id in documents:
        for span in spans_of[document_id]:
            best = min(span.chunk_ids, key=lambda c: selection.merit[c])
            chunk = ranking.found[best]
            # The section path is that of the span's first character.
            opening = min(
                (ranking.found[c] for c in span.chunk_ids), key=lambda c: c.metadata.start
            )
            # Its pages run from the first chunk's first to the last one's last.
            meta = replace(
                chunk.metadata.with_span(span.start, span.end),
                section=opening.metadata.section,
                **pages_of([ranking.found[c].metadata for c in span.chunk_ids]),
            )
            merged = StoredChunk(best, span.text, meta, chunk.vector)
            passages.append(
                RetrievedPassage.of(
                    merged,
                    ranking.stages(best),
                    ranking.vectors_of(span.chunk_ids),
                    rank=rank_of[span.merit],
                )
            )
    return passages
