"""BM25 over the same chunks as the dense index (bm25s), cached on disk.

The cache is keyed by a fingerprint of the store's chunk ids, so it is rebuilt
whenever ingestion added, replaced or removed chunks, and reused otherwise.
Beside the BM25 model it keeps, in the same chunk order, what a filtered question
needs without asking the store: each chunk's filter metadata and its vector (see
:func:`legalrag.app.retrieval.exact.exact_dense_search`). Statute numbers, party
names and defined terms are where BM25 beats embeddings; the two are fused in
:mod:`legalrag.app.retrieval.retriever`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from legalrag.app.retrieval.naming import DocumentNames, name_text
from legalrag.store import FILTER_COLUMNS, ChunkMetadata, ChunkStore, schema

log = logging.getLogger(__name__)

PAGE_SIZE = 5000
_IDS_FILE = "chunk_ids.json"
_COLUMNS_FILE = "filter_columns.npz"
_VECTORS_FILE = "vectors.npy"
_NAMES_FOLDER = "names"  # the documents' name index (see naming.py)
_NAME_IDS_FILE = "document_ids.json"
_CHUNK_DOCUMENTS_FILE = "chunk_documents.npy"
# Saved instead of the bm25s model when no chunk holds a word token (see BM25Index.build).
_NO_WORDS_FILE = "no_words"


def _bm25s() -> ModuleType:
    """bm25s (imported late: it is slow to import), its logger following the root's:
    bm25s sets its own to DEBUG on import, which printed its debug lines to users."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


def _tokenize(texts: list[str]) -> list[list[str]]:
    return _bm25s().tokenize(texts, stopwords="en", return_ids=False, show_progress=False)


def searchable_text(text: str, meta: ChunkMetadata) -> str:
    """What BM25 indexes for a chunk: its document's title, section path and
    jurisdiction, then its text.

    A later chunk of a post rarely repeats the state or the subject; its title
    does (measured on the sample questions: top-1 0.855 -> 0.909). A clause rarely
    repeats the heading it sits under. The header is the embedder's
    (:func:`~legalrag.store.schema.context_header`); without a section path it is the
    title alone, as before. A document's summary (``ingest_summaries``) comes last.
    """
    header = f"{schema.context_header(meta.title, meta.section)} {meta.jurisdiction}"
    return f"{header} {meta.summary}\n{text}" if meta.summary else f"{header}\n{text}"


@dataclass
class _Chunks:
    ids: list[str]
    texts: list[str]
    columns: dict[str, np.ndarray]
    vectors: np.ndarray | None
    documents: list[str]  # each chunk's document id
    names: dict[str, str]  # each document's name text


def _read_chunks(store: ChunkStore) -> _Chunks:
    """Every chunk's searchable text, filter columns and (when sent) vector."""
    ids: list[str] = []
    texts: list[str] = []
    values: dict[str, list] = {name: [] for name in FILTER_COLUMNS}
    pages_of_vectors: list[np.ndarray] = []
    documents: list[str] = []
    names: dict[str, str] = {}
    for page in store.pages(with_text=True, with_vectors=True, page_size=PAGE_SIZE):
        for chunk in page:
            meta = chunk.metadata
            ids.append(chunk.id)
            texts.append(searchable_text(chunk.text, meta))
            documents.append(meta.document_id)
            if meta.chunk_index == 0 or meta.document_id not in names:
                opening = chunk.text if meta.chunk_index == 0 else ""
                names[meta.document_id] = name_text(meta.document_id, meta.title, opening)
            values[schema.JURISDICTION].append(meta.jurisdiction)
            values[schema.TOPIC].append(meta.topic)
            values[schema.MATTER].append(meta.matter)
            day = meta.created_day
            values[schema.CREATED_DAY].append(schema.NO_DAY if day is None else day)
        if page and page[0].vector is not None:
            pages_of_vectors.append(np.asarray([c.vector for c in page], dtype=np.float32))
    columns = {
        schema.JURISDICTION: np.asarray(values[schema.JURISDICTION], dtype=str),
        schema.TOPIC: np.asarray(values[schema.TOPIC], dtype=str),
        schema.CREATED_DAY: np.asarray(values[schema.CREATED_DAY], dtype=np.int64),
        # "" for the public corpus (a chunk stored without the key too): see Filters.scope.
        schema.MATTER: np.asarray(values[schema.MATTER], dtype=str),
    }
    vectors = None
    if pages_of_vectors and sum(len(p) for p in pages_of_vectors) == len(ids):
        vectors = np.concatenate(pages_of_vectors)
        # Unit length, so a dot product is the cosine similarity the store ranks by.
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return _Chunks(ids, texts, columns, vectors, documents, names)


