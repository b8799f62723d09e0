"""`legalrag ingest`: chunk, embed and index a corpus."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from legalrag.cli import render
from legalrag.cli.options import INDEX, JsonOpt, SharedOptions, setting_flag, shared_options
from legalrag.errors import SourceError
from legalrag.ingest.pile_of_law import DEFAULT_SUBSET, SUBSETS, subset_named

if TYPE_CHECKING:
    from legalrag.ingest.run import Source
    from legalrag.settings import Settings


@shared_options(
    INDEX,
    setting_flag("--chunk-size", "chunk_size"),
    setting_flag("--chunk-overlap", "chunk_overlap", help="Overlap in model tokens."),
    setting_flag("--ocr", "ocr"),
)
def ingest(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A JSONL, .txt/.md, PDF, .docx, HTML or image file, or a folder of them."
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="sample (default) or pile-of-law; not with PATH."),
    ] = None,
    split: Annotated[str, typer.Option(help="pile-of-law split: train or validation.")] = "train",
    subset: Annotated[
        str | None,
        typer.Option(
            help=f"pile-of-law subset ({DEFAULT_SUBSET} unless given): {', '.join(SUBSETS)}."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Read at most N records.")] = None,
    partition: Annotated[
        str, typer.Option(help="Ingest the deterministic share i/N of the records.")
    ] = "0/1",
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the index already has chunks.")
    ] = False,
    matter: Annotated[
        str | None,
        typer.Option(
            help="Put the documents in this matter (`legalrag matter create` it first): "
            "only its members may read them. Without: the public corpus. Re-ingesting a "
            "document moves it to the matter given (or to the public corpus)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    as_json: JsonOpt = False,
    *,
    shared: SharedOptions,
) -> None:
    """Chunk, embed and index a corpus (resumable: re-running adds only what is missing)."""
    from legalrag.ingest.partition import Partition
    from legalrag.ingest.run import Source

    named = _named_source(source)
    if subset is not None:
        if named is not Source.pile_of_law:
            raise SourceError(
                "--subset names a pile-of-law subset: give it with --source pile-of-law"
            )
        subset_named(subset)  # an unknown one is a usage error before anything is loaded
    try:
        share = Partition.parse(partition)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    settings = shared.settings(
        hub_needed=lambda s: named is Source.pile_of_law and "://" in s.pile_of_law_data_files,
    )
    if matter is not None:
        from legalrag.matters import open_registry

        open_registry(settings).require(matter)  # before any model loads or file is read
    already = _chunks_indexed(settings) if if_empty else 0
    if already:
        if not quiet:
            render.note(f"index already holds {already:,} chunks; nothing to do")
        return
    from legalrag.ingest.run import ingest as run_ingest

    report = run_ingest(
        settings,
        source=named,
        path=path,
        split=split,
        subset=subset,
        limit=limit,
        partition=share,
        matter=matter or "",
        quiet=quiet or as_json,
        console=render.err,
    )
    if as_json:
        render.print_json(report.as_dict())
        return
    render.ingest_summary(report, quiet=quiet)


def _named_source(source: str | None) -> Source | None:
    """``--source`` as one of the corpora ingest knows, or a :class:`SourceError`."""
    from legalrag.ingest.run import Source

    if source is None:
        return None
    try:
        return Source(source)
    except ValueError:
        known = " or ".join(known.value for known in Source)
        raise SourceError(f"unknown --source {source!r}: use {known}") from None


def _chunks_indexed(settings: Settings) -> int:
    from legalrag.errors import IndexNotFoundError
    from legalrag.factory import open_store

    try:
        return open_store(settings).count()
    except IndexNotFoundError:
        return 0
