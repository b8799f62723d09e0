"""Retrieval metrics: ranked document ids against gold ids, and character spans.

Document metrics (binary relevance): recall@k and precision@k count the gold
documents among the first k distinct documents; MRR is the reciprocal rank of the
first gold document within the ranking; nDCG@k uses the usual log2 discount, with
the ideal ranking putting every gold document first.

Span metrics follow LegalBench-RAG (Pipitone & Houir Alami, 2024): take the first
k retrieved chunks, each a (document, start, end) span; precision is the share of
retrieved characters that lie in a gold span, recall the share of gold characters
that were retrieved. Characters are counted once: our chunks overlap (the chunker
repeats ``chunk_overlap`` tokens), and counting a repeated character twice would
reward the overlap rather than the retrieval.

Budget recall measures selection rather than ranking: of the sources a model is
handed, taken in rank order, the first N characters (the last source cut short)
are the span set, and recall is computed on it as above. Where gold is whole
documents (no spans), it is the share of gold documents with a character inside
the first N.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Span = tuple[str, int, int]  # (document id, start, end), end exclusive


def distinct(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order, each once (a chunk ranking -> a document ranking)."""
    return list(dict.fromkeys(ids))


def recall_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Share of the gold documents among the first ``k``."""
    return len(gold.intersection(ranked[:k])) / len(gold)


def precision_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Share of the first ``k`` places held by gold documents (k, not len, is the base)."""
    return len(gold.intersection(ranked[:k])) / k


def reciprocal_rank(ranked: Sequence[str], gold: set[str]) -> float:
    """1 / rank of the first gold document; 0 when none was retrieved."""
    for rank, document_id in enumerate(ranked, start=1):
        if document_id in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance."""
    gain = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if d in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), k)))
    return gain / ideal


def _union(spans: Iterable[Span]) -> dict[str, list[tuple[int, int]]]:
    """Per document, the spans merged into disjoint sorted intervals."""
    by_document: dict[str, list[tuple[int, int]]] = {}
    for document_id, start, end in sorted(spans):
        if end <= start:
            continue
        merged = by_document.setdefault(document_id, [])
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return by_document


def _length(intervals: dict[str, list[tuple[int, int]]]) -> int:
    return sum(end - start for spans in intervals.values() for start, end in spans)


def _overlap(a: dict[str, list[tuple[int, int]]], b: dict[str, list[tuple[int, int]]]) -> int:
    total = 0
    for document_id, spans in a.items():
        for start, end in spans:
            for other_start, other_end in b.get(document_id, ()):
                total += max(0, min(end, other_end) - max(start, other_start))
    return total


def span_precision_recall(retrieved: Iterable[Span], gold: Iterable[Span]) -> tuple[float, float]:
    """(precision, recall) of retrieved character spans against gold ones.

    Nothing retrieved: precision 0 (LegalBench-RAG's convention), recall 0.
    """
    got, wanted = _union(retrieved), _union(gold)
    hit = _overlap(got, wanted)
    got_chars, wanted_chars = _length(got), _length(wanted)
    precision = hit / got_chars if got_chars else 0.0
    recall = hit / wanted_chars if wanted_chars else 0.0
    return precision, recall


def spans_overlap(span: Span, gold: Iterable[Span]) -> bool:
    """Whether ``span`` shares at least one character with a gold span."""
    document_id, start, end = span
    return any(d == document_id and min(end, e) > max(start, s) for d, s, e in gold)


def within_budget(spans: Sequence[Span], chars: int) -> list[Span]:
    """The first ``chars`` characters of ``spans`` in order, the last span cut short."""
    kept: list[Span] = []
    left = chars
    for document_id, start, end in spans:
        if left <= 0:
            break
        take = min(end - start, left)
        kept.append((document_id, start, start + take))
        left -= take
    return kept


def budget_recall(sources: Sequence[Span], gold: Iterable[Span], chars: int) -> float:
    """Share of gold characters inside the first ``chars`` characters of ``sources``."""
    return span_precision_recall(within_budget(sources, chars), gold)[1]


def budget_document_recall(sources: Sequence[Span], gold: set[str], chars: int) -> float:
    """Share of gold documents with a character inside the first ``chars`` of ``sources``."""
    return len(gold.intersection(d for d, _, _ in within_budget(sources, chars))) / len(gold)
