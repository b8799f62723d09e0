"""What the chat shows: citation markers, marked sentences, highlighted spans, export."""

from __future__ import annotations

import re

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.export import answer_markdown
from legalrag.app.chat.view import (
    cite_id,
    highlight,
    render_answer,
    render_sources,
    stack_turns,
)
from legalrag.app.citations import verify_citations
from legalrag.app.retrieval import RetrievedPassage

# Two sources that sit at offsets 100 and 0 of their documents, as retrieval returns them.
TX = RetrievedPassage(
    id="chunk-tx",
    document_id="https://legalrag.example/tx-deposit",
    text=(
        "Question: my landlord kept my deposit. Answer: A Texas landlord must refund the "
        "security deposit within 30 days after the tenant moves out. Keep a copy of your "
        "forwarding address."
    ),
    score=0.0325,
    title="Texas deposit <not returned>",
    url="https://legalrag.example/tx-deposit",
    jurisdiction="TX",
    created="2021-04-02",
    start=100,
    end=100 + 170,
)
CA = RetrievedPassage(
    id="chunk-ca",
    document_id="https://legalrag.example/ca-deposit",
    text="In California the landlord has 21 days to return the deposit. <script>x()</script>",
    score=0.0161,
    title="California deposit",
    url="javascript:alert(1)",
    jurisdiction="CA",
    created="2019-03-15",
)
SOURCES = [TX, CA]
RAW = (
    "A Texas landlord must refund the security deposit within 30 days after move-out [1][9].\n"
    "Tenants should always sue in federal court immediately.\n"
    "California landlords must pay triple damages on every deposit [2].\n\n"
    "- Keep a copy of your forwarding address [1].\n"
    "This is not legal advice."
)


def _answer(raw: str = RAW) -> Answer:
    checked = verify_citations(raw, SOURCES)
    return Answer(
        **vars(checked),
        question="How long in Texas?",
        sources=AnswerSource.numbered(SOURCES),
        model="fake-r1-distill",
        prompt_version="answer-v1",
    )


def _text(html: str) -> str:
    """What a reader sees, less the marks the checks added."""
    html = re.sub(r'<s class="cite-invalid"[^>]*>.*?</s>', "", html)
    html = re.sub(r'<span class="v-(?:icon|text)[^"]*"[^>]*>.*?</span>', "", html)
    html = re.sub(r'<sup class="flag">.*?</sup>', "", html)
    html = re.sub(r'<span class="checks[^"]*">.*?</span>', "", html)
    text = re.sub(r"<[^>]+>", "", html)
    return " ".join(text.replace("&amp;", "&").split())


def test_valid_markers_link_to_their_span_and_invalid_ones_are_struck_out() -> None:
    answer = _answer()
    html = render_answer(RAW, answer, turn=2)
    assert f'href="#{cite_id(2, 0, 1)}"' in html  # turn 2, sentence 0, source 1
    assert f'href="#{cite_id(2, 2, 2)}"' in html
    assert f'href="#{cite_id(2, 3, 1)}"' in html
    assert re.search(r'<s class="cite-invalid" data-verdict="invalid"[^>]*>\[9\]<', html)
    assert "[9]" not in answer.answer  # the checked answer lost it...
    # ...and what the page shows, less the check's marks, is exactly the checked answer.
    assert _text(html) == " ".join(answer.answer.split())
    assert "&lt;not returned&gt;" in html  # a source title in a tooltip is escaped


def test_unsupported_and_misgrounded_sentences_are_marked() -> None:
    answer = _answer()
    assert answer.unsupported_sentences == [
        "Tenants should always sue in federal court immediately."
    ]
    assert answer.misgrounded_sentences == [
        "California landlords must pay triple damages on every deposit."
    ]
    html = render_answer(RAW, answer, turn=1)
    assert re.search(
        r'<span class="unsupported"[^>]*>Tenants should always sue[^<]*</span>'
        r'<sup class="flag">unsupported</sup>',
        html,
    )
    assert re.search(r'<span class="misgrounded"[^>]*>California landlords', html)
    assert "This is not legal advice." in html  # exempt: no citation needed, not marked
    assert html.count('<sup class="flag">') == 2
    assert html.count('<span class="flagged">') == 2  # what "hide flagged sentences" hides
    checks = re.search(r'<span class="checks[^"]*">(.*?)</span>', html).group(1)
    assert "1 invalid citation (removed)" in checks
    assert "1 unsupported sentence" in checks and "1 misgrounded sentence" in checks
    assert not checks.startswith("✓") and "supported · " in checks


