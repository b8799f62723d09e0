"""What a lawyer can do with a source card (issue 16): open the whole document, copy a
citation.

Each card gets a link "Open the whole document" (a new tab: :mod:`.whole`'s page, the
cited span marked and scrolled to) and a "Copy citation" button. The button carries the
citation as plain text in ``data-citation``; ``static/copy.js`` puts it on the clipboard
(``navigator.clipboard``, or a selected textarea and ``execCommand('copy')`` where the
page is not a secure context) and says "Citation copied", or why not, in the card's
``aria-live`` status.

The citation, one fact per line, nothing when unknown::

    Tex. Prop. Code § 92.103 [statute]
    Texas, 2021-03-04, p. 4
    https://example.org/92.103
    "A landlord shall refund a security deposit … within 30 days …"

The title and the type badge's word; the jurisdiction's full name, the date ("no date"
when it has none) and the passage's pages (a paged document's); the URL, only an
http(s) one; then the quotation in straight double quotes (a double quote inside it
becomes a single one), its white space collapsed, cut at a word with "…" after
:data:`QUOTE_CHARS` characters. What is quoted is the cited span: a supported
citation's first, else any valid citation's, else (a source no sentence cites) the
passage itself; the whole document's page marks the same span.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.cards import jurisdiction_name, source_type
from legalrag.app.claims import SUPPORTED

QUOTE_CHARS = 300
"""The longest quotation a copied citation carries (then cut at a word, with "…")."""


def cited_span(answer: Answer, source: AnswerSource) -> tuple[int, int]:
    """The span the card's actions point at, in the document's offsets: the first
    supported citation's, else the passage's own. A span the check found not to support
    its sentence is never offered as "the cited passage"."""
    for citation in answer.citations:
        if (
            not citation.valid
            or citation.source_id != source.id
            or citation.span is None
            or citation.verdict != SUPPORTED
        ):
            continue
        start, end = int(citation.span[0]), int(citation.span[1])
        if source.start <= start < end <= source.end:
            return start, end
    return source.start, source.end


def quotation(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` as a quotation: one line, inner double quotes single, cut at a word."""
    flat = " ".join(text.split()).replace('"', "'")
    if len(flat) <= limit:
        return f'"{flat}"'
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return f'"{cut.rstrip(" ,;:")}\u2026"'


def citation_text(answer: Answer, source: AnswerSource) -> str:
    """The plain-text citation "Copy citation" puts on the clipboard (module docstring)."""
    title = source.title or source.document_id or "(untitled)"
    where = [jurisdiction_name(source.jurisdiction), (source.created or "")[:10] or "no date"]
    if source.page_label:
        where.append(source.page_label)
    lines = [f"{title} [{source_type(source)}]", ", ".join(where)]
    if source.url.startswith(("http://", "https://")):
        lines.append(source.url)
    start, end = cited_span(answer, source)
    lines.append(quotation(source.text[start - source.start : end - source.start]))
    return "\n".join(lines)


def document_link(source: AnswerSource, start: int, end: int) -> str:
    """The whole document's page (relative: the chat may sit under a path prefix)."""
    query = urlencode({"id": source.document_id, "start": start, "end": end})
    return f"document?{query}#cited"


def card_actions(answer: Answer, source: AnswerSource) -> str:
    """The card's "Open the whole document" link and "Copy citation" button."""
    start, end = cited_span(answer, source)
    number = source.marker
    return (
        '<div class="source-actions">'
        f'<a class="whole-document" href="{escape(document_link(source, start, end))}" '
        'target="_blank" rel="noopener">Open the whole document'
        f'<span class="sr-only"> of source {number} (opens in a new tab)</span></a>'
        f'<button type="button" class="copy-citation" '
        f'data-citation="{escape(citation_text(answer, source))}">Copy citation'
        f'<span class="sr-only"> of source {number}</span></button>'
        '<span class="copy-status" role="status" aria-live="polite"></span></div>'
    )
