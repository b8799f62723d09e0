"""Records → chunks → vectors → the chunk store, streaming, idempotent and resumable.

Documents are gathered into batches of about ``write_batch_size`` chunks. For each
batch, one query asks the store which chunk ids these documents already have:

- chunks already present are not embedded again (a killed run resumes where it
  stopped, and a re-run embeds nothing);
- new chunks are embedded and upserted (ids are hashes of document id and text,
  so a write repeated after a crash changes nothing);
- chunks a document no longer has (its text changed) are deleted, after the new
  ones are written, so a crash in between leaves extra chunks, never missing ones.

A record whose document id an earlier record of the run had replaces that record
(in one batch or across batches alike), and is counted and reported as a duplicate.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from legalrag.ingest.chunking import Chunk, Chunker
from legalrag.ingest.partition import WHOLE, Partition
from legalrag.ingest.records import Rejected, SourceDocument
from legalrag.store import ChunkMetadata, StoredChunk
from legalrag.store.schema import embedded_text

if TYPE_CHECKING:
    from legalrag.embedding import Embedder
    from legalrag.ingest.progress import IngestProgress
    from legalrag.store import ChunkStore

REJECTS_SHOWN = 20
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Duplicate:
    """A record whose document id an earlier record of the run already had: the later
    one replaced the earlier (its chunks are the ones indexed)."""

    location: str
    document_id: str
    replaced: str
    """Where the earlier record, the one replaced, was read."""


@dataclass
class IngestReport:
    """What a run did; the CLI prints it as the final summary."""

    documents_read: int = 0
    documents_ingested: int = 0
    documents_outside_partition: int = 0
    chunks: int = 0
    chunks_embedded: int = 0
    chunks_already_indexed: int = 0
    chunks_removed: int = 0
    chunks_updated: int = 0
    """Chunks already indexed whose metadata was corrected (rewritten, not re-embedded)."""
    rejected_count: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    rejects_log: str | None = None
    duplicates: int = 0
    """Records whose document id an earlier record of this run had (the later one won)."""
    duplicated: list[Duplicate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pages: int = 0
    """Pages of paged files (PDFs, images) read."""
    pages_ocr: int = 0
    """Of those, pages read by OCR."""
    ocr_pages: list[dict[str, Any]] = field(default_factory=list)
    """The first OCR'd pages: location, page, confidence, problem (the rest counted)."""
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        """Chunks embedded and written per second of the whole run."""
        return self.chunks_embedded / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json and logs."""
        data = {k: v for k, v in self.__dict__.items() if k not in ("rejected", "duplicated")}
        data["rejected_first"] = [r.__dict__ for r in self.rejected]
        data["duplicates_first"] = [d.__dict__ for d in self.duplicated]
        data["chunks_per_second"] = round(self.chunks_per_second, 2)
        data["seconds"] = round(self.seconds, 2)
        return data


@dataclass
class _Batch:
    documents: dict[str, tuple[SourceDocument, list[Chunk]]] = field(default_factory=dict)
    chunk_count: int = 0
    new_documents: int = 0
    """Documents no earlier batch of the run had (what ``documents_ingested`` counts)."""

    def add(self, document: SourceDocument, chunks: list[Chunk]) -> None:
        # The same id twice in a batch: the later record replaces the earlier one,
        # as it would across batches.
        previous = self.documents.pop(document.document_id, None)
        if previous is not None:
            self.chunk_count -= len(previous[1])
        self.documents[document.document_id] = (document, chunks)
        self.chunk_count += len(chunks)


class Ingestor:
    """Writes documents into one collection with one embedder."""

    def __init__(
        self,
        *,
        store: ChunkStore,
        embedder: Embedder,
        chunker: Chunker,
        write_batch_size: int,
        progress: IngestProgress,
        partition: Partition = WHOLE,
        rejects_log: Path | None = None,
        summarise: Callable[[str, str], str] | None = None,
        matter: str = "",
    ) -> None:
        """``summarise``: ``(title, text) -> summary`` of a document, put before each of
        its chunks when embedded (summary-augmented chunking); None: no summaries.
        ``matter``: the matter every document goes into ("": the public corpus); a
        document indexed in another one is moved (its metadata rewritten, as for any
        correction), never copied."""
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.write_batch_size = write_batch_size
        # A store refuses batches over its own limit.
        self.upsert_batch_size = min(write_batch_size, store.max_batch_size)
        self.progress = progress
        self.partition = partition
        self.rejects_log = rejects_log
        self.summarise = summarise
        self.matter = matter
        self.report = IngestReport()

    def run(self, items: Iterable[SourceDocument | Rejected]) -> IngestReport:
        """Ingest every item; bad records are counted and logged, never fatal."""
        started = time.perf_counter()
        batch = _Batch()
        log_file: TextIO | None = None
        # Where each document id of this run was last read, and its chunk count: a later
        # record with the same id replaces the earlier one, and that is reported.
        seen: dict[str, tuple[str, int]] = {}
        try:
            for item in items:
                self.report.documents_read += 1
                self.progress.advance("read")
                if isinstance(item, Rejected):
                    log_file = self._reject(item, log_file)
                    continue
                if not self.partition.owns(item.document_id):
                    self.report.documents_outside_partition += 1
                    continue
                self._pages_read(item)
                chunks = self.chunker.split(item)
                self.progress.advance("chunk", len(chunks))
                earlier = seen.get(item.document_id)
                seen[item.document_id] = (item.location, len(chunks))
                if earlier is None:
                    batch.new_documents += 1
                else:
                    duplicate = Duplicate(item.location, item.document_id, earlier[0])
                    log_file = self._duplicate(duplicate, log_file)
                    if item.document_id not in batch.documents:
                        # Counted when an earlier batch was written; this batch's write
                        # removes those chunks and counts the new ones.
                        self.report.chunks -= earlier[1]
                batch.add(item, chunks)
                if batch.chunk_count >= self.write_batch_size:
                    self._flush(batch)
                    batch = _Batch()
            self._flush(batch)
        finally:
            if log_file is not None:
                log_file.close()
            self.report.seconds = time.perf_counter() - started
        return self.report

    def _pages_read(self, document: SourceDocument) -> None:
        """Count the document's pages; report each empty or low-confidence one, and the
        first OCR'd pages' confidence."""
        for read in document.pages_read:
            self.report.pages += 1
            if read.problem:
                self.report.warnings.append(f"{document.location} p. {read.page}: {read.problem}")
            if read.method != "ocr":
                continue
            self.report.pages_ocr += 1
            if len(self.report.ocr_pages) < REJECTS_SHOWN:
                confidence = None if read.confidence is None else round(read.confidence, 1)
                self.report.ocr_pages.append(
                    {
                        "location": document.location,
                        "page": read.page,
                        "confidence": confidence,
                        "problem": read.problem,
                    }
                )

    def _reject(self, item: Rejected, log_file: TextIO | None) -> TextIO | None:
        self.report.rejected_count += 1
        if len(self.report.rejected) < REJECTS_SHOWN:
            self.report.rejected.append(item)
        return self._log(item.__dict__, log_file)

    def _duplicate(self, item: Duplicate, log_file: TextIO | None) -> TextIO | None:
        self.report.duplicates += 1
        if len(self.report.duplicated) < REJECTS_SHOWN:
            self.report.duplicated.append(item)
        # Logged as the record that is no longer indexed: the earlier one.
        reason = f"replaced by the record at {item.location} (same id {item.document_id!r})"
        return self._log({"location": item.replaced, "reason": reason}, log_file)

    def _log(self, entry: dict[str, str], log_file: TextIO | None) -> TextIO | None:
        """One line of the rejects log (opened on the first), which lists every record
        of the run that is not in the index."""
        if self.rejects_log is None:
            return log_file
        if log_file is None:
            self.rejects_log.parent.mkdir(parents=True, exist_ok=True)
            # backslashreplace: a location or reason that is not encodable text (a file
            # name that is not UTF-8) is written escaped instead of ending the run.
            log_file = self.rejects_log.open("a", encoding="utf-8", errors="backslashreplace")
            self.report.rejects_log = str(self.rejects_log)
        log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log_file.flush()
        return log_file

    def _flush(self, batch: _Batch) -> None:
        if not batch.documents:
            return
        existing = self.store.chunks_of_documents(list(batch.documents))
        wanted: set[str] = set()
        to_write: list[tuple[Chunk, SourceDocument]] = []
        corrected: dict[str, ChunkMetadata] = {}
        for document, chunks in batch.documents.values():
            for chunk in chunks:
                wanted.add(chunk.id)
                if chunk.id not in existing:
                    to_write.append((chunk, document))
                    continue
                # The summary it was embedded with stays (no model call for a chunk
                # already indexed); the rest of its metadata is compared.
                meta = replace(
                    _chunk_metadata(chunk, document, self.matter),
                    summary=existing[chunk.id].summary,
                )
                if existing[chunk.id] != meta:
                    # Ids hash the document id and the text only: a record corrected in
                    # its jurisdiction, date or URL keeps its ids, so its metadata is
                    # rewritten here (the vectors stay right: the text is the same).
                    corrected[chunk.id] = meta
        if corrected:
            self.store.update_metadata(corrected)
            self.report.chunks_updated += len(corrected)
        already = len(wanted) - len(to_write)
        self.report.chunks_already_indexed += already
        self.progress.advance("embed", already)
        self.progress.advance("write", already)

        summaries = self._summaries(to_write)
        for offset in range(0, len(to_write), self.upsert_batch_size):
            part = to_write[offset : offset + self.upsert_batch_size]
            metas = [
                replace(
                    _chunk_metadata(chunk, document, self.matter),
                    summary=summaries.get(chunk.document_id, ""),
                )
                for chunk, document in part
            ]
            # The vector places the chunk in its document (title, section path); the
            # stored text stays the document's own characters.
            texts = [
                embedded_text(chunk.text, meta)
                for (chunk, _), meta in zip(part, metas, strict=True)
            ]
            vectors = self.embedder.embed_documents(texts)
            self.progress.advance("embed", len(part))
            self.store.upsert(
                [
                    StoredChunk(chunk.id, chunk.text, meta, vector)
                    for (chunk, _), meta, vector in zip(part, metas, vectors, strict=True)
                ]
            )
            self.progress.advance("write", len(part))
            self.report.chunks_embedded += len(part)

        stale = sorted(set(existing) - wanted)
        if stale:
            self.store.delete(stale)
            self.report.chunks_removed += len(stale)
        self.report.documents_ingested += batch.new_documents
        self.report.chunks += len(wanted)
        # One line per batch: what a long job's log (e.g. on a cluster) shows of progress.
        log.info(
            "batch written: %d documents, %d new chunks, %d already indexed, %d removed",
            len(batch.documents),
            len(to_write),
            already,
            len(stale),
        )

    def _summaries(self, to_write: list[tuple[Chunk, SourceDocument]]) -> dict[str, str]:
        """One summary per document that has chunks to embed (none without a summariser)."""
        if self.summarise is None:
            return {}
        documents = {document.document_id: document for _, document in to_write}
        return {key: self.summarise(doc.title, doc.text) for key, doc in documents.items()}


def _chunk_metadata(chunk: Chunk, document: SourceDocument, matter: str = "") -> ChunkMetadata:
    meta = document.metadata(chunk_index=chunk.index, start=chunk.start, end=chunk.end)
    return replace(meta, section=chunk.section, matter=matter)