def test_layout_survives_lists_and_paragraphs() -> None:
    html = render_answer(RAW, _answer(), turn=1)
    lines = html.split("\n")
    assert any(line.startswith("- Keep a copy") for line in lines)  # still a list item
    assert "" in lines[:5]  # the blank line before the list


def test_model_html_is_escaped() -> None:
    raw = 'Texas allows 30 days <img src=x onerror="steal()"> to refund the deposit [1].'
    html = render_answer(raw, _answer(raw), turn=1)
    assert "<img" not in html and "&lt;img" in html


def test_a_refusal_without_model_text_is_shown_as_such() -> None:
    answer = Answer(
        question="q", answer="The retrieved sources do not address this question.", refused=True
    )
    html = render_answer("", answer, turn=1)
    assert 'class="refusal"' in html and "do not address this question" in html


def test_highlight_marks_exact_offsets_and_merges_overlaps() -> None:
    text = "alpha beta gamma delta epsilon"
    html = highlight(text, [(6, 10, ["a"]), (11, 16, ["b"]), (13, 22, ["c"]), (25, 99, ["d"])])
    marks = re.findall(r'<mark class="span" data-cites="([^"]*)">([^<]*)</mark>', html)
    assert marks == [("a", "beta"), ("b c", "gamma delta"), ("d", "silon")]
    assert re.sub(r"<[^>]+>", "", html) == text
    assert highlight("<b>", []) == "&lt;b&gt;"


def test_the_cited_span_is_the_engines_span_in_the_source_text() -> None:
    answer = _answer()
    first = next(c for c in answer.citations if c.marker == 1 and c.sentence == 0)
    assert first.span is not None
    start, end = first.span[0] - TX.start, first.span[1] - TX.start
    expected = TX.text[start:end]
    assert expected.startswith("Answer: A Texas landlord must refund")  # the engine chose it
    html = render_sources(answer, turn=1, question="q", standalone="q", sentences=["s"] * 5)
    marks = dict(
        (ids, text)
        for ids, text in re.findall(r'<mark class="span" data-cites="([^"]*)">([^<]*)</mark>', html)
    )
    assert marks[cite_id(1, 0, 1)] == expected
    assert marks[cite_id(1, 3, 1)] == "Keep a copy of your forwarding address."


def test_sources_column_lists_every_passage_and_what_cites_it() -> None:
    answer = _answer()
    html = render_sources(
        answer,
        turn=3,
        question="How long in Texas?",
        standalone="How long does a Texas landlord have?",
        sentences=["first", "second", "third", "fourth", "fifth"],
    )
    assert html.count('<div class="source"') == 2
    assert 'id="src-3-1"' in html and 'id="src-3-2"' in html
    assert '<a href="https://legalrag.example/tx-deposit" target="_blank"' in html
    assert "javascript:" not in html  # not a link
    assert "Texas · 2021-04-02" in html and "California · 2019-03-15" in html
    assert '<summary>Scores</summary><span class="score-figures">retrieval score 0.0325' in html
    tx_card = html.split('id="src-3-2"')[0]
    # What cites it, in the reader's words (sentence numbers are never shown).
    assert "\u201cfirst\u201d" in tx_card and "\u201cfourth\u201d" in tx_card
    assert "sentence 1" not in tx_card
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "searched for: How long does a Texas landlord have?" in html


def test_earlier_turns_fold_below_the_new_one() -> None:
    first = render_sources(_answer(), turn=1, question="a", standalone="a", sentences=[])
    second = render_sources(_answer(), turn=2, question="b", standalone="b", sentences=[])
    stacked = stack_turns(second, first)
    assert stacked.index('id="turn-2" open') < stacked.index('id="turn-1"')
    assert 'id="turn-1" open' not in stacked
    assert stack_turns(first, '<p class="sources-placeholder">…</p>') == first


def test_markdown_export_has_the_checked_answer_its_findings_and_every_source() -> None:
    answer = _answer()
    markdown = answer_markdown(answer, question="How long in Texas?", standalone="How long?")
    assert answer.answer in markdown
    assert "- Invalid citations (removed): [9]" in markdown
    assert "Unsupported sentences (no citation): Tenants should always sue" in markdown
    assert "**[1] Texas deposit <not returned>** · forum answer · Texas · 2021-04-02" in markdown
    assert "<https://legalrag.example/tx-deposit>" in markdown
    assert "**[2] California deposit**" in markdown
    assert "> Question: my landlord kept my deposit. **Answer: A Texas landlord" in markdown
    assert "prompt answer-v1" in markdown and "not legal advice" in markdown
