"""The lawyer's own search text: "Searching for" shown in a box they can edit (issue 16).

A follow-up is searched for as the rewrite made it ("What about Texas?" as the earlier
question with Texas in it); when the rewrite got it wrong, the lawyer corrects it. After
each turn the box holds what that turn searched for; "Search again with this" (or Enter
in the box) answers the conversation's last question again with the box's text as the
search, verbatim: no model is asked to rewrite it. The text is checked as a question is
(empty or too long: a clear error beside the box, and nothing else changes).

The new answer is a new turn, appended, rather than one replacing the last: the lawyer
sees what each search found, side by side, as the audit log and the saved conversation
record them (each answered search is one line and one saved turn, never rewritten), and
the earlier answer's citation markers still open its own sources. Its "Searching for"
note says the search was edited by the user and that it is the question above again.
Sources, export and saving follow it as for any turn (:meth:`ChatTurns.run`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import gradio as gr

from legalrag.app.chat.handler import turn_steps
from legalrag.app.chat.options import check_history, check_question
from legalrag.app.chat.turns import earlier_turns
from legalrag.app.questions import clean_question
from legalrag.errors import QuestionError

if TYPE_CHECKING:
    from legalrag.app.chat.saved import SavedChats
    from legalrag.app.chat.turns import ChatTurns
    from legalrag.settings import Settings

SEARCH_LABEL = "Searching for"
SEARCH_AGAIN = "Search again with this"
SEARCH_INFO = (
    "What the last question was searched for. If the follow-up was read wrongly, "
    "edit it and search again: your text is searched for as you typed it."
)
NOTHING_TO_SEARCH = "there is no question to search again: ask one first"


@dataclass(frozen=True)
class SearchEdit:
    """The search text's box, its button and the line saying why an edit was refused."""

    box: gr.Textbox
    again: gr.Button
    status: gr.HTML


def search_edit_row(settings: Settings) -> SearchEdit:
    """The box and its button (inside the page's ``gr.Blocks``), disabled until a
    question has been searched for."""
    with gr.Row(equal_height=True):
        box = gr.Textbox(
            "",
            label=SEARCH_LABEL,
            info=SEARCH_INFO,
            interactive=False,
            scale=6,
            elem_id="search-text",
            max_length=settings.max_question_chars,
        )
        again = gr.Button(
            SEARCH_AGAIN, interactive=False, scale=2, min_width=120, elem_id="search-again"
        )
    status = gr.HTML("", elem_id="search-status")
    return SearchEdit(box, again, status)


def search_text(history: object) -> str:
    """What the conversation's last question was searched for ("" when none, or when
    the conversation is not one this chat wrote)."""
    try:
        turns = earlier_turns(check_history(history))
    except QuestionError:
        return ""
    return turns[-1].standalone if turns else ""


def refilled(history: object) -> tuple[Any, Any, str]:
    """(box, button, status) for the conversation now on the page: the last search,
    editable, or an empty, disabled box before any question (and after Clear)."""
    text = search_text(history)
    return gr.update(value=text, interactive=bool(text)), gr.update(interactive=bool(text)), ""


def checked_edit(text: object, history: object, settings: Settings) -> tuple[str, str]:
    """(the question to answer again, the search text), or :class:`QuestionError`:
    the conversation's last question, and the edit checked as a question is."""
    turns = earlier_turns(check_history(history))
    if not turns:
        raise QuestionError(NOTHING_TO_SEARCH)
    search = clean_question(
        check_question(text), max_chars=settings.max_question_chars, what="search text"
    )
    return turns[-1].question, search


def refused(message: str) -> str:
    """The line beside the box saying why the edit was not searched for."""
    text = message[:1].upper() + message[1:]
    return f'<p class="chat-error" role="alert">\u26a0 {escape(text)}.</p>'


def search_again_handler(
    turns: ChatTurns, saved: SavedChats
) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The Gradio handler of "Search again with this": the last question answered
    again, searched for as the box says; ``saved`` saves the answered turn."""

    # A plain generator function: Gradio streams only what it sees is one.
    def search_again(
        text: object,
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
        """Yield (chat, sources, export, status, *saved's outputs) as the answer streams;
        a refused edit changes only the status."""
        try:
            question, search = checked_edit(text, history, turns.settings)
        except QuestionError as exc:  # nothing asked, nothing audited or saved
            yield (gr.skip(),) * 3 + (refused(str(exc)),) + (gr.skip(),) * 4
            return
        # The step's textbox output is this event's status: cleared as it starts.
        options = (jurisdiction, topic, k, show_reasoning)
        yield from turn_steps(
            turns,
            saved,
            request,
            question,
            history,
            sources_html,
            options,
            conversation,
            matter,
            search=search,
        )

    return search_again


def wire_search_edit(
    turns: ChatTurns,
    saved: SavedChats,
    edit: SearchEdit,
    inputs: list[Any],
    outputs: list[Any],
) -> list[Any]:
    """The box's Enter and the button both search again (one event, so that a second
    press waits for the first); returns it in a list (for Stop and Clear to cancel).
    ``inputs`` and ``outputs``: the question handler's, the box in place of the question
    and the status in place of the question's box."""
    search_again = search_again_handler(turns, saved)
    box_inputs = [edit.box, *inputs[1:]]
    box_outputs = [*outputs[:3], edit.status, *outputs[4:]]
    return [
        gr.on(
            [edit.box.submit, edit.again.click],
            search_again,
            box_inputs,
            box_outputs,
            api_name=False,
            preprocess=False,
            trigger_mode="always_last",
        )
    ]


def refill_after(events: list[Any], edit: SearchEdit, chatbot: gr.Chatbot) -> None:
    """After each event that changes the conversation on the page (a question, Stop,
    Clear, a resumed or new conversation), the box holds its last search."""
    for event in events:
        event.then(
            refilled,
            [chatbot],
            [edit.box, edit.again, edit.status],
            api_name=False,
            preprocess=False,  # the conversation as the page holds it, as the turn reads it
        )
