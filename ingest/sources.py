"""Where records come from: the bundled sample, local files, or a pile-of-law subset.

Every reader is a generator, so a corpus of any size streams through in constant
memory, and every reader turns a bad record into a :class:`Rejected` instead of
stopping the run.
"""

from __future__ import annotations

import codecs
import io
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from legalrag.errors import SourceError
from legalrag.ingest.pile_of_law import DEFAULT_SUBSET, Subset, read_row, subset_named
from legalrag.ingest.pile_of_law import data_files as pile_of_law_files
from legalrag.ingest.readers import READER_SUFFIXES, ReadOptions, reader_for
from legalrag.ingest.records import (
    Rejected,
    SourceDocument,
    parse_record,
    text_problem,
    title_of,
)
from legalrag.store.schema import SAMPLE_SOURCE

Item = SourceDocument | Rejected

JSONL_SUFFIXES = (".jsonl",)
TEXT_SUFFIXES = (".txt", ".md")


def sample_corpus_file() -> Path:
    """The illustrative sample corpus shipped in the package."""
    path = resources.files("legalrag.ingest") / "sample_corpus" / "legal_advice_sample.jsonl"
    return Path(str(path))


class _Undecodable(ValueError):
    """A whole file that is not text in an encoding we can read (the reason)."""


# Byte-order marks, longest first (UTF-32 LE's starts with UTF-16 LE's), and the codec
# that reads past each one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
SNIFF_BYTES = 4096
_SAVE_AS_UTF8 = "save it as UTF-8"


def sniff_encoding(head: bytes) -> str:
    """The codec for a file starting with ``head``: its BOM's, else UTF-8.

    Raises :class:`_Undecodable` for what UTF-8 would read as garbage: NUL bytes
    (UTF-16 or UTF-32 without a byte-order mark, or a binary file). NUL is valid
    UTF-8, so a UTF-16 file of ASCII text decoded "cleanly", one NUL per letter.
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" not in head:
        return "utf-8"
    even, odd = head[0::2], head[1::2]
    for nuls, other in ((odd, even), (even, odd)):
        if nuls.count(0) >= 0.9 * len(nuls) and other.count(0) <= 0.1 * len(other):
            raise _Undecodable(
                f"looks like UTF-16 without a byte-order mark (NUL bytes between the "
                f"letters): {_SAVE_AS_UTF8}, or as UTF-16 with a BOM"
            )
    raise _Undecodable(f"holds NUL bytes: a binary file, or not UTF-8 text ({_SAVE_AS_UTF8})")


def _label(encoding: str) -> str:
    return encoding.removesuffix("-sig").upper()


def shown_path(path: Path) -> str:
    """``path`` as text that can always be printed and logged: a file name's bytes
    that are not UTF-8 (kept by Python as lone surrogates) are shown as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _jsonl_lines(stream: BinaryIO, name: str) -> Iterator[tuple[str, str] | Rejected]:
    """(location, line) for each line of a JSONL stream, or why a line (or the rest of
    the file) cannot be read. A UTF-8 file is decoded line by line, so one bad line
    costs only itself; a UTF-16/32 file (it has a BOM) is decoded as a stream."""
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    try:
        encoding = sniff_encoding(head)
    except _Undecodable as exc:
        yield Rejected(name, str(exc))
        return
    if encoding.startswith("utf-8"):
        for number, raw in enumerate(stream, start=1):
            location = f"{name}:{number}"
            if b"\x00" in raw:
                yield Rejected(location, f"holds NUL bytes: not UTF-8 text ({_SAVE_AS_UTF8})")
                continue
            try:
                # A BOM may start any line: files concatenated with `cat` keep theirs.
                yield location, raw.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError as exc:
                yield Rejected(location, f"not UTF-8: {exc.reason} at byte {exc.start}")
        return
    # surrogatepass: an unpaired surrogate costs its own line (rejected below), not the
    # rest of the file, which a decoding error would end.
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogatepass")
    number = 0
    try:
        for number, line in enumerate(text, start=1):
            if text_problem(line, "the line") is None:
                yield f"{name}:{number}", line
            else:
                yield Rejected(
                    f"{name}:{number}", f"not valid {_label(encoding)}: an unpaired surrogate"
                )
    except UnicodeDecodeError as exc:
        # Decoded in blocks, so the bad bytes are at or after this line.
        yield Rejected(
            f"{name}:{number + 1}",
            f"not valid {_label(encoding)}: {exc.reason}; the rest of the file is skipped",
        )


