"""The export of one answer: the checked answer, its findings, every source.

:func:`findings` and :func:`source_entries` gather what an export shows (the
citation check's findings; each source's title, facts and cited spans) once, as
typed data: the Markdown export below and the Word and PDF documents of a whole
conversation (:mod:`.documents`) are all written from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.cards import jurisdiction_name, source_type
from legalrag.app.chat.verdicts import LOOKS, verdict_of
from legalrag.app.chat.view import NOT_LEGAL_ADVICE, cited_spans
from legalrag.app.reasoning_path import answer_path


@dataclass(frozen=True)
class SourceEntry:
    """One source as an export shows it: its facts, and its text in pieces, each
    ``(text, cited)`` with the cited spans (those a valid citation points at) marked."""

    marker: int
    title: str
    kind: str
    jurisdiction: str
    created: str
    page_label: str
    score: float
    url: str
    pieces: tuple[tuple[str, bool], ...]

    @property
    def meta(self) -> str:
        """Type · jurisdiction · date · score, as one line."""
        parts = (self.kind, self.jurisdiction, self.created, f"score {self.score:.4f}")
        return " · ".join(part for part in parts if part)

    @property
    def cited(self) -> list[str]:
        """The cited spans' texts, in the source's order."""
        return [text for text, cited in self.pieces if cited]


def findings(answer: Answer) -> list[tuple[str, str]]:
    """The citation check's findings, ``(label, item)``: invalid markers, unsupported
    and misgrounded sentences, missing quotations, citations that do not support."""
    groups = [
        ("Invalid citations (removed)", [f"[{m}]" for m in answer.invalid_markers]),
        ("Unsupported sentences (no citation)", answer.unsupported_sentences),
        (
            "Misgrounded sentences (cited source does not support them)",
            answer.misgrounded_sentences,
        ),
        ("Quotations found in no source", answer.quotes_not_found),
        (
            "Citations that do not support their sentence",
            [
                f"[{c.marker}] in sentence {c.sentence + 1}: {LOOKS[verdict_of(c)].word}, "
                f"{c.reason}"
                for c in answer.citations
                if c.valid and verdict_of(c) != "supported"
            ],
        ),
    ]
    path = answer_path(answer)  # the reasoning's own findings (reasoning_path.py)
    groups.append(
        ("Sources the reasoning draws on that the answer does not cite", _listed(path.uncited))
    )
    groups.append(("Sources the reasoning mentions that it was not given", _listed(path.unknown)))
    return [(label, item) for label, items in groups for item in items]


def _listed(numbers: tuple[int, ...]) -> list[str]:
    return [f"[{n}]" for n in numbers]


def _pieces(answer: Answer, source: AnswerSource) -> tuple[tuple[str, bool], ...]:
    """The source's text cut at its cited spans (overlaps merged; a span's leading and
    trailing spaces are left in the text around it)."""
    text = source.text
    spans = sorted((s, e) for s, e, _ in cited_spans(answer, source, 0))
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end in spans:
        start = max(start, position)
        if end <= start:
            continue
        # The span's own spaces stay outside it: "text. **The rule.**" in Markdown.
        span = text[start:end]
        lead, core = len(span) - len(span.lstrip()), span.strip()
        pieces += [(text[position : start + lead], False), (core, True)]
        position = start + lead + len(core)
    pieces.append((text[position:], False))
    return tuple(piece for piece in pieces if piece[0])


def source_entries(answer: Answer) -> list[SourceEntry]:
    """Every source of ``answer``, numbered as the model saw them."""
    return [
        SourceEntry(
            marker=source.marker,
            title=source.title or source.document_id or "(untitled)",
            kind=source_type(source),
            jurisdiction=jurisdiction_name(source.jurisdiction),
            created=source.created,
            page_label=source.page_label,
            score=source.score,
            url=source.url,
            pieces=_pieces(answer, source),
        )
        for source in answer.sources
    ]


def answer_markdown(answer: Answer, *, question: str, standalone: str, when: str = "") -> str:
    """The checked answer, its findings and every source, as Markdown to copy or save."""
    lines = [f"# {question}", ""]
    if standalone != question:
        lines += [f"*Searched for: {standalone}*", ""]
    if answer.filters:
        lines += [f"Filters: {answer.filters}", ""]
    lines += ["## Answer", "", answer.answer.strip(), ""]
    found = findings(answer)
    if found:
        lines += ["### Citation check", ""]
        lines += [f"- {label}: {item}" for label, item in found]
        lines.append("")
    entries = source_entries(answer)
    if entries:
        lines += ["## Sources", ""]
    for entry in entries:
        url = entry.url
        lines.append(
            f"**[{entry.marker}] {entry.title}** · {entry.meta}" + (f" · <{url}>" if url else "")
        )
        lines.append("")
        quoted = "".join(f"**{text}**" if cited else text for text, cited in entry.pieces)
        lines += ["> " + line for line in quoted.splitlines() if line.strip()]
        lines.append("")
    footer = f"Model {answer.model} · prompt {answer.prompt_version}"
    lines += ["---", footer + (f" · {when}" if when else ""), "", NOT_LEGAL_ADVICE, ""]
    return "\n".join(lines)
