"""The structure of a legal text: its headings and numbered units, and the section
path of every character (``"5. Confidentiality"``, then :data:`SEPARATOR`, then
``"5.2 Exceptions"``).

Written by hand: of the installed libraries, langchain's splitters know Markdown
headings only (``MarkdownHeaderTextSplitter``, which also drops the characters it
splits on, so spans would no longer map back), and markdown-it parses Markdown, not
``1.1``, ``(a)``, ``Section 5``, ``§ 12``, ``ARTICLE IV`` or defined terms. A unit
starts a line; each regular expression below is one way legal drafting numbers one.

Nesting comes from ranks: a Markdown heading is outermost, then articles, sections,
dotted numbers by depth (``1.`` above ``1.1`` above ``1.1.2``), then lettered and
roman lists (ranked in the order the document first uses them, as drafters nest
them either way), then definitions. A unit closes every open unit of its own or a
deeper rank. An ALL-CAPS line followed by prose (a document title, ``WHEREAS``)
heads only that prose: the next numbered clause closes it.

:func:`find_segments` returns None for a text without structure (a forum post, a
letter), so that it is chunked as before.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from legalrag.store.schema import PATH_SEPARATOR

SEPARATOR = PATH_SEPARATOR
LABEL_CHARS = 80
"""A heading's label in a section path is cut to about this many characters."""
MIN_UNITS = 3
"""Fewer units than this is no structure (a post that says "1." once)."""
MIN_WEAK_UNITS = 5
"""As many units, even if only "1." or "(a)" or ALL-CAPS lines: more than a post's list
(the sample corpus's longest has 4; ContractNLI's NDAs without headings have 6 or more)."""

_LEAD = r"^[ \t]*"
_AFTER = r"(?=[ \t]*$|[ \t]*[.:\-\u2013\u2014)]|[ \t]+[^a-z\s])"  # not "Section 5 of the Act ..."
_MARKDOWN = re.compile(_LEAD + r"(#{1,6})[ \t]+\S")
_ARTICLE = re.compile(_LEAD + r"(?:ARTICLE|Article)[ \t]+(?:[IVXLC]+|\d{1,3})\b" + _AFTER)
_SECTION = re.compile(
    _LEAD + r"(?:(?:SECTION|Section)[ \t]+|§§?[ \t]*)(\d{1,4}[A-Za-z]?((?:\.\d{1,3})*))" + _AFTER
)
_UPPER_ROMAN = re.compile(_LEAD + r"[IVX]{1,5}\.[ \t]+(?=[A-Z])")
# "1.1", "1.1.2." (the final dot optional), then a capital, a quote or a bracket.
_DOTTED = re.compile(_LEAD + r"(\d{1,3}(?:\.\d{1,3})+)\.?[ \t]+(?=[^a-z\s])")
_NUMBERED = re.compile(_LEAD + r"\d{1,3}\.[ \t]+(?=[^a-z\s])")
_BARE_NUMBER_HEADING = re.compile(_LEAD + r"\d{1,3}[ \t]+(?=[A-Z][A-Z ,&'\-]+$)")
_LIST = re.compile(_LEAD + r"(\(?)([a-z]{1,2}|[A-Z]|[ivx]{1,5}|[IVX]{1,5}|\d{1,3})\)[ \t]+\S")
_DEFINITION = re.compile(
    # A quoted term (straight or curly quotes), perhaps "(the 'Term')", then the verb.
    _LEAD + r"[\"'\u2018\u201c\u201d]([^\"'\u2018\u2019\u201c\u201d\n]{1,80})[\"'\u2019\u201d]"
    r"[ \t]*(?:\([^)\n]{0,80}\)[ \t]*)?,?[ \t]*"
    r"(?i:means|shall mean|has the meaning|shall have the meaning|includes|shall include"
    r"|refers to|is defined)\b"
)
_ROMAN = re.compile(r"[ivx]+|[IVX]+")
_HEADING_STOP = re.compile(r"[.:;] (?=\S)")
_FIRST_MARKERS = ("a", "A", "i", "I", "1")