def _read_jsonl_stream(
    stream: BinaryIO, *, name: str, source: str, max_chars: int
) -> Iterator[Item]:
    for read in _jsonl_lines(stream, name):
        if isinstance(read, Rejected):
            yield read
            continue
        location, line = read[0], read[1].strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejected(location, f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, [[[[…]]]]
            yield Rejected(location, f"invalid JSON: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        yield parse_record(record, location=location, source=source, max_chars=max_chars)


def read_jsonl(path: Path, *, source: str, max_chars: int) -> Iterator[Item]:
    """Records from a JSONL file, one per line, with 1-based line numbers.

    UTF-8 (a BOM is skipped), or UTF-16/UTF-32 with a BOM; a file that is neither
    is rejected whole, with the reason, instead of being read as garbage.
    """
    with path.open("rb") as stream:
        yield from _read_jsonl_stream(
            stream, name=shown_path(path), source=source, max_chars=max_chars
        )


def decode_text(data: bytes) -> str:
    """A text file's bytes as text: UTF-8 (a BOM skipped) or UTF-16/32 with a BOM.

    Raises ValueError (the reason) for anything else, or for text holding NULs.
    """
    encoding = sniff_encoding(data[:SNIFF_BYTES])
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not {_label(encoding)}: {exc.reason} at byte {exc.start}") from None
    if "\x00" in text:
        raise ValueError(f"holds NUL characters: not plain text ({_SAVE_AS_UTF8})")
    return text


def read_text_file(path: Path, *, document_id: str, source: str, max_chars: int) -> Item:
    """A whole .txt/.md file as one document."""
    location = shown_path(path)
    problem = text_problem(document_id, "the file name")
    if problem:  # the id is the file's name: it must be storable text too
        return Rejected(location, problem)
    try:
        text = decode_text(path.read_bytes())
    except ValueError as exc:
        return Rejected(location, str(exc))
    except OSError as exc:
        return Rejected(location, f"unreadable: {exc.strerror}")
    if not text.strip():
        return Rejected(location, "empty file")
    if len(text) > max_chars:
        return Rejected(location, f"{len(text):,} characters (limit {max_chars:,})")
    return SourceDocument(
        document_id=document_id,
        text=text,
        source=source,
        title=title_of(text) or path.stem,
        location=location,
    )


def read_sample(*, max_chars: int) -> Iterator[Item]:
    """The bundled illustrative corpus."""
    yield from read_jsonl(sample_corpus_file(), source=SAMPLE_SOURCE, max_chars=max_chars)


def read_path(path: Path, *, max_chars: int, options: ReadOptions | None = None) -> Iterator[Item]:
    """A JSONL, text/Markdown, PDF, Word, HTML or image file, or a folder of them
    (recursively, sorted); ``options`` for the document readers (OCR).

    A file's document id is its path relative to the folder given (or its
    name, for a single file), so results can be matched to span-annotated
    benchmarks. A path that cannot be read at all fails here, before anything is
    loaded or opened; bad records inside it are rejected as they stream.
    """
    if not path.exists():
        raise SourceError(f"no such file or folder: {shown_path(path)}")
    chosen = options or ReadOptions(max_chars=max_chars)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES + TEXT_SUFFIXES + READER_SUFFIXES:
            return _read_file(path, path.name, shown_path(path), chosen)
        known = ", ".join(JSONL_SUFFIXES + TEXT_SUFFIXES + READER_SUFFIXES)
        raise SourceError(f"unsupported file type {path.suffix!r}: give {known} files")
    return _read_folder(path, options=chosen)


DOCUMENT_SUFFIXES = TEXT_SUFFIXES + READER_SUFFIXES
"""The file types that hold one document each (a JSONL file holds many records)."""


def read_document(path: Path, *, document_id: str, source: str, options: ReadOptions) -> Item:
    """One file of :data:`DOCUMENT_SUFFIXES` as its one document, or why not."""
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        known = ", ".join(DOCUMENT_SUFFIXES)
        return Rejected(shown_path(path), f"unsupported file type {path.suffix!r}: give {known}")
    return next(_read_file(path, document_id, source, options))


def _read_file(path: Path, document_id: str, source: str, options: ReadOptions) -> Iterator[Item]:
    """One file's records, by its type (the one place a type picks a reader)."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl(path, source=source, max_chars=options.max_chars)
        return
    if suffix in TEXT_SUFFIXES:
        yield read_text_file(
            path, document_id=document_id, source=source, max_chars=options.max_chars
        )
        return
    reader = reader_for(path, options)
    if reader is None:
        yield Rejected(shown_path(path), f"unsupported file type {suffix or '(none)'!r}")
        return
    read = reader.read(path, document_id=document_id, source=source)
    # Where it was read, as every other reader reports it (printable, whatever the name).
    if isinstance(read, Rejected):
        yield Rejected(shown_path(path), read.reason)
    else:
        yield replace(read, location=shown_path(path))


def _read_folder(path: Path, *, options: ReadOptions) -> Iterator[Item]:
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    for file in files:
        relative = file.relative_to(path).as_posix()
        yield from _read_file(file, relative, shown_path(path), options)


def read_pile_of_law(
    data_files: str, *, split: str, max_chars: int, subset: Subset | None = None
) -> Iterator[Item]:
    """One pile-of-law subset's split (r_legaladvice unless given), streamed through
    the `datasets` JSON loader, each row read by its subset's reader.

    ``datasets`` >= 4 no longer runs the data set's loading script, so its
    ``data/{split}.{subset}.jsonl.xz`` files are read directly (``{subset}`` is the
    subset's file stem, a ``*`` pattern for sharded ones). ``data_files`` may be a hub
    path or a local file. A bad split or template fails here, before anything is
    loaded; a file that cannot be read fails as the rows stream.
    """
    chosen = subset_named(None) if subset is None else subset
    files = pile_of_law_files(data_files, chosen, split)
    return _stream_pile_of_law(files, chosen, split=split, max_chars=max_chars)


def _stream_pile_of_law(
    files: str, subset: Subset, *, split: str, max_chars: int
) -> Iterator[Item]:
    from datasets import load_dataset

    location_prefix = (
        f"pile-of-law:{split}"
        if subset.name == DEFAULT_SUBSET
        else (f"pile-of-law/{subset.name}:{split}")
    )
    try:
        rows = load_dataset("json", data_files={split: files}, split=split, streaming=True)
        for number, row in enumerate(rows, start=1):
            yield read_row(row, subset, location=f"{location_prefix}:{number}", max_chars=max_chars)
    except (OSError, ValueError) as exc:
        raise SourceError(
            f"cannot read pile-of-law {subset.name} {split} from {files}: {exc}"
        ) from exc
