"""Quantities: numbers (in digits or words), their units and their bounds.

"thirty (30) days" is 30 days; "$500" is 500 dollars and "5%" five percent;
"within 30 days" is a deadline and "after 30 days" a waiting period. An answer's
quantity must be in its source with the same unit (or with none) and, where both
give one, a bound of the same direction. :func:`numbers_in` is the bare-number
rule the support score has always applied, now reading number words too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from legalrag.app.claims.text import (
    Finding,
    best_sentence,
    clip,
    split_source,
    strip_marker_text,
)

_UNITS_ONES = (  # noqa: SIM905 - a word list reads better as text
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()  # noqa: SIM905
_WORD_VALUE = {w: i for i, w in enumerate(_UNITS_ONES)} | {
    w: 10 * (i + 2) for i, w in enumerate(_TENS)
}
_NUMBER_WORD = (
    r"(?:(?:" + "|".join(_TENS) + r")(?:[- ](?:" + "|".join(_UNITS_ONES[1:10]) + r"))?"
    r"|" + "|".join(sorted(_UNITS_ONES, key=len, reverse=True)) + r")"
    r"(?:\s+(?:hundred|thousand))?"
)
_UNIT = (
    r"business[\s-]+days?|calendar[\s-]+days?|working[\s-]+days?|days?|weeks?|months?|years?"
    r"|hours?|units?"
    r"|percent|per\s+cent|%|dollars?|times|copies|tenants|employees|miles|feet"
)
_BOUND = (
    r"within|after|before|at\s+least|at\s+most|no\s+more\s+than|not\s+more\s+than"
    r"|no\s+less\s+than|not\s+less\s+than|no\s+later\s+than|not\s+later\s+than|up\s+to"
    r"|more\s+than|less\s+than|fewer\s+than|over|under|exceeding"
)
# A quantity: an optional bound, "$", a number in digits or in words (then perhaps
# its digits again in brackets), and an optional unit.
_QUANTITY = re.compile(
    rf"(?:\b(?P<bound>{_BOUND})\s+)?(?P<dollar>\$\s?)?"
    rf"(?:(?P<digits>\d+(?:[.,]\d+)*)|\b(?P<words>{_NUMBER_WORD})\b(?:\s*\(\s*\$?\d[\d,.]*\s*\))?)"
    rf"(?:(?:\s*|-)(?P<unit>{_UNIT}))?(?![\w.]*\d)",
    re.IGNORECASE,
)
# The rest of a range, whose unit is its first number's too.
_RANGE = re.compile(
    rf"\s*(?:to|or|-|\u2013)\s*(?:\d+(?:[.,]\d+)*|{_NUMBER_WORD})(?:\s*|-)(?P<unit>{_UNIT})\b",
    re.IGNORECASE,
)
# Numbers that are names, not amounts: sections, case reporters, years in a caption.
_NOT_AMOUNT = re.compile(
    r"(?:§+|\b[Ss]ections?|\b[Ss]ec\.|\bCode|\b[Cc]h\.|\b[Cc]hapter|\b[Aa]rt\.|\b[Aa]rticle"
    r"|\b[Rr]ule|\b[Pp]art|\b[Cc]lause|\b[Pp]aragraph|\b[Ss]chedule|\b[Ee]xhibit)"
    r"\s*\d[\w.\-]*(?:\([\w]+\))*"
    r"|\b\d+\s+(?:[A-Z][A-Za-z0-9.]*\s?){1,4}\s\d+\b"
    r"|\([^()]{0,40}?\b(?:1[6-9]|20)\d{2}\)",  # a caption's year: "(Tex. 2003)"
)
_UNIT_NAME = {
    "calendar day": "day", "working day": "business day", "per cent": "percent",
    "%": "percent", "dollar": "dollar", "copie": "copy",
}  # fmt: skip
_BOUND_SIDE = {
    "within": "by", "before": "by", "at most": "by", "no more than": "by",
    "not more than": "by", "no later than": "by", "not later than": "by", "up to": "by",
    "less than": "by", "fewer than": "by", "under": "by",
    "after": "from", "at least": "from", "no less than": "from", "not less than": "from",
    "more than": "from", "over": "from", "exceeding": "from",
}  # fmt: skip


@dataclass(frozen=True)
class Quantity:
    """A number, its unit (or "") and its bound's direction ("by", "from" or "")."""

    value: str
    unit: str
    bound: str
    text: str


def _word_value(words: str) -> int:
    parts = words.lower().replace("-", " ").split()
    total = sum(_WORD_VALUE.get(p, 0) for p in parts)
    if "hundred" in parts:
        total *= 100
    if "thousand" in parts:
        total *= 1000
    return total


