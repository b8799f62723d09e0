"""Retrieval of passages from the index for a question (dense stage)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from legalrag.embedding import Embedder


@dataclass(frozen=True)
class RetrievedPassage:
    """A chunk returned for a question, with where it sits in its document."""

    id: str
    document_id: str
    text: str
    score: float
    title: str = ""
    url: str = ""
    jurisdiction: str = ""
    topic: str = ""
    created: str = ""
    start: int = 0
    end: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json."""
        return asdict(self)


def retrieve_dense(
    collection: Collection,
    embedder: Embedder,
    question: str,
    *,
    k: int,
    where: dict[str, Any] | None = None,
) -> list[RetrievedPassage]:
    """The ``k`` chunks nearest the question; score is cosine similarity."""
    result = collection.query(
        query_embeddings=[embedder.embed_query(question)],
        n_results=k,
        where=where,
        include=["documents", "metadatas", "distances"],
    )
    passages = []
    for chunk_id, text, meta, distance in zip(
        result["ids"][0],
        (result["documents"] or [[]])[0],
        (result["metadatas"] or [[]])[0],
        (result["distances"] or [[]])[0],
        strict=True,
    ):
        passages.append(
            RetrievedPassage(
                id=chunk_id,
                document_id=str(meta.get("document_id", "")),
                text=text or "",
                score=round(1.0 - float(distance), 4),
                title=str(meta.get("title", "")),
                url=str(meta.get("url", "")),
                jurisdiction=str(meta.get("jurisdiction", "")),
                topic=str(meta.get("topic", "")),
                created=str(meta.get("created", "")),
                start=int(meta.get("start", 0)),
                end=int(meta.get("end", 0)),
            )
        )
    return passages
