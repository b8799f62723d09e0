"""What the chat shows for one answer: the checked answer, its sources, its export.

Pure functions from an :class:`~legalrag.app.answers.Answer` to HTML and Markdown, so what
a lawyer sees is unit-tested without a browser. Everything that came from the
model or a document is HTML-escaped before our own markup is added.

Each valid citation marker links to ``#cite-<turn>-<sentence>-<source>``; the
cited span in the sources column carries the same id in ``data-cites``, placed at
the offsets the citation check found (the engine's span, never a search in the
browser). A few lines of script in the page (``static/chat.js``) mark the span of
a clicked marker and bring it into view.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from html import escape
from typing import TYPE_CHECKING

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.actions import card_actions
from legalrag.app.chat.cards import (
    age_warning,
    jurisdiction_name,
    newer_alike,
    source_type,
)
from legalrag.app.chat.verdicts import LOOKS, checks_line, legend_html, marker_html, verdict_of
from legalrag.app.citations import Citation, marker_groups, split_sentences, strip_markers
from legalrag.app.claims import SUPPORTED

if TYPE_CHECKING:
    from legalrag.app.chat.pages import PageView

NOT_LEGAL_ADVICE = (
    "legalrag finds and cites sources; it is not legal advice and does not replace a lawyer's "
    "own reading of the law."
)
SAMPLE_BANNER = (
    "Illustrative sample corpus: these records were written to exercise retrieval and "
    "citations. They are not legal advice and may be wrong or out of date."
)
LEGEND = legend_html()
# Leading Markdown structure stays outside the sentence's own markup.
_BLOCK_PREFIX = re.compile(r"^(\s*(?:[-*+]|\d+[.)]|#{1,6}|>)\s+)")


def cite_id(turn: int, sentence: int, marker: int) -> str:
    """The id that ties a marker in the answer to its span in the sources column."""
    return f"cite-{turn}-{sentence}-{marker}"


def _url(url: str) -> str | None:
    return url if url.startswith(("http://", "https://")) else None


def _weave(text: str, pieces: Iterable[tuple[int, int, str]]) -> str:
    """Escaped ``text`` with each (start, end) range, in order, replaced by its markup."""
    parts: list[str] = []
    position = 0
    for start, end, markup in pieces:
        parts.append(escape(text[position:start], quote=False))
        parts.append(markup)
        position = end
    parts.append(escape(text[position:], quote=False))
    return "".join(parts)


def _marker_html(
    number: int,
    *,
    turn: int,
    sentence: int,
    sources: Sequence[AnswerSource],
    verdicts: Mapping[tuple[int, int], Citation],
) -> str:
    """One citation marker with its verdict (:func:`.verdicts.marker_html`): a link to
    its span (valid) or struck out (invalid)."""
    checked = verdicts.get((sentence, number))
    if 1 <= number <= len(sources):
        return marker_html(
            number,
            checked,
            href=f"#{cite_id(turn, sentence, number)}",
            title=f"Source {number}: {sources[number - 1].title}",
        )
    return marker_html(
        number,
        checked,
        href=None,
        title=f"Invalid citation: no source {number} was given; removed from the checked answer",
    )


def _render_markers(
    text: str,
    *,
    turn: int,
    sentence: int,
    sources: Sequence[AnswerSource],
    verdicts: Mapping[tuple[int, int], Citation],
) -> str:
    """Escaped ``text`` with its markers as links (valid) or struck out (invalid)."""
    pieces = []
    for start, end, numbers in marker_groups(text):
        markup = "".join(
            _marker_html(number, turn=turn, sentence=sentence, sources=sources, verdicts=verdicts)
            for number in numbers
        )
        pieces.append((start, end, markup))
    return _weave(text, pieces)


def _mark_quotes(html: str, quotes: Sequence[str]) -> str:
    for quote in quotes:
        escaped = escape(quote, quote=False)
        if escaped in html:
            html = html.replace(
                escaped,
                '<span class="quote-missing" title="Quotation found in no source">'
                f"{escaped}</span>",
                1,
            )
    return html


def render_answer(raw_answer: str, answer: Answer, *, turn: int) -> str:
    """The checked answer as chat Markdown with inline HTML.

    ``raw_answer`` is what the model streamed; its sentences are numbered exactly as
    the citation check numbered them. Invalid markers (removed from the checked
    answer) are shown struck out; unsupported and misgrounded sentences are marked.
    """
    sources = answer.sources
    if not raw_answer.strip():
        css = "refusal" if answer.refused else "notice"
        return f'<span class="{css}">{escape(answer.answer, quote=False)}</span>'
    unsupported = set(answer.unsupported_sentences)
    misgrounded = set(answer.misgrounded_sentences)
    quotes = answer.quotes_not_found
    verdicts = {(c.sentence, c.marker): c for c in answer.citations}
    lines: dict[int, list[str]] = defaultdict(list)
    for index, sentence in enumerate(split_sentences(raw_answer.strip())):
        prefix_match = _BLOCK_PREFIX.match(sentence.text) if not lines[sentence.line] else None
        prefix = prefix_match.group(1) if prefix_match else ""
        body = sentence.text[len(prefix) :]
        html = _mark_quotes(
            _render_markers(body, turn=turn, sentence=index, sources=sources, verdicts=verdicts),
            quotes,
        )
        bare = strip_markers(sentence.text)
        if bare in misgrounded:
            html = (
                '<span class="flagged"><span class="misgrounded" title="Misgrounded: no cited '
                f'source supports this sentence">{html}</span><sup class="flag">misgrounded</sup>'
                "</span>"
            )
        elif bare in unsupported:
            html = (
                '<span class="flagged"><span class="unsupported" title="Unsupported: this '
                f'sentence states something without citing a source">{html}</span>'
                '<sup class="flag">unsupported</sup></span>'
            )
        lines[sentence.line].append(escape(prefix, quote=False) + html)
    rendered: list[str] = []
    previous: int | None = None
    for number in sorted(lines):
        if previous is not None and number > previous + 1:
            rendered.append("")  # a blank line in the answer: a new paragraph
        rendered.append(" ".join(lines[number]))
        previous = number
    css = ' class="refusal"' if answer.refused else ""
    body = "\n".join(rendered)
    return (f"<div{css}>\n\n{body}\n\n</div>" if css else body) + "\n\n" + checks_line(answer)


def highlight(
    text: str,
    spans: Sequence[tuple[int, int, Sequence[str]]],
    failed: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """Escaped ``text`` with each span (start, end, citation ids) in a ``<mark>``.

    Overlapping spans are merged, so every id stays findable. A span whose every
    citation failed (``failed``: id -> (verdict, reason)) is marked "cited, but does
    not support": a highlight must not look like evidence when it is not.
    """
    failed = failed or {}
    cleaned = sorted(
        (max(0, start), min(len(text), end), list(ids))
        for start, end, ids in spans
        if min(len(text), end) > max(0, start)
    )
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, ids in cleaned:
        if merged and start < merged[-1][1]:
            last_start, last_end, last_ids = merged[-1]
            merged[-1] = (last_start, max(last_end, end), last_ids + ids)
        else:
            merged.append((start, end, ids))
    pieces = []
    for start, end, ids in merged:
        unique = list(dict.fromkeys(ids))
        shown = escape(text[start:end], quote=False)
        if all(i in failed for i in unique):
            verdict, reason = failed[unique[0]]
            markup = (
                f'<span class="span-flag" data-verdict="{verdict}">\u26a0 cited, but does not '
                f"support ({LOOKS[verdict].word})</span>"
                f'<mark class="span span-failed" data-verdict="{verdict}" '
                f'data-cites="{escape(" ".join(unique))}" '
                f'title="{escape("Cited, but does not support the sentence: " + reason)}">'
                f"{shown}</mark>"
            )
        else:
            markup = f'<mark class="span" data-cites="{escape(" ".join(unique))}">{shown}</mark>'
        pieces.append((start, end, markup))
    return _weave(text, pieces)


def cited_spans(answer: Answer, source: AnswerSource, turn: int) -> list[tuple]:
    """(start, end, [citation id]) in the source's own text, for each valid citation of it."""
    spans = []
    for citation in answer.citations:
        if not citation.valid or citation.source_id != source.id:
            continue
        span = citation.span
        if span is None:
            continue
        offset = source.start
        ident = cite_id(turn, citation.sentence, citation.marker)
        spans.append((int(span[0]) - offset, int(span[1]) - offset, [ident]))
    return spans


