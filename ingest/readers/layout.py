"""A PDF's page texts cleaned for reading: running headers, footers and page numbers
removed, words hyphenated across line ends joined.

Written here because no kept library does this on a text layer's lines (pdfplumber
and pdfminer give positions, not which lines repeat); it is a few rules on lines:

- a *running line* is one of the first or last ``EDGE_LINES`` lines of a page that
  stands at an edge of at least half of the pages (and of two or more), as written or
  with the page's own number in it ignored ("Lease - page 3"); other numbers count,
  so "ARTICLE 2" opening page 5 is not the "ARTICLE 1" that opened page 4;
- a *page number* is an edge line that is only a number, "Page N", "- N -", "N of M"
  or a roman numeral;
- a line ending in a hyphen after a letter, followed by one starting in lower case,
  is the same word: the hyphen and the break go. pdfium marks the hyphens it
  recognises as U+FFFE (or U+0002); those are joined the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

EDGE_LINES = 2
"""How many lines at a page's top and bottom may be running headers or footers."""

_PAGE_NUMBER = re.compile(
    # Roman numerals in lower case only: "IV" alone may be a heading, "iv" is front matter.
    r"^[\s\-\u2013\u2014\[\(]*((?i:page|p\.|pg\.?)\s*)?([0-9]+|[ivxlcdm]+)(\s*(?i:of|/)\s*[0-9]+)?"
    r"[\s\-\u2013\u2014\]\)]*$"
)
_DIGITS = re.compile(r"\d+")
_MARKED_HYPHEN = re.compile(r"[\ufffe\x02]\r?\n?")
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n(?=[a-z])")


def _keys(line: str, page: int) -> set[str]:
    """The line as compared with other pages' edges: as written, and with the page's
    own number (if it holds it) as ``#``."""
    plain = " ".join(line.split()).lower()
    numbered = _DIGITS.sub(lambda m: "#" if int(m.group()) == page else m.group(), plain)
    return {plain, numbered}


def _edges(lines: list[str], page: int) -> list[tuple[int, set[str]]]:
    """(index, keys) of a page's edge lines (top first, then bottom)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    top = filled[:EDGE_LINES]
    chosen = top + [i for i in filled[-EDGE_LINES:] if i not in top]
    return [(i, _keys(lines[i], page)) for i in chosen]


def clean_pages(pages: Sequence[str]) -> list[str]:
    """Each page's text without running lines and page numbers, hyphenation joined."""
    split = [_MARKED_HYPHEN.sub("", page).replace("\r\n", "\n").split("\n") for page in pages]
    counts: Counter[str] = Counter()
    for number, lines in enumerate(split, start=1):
        counts.update(set().union(*(keys for _, keys in _edges(lines, number))))
    threshold = max(2, (len(split) + 1) // 2)
    running = {key for key, seen in counts.items() if seen >= threshold}
    cleaned: list[str] = []
    for number, lines in enumerate(split, start=1):
        drop = {
            i
            for i, keys in _edges(lines, number)
            if keys & running or _PAGE_NUMBER.match(lines[i].strip())
        }
        kept = "\n".join(line.rstrip() for i, line in enumerate(lines) if i not in drop)
        cleaned.append(join_hyphenated(kept).strip())
    return cleaned


def join_hyphenated(text: str) -> str:
    """``deduc-\\ntions`` -> ``deductions`` (a letter, a hyphen, a break, lower case)."""
    return _LINE_END_HYPHEN.sub("", text)
