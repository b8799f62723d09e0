"""A whole saved conversation as a document: Word (.docx) or PDF.

The content is laid out once (:func:`outline`: headings, paragraphs of plain and
bold runs, lists and tables, from what the Markdown export gathers in :mod:`.export`)
and written by :mod:`.docx_writer` or :mod:`.pdf_writer`, so both documents hold the
same words: every question, the standalone question searched for, the checked
answer, each citation with its verdict and reason, the check's findings, and every
source with its title, jurisdiction, page and its text with the cited spans in bold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from legalrag.app.chat.export import findings, source_entries
from legalrag.app.chat.states import OFFERED
from legalrag.app.chat.verdicts import LOOKS, verdict_of
from legalrag.app.chat.view import NOT_LEGAL_ADVICE
from legalrag.app.citations import split_sentences, strip_markers

if TYPE_CHECKING:
    from legalrag.app.conversations import Conversation, SavedTurn

FORMATS = ("docx", "pdf")
Run = tuple[str, bool]
"""A piece of a paragraph's text and whether it is bold."""


@dataclass(frozen=True)
class Block:
    """One block of the document.

    ``kind``: ``title``, ``heading`` (``level`` 1 or 2), ``paragraph`` (its ``runs``),
    ``note`` (a small italic line), ``bullets`` (``items``) or ``table`` (``rows``, the
    first its header).
    """

    kind: str
    runs: tuple[Run, ...] = ()
    level: int = 1
    items: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    # Where a source's cited text goes: shown as a quotation.
    quote: bool = field(default=False)

    @property
    def text(self) -> str:
        """The block's text, runs joined."""
        return "".join(text for text, _ in self.runs)


# What XML 1.0 (Word) cannot hold, and a PDF's text has no use for: control characters
# (a PDF's form feeds) and lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` less the characters a document cannot hold (form feeds, NULs, …)."""
    return _UNPRINTABLE.sub("", text)


def _plain(kind: str, text: str, **more: object) -> Block:
    return Block(kind, runs=((text, False),), **more)  # type: ignore[arg-type]


def file_name(matter: str, fmt: str, today: date | None = None) -> str:
    """``legalrag-<matter or conversation>-<YYYY-MM-DD>.<fmt>``, the matter made safe
    for any file system (letters, digits and dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", matter.lower()).strip("-")[:60].strip("-")
    day = (today or datetime.now(UTC).date()).isoformat()
    return f"legalrag-{slug or 'conversation'}-{day}.{fmt}"


def _sentences(turn: SavedTurn) -> list[str]:
    raw = turn.raw_answer.strip()
    return [strip_markers(s.text) for s in split_sentences(raw)] if raw else []


def _citation_rows(turn: SavedTurn) -> tuple[tuple[str, ...], ...]:
    """Marker, the sentence it is cited for, its verdict, why, and the source's page."""
    sentences = _sentences(turn)
    rows: list[tuple[str, ...]] = [("Citation", "Sentence", "Verdict", "Why", "Source")]
    for citation in turn.answer.citations:
        said = sentences[citation.sentence] if citation.sentence < len(sentences) else ""
        source = turn.answer.source(citation.source_id)
        where = ""
        if source is not None:
            where = source.title or source.document_id
            if source.page_label:
                where += f", {source.page_label}"
        rows.append(
            (
                f"[{citation.marker}]",
                said,
                LOOKS[verdict_of(citation)].word,
                citation.reason,
                where,
            )
        )
    return tuple(rows)


def _turn_blocks(number: int, turn: SavedTurn) -> list[Block]:
    answer = turn.answer
    blocks = [_plain("heading", f"Question {number}: {turn.question}", level=1)]
    asked = f"{turn.asked_at:%Y-%m-%d %H:%M} UTC · " if turn.asked_at else ""
    searched = turn.standalone if turn.standalone != turn.question else ""
    blocks.append(
        _plain(
            "note",
            asked
            + (f"searched for: {searched} · " if searched else "")
            + turn.searching_note
            + f" · model {answer.model or 'unknown'}"
            + (" (extractive)" if turn.mode != "model" else ""),
        )
    )
    if turn.mode == "extractive_fallback":
        blocks.append(_plain("note", OFFERED))
    blocks.append(_plain("heading", "Answer", level=2))
    blocks += [_plain("paragraph", part) for part in answer.answer.strip().split("\n") if part]
    if answer.citations:
        blocks.append(_plain("heading", "Citations", level=2))
        blocks.append(Block("table", rows=_citation_rows(turn)))
    found = findings(answer)
    if found:
        blocks.append(_plain("heading", "Citation check", level=2))
        blocks.append(Block("bullets", items=tuple(f"{label}: {item}" for label, item in found)))
    entries = source_entries(answer)
    if entries:
        blocks.append(_plain("heading", "Sources", level=2))
    for entry in entries:
        facts = " · ".join(
            part
            for part in (entry.kind, entry.jurisdiction, entry.created, entry.page_label, entry.url)
            if part
        )
        blocks.append(Block("paragraph", runs=((f"[{entry.marker}] {entry.title}", True),)))
        blocks.append(_plain("note", facts))
        blocks.append(Block("paragraph", runs=entry.pieces, quote=True))
    return blocks


def outline(
    conversation: Conversation, *, exported_by: str, now: datetime | None = None
) -> list[Block]:
    """The document's blocks: title, facts, each turn, the not-legal-advice notice."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    blocks = [
        _plain("title", conversation.title),
        _plain(
            "note",
            f"Matter: {conversation.matter or 'none'} · {len(conversation.turns)} questions · "
            f"exported {when} by {exported_by}",
        ),
    ]
    for number, turn in enumerate(conversation.turns, start=1):
        blocks += _turn_blocks(number, turn)
    blocks.append(_plain("note", NOT_LEGAL_ADVICE))
    return blocks


def render_document(
    conversation: Conversation,
    fmt: str,
    *,
    exported_by: str,
    now: datetime | None = None,
    font: Path | None = None,
) -> bytes:
    """The conversation as a ``docx`` or ``pdf`` file's bytes (``font``: the PDF's
    TrueType font, else one found on the system, :func:`.pdf_writer.find_font`)."""
    blocks = outline(conversation, exported_by=exported_by, now=now)
    if fmt == "docx":
        from legalrag.app.chat.docx_writer import write_docx

        return write_docx(blocks, title=conversation.title)
    if fmt == "pdf":
        from legalrag.app.chat.pdf_writer import write_pdf

        return write_pdf(blocks, title=conversation.title, font=font)
    raise ValueError(f"unknown document format {fmt!r}")
