"""The Chroma chunk store (this package is the only code that imports ``chromadb``).

Embedded (``PersistentClient`` on a local folder) by default; a Chroma server
(``chroma run``, ``HttpClient``) when a URL is set, for many processes and
machines. The collection records which embedding model filled it, so opening it
with another model is refused instead of returning nonsense. Chroma's reply
shapes are read here and nowhere else.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeVar

from legalrag.errors import IndexNotFoundError, StoreUnavailableError
from legalrag.store.chroma.connect import (
    cannot_return_vectors,
    lock_embedded,
    make_client,
    talking_to,
)
from legalrag.store.filters import Filters
from legalrag.store.schema import (
    STORED_KEYS,
    ChunkMetadata,
    DenseHit,
    ModelStamp,
    StoredChunk,
    Vector,
)

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from legalrag.settings import StoreSettings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_REVISION = "legalrag_metadata_revision"
_TEXT_FORMAT = "legalrag_text_format"
# A collection without the key was filled before formats were recorded: bare text.
_UNRECORDED_FORMAT = 1
T = TypeVar("T")


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """``filters`` in Chroma's filter language (None: no restriction)."""
    if filters is None:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.jurisdiction:
        clauses.append({"jurisdiction": filters.jurisdiction.upper()})
    if filters.topic:
        clauses.append({"topic": filters.topic})
    if filters.day_from is not None:
        clauses.append({"created_day": {"$gte": filters.day_from}})
    if filters.day_to is not None:
        clauses.append({"created_day": {"$lte": filters.day_to}})
    readable = filters.readable_matters()
    if readable:
        clauses.append(_matter_clause(readable))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _matter_clause(readable: list[str]) -> dict[str, Any]:
    """Chunks of these matters, ``""`` standing for the public corpus. Ingest writes
    ``matter: ""`` on public chunks for this: Chroma has no "key missing" test, and
    ``$nin`` passes a chunk without the key whatever it names. A public chunk of an
    index from before matters has no key and so fails here (closed, not open); the
    retriever's own searches use the BM25 cache's column, where it reads as public."""
    return {"matter": {"$in": readable}}


def _chunk(chunk_id: str, text: str | None, meta: Any, vector: Any = None) -> StoredChunk:
    return StoredChunk(chunk_id, text or "", ChunkMetadata.from_store(meta), vector)


def _vector(chunk: StoredChunk) -> Sequence[float]:
    if chunk.vector is None:
        raise ValueError(f"chunk {chunk.id} has no vector to write")
    return chunk.vector


def _column(reply: Any, key: str, count: int) -> Sequence[Any]:
    """One column of a ``get`` reply, Nones when it was not included."""
    values = reply.get(key)
    return [None] * count if values is None else values


