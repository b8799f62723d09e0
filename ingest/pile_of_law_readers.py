"""The record readers of pile-of-law's subsets, one per text shape.

Each takes an upstream row and the :class:`SourceDocument` that
:func:`~legalrag.ingest.records.parse_record` validated from it, and returns that
document with its subset's title and jurisdiction (see ``ingest/pile_of_law.py`` for
the table of subsets and where the shapes come from). Only a record's head is read
for them: a record can be a whole code title of many megabytes.

Jurisdiction is a two-letter code as the sample corpus uses: a state's postal code,
``US`` for federal law and federal courts, ``EU`` for EU law; empty when the text
does not say.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from legalrag.us_states import STATES

if TYPE_CHECKING:  # records pulls in the store (numpy); the CLI's help reads this module
    from legalrag.ingest.records import SourceDocument

HEAD_CHARS = 5000
"""Titles and courts are read from this many characters at a record's start."""
_TITLE_CHARS = 200

Row = dict[str, Any]
Reader = Callable[[Row, "SourceDocument"], "SourceDocument"]


def _clean(line: str) -> str:
    return " ".join(line.split())[:_TITLE_CHARS]


def _lines(text: str) -> list[str]:
    return [clean for line in text[:HEAD_CHARS].splitlines() if (clean := _clean(line))]


def read_legal_advice(row: Row, doc: SourceDocument) -> SourceDocument:
    """r_legaladvice: "Title: … Question: … Answer #1: …", already what
    :func:`parse_record` reads (title from the "Title:" line)."""
    return doc


_ROLE = (
    r"(?:cross-|third-party\s+)?(?:plaintiffs?|defendants?|appellants?|appellees?|"
    r"petitioners?|respondents?|intervenors?|movants?|claimants?|relators?|"
    r"counter-\w+)"
)
_ROLE_LINE = re.compile(rf"^(?:and\s+)?{_ROLE}(?:[\s,/&-]+(?:and\s+)?{_ROLE})*[.,;]?$", re.I)
_ROLE_TAIL = re.compile(rf",?\s*(?:and\s+)?{_ROLE}(?:[\s,/&-]+(?:and\s+)?{_ROLE})*[.,;]?$", re.I)
_DOCKET_TAIL = re.compile(r"[\s,;]+(?:No|Nos|Case No|Docket No)\.\s*\S.*$", re.I)
_VERSUS_LINE = re.compile(r"^(?:v|vs|versus)\.?$", re.I)
_VERSUS_IN = re.compile(r"\S\s+(?:v|vs)\.\s+\S")


def _party(line: str) -> str:
    return _ROLE_TAIL.sub("", _DOCKET_TAIL.sub("", line)).strip(" ,;")


def case_name(text: str) -> str:
    """An opinion's caption, "A v. B": a line holding " v. ", or the parties around a
    line that is only "v." (skipping "Plaintiff-Appellant," lines); else ""."""
    lines = _lines(text)[:80]
    for i, line in enumerate(lines):
        if _VERSUS_IN.search(line):
            return _party(line)
        if _VERSUS_LINE.match(line):
            before = [p for p in lines[:i] if not _ROLE_LINE.match(p)]
            after = [p for p in lines[i + 1 :] if not _ROLE_LINE.match(p)]
            if before and after:
                return _clean(f"{_party(before[-1])} v. {_party(after[0])}")
    return ""


_BY_LOWER = {name.lower(): code for name, code in STATES.items()}
# Longest first, so "West Virginia" is tried before "Virginia".
_STATE = "|".join(sorted((re.escape(n) for n in STATES), key=len, reverse=True))
_FEDERAL_COURT = re.compile(
    r"United\s+States\s+(?:Court\s+of\s+Appeals|District\s+Court|Bankruptcy\s+Court|"
    r"Court\s+of\s+Federal\s+Claims|Tax\s+Court|Court\s+of\s+International\s+Trade|"
    r"Supreme\s+Court)|Supreme\s+Court\s+of\s+the\s+United\s+States",
    re.I,
)
_STATE_COURTS = (
    # "Supreme Court of California", "Court of Appeals of the State of New York"
    re.compile(
        rf"\bCourts?\b[^\n]{{0,60}}?\b(?:of|for)\s+(?:the\s+)?(?:State\s+of\s+|"
        rf"Commonwealth\s+of\s+)?({_STATE})\b",
        re.I,
    ),
    # "Texas Court of Appeals", "Iowa Supreme Court"
    re.compile(rf"\b({_STATE})\s+(?:Supreme\s+|Superior\s+|Appellate\s+)?Court\b", re.I),
)


