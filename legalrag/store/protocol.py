"""The chunk store seam: what ingestion writes through and retrieval reads through.

One implementation per module (today :mod:`legalrag.store.chroma`, embedded or a
server); a later store (Chroma Cloud with its native hybrid search, Qdrant,
pgvector) is one new module that satisfies :class:`ChunkStore`, plus one branch
in :func:`legalrag.factory.open_store`. Nothing outside the implementation
module imports the store's client library.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from legalrag.errors import IndexFormatError, IndexMismatchError
from legalrag.store.filters import Filters
from legalrag.store.schema import ChunkMetadata, DenseHit, ModelStamp, StoredChunk, Vector


class ChunkStore(Protocol):
    """Chunks with their text, metadata and vectors, in one collection."""

    name: str
    """The collection's name."""
    location: str
    """Where it lives, for messages (a folder or a server URL)."""
    max_batch_size: int
    """The most chunks one :meth:`upsert` may carry."""

    @property
    def model(self) -> ModelStamp | None:
        """The embedding model that filled the collection, and the text format of its
        vectors (None: unrecorded)."""
        ...

    @property
    def revision(self) -> str:
        """Changes whenever chunks' metadata is rewritten in place (their ids do not), so
        a cache keyed by the chunk ids (the BM25 cache) can tell; "" when never. Read as
        of when the store was opened: a process sees later rewrites when it reopens."""
        ...

    @property
    def sends_vectors(self) -> bool:
        """False once the store has shown it cannot send stored vectors back: callers
        then get chunks whose ``vector`` is None and embed what they need themselves."""
        ...

    def count(self) -> int:
        """How many chunks the collection holds."""
        ...

    def ids(self) -> list[str]:
        """Every chunk id, in the store's own order."""
        ...

    def upsert(self, chunks: Sequence[StoredChunk]) -> None:
        """Write chunks (each with its vector), replacing any with the same id."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        ...

    def chunks_of_documents(self, document_ids: Sequence[str]) -> dict[str, ChunkMetadata]:
        """Every chunk the given documents have: its id and its stored metadata."""
        ...

    def update_metadata(self, chunks: Mapping[str, ChunkMetadata]) -> None:
        """Replace the metadata of existing chunks (by id), leaving text and vectors."""
        ...

    def get(self, ids: Sequence[str], *, with_vectors: bool = False) -> dict[str, StoredChunk]:
        """The chunks with these ids that exist, by id."""
        ...

    def query(
        self, vector: Vector, k: int, filters: Filters | None = None, *, with_vectors: bool = False
    ) -> list[DenseHit]:
        """The ``k`` chunks nearest ``vector`` (cosine) that pass ``filters``, best first."""
        ...

    def pages(
        self, *, with_text: bool = True, with_vectors: bool = False, page_size: int = 2000
    ) -> Iterator[list[StoredChunk]]:
        """The whole collection, a page at a time (memory stays flat). Without text,
        each chunk's ``text`` is ""; its metadata is always there."""
        ...

    def close(self) -> None:
        """Release what the store holds (a writer's lock, a connection)."""
        ...


def require_model(store: ChunkStore, wanted: ModelStamp) -> None:
    """Refuse a collection that another embedding model filled (whatever its text
    format: an older index stays readable, its vectors compare with queries as ever)."""
    built = store.model
    if built is None or (built.model_name, built.dimension) != (
        wanted.model_name,
        wanted.dimension,
    ):
        built_name = None if built is None else built.model_name
        built_dim = None if built is None else built.dimension
        raise IndexMismatchError(
            f"collection {store.name!r} was built with embedding model {built_name!r} "
            f"({built_dim} dimensions), but the settings name {wanted.model_name!r} "
            f"({wanted.dimension} dimensions). Use the same model, or another --collection."
        )


def require_writable(store: ChunkStore, wanted: ModelStamp) -> None:
    """Refuse to add chunks to a collection of another model or of another text format
    (its chunks' vectors were computed from other text: the two would not compare)."""
    require_model(store, wanted)
    built = store.model
    assert built is not None  # require_model refused an unrecorded one
    if built.text_format != wanted.text_format:
        raise IndexFormatError(
            f"collection {store.name!r} at {store.location} holds vectors of text format "
            f"{built.text_format}, from an older legalrag; this version embeds format "
            f"{wanted.text_format} (the title and section path before each structured "
            "chunk), and the two cannot share an index. It can still be searched; to add "
            "to it, re-ingest everything into a fresh data dir (--data-dir or "
            "LEGALRAG_DATA_DIR) or another --collection."
        )


@dataclass
class StoreInfo:
    """What `legalrag index info` and the chat show of a collection."""

    location: str
    collection: str
    chunks: int
    documents: int
    embedding_model: str | None
    dimension: int | None
    sources: dict[str, int] = field(default_factory=dict)
    jurisdictions: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    matters: dict[str, int] = field(default_factory=dict)
    """Documents per matter (of those counted: the asker's own)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json."""
        return dict(self.__dict__)


def describe_store(store: ChunkStore, scope: Filters | None = None) -> StoreInfo:
    """Counts and model of a collection; documents (and their sources, jurisdictions,
    topics and matters) counted once each, by scanning the metadata. With ``scope``
    (its matters: see :attr:`Filters.scope`) only the chunks it may read are counted,
    so another matter's documents change no figure."""
    readable = [] if scope is None else scope.readable_matters()
    chunks = 0
    documents: set[str] = set()
    sources: Counter[str] = Counter()
    jurisdictions: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    matters: Counter[str] = Counter()
    for page in store.pages(with_text=False):
        for chunk in page:
            meta = chunk.metadata
            if readable and meta.matter not in readable:
                continue
            chunks += 1
            if meta.document_id in documents:
                continue
            if meta.matter:
                matters[meta.matter] += 1
            documents.add(meta.document_id)
            sources[meta.source or "?"] += 1
            if meta.jurisdiction:
                jurisdictions[meta.jurisdiction] += 1
            if meta.topic:
                topics[meta.topic] += 1
    model = store.model
    return StoreInfo(
        location=store.location,
        collection=store.name,
        chunks=chunks,
        documents=len(documents),
        embedding_model=None if model is None else model.model_name,
        dimension=None if model is None else model.dimension,
        sources=dict(sources.most_common()),
        jurisdictions=dict(jurisdictions.most_common()),
        topics=dict(topics.most_common()),
        matters=dict(matters.most_common()),
    )
