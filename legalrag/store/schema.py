"""What the store keeps with each chunk: its text, its metadata, its vector.

Every metadata key a chunk carries is named here, once: ingestion writes
:class:`ChunkMetadata`, retrieval, the BM25 cache, the chat and eval read it. A
store keeps the :meth:`ChunkMetadata.to_store` form (flat strings and integers,
no None: Chroma refuses None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

# The keys of the stored form, each written by ingestion and read back below.
DOCUMENT_ID = "document_id"
SOURCE = "source"
TITLE = "title"
URL = "url"
JURISDICTION = "jurisdiction"
TOPIC = "topic"
CREATED = "created"
CREATED_DAY = "created_day"  # an integer YYYYMMDD, so date ranges filter with $gte/$lte
DOWNLOADED = "downloaded"
CHUNK_INDEX = "chunk_index"
START = "start"
END = "end"
SECTION = "section"  # the section path of the chunk's first character (structured texts)
SUMMARY = "summary"  # the document's summary, when ingest was asked to write them
PAGE = "page"  # the page (1-based) of a paged document's span's first character
PAGES = "pages"  # the pages the span covers: "4", or "4-5" (Chroma takes no lists)
MATTER = "matter"  # the matter a client document belongs to; missing: the public corpus

STORED_KEYS = (DOCUMENT_ID, SOURCE, TITLE, URL, JURISDICTION, TOPIC, CREATED, CREATED_DAY)
STORED_KEYS += (DOWNLOADED, CHUNK_INDEX, START, END, SECTION, SUMMARY, PAGE, PAGES, MATTER)
"""Every key :meth:`ChunkMetadata.to_store` may write."""

SAMPLE_SOURCE = "sample"
"""``source`` of the bundled sample corpus's chunks (the chat says when it is all there is)."""

Vector = Sequence[float]
"""An embedding, as stores take and return it."""

NO_DAY = -1
"""``created_day`` of a chunk without a date, where a number is needed (filter columns)."""

TEXT_FORMAT = 2
"""What a chunk's vector was computed from: 1, its bare text; 2, as 1, but a chunk
with a section path has :func:`context_header` on a line before its text
(:func:`embedded_text`). Recorded in the index: vectors of two formats do not mix."""

PATH_SEPARATOR = " \u203a "
"""Between the headings of a section path, and after the title in a header."""


def page_range(first: int, last: int) -> str:
    """The stored form of the pages a span covers: ``"4"``, or ``"4-5"`` when it runs on
    (spans are contiguous, so a range says it all; Chroma's metadata takes no lists)."""
    return str(first) if last <= first else f"{first}-{last}"


def last_page(pages: str) -> int:
    """The last page of a :func:`page_range` (0 for "")."""
    return int(pages.rpartition("-")[2]) if pages else 0


def page_label(page: int, pages: str) -> str:
    """How a citation names its pages: ``p. 4``, ``pp. 4-5``; "" for a document
    without pages (never "p. 0")."""
    if not page:
        return ""
    return f"pp. {pages}" if "-" in pages else f"p. {page}"


def day_number(iso_date: str) -> int:
    """``2021-03-04`` -> ``20210304``."""
    return int(iso_date.replace("-", ""))


@dataclass(frozen=True)
class ModelStamp:
    """Which embedding model filled a collection: a store refuses another's vectors."""

    model_name: str
    dimension: int
    text_format: int = TEXT_FORMAT
    """:data:`TEXT_FORMAT` of the vectors (an index from before formats were recorded: 1)."""


@dataclass(frozen=True, kw_only=True)
class DocumentSpan:
    """A span of a document (``document.text[start:end]``) and the document's facts a
    lawyer weighs it by: what both a stored chunk and a retrieved passage carry."""

    document_id: str
    title: str = ""
    url: str = ""
    jurisdiction: str = ""
    topic: str = ""
    created: str = ""
    """The document's date, ISO (``2021-03-04``), or "" when it has none."""
    start: int = 0
    end: int = 0
    section: str = ""
    """The headings and numbered units over the span's first character, outermost
    first, joined by :data:`PATH_SEPARATOR`; "" when the document has no structure."""
    page: int = 0
    """The page (1-based, the file's own order) of the span's first character; 0 for a
    document without pages (a post, a text file, a web page): left out when stored or
    shown."""
    pages: str = ""
    """The pages the span covers, as :func:`page_range` writes them ("4", "4-5")."""
    matter: str = ""
    """The matter (:mod:`legalrag.matters`) whose members alone may read the document;
    "" for the public corpus (readable by anyone; a chunk stored without the key too)."""

    def span_facts(self) -> dict[str, Any]:
        """These fields alone, to build another kind of span from this one."""
        return {f.name: getattr(self, f.name) for f in fields(DocumentSpan)}

    @property
    def page_label(self) -> str:
        """``p. 4`` / ``pp. 4-5`` as a citation gives it; "" without pages."""
        return page_label(self.page, self.pages)