def court_jurisdiction(text: str) -> str:
    """The deciding court's jurisdiction, from the first court named in the head:
    ``US`` for a federal court, a state's code, or "" when no court is named."""
    head = text[: HEAD_CHARS // 3]
    found: list[tuple[int, str]] = []
    if federal := _FEDERAL_COURT.search(head):
        found.append((federal.start(), "US"))
    for pattern in _STATE_COURTS:
        if state := pattern.search(head):
            found.append((state.start(), _BY_LOWER[" ".join(state.group(1).split()).lower()]))
    return min(found)[1] if found else ""


def read_opinion(row: Row, doc: SourceDocument) -> SourceDocument:
    """courtlistener_opinions: an opinion's text (from CourtListener's plain text or
    HTML); ``url`` is its API resource. Title: the case caption; jurisdiction: the
    court named at the top."""
    return replace(
        doc,
        title=case_name(doc.text) or doc.title,
        jurisdiction=court_jurisdiction(doc.text),
    )


_USC_TITLE = re.compile(r"\bTitle\s+(\d+[A-Za-z]?)\s*[\u2014\u2013-]+\s*([^\n]+)")
# Text flattened from XML runs the next heading on: "GENERAL PROVISIONSCHAPTER 1—…".
_NEXT_HEADING = re.compile(r"(?:CHAPTER|Chapter|SUBTITLE|Subtitle|PART\b|\u00a7|Sec\.)")


def read_us_code(row: Row, doc: SourceDocument) -> SourceDocument:
    """uscode: one title of the Code per row, its XML's text ("Title 1—GENERAL
    PROVISIONS", then its chapters and sections). Title: "U.S. Code Title 1:
    GENERAL PROVISIONS"; jurisdiction US."""
    title = doc.title
    if match := _USC_TITLE.search(doc.text[:HEAD_CHARS]):
        heading = _NEXT_HEADING.split(match.group(2), maxsplit=1)[0].strip(" .")
        title = _clean(f"U.S. Code Title {match.group(1)}: {heading}".rstrip(": "))
    return replace(doc, title=title, jurisdiction="US")


_CFR_TITLE = re.compile(r"^Title\s+(\d+)$")
_CFR_PARTS = re.compile(r"^Parts?\s+\S", re.I)
_CFR_REVISED = re.compile(r"Revised\s+as\s+of\s+([A-Z][a-z]+\.?\s+\d{1,2},\s+\d{4})")


def _long_date(value: str) -> date | None:
    for fmt in ("%B %d, %Y", "%b. %d, %Y", "%b %d, %Y"):
        try:
            return datetime.strptime(" ".join(value.split()), fmt).date()
        except ValueError:
            continue
    return None


def read_cfr(row: Row, doc: SourceDocument) -> SourceDocument:
    """cfr: one volume of the Code of Federal Regulations per row, its XML's text: the
    title page ("Title 12", "Banks and Banking", "Parts 1 to 199", "Revised as of
    January 1, 2020"), then parts and sections. Title: "CFR Title 12: Banks and
    Banking (Parts 1 to 199)"; created: the revision date; jurisdiction US."""
    lines = _lines(doc.text)
    title = doc.title
    for i, line in enumerate(lines[:60]):
        if match := _CFR_TITLE.match(line):
            title = f"CFR Title {match.group(1)}"
            rest = lines[i + 1 : i + 3]
            if rest and not _CFR_PARTS.match(rest[0]):
                title += f": {rest[0]}"
            parts = [p for p in rest if _CFR_PARTS.match(p)]
            if parts:
                title += f" ({parts[0]})"
            break
    revised = _CFR_REVISED.search(doc.text[:HEAD_CHARS])
    created = (_long_date(revised.group(1)) if revised else None) or doc.created
    return replace(doc, title=_clean(title), created=created, jurisdiction="US")


def _state_of(slug: str) -> tuple[str, str]:
    """("New Jersey", "NJ") for "new-jersey", or ("", "")."""
    name = slug.replace("-", " ").replace("_", " ").strip().lower()
    code = _BY_LOWER.get(name, "")
    shown = next((n for n, c in STATES.items() if c == code), "")
    return shown, code


_JUSTIA_STATE = re.compile(r"/codes/([a-z-]+)/(\d{4})\b")


def read_state_code(row: Row, doc: SourceDocument) -> SourceDocument:
    """state_codes: one state's code for one year per row (its sections' text run
    together), with ``state_year`` ("new-jersey_2015"); ``url`` is Justia's page for
    it. Title: "New Jersey Code (2015)"; jurisdiction: the state's code. Identified
    by ``state_year`` when given: upstream's url came from a file's first link."""
    state_year = row.get("state_year")
    slug, year = "", ""
    if isinstance(state_year, str) and "_" in state_year:
        slug, _, year = state_year.strip().rpartition("_")
    elif match := _JUSTIA_STATE.search(doc.url):
        slug, year = match.groups()
    name, code = _state_of(slug)
    if not name:
        return doc
    key = (
        f"pile-of-law/state_codes/{state_year.strip()}" if slug and state_year else doc.document_id
    )
    return replace(doc, document_id=key, title=f"{name} Code ({year})", jurisdiction=code)


_EXHIBIT = re.compile(r"^(?:exhibit|ex-?)\s*[\d.a-z()-]*$|^\d+$|^page\s+\d+", re.I)
_CONTRACT_WORD = re.compile(r"\b(?:agreement|contract|license|lease|plan|amendment)\b", re.I)


def read_contract(row: Row, doc: SourceDocument) -> SourceDocument:
    """atticus_contracts: one contract's plain text per row (from EDGAR filings, so it
    often opens with "EXHIBIT 10.1"); every row has the project's url. Title: the
    first line naming the agreement, else the first line that is not an exhibit
    number; no jurisdiction (a governing-law clause is no index of where it applies)."""
    lines = [line for line in _lines(doc.text)[:30] if not _EXHIBIT.match(line)]
    named = [line for line in lines[:12] if _CONTRACT_WORD.search(line)]
    title = (named or lines or [doc.title])[0]
    return replace(doc, title=title)


_EURLEX_NAME = re.compile(r"^\s*Name:\s*(.+)$", re.M)


def read_eurlex(row: Row, doc: SourceDocument) -> SourceDocument:
    """eurlex: "Name: …", "Type: …", "Subject Matter: …", "Date Published: …", then the
    act's text; every row has the collection's url. Title: the name; jurisdiction EU."""
    match = _EURLEX_NAME.search(doc.text[:HEAD_CHARS])
    return replace(doc, title=_clean(match.group(1)) if match else doc.title, jurisdiction="EU")


_FR_AGENCY = re.compile(r"^AGENCY:?$|^AGENCIES:?$")
_FR_CITE = re.compile(r"^\d+\s+CFR\b|^\[.*\]$|^RIN\s", re.I)


def read_federal_register(row: Row, doc: SourceDocument) -> SourceDocument:
    """federal_register: a proposed rule's text from the daily issue's XML: agency,
    "12 CFR Part 1026", "[Docket No. …]", "RIN …", the subject, then "AGENCY:",
    "ACTION:", "SUMMARY:" …; ``url`` is the issue's XML. Title: the subject (the line
    before "AGENCY:" that is no citation); jurisdiction US."""
    lines = _lines(doc.text)
    title = doc.title
    for i, line in enumerate(lines[:80]):
        if _FR_AGENCY.match(line):
            subject = [p for p in lines[:i] if not _FR_CITE.match(p)]
            if subject:
                title = subject[-1]
            break
    return replace(doc, title=title, jurisdiction="US")


def unrepr_bytes(text: str) -> str:
    """``text`` itself, or the text inside it when it is a Python bytes literal
    (``b'…\\n…'``): cc_casebooks' scraper stored ``str()`` of the extracted bytes."""
    if len(text) < 3 or text[:2] not in ("b'", 'b"') or text[-1] != text[1]:
        return text
    try:
        raw = codecs.escape_decode(text[2:-1].encode("ascii"))[0]
    except (UnicodeEncodeError, ValueError):
        return text
    return raw.decode("utf-8", errors="replace")


def read_casebook(row: Row, doc: SourceDocument) -> SourceDocument:
    """cc_casebooks: a whole casebook's text from its PDF, stored as a bytes literal
    (undone here); every row has the library's url. Title: its first line; no
    jurisdiction."""
    from legalrag.ingest.records import text_fingerprint, title_of

    text = unrepr_bytes(doc.text)
    if text == doc.text:
        return doc
    return replace(doc, text=text, document_id=text_fingerprint(text), title=title_of(text))
