"""Correct paraphrases for the adversarial set: the verifier should let them pass.

:func:`paraphrase` rewords a cited sentence without changing what it claims (same
polarity, roles and numbers): a leading clause moved to the end, a few legal words
replaced from a small fixed table, filler adverbs dropped. Deterministic, so the
set is the same on every run.
"""

from __future__ import annotations

import re

from legalrag.eval.adversarial import case_like, keep_markers

SYNONYMS: tuple[tuple[str, str], ...] = (
    ("pursuant to", "under"),
    ("in accordance with", "under"),
    ("prior to", "before"),
    ("subsequent to", "after"),
    ("in the event that", "if"),
    ("provides that", "states that"),
    ("provides", "gives"),
    ("obtain", "get"),
    ("terminate", "end"),
    ("commence", "begin"),
    ("sufficient", "enough"),
    ("approximately", "about"),
    ("permitted", "allowed"),
    ("permits", "allows"),
    ("purchase", "buy"),
    ("notify", "inform"),
    ("immediately", "at once"),
    ("regarding", "about"),
)
"""Plain-word equivalents, applied left to right (a small fixed table, so a
paraphrase is the same on every run)."""

FILLER_ADVERBS = ("also", "generally", "actually", "simply", "really", "currently", "basically")
"""Adverbs whose removal changes no claim."""

_LEADING_CLAUSE = re.compile(
    r"^(If|Unless|When|Once|Under|After|Before|Within)\s+([^,\x00]{3,120}),\s+(.{12,}?)(\s*\x00?)([.!?])$"
)


def paraphrase(sentence: str) -> str | None:
    """A rewording with the same polarity, roles and numbers: a leading clause moved to
    the end ("If X, Y." -> "Y if X."), plain words for a few legal ones, filler adverbs
    dropped. None when none of them applies."""

    def reword(text: str) -> str:
        match = _LEADING_CLAUSE.match(text.strip())
        # "After X, or on request, Y": the comma ended no clause; leave it.
        if match and not re.match(r"(or|and|but|which|then|so|though|if|unless)\b", match[3]):
            lead, clause, main, hole, stop = match.groups()
            text = f"{main[:1].upper()}{main[1:]} {lead.lower()} {clause}{hole}{stop}"
        for formal, plain in SYNONYMS:
            text = re.sub(
                rf"\b{re.escape(formal)}\b",
                lambda m, plain=plain: case_like(plain, m.group(0)),
                text,
                flags=re.IGNORECASE,
            )
        for adverb in FILLER_ADVERBS:
            text = re.sub(rf"(?<=\w) {adverb}\b(?=[ ,])", "", text)
        return re.sub(r"\s{2,}", " ", text)

    return keep_markers(sentence, reword)