def _load_vectors(path: Path, count: int) -> np.ndarray | None:
    """The cached vectors, memory-mapped (a filtered question reads only its allowed
    chunks' rows); None when the cache was built without them."""
    vectors = np.load(path, mmap_mode="r")
    if vectors.size == 0 and count:
        return None
    if len(vectors) != count:
        raise ValueError("vectors and chunk ids differ in number")
    return vectors


def _save_names(names: DocumentNames, folder: Path) -> None:
    folder.mkdir()
    if names.model is not None:
        names.model.save(str(folder))
    ids = json.dumps(names.document_ids)
    (folder / _NAME_IDS_FILE).write_text(ids, encoding="utf-8")
    np.save(folder / _CHUNK_DOCUMENTS_FILE, names.chunk_documents)


def _load_names(folder: Path, count: int) -> DocumentNames:
    """The saved name index; a cache from before it existed raises (and is rebuilt)."""
    document_ids = json.loads((folder / _NAME_IDS_FILE).read_text(encoding="utf-8"))
    chunk_documents = np.load(folder / _CHUNK_DOCUMENTS_FILE)
    if len(chunk_documents) != count:
        raise ValueError("name index and chunk ids differ in number")
    has_words = (folder / "params.index.json").is_file()
    model = _bm25s().BM25.load(str(folder)) if has_words else None
    return DocumentNames(document_ids, model, chunk_documents, _tokenize)


def fingerprint(chunk_ids: list[str], revision: str = "") -> str:
    """Identifies one exact set of chunks, whatever order the store lists them in, at
    one metadata ``revision`` of the store (metadata rewritten in place keeps the ids)."""
    digest = hashlib.sha256(revision.encode())
    for chunk_id in sorted(chunk_ids):
        digest.update(chunk_id.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:24]


@dataclass(frozen=True)
class BM25Hit:
    """One chunk BM25 found, with its 1-based rank."""

    chunk_id: str
    score: float
    rank: int


