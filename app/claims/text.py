"""What every claim check shares: words, stems, source sentences, findings.

The citation check (``app/citations.py``) reads its markers, content words and
passage sentences from here too, so a sentence is cut and matched one way only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# [1]  [1, 3]  [citation:2]  ([1][3] is two markers)
MARKER = re.compile(r"\[(?:citation:\s*)?(\d+(?:\s*,\s*\d+)*)\]", re.IGNORECASE)
WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "a an and are as at be been but by can could did do does for from had has have he her "
        "his i if in into is it its may might must my no not of on or our she should so such "
        "than that the their them then there these they this those to under up was we were "
        "what when where which who will with would you your also any all each more most other "
        "some only own same very just about after before over within without "
    ).split()
)
# After . ! ? (or after one of them and a closing quote), as answers are split.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”']))\s+")
_ABBREVIATIONS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "v vs Inc Corp Co Ltd No Nos Sec Art Ch Para Cl Mr Mrs Ms Dr St e.g i.e cf Jr Sr "
        "U.S Tex Cal Civ Prop Stat Ann Pa Fla Ill Mass Mich Minn Wash Wis Va Ga Ariz Colo "
        "Conn Del Ky La Md Mo Neb Nev Okla Or Tenn Vt Gov Pen Lab Bus Prof Fam Prob Proc "
        "Rev Gen Regs Reg Admin Ins Educ Fin Ct App Cir Supp Dist F S.W N.E N.W S.E So P A"
    ).split()
)
# Dotted initials ("C.R.S.", "N.J.S.A.", "U.S.C.") name a code: a stop inside or after
# them ends no sentence, or "C.R.S. 38-12-103" is cut from its section number.
_INITIALS = re.compile(r"(?:[A-Z]\.){1,}[A-Z]\.?")
# Tokens for the scoped checks: words, "n't" on its own, and the clause breaks.
_TOKEN = re.compile(r"n't|[a-z0-9]+(?:[.,][0-9]+)*|[,;:()]|[.!?](?=\s|$)")
_CONTRACTION = re.compile(r"(\w)n't\b")
_SUFFIXES = ("ing", "ed", "es", "s")
_VERBATIM = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*|[$%§]")
RIGHT_QUOTE = "\u2019"  # the typographic apostrophe of "doesn\u2019t"


def strip_marker_text(text: str) -> str:
    """``text`` with its citation markers blanked (their digits are not the claim's)."""
    return MARKER.sub(" ", text)


def content_words(text: str) -> set[str]:
    """Lower-case words that carry meaning (no stopwords, no citation markers)."""
    return {w for w in WORD.findall(strip_marker_text(text).lower()) if w not in STOPWORDS}


def stem(word: str) -> str:
    """A crude stem, so "discloses", "disclosed" and "disclosing" match "disclose"."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) > 4 else word


def tokens(text: str) -> list[str]:
    """Lower-case tokens; "doesn't" is "does" + "n't", "cannot" is "can" + "not"."""
    lowered = strip_marker_text(text).lower().replace(RIGHT_QUOTE, "'")
    lowered = lowered.replace("cannot", "can not")
    lowered = _CONTRACTION.sub(r"\1 n't", lowered)
    return _TOKEN.findall(lowered)


def split_source(text: str) -> list[str]:
    """A source's sentences, as written (markers are not expected in sources).

    A stop after an abbreviation legal text is full of ("Tex. Prop. Code", "Smith v.
    Jones", "Acme Corp.") ends no sentence, so a statute stays in one piece.
    """
    return split_at(text, _SENTENCE_END)


def split_at(text: str, sentence_end: re.Pattern[str]) -> list[str]:
    """``text`` split where ``sentence_end`` matches, except after an abbreviation."""
    pieces: list[str] = []
    start = 0
    for match in sentence_end.finditer(text):
        space = text.rfind(" ", start, match.start())
        word = text[space + 1 if space >= 0 else start : match.start()]
        bare = word.rstrip("\"”'").lstrip("(")
        if bare.rstrip(".") in _ABBREVIATIONS or _INITIALS.fullmatch(bare):
            continue
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def normalised(text: str) -> str:
    """Words and the signs that change a figure ($ % §), lower case, one space apart:
    how verbatim text is compared ("$5" is not "5%")."""
    return " ".join(_VERBATIM.findall(strip_marker_text(text).lower()))


@dataclass(frozen=True)
class SourceSentence:
    """One sentence of a source, where it sits in the source's text, and its words."""

    text: str
    start: int
    end: int
    words: frozenset[str]


@lru_cache(maxsize=512)
def source_sentences(text: str) -> tuple[SourceSentence, ...]:
    """The sentences of a source with their offsets (cached: a source is cited often)."""
    found: list[SourceSentence] = []
    offset = 0
    for piece in split_source(text):
        start = text.find(piece, offset)
        offset = start + len(piece)
        found.append(SourceSentence(piece, start, offset, frozenset(content_words(piece))))
    return tuple(found)


def best_sentence(sentence: str, source_text: str) -> SourceSentence:
    """The source sentence sharing most of ``sentence``'s content words (the first on a tie)."""
    words = content_words(sentence)
    pieces = source_sentences(source_text)
    if not pieces:
        return SourceSentence(source_text, 0, len(source_text), frozenset())
    return max(pieces, key=lambda piece: len(words & piece.words))


@dataclass(frozen=True)
class Finding:
    """One check's objection to a (sentence, source sentence) pair.

    ``reason`` is one plain sentence a lawyer can read; ``source_sentence`` is what
    the answer was compared with. ``verdict`` is "contradicted" (the source says
    otherwise) or "not_found" (the source does not say it at all).
    """

    check: str
    reason: str
    source_sentence: str
    verdict: str = "contradicted"


def clip(text: str, limit: int = 60) -> str:
    """``text`` cut to about ``limit`` characters at a word, for a reason's quotation."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"
