"""Edits: the source sentence copied with a word or two changed.

An answer that repeats a clause almost word for word, but with a "not" added or
dropped, a figure replaced, or two parties exchanged, reads as supported by every
score that counts shared words: the words are nearly all the source's. Here the two
sentences are aligned word by word (``difflib``, the standard library's sequence
matcher: the alignment is all that is needed, and it is deterministic) and only the
words that differ are read. The checks of ``polarity.py`` and ``parties.py`` reason
about scope and verbs for sentences that are reworded; this one is for those that
are not, and it names exactly the words that changed.
"""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher

from legalrag.app.claims.text import Finding, clip, tokens
from legalrag.app.jurisdictions import STATES, named_jurisdictions

_STATE_NAMES = {code: name for name, code in STATES.items()}

# The share of the longer sentence's words that must line up for the answer to be
# read as the source sentence edited (a reworded sentence is the other checks'). A
# clause moved or a few words changed keep well above it; a sentence that joins two
# of the source's, or uses half of one, falls below.
NEAR_VERBATIM = 0.75
_MIN_WORDS = 6
_NEGATIONS = frozenset(
    ("not", "n't", "no", "never", "neither", "nor", "none", "prohibited", "forbidden", "barred")
)
# Left out by the answer, a condition is unstated rather than reversed (polarity.py).
_CONDITIONS = frozenset(("unless", "except", "without"))
# "no later than", "not more than": bounds, which the quantity check reads.
_BOUND_AFTER = frozenset(("later", "more", "less", "fewer", "earlier", "sooner", "greater"))
# Between two exchanged words, only these: "the landlord and the tenant" reordered.
_COORDINATION = frozenset(("and", "or", "the", "a", "an", "&", "nor", "both", "either"))
_NUMBER_WORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
        "eighty ninety hundred thousand"
    ).split()
)

# Words that make a figure what it is: "30 days" is not "30 business days".
_UNIT_WORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "day days business calendar working week weeks month months year years hour hours "
        "minute minutes percent dollars cents"
    ).split()
)

# What a modal verb makes of the act: a duty or a permission ("will" is a duty in a
# contract's "the Recipient will return"; "can" and "may" both permit).
_MODALS = {
    **dict.fromkeys(("must", "shall", "will", "required", "obliged", "obligated"), "duty"),
    **dict.fromkeys(("may", "can", "could", "might", "entitled", "permitted"), "permission"),
}

Opcode = tuple[str, int, int, int, int]


def _words(text: str) -> list[str]:
    return [t for t in tokens(text) if t[0].isalnum() or t == "n't"]


def check_edits(sentence: str, source_sentence: str) -> Finding | None:
    """A finding when ``sentence`` is ``source_sentence`` with its meaning edited."""
    ours = _words(sentence)
    if len(ours) < _MIN_WORDS:
        return None
    # A source "sentence" can carry heading lines before it (a rulebook's titles run
    # into the rule): each line is a candidate too, and the closest one is read.
    candidates = [source_sentence, *source_sentence.splitlines()[1:]]
    best: tuple[float, str, list[str], SequenceMatcher[str]] | None = None
    for candidate in candidates:
        theirs = _words(candidate)
        if len(theirs) < _MIN_WORDS:
            continue
        matcher = SequenceMatcher(None, theirs, ours, autojunk=False)
        lined_up = sum(block.size for block in matcher.get_matching_blocks())
        share = lined_up / max(len(ours), len(theirs))
        if best is None or share > best[0]:
            best = (share, candidate, theirs, matcher)
    if best is None or best[0] < NEAR_VERBATIM:
        return None
    _, compared, theirs, matcher = best
    edits = [
        op for op in matcher.get_opcodes() if op[0] != "equal" and not _trimmed(op, theirs, ours)
    ]
    if not edits:
        return None
    return (
        _negation_edit(edits, theirs, ours, compared)
        or _modal_edit(edits, theirs, ours, compared)
        or _number_edit(edits, theirs, ours, compared)
        or _unit_edit(edits, theirs, ours, compared)
        or _state_edit(sentence, compared)
        or _exchange(edits, theirs, ours, compared)
    )


def _trimmed(op: Opcode, theirs: list[str], ours: list[str]) -> bool:
    """Words left off (or added) at either end: a heading the source's line began with,
    a clause the answer did not repeat. What the answer left out it does not reverse."""
    tag, i1, i2, j1, j2 = op
    at_start = i1 == 0 and j1 == 0
    at_end = i2 == len(theirs) and j2 == len(ours)
    return tag in ("delete", "insert") and (at_start or at_end)


def _negations(words: list[str], context: list[str], at: int) -> Counter[str]:
    """The negation cues among ``words`` (which sit at ``at`` in ``context``)."""
    found: Counter[str] = Counter()
    for offset, word in enumerate(words):
        following = context[at + offset + 1 : at + offset + 2]
        if word in ("no", "not") and following and following[0] in _BOUND_AFTER:
            continue
        if word in _NEGATIONS or word in _CONDITIONS:
            found[word] += 1
    return found


