"""Planted errors for the citation verifier: each kind a pure, deterministic function.

A mutator takes one cited answer sentence (``"The landlord must return it within 21
days [2]."``) and returns it with exactly one error of its kind planted, or None when
the kind does not apply to that sentence (no number to change, no two parties to
swap). Text-level kinds never touch the citation markers; citation-level kinds touch
only them. :mod:`.adversarial_paraphrase` does the opposite: a rewording that keeps
polarity, roles and numbers, so a verifier that flags it is wrong to.

The set is run by :mod:`legalrag.eval.adversarial_run`; ``docs/verification.md``
gives the figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Mutator = Callable[[str], "str | None"]

# A marker as the verifier reads it ([1], [1, 3], [citation:2]): kept out of reach of
# the text-level kinds, whose number patterns would otherwise rewrite "[2]".
_MARKER = re.compile(r"\[(?:citation:\s*)?\d+(?:\s*,\s*\d+)*\]", re.IGNORECASE)
_HOLE = "\x00"

NUMBER_STEP = 7
"""What a changed number gains: 30 -> 37, 21 -> 28, $125 -> $132."""

# Spelled numbers, each changed into the next one. "one" is left out: "no one",
# "one of the" are not amounts.
NUMBER_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
    "forty forty-five fifty sixty ninety hundred"
).split()

# Role words that come in pairs; a sentence naming both has them swapped.
PARTY_PAIRS: tuple[tuple[str, str], ...] = (
    ("disclosing party", "receiving party"),
    ("landlord", "tenant"),
    ("landlords", "tenants"),
    ("lessor", "lessee"),
    ("employer", "employee"),
    ("employers", "employees"),
    ("licensor", "licensee"),
    ("discloser", "recipient"),
    ("buyer", "seller"),
    ("plaintiff", "defendant"),
    ("company", "consultant"),
    ("company", "recipient"),
    ("contractor", "client"),
    ("we", "you"),
)

STATES = tuple(
    state.replace("_", " ")
    for state in (  # noqa: SIM905 - a word list reads better as text
        "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida "
        "Georgia Hawaii Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland "
        "Massachusetts Michigan Minnesota Mississippi Missouri Montana Nebraska Nevada "
        "New_Hampshire New_Jersey New_Mexico New_York North_Carolina North_Dakota Ohio Oklahoma "
        "Oregon Pennsylvania Rhode_Island South_Carolina South_Dakota Tennessee Texas Utah "
        "Vermont Virginia Washington West_Virginia Wisconsin Wyoming"
    ).split()
)
# The state a named one becomes: the corpus's two most common swap into each other,
# and every other state into the next one in the list.
_STATE_SWAP = {"California": "Texas", "Texas": "California", "New York": "New Jersey"}

CLAIMS_FROM_NO_SOURCE = (
    "Under the federal Uniform Tenancy Act, a party in breach owes liquidated damages "
    "equal to three times the annual rent",
    "The agreement automatically renews for successive five-year terms unless the "
    "arbitrator certifies otherwise",
    "Any dispute must first be submitted to binding mediation before the Federal Trade Commission",
)
"""Legal-sounding claims found in no source of our corpora (each checked against the
sources before use, see :func:`~legalrag.eval.adversarial_run`)."""

FABRICATED_QUOTE = "an irrevocable waiver of every statutory remedy"
"""A quoted phrase planted into a sentence: no source of our corpora holds it."""

MISSING_SOURCE = 99
"""The marker of a source not given (answers get at most a few dozen)."""


def case_like(word: str, model: str) -> str:
    """``word`` written with ``model``'s capitalisation (Tenant -> Landlord), word by word
    where both have as many (Receiving Party -> Disclosing Party)."""
    words, models = word.split(" "), model.split(" ")
    if len(words) > 1 and len(words) == len(models):
        return " ".join(case_like(w, m) for w, m in zip(words, models, strict=True))
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def keep_markers(sentence: str, change: Callable[[str], str | None]) -> str | None:
    """Apply ``change`` to ``sentence`` with its markers hidden, then put them back."""
    markers = _MARKER.findall(sentence)
    hidden = _MARKER.sub(_HOLE, sentence)
    changed = change(hidden)
    if changed is None or changed == hidden:
        return None
    for marker in markers:
        changed = changed.replace(_HOLE, marker, 1)
    return changed


def _replace_first(pattern: str, text: str, make: Callable[[re.Match[str]], str]) -> str | None:
    match = re.search(pattern, text, flags=re.IGNORECASE)
    if match is None:
        return None
    return text[: match.start()] + make(match) + text[match.end() :]


def _earliest(text: str, rules: list[tuple[str, Callable[[re.Match[str]], str]]]) -> str | None:
    """The first rule's replacement at the earliest position any rule matches."""
    found: list[tuple[int, int, re.Match[str], Callable[[re.Match[str]], str]]] = []
    for order, (pattern, make) in enumerate(rules):
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match is not None:
            found.append((match.start(), order, match, make))
    if not found:
        return None
    _, _, match, make = min(found, key=lambda f: (f[0], f[1]))
    return text[: match.start()] + make(match) + text[match.end() :]


