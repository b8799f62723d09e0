"""What a lawyer needs to weigh a source, at a glance: its type, jurisdiction, age.

The type comes from what the index holds of a source (its title, URL and text; a
chunk's ``source`` is not carried to the answer), derived conservatively: a rule
fires only on a form that names the type (a post's "Question:" / "Answer #1:"
layout, "v." between parties, "U.S.C.", "C.F.R.", "Agreement"); anything else is a
plain "document". No source is called a statute unless it says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from legalrag.app.answers import AnswerSource
from legalrag.us_states import STATES

FEDERAL = "US"
_NAMES = {code: name for name, code in STATES.items()} | {FEDERAL: "Federal (United States)"}

# (type, pattern over title, URL and the passage's opening), first match wins.
_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "forum answer",
        re.compile(
            r"^(?:Title: .*\n)?Question: |\nAnswer #\d+: |reddit\.com/|/r/legaladvice|"
            r"legalrag\.example/sample/"
        ),
    ),
    ("case", re.compile(r"\b[A-Z][\w.&' ]+ v\. [A-Z]|\bIn re [A-Z]")),
    (
        "regulation",
        re.compile(r"\bC\.?F\.?R\.?\b|\bCode of Federal Regulations\b|\bRegulations?\b|\bCMR\b"),
    ),
    (
        "statute",
        re.compile(
            r"\bU\.?S\.?C\.?\b|\bUnited States Code\b|\bStatutes?\b|\bC\.R\.S\.|"
            r"\bN\.J\.S\.A\.|\b(?:Civil|Labor|Penal|Property|Government) Code\b|\bAct of \d{4}\b"
        ),
    ),
    (
        "agency guidance",
        re.compile(r"\bFact Sheet\b|\bGuidance\b|\bBulletin\b|\bAdvisory\b|\.gov/", re.IGNORECASE),
    ),
    (
        "contract",
        re.compile(
            r"\b(?:Agreement|Contract|Non-?Disclosure|NDA|Terms of Service)\b",
            re.IGNORECASE,
        ),
    ),
)
TYPES = (*(name for name, _ in _TYPES), "document")
"""Every badge a source can get ("document": nothing names its type)."""


def source_type(source: AnswerSource) -> str:
    """The source's type badge (one of :data:`TYPES`), from its title, URL and text."""
    return document_type(source.title, source.url, source.document_id, source.text)


def document_type(title: str, url: str, document_id: str, text: str) -> str:
    """The type badge of a document with that title, URL, id and (opening) text."""
    seen = "\n".join((title or "", url or "", document_id or ""))
    opening = text[:400]
    for name, pattern in _TYPES:
        # A post is known by its text's layout; the others by what their title says.
        if pattern.search(seen) or (name == "forum answer" and pattern.search(opening)):
            return name
    return "document"


def jurisdiction_name(code: str) -> str:
    """``TX`` → Texas, ``US`` → Federal (United States); unknown codes as written."""
    if not code:
        return "No jurisdiction given"
    return _NAMES.get(code.upper(), code)


def source_date(source: AnswerSource) -> date | None:
    """The source's date (``created``, ISO), or None when it has none that reads."""
    try:
        return date.fromisoformat((source.created or "")[:10])
    except ValueError:
        return None


def age_warning(source: AnswerSource, *, max_age_years: int, today: date) -> str | None:
    """ "older than N years" when the source's date is that old (0: never warn)."""
    written = source_date(source)
    if written is None or max_age_years <= 0:
        return None
    try:
        limit = written.replace(year=written.year + max_age_years)
    except ValueError:  # 29 February
        limit = written.replace(year=written.year + max_age_years, day=28)
    return f"older than {max_age_years} years" if limit < today else None


def newer_alike(source: AnswerSource, sources: Sequence[AnswerSource]) -> list[AnswerSource]:
    """The other sources of the same jurisdiction and topic dated after this one.

    An older and a newer rule of one state side by side is the case a lawyer must
    not miss: the older may be superseded.
    """
    written = source_date(source)
    if written is None or not source.jurisdiction:
        return []
    return [
        other
        for other in sources
        if other.id != source.id
        and other.document_id != source.document_id
        and other.jurisdiction == source.jurisdiction
        and (other.topic or "") == (source.topic or "")
        and (other_date := source_date(other)) is not None
        and other_date > written
    ]