_RANK_MARKDOWN = 0.0  # + the heading's level
_RANK_CAPS = 9.0
_RANK_ARTICLE = 10.0
_RANK_UPPER_ROMAN = 11.0
_RANK_SECTION = 12.0  # + depth / 10
_RANK_NUMBERED = 20.0  # + depth
_RANK_LIST = 30.0  # + the order the document first uses each list style
_RANK_DEFINITION = 50.0


@dataclass(frozen=True)
class Unit:
    """A heading or numbered unit: where its line starts, how deep, what it is called."""

    start: int
    rank: float
    label: str
    soft: bool = False
    """An ALL-CAPS heading over prose: closed by the next unit above the list ranks."""
    strong: bool = True
    """Evidence of structure by itself (a "1." or "(a)" alone is also a post's list)."""
    continues: bool = False
    """A list item after the first ("(b)", "(ii)"): a sibling of an earlier item."""


@dataclass(frozen=True)
class Segment:
    """The text from one unit's start to the next's: ``text[start:end]``."""

    start: int
    end: int
    path: str
    """The section path at ``start`` (the unit itself last)."""
    top_level: bool
    """The unit opens a new outermost section (a good place to end a chunk)."""
    heading_only: bool
    """One short line that the next unit nests under: a heading (or a lead-in such as
    "2.2 Exceptions. ... information that:") whose text follows in other segments."""


def label_of(line: str) -> str:
    """A unit's line as a section-path label: "5.2 Exceptions. The ..." -> "5.2 Exceptions"."""
    line = " ".join(line.split()).lstrip("#").strip()
    # A heading run into its clause ends at its first full stop, colon or semicolon;
    # the word before it has three letters or more, so "Section 5." and "IV." go on.
    for stop in _HEADING_STOP.finditer(line, 0, LABEL_CHARS):
        if sum(ch.isalpha() for ch in line[: stop.start()].rsplit(" ", 1)[-1]) >= 3:
            return line[: stop.start()]
    if len(line) <= LABEL_CHARS:
        return line
    return line[: line.rfind(" ", 0, LABEL_CHARS - 1)].rstrip(",;: ") + "…"


def _is_caps_heading(line: str) -> bool:
    stripped = line.strip()
    letters = [ch for ch in stripped if ch.isalpha()]
    return (
        3 <= len(stripped) <= 100
        and len(letters) >= 3
        and all(ch.isupper() for ch in letters)
        and len(stripped.split()) <= 15
        and not stripped.endswith((",", ";"))
        and sum(ch.isalpha() or ch.isspace() for ch in stripped) >= 0.7 * len(stripped)
    )


class _ListStyles:
    """Ranks of "(a)", "(i)", "a)", "1)" ... in the order the document first uses them,
    and the roman-or-letter call for "(i)", "(v)", "(x)"."""

    def __init__(self) -> None:
        self.ranks: dict[str, float] = {}
        self.last: dict[str, str] = {}

    def rank(self, bracket: str, marker: str) -> float:
        style = self._style(bracket, marker)
        self.last[style] = marker
        return self.ranks.setdefault(style, _RANK_LIST + len(self.ranks))

    def _style(self, bracket: str, marker: str) -> str:
        if marker.isdigit():
            kind = "number"
        elif _ROMAN.fullmatch(marker) and not self._continues_letters(bracket, marker):
            kind = "roman-upper" if marker.isupper() else "roman"
        else:
            kind = "letter-upper" if marker.isupper() else "letter"
        return bracket + kind

    def _continues_letters(self, bracket: str, marker: str) -> bool:
        """ "(i)" after "(h)" is the ninth letter, not roman one."""
        kind = "letter-upper" if marker.isupper() else "letter"
        previous = self.last.get(bracket + kind, "")
        return len(marker) == 1 and len(previous) == 1 and ord(previous) + 1 == ord(marker)


