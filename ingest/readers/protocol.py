"""What every document reader is: a file in, one document (or why not) out.

A reader turns one file of its format into a :class:`SourceDocument` whose text is
what was extracted (offsets into it are exact) and, for a paged format, where each
page begins; or into a :class:`Rejected` with the reason, never a half-read document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from legalrag.ingest.records import PageRead, Rejected, SourceDocument, text_problem, title_of

OcrMode = Literal["auto", "always", "never"]

PAGE_BREAK = "\n\n"
"""Between two pages' texts: a paragraph break, so no chunk joins two pages' words."""


@dataclass(frozen=True)
class ReadOptions:
    """The settings a reader needs (built from :class:`Settings` in ``ingest/run.py``)."""

    max_chars: int
    ocr: OcrMode = "auto"
    ocr_language: str = "eng"
    ocr_min_confidence: float = 60.0
    ocr_dpi: int = 300


class DocumentReader(Protocol):
    """Reads one file format."""

    suffixes: tuple[str, ...]
    """The file name endings it reads (lower case, with the dot)."""

    def read(self, path: Path, *, document_id: str, source: str) -> SourceDocument | Rejected:
        """The file as one document, or why it cannot be indexed."""
        ...


@dataclass(frozen=True)
class Page:
    """One page's extracted text and how it was read."""

    text: str
    method: str = "text"
    confidence: float | None = None


def paged_document(
    pages: Sequence[Page],
    *,
    path: Path,
    document_id: str,
    source: str,
    options: ReadOptions,
    location: str,
    title: str = "",
) -> SourceDocument | Rejected:
    """The document made of these pages, each page's start kept, each empty or
    low-confidence page reported; rejected when no page holds text."""
    parts: list[str] = []
    starts: list[int] = []
    reads: list[PageRead] = []
    cursor = 0
    for number, page in enumerate(pages, start=1):
        text = page.text.strip()
        if parts:
            cursor += len(PAGE_BREAK)
        starts.append(cursor)
        parts.append(text)
        cursor += len(text)
        reads.append(_page_read(number, page, text, options))
    text = PAGE_BREAK.join(parts)
    if not text.strip():
        if not pages:
            return Rejected(location, "no pages")
        hint = " (scanned? OCR is off: --ocr auto)" if options.ocr == "never" else ""
        return Rejected(location, f"no text on any of its {len(pages)} pages{hint}")
    return finished(
        text,
        path=path,
        document_id=document_id,
        source=source,
        options=options,
        location=location,
        page_starts=tuple(starts),
        pages_read=tuple(reads),
        title=title,
    )


def _page_read(number: int, page: Page, text: str, options: ReadOptions) -> PageRead:
    problem = ""
    if not text:
        problem = "no text found" + (" (OCR off)" if page.method == "text" else " by OCR")
    elif page.confidence is not None and page.confidence < options.ocr_min_confidence:
        problem = (
            f"OCR confidence {page.confidence:.0f} (under {options.ocr_min_confidence:.0f}):"
            " check the scan"
        )
    return PageRead(number, page.method, len(text), page.confidence, problem)


def finished(
    text: str,
    *,
    path: Path,
    document_id: str,
    source: str,
    options: ReadOptions,
    location: str,
    page_starts: tuple[int, ...] = (),
    pages_read: tuple[PageRead, ...] = (),
    title: str = "",
) -> SourceDocument | Rejected:
    """The extracted text as a document, after the checks every reader's output passes."""
    problem = text_problem(document_id, "the file name") or text_problem(text, "the text")
    if problem:
        return Rejected(location, problem)
    if not text.strip():
        return Rejected(location, "no text found")
    if len(text) > options.max_chars:
        return Rejected(location, f"{len(text):,} characters (limit {options.max_chars:,})")
    return SourceDocument(
        document_id=document_id,
        text=text,
        source=source,
        title=title or title_of(text) or path.stem,
        location=location,
        page_starts=page_starts,
        pages_read=pages_read,
    )
