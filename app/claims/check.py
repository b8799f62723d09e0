"""Run the claim checks on one (answer sentence, cited source) pair.

The support score says whether a source is about what the sentence says; the
checks here say whether it says the opposite. Each compares the sentence with the
source sentence that shares most of its words (a quantity or an authority is looked
for in the whole source) and returns a :class:`~legalrag.app.claims.text.Finding`.
"""

from __future__ import annotations

from dataclasses import dataclass

from legalrag.app.claims.authorities import check_authorities
from legalrag.app.claims.edits import check_edits
from legalrag.app.claims.jurisdiction import check_jurisdiction
from legalrag.app.claims.modality import check_modality
from legalrag.app.claims.parties import check_parties
from legalrag.app.claims.polarity import check_polarity
from legalrag.app.claims.quantities import check_quantities
from legalrag.app.claims.quotes import verbatim
from legalrag.app.claims.text import (
    Finding,
    best_sentence,
    clip,
    normalised,
    strip_marker_text,
)

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_FOUND = "not_found"
_SAME_CHECK = {"modality": "polarity"}
UNCLEAR = "unclear"  # kept for readers of the type; the checks do not give it (see docs)


@dataclass(frozen=True)
class ClaimCheck:
    """What the checks found for one citation: its verdict, why, and against what."""

    verdict: str
    reason: str
    source_sentence: str | None
    findings: tuple[Finding, ...] = ()


def findings_for(
    sentence: str, source_text: str, jurisdiction: str = ""
) -> tuple[str, list[Finding]]:
    """The best-matching source sentence and every check's finding, most specific first."""
    bare = strip_marker_text(sentence)
    compared = best_sentence(bare, source_text).text
    kind = verbatim(bare, source_text)
    if kind == "sentence" or (kind == "run" and len(normalised(bare)) >= len(normalised(compared))):
        # The source's own sentence (or a run of its text as long as one, across
        # sentences as the answer split them) cannot contradict it. A shorter run
        # is still checked: it may have left out the "not" before it.
        return compared, []
    found = [
        check_quantities(bare, source_text),
        check_authorities(bare, source_text),
        check_jurisdiction(bare, source_text, jurisdiction),
        check_modality(bare, compared),
    ]
    # "may not" against "may" is one contradiction, not a modal one and a "not" one.
    if found[-1] is None:
        found.append(check_polarity(bare, compared))
    found.append(check_parties(bare, compared, source_text))
    # The source's own sentence with a word changed (a "not", a figure, two parties
    # exchanged), where the checks above, which read reworded sentences, see nothing.
    found.append(check_edits(bare, compared))
    named = [f if f.source_sentence else _naming(f, compared) for f in found if f]
    # One finding per check: an edit's "not" is the polarity check's too, and "may"
    # against "may not" is one contradiction, not a modal one and a "not" one.
    first_of_each = {_SAME_CHECK.get(f.check, f.check): f for f in reversed(named)}
    return compared, [f for f in named if first_of_each[_SAME_CHECK.get(f.check, f.check)] is f]


def _naming(finding: Finding, compared: str) -> Finding:
    return Finding(
        finding.check, f'{finding.reason} ("{clip(compared)}")', compared, finding.verdict
    )


def check_claim(
    sentence: str,
    source_text: str,
    *,
    support: float,
    threshold: float,
    jurisdiction: str = "",
    quotes_found: bool | None = None,
    quoted_evidence: bool = False,
) -> ClaimCheck:
    """The verdict on one citation.

    ``support`` is the scorer's 0-1 score of the source for the sentence; ``quotes_found``
    whether the sentence's quotes are in the source (None: it quotes nothing), and
    ``quoted_evidence`` whether they are enough to stand as its evidence.
    """
    compared, findings = findings_for(sentence, source_text, jurisdiction)
    if findings:
        first = findings[0]
        reason = "; ".join(dict.fromkeys(f.reason for f in findings))
        return ClaimCheck(first.verdict, reason, first.source_sentence or compared, tuple(findings))
    if quotes_found is False:
        return ClaimCheck(NOT_FOUND, "a quotation in the answer is not in this source", compared)
    kind = verbatim(strip_marker_text(sentence), source_text)
    if kind:
        return ClaimCheck(SUPPORTED, "the answer repeats the source's words", compared)
    if quoted_evidence:
        return ClaimCheck(SUPPORTED, "the words the answer quotes are in the source", compared)
    if support >= threshold:
        return ClaimCheck(SUPPORTED, "the source says this", compared)
    return ClaimCheck(
        NOT_FOUND, f"the source does not say this (support {support:.2f} < {threshold})", compared
    )
