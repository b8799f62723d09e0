"""Parties and roles: who does what to whom.

Roles are the usual pairs (landlord/tenant, employer/employee, disclosing/receiving
party, licensor/licensee, buyer/seller, plaintiff/defendant, we/you) and the terms
a source defines for itself: ``(the "Recipient")``. The answer's verb is taken to be
a content word between its two roles that the source sentence also has; if the
source puts the answer's second role before that word and its first role after
it, the roles are swapped. Passive voice and pronouns are not resolved, so they
are left alone rather than guessed at.
"""

from __future__ import annotations

import re
from functools import lru_cache

from legalrag.app.claims.text import STOPWORDS, Finding, clip, stem, strip_marker_text

# Synonyms share a role: a lessor is the landlord, a discloser the disclosing party.
_ROLES = {
    "landlord": "landlord", "lessor": "landlord", "tenant": "tenant", "lessee": "tenant",
    "employer": "employer", "employee": "employee", "worker": "employee",
    "disclosing party": "disclosing party", "discloser": "disclosing party",
    "receiving party": "receiving party", "recipient": "receiving party",
    "licensor": "licensor", "licensee": "licensee", "buyer": "buyer", "purchaser": "buyer",
    "seller": "seller", "vendor": "seller", "plaintiff": "plaintiff", "defendant": "defendant",
    "we": "we", "us": "we", "you": "you",
}  # fmt: skip
_ROLE_WORDS = r"(?:" + "|".join(sorted(map(re.escape, _ROLES), key=len, reverse=True)) + r")"
_POSSESSIVE = r"(?:s|'s|\u2019s)?"
_ROLE = re.compile(rf"\b({_ROLE_WORDS}){_POSSESSIVE}\b", re.IGNORECASE)
_DEFINED = re.compile(
    r"\(\s*(?:the\s+|each\s+a\s+)?[\"“]([A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*){0,2})[\"”]"
)
_WORD = re.compile(r"[A-Za-z]+")
_WORD_OR_ROLE = re.compile(r"[a-z0-9]+|\x00")
# Where a source's clause ends: its roles are another clause's business ("If the
# landlord files, you will have five days": "you" is not acted on by the landlord).
# "after", "if" are no ends: "the landlord returns it after the tenant leaves" is
# one claim about both.
_CLAUSE_BREAK = re.compile(r"[;:,]|\.(?:\s|$)")


@lru_cache(maxsize=512)
def defined_terms(source_text: str) -> tuple[str, ...]:
    """The capitalised terms ``source_text`` defines in brackets: ("Recipient")."""
    return tuple(dict.fromkeys(_DEFINED.findall(source_text)))


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    if not terms:
        return _ROLE
    defined = "|".join(sorted(map(re.escape, terms), key=len, reverse=True))
    return _roles_with(defined)


@lru_cache(maxsize=512)
def _roles_with(defined: str) -> re.Pattern[str]:
    # Defined terms are matched as capitalised (case-sensitive); roles in any case.
    return re.compile(rf"\b((?-i:{defined})|{_ROLE_WORDS}){_POSSESSIVE}\b", re.IGNORECASE)


def _role_of(name: str) -> str:
    return _ROLES.get(name.lower(), name.lower())


def roles(text: str, terms: tuple[str, ...] = ()) -> list[tuple[str, int, int]]:
    """(role, start, end) of each party ``text`` names, in order."""
    return [(_role_of(m.group(1)), m.start(), m.end()) for m in _pattern(terms).finditer(text)]


def _words(text: str) -> list[tuple[str, int]]:
    return [
        (stem(m.group(0).lower()), m.start())
        for m in _WORD.finditer(text)
        if m.group(0).lower() not in STOPWORDS
    ]


def _around(text: str, at: int, named: list[tuple[str, int, int]]) -> tuple[str, str] | None:
    """The nearest roles before and after offset ``at`` within its clause."""
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text)]
    low = max([b for b in breaks if b < at], default=-1)
    high = min([b for b in breaks if b > at], default=len(text) + 1)
    before = [r for r, start, _ in named if low < start < at]
    after = [r for r, start, _ in named if at < start < high]
    return (before[-1], after[0]) if before and after else None


def check_parties(sentence: str, source_sentence: str, source_text: str) -> Finding | None:
    """A finding when the source sentence has the answer's two roles the other way round."""
    terms = defined_terms(source_text)
    bare = strip_marker_text(sentence)
    ours = roles(bare, terms)
    first = ours[0] if ours else None
    second = next((r for r in ours if first and r[0] != first[0]), None)
    if not first or not second:
        return None
    theirs = roles(source_sentence, terms)
    if _same_but_roles(bare, ours, source_sentence, theirs):
        verdicts = {"swapped"}
    else:
        verdicts = _around_shared_words(bare, first, second, source_sentence, theirs)
    if verdicts != {"swapped"}:
        return None
    a, b = (bare[first[1] : first[2]], bare[second[1] : second[2]])
    return Finding(
        "parties",
        f"the answer has the {a.lower()} where the source sentence has the {b.lower()}, and "
        f'the other way round ("{clip(source_sentence)}")',
        source_sentence,
    )


def _masked(text: str, named: list[tuple[str, int, int]]) -> list[str]:
    """``text``'s words with each role mention as one placeholder."""
    pieces, position = [], 0
    for _, start, end in named:
        pieces.extend((text[position:start].lower(), " \x00 "))
        position = end
    pieces.append(text[position:].lower())
    return _WORD_OR_ROLE.findall("".join(pieces))


def _same_but_roles(
    sentence: str, ours: list[tuple[str, int, int]], source: str, theirs: list[tuple[str, int, int]]
) -> bool:
    """The source sentence word for word, its roles in another order (clauses and all)."""
    if len(ours) != len(theirs) or sorted(r for r, *_ in ours) != sorted(r for r, *_ in theirs):
        return False
    if [r for r, *_ in ours] == [r for r, *_ in theirs]:
        return False
    return _masked(sentence, ours) == _masked(source, theirs)


def _around_shared_words(
    bare: str,
    first: tuple[str, int, int],
    second: tuple[str, int, int],
    source_sentence: str,
    theirs: list[tuple[str, int, int]],
) -> set[str]:
    """For each word the source shares with the answer between its two roles: are the
    roles around it in the source the same ("same") or the other way ("swapped")?"""
    between = [w for w, at in _words(bare) if first[2] <= at < second[1]]
    verdicts: set[str] = set()
    for word, at in _words(source_sentence):
        if word not in between:
            continue
        pair = _around(source_sentence, at, theirs)
        if pair == (first[0], second[0]):
            verdicts.add("same")
        elif pair == (second[0], first[0]):
            verdicts.add("swapped")
    return verdicts
