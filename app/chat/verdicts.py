"""Each citation's verdict as the page shows it: marker, summary line, legend.

Five verdict words, spelled as in ``data-verdict`` on every marker element (and on
a failed span in the sources column): ``supported``, ``contradicted``,
``not_found`` (the claim checks' own spelling, :mod:`legalrag.app.claims`),
``invalid`` (a marker naming no given source) and ``unclear`` (a citation that was
not checked, or a verdict this page does not know). Each is shown by an icon, a
colour (``static/chat.css``) and a word, never by colour alone; its reason is in
the marker's ``title`` (hover) and ``aria-label`` (screen readers), and in
``data-reason`` for the focus tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from legalrag.app.answers import Answer
from legalrag.app.citations import Citation
from legalrag.app.claims import CONTRADICTED, NOT_FOUND, SUPPORTED, UNCLEAR

INVALID = "invalid"


@dataclass(frozen=True)
class Look:
    """How one verdict is shown: its icon and its word."""

    icon: str
    word: str


LOOKS = {
    SUPPORTED: Look("✓", "supported"),
    CONTRADICTED: Look("✗", "contradicted"),
    NOT_FOUND: Look("?", "not found"),
    INVALID: Look("⊘", "invalid"),
    UNCLEAR: Look("~", "unclear"),
}
"""The verdicts a marker can show, by their ``data-verdict`` spelling."""


_MEANS = {
    SUPPORTED: "the source states it",
    CONTRADICTED: "the source says otherwise",
    NOT_FOUND: "the source does not say it",
    INVALID: "invalid citation: no such source, removed",
    UNCLEAR: "not checked",
}


def verdict_of(citation: Citation | None) -> str:
    """The ``data-verdict`` word for ``citation`` (unclear when unchecked or unknown)."""
    if citation is None:
        return UNCLEAR
    if not citation.valid:
        return INVALID
    return citation.verdict if citation.verdict in LOOKS else UNCLEAR


def _reason(citation: Citation | None, verdict: str) -> str:
    if citation is not None and citation.reason:
        return citation.reason
    if verdict == SUPPORTED:
        return "the source states this"
    return "this citation was not checked"


def marker_html(number: int, citation: Citation | None, *, href: str | None, title: str) -> str:
    """One citation marker: ``[n]``, its verdict's icon and word, the reason on hover/focus.

    ``href`` is None for an invalid marker (struck out: there is no source to show).
    The reason quotes the model's and the source's words, so it is escaped like them.
    """
    verdict = INVALID if href is None else verdict_of(citation)
    look = LOOKS[verdict]
    reason = _reason(citation, verdict)
    tip = f"{title} \u2014 {look.word}: {reason}"
    label = f"Citation {number}, {look.word}: {reason}"
    attributes = (
        f'data-verdict="{verdict}" title="{escape(tip)}" aria-label="{escape(label)}" '
        f'data-reason="{escape(look.word + ": " + reason)}"'
    )
    # The chat's sanitiser drops data-* and aria-* from messages; the icon's class keeps
    # the verdict, and static/chat.js puts data-verdict and aria-label back from it.
    icon = f'<span class="v-icon verdict-{verdict}" aria-hidden="true">{look.icon}</span>'
    word = "" if verdict == SUPPORTED else f'<span class="v-text">{look.word}</span>'
    inner = f"[{number}]{icon}{word}"
    if href is None:
        return f'<s class="cite-invalid" {attributes}>{inner}</s>'
    return f'<a class="cite" {attributes} href="{href}">{inner}</a>'


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def checks_line(answer: Answer) -> str:
    """One line: "N supported · M problems", then what the problems are.

    A tick opens it only when there are citations and no problem: an answer with
    nothing to check, or with a finding, gets a warning sign instead.
    """
    if answer.refused:
        return (
            '<span class="checks checks-refusal">No answer: the sources retrieved do not '
            "address this question, so there is nothing to check.</span>"
        )
    counts = {verdict: 0 for verdict in LOOKS}
    for citation in answer.citations:
        counts[verdict_of(citation)] += 1
    details = [
        _plural(counts[CONTRADICTED], "contradicted citation", "contradicted citations"),
        _plural(
            counts[NOT_FOUND],
            "citation not found in its source",
            "citations not found in their sources",
        ),
        _plural(counts[UNCLEAR], "unchecked citation", "unchecked citations"),
        _plural(counts[INVALID], "invalid citation (removed)", "invalid citations (removed)"),
        _plural(len(answer.unsupported_sentences), "unsupported sentence", "unsupported sentences"),
        _plural(len(answer.quotes_not_found), "quotation in no source", "quotations in no source"),
    ]
    problems = (
        counts[CONTRADICTED]
        + counts[NOT_FOUND]
        + counts[UNCLEAR]
        + counts[INVALID]
        + len(answer.unsupported_sentences)
        + len(answer.quotes_not_found)
        + int(answer.truncated)
    )
    found = [d for d in details if not d.startswith("0 ")]
    if answer.misgrounded_sentences:
        found.append(
            _plural(
                len(answer.misgrounded_sentences), "misgrounded sentence", "misgrounded sentences"
            )
            + " (no cited source supports it)"
        )
    if answer.truncated:
        found.append("the model stopped at its token limit")
    supported = counts[SUPPORTED]
    if not answer.citations:
        head = "⚠ No citations: nothing in this answer is checked against a source"
        css = "checks checks-problems"
    elif problems:
        head = f"⚠ {supported} supported · {_plural(problems, 'problem', 'problems')}"
        css = "checks checks-problems"
    else:
        head = f"✓ {supported} supported · no problems found"
        css = "checks checks-ok"
    text = head + (": " + " · ".join(found) if found else "")
    return f'<span class="{css}">{escape(text, quote=False)}</span>'


def legend_html() -> str:
    """The legend under the answers: every verdict's icon and word, and the flags."""
    marks = " · ".join(
        f'<span class="cite" data-verdict="{verdict}">[1]'
        f'<span class="v-icon verdict-{verdict}" aria-hidden="true">{look.icon}</span>'
        f"</span> {look.word} ({_MEANS[verdict]})"
        for verdict, look in LOOKS.items()
    )
    return (
        '<div class="legend"><b>Legend</b>: citations (select one to see its cited span): '
        f"{marks} · "
        '<span class="unsupported">text</span><sup class="flag">unsupported</sup> states '
        "something without a citation · "
        '<span class="misgrounded">text</span><sup class="flag">misgrounded</sup> no cited '
        "source supports it · "
        '<span class="quote-missing">"quote"</span> quotation found in no source</div>'
    )