def _unit(raw: str | None, dollar: bool) -> str:
    if dollar:
        return "dollar"
    if not raw:
        return ""
    unit = " ".join(raw.lower().replace("-", " ").split()).removesuffix("s")
    return _UNIT_NAME.get(unit, unit)


@lru_cache(maxsize=1024)
def quantities(text: str) -> tuple[Quantity, ...]:
    """The quantities ``text`` states (section numbers and case citations left out).

    A number written in words counts only with a unit ("thirty days"), so "one of
    the parties" is no quantity.
    """
    found: list[Quantity] = []
    for piece in split_source(strip_marker_text(text)):
        # The patterns are slow to scan with: only a piece with a figure is read.
        if _DIGIT.search(piece) or not _WORD_NUMBERS.isdisjoint(_SPLIT.split(piece.lower())):
            found.extend(_quantities(_NOT_AMOUNT.sub(" ", piece)))
    return tuple(found)


def _quantities(bare: str) -> Iterator[Quantity]:
    for match in _QUANTITY.finditer(bare):
        unit = _unit(match.group("unit"), bool(match.group("dollar")))
        if not unit and (ranged := _RANGE.match(bare, match.end())):
            unit = _unit(ranged.group("unit"), False)  # "four to six days": four days
        if match.group("digits"):
            value = match.group("digits").replace(",", "").rstrip(".")
            if value.endswith(".00"):
                value = value[:-3]
        elif unit:
            value = str(_word_value(match.group("words")))
        else:
            continue
        bound = " ".join((match.group("bound") or "").lower().split())
        yield Quantity(value, unit, _BOUND_SIDE.get(bound, ""), match.group(0).strip())


def numbers_in(text: str) -> set[str]:
    """Numbers as written, without thousands separators ("$1,450" -> "1450"), and
    numbers in words with a unit as digits ("thirty days" -> "30")."""
    return _digits(text) | {q.value for q in quantities(text)}


def numbers_missing(sentence: str, passage: str) -> set[str]:
    """The numbers of ``sentence`` that ``passage`` does not have (in digits or words).

    The passage's number words are read only when its digits leave one missing: a
    long source is read for "thirty days" only when the answer needs it.
    """
    ours = numbers_in(sentence)
    if not ours:
        return set()
    missing = ours - _digits(passage)
    return missing - {q.value for q in quantities(passage)} if missing else missing


def _digits(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _DIGITS.findall(strip_marker_text(text))}


_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_DIGIT = re.compile(r"\d")
_SPLIT = re.compile(r"[^a-z]+")
_WORD_NUMBERS = frozenset(_WORD_VALUE)


def check_quantities(sentence: str, source_text: str) -> Finding | None:
    """A finding for the first quantity of ``sentence`` its source does not state.

    The quantity is compared first with the source sentence nearest its own words
    (another figure in the same unit there contradicts it, even if the figure is
    somewhere else in the source), then with the whole source.
    """
    mine = quantities(sentence)
    theirs = quantities(source_text) if mine else ()
    for ours in mine:
        compared = best_sentence(_context(ours.text, sentence), source_text).text
        near = quantities(compared)
        rivals = [q for q in near if ours.unit and q.unit == ours.unit]
        if rivals and all(q.value != ours.value for q in rivals):
            return Finding(
                "quantity",
                f'the source says "{rivals[0].text}", the answer says "{ours.text}" '
                f'("{clip(compared)}")',
                compared,
            )
        same_value = [q for q in theirs if q.value == ours.value]
        if not same_value:
            # A figure the source has no counterpart for is only not found there.
            return Finding(
                "quantity",
                f'the source does not give "{ours.text}" ("{clip(compared)}")',
                compared,
                verdict="not_found",
            )
        units = [q for q in same_value if not ours.unit or not q.unit or q.unit == ours.unit]
        if not units:
            return Finding(
                "quantity",
                f'the source says "{same_value[0].text}", the answer says "{ours.text}" '
                f'("{clip(compared)}")',
                compared,
            )
        bounds = [q for q in units if ours.bound and q.bound and q.bound != ours.bound]
        if bounds and len(bounds) == len([q for q in units if q.bound]):
            return Finding(
                "quantity",
                f'the source says "{bounds[0].text}", the answer says "{ours.text}" '
                f'("{clip(compared)}")',
                compared,
            )
    return None


def _context(quantity: str, sentence: str, width: int = 40) -> str:
    """The quantity and the words around it: what finds its source sentence when the
    answer's sentence joins two of the source's."""
    at = sentence.find(quantity)
    if at < 0:
        return f"{quantity} {sentence}"
    return sentence[max(0, at - width) : at + len(quantity) + width]
