"""Retrieval: dense and BM25 stages over the chunk store, fused, reranked, selected.

- :mod:`.retriever`: the orchestration (:class:`Retriever`);
- :mod:`.bm25`: the BM25 index and its on-disk cache;
- :mod:`.exact`: exact dense search over cached vectors (filtered questions);
- :mod:`.fusion`: reciprocal rank fusion and the named-state ranking;
- :mod:`.selection`: which ranked chunks become sources, merged into exact spans;
- :mod:`.passages`: what a retrieval returns.

Built from settings by :func:`legalrag.factory.open_retriever`.
"""

from legalrag.app.retrieval.bm25 import BM25Hit, BM25Index, fingerprint
from legalrag.app.retrieval.exact import exact_dense_search
from legalrag.app.retrieval.fusion import Ranking, fuse
from legalrag.app.retrieval.passages import RetrievalResult, RetrievedPassage, StageScores
from legalrag.app.retrieval.retriever import Retriever
from legalrag.app.retrieval.selection import SelectionRules, select_sources
from legalrag.store import Filters

__all__ = [
    "BM25Hit",
    "BM25Index",
    "Filters",
    "Ranking",
    "RetrievalResult",
    "RetrievedPassage",
    "Retriever",
    "SelectionRules",
    "StageScores",
    "exact_dense_search",
    "fingerprint",
    "fuse",
    "select_sources",
]
