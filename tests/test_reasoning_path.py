"""The reasoning read as a path: which sources each step names, and what the answer
leaves uncited (app/reasoning_path.py, and its view in the chat)."""

from __future__ import annotations

import pytest

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.reasoning_view import FLAGGED_TITLE, reasoning_message
from legalrag.app.citations import Citation
from legalrag.app.reasoning_path import mentioned_numbers, reasoning_path

R1_REASONING = """Okay, so the lawyer is asking how long a Texas landlord has to return a \
security deposit. Let me look at the sources.

Source 1 is a Texas post. It says the landlord must refund within 30 days after the \
tenant surrenders the premises.

Hmm.

Source 2 talks about California, where it is 21 days. Sources 3 and 4 are about New \
York, so they don't apply here.

So the answer is 30 days, citing [1]. I should not mention source 9."""


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Source 2 says so [1].", [2, 1]),
        ("sources 1, 3 and 4 agree", [1, 3, 4]),
        ("Sources 2-4 are older", [2, 3, 4]),
        ("source #5 and source number 6", [5, 6]),
        ("the second source, then the third source", [2, 3]),
        ("[1][3] and [4, 5]", [1, 3, 4, 5]),
        ("Source [2] is the statute", [2]),
        # Numbers that are no source: a section, a year, days, a bare list.
        ("Section 1950.5 gives 21 days; 1, 2 and 3 are steps", []),
        ("the source 2019 statute", []),
        ("sources 1-900", [1, 900]),  # not a range of sources: two numbers
    ],
)
def test_only_numbers_named_as_sources_are_read(text: str, numbers: list[int]) -> None:
    assert mentioned_numbers(text) == numbers


def test_the_path_has_a_step_per_paragraph_and_flags_what_the_answer_leaves_uncited() -> None:
    path = reasoning_path(R1_REASONING, sources=5, cited=[1])
    assert [step.sources for step in path.steps] == [(), (1,), (2, 3, 4), (1,)]
    assert "Hmm." not in [step.text for step in path.steps]  # a filler line is no step
    assert path.steps[1].summary == "Source 1 is a Texas post."
    assert path.uncited == (2, 3, 4)
    assert path.unknown == (9,)  # "source 9" of five: never given
    assert path.flagged
    fully = reasoning_path(R1_REASONING.replace("source 9", "it"), sources=5, cited=[1, 2, 3, 4])
    assert not fully.flagged and fully.uncited == () and fully.unknown == ()
    assert not reasoning_path("", sources=3, cited=[]).steps


def _answer(reasoning: str, cited: list[int]) -> Answer:
    sources = [
        AnswerSource(id=f"c{n}", document_id=f"d{n}", text="t", score=0.5, title=f"T{n}", marker=n)
        for n in range(1, 4)
    ]
    citations = [
        Citation(marker=n, sentence=0, source_id=f"c{n}", valid=True, verdict="supported")
        for n in cited
    ]
    return Answer(
        question="q", answer="a", reasoning=reasoning, sources=sources, citations=citations
    )


def test_the_chat_shows_the_path_linked_to_the_cards_and_the_flag_in_its_title() -> None:
    reasoning = "Source 1 says 30 days.\n\nSource 2 is <b>California</b>, 21 days."
    message = reasoning_message(_answer(reasoning, [1]), turn=3, duration=1.5)
    assert message["metadata"] == {"title": FLAGGED_TITLE, "status": "done", "duration": 1.5}
    shown = message["content"]
    assert 'href="#src-3-1"' in shown and 'href="#src-3-2"' in shown
    assert shown.count("(not cited in the answer)") == 1  # source 2 only
    assert "draws on source [2], which the answer does not cite" in shown
    assert "<b>California</b>" not in shown and "&lt;b&gt;California&lt;/b&gt;" in shown
    assert "The whole reasoning" in shown
    clean = reasoning_message(_answer("Source 1 says 30 days.", [1]), turn=3, duration=None)
    assert clean["metadata"] == {"title": "Reasoning", "status": "done"}
    assert "reasoning-flag" not in clean["content"]


def test_the_export_lists_what_the_reasoning_leans_on_among_the_findings() -> None:
    from legalrag.app.chat.export import findings

    found = findings(_answer("Source 1 says 30 days.\n\nSource 2 and source 7 differ.", [1]))
    assert ("Sources the reasoning draws on that the answer does not cite", "[2]") in found
    assert ("Sources the reasoning mentions that it was not given", "[7]") in found
    assert findings(_answer("Source 1 says 30 days.", [1])) == []


def test_the_title_says_which_flag_and_a_refusal_is_not_flagged_for_citing_nothing() -> None:
    from legalrag.app.chat.reasoning_view import UNKNOWN_TITLE

    unknown = reasoning_message(
        _answer("Source 1 says so; source 7 too.", [1]), turn=1, duration=None
    )
    assert unknown["metadata"]["title"] == UNKNOWN_TITLE
    refusal = _answer("Source 2 is about California, source 3 about New York.", [])
    refusal.refused = True
    shown = reasoning_message(refusal, turn=1, duration=None)
    assert shown["metadata"]["title"] == "Reasoning"  # it cites nothing, by design
    assert "reasoning-flag" not in shown["content"] and 'href="#src-1-2"' in shown["content"]
