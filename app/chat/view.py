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
from html import escape

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.citations import Citation, marker_groups, split_sentences, strip_markers
from legalrag.app.claims import SUPPORTED

NOT_LEGAL_ADVICE = (
    "legalrag finds and cites sources; it is not legal advice and does not replace a lawyer's "
    "own reading of the law."
)
SAMPLE_BANNER = (
    "Illustrative sample corpus: these records were written to exercise retrieval and "
    "citations. They are not legal advice and may be wrong or out of date."
)
LEGEND = (
    '<div class="legend"><b>Legend</b>: '
    '<a class="cite">[1]</a> citation, click to see its source and the cited span · '
    '<s class="cite-invalid">[9]</s> invalid citation (no such source; removed) · '
    '<span class="unsupported">text</span><sup class="flag">unsupported</sup> states something '
    "without a citation · "
    '<span class="misgrounded">text</span><sup class="flag">misgrounded</sup> the cited source '
    "does not support it · "
    '<span class="quote-missing">"quote"</span> quotation found in no source</div>'
)
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
    """One citation marker: a link to its source (valid) or struck out (invalid).

    A valid citation the claim checks did not find supported says why in its title
    (and carries ``data-verdict`` for the page's style): the reason quotes
    the model's and the source's words, so it is escaped like them.
    """
    if 1 <= number <= len(sources):
        title = f"Source {number}: {sources[number - 1].title}"
        verdict = ""
        checked = verdicts.get((sentence, number))
        if checked is not None and checked.verdict not in (None, SUPPORTED):
            title += f" \u2014 {checked.verdict.replace('_', ' ')}: {checked.reason}"
            verdict = f' data-verdict="{escape(checked.verdict)}"'
        return (
            f'<a class="cite"{verdict} href="#{cite_id(turn, sentence, number)}" '
            f'title="{escape(title)}">[{number}]</a>'
        )
    return (
        f'<s class="cite-invalid" title="Invalid citation: no source {number} was '
        f'given; removed from the checked answer">[{number}]</s>'
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
    verdicts = {(c.sentence, c.marker): c for c in answer.citations if c.valid}
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
                '<span class="misgrounded" title="Misgrounded: the cited source does not '
                f'support this sentence">{html}</span><sup class="flag">misgrounded</sup>'
            )
        elif bare in unsupported:
            html = (
                '<span class="unsupported" title="Unsupported: this sentence states something '
                f'without citing a source">{html}</span><sup class="flag">unsupported</sup>'
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


def checks_line(answer: Answer) -> str:
    """One line saying what the citation check found."""
    citations = answer.citations
    valid = sum(1 for c in citations if c.valid)
    parts = [f"✓ {valid} citation{'s' if valid != 1 else ''} checked against the sources"]
    findings = [
        (len(answer.invalid_markers), "invalid citation", "removed"),
        (len(answer.unsupported_sentences), "unsupported sentence", ""),
        (len(answer.misgrounded_sentences), "misgrounded sentence", ""),
        (len(answer.quotes_not_found), "quotation in no source", ""),
    ]
    for count, what, note in findings:
        if count:
            plural = (
                what
                if count == 1
                else what.replace("citation", "citations")
                .replace("sentence", "sentences")
                .replace("quotation", "quotations")
            )
            parts.append(f"⚠ {count} {plural}" + (f" ({note})" if note else ""))
    if answer.truncated:
        parts.append("⚠ the model stopped at its token limit")
    return f'<span class="checks">{" · ".join(parts)}</span>'


def highlight(text: str, spans: Sequence[tuple[int, int, Sequence[str]]]) -> str:
    """Escaped ``text`` with each span (start, end, citation ids) in a ``<mark>``.

    Overlapping spans are merged, so every id stays findable.
    """
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
        unique = " ".join(dict.fromkeys(ids))
        markup = (
            f'<mark class="span" data-cites="{escape(unique)}">'
            f"{escape(text[start:end], quote=False)}</mark>"
        )
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


def render_sources(
    answer: Answer, *, turn: int, question: str, standalone: str, sentences: list[str]
) -> str:
    """The sources column for one turn: every retrieved passage and what cites it."""
    sources = answer.sources
    heading = escape(question, quote=False)
    searched = (
        f' <span class="notice">(searched for: {escape(standalone, quote=False)})</span>'
        if standalone != question
        else ""
    )
    cards: list[str] = []
    for source in sources:
        number = source.marker
        citing = sorted(
            {c.sentence for c in answer.citations if c.valid and c.source_id == source.id}
        )
        if citing:
            cited = ", ".join(
                f'<span title="{escape(sentences[i]) if i < len(sentences) else ""}">'
                f"sentence {i + 1}</span>"
                for i in citing
            )
            cited = f"cited by {cited}"
        else:
            cited = "not cited"
        url = _url(source.url)
        title = escape(source.title or source.document_id or "(untitled)")
        link = (
            f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
            if url
            else title
        )
        dense = None if source.stages is None else source.stages.dense
        score = f"score {source.score:.4f}" + (
            f" (dense {dense:.2f})" if isinstance(dense, float) else ""
        )
        meta = " · ".join(
            [
                escape(source.jurisdiction or "—"),
                escape(source.created or "no date"),
                score,
                cited,
            ]
        )
        text = highlight(source.text, cited_spans(answer, source, turn))
        cards.append(
            f'<div class="source" id="src-{turn}-{number}">'
            f'<div class="source-head"><b>[{number}]</b> {link}</div>'
            f'<div class="source-meta">{meta}</div>'
            f'<div class="source-text">{text}</div></div>'
        )
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


def answer_markdown(answer: Answer, *, question: str, standalone: str, when: str = "") -> str:
    """The checked answer, its findings and every source, as Markdown to copy or save."""
    lines = [f"# {question}", ""]
    if standalone != question:
        lines += [f"*Searched for: {standalone}*", ""]
    if answer.filters:
        lines += [f"Filters: {answer.filters}", ""]
    lines += ["## Answer", "", answer.answer.strip(), ""]
    findings = [
        ("Invalid citations (removed)", [f"[{m}]" for m in answer.invalid_markers]),
        ("Unsupported sentences (no citation)", answer.unsupported_sentences),
        (
            "Misgrounded sentences (cited source does not support them)",
            answer.misgrounded_sentences,
        ),
        ("Quotations found in no source", answer.quotes_not_found),
    ]
    if any(items for _, items in findings):
        lines += ["### Citation check", ""]
        for label, items in findings:
            for item in items:
                lines.append(f"- {label}: {item}")
        lines.append("")
    sources = answer.sources
    if sources:
        lines += ["## Sources", ""]
    for source in sources:
        meta = " · ".join(
            part
            for part in (
                source.jurisdiction,
                source.created,
                f"score {source.score:.4f}",
            )
            if part
        )
        title = source.title or source.document_id or "(untitled)"
        url = source.url
        lines.append(f"**[{source.marker}] {title}** · {meta}" + (f" · <{url}>" if url else ""))
        lines.append("")
        text = source.text
        spans = sorted((s, e) for s, e, _ in cited_spans(answer, source, 0))
        quoted, position = [], 0
        for start, end in spans:
            start = max(start, position)
            if end <= start:
                continue
            quoted.append(text[position:start] + "**" + text[start:end].strip() + "**")
            position = end
        quoted.append(text[position:])
        lines += ["> " + line for line in "".join(quoted).splitlines() if line.strip()]
        lines.append("")
    footer = f"Model {answer.model} · prompt {answer.prompt_version}"
    lines += ["---", footer + (f" · {when}" if when else ""), "", NOT_LEGAL_ADVICE, ""]
    return "\n".join(lines)
