"""The Markdown export of one answer: the checked answer, its findings, every source."""

from __future__ import annotations

from legalrag.app.answers import Answer
from legalrag.app.chat.cards import jurisdiction_name, source_type
from legalrag.app.chat.verdicts import LOOKS, verdict_of
from legalrag.app.chat.view import NOT_LEGAL_ADVICE, cited_spans


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
        (
            "Citations that do not support their sentence",
            [
                f"[{c.marker}] in sentence {c.sentence + 1}: {LOOKS[verdict_of(c)].word}, "
                f"{c.reason}"
                for c in answer.citations
                if c.valid and verdict_of(c) != "supported"
            ],
        ),
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
                source_type(source),
                jurisdiction_name(source.jurisdiction),
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
