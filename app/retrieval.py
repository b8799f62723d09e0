"""Retrieval: dense and BM25 stages, fused by reciprocal rank, grouped by document.

Each stage can be switched off in settings; every result keeps each stage's score
and rank, so a lawyer or an engineer can see why a source was chosen. Metadata
filters apply to both stages, and a filter that matches nothing returns nothing:
it never falls back to the whole corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from legalrag.app.jurisdictions import named_jurisdictions
from legalrag.index import cannot_return_embeddings

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from legalrag.app.lexical import LexicalIndex
    from legalrag.app.reranking import Reranker
    from legalrag.embedding import Embedder
    from legalrag.settings import Settings

NOT_ADDRESSED = "The retrieved sources do not address this question."


@dataclass(frozen=True)
class Filters:
    """Metadata restrictions on what may be retrieved."""

    jurisdiction: str | None = None
    topic: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def where(self) -> dict[str, Any] | None:
        """The same restrictions in Chroma's filter language."""
        clauses: list[dict[str, Any]] = []
        if self.jurisdiction:
            clauses.append({"jurisdiction": self.jurisdiction.upper()})
        if self.topic:
            clauses.append({"topic": self.topic})
        if self.date_from:
            clauses.append({"created_day": {"$gte": int(self.date_from.strftime("%Y%m%d"))}})
        if self.date_to:
            clauses.append({"created_day": {"$lte": int(self.date_to.strftime("%Y%m%d"))}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def mask(self, columns: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """The same restrictions over metadata arrays (see ``lexical.FILTER_COLUMNS``):
        True where a chunk passes, as :meth:`where` would in Chroma; None: no filter.
        A chunk without the field never passes a restriction on it."""
        if self.where() is None:
            return None
        keep = np.ones(len(columns["created_day"]), dtype=bool)
        if self.jurisdiction:
            keep &= columns["jurisdiction"] == self.jurisdiction.upper()
        if self.topic:
            keep &= columns["topic"] == self.topic
        day = columns["created_day"]
        if self.date_from:
            keep &= (day != -1) & (day >= int(self.date_from.strftime("%Y%m%d")))
        if self.date_to:
            keep &= (day != -1) & (day <= int(self.date_to.strftime("%Y%m%d")))
        return keep

    def describe(self) -> str:
        """e.g. ``jurisdiction=CA, from 2019-01-01``."""
        parts = []
        if self.jurisdiction:
            parts.append(f"jurisdiction={self.jurisdiction.upper()}")
        if self.topic:
            parts.append(f"topic={self.topic}")
        if self.date_from:
            parts.append(f"from {self.date_from.isoformat()}")
        if self.date_to:
            parts.append(f"to {self.date_to.isoformat()}")
        return ", ".join(parts)


@dataclass(frozen=True)
class StageScores:
    """How one chunk fared in each stage (None: the stage did not return it)."""

    fused: float
    dense: float | None = None
    dense_rank: int | None = None
    bm25: float | None = None
    bm25_rank: int | None = None
    rerank: float | None = None


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
    stages: StageScores | None = None
    # The index's own vectors of the chunks ``text`` is made of (one, or several once
    # merged with overlapping siblings): verification scores a sentence against them
    # instead of embedding the passage again.
    vectors: tuple[Sequence[float], ...] = field(default=(), repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json (without the vectors)."""
        data = asdict(self)
        del data["vectors"]
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


def _passage(
    chunk_id: str,
    text: str,
    meta: dict[str, Any],
    stages: StageScores,
    vectors: tuple[Sequence[float], ...] = (),
) -> RetrievedPassage:
    return RetrievedPassage(
        id=chunk_id,
        document_id=str(meta.get("document_id", "")),
        text=text,
        score=round(stages.fused, 6),
        title=str(meta.get("title", "")),
        url=str(meta.get("url", "")),
        jurisdiction=str(meta.get("jurisdiction", "")),
        topic=str(meta.get("topic", "")),
        created=str(meta.get("created", "")),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        stages=stages,
        vectors=vectors,
    )


@dataclass
class _Ranking:
    """The fused (and reranked) chunk ranking, with what scored each chunk."""

    ranked: list[str]
    fused: dict[str, float]
    found: dict[str, tuple[str, dict[str, Any]]]
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
        lexical = self.bm25_hits.get(chunk_id)
        rerank = self.reranked.get(chunk_id)
        return StageScores(
            fused=self.fused[chunk_id],
            dense=None if dense is None else round(dense[0], 4),
            dense_rank=None if dense is None else dense[1],
            bm25=None if lexical is None else round(lexical[0], 4),
            bm25_rank=None if lexical is None else lexical[1],
            rerank=None if rerank is None else round(rerank, 4),
        )


def fuse(
    rankings: list[list[str]], rrf_k: int, weights: list[float] | None = None
) -> dict[str, float]:
    """Reciprocal rank fusion: each list adds weight/(rrf_k + rank) to its items."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf_k + rank)
    return fused


class Retriever:
    """Finds the sources for a question in one collection."""

    def __init__(
        self,
        settings: Settings,
        collection: Collection,
        embedder: Embedder | None,
        lexical: Callable[[], LexicalIndex] | None,
        count_tokens: Callable[[str], int],
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.collection = collection
        self.embedder = embedder if settings.retrieval_dense else None
        self._lexical_factory = lexical if settings.retrieval_bm25 else None
        self._lexical: LexicalIndex | None = None
        self.count_tokens = count_tokens
        self.reranker = reranker
        self._server_sends_vectors = True

    def _chroma(self, call: Callable[[list[str]], Any], include: list[str]) -> Any:
        """``call(include)``, without "embeddings" from the first time the server cannot
        send them (then verification embeds the sources itself)."""
        if self._server_sends_vectors or "embeddings" not in include:
            try:
                return call(include)
            except Exception as exc:
                if "embeddings" not in include or not cannot_return_embeddings(exc):
                    raise
                self._server_sends_vectors = False
        return call([part for part in include if part != "embeddings"])

    @property
    def lexical(self) -> LexicalIndex | None:
        """The BM25 index, built or loaded on first use."""
        if self._lexical is None and self._lexical_factory is not None:
            self._lexical = self._lexical_factory()
        return self._lexical

    def retrieve(
        self, question: str, *, k: int | None = None, filters: Filters | None = None
    ) -> RetrievalResult:
        """Up to ``k`` sources from distinct documents, best first."""
        k = k or self.settings.retrieve_k
        result = RetrievalResult(question=question, filters=filters or Filters())
        ranking = self._rank(result, gate=True)
        if ranking is not None:
            result.passages = self._distinct_documents(ranking, k)
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
        result = RetrievalResult(question=question, filters=filters or Filters())
        ranking = self._rank(result, gate=gate)
        if ranking is not None:
            result.passages = [
                _passage(
                    chunk_id,
                    *ranking.found[chunk_id],
                    ranking.stages(chunk_id),
                    ranking.vectors_of([chunk_id]),
                )
                for chunk_id in ranking.ranked[:depth]
            ]
        return result

    def _rank(self, result: RetrievalResult, *, gate: bool) -> _Ranking | None:
        """Both stages fused (and reranked): the ranked chunk ids and what scored them.

        None when nothing may be returned: filters that match nothing, or the gate.
        """
        question, filters = result.question, result.filters
        where = filters.where()
        nothing_matches = f"No indexed passage matches the filters ({filters.describe()})."
        lexical = self.lexical
        # BM25 applies the filters to its own copy of the metadata: asking Chroma for
        # the ids they allow doubled the cost of a filtered question.
        allowed = None if lexical is None else filters.mask(lexical.columns)
        if allowed is not None and not allowed.any():
            result.reason = nothing_matches
            return None

        candidates = self.settings.retrieval_candidates
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        dense_hits: dict[str, tuple[float, int]] = {}
        vectors: dict[str, Sequence[float]] = {}
        if self.embedder is not None:
            query_vector = self.embedder.embed_query(question)
            if allowed is not None and lexical is not None and lexical.vectors is not None:
                # Chroma evaluates a filter row by row before its search (at a million
                # chunks: 0.45 s for one state, 3.5 s for a topic and dates); an exact
                # search over the allowed chunks' cached vectors takes milliseconds.
                best = exact_dense_search(lexical.vectors, query_vector, allowed, candidates)
                rows = {lexical.chunk_ids[row]: (row, score) for row, score in best}
                # Only texts and metadata: the vectors are the cached ones just searched.
                got = self.collection.get(ids=list(rows), include=["documents", "metadatas"])
                by_id = _rows_by_id(got)
                for rank, chunk_id in enumerate((c for c in rows if c in by_id), start=1):
                    row, score = rows[chunk_id]
                    dense_hits[chunk_id] = (score, rank)
                    found[chunk_id] = by_id[chunk_id][:2]
                    vectors[chunk_id] = lexical.vectors[row]
            else:
                answer = self._chroma(
                    lambda include: self.collection.query(
                        query_embeddings=[query_vector],
                        n_results=candidates,
                        where=where,
                        include=include,
                    ),
                    ["documents", "metadatas", "distances", "embeddings"],
                )
                for rank, (chunk_id, text, meta, distance, vector) in enumerate(
                    zip(
                        answer["ids"][0],
                        (answer["documents"] or [[]])[0],
                        (answer["metadatas"] or [[]])[0],
                        (answer["distances"] or [[]])[0],
                        _first(answer["embeddings"], len(answer["ids"][0])),
                        strict=True,
                    ),
                    start=1,
                ):
                    dense_hits[chunk_id] = (1.0 - float(distance), rank)
                    found[chunk_id] = (text or "", dict(meta or {}))
                    if vector is not None:
                        vectors[chunk_id] = vector
            if where is not None and not dense_hits and lexical is None:
                result.reason = nothing_matches
                return None

        # The gate needs calibrated scores: cosine similarity, not BM25's.
        if self.embedder is not None:
            best_dense = max((score for score, _ in dense_hits.values()), default=-1.0)
            if best_dense < self.settings.relevance_floor:
                result.refused = True
                result.reason = NOT_ADDRESSED
                if gate:
                    return None

        bm25_hits = {}
        if lexical is not None:
            bm25_hits = {
                hit.chunk_id: (hit.score, hit.rank)
                for hit in lexical.search(question, candidates, allowed)
            }

        missing = [c for c in bm25_hits if c not in found]
        if missing:
            got = self._chroma(
                lambda include: self.collection.get(ids=missing, include=include),
                ["documents", "metadatas"] + (["embeddings"] if self.embedder else []),
            )
            for chunk_id, (text, meta, vector) in _rows_by_id(got).items():
                found[chunk_id] = (text, meta)
                if vector is not None:
                    vectors[chunk_id] = vector

        rankings = [
            sorted(dense_hits, key=lambda c: dense_hits[c][1]),
            sorted(bm25_hits, key=lambda c: bm25_hits[c][1]),
        ]
        named = named_jurisdictions(question) if self.settings.jurisdiction_boost else set()
        if named:
            # A third ranking: the candidates from the states the question names,
            # and federal ones ("US"), which apply in every state.
            named.add("US")
            local: list[str] = []
            for chunk_id in rankings[0] + rankings[1]:
                in_named = chunk_id in found and found[chunk_id][1].get("jurisdiction") in named
                if in_named and chunk_id not in local:
                    local.append(chunk_id)
            rankings.append(local)
        weights = [1.0, 1.0, self.settings.jurisdiction_boost_weight][: len(rankings)]
        fused = fuse(rankings, self.settings.rrf_k, weights)

        ranked = [c for c in sorted(fused, key=lambda c: -fused[c]) if c in found]
        reranked = self._rerank(question, ranked, found) if self.reranker else {}
        if reranked:
            head = sorted(reranked, key=lambda c: (-reranked[c], -fused[c]))
            ranked = head + [c for c in ranked if c not in reranked]
        return _Ranking(ranked, fused, found, dense_hits, bm25_hits, reranked, vectors)

    def _rerank(
        self, question: str, ranked: list[str], found: dict[str, tuple[str, dict[str, Any]]]
    ) -> dict[str, float]:
        """Reranker scores for the best fused candidates."""
        assert self.reranker is not None
        head = ranked[: self.settings.rerank_candidates]
        passages = [_passage(c, found[c][0], found[c][1], StageScores(fused=0.0)) for c in head]
        return dict(zip(head, self.reranker.scores(question, passages), strict=True))

    def _distinct_documents(self, ranking: _Ranking, k: int) -> list[RetrievedPassage]:
        """One source for each of the first ``k`` documents, within the token budget.

        A source is the document's best chunk, grown by the other retrieved chunks
        of that document that overlap it, so the model sees distinct documents.
        """
        passages: list[RetrievedPassage] = []
        seen_documents: set[str] = set()
        budget = self.settings.context_max_tokens
        by_document: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
        for sibling_id, (text, meta) in ranking.found.items():
            document_id = str(meta.get("document_id", ""))
            by_document.setdefault(document_id, {})[sibling_id] = (text, meta)
        for chunk_id in ranking.ranked:
            text, meta = ranking.found[chunk_id]
            document_id = str(meta.get("document_id", ""))
            if document_id in seen_documents:
                continue
            siblings = by_document[document_id]
            merged, meta = merge_overlapping(text, meta, list(siblings.values()))
            cost = self.count_tokens(merged)
            if passages and cost > budget:
                break
            # The chunks inside the merged span (this one among them) are what its
            # text is made of.
            inside = [
                other
                for other, (_, o_meta) in siblings.items()
                if meta["start"] <= int(o_meta.get("start", 0))
                and int(o_meta.get("end", 0)) <= meta["end"]
            ]
            vectors = ranking.vectors_of(inside)
            passages.append(_passage(chunk_id, merged, meta, ranking.stages(chunk_id), vectors))
            seen_documents.add(document_id)
            budget -= cost
            if len(passages) == k:
                break
        return passages


def exact_dense_search(
    vectors: np.ndarray, query: Sequence[float], allowed: np.ndarray, k: int
) -> list[tuple[int, float]]:
    """The ``k`` rows of ``vectors`` (unit length) nearest ``query`` by cosine among
    the ``allowed`` rows, best first, as (row, similarity): an exact search, where
    Chroma's filtered HNSW search is approximate and slower."""
    rows = np.flatnonzero(allowed)
    if rows.size == 0 or k < 1:
        return []
    wanted = np.asarray(query, dtype=np.float32)
    wanted /= max(float(np.linalg.norm(wanted)), 1e-12)
    scores = np.asarray(vectors[rows], dtype=np.float32) @ wanted
    head = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
    best = head[np.lexsort((rows[head], -scores[head]))]  # ties: the earlier chunk first
    return [(int(rows[i]), float(scores[i])) for i in best]


def _rows_by_id(got: Any) -> dict[str, tuple[str, dict[str, Any], Any]]:
    """A Chroma ``get`` answer as {id: (text, metadata, vector)}: ``get`` keeps no order."""
    embeddings = got.get("embeddings")
    return {
        chunk_id: (text or "", dict(meta or {}), None if embeddings is None else embeddings[i])
        for i, (chunk_id, text, meta) in enumerate(
            zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        )
    }


def _first(embeddings: Any, count: int) -> Any:
    """The first query's ``count`` vectors from a Chroma answer (Nones when not included)."""
    if embeddings is None or len(embeddings) == 0:
        return [None] * count
    return embeddings[0]


def merge_overlapping(
    text: str, meta: dict[str, Any], siblings: list[tuple[str, dict[str, Any]]]
) -> tuple[str, dict[str, Any]]:
    """Grow a chunk by the sibling chunks that overlap it, keeping text == document[start:end].

    Chunks only overlap where the chunker repeated text, so joining them needs no
    text that was not retrieved; chunks that merely follow each other stay apart.
    """
    start, end = int(meta.get("start", 0)), int(meta.get("end", 0))
    grew = True
    while grew:
        grew = False
        for other_text, other in siblings:
            o_start, o_end = int(other.get("start", 0)), int(other.get("end", 0))
            if o_start < start < o_end <= end:  # overlaps on the left
                text = other_text[: start - o_start] + text
                start, grew = o_start, True
            elif start <= o_start < end < o_end:  # overlaps on the right
                text = text + other_text[end - o_start :]
                end, grew = o_end, True
    return text, {**meta, "start": start, "end": end}


def open_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """A retriever over the configured index, with the configured stages.

    ``embedder``: one already loaded (a process shares one), else loaded here.
    """
    from legalrag.app.lexical import LexicalIndex
    from legalrag.embedding import make_embedder
    from legalrag.index import check_model, open_for_reading

    collection = open_for_reading(settings)  # a missing index fails before the model loads
    if not settings.retrieval_dense:
        embedder = None
    elif embedder is None:
        embedder = make_embedder(settings)
    if embedder is not None:
        check_model(collection, embedder.model_name, embedder.dimension)
    return Retriever(
        settings,
        collection,
        embedder,
        lambda: LexicalIndex.for_collection(collection, settings.bm25_dir),
        context_token_counter(settings),
        make_reranker(settings),
    )


def context_token_counter(settings: Settings) -> Callable[[str], int]:
    """Counts tokens as the generator will: its own tokenizer when named, else tiktoken."""
    if settings.llm_tokenizer:
        from transformers import AutoTokenizer

        from legalrag.embedding import EmbeddingModelError

        try:
            tokenizer = AutoTokenizer.from_pretrained(settings.llm_tokenizer)
        except OSError as exc:
            raise EmbeddingModelError(
                f"cannot load the generator's tokenizer {settings.llm_tokenizer!r}: {exc}"
            ) from None
        return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
    from legalrag.tokens import tiktoken_encoding

    encoding = tiktoken_encoding(settings.data_dir / "tiktoken")
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def make_reranker(settings: Settings) -> Reranker | None:
    """The reranker the settings name, if any."""
    if settings.reranker == "cross-encoder":
        from legalrag.app.reranking import CrossEncoderReranker

        assert settings.reranker_model is not None  # checked by Settings
        device = "cpu" if settings.embedding_device == "auto" else settings.embedding_device
        return CrossEncoderReranker(settings.reranker_model, device=device)
    if settings.reranker == "llm":
        from legalrag.app.generation import OpenAICompatibleGenerator
        from legalrag.app.reranking import ReasoningReranker

        return ReasoningReranker(OpenAICompatibleGenerator(settings))
    return None