class BM25Index:
    """BM25 scores for every chunk of one collection."""

    def __init__(
        self,
        model: object | None,
        chunk_ids: list[str],
        columns: dict[str, np.ndarray],
        vectors: np.ndarray | None = None,
        names: DocumentNames | None = None,
    ) -> None:
        self._model = model
        """The bm25s model; None when no chunk holds a word (it then finds nothing)."""
        self.chunk_ids = chunk_ids
        self.columns = columns
        """Each chunk's filter metadata, in ``chunk_ids`` order (see FILTER_COLUMNS)."""
        self.vectors = vectors
        """Each chunk's vector from the index, unit length, in ``chunk_ids`` order
        (memory-mapped from the cache; None when not kept)."""
        self.names = names
        """The documents by name, to find those a question names (None: not built)."""

    @classmethod
    def build(
        cls,
        chunk_ids: list[str],
        texts: list[str],
        columns: dict[str, np.ndarray],
        vectors: np.ndarray | None = None,
        documents: list[str] | None = None,
        names: dict[str, str] | None = None,
    ) -> BM25Index:
        """Index ``texts`` (one per chunk id, with its filter ``columns`` and ``vectors``),
        and, given each chunk's document and each document's name text, the names."""
        named = None
        if documents is not None and names is not None:
            named = DocumentNames.build(documents, names, _bm25s(), _tokenize)
        tokens = _tokenize(texts)
        if not any(tokens):
            # Chunks of punctuation, numbers of one digit or stopwords only: bm25s cannot
            # index a corpus without one token (max() of an empty vocabulary, which failed
            # every retrieve). Such an index scores nothing; the dense stage still runs.
            return cls(None, chunk_ids, columns, vectors, named)
        model = _bm25s().BM25()
        model.index(tokens, show_progress=False)
        return cls(model, chunk_ids, columns, vectors, named)

    @classmethod
    def for_store(cls, store: ChunkStore, cache_root: Path) -> BM25Index:
        """The store's BM25 index: from the cache when it matches, else rebuilt."""
        bm25s = _bm25s()
        folder = cache_root / store.name / fingerprint(store.ids(), store.revision)
        if (folder / _IDS_FILE).is_file():
            try:
                cached_ids = json.loads((folder / _IDS_FILE).read_text(encoding="utf-8"))
                with np.load(folder / _COLUMNS_FILE) as saved:
                    columns = {name: saved[name] for name in FILTER_COLUMNS}
                # Memory-mapped: a filtered question reads only its allowed chunks' rows.
                vectors = _load_vectors(folder / _VECTORS_FILE, len(cached_ids))
                no_words = (folder / _NO_WORDS_FILE).is_file()
                model = None if no_words else bm25s.BM25.load(str(folder))
                names = _load_names(folder / _NAMES_FOLDER, len(cached_ids))
                return cls(model, cached_ids, columns, vectors, names)
            except (OSError, ValueError, KeyError) as exc:  # damaged or older: rebuilt
                log.warning("BM25 cache at %s unreadable (%s); rebuilding", folder, exc)
        chunks = _read_chunks(store)
        index = cls.build(
            chunks.ids, chunks.texts, chunks.columns, chunks.vectors, chunks.documents, chunks.names
        )
        index._save(folder)
        # Served from the saved file, as after a reload: the array read from the store
        # (1.5 GB at a million chunks) need not stay resident.
        index.vectors = _load_vectors(folder / _VECTORS_FILE, len(index.chunk_ids))
        return index

    def _save(self, folder: Path) -> None:
        # Written beside, then renamed: a reader never sees half a cache.
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if self._model is None:
            (partial / _NO_WORDS_FILE).write_text("no chunk holds a word token\n")
        else:
            self._model.save(str(partial))
        np.savez(partial / _COLUMNS_FILE, **self.columns)
        # An empty array: none kept (a server that sends no stored vectors).
        vectors = self.vectors if self.vectors is not None else np.zeros((0, 0), np.float32)
        np.save(partial / _VECTORS_FILE, vectors)
        (partial / _IDS_FILE).write_text(json.dumps(self.chunk_ids), encoding="utf-8")
        if self.names is not None:
            _save_names(self.names, partial / _NAMES_FOLDER)
        for stale in folder.parent.iterdir():  # older fingerprints are of no more use
            if stale != partial:
                shutil.rmtree(stale, ignore_errors=True)
        partial.rename(folder)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[BM25Hit]:
        """The ``k`` best chunks for ``query``; ``allowed`` (a mask over ``chunk_ids``,
        e.g. from :meth:`Filters.mask`) restricts the search to those chunks."""
        if self._model is None or not self.chunk_ids or k < 1:
            return []
        tokens = _tokenize([query])[0]
        if not tokens:
            return []
        scores = np.asarray(self._model.get_scores(tokens), dtype=np.float64)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        # The k best without sorting the whole corpus (at a million chunks a full
        # argsort took longer than the rest of the search), then those k in order.
        everything = np.arange(len(scores))
        head = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else everything
        # Within those k, ties are broken by position.
        best = head[np.lexsort((head, -scores[head]))]
        return [
            BM25Hit(self.chunk_ids[i], float(scores[i]), rank)
            for rank, i in enumerate(best, start=1)
            if scores[i] > 0
        ]
