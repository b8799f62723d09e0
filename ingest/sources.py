"""Where records come from: the bundled sample, local files, or pile-of-law.

Every reader is a generator, so a corpus of any size streams through in constant
memory, and every reader turns a bad record into a :class:`Rejected` instead of
stopping the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from legalrag.errors import SourceError
from legalrag.ingest.records import Rejected, SourceDocument, parse_record, title_of
from legalrag.store.schema import SAMPLE_SOURCE

Item = SourceDocument | Rejected

JSONL_SUFFIXES = (".jsonl",)
TEXT_SUFFIXES = (".txt", ".md")
# Row counts published for pile-of-law's legal-advice files, to catch a partial read.
PILE_OF_LAW_ROWS = {"train": 109_740}


def sample_corpus_file() -> Path:
    """The illustrative sample corpus shipped in the package."""
    path = resources.files("legalrag.ingest") / "sample_corpus" / "legal_advice_sample.jsonl"
    return Path(str(path))


def _read_jsonl_stream(
    stream: BinaryIO, *, name: str, source: str, max_chars: int
) -> Iterator[Item]:
    for number, raw in enumerate(stream, start=1):
        location = f"{name}:{number}"
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield Rejected(location, f"not UTF-8: {exc.reason} at byte {exc.start}")
            continue
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejected(location, f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        yield parse_record(record, location=location, source=source, max_chars=max_chars)


def read_jsonl(path: Path, *, source: str, max_chars: int) -> Iterator[Item]:
    """Records from a JSONL file, one per line, with 1-based line numbers."""
    with path.open("rb") as stream:
        yield from _read_jsonl_stream(stream, name=str(path), source=source, max_chars=max_chars)


def read_text_file(path: Path, *, document_id: str, source: str, max_chars: int) -> Item:
    """A whole .txt/.md file as one document."""
    location = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected(location, f"not UTF-8: {exc.reason} at byte {exc.start}")
    except OSError as exc:
        return Rejected(location, f"unreadable: {exc.strerror}")
    if not text.strip():
        return Rejected(location, "empty file")
    if len(text) > max_chars:
        return Rejected(location, f"{len(text):,} characters (limit {max_chars:,})")
    return SourceDocument(
        document_id=document_id, text=text, source=source, title=title_of(text) or path.stem
    )


def read_sample(*, max_chars: int) -> Iterator[Item]:
    """The bundled illustrative corpus."""
    yield from read_jsonl(sample_corpus_file(), source=SAMPLE_SOURCE, max_chars=max_chars)


def read_path(path: Path, *, max_chars: int) -> Iterator[Item]:
    """A JSONL file, a text/Markdown file, or a folder of them (recursively, sorted).

    A text file's document id is its path relative to the folder given (or its
    name, for a single file), so results can be matched to span-annotated
    benchmarks. A path that cannot be read at all fails here, before anything is
    loaded or opened; bad records inside it are rejected as they stream.
    """
    if not path.exists():
        raise SourceError(f"no such file or folder: {path}")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            return read_jsonl(path, source=str(path), max_chars=max_chars)
        if suffix in TEXT_SUFFIXES:
            return iter(
                [read_text_file(path, document_id=path.name, source=str(path), max_chars=max_chars)]
            )
        raise SourceError(f"unsupported file type {path.suffix!r}: give .jsonl, .txt or .md files")
    return _read_folder(path, max_chars=max_chars)


def _read_folder(path: Path, *, max_chars: int) -> Iterator[Item]:
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    for file in files:
        relative = file.relative_to(path).as_posix()
        suffix = file.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            yield from read_jsonl(file, source=str(path), max_chars=max_chars)
        elif suffix in TEXT_SUFFIXES:
            yield read_text_file(file, document_id=relative, source=str(path), max_chars=max_chars)
        else:
            yield Rejected(str(file), f"unsupported file type {suffix or '(none)'!r}")


def read_pile_of_law(data_files: str, *, split: str, max_chars: int) -> Iterator[Item]:
    """pile-of-law's legal-advice split, streamed through the `datasets` JSON loader.

    ``datasets`` >= 4 no longer runs the data set's loading script, so its
    ``data/{split}.r_legaldvice.jsonl.xz`` files are read directly (the misspelling
    is upstream's). ``data_files`` may be a hub path or a local file.
    """
    from datasets import load_dataset

    location_prefix = f"pile-of-law:{split}"
    try:
        rows = load_dataset(
            "json", data_files={split: data_files.format(split=split)}, split=split, streaming=True
        )
        for number, row in enumerate(rows, start=1):
            yield parse_record(
                row,
                location=f"{location_prefix}:{number}",
                source="pile-of-law",
                max_chars=max_chars,
            )
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot read pile-of-law {split} from {data_files}: {exc}") from exc
