"""One file added to the index (the chat's upload): read, chunked, embedded, written;
or refused with the reader's reason and nothing written.

The same readers, chunker and :class:`~legalrag.ingest.pipeline.Ingestor` as
``legalrag ingest``; what differs is that one document is all or nothing. A file the
readers reject (encrypted, corrupt, empty, of no known type) raises
:class:`~legalrag.errors.FileRejectedError` before the store is opened; a failure
after chunks began to be written (the store, the embedder) deletes the chunks this
call wrote before the error goes on, so no half-indexed document is left.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legalrag.errors import FileRejectedError
from legalrag.ingest.pipeline import Ingestor
from legalrag.ingest.records import Rejected
from legalrag.ingest.run import make_chunker, read_options
from legalrag.ingest.sources import read_document

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from legalrag.embedding import Embedder
    from legalrag.settings import Settings

log = logging.getLogger(__name__)

Step = Callable[[str, int, int], object]
"""``(stage, done, total)``: stage is read, chunk, embed or write."""


@dataclass(frozen=True)
class FileIngested:
    """What one file became in the index."""

    document_id: str
    title: str
    chunks: int
    chunks_embedded: int
    pages: int
    pages_ocr: int
    page_starts: tuple[int, ...]
    """Where each page begins in the document's text (() when it has no pages)."""
    warnings: list[str] = field(default_factory=list)


class _Steps:
    """The Ingestor's progress (``advance(stage, amount)``) as ``(stage, done, total)``."""

    def __init__(self, on_step: Step | None) -> None:
        self.on_step = on_step
        self.total = 0
        self.done: dict[str, int] = {}

    def advance(self, stage: str, amount: int = 1) -> None:
        """Count ``amount`` more done in ``stage`` and say so."""
        if stage == "chunk":
            self.total += amount
        self.done[stage] = self.done.get(stage, 0) + amount
        if self.on_step is not None and stage != "read":
            self.on_step(stage, self.done[stage], max(self.total, 1))


def ingest_file(
    settings: Settings,
    path: Path,
    *,
    document_id: str,
    source: str,
    embedder: Embedder,
    title: str = "",
    on_step: Step | None = None,
    read_lock: AbstractContextManager[Any] | None = None,
) -> FileIngested:
    """Add the one document in ``path`` to the configured index, or raise.

    ``read_lock``: held while the file is read (PDFium is not thread-safe, and the
    chat renders pages with it too). ``title``: shown instead of the one the reader
    finds (the file's own name, for an upload kept under another).
    """
    from dataclasses import replace

    from legalrag.factory import make_summariser, open_store_for_writing
    from legalrag.store import ModelStamp

    if on_step is not None:
        on_step("read", 0, 1)
    with read_lock if read_lock is not None else contextlib.nullcontext():
        item = read_document(
            path, document_id=document_id, source=source, options=read_options(settings)
        )
    if isinstance(item, Rejected):
        raise FileRejectedError(item.reason)
    if title:
        item = replace(item, title=title)
    if on_step is not None:
        on_step("read", 1, 1)
    steps = _Steps(on_step)
    store = open_store_for_writing(settings, ModelStamp(embedder.model_name, embedder.dimension))
    try:
        before = set(store.chunks_of_documents([document_id]))
        ingestor = Ingestor(
            store=store,
            embedder=embedder,
            chunker=make_chunker(settings, embedder),
            write_batch_size=settings.write_batch_size,
            progress=steps,  # type: ignore[arg-type]  # the one method it calls
            summarise=make_summariser(settings),
            rejects_log=None,  # a refused upload is told to its user, not logged as a run's
        )
        try:
            report = ingestor.run([item])
        except BaseException:
            written = set(store.chunks_of_documents([document_id])) - before
            if written:
                log.warning("upload of %s failed: removing its %d chunks", path, len(written))
                store.delete(sorted(written))
            raise
    finally:
        store.close()
    return FileIngested(
        document_id=document_id,
        title=item.title,
        chunks=report.chunks,
        chunks_embedded=report.chunks_embedded,
        pages=report.pages,
        pages_ocr=report.pages_ocr,
        page_starts=item.page_starts,
        warnings=list(report.warnings),
    )