class ChromaChunkStore:
    """A :class:`~legalrag.store.protocol.ChunkStore` over one Chroma collection."""

    def __init__(
        self,
        collection: Collection,
        *,
        location: str,
        max_batch_size: int,
        lock: IO[bytes] | None = None,
    ) -> None:
        self.collection = collection
        self.name = collection.name
        self.location = location
        self.max_batch_size = max_batch_size
        self._lock = lock
        self._sends_vectors = True

    # --- opening ----------------------------------------------------------------------

    @classmethod
    def open(cls, settings: StoreSettings) -> ChromaChunkStore:
        """The existing collection, for reading."""
        from chromadb.errors import NotFoundError

        client = make_client(settings)
        # A server dying after the handshake, as in any later call.
        with talking_to(settings.location):
            try:
                collection = client.get_collection(settings.collection, embedding_function=None)
            except NotFoundError:
                raise IndexNotFoundError(
                    f"no index: collection {settings.collection!r} does not exist at "
                    f"{settings.location}. Run `legalrag ingest` first."
                ) from None
            max_batch_size = client.get_max_batch_size()
        return cls(collection, location=settings.location, max_batch_size=max_batch_size)

    @classmethod
    def open_for_writing(cls, settings: StoreSettings, stamp: ModelStamp) -> ChromaChunkStore:
        """The collection to ingest into, created on first use and stamped with the model.

        The embedded index also takes the writer's lock, held until :meth:`close`
        (or the end of the process, however it ends).
        """
        lock = lock_embedded(settings) if settings.chroma_url is None else None
        try:
            client = make_client(settings)
            with talking_to(settings.location):  # as in open()
                collection = client.get_or_create_collection(
                    settings.collection,
                    metadata={
                        "embedding_model": stamp.model_name,
                        "embedding_dimension": stamp.dimension,
                        "legalrag_schema": SCHEMA_VERSION,
                        # Only a new collection takes these: an existing one keeps its
                        # own, which require_writable then compares.
                        _TEXT_FORMAT: stamp.text_format,
                    },
                    configuration={"hnsw": {"space": "cosine"}},
                    # Never let Chroma attach its own embedder: it would download a model.
                    embedding_function=None,
                )
                max_batch_size = client.get_max_batch_size()
            store = cls(
                collection, location=settings.location, max_batch_size=max_batch_size, lock=lock
            )
        except BaseException:
            if lock is not None:
                lock.close()
            raise
        return store

    def close(self) -> None:
        """Release the writer's lock, if held."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # --- facts ------------------------------------------------------------------------

    @property
    def model(self) -> ModelStamp | None:
        """The embedding model and text format recorded in the collection's metadata."""
        meta = self.collection.metadata or {}
        name, dimension = meta.get("embedding_model"), meta.get("embedding_dimension")
        if name is None or dimension is None:
            return None
        text_format = int(meta.get(_TEXT_FORMAT, _UNRECORDED_FORMAT))
        return ModelStamp(str(name), int(dimension), text_format)

    @property
    def revision(self) -> str:
        """The collection's metadata revision: a fresh token at each metadata rewrite."""
        return str((self.collection.metadata or {}).get(_REVISION, ""))

    @property
    def sends_vectors(self) -> bool:
        """False once the server refused to send stored vectors."""
        return self._sends_vectors

    def count(self) -> int:
        """How many chunks the collection holds."""
        with talking_to(self.location):
            return self.collection.count()

    def ids(self) -> list[str]:
        """Every chunk id."""
        # The ids alone: no chunk objects (at a million chunks, building them cost more
        # than the listing the BM25 cache's fingerprint needs).
        return [chunk_id for reply in self._replies([], 5000) for chunk_id in reply["ids"]]

    # --- writing ----------------------------------------------------------------------

    def upsert(self, chunks: Sequence[StoredChunk]) -> None:
        """Write chunks with their vectors (a repeated write changes nothing)."""
        if not chunks:
            return
        with talking_to(self.location):
            self.collection.upsert(
                ids=[chunk.id for chunk in chunks],
                embeddings=[_vector(chunk) for chunk in chunks],
                documents=[chunk.text for chunk in chunks],
                metadatas=[chunk.metadata.to_store() for chunk in chunks],
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id."""
        if ids:
            with talking_to(self.location):
                self.collection.delete(ids=list(ids))

    # --- reading ----------------------------------------------------------------------

    def chunks_of_documents(self, document_ids: Sequence[str]) -> dict[str, ChunkMetadata]:
        """Every chunk the given documents have, with its stored metadata."""
        if not document_ids:
            return {}
        with talking_to(self.location):
            found = self.collection.get(
                where={"document_id": {"$in": list(document_ids)}}, include=["metadatas"]
            )
        return {chunk.id: chunk.metadata for chunk in self._rows(found)}

    def update_metadata(self, chunks: Mapping[str, ChunkMetadata]) -> None:
        """New metadata for existing chunks. Chroma's update merges keys, so a key the
        new metadata lacks is sent as None, which removes it."""
        if not chunks:
            return
        cleared = dict.fromkeys(STORED_KEYS)
        with talking_to(self.location):
            self.collection.update(
                ids=list(chunks),
                metadatas=[{**cleared, **meta.to_store()} for meta in chunks.values()],
            )
            # A random token, not a counter: two writers updating at once still each
            # leave a value no cache was built at.
            stamp = {**(self.collection.metadata or {}), _REVISION: uuid.uuid4().hex}
            self.collection.modify(metadata=stamp)

    def get(self, ids: Sequence[str], *, with_vectors: bool = False) -> dict[str, StoredChunk]:
        """The chunks with these ids, by id (Chroma's ``get`` keeps no order)."""
        if not ids:
            return {}
        reply = self._with_vectors(
            lambda include: self.collection.get(ids=list(ids), include=include),
            ["documents", "metadatas"],
            with_vectors,
        )
        return {chunk.id: chunk for chunk in self._rows(reply)}

    def query(
        self, vector: Vector, k: int, filters: Filters | None = None, *, with_vectors: bool = False
    ) -> list[DenseHit]:
        """Chroma's HNSW search (with its own filter): ``k`` nearest, best first."""
        reply = self._with_vectors(
            lambda include: self.collection.query(
                query_embeddings=[list(vector)],
                n_results=k,
                where=chroma_where(filters),
                include=include,
            ),
            ["documents", "metadatas", "distances"],
            with_vectors,
        )
        ids = reply["ids"][0]
        # "is None", never a truth value: an embeddings column may be a numpy array.
        columns = [
            [None] * len(ids) if reply.get(key) is None else reply[key][0]
            for key in ("documents", "metadatas", "distances", "embeddings")
        ]
        return [
            DenseHit(_chunk(chunk_id, text, meta, vec), 1.0 - float(distance))
            for chunk_id, text, meta, distance, vec in zip(ids, *columns, strict=True)
        ]

    def pages(
        self, *, with_text: bool = True, with_vectors: bool = False, page_size: int = 2000
    ) -> Iterator[list[StoredChunk]]:
        """The whole collection, a page at a time; vectors only if the server sends them."""
        include = ["documents", "metadatas"] if with_text else ["metadatas"]
        if with_vectors and self._sends_vectors:
            try:
                # A refusal comes with the first page, so nothing is yielded twice.
                yield from self._pages([*include, "embeddings"], page_size)
                return
            except Exception as exc:
                if not cannot_return_vectors(exc):
                    raise
                self._learn_no_vectors()
        yield from self._pages(include, page_size)

    # --- the parts --------------------------------------------------------------------

    def _pages(self, include: list[str], page_size: int) -> Iterator[list[StoredChunk]]:
        for reply in self._replies(include, page_size):
            yield self._rows(reply)

    def _replies(self, include: list[str], page_size: int) -> Iterator[Any]:
        """Chroma's own replies for the whole collection, a page at a time."""
        offset = 0
        while True:
            with talking_to(self.location):
                reply = self.collection.get(include=include, limit=page_size, offset=offset)
            yield reply
            if len(reply["ids"]) < page_size:
                return
            offset += page_size

    @staticmethod
    def _rows(reply: Any) -> list[StoredChunk]:
        count = len(reply["ids"])
        return [
            _chunk(chunk_id, text, meta, vector)
            for chunk_id, text, meta, vector in zip(
                reply["ids"],
                _column(reply, "documents", count),
                _column(reply, "metadatas", count),
                _column(reply, "embeddings", count),
                strict=True,
            )
        ]

    def _with_vectors(
        self, call: Callable[[list[str]], T], include: list[str], with_vectors: bool
    ) -> T:
        """``call(include)``, adding "embeddings" when asked for, until the first time
        the server cannot send them (then callers embed what they need themselves)."""
        if with_vectors and self._sends_vectors:
            try:
                with talking_to(self.location):
                    return call([*include, "embeddings"])
            except StoreUnavailableError:
                raise
            except Exception as exc:
                if not cannot_return_vectors(exc):
                    raise
                self._learn_no_vectors()
        with talking_to(self.location):
            return call(include)

    def _learn_no_vectors(self) -> None:
        self._sends_vectors = False
        log.warning(
            "the Chroma server at %s sends no stored vectors: verification embeds the "
            "sources itself, and filtered questions use the server's filter",
            self.location,
        )
