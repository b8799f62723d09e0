"""The retriever: dense and BM25 stages over one store, fused by reciprocal rank,
optionally reranked, then the sources chosen within the context budget.

Each stage can be switched off in settings; every result keeps each stage's score
and rank, so a lawyer or an engineer can see why a source was chosen. Metadata
filters apply to both stages, and a filter that matches nothing returns nothing:
it never falls back to the whole corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from legalrag.app.refusal import REFUSAL
from legalrag.app.retrieval.bm25 import BM25Index
from legalrag.app.retrieval.exact import exact_dense_search
from legalrag.app.retrieval.fusion import Ranking, fuse, named_state_ranking
from legalrag.app.retrieval.naming import NamingRules
from legalrag.app.retrieval.passages import RetrievalResult, RetrievedPassage, StageScores
from legalrag.app.retrieval.selection import SelectionRules, select_sources
from legalrag.store import ChunkStore, Filters, StoredChunk

if TYPE_CHECKING:
    from legalrag.app.reranking import Reranker
    from legalrag.embedding import Embedder
    from legalrag.settings import RetrievalSettings


@dataclass
class _Candidates:
    """What the stages found for one question, before fusion."""

    found: dict[str, StoredChunk] = field(default_factory=dict)
    dense_hits: dict[str, tuple[float, int]] = field(default_factory=dict)
    bm25_hits: dict[str, tuple[float, int]] = field(default_factory=dict)
    vectors: dict[str, Sequence[float]] = field(default_factory=dict)
    query_vector: Sequence[float] | None = None
    named: list[str] = field(default_factory=list)  # chunks of the documents named

    def keep(self, chunk: StoredChunk) -> None:
        self.found[chunk.id] = chunk
        if chunk.vector is not None:
            self.vectors[chunk.id] = chunk.vector


def _behind_the_wall(candidates: _Candidates, filters: Filters) -> None:
    """Drop any candidate outside the asker's matters. Each stage searched within them
    already; this keeps a chunk another way found (a store's own filter, a cache out
    of date with a move between matters) from ever reaching fusion or the sources."""
    readable = filters.readable_matters()
    if not readable:
        return
    walled = [c for c, chunk in candidates.found.items() if chunk.metadata.matter not in readable]
    for chunk_id in walled:
        del candidates.found[chunk_id]
        candidates.vectors.pop(chunk_id, None)
        candidates.dense_hits.pop(chunk_id, None)
        candidates.bm25_hits.pop(chunk_id, None)
    if walled:
        candidates.named = [c for c in candidates.named if c in candidates.found]


class Retriever:
    """Finds the sources for a question in one chunk store."""

    def __init__(
        self,
        settings: RetrievalSettings,
        store: ChunkStore,
        embedder: Embedder | None,
        bm25: Callable[[], BM25Index] | None,
        count_tokens: Callable[[str], int],
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder if settings.dense else None
        self._bm25_factory = bm25 if settings.bm25 else None
        self._bm25: BM25Index | None = None
        self.count_tokens = count_tokens
        self.reranker = reranker
        self.wall: frozenset[str] | None = None
        """The matters every search of this retriever stays within (beside the public
        corpus), whatever its filters say: a process acting as one user (``eval
        --user``) sets it once. None: only the filters' own ``scope`` applies."""

    @property
    def bm25(self) -> BM25Index | None:
        """The BM25 index, built or loaded on first use."""
        if self._bm25 is None and self._bm25_factory is not None:
            self._bm25 = self._bm25_factory()
        return self._bm25

    def reload_bm25(self) -> None:
        """Rebuild the BM25 index from the store now (after documents were added to it:
        the next question must find them). A question already running keeps the index
        it began with."""
        if self._bm25_factory is not None:
            self._bm25 = self._bm25_factory()

    def retrieve(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        gate: bool = True,
    ) -> RetrievalResult:
        """Up to ``k`` sources within the context budget (see :mod:`.selection`).

        ``gate=False`` as for :meth:`rank_chunks` (an evaluation of selection alone).
        """
        k = k or self.settings.retrieve_k
        result = RetrievalResult(question=question, filters=self._walled(filters))
        ranking = self._rank(result, gate=gate)
        if ranking is not None:
            result.passages = self._select(ranking, k)
        return result

    def rank_chunks(
        self, question: str, *, depth: int, filters: Filters | None = None, gate: bool = True
    ) -> RetrievalResult:
        """The fused ranking itself: up to ``depth`` chunks, best first, each its own span.

        Unlike :meth:`retrieve`, a document may come several times and there is no
        token budget: this is what an evaluation scores (LegalBench-RAG ranks chunks,
        and recall@k needs a ranking deeper than the sources a model is given). With
        ``gate=False`` the relevance gate's verdict is still set on the result
        (``refused``, ``reason``) but the ranking is returned anyway.
        """
        result = RetrievalResult(question=question, filters=self._walled(filters))
        ranking = self._rank(result, gate=gate)
        if ranking is not None:
            result.passages = [
                RetrievedPassage.of(
                    ranking.found[chunk_id],
                    ranking.stages(chunk_id),
                    ranking.vectors_of([chunk_id]),
                )
                for chunk_id in ranking.ranked[:depth]
            ]
        return result

    def _walled(self, filters: Filters | None) -> Filters:
        """``filters`` within :attr:`wall` too (the narrower of the two scopes)."""
        filters = filters or Filters()
        if self.wall is None:
            return filters
        scope = self.wall if filters.scope is None else filters.scope & self.wall
        return filters.within(scope)

    # --- the stages -------------------------------------------------------------------

    def _rank(self, result: RetrievalResult, *, gate: bool) -> Ranking | None:
        """Both stages fused (and reranked): the ranked chunk ids and what scored them.

        None when nothing may be returned: filters that match nothing, or the gate.
        """
        question, filters = result.question, result.filters
        described = filters.describe()
        # Said the same whether a chosen matter exists or is walled off: never which.
        nothing_matches = (
            f"No indexed passage matches the filters ({described})."
            if described
            else "No indexed passage is open to this search."
        )
        bm25 = self.bm25
        # BM25 applies the filters to its own copy of the metadata: asking the store
        # for the ids they allow doubled the cost of a filtered question.
        allowed = None if bm25 is None else filters.mask(bm25.columns)
        if allowed is not None and not allowed.any():
            result.reason = nothing_matches
            return None
        store_filters: Filters | None = None if filters.empty else filters
        if allowed is not None and allowed.all():
            # A scope that walls nothing off here (an index of public documents alone):
            # the unfiltered search, as fast as before matters.
            allowed, store_filters = None, None

        candidates = _Candidates()
        if self.embedder is not None:
            self._dense_stage(question, store_filters, allowed, candidates)
            _behind_the_wall(candidates, filters)  # before the gate reads their scores
            if not filters.empty and not candidates.dense_hits and bm25 is None:
                result.reason = nothing_matches
                return None
            # The gate needs calibrated scores: cosine similarity, not BM25's.
            best = max((score for score, _ in candidates.dense_hits.values()), default=-1.0)
            if best < self.settings.relevance_floor:
                result.refused = True
                result.reason = REFUSAL
                if gate:
                    return None
        if bm25 is not None:
            self._bm25_stage(question, bm25, allowed, candidates)
            if self.settings.document_naming and bm25.names is not None:
                readable = (
                    None if allowed is None else Filters(scope=filters.scope).mask(bm25.columns)
                )
                self._named_stage(question, bm25, allowed, readable, candidates)
        _behind_the_wall(candidates, filters)
        return self._fuse(question, candidates)

    def _dense_stage(
        self,
        question: str,
        filters: Filters | None,
        allowed: np.ndarray | None,
        candidates: _Candidates,
    ) -> None:
        assert self.embedder is not None
        query_vector = self.embedder.embed_query(question)
        candidates.query_vector = query_vector
        k = self.settings.candidates
        bm25 = self.bm25
        if allowed is not None and bm25 is not None and bm25.vectors is not None:
            # The store evaluates a filter chunk by chunk before its search; an exact
            # search over the allowed chunks' cached vectors takes milliseconds.
            best = exact_dense_search(bm25.vectors, query_vector, allowed, k)
            rows = {bm25.chunk_ids[row]: (row, score) for row, score in best}
            # Only texts and metadata: the vectors are the cached ones just searched.
            got = self.store.get(list(rows))
            for rank, chunk_id in enumerate((c for c in rows if c in got), start=1):
                row, score = rows[chunk_id]
                candidates.dense_hits[chunk_id] = (score, rank)
                candidates.found[chunk_id] = got[chunk_id]
                candidates.vectors[chunk_id] = bm25.vectors[row]
            return
        hits = self.store.query(query_vector, k, filters, with_vectors=True)
        for rank, hit in enumerate(hits, start=1):
            candidates.dense_hits[hit.chunk.id] = (hit.similarity, rank)
            candidates.keep(hit.chunk)

    def _bm25_stage(
        self, question: str, bm25: BM25Index, allowed: np.ndarray | None, candidates: _Candidates
    ) -> None:
        for hit in bm25.search(question, self.settings.candidates, allowed):
            candidates.bm25_hits[hit.chunk_id] = (hit.score, hit.rank)
        missing = [c for c in candidates.bm25_hits if c not in candidates.found]
        if missing:
            got = self.store.get(missing, with_vectors=self.embedder is not None)
            for chunk in got.values():
                candidates.keep(chunk)

    def _named_stage(
        self,
        question: str,
        bm25: BM25Index,
        allowed: np.ndarray | None,
        readable: np.ndarray | None,
        candidates: _Candidates,
    ) -> None:
        """Both stages again, within the documents the question names (see naming.py),
        named among the ``readable`` documents only (the asker's scope)."""
        assert bm25.names is not None
        rules = NamingRules(
            self.settings.document_naming_rare_share, self.settings.document_naming_max
        )
        documents = bm25.names.named(question, rules, readable)
        if not documents:
            return
        inside = bm25.names.chunk_mask(documents)
        if allowed is not None:
            inside &= allowed
        if not inside.any():
            return
        k = self.settings.candidates
        rankings = [[hit.chunk_id for hit in bm25.search(question, k, inside)]]
        if candidates.query_vector is not None and bm25.vectors is not None:
            best = exact_dense_search(bm25.vectors, candidates.query_vector, inside, k)
            rankings.append([bm25.chunk_ids[row] for row, _ in best])
        fused = fuse(rankings, self.settings.rrf_k, [1.0] * len(rankings))
        candidates.named = sorted(fused, key=lambda c: -fused[c])
        missing = [c for c in candidates.named if c not in candidates.found]
        if missing:
            got = self.store.get(missing, with_vectors=self.embedder is not None)
            for chunk in got.values():
                candidates.keep(chunk)

    def _fuse(self, question: str, candidates: _Candidates) -> Ranking:
        dense, bm25 = candidates.dense_hits, candidates.bm25_hits
        rankings = [
            sorted(dense, key=lambda c: dense[c][1]),
            sorted(bm25, key=lambda c: bm25[c][1]),
        ]
        weights = [1.0, 1.0]
        if self.settings.jurisdiction_boost:
            local = named_state_ranking(question, rankings[0] + rankings[1], candidates.found)
            if local:
                rankings.append(local)
                weights.append(self.settings.jurisdiction_boost_weight)
        if candidates.named:
            rankings.append(candidates.named)
            weights.append(self.settings.document_naming_weight)
        fused = fuse(rankings, self.settings.rrf_k, weights)
        ranked = [c for c in sorted(fused, key=lambda c: -fused[c]) if c in candidates.found]
        reranked = self._rerank(question, ranked, candidates.found) if self.reranker else {}
        if reranked:
            head = sorted(reranked, key=lambda c: (-reranked[c], -fused[c]))
            ranked = head + [c for c in ranked if c not in reranked]
        return Ranking(ranked, fused, candidates.found, dense, bm25, reranked, candidates.vectors)

    def _rerank(
        self, question: str, ranked: list[str], found: dict[str, StoredChunk]
    ) -> dict[str, float]:
        """Reranker scores for the best fused candidates."""
        assert self.reranker is not None
        head = ranked[: self.settings.rerank_candidates]
        passages = [RetrievedPassage.of(found[c], StageScores(fused=0.0)) for c in head]
        return dict(zip(head, self.reranker.scores(question, passages), strict=True))

    # --- choosing the sources ---------------------------------------------------------

    def _select(self, ranking: Ranking, k: int) -> list[RetrievedPassage]:
        rules = SelectionRules(
            max_sources=k,
            budget_tokens=self.settings.context_max_tokens,
            per_document=self.settings.source_per_document,
            diversity=self.settings.source_diversity,
            rrf_k=self.settings.rrf_k,
        )
        return select_sources(ranking, rules, self.count_tokens)