def _classify(line: str, styles: _ListStyles) -> tuple[float, bool, bool] | None:
    """(rank, strong, continues) of a line that starts a unit, or None."""
    if match := _MARKDOWN.match(line):
        return _RANK_MARKDOWN + len(match.group(1)), True, False
    if _ARTICLE.match(line):
        return _RANK_ARTICLE, True, False
    if match := _SECTION.match(line):
        return _RANK_SECTION + match.group(2).count(".") / 10, True, False
    if match := _DOTTED.match(line):
        return _RANK_NUMBERED + match.group(1).count(".") + 1, True, False
    if _UPPER_ROMAN.match(line):
        return _RANK_UPPER_ROMAN, True, False
    if _NUMBERED.match(line) or _BARE_NUMBER_HEADING.match(line):
        return _RANK_NUMBERED + 1, False, False
    if _DEFINITION.match(line):
        return _RANK_DEFINITION, True, False
    if match := _LIST.match(line):
        marker = match.group(2)
        return styles.rank(match.group(1), marker), False, marker not in _FIRST_MARKERS
    return None


def find_units(text: str) -> list[Unit]:
    """Every line of ``text`` that starts a heading or numbered unit, in order."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    styles = _ListStyles()
    units: list[Unit] = []
    skip_next = False
    for number, line in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        start = offsets[number] + len(line) - len(line.lstrip())
        label = label_of(line)
        # The next line with words on it (a heading is often followed by a blank line).
        following = next((later for later in lines[number + 1 :] if later.strip()), "")
        found = _classify(line, styles)
        if found is not None:
            rank, strong, continues = found
            term = _DEFINITION.match(line) if rank == _RANK_DEFINITION else None
            if term is not None:  # a definition is called by its term, in its quotes
                label = line[term.start(1) - 1 : term.end(1) + 1]
            # "ARTICLE IV" on one line, "CONFIDENTIALITY" on the next: one heading.
            next_line = lines[number + 1] if number + 1 < len(lines) else ""
            if rank < _RANK_NUMBERED and len(label.split()) <= 2 and _is_caps_heading(next_line):
                label = label_of(f"{label} {next_line}")
                skip_next = True
            units.append(Unit(start, rank, label, strong=strong, continues=continues))
        elif _is_caps_heading(line):
            # Classified with a throwaway list state: looking ahead must not number a list.
            over_prose = _classify(following, _ListStyles()) is None
            over_prose = over_prose and not _is_caps_heading(following)
            # "WITNESSETH:", "NOW IT IS AGREED AS FOLLOWS:" introduce the clauses, not head them.
            lead_in = line.rstrip().endswith((":", ":-"))
            units.append(Unit(start, _RANK_CAPS, label, soft=over_prose or lead_in))
    return units


def has_structure(units: list[Unit]) -> bool:
    """Enough units, or fewer of a kind a post's own list would not have."""
    strong = sum(unit.strong and not unit.soft for unit in units)
    return len(units) >= MIN_WEAK_UNITS or (len(units) >= MIN_UNITS and strong >= 2)


def find_segments(text: str) -> list[Segment] | None:
    """``text`` cut at every unit's start, each piece with its section path; None when
    the text has no structure to go by."""
    units = find_units(text)
    if not has_structure(units):
        return None
    segments: list[Segment] = []
    if text[: units[0].start].strip():
        segments.append(Segment(0, units[0].start, "", False, False))
    open_units: list[Unit] = []
    for number, unit in enumerate(units):
        end = units[number + 1].start if number + 1 < len(units) else len(text)
        if unit.rank < _RANK_LIST:
            open_units = [u for u in open_units if not u.soft]
        elif unit.continues and all(u.rank != unit.rank for u in open_units):
            # "(b)" whose "(a)" was inline (not a unit): it is no child of the list
            # open above it, but that list's sibling.
            open_units = [u for u in open_units if u.rank < _RANK_LIST]
        while open_units and open_units[-1].rank >= unit.rank:
            open_units.pop()
        open_units.append(unit)
        body = text[unit.start : end].strip()
        # A heading line: one short line, and the next unit nests under it.
        opens = number + 1 < len(units) and units[number + 1].rank > unit.rank
        segments.append(
            Segment(
                start=unit.start,
                end=end,
                path=SEPARATOR.join(u.label for u in open_units),
                top_level=len(open_units) == 1,
                heading_only=opens and "\n" not in body and len(body) <= LABEL_CHARS,
            )
        )
    return segments


def path_at(segments: list[Segment], offset: int) -> str:
    """The section path of the character at ``offset``."""
    index = bisect_right([segment.start for segment in segments], offset) - 1
    return segments[index].path if index >= 0 else ""
