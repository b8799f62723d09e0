"""The cited page of an uploaded document, shown in its source card (issue 18).

A paged upload's card shows the page each cited span is on (from the page starts
recorded at upload, so the page is the span's, not the chunk's first), rendered by
pypdfium2 and cached as a PNG under ``<data_dir>/page-images/<id>/<n>.png``, served
by ``GET /pages/<id>/<n>.png`` behind the login. The span is marked on the image where
the page's text layer holds it: its letters and digits are found among the page's
(spacing, line breaks and hyphenation differ between the two), and PDFium's
rectangles of those characters are drawn over the image, in percent of the page. A
scan (text by OCR) has no text layer: its page is shown unmarked, and says so.

PDFium is not thread-safe: every call into it here, and the upload's reading of a
file, holds :data:`PDFIUM_LOCK`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legalrag.app.chat.files import PAGED, Upload, Uploads

if TYPE_CHECKING:
    from fastapi import FastAPI

    from legalrag.app.answers import AnswerSource

PDFIUM_LOCK = threading.RLock()
RENDER_SCALE = 1.5
"""108 dpi: a letter page 918 px wide, readable in the sources column when enlarged."""
MAX_PAGES_SHOWN = 3
Box = tuple[float, float, float, float]
"""left, top, width, height in percent of the page."""
PageView = Callable[["AnswerSource", Sequence[tuple[int, int]]], str]
"""(source, cited spans in the source's text) -> the card's page figure ("" for none)."""


def page_image(upload: Upload, page: int, cache: Path) -> Path | None:
    """The PNG of ``upload``'s page ``page`` (rendered once, then from the cache)."""
    if upload.suffix != ".pdf" or not 1 <= page <= max(upload.pages, 1):
        return None
    target = cache / upload.upload_id / f"{page}.png"
    if target.is_file():
        return target
    import pypdfium2 as pdfium

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(upload.path)
        try:
            if page > len(document):
                return None
            bitmap = document[page - 1].render(scale=RENDER_SCALE)
            bitmap.to_pil().save(partial, format="PNG")
        finally:
            document.close()
    partial.replace(target)  # a reader never sees half an image
    return target


def _key(text: str) -> tuple[str, list[int]]:
    """The letters and digits of ``text``, lower case, and where each one was."""
    kept = [(i, c.lower()) for i, c in enumerate(text) if c.isalnum()]
    return "".join(c for _, c in kept), [i for i, _ in kept]


@functools.lru_cache(maxsize=256)
def locate(path: Path, page: int, span: str) -> tuple[Box, ...]:
    """Where ``span`` is on the PDF's page ``page`` (line boxes), () when not found."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    wanted, _ = _key(span)
    if len(wanted) < 3:
        return ()
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(path)
        try:
            if not 1 <= page <= len(document):
                return ()
            pdf_page = document[page - 1]
            width, height = pdf_page.get_size()
            textpage = pdf_page.get_textpage()
            count = textpage.count_chars()
            chars = "".join(
                chr(raw.FPDFText_GetUnicode(textpage.raw, i) or 32) for i in range(count)
            )
            found, where = _key(chars)
            at = found.find(wanted)
            if at < 0:
                return ()
            first, last = where[at], where[at + len(wanted) - 1]
            rects = [
                textpage.get_rect(i) for i in range(textpage.count_rects(first, last - first + 1))
            ]
        finally:
            document.close()
    return tuple(
        (
            round(100 * left / width, 2),
            round(100 * (height - top) / height, 2),
            round(100 * (right - left) / width, 2),
            round(100 * (top - bottom) / height, 2),
        )
        for left, bottom, right, top in rects
    )


def cited_pages(
    upload: Upload, source: AnswerSource, spans: Sequence[tuple[int, int]]
) -> dict[int, list[str]]:
    """Each page a cited span is on, with the span's text on that page (a span across
    a page break is cut there)."""
    pages: dict[int, list[str]] = {}
    for start, end in spans:
        begin, finish = source.start + start, source.start + end
        while begin < finish:
            page = upload.page_of(begin)
            next_start = upload.page_starts[page] if page < upload.pages else finish
            stop = min(finish, max(next_start, begin + 1))
            text = source.text[begin - source.start : stop - source.start]
            if text.strip():
                pages.setdefault(page, []).append(text)
            begin = stop
    return pages


def _figure(upload: Upload, page: int, boxes: Sequence[Box], *, located: bool) -> str:
    title = escape(upload.title or upload.name)
    if upload.suffix == ".pdf":
        image = f"pages/{upload.upload_id}/{page}.png"
    else:  # an image is its own one page
        image = f"files/{upload.upload_id}"
    marks = "".join(
        f'<span class="page-mark" style="left:{x}%;top:{y}%;width:{w}%;height:{h}%"></span>'
        for x, y, w, h in boxes
    )
    note = (
        ""
        if located
        else " · the cited words are not marked: not found in the page's text layer "
        "(a scan has none)"
    )
    link = f"files/{upload.upload_id}#page={page}"
    return (
        f'<figure class="page-view" data-page="{page}">'
        f'<div class="page-image"><img src="{image}" loading="lazy" '
        f'alt="Page {page} of {title}, the cited passage marked">{marks}</div>'
        f'<figcaption>p. {page}{note} · <a href="{link}" target="_blank" '
        f'rel="noopener noreferrer">Open the original at p. {page}</a></figcaption></figure>'
    )


def page_views(uploads: Uploads) -> PageView:
    """The card's page figures for ``uploads``' documents."""

    def view(source: AnswerSource, spans: Sequence[tuple[int, int]]) -> str:
        upload = uploads.of_source(source)
        if upload is None or upload.suffix not in PAGED:
            return ""
        pages = cited_pages(upload, source, spans) if upload.pages else {}
        if not pages:  # not cited (or not yet checked): where the source begins
            first = upload.page_of(source.start)
            link = f"files/{upload.upload_id}#page={first}"
            return (
                f'<p class="page-link"><a href="{link}" target="_blank" '
                f'rel="noopener noreferrer">Open the original at p. {first}</a></p>'
            )
        figures = []
        for page in sorted(pages)[:MAX_PAGES_SHOWN]:
            boxes: list[Box] = []
            if upload.suffix == ".pdf":
                for text in pages[page]:
                    boxes.extend(locate(upload.path, page, text))
            figures.append(_figure(upload, page, boxes, located=bool(boxes)))
        return "".join(figures)

    return view


def add_page_routes(app: FastAPI, uploads: Uploads) -> None:
    """``GET /pages/<id>/<n>.png``: one page of an uploaded PDF, behind the login."""
    from fastapi.responses import FileResponse, PlainTextResponse

    @app.get("/pages/{file_id}/{name}", include_in_schema=False)
    def page(file_id: str, name: str) -> Any:
        upload = uploads.get(file_id)
        number = name.removesuffix(".png")
        if upload is None or not name.endswith(".png") or not number.isdigit():
            return PlainTextResponse("No such page.", status_code=404)
        image = page_image(upload, int(number), uploads.page_cache)
        if image is None:
            return PlainTextResponse("No such page.", status_code=404)
        return FileResponse(
            image, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
        )