# --- the kinds ------------------------------------------------------------------------


def change_number(sentence: str) -> str | None:
    """The first number written in digits gains :data:`NUMBER_STEP` (30 -> 37)."""

    def bump(match: re.Match[str]) -> str:
        whole, _, fraction = match.group(0).partition(".")
        value = int(whole.replace(",", "")) + NUMBER_STEP
        written = f"{value:,}" if "," in whole else str(value)
        return f"{written}.{fraction}" if fraction else written

    return keep_markers(
        sentence,
        lambda t: _replace_first(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", t, bump),
    )


def change_number_word(sentence: str) -> str | None:
    """The first spelled number becomes the next one (thirty -> forty, two -> three)."""
    pattern = r"\b(" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b"

    def step(match: re.Match[str]) -> str:
        word = match.group(0).lower()
        following = NUMBER_WORDS[(NUMBER_WORDS.index(word) + 1) % len(NUMBER_WORDS)]
        return case_like(following, match.group(0))

    return keep_markers(sentence, lambda t: _replace_first(pattern, t, step))


_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"


def change_unit(sentence: str) -> str | None:
    """The first unit changes: days -> business days, $N -> N%, N% -> $N, months <-> years."""
    rules: list[tuple[str, Callable[[re.Match[str]], str]]] = [
        (rf"\$\s?({_AMOUNT})", lambda m: f"{m.group(1)}%"),
        (rf"({_AMOUNT})\s?(?:%|percent\b)", lambda m: f"${m.group(1)}"),
        (r"\bbusiness days\b", lambda m: case_like("calendar days", m.group(0))),
        (r"\b(?:calendar )?days\b", lambda m: case_like("business days", m.group(0))),
        (r"\bmonths\b", lambda m: case_like("years", m.group(0))),
        (r"\byears\b", lambda m: case_like("months", m.group(0))),
        (r"\bweeks\b", lambda m: case_like("months", m.group(0))),
        (r"\bhours\b", lambda m: case_like("days", m.group(0))),
    ]
    return keep_markers(sentence, lambda t: _earliest(t, rules))


# A negation present is removed; failing that, one is added after the first auxiliary.
_NEGATIONS: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (
        r"\b(may|shall|must|will|does|do|did|is|are|was|were|should|would|could) not\b",
        lambda m: m.group(1),
    ),
    (r"\bcannot\b", lambda m: case_like("can", m.group(0))),
    (r"\bcan['\u2019]t\b", lambda m: case_like("can", m.group(0))),
    (r"\bwon['\u2019]t\b", lambda m: case_like("will", m.group(0))),
    (r"\b(does|do|did|is|are|was|were|should|would|could)n['\u2019]t\b", lambda m: m.group(1)),
    (r"\bnever ", lambda m: ""),
    (r"\bno longer ", lambda m: ""),
]
_AUXILIARIES: list[tuple[str, Callable[[re.Match[str]], str]]] = [
    (
        r"\b(may|shall|must|will|should|would|could|is|are|was|were)\b"
        r"(?! not\b|\s+\d)(?!['\u2019])",
        lambda m: f"{m.group(1)} not",
    ),
    (r"\bcan\b(?!['\u2019])", lambda m: case_like("cannot", m.group(0))),
]


def flip_polarity(sentence: str) -> str | None:
    """Remove the first negation ("may not" -> "may", "never"), else add one after the
    first auxiliary ("shall" -> "shall not", "is" -> "is not")."""
    return keep_markers(sentence, lambda t: _earliest(t, _NEGATIONS) or _earliest(t, _AUXILIARIES))


def change_modality(sentence: str) -> str | None:
    """must -> may, may -> must, shall -> may ("may not" and "must not" both forbid, so
    a negated modal is left alone)."""
    swap = {"must": "may", "may": "must", "shall": "may"}
    return keep_markers(
        sentence,
        lambda t: _replace_first(
            r"\b(must|may|shall)\b(?! not\b| never\b|\s+\d)",
            t,
            lambda m: case_like(swap[m.group(1).lower()], m.group(1)),
        ),
    )