def _snippet(sentence: str, words: int = 8) -> str:
    parts = sentence.split()
    return " ".join(parts[:words]) + ("\u2026" if len(parts) > words else "")


def _citing(answer: Answer, source: AnswerSource, sentences: Sequence[str]) -> str:
    """ "cited for: “first words…” ✓ supported; …": the sentences as the reader saw them."""
    entries = []
    for citation in answer.citations:
        if not citation.valid or citation.source_id != source.id:
            continue
        verdict = verdict_of(citation)
        look = LOOKS[verdict]
        said = sentences[citation.sentence] if citation.sentence < len(sentences) else ""
        tip = f"{said} \u2014 {look.word}: {citation.reason}"
        entries.append(
            f'<span class="citing" data-verdict="{verdict}" title="{escape(tip)}">'
            f"\u201c{escape(_snippet(said), quote=False)}\u201d "
            f'<span class="v-icon" aria-hidden="true">{look.icon}</span> {look.word}</span>'
        )
    return "cited for: " + "; ".join(entries) if entries else "not cited"


def _card(
    answer: Answer,
    source: AnswerSource,
    *,
    turn: int,
    sentences: Sequence[str],
    max_age_years: int,
    today: date,
    page_view: PageView | None = None,
) -> str:
    """One source: type badge, jurisdiction, date and its warnings, what cites it, its
    actions (:mod:`.actions`), text (and, for an uploaded paged document, the cited
    page: :mod:`.pages`)."""
    number = source.marker
    url = _url(source.url)
    title = escape(source.title or source.document_id or "(untitled)")
    link = (
        f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        if url
        else title
    )
    kind = source_type(source)
    warnings = []
    old = age_warning(source, max_age_years=max_age_years, today=today)
    if old:
        warnings.append(old)
    newer = newer_alike(source, answer.sources)
    if newer:
        markers = ", ".join(f"[{n.marker}]" for n in newer)
        warnings.append(f"a newer source of the same jurisdiction is listed: {markers}")
    warned = "".join(
        f'<span class="source-warning">\u26a0 {escape(w, quote=False)}</span>' for w in warnings
    )
    meta = " · ".join(
        [
            escape(jurisdiction_name(source.jurisdiction)),
            escape(source.created or "no date"),
            _citing(answer, source, sentences),
        ]
    )
    dense = None if source.stages is None else source.stages.dense
    score = f"retrieval score {source.score:.4f}" + (
        f" (dense similarity {dense:.2f})" if isinstance(dense, float) else ""
    )
    failed = {
        cite_id(turn, c.sentence, c.marker): (verdict_of(c), c.reason)
        for c in answer.citations
        if c.valid and c.source_id == source.id and verdict_of(c) != SUPPORTED
    }
    spans = cited_spans(answer, source, turn)
    text = highlight(source.text, spans, failed)
    figure = page_view(source, [(start, end) for start, end, _ in spans]) if page_view else ""
    return (
        f'<div class="source" id="src-{turn}-{number}" data-type="{kind}">'
        f'<div class="source-head"><b>[{number}]</b> <span class="badge">{kind}</span> '
        f"{link}</div>"
        f'<div class="source-meta">{meta}{warned}</div>{card_actions(answer, source)}{figure}'
        f'<details class="scores"><summary>Scores</summary>'
        f'<span class="score-figures">{score}</span></details>'
        # Focusable: a long source scrolls inside its card, and a keyboard must reach it.
        f'<div class="source-text" tabindex="0">{text}</div></div>'
    )


