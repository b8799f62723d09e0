"""Corpus records: the documents ingestion accepts, and the ones it rejects.

A record has pile-of-law ``r_legaladvice``'s shape: ``text`` ("Title: … Question: …"
then answers), ``created_timestamp`` and ``downloaded_timestamp`` (MM-DD-YYYY) and
``url``; our own corpora add ``jurisdiction`` and ``topic``, and may give an ``id``.
pile-of-law's other subsets are validated here too, then given their own title and
jurisdiction by their reader in ``ingest/pile_of_law.py``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from legalrag.store import ChunkMetadata
from legalrag.store.schema import page_range

_TITLE = re.compile(r"^\s*Title:\s*(.+)$", re.MULTILINE)
_DATE_FORMATS = ("%m-%d-%Y", "%Y-%m-%d")
# The string fields a record is read from; every one is checked to be encodable text
# before any is used (a lone surrogate crashed the tokenizer and the store).
_STRING_FIELDS = (
    "text",
    "id",
    "url",
    "jurisdiction",
    "topic",
    "created_timestamp",
    "downloaded_timestamp",
)


@dataclass(frozen=True)
class PageRead:
    """How one page of a paged file was read: from its text layer or by OCR (with the
    OCR's mean word confidence, 0-100), and what is wrong with it ("" when nothing)."""

    page: int
    method: str  # "text" or "ocr"
    chars: int
    confidence: float | None = None
    problem: str = ""
    """e.g. "no text", "OCR confidence 41 (under 60)": reported, the page kept."""


@dataclass(frozen=True)
class SourceDocument:
    """One document to index, with the metadata the app shows and filters on."""

    document_id: str
    text: str
    source: str
    title: str = ""
    url: str = ""
    created: date | None = None
    downloaded: date | None = None
    jurisdiction: str = ""
    topic: str = ""
    location: str = field(default="", compare=False)
    """Where the record was read (``file:line``), to report a duplicate id; not stored."""
    page_starts: tuple[int, ...] = ()
    """Where each page begins in ``text`` (page n at ``page_starts[n - 1]``); () for a
    document without pages."""
    pages_read: tuple[PageRead, ...] = field(default=(), compare=False)
    """How each page was read, for the ingest report; not stored."""

    def pages_at(self, start: int, end: int) -> dict[str, int | str]:
        """``page`` and ``pages`` of ``text[start:end]`` ({} without pages)."""
        if not self.page_starts:
            return {}
        first = max(1, bisect.bisect_right(self.page_starts, start))
        last = max(first, bisect.bisect_right(self.page_starts, max(start, end - 1)))
        return {"page": first, "pages": page_range(first, last)}

    def metadata(self, *, chunk_index: int = 0, start: int = 0, end: int = 0) -> ChunkMetadata:
        """The metadata one of its chunks carries (that chunk's place given)."""
        dates = {"created": self.created, "downloaded": self.downloaded}
        iso = {name: "" if day is None else day.isoformat() for name, day in dates.items()}
        shown = {"title": self.title, "url": self.url, "jurisdiction": self.jurisdiction}
        return ChunkMetadata(
            document_id=self.document_id,
            source=self.source,
            topic=self.topic,
            chunk_index=chunk_index,
            start=start,
            end=end,
            **shown,
            **iso,
            **self.pages_at(start, end),
        )


@dataclass(frozen=True)
class Rejected:
    """A record that was skipped, where it was, and why."""

    location: str
    reason: str


def text_fingerprint(text: str) -> str:
    """A stable short id for a text that has no id or url of its own."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def title_of(text: str) -> str:
    """The "Title: …" line of a legal-advice post, or the first non-empty line."""
    match = _TITLE.search(text[:2000])
    if match:
        return match.group(1).strip()
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""


def text_problem(value: str, what: str) -> str | None:
    """Why ``value`` cannot be stored or tokenized as text, or None when it can.

    JSON's ``"\\ud83d"`` (half of an emoji, as a truncating tool leaves it) decodes to a
    lone surrogate: a Python string that no UTF-8 encoder accepts. A NUL is what a
    binary or UTF-16 source leaves in text.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        return (
            f"{what} holds a lone surrogate (\\u{code:04x}, half of a character) at "
            f"character {exc.start + 1}: not encodable as UTF-8"
        )
    if "\x00" in value:
        return f"{what} holds a NUL character at character {value.index(chr(0)) + 1}"
    return None


def _document_id(record: dict[str, Any]) -> str | None:
    """The record's own id as given (an integer as its decimal digits), or None."""
    value = record.get("id")
    # bool first: True is an int to Python, and became the id "True".
    if isinstance(value, bool) or not isinstance(value, str | int | None):
        shown = json.dumps(value, default=repr)[:40]
        raise ValueError(f"id must be a string or an integer, got {type(value).__name__} {shown}")
    if value is None or value == "":
        return None
    return str(value)


def parse_date(value: Any, field: str) -> date | None:
    """A record's MM-DD-YYYY (or YYYY-MM-DD) date, None when absent; ValueError else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, got {type(value).__name__}")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{field} {value!r} is not a MM-DD-YYYY date")


def _optional_str(record: dict[str, Any], field: str) -> str:
    value = record.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, got {type(value).__name__}")
    return value.strip()


def parse_record(
    record: Any, *, location: str, source: str, max_chars: int
) -> SourceDocument | Rejected:
    """Validate one legal-advice record; never raises on bad data."""
    if not isinstance(record, dict):
        return Rejected(location, f"expected a JSON object, got {type(record).__name__}")
    for name in _STRING_FIELDS:
        value = record.get(name)
        problem = text_problem(value, name) if isinstance(value, str) else None
        if problem:
            return Rejected(location, problem)
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Rejected(location, "missing or empty 'text'")
    if len(text) > max_chars:
        return Rejected(location, f"'text' has {len(text):,} characters (limit {max_chars:,})")
    try:
        url = _optional_str(record, "url")
        record_id = _document_id(record)
        return SourceDocument(
            document_id=record_id if record_id is not None else url or text_fingerprint(text),
            text=text,
            source=source,
            title=title_of(text),
            url=url,
            created=parse_date(record.get("created_timestamp"), "created_timestamp"),
            downloaded=parse_date(record.get("downloaded_timestamp"), "downloaded_timestamp"),
            jurisdiction=_optional_str(record, "jurisdiction").upper(),
            topic=_optional_str(record, "topic"),
            location=location,
        )
    except ValueError as exc:
        return Rejected(location, str(exc))
