"""Legal authorities: a case or statute the answer cites must be in the cited source.

Case citations ("Roe v. Wade, 410 U.S. 113 (1973)") are parsed with eyecite, and
only for a sentence with a digit and a "v." or a reporter-like "410 U.S. 113":
eyecite's import and its reporter tables cost more than a sentence's other checks.
Statutes are matched here ("Tex. Prop. Code § 92.103", "Cal. Civ. Code 1950.5",
"§ 1950.5", "section 1950.5"): their section number must be in the source, and a
code named with it must be named there too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from legalrag.app.claims.text import Finding, best_sentence, clip, strip_marker_text

_CASE_HINT = re.compile(r"\bv\.\s|\b\d+\s+(?:[A-Z][A-Za-z0-9.]*\s?){1,4}\s\d+\b")
_CODE = (
    r"(?:[A-Z][A-Za-z.&]*\s+){1,5}"
    r"(?:Code|Stat\.|Statutes|Laws|C\.F\.R\.|U\.S\.C\.)(?:\s+Ann\.)?"
)
_STATUTE = re.compile(
    rf"(?P<code>{_CODE})?\s*(?:§+|\bsections?\b|\bsec\.)?\s*"
    r"(?P<section>\d+(?:[.\-:]\d+)*[a-z]?(?:\(\w+\))*)",
)
_SPACE = re.compile(r"[\s,]+")
# Capitalised words that open a sentence or a phrase, not a code's name.
_LEAD = frozenset(("under", "see", "in", "the", "per", "by", "cf.", "and", "also", "of"))


def _squash(text: str) -> str:
    """Lower case without spaces or commas: how a citation is looked up in a source."""
    return _SPACE.sub("", text.lower())


def statutes(text: str) -> list[tuple[str, str]]:
    """(code or "", section) for each statute citation: a section number that comes
    after "§", "section" or a code's name."""
    found = []
    for match in _STATUTE.finditer(strip_marker_text(text)):
        whole = match.group(0)
        code = match.group("code") or ""
        if not code and not re.search(r"§|\bsec", whole, re.IGNORECASE):
            continue
        words = code.split()
        # The code's name starts after the last opening word: "Payday Law. Under
        # Texas Labor Code" names the Texas Labor Code.
        leads = [i for i, word in enumerate(words) if word.lower() in _LEAD]
        words = words[leads[-1] + 1 :] if leads else words
        found.append((" ".join(words), match.group("section")))
    return found


@lru_cache(maxsize=1024)
def cases(text: str) -> tuple[str, ...]:
    """Case citations in ``text``: eyecite's "volume reporter page", a newline, and
    the citation as written."""
    if not re.search(r"\d", text) or not _CASE_HINT.search(text):
        return ()
    from eyecite import get_citations  # lazy: it loads reporter tables on import
    from eyecite.models import FullCaseCitation

    # As eyecite writes it ("105 C.M.R. 410") and as the text does ("105 CMR 410").
    return tuple(
        f"{c.corrected_citation()}\n{c.matched_text()}"
        for c in get_citations(text)
        if isinstance(c, FullCaseCitation)
    )


def check_authorities(sentence: str, source_text: str) -> Finding | None:
    """A finding for the first case or statute ``sentence`` cites that the source lacks."""
    haystack = _squash(source_text)
    for forms in cases(strip_marker_text(sentence)):
        citation, written = forms.split("\n")
        if _squash(citation) not in haystack and _squash(written) not in haystack:
            compared = best_sentence(sentence, source_text).text
            return Finding(
                "authority",
                f'the source does not cite {citation} ("{clip(compared)}")',
                compared,
                verdict="not_found",
            )
    for code, section in statutes(sentence):
        # "1950.5(b)" is looked up as "1950.5": a source may cite the section whole.
        missing = _squash(section.split("(")[0]) not in haystack
        if not missing and code:
            # "Tex. Prop. Code" and "Texas Property Code" are one code: compare its
            # first word's first three letters (tex, cal) when the source names a code.
            named = [c for c, _ in statutes(source_text) if c]
            missing = bool(named) and not any(c[:3].lower() == code[:3].lower() for c in named)
        if missing:
            compared = best_sentence(sentence, source_text).text
            cited = f"{code} § {section}" if code else f"§ {section}"
            return Finding(
                "authority",
                f'the source does not cite {cited} ("{clip(compared)}")',
                compared,
                verdict="not_found",
            )
    return None