def render_sources(
    answer: Answer,
    *,
    turn: int,
    question: str,
    standalone: str,
    sentences: list[str],
    max_age_years: int = 5,
    today: date | None = None,
    page_view: PageView | None = None,
) -> str:
    """The sources column for one turn: every retrieved passage and what cites it
    (``page_view``: the cited page of an uploaded document, :mod:`.pages`)."""
    sources = answer.sources
    heading = escape(question, quote=False)
    searched = (
        f' <span class="notice">(searched for: {escape(standalone, quote=False)})</span>'
        if standalone != question
        else ""
    )
    cards = [
        _card(
            answer,
            source,
            turn=turn,
            sentences=sentences,
            max_age_years=max_age_years,
            today=today or date.today(),
            page_view=page_view,
        )
        for source in sources
    ]
    if not cards:
        cards.append('<p class="notice">No sources were retrieved for this question.</p>')
    return (
        f'<details class="turn" id="turn-{turn}" open><summary><b>Question {turn}</b>: '
        f"{heading}{searched} · {len(sources)} source{'s' if len(sources) != 1 else ''}"
        f"</summary>{''.join(cards)}</details>"
    )


def stack_turns(current: str, earlier_html: str | None) -> str:
    """The new turn's sources on top; earlier turns' stay below, folded."""
    earlier = earlier_html or ""
    if 'class="turn"' not in earlier:  # the placeholder before the first question
        earlier = ""
    earlier = re.sub(r'(<details class="turn" id="turn-\d+") open>', r"\1>", earlier)
    return current + earlier
