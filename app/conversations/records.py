"""What a saved conversation holds, typed: its turns as the chat showed them.

A turn keeps what the chat has once it is answered: the question, the standalone
question searched for, the answer as the model wrote it (markers and all, so the
chat can render it again exactly) and as checked, every citation with its verdict,
every source with its title, span and pages, and how it was made (the model, or the
extractive answer). :func:`answer_data` and :func:`answer_from_data` turn the
:class:`~legalrag.app.answers.Answer` into the plain data a JSON column stores and
back: JSON is the column's storage form, never what the code reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.citations import Citation
from legalrag.app.retrieval.passages import StageScores

Mode = Literal["model", "extractive", "extractive_fallback"]
"""How the answer was made: by the answer model, by the extractive generator (no model
configured), or by the extractive generator offered after the model failed."""
MODES: tuple[Mode, ...] = ("model", "extractive", "extractive_fallback")
# The Answer's findings stored beside its citations and sources (lists of text or
# markers); what it was made with (model, prompt) has columns of its own.
FINDINGS = (
    "invalid_markers",
    "unsupported_sentences",
    "misgrounded_sentences",
    "quotes_not_found",
)


@dataclass(frozen=True)
class SavedTurn:
    """One answered turn of a conversation, as it is saved and resumed."""

    question: str
    standalone: str
    raw_answer: str
    """The answer as the model streamed it (markers included, invalid ones too)."""
    answer: Answer
    """The checked answer: its text, citations (with verdicts), findings and sources."""
    mode: Mode = "model"
    k: int | None = None
    asked_at: datetime | None = None
    """When it was answered (UTC); set by the store when saved."""

    @property
    def searching_note(self) -> str:
        """The "Searching for" note's text: the filters and the number of sources."""
        parts = [self.answer.filters or "no filters"]
        if self.k:
            parts.append(f"k = {self.k}")
        return " · ".join(parts)


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation as the list shows it (no turns)."""

    id: str
    title: str
    matter: str
    created_at: datetime
    updated_at: datetime
    turns: int

    def label(self) -> str:
        """The list's line: title, matter, when it was last answered (UTC)."""
        matter = f" · {self.matter}" if self.matter else ""
        return f"{self.title}{matter} · {self.updated_at:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Conversation:
    """A whole saved conversation: its facts and its turns, oldest first."""

    id: str
    owner: str
    title: str
    matter: str
    created_at: datetime
    updated_at: datetime
    turns: list[SavedTurn] = field(default_factory=list)


def citation_data(citation: Citation) -> dict[str, Any]:
    """A citation as plain data (its span a list)."""
    return asdict(citation)


def citation_from_data(data: dict[str, Any]) -> Citation:
    """A citation back from :func:`citation_data` (unknown keys ignored)."""
    known = {f.name for f in fields(Citation)}
    values = {key: value for key, value in data.items() if key in known}
    if values.get("span") is not None:
        values["span"] = (int(values["span"][0]), int(values["span"][1]))
    return Citation(**values)


def source_data(source: AnswerSource) -> dict[str, Any]:
    """A source as plain data: its text, document facts, span, pages and scores (no
    vectors: the index has them, and a saved answer is not checked again)."""
    data = asdict(source)
    del data["vectors"]
    return data


def source_from_data(data: dict[str, Any]) -> AnswerSource:
    """A source back from :func:`source_data` (unknown keys ignored)."""
    known = {f.name for f in fields(AnswerSource)} - {"vectors"}
    values = {key: value for key, value in data.items() if key in known}
    stages = values.get("stages")
    if isinstance(stages, dict):
        stage_fields = {f.name for f in fields(StageScores)}
        values["stages"] = StageScores(**{k: v for k, v in stages.items() if k in stage_fields})
    return AnswerSource(**values)


def findings_data(answer: Answer) -> dict[str, Any]:
    """The answer's findings (invalid markers, flagged sentences, missing quotes), its
    filters and whether it refused."""
    data: dict[str, Any] = {name: list(getattr(answer, name)) for name in FINDINGS}
    return {**data, "filters": answer.filters, "refused": answer.refused}


def answer_data(answer: Answer) -> dict[str, Any]:
    """The parts of ``answer`` a turn stores, as plain data (the JSON columns' values)."""
    return {
        "citations": [citation_data(c) for c in answer.citations],
        "sources": [source_data(s) for s in answer.sources],
        "findings": findings_data(answer),
    }


def answer_from_data(
    *,
    question: str,
    text: str,
    model: str,
    prompt_version: str,
    citations: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    findings: dict[str, Any],
) -> Answer:
    """The :class:`Answer` a turn was saved from (timings and reasoning are not kept)."""
    return Answer(
        question=question,
        answer=text,
        citations=[citation_from_data(c) for c in citations],
        sources=[source_from_data(s) for s in sources],
        model=model,
        prompt_version=prompt_version,
        filters=str(findings.get("filters") or ""),
        refused=bool(findings.get("refused")),
        **{name: list(findings.get(name) or []) for name in FINDINGS},
    )


def default_title(question: str, limit: int = 80) -> str:
    """A conversation's title from its first question: one line, trimmed to ``limit``
    characters at a word where it can be."""
    line = " ".join(question.split())
    if len(line) <= limit:
        return line or "Untitled conversation"
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "\u2026"
