"""The whole document behind a source card (issue 16), as a plain page a lawyer can read.

``GET /document?id=<document id>&start=<s>&end=<e>`` sits behind the login like every
route. It rebuilds the document's text from the store's chunks of it, ordered by their
start offsets and stitched by their exact spans (chunks overlap: each character is
taken once, from the first chunk that holds it), marks ``text[s:e]`` (the cited span,
in the document's own offsets) with ``<mark id="cited">``, and the card's link ends in
``#cited``, so the browser opens the page there. Every character of the document is
HTML-escaped; the page runs no script at all (its Content-Security-Policy allows none).

What the chunks leave out is never filled in. The chunker trims the white space at a
chunk's ends (a line break or two), and keeps a repeated chunk once (whose overlapping
neighbours may cover part of it). So only a hole of a few characters (``TRIMMED``) is
read as trimmed white space and shown as a paragraph break; any longer one may be text
the index does not hold, shown as "[…]" with how many characters are missing.

The matter wall applies: only the chunks the signed-in user may read are used
(:meth:`~legalrag.app.chat.backend.ChatBackend.filters_for`), and a document with none
gets the same 404 as one that does not exist. The route only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from legalrag.app.chat.cards import document_type, jurisdiction_name
from legalrag.app.chat.view import NOT_LEGAL_ADVICE, SAMPLE_BANNER
from legalrag.errors import AccessDeniedError
from legalrag.store.schema import SAMPLE_SOURCE

if TYPE_CHECKING:
    from fastapi import FastAPI

    from legalrag.app.chat.backend import ChatBackend
    from legalrag.store import ChunkStore, Filters
    from legalrag.store.schema import ChunkMetadata, StoredChunk

DOCUMENT_PATH = "/document"
MAX_ID_CHARS = 2000
NOT_FOUND = "No such document."
"""The one answer to an id that no document has and to one the user may not read."""
GAP = "[\u2026]"
TRIMMED = 4
"""The longest hole read as white space the chunker trimmed (the sample's are 1 or 2
characters, its line breaks); anything longer is shown as "[…]", never as a break."""
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}
_STYLE = """
body { font-family: system-ui, sans-serif; color: #222; background: #fff; margin: 0; }
main { max-width: 50em; margin: 0 auto; padding: 12px 16px 40vh; }
h1 { font-size: 1.4em; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; overflow-wrap: anywhere; }
.notice { color: #444; font-size: 0.92em; }
.banner { background: #fff4d6; border: 1px solid #e0b94f; border-radius: 6px; padding: 6px 10px; }
.document-text { white-space: pre-wrap; line-height: 1.5; border-top: 1px solid #bbb;
  padding-top: 8px; overflow-wrap: anywhere; }
.gap-space { display: block; height: 0.75em; }
.gap { display: block; color: #444; font-weight: 600; margin: 0.5em 0; }
mark#cited { background: #fff3a3; color: #222; outline: 2px solid #ff8f00; scroll-margin: 30vh; }
a { color: #0b5394; } a:focus-visible { outline: 3px solid #0b5394; outline-offset: 1px; }
"""


@dataclass(frozen=True)
class Piece:
    """A run of the document's text, ``[start, end)`` in its offsets: the text the
    chunks hold (``text``), or a hole in them (``text`` None)."""

    start: int
    end: int
    text: str | None
    space: bool = False
    """For a hole: True when it can only be white space the chunker trimmed."""


@dataclass(frozen=True)
class WholeDocument:
    """One document as the index holds it: its facts (of its first chunk) and text."""

    facts: ChunkMetadata
    pieces: tuple[Piece, ...]
    chunks: int

    @property
    def missing(self) -> int:
        """How many characters of text (not white space) the index does not hold."""
        return sum(p.end - p.start for p in self.pieces if p.text is None and not p.space)


def stitch(chunks: Sequence[StoredChunk]) -> tuple[Piece, ...]:
    """The document's text from its chunks, by their spans: overlaps taken once, holes
    kept as holes (see the module's docstring for which count as white space)."""
    ordered = sorted(chunks, key=lambda c: (c.metadata.start, -len(c.text)))
    pieces: list[Piece] = []
    cursor = 0
    for chunk in ordered:
        start = chunk.metadata.start
        end = start + len(chunk.text)  # the text is the truth, should a span disagree
        if end <= cursor:
            continue  # wholly inside what is already taken
        if start > cursor:
            pieces.append(Piece(cursor, start, None, space=start - cursor <= TRIMMED))
        taken = max(start, cursor)
        pieces.append(Piece(taken, end, chunk.text[taken - start :]))
        cursor = end
    return tuple(pieces)


def whole_document(store: ChunkStore, document_id: str, filters: Filters) -> WholeDocument | None:
    """The document's chunks that ``filters``' wall lets through, stitched; None when
    it has none (no such document, or none of it readable: the two look the same)."""
    readable = filters.readable_matters()

    def passes(meta: ChunkMetadata) -> bool:
        return meta.document_id == document_id and (not readable or meta.matter in readable)

    found = store.chunks_of_documents([document_id])
    ids = [chunk_id for chunk_id, meta in found.items() if passes(meta)]
    # Checked again on what is read: a document moved to another matter in between
    # must not show.
    chunks = [c for c in store.get(ids).values() if passes(c.metadata)]
    if not chunks:
        return None
    first = min(chunks, key=lambda c: c.metadata.start)
    return WholeDocument(first.metadata, stitch(chunks), len(chunks))


def _marked(pieces: Sequence[Piece], start: int, end: int) -> str:
    """The pieces as escaped HTML, ``[start, end)`` inside ``<mark id="cited">``."""
    out: list[str] = []
    opened = closed = False
    for piece in pieces:
        if piece.text is None:
            if opened and not closed and piece.start >= end:
                out.append("</mark>")
                closed = True
            where = f'data-start="{piece.start}" data-end="{piece.end}"'
            if piece.space:
                out.append(f'<span class="gap-space" {where}></span>')
            else:
                missing = piece.end - piece.start
                out.append(
                    f'<span class="gap" {where}>{GAP} ({missing:,} characters not in the '
                    "index)</span>"
                )
            continue
        cuts = sorted(
            {piece.start, piece.end, *(o for o in (start, end) if piece.start < o < piece.end)}
        )
        for left, right in pairwise(cuts):
            if not opened and left >= start and start < end:
                out.append('<mark id="cited">')
                opened = True
            if opened and not closed and left >= end:
                out.append("</mark>")
                closed = True
            out.append(escape(piece.text[left - piece.start : right - piece.start], quote=False))
    if opened and not closed:
        out.append("</mark>")
    return "".join(out)


def _facts(document: WholeDocument) -> str:
    meta = document.facts
    opening = next((p.text for p in document.pieces if p.text), "")
    kind = document_type(meta.title, meta.url, meta.document_id, opening)
    rows = [
        ("Type", escape(kind)),
        ("Jurisdiction", escape(jurisdiction_name(meta.jurisdiction))),
        ("Date", escape(meta.created[:10] or "no date")),
    ]
    if meta.url.startswith(("http://", "https://")):
        url = escape(meta.url)
        rows.append(("Source", f'<a href="{url}" rel="noopener noreferrer">{url}</a>'))
    rows.append(("Document id", escape(meta.document_id)))
    return "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)


def document_page(document: WholeDocument, start: int | None, end: int | None) -> str:
    """The whole document as an HTML page, ``text[start:end]`` marked (when in it)."""
    meta = document.facts
    title = escape(meta.title or meta.document_id)
    pieces = document.pieces
    last = pieces[-1].end if pieces else 0
    cited = start is not None and end is not None and 0 <= start < end and start < last
    body = _marked(pieces, start or 0, end or 0) if cited else _marked(pieces, 0, 0)
    passages = f"{document.chunks} passage{'s' if document.chunks != 1 else ''}"
    missing = (
        f" {GAP} marks text the index does not hold ({document.missing:,} characters)."
        if document.missing
        else ""
    )
    where = (
        ' <a href="#cited">Go to the cited passage</a> (marked).'
        if cited
        else " No passage is marked."
    )
    banner = (
        f'<p class="banner">\u26a0 {escape(SAMPLE_BANNER)}</p>'
        if meta.source == SAMPLE_SOURCE
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} \u2014 whole document \u2014 legalrag</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        f'<h1>{title}</h1>{banner}<dl class="facts">{_facts(document)}</dl>'
        f'<p class="notice">The whole text as the index holds it, rebuilt from its '
        f"{passages}.{missing}{where} {escape(NOT_LEGAL_ADVICE)}</p>"
        f'<div class="document-text" id="document-text">{body}</div>'
        "</main></body></html>\n"
    )


def _error_page(status: int, message: str) -> Any:
    from fastapi.responses import HTMLResponse

    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(message)} \u2014 legalrag</title></head>"
        f"<body><main><h1>{escape(message)}</h1></main></body></html>\n"
    )
    return HTMLResponse(page, status_code=status, headers=_HEADERS)


def _offset(value: str | None) -> int | None:
    """A character offset from the query (None when not given); ValueError if bad."""
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


def add_whole_document_route(
    app: FastAPI, backend: ChatBackend, user_of: Callable[[Request], str | None]
) -> None:
    """``GET /document?id=…&start=…&end=…``: the whole document, its cited span marked."""
    from fastapi.responses import HTMLResponse

    @app.get(DOCUMENT_PATH, include_in_schema=False)
    def whole(request: Request) -> Any:
        document_id = request.query_params.get("id", "")
        if not document_id.strip():
            return _error_page(400, "Say which document: /document?id=<document id>.")
        if len(document_id) > MAX_ID_CHARS:
            return _error_page(400, f"A document id is at most {MAX_ID_CHARS} characters.")
        try:
            start = _offset(request.query_params.get("start"))
            end = _offset(request.query_params.get("end"))
        except ValueError:
            return _error_page(
                400, "start and end are character offsets: whole numbers, 0 or more."
            )
        try:
            filters = backend.filters_for(user_of(request), None, None)
        except AccessDeniedError:  # a name the users do not know reads nothing
            return _error_page(404, NOT_FOUND)
        document = whole_document(backend.retriever.store, document_id, filters)
        if document is None:
            return _error_page(404, NOT_FOUND)
        return HTMLResponse(document_page(document, start, end), headers=_HEADERS)
