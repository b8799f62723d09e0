"""Reciprocal rank fusion, the named-state ranking, and the fused ranking itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from legalrag.app.jurisdictions import named_jurisdictions
from legalrag.app.retrieval.passages import StageScores
from legalrag.store import StoredChunk

FEDERAL = "US"
"""Federal rules apply in every state: they join any named-state ranking."""


def fuse(
    rankings: list[list[str]], rrf_k: int, weights: list[float] | None = None
) -> dict[str, float]:
    """Reciprocal rank fusion: each list adds weight/(rrf_k + rank) to its items."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return fused


def named_state_ranking(
    question: str, candidates: Sequence[str], found: dict[str, StoredChunk]
) -> list[str]:
    """The candidates from the states ``question`` names in full ("a California
    landlord") and federal ones, in candidate order; [] when it names none."""
    named = named_jurisdictions(question)
    if not named:
        return []
    named.add(FEDERAL)
    local: list[str] = []
    for chunk_id in candidates:
        chunk = found.get(chunk_id)
        if chunk is not None and chunk.metadata.jurisdiction in named and chunk_id not in local:
            local.append(chunk_id)
    return local


@dataclass
class Ranking:
    """The fused (and reranked) chunk ranking, with what scored each chunk."""

    ranked: list[str]
    fused: dict[str, float]
    found: dict[str, StoredChunk]
    dense_hits: dict[str, tuple[float, int]]
    bm25_hits: dict[str, tuple[float, int]]
    reranked: dict[str, float]
    vectors: dict[str, Sequence[float]]

    def vectors_of(self, chunk_ids: Sequence[str]) -> tuple[Sequence[float], ...]:
        """The index's vectors of those chunks (each one the index returned)."""
        return tuple(self.vectors[c] for c in chunk_ids if c in self.vectors)

    def stages(self, chunk_id: str) -> StageScores:
        """The chunk's score and rank in each stage."""
        dense = self.dense_hits.get(chunk_id)
        bm25 = self.bm25_hits.get(chunk_id)
        rerank = self.reranked.get(chunk_id)
        return StageScores(
            fused=self.fused[chunk_id],
            dense=None if dense is None else round(dense[0], 4),
            dense_rank=None if dense is None else dense[1],
            bm25=None if bm25 is None else round(bm25[0], 4),
            bm25_rank=None if bm25 is None else bm25[1],
            rerank=None if rerank is None else round(rerank, 4),
        )