def _negation_edit(
    edits: list[Opcode], theirs: list[str], ours: list[str], source_sentence: str
) -> Finding | None:
    removed: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for _, i1, i2, j1, j2 in edits:
        removed += _negations(theirs[i1:i2], theirs, i1)
        added += _negations(ours[j1:j2], ours, j1)

    def core(found: Counter[str]) -> int:
        return sum(n for w, n in found.items() if w not in _CONDITIONS)

    def conditions(found: Counter[str]) -> int:
        return sum(n for w, n in found.items() if w in _CONDITIONS)

    if core(added) > core(removed) or conditions(added) > conditions(removed):
        word = next(w for w in added if added[w] > removed[w])
        reason = f'the answer adds "{word}" to the source\'s own sentence, reversing it'
    elif core(removed) > core(added):
        word = next(w for w in removed if w not in _CONDITIONS and removed[w] > added[w])
        reason = f'the answer drops "{word}" from the source\'s own sentence, reversing it'
    else:
        return None  # the same negations, or only a condition left out: unstated, not reversed
    return Finding("polarity", f'{reason} ("{clip(source_sentence)}")', source_sentence)


def _modal_edit(
    edits: list[Opcode], theirs: list[str], ours: list[str], source_sentence: str
) -> Finding | None:
    """A duty made a permission, or the reverse: "shall permit" written "may permit"."""
    for tag, i1, i2, j1, j2 in edits:
        if tag != "replace":
            continue
        said = [w for w in theirs[i1:i2] if w in _MODALS]
        says = [w for w in ours[j1:j2] if w in _MODALS]
        if len(said) == len(says) == 1 and _MODALS[said[0]] != _MODALS[says[0]]:
            return Finding(
                "modality",
                f'the source\'s own sentence says "{said[0]}" where the answer says "{says[0]}" '
                f'("{clip(source_sentence)}")',
                source_sentence,
            )
    return None


def _is_number(word: str) -> bool:
    return word[0].isdigit() or word in _NUMBER_WORDS


def _number_edit(
    edits: list[Opcode], theirs: list[str], ours: list[str], source_sentence: str
) -> Finding | None:
    for tag, i1, i2, j1, j2 in edits:
        if tag != "replace":
            continue
        was = [w for w in theirs[i1:i2] if _is_number(w)]
        now = [w for w in ours[j1:j2] if _is_number(w)]
        if was and now and was != now:
            return Finding(
                "quantity",
                f'the source\'s own sentence says "{" ".join(was)}" where the answer says '
                f'"{" ".join(now)}" ("{clip(source_sentence)}")',
                source_sentence,
            )
    return None


def _unit_edit(
    edits: list[Opcode], theirs: list[str], ours: list[str], source_sentence: str
) -> Finding | None:
    was: list[str] = []
    now: list[str] = []
    for _, i1, i2, j1, j2 in edits:
        was += [w for w in theirs[i1:i2] if w in _UNIT_WORDS]
        now += [w for w in ours[j1:j2] if w in _UNIT_WORDS]
    if Counter(was) == Counter(now):
        return None
    said = " ".join(was) or "no such unit"
    return Finding(
        "quantity",
        f'the source\'s own sentence has "{said}" where the answer has "{" ".join(now)}" '
        f'("{clip(source_sentence)}")',
        source_sentence,
    )


def _state_edit(sentence: str, source_sentence: str) -> Finding | None:
    named, theirs = named_jurisdictions(sentence), named_jurisdictions(source_sentence)
    if not named - theirs or not theirs:
        return None
    states = " and ".join(sorted(_STATE_NAMES[c] for c in named - theirs))
    source_states = " and ".join(sorted(_STATE_NAMES[c] for c in theirs - named or theirs))
    return Finding(
        "jurisdiction",
        f"the answer names {states} where the source's own sentence names {source_states} "
        f'("{clip(source_sentence)}")',
        source_sentence,
    )


def _exchange(
    edits: list[Opcode], theirs: list[str], ours: list[str], source_sentence: str
) -> Finding | None:
    """Two words (or short phrases) of the source that trade places in the answer."""
    swaps = [
        (tuple(theirs[i1:i2]), tuple(ours[j1:j2]), i1, i2)
        for tag, i1, i2, j1, j2 in edits
        if tag == "replace" and i2 - i1 == j2 - j1 <= 3
    ]
    for index, (was, now, _, end) in enumerate(swaps):
        for other_was, other_now, other_start, _ in swaps[index + 1 :]:
            if (other_was, other_now) != (now, was) or was == now:
                continue
            between = theirs[end:other_start]
            if between and all(w in _COORDINATION for w in between):
                continue  # "X and Y" written "Y and X": the same claim
            a, b = " ".join(was), " ".join(now)
            return Finding(
                "parties",
                f'the answer exchanges "{a}" and "{b}" in the source\'s own sentence '
                f'("{clip(source_sentence)}")',
                source_sentence,
            )
    return None
