"""The Gradio event handler of every event that asks a question.

It runs one turn (:class:`~legalrag.app.chat.turns.ChatTurns`) and hands each step to
the page, and the turn's last step to the saved conversations
(:class:`~legalrag.app.chat.saved.SavedChats`), which save an answered turn into the
page's conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from typing import TYPE_CHECKING, Any

import gradio as gr

if TYPE_CHECKING:
    from legalrag.app.chat.saved import SavedChats
    from legalrag.app.chat.turns import ChatTurns


def caller(request: gr.Request | None, matter: object) -> tuple[str | None, str]:
    """Who asks (the signed-in user; None without a login) and for which matter (its
    name with spaces collapsed; "" for none)."""
    user = getattr(request, "username", None) if request is not None else None
    return user, " ".join(matter.split()) if isinstance(matter, str) else ""


def turn_steps(
    turns: ChatTurns,
    saved: SavedChats,
    request: gr.Request | None,
    question: object,
    history: object,
    sources_html: object,
    options: tuple[object, object, object, object],
    conversation: object,
    matter: object,
    *,
    search: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """One turn's steps as the page's outputs, each answered one saved by ``saved``;
    ``options``: jurisdiction, topic, k, show reasoning (as sent); ``search``: the
    user's own search text (:mod:`.search_edit`).

    Stop closes the event's generator, and so this one: the turn's is closed at once
    too, so that it writes its audit line (a stopped turn is audited as stopped)."""
    user, matter_name = caller(request, matter)
    jurisdiction, topic, k, show_reasoning = options
    steps = turns.run(
        question,
        history,
        sources_html if isinstance(sources_html, str) else None,
        jurisdiction,
        topic,
        k,
        show_reasoning is not False,
        user,
        matter=matter_name,
        search=search,
    )
    with closing(steps):
        for step in steps:
            yield (*step.for_gradio(), *saved.after(step, conversation, matter_name, user))


def handler(turns: ChatTurns, saved: SavedChats) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The Gradio event handler over ``turns``, for every event that asks a question;
    ``saved`` saves each answered turn into the page's conversation."""

    # A plain generator function: Gradio streams only what it sees is one.
    def ask_question(
        question: object,
        history: object,
        sources_html: object,
        jurisdiction: object,
        topic: object,
        k: object,
        show_reasoning: object,
        conversation: object,
        matter: object,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Yield (chat, sources, export, textbox, *saved's outputs) as the answer streams.

        The inputs arrive unprocessed (``preprocess=False``): the turn checks them.
        """
        options = (jurisdiction, topic, k, show_reasoning)
        yield from turn_steps(
            turns, saved, request, question, history, sources_html, options, conversation, matter
        )

    return ask_question