def pages_of(spans: Sequence[DocumentSpan]) -> dict[str, Any]:
    """``page`` and ``pages`` of the span that joins these (a merged passage): from the
    first page of the earliest to the last page of any; nothing when none has pages."""
    paged = [span for span in spans if span.page]
    if not paged:
        return {"page": 0, "pages": ""}
    first = min(paged, key=lambda span: span.start).page
    last = max(max(last_page(span.pages), span.page) for span in paged)
    return {"page": first, "pages": page_range(first, last)}


@dataclass(frozen=True, kw_only=True)
class ChunkMetadata(DocumentSpan):
    """One chunk's metadata: its document's, and where the chunk sits in it."""

    source: str = ""
    downloaded: str = ""
    chunk_index: int = 0
    summary: str = ""
    """A model's few-sentence summary of the whole document (``ingest_summaries``), ""
    without one: the same for every chunk of a document."""

    @property
    def created_day(self) -> int | None:
        """``created`` as YYYYMMDD, or None."""
        return day_number(self.created) if self.created else None

    def with_span(self, start: int, end: int) -> ChunkMetadata:
        """The same chunk's metadata with another span (e.g. once merged)."""
        return replace(self, start=start, end=end)

    def to_store(self) -> dict[str, str | int]:
        """The stored form: empty optional fields left out (stores take no None)."""
        meta: dict[str, str | int] = {DOCUMENT_ID: self.document_id, SOURCE: self.source}
        optional = {TITLE: self.title, URL: self.url, JURISDICTION: self.jurisdiction}
        optional[TOPIC] = self.topic
        meta.update({key: value for key, value in optional.items() if value})
        if self.created:
            meta[CREATED] = self.created
            meta[CREATED_DAY] = day_number(self.created)
        if self.downloaded:
            meta[DOWNLOADED] = self.downloaded
        if self.section:
            meta[SECTION] = self.section
        if self.summary:
            meta[SUMMARY] = self.summary
        if self.page:
            meta[PAGE] = self.page
            meta[PAGES] = self.pages or str(self.page)
        # Always written, "" when public: Chroma's filter cannot test for a missing key.
        meta[MATTER] = self.matter
        meta.update({CHUNK_INDEX: self.chunk_index, START: self.start, END: self.end})
        return meta

    @classmethod
    def from_store(cls, meta: Mapping[str, Any] | None) -> ChunkMetadata:
        """Read the stored form back (missing keys take their defaults)."""
        meta = meta or {}
        # Every field is stored under its own name (the keys above), as int or str.
        values = {
            f.name: int(meta[f.name]) if f.type == "int" else str(meta[f.name])
            for f in fields(cls)
            if f.name in meta
        }
        return cls(**{DOCUMENT_ID: "", **values})


def context_header(title: str, section: str) -> str:
    """What places a chunk in its document: its title, :data:`PATH_SEPARATOR`, its
    section path (either alone when the other is empty; the title once when the path
    already begins with it)."""
    if section == title or section.startswith(title + PATH_SEPARATOR):
        return section
    return PATH_SEPARATOR.join(part for part in (title, section) if part)


def embedded_text(text: str, meta: ChunkMetadata) -> str:
    """What is embedded for a chunk (:data:`TEXT_FORMAT` 2): its text, after a line with
    its :func:`context_header` when it has a section path, after its document's summary
    when there is one.

    The stored text, its span and what is quoted stay the document's own characters.
    A chunk without a section path (a post) is embedded bare, as in format 1: a post's
    title opens its text already, and the sample corpus's vectors stay as measured.
    """
    header = context_header(meta.title, meta.section) if meta.section else ""
    return "\n".join(line for line in (meta.summary, header, text) if line)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the store keeps it; ``vector`` is None when not asked for (or not sent)."""

    id: str
    text: str
    metadata: ChunkMetadata
    vector: Sequence[float] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class DenseHit:
    """A chunk a dense query found, with its cosine similarity to the query."""

    chunk: StoredChunk
    similarity: float
