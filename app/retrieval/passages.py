"""What retrieval returns: passages with where they sit and how each stage scored them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from legalrag.store import Filters, StoredChunk
from legalrag.store.schema import DocumentSpan


@dataclass(frozen=True)
class StageScores:
    """How one chunk fared in each stage (None: the stage did not return it)."""

    fused: float
    dense: float | None = None
    dense_rank: int | None = None
    bm25: float | None = None
    bm25_rank: int | None = None
    rerank: float | None = None


@dataclass(frozen=True, kw_only=True)
class RetrievedPassage(DocumentSpan):
    """A chunk (or merged chunks) returned for a question, with where it sits in its
    document: ``document.text[start:end] == text``."""

    id: str
    text: str
    score: float
    stages: StageScores | None = None
    # Where source selection chose it (1: first). Sources are handed over grouped by
    # document and in document order; this keeps the order of merit beside that.
    rank: int | None = None
    # The index's own vectors of the chunks ``text`` is made of (one, or several once
    # merged with overlapping siblings): verification scores a sentence against them
    # instead of embedding the passage again.
    vectors: tuple[Sequence[float], ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(
        cls,
        chunk: StoredChunk,
        stages: StageScores,
        vectors: tuple[Sequence[float], ...] = (),
        rank: int | None = None,
    ) -> RetrievedPassage:
        """The passage for a stored chunk (its text and span as given)."""
        return cls(
            **chunk.metadata.span_facts(),
            id=chunk.id,
            text=chunk.text,
            score=round(stages.fused, 6),
            stages=stages,
            vectors=vectors,
            rank=rank,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json (without the vectors; ``page`` and ``pages`` only for
        a paged document's passage, never a page 0; ``matter`` only for a matter's)."""
        data = asdict(self)
        del data["vectors"]
        if not self.page:
            del data["page"], data["pages"]
        if not self.matter:  # the public corpus: as before matters
            del data["matter"]
        return data


@dataclass
class RetrievalResult:
    """Sources for one question, or why there are none."""

    question: str
    passages: list[RetrievedPassage] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    refused: bool = False
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json (sources numbered from 1)."""
        return {
            "question": self.question,
            "refused": self.refused,
            "reason": self.reason,
            "filters": self.filters.describe(),
            "sources": [{"marker": n, **p.as_dict()} for n, p in enumerate(self.passages, 1)],
        }
