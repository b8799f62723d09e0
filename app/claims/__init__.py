"""Claim checks: does a cited source say the opposite of the answer's sentence?

One module per check (polarity, modality, parties, quantities, jurisdiction,
authorities, edits of the source's own sentence), quotes as evidence (quotes), a
citation pointing at the wrong one of the given sources (attribution), what they
share (text), and the runner (check) that
:func:`legalrag.app.citations.verify_citations` calls per citation.
"""

from __future__ import annotations

from legalrag.app.claims.attribution import better_source
from legalrag.app.claims.check import (
    CONTRADICTED,
    NOT_FOUND,
    SUPPORTED,
    UNCLEAR,
    ClaimCheck,
    check_claim,
    findings_for,
)
from legalrag.app.claims.text import Finding

__all__ = [
    "CONTRADICTED",
    "NOT_FOUND",
    "SUPPORTED",
    "UNCLEAR",
    "ClaimCheck",
    "Finding",
    "better_source",
    "check_claim",
    "findings_for",
]
