"""One ingestion run: pick the source, load the model, open the index, go."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from legalrag.ingest.chunking import Chunker
from legalrag.ingest.partition import WHOLE, Partition
from legalrag.ingest.pile_of_law import subset_named
from legalrag.ingest.pipeline import Ingestor, IngestReport
from legalrag.ingest.progress import IngestProgress
from legalrag.ingest.readers import ReadOptions
from legalrag.ingest.sources import (
    Item,
    SourceError,
    read_path,
    read_pile_of_law,
    read_sample,
    sample_corpus_file,
)

if TYPE_CHECKING:
    from rich.console import Console

    from legalrag.embedding import Embedder
    from legalrag.settings import Settings
    from legalrag.store import ChunkStore


class Source(StrEnum):
    """The corpora `legalrag ingest` knows by name."""

    sample = "sample"
    pile_of_law = "pile-of-law"


def open_source(
    settings: Settings,
    source: Source | None,
    path: Path | None,
    split: str,
    subset: str | None = None,
) -> Iterator[Item]:
    """The records to ingest: a path when given, else the named source (for
    pile-of-law, one subset: r_legaladvice unless named)."""
    if subset is not None and source != Source.pile_of_law:
        raise SourceError("--subset names a pile-of-law subset: give it with --source pile-of-law")
    if path is not None:
        if source not in (None, Source.sample):
            raise SourceError("give either a PATH or --source, not both")
        options = read_options(settings)
        return read_path(path, max_chars=settings.max_document_chars, options=options)
    if source == Source.pile_of_law:
        return read_pile_of_law(
            settings.pile_of_law_data_files,
            split=split,
            subset=subset_named(subset),
            max_chars=settings.max_document_chars,
        )
    return read_sample(max_chars=settings.max_document_chars)


def read_options(settings: Settings) -> ReadOptions:
    """What the document readers need of the settings (OCR, the size limit)."""
    return ReadOptions(
        max_chars=settings.max_document_chars,
        ocr=settings.ocr,
        ocr_language=settings.ocr_language,
        ocr_min_confidence=settings.ocr_min_confidence,
        ocr_dpi=settings.ocr_dpi,
    )


def make_chunker(settings: Settings, embedder: Embedder) -> Chunker:
    """The chunker of the settings, counting ``embedder``'s tokens."""
    return Chunker(
        embedder.count_tokens,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        max_tokens=embedder.max_tokens,
    )


def _count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for line in stream if line.strip())


def ingest(
    settings: Settings,
    *,
    source: Source | None = None,
    path: Path | None = None,
    split: str = "train",
    subset: str | None = None,
    limit: int | None = None,
    partition: Partition = WHOLE,
    matter: str = "",
    quiet: bool = False,
    console: Console | None = None,
) -> IngestReport:
    """Ingest one source into the configured index and report what happened; the
    documents go into ``matter`` ("": the public corpus)."""
    if limit is not None and limit < 1:
        raise SourceError(f"--limit must be at least 1, got {limit}")
    items = open_source(settings, source, path, split, subset)
    if limit is not None:
        items = itertools.islice(items, limit)
    documents_total = None
    if path is None and source in (None, Source.sample):
        documents_total = _count_lines(sample_corpus_file())
        if limit is not None:
            documents_total = min(documents_total, limit)

    report = ingest_items(
        settings,
        items,
        partition=partition,
        matter=matter,
        quiet=quiet,
        console=console,
        documents_total=documents_total,
    )
    chosen = subset_named(subset) if source == Source.pile_of_law else None
    expected = chosen.rows.get(split) if chosen is not None else None
    if expected is not None and limit is None and report.documents_read != expected:
        report.warnings.append(
            f"pile-of-law {chosen.name} {split}: read {report.documents_read:,} records, "
            f"the published split has {expected:,}"
        )
    return report


def ingest_items(
    settings: Settings,
    items: Iterable[Item],
    *,
    partition: Partition = WHOLE,
    matter: str = "",
    quiet: bool = False,
    console: Console | None = None,
    documents_total: int | None = None,
) -> IngestReport:
    """Ingest already-opened records (any iterable, consumed lazily)."""
    from legalrag.factory import make_embedder, open_store_for_writing
    from legalrag.store import ModelStamp

    embedder = make_embedder(settings)
    store = open_store_for_writing(settings, ModelStamp(embedder.model_name, embedder.dimension))
    try:
        return _run(
            settings, items, store, embedder, partition, matter, quiet, console, documents_total
        )
    finally:
        store.close()


def _run(
    settings: Settings,
    items: Iterable[Item],
    store: ChunkStore,
    embedder: Embedder,
    partition: Partition,
    matter: str,
    quiet: bool,
    console: Console | None,
    documents_total: int | None,
) -> IngestReport:
    from legalrag.factory import make_summariser

    chunker = make_chunker(settings, embedder)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with IngestProgress(quiet=quiet, console=console, documents_total=documents_total) as progress:
        ingestor = Ingestor(
            store=store,
            embedder=embedder,
            chunker=chunker,
            write_batch_size=settings.write_batch_size,
            progress=progress,
            summarise=make_summariser(settings),
            partition=partition,
            matter=matter,
            rejects_log=settings.logs_dir / f"ingest-{stamp}-rejected.jsonl",
        )
        report = ingestor.run(items)
    if chunker.chunk_size < settings.chunk_size:
        report.warnings.append(
            f"chunk_size {settings.chunk_size} exceeds what {embedder.model_name} reads "
            f"({embedder.max_tokens} tokens): used {chunker.chunk_size}"
        )
    return report
