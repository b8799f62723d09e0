"""A saved conversation back on the page, as it was shown when it was answered.

Each turn is rendered again from what was saved (:mod:`legalrag.app.conversations`):
the question, the "Searching for" note (which the next follow-up reads, so a resumed
conversation goes on with its context), the checked answer with its verdicts, and its
sources, the latest turn's open on top and the earlier ones folded below, numbered as
they were. Nothing is asked of the model or checked again.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from legalrag.app.chat.export import answer_markdown
from legalrag.app.chat.states import OFFERED
from legalrag.app.chat.turns import SEARCHING_FOR
from legalrag.app.chat.view import render_answer, render_sources, stack_turns
from legalrag.app.citations import split_sentences, strip_markers

if TYPE_CHECKING:
    from legalrag.app.conversations import Conversation, SavedTurn


def turn_messages(turn: SavedTurn, number: int) -> list[dict[str, Any]]:
    """The chat messages of one saved turn (turn ``number``, from 1)."""
    answer = render_answer(turn.raw_answer, turn.answer, turn=number)
    if turn.mode == "extractive_fallback":
        answer = f'<p class="notice">{escape(OFFERED)}</p>\n\n' + answer
    return [
        {"role": "user", "content": turn.question},
        {
            "role": "assistant",
            "content": escape(turn.searching_note),
            "metadata": {"title": SEARCHING_FOR + turn.standalone, "status": "done"},
        },
        {"role": "assistant", "content": answer},
    ]


def turn_sources(turn: SavedTurn, number: int, *, max_age_years: int) -> str:
    """The sources column's section for one saved turn."""
    raw = turn.raw_answer.strip()
    sentences = [strip_markers(s.text) for s in split_sentences(raw)] if raw else []
    return render_sources(
        turn.answer,
        turn=number,
        question=turn.question,
        standalone=turn.standalone,
        sentences=sentences,
        max_age_years=max_age_years,
    )


def resumed(conversation: Conversation, *, max_age_years: int) -> tuple[list, str, str]:
    """(chat messages, sources column, the last answer's Markdown export)."""
    chat: list[dict[str, Any]] = []
    sources = ""
    for number, turn in enumerate(conversation.turns, start=1):
        chat += turn_messages(turn, number)
        sources = stack_turns(turn_sources(turn, number, max_age_years=max_age_years), sources)
    last = conversation.turns[-1] if conversation.turns else None
    export = ""
    if last is not None:
        when = f"{last.asked_at:%Y-%m-%d %H:%M} UTC" if last.asked_at else ""
        export = answer_markdown(
            last.answer, question=last.question, standalone=last.standalone, when=when
        )
    return chat, sources, export
