"""The Chroma index that ingestion writes and the app reads.

Embedded (``PersistentClient`` on a local folder) by default; a Chroma server
(``chroma run``, ``HttpClient``) when ``chroma_url`` is set, for many processes and
machines. The collection records which embedding model filled it, so opening it
with another model is refused instead of returning nonsense.
"""

from __future__ import annotations

import fcntl
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import GetResult

    from legalrag.settings import Settings

SCHEMA_VERSION = 1
PAGE_SIZE = 2000


class IndexAccessError(RuntimeError):
    """A problem with the index that the user can act on."""


class IndexNotFoundError(IndexAccessError):
    """No collection yet: nothing has been ingested."""


class IndexMismatchError(IndexAccessError):
    """The collection was built with another embedding model."""


class IndexUnavailableError(IndexAccessError):
    """The Chroma server cannot be reached."""


class IndexBusyError(IndexAccessError):
    """Another process is already writing to the embedded index."""


def describe_location(settings: Settings) -> str:
    """Where the index lives, for messages."""
    return settings.chroma_url or str(settings.chroma_dir)


def make_client(settings: Settings) -> ClientAPI:
    """A Chroma client for the configured location, telemetry off."""
    import chromadb
    from chromadb import errors as chroma_errors
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url is None:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    url = urlsplit(settings.chroma_url)
    ssl = url.scheme == "https"
    headers = {}
    if settings.chroma_auth_token is not None:
        headers["x-chroma-token"] = settings.chroma_auth_token.get_secret_value()
    try:
        client = chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if ssl else 8000),
            ssl=ssl,
            headers=headers,
            settings=chroma_settings,
        )
        client.heartbeat()
    except (chroma_errors.ChromaAuthError, chroma_errors.AuthorizationError) as exc:
        # The server is up and said no: the token, not the network, needs fixing.
        raise IndexUnavailableError(
            f"the Chroma server at {settings.chroma_url} refused the request ({exc}): "
            "check LEGALRAG_CHROMA_AUTH_TOKEN"
        ) from None
    except Exception as exc:  # chromadb raises several types for a dead server
        raise IndexUnavailableError(
            f"the Chroma server at {settings.chroma_url} is not reachable: {exc}"
        ) from None
    return client


def check_model(collection: Collection, model_name: str, dimension: int) -> None:
    """Refuse a collection that another embedding model filled."""
    meta = collection.metadata or {}
    built_with = meta.get("embedding_model")
    built_dim = meta.get("embedding_dimension")
    if built_with != model_name or built_dim != dimension:
        raise IndexMismatchError(
            f"collection {collection.name!r} was built with embedding model {built_with!r} "
            f"({built_dim} dimensions), but the settings name {model_name!r} "
            f"({dimension} dimensions). Use the same model, or another --collection."
        )


@dataclass
class WritableIndex:
    """A collection to ingest into, and the largest batch its server takes.

    For the embedded index it also holds the writer's lock; :meth:`close`
    releases it (so does the end of the process, however it ends).
    """

    collection: Collection
    max_batch_size: int
    lock: IO[bytes] | None = None

    def close(self) -> None:
        """Release the writer's lock."""
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def _lock_embedded(settings: Settings) -> IO[bytes]:
    """One writer at a time on an embedded index: two would corrupt its files."""
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    handle = (settings.chroma_dir / "legalrag-writer.lock").open("a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise IndexBusyError(
            f"another process is writing to the index at {settings.chroma_dir}; wait for it "
            "to finish, or run a Chroma server (LEGALRAG_CHROMA_URL) for parallel writers"
        ) from None
    return handle


def open_for_writing(settings: Settings, model_name: str, dimension: int) -> WritableIndex:
    """The collection to ingest into, created on first use; refuses another model's."""
    lock = _lock_embedded(settings) if settings.chroma_url is None else None
    try:
        client = make_client(settings)
        collection = _get_or_create(client, settings, model_name, dimension)
        check_model(collection, model_name, dimension)
    except BaseException:
        if lock is not None:
            lock.close()
        raise
    return WritableIndex(collection, client.get_max_batch_size(), lock)


def _get_or_create(
    client: ClientAPI, settings: Settings, model_name: str, dimension: int
) -> Collection:
    return client.get_or_create_collection(
        settings.collection,
        metadata={
            "embedding_model": model_name,
            "embedding_dimension": dimension,
            "legalrag_schema": SCHEMA_VERSION,
        },
        configuration={"hnsw": {"space": "cosine"}},
        # Never let Chroma attach its own embedder: it would download a model.
        embedding_function=None,
    )


def open_for_reading(
    settings: Settings, model_name: str | None = None, dimension: int | None = None
) -> Collection:
    """The existing collection; checks the model when one is given."""
    from chromadb.errors import NotFoundError

    client = make_client(settings)
    try:
        collection = client.get_collection(settings.collection, embedding_function=None)
    except NotFoundError:
        raise IndexNotFoundError(
            f"no index: collection {settings.collection!r} does not exist at "
            f"{describe_location(settings)}. Run `legalrag ingest` first."
        ) from None
    if model_name is not None and dimension is not None:
        check_model(collection, model_name, dimension)
    return collection


def cannot_return_embeddings(exc: Exception) -> bool:
    """True when ``exc`` is a Chroma server failing to send stored vectors back.

    Chroma 1.5.9's Python server (the one that checks a token, sky/chroma.yaml)
    fails on every get or query that includes embeddings ('list' object has no
    attribute 'tolist'); `chroma run` and the embedded client return them. Callers
    then go on without the stored vectors.
    """
    return "tolist" in str(exc)


def iter_pages(
    collection: Collection, include: list[str], page_size: int = PAGE_SIZE
) -> Iterator[GetResult]:
    """The whole collection, a page at a time (memory stays flat)."""
    offset = 0
    while True:
        page = collection.get(include=include, limit=page_size, offset=offset)
        yield page
        if len(page["ids"]) < page_size:
            return
        offset += page_size


def iter_metadatas(collection: Collection, page_size: int = PAGE_SIZE) -> Iterator[dict]:
    """Every chunk's metadata."""
    for page in iter_pages(collection, ["metadatas"], page_size):
        yield from page["metadatas"] or []


@dataclass
class IndexInfo:
    """What `legalrag index info` shows."""

    location: str
    collection: str
    chunks: int
    documents: int
    embedding_model: str | None
    dimension: int | None
    sources: dict[str, int] = field(default_factory=dict)
    jurisdictions: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json."""
        return dict(self.__dict__)


def index_info(settings: Settings) -> IndexInfo:
    """Counts and model of the configured collection (documents counted by scanning)."""
    collection = open_for_reading(settings)
    meta = collection.metadata or {}
    documents: set[str] = set()
    sources: Counter[str] = Counter()
    jurisdictions: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    for chunk_meta in iter_metadatas(collection):
        doc_id = str(chunk_meta.get("document_id"))
        if doc_id in documents:
            continue
        documents.add(doc_id)
        sources[str(chunk_meta.get("source", "?"))] += 1
        if "jurisdiction" in chunk_meta:
            jurisdictions[str(chunk_meta["jurisdiction"])] += 1
        if "topic" in chunk_meta:
            topics[str(chunk_meta["topic"])] += 1
    return IndexInfo(
        location=describe_location(settings),
        collection=collection.name,
        chunks=collection.count(),
        documents=len(documents),
        embedding_model=meta.get("embedding_model"),
        dimension=meta.get("embedding_dimension"),
        sources=dict(sources.most_common()),
        jurisdictions=dict(jurisdictions.most_common()),
        topics=dict(topics.most_common()),
    )