def _swap_words(text: str, first: str, second: str) -> str:
    pattern = re.compile(rf"\b({re.escape(first)}|{re.escape(second)})\b", re.IGNORECASE)

    def other(match: re.Match[str]) -> str:
        word = match.group(0)
        return case_like(second if word.lower() == first else first, word)

    return pattern.sub(other, text)


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE) is not None


# Capitalised words that are not parties (titles, places, months, legal furniture).
_NOT_TERMS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "The This That These Those If Under Unless When After Before Within Any Each All No "
        "Code Civil Section Act Agreement Court Law State States United Federal Information "
        "Confidential January February March April May June July August September October "
        "November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
        "Title Question Answer Exhibit Schedule Article Party Parties"
    ).split()
) | {word for state in STATES for word in state.split()}


def swap_parties(sentence: str) -> str | None:
    """Swap the first pair of role words the sentence names both of (landlord/tenant,
    disclosing/receiving party, we/you, ...); failing that, its first two distinct
    capitalised defined terms ("Company" and "Consultant")."""

    def swap(text: str) -> str | None:
        for first, second in PARTY_PAIRS:
            if _has_word(text, first) and _has_word(text, second):
                return _swap_words(text, first, second)
        # A defined term reads "the Company": one capitalised word after "the", not a
        # piece of a longer name ("the Department of Labor", "the California Court").
        words = re.findall(r"\bthe ([A-Z][a-z]{2,})\b(?! [A-Z]| of\b| [&-])", text)
        terms = list(dict.fromkeys(w for w in words if w not in _NOT_TERMS))
        if len(terms) >= 2:
            return _swap_words(text, terms[0].lower(), terms[1].lower())
        return None

    return keep_markers(sentence, swap)


def swap_jurisdiction(sentence: str) -> str | None:
    """The first state the sentence names becomes another (California <-> Texas, else
    the next state in the list)."""
    pattern = r"\b(" + "|".join(sorted(STATES, key=len, reverse=True)) + r")\b"

    def other(match: re.Match[str]) -> str:
        state = match.group(0)
        return _STATE_SWAP.get(state, STATES[(STATES.index(state) + 1) % len(STATES)])

    return keep_markers(
        sentence, lambda t: _replace_first(pattern, t, other) if re.search(pattern, t) else None
    )


def fabricate_quote(sentence: str) -> str | None:
    """Add a quoted phrase (:data:`FABRICATED_QUOTE`) the sentence attributes to its source."""
    if '"' in sentence or "“" in sentence:
        return None

    def add(text: str) -> str | None:
        # Before the markers and the full stop, so the quote is the cited claim's.
        tail = re.search(rf"(\s*{_HOLE})*\s*[.!?]?\s*$", text)
        start = tail.start() if tail else len(text)
        return f'{text[:start]}, described as "{FABRICATED_QUOTE}"{text[start:]}'

    return keep_markers(sentence, add)


def claim_from_no_source(claim: str) -> Mutator:
    """A mutator that replaces the sentence by ``claim``, keeping its citation."""

    def replace(sentence: str) -> str | None:
        markers = _MARKER.findall(sentence)
        if not markers:
            return None
        return f"{claim} {' '.join(markers)}."

    return replace


def cite_source(number: int) -> Mutator:
    """A mutator that makes the sentence cite source ``number`` instead of its own."""

    def recite(sentence: str) -> str | None:
        markers = _MARKER.findall(sentence)
        if not markers or markers == [f"[{number}]"]:
            return None
        return _MARKER.sub(f"[{number}]", sentence)

    return recite


def cite_missing_source(sentence: str) -> str | None:
    """Cite a source that was not given (:data:`MISSING_SOURCE`)."""
    return cite_source(MISSING_SOURCE)(sentence)


def remove_citations(sentence: str) -> str | None:
    """The sentence with its markers removed: a factual claim citing nothing."""
    if not _MARKER.search(sentence):
        return None
    return re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", sentence)).strip()


TEXT_KINDS: dict[str, Mutator] = {
    "number_changed": change_number,
    "number_word_changed": change_number_word,
    "unit_changed": change_unit,
    "polarity_flipped": flip_polarity,
    "modality_changed": change_modality,
    "parties_swapped": swap_parties,
    "jurisdiction_swapped": swap_jurisdiction,
    "fabricated_quote": fabricate_quote,
    "source_not_given": cite_missing_source,
    "uncited": remove_citations,
}
"""The kinds that need nothing but the sentence."""

KINDS = (*TEXT_KINDS, "wrong_source", "claim_from_no_source")
"""Every planted kind; the last two need the sources (:mod:`.adversarial_run`)."""
