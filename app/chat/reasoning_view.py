"""The model's reasoning, once the answer is checked, as a path a lawyer can follow.

The streamed reasoning (a fold titled "Reasoning") is replaced by a short outline of
its steps (:mod:`legalrag.app.reasoning_path`), each step's sources linked to their
cards, and a flag, in the fold's title too so it shows while folded, when the
reasoning leans on a source the answer does not cite or on one that was never given.
The whole reasoning stays below the outline. Everything from the model is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from legalrag.app.answers import Answer
from legalrag.app.chat.streaming import REASONING_TITLE
from legalrag.app.reasoning_path import ReasoningPath, answer_path

FLAGGED_TITLE = "Reasoning \u2691 leans on a source the answer does not cite"
UNKNOWN_TITLE = "Reasoning \u2691 mentions a source it was not given"


def _numbers(numbers: tuple[int, ...]) -> str:
    listed = [f"[{n}]" for n in numbers]
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]


def flag_text(path: ReasoningPath) -> str:
    """The flag's words ("" when nothing is flagged), for the page and the export."""
    parts = []
    if path.uncited:
        word = "source" if len(path.uncited) == 1 else "sources"
        parts.append(
            f"The reasoning draws on {word} {_numbers(path.uncited)}, which the answer does "
            "not cite: check whether the answer depends on it."
        )
    if path.unknown:
        word = "a source" if len(path.unknown) == 1 else "sources"
        parts.append(
            f"The reasoning mentions {word} {_numbers(path.unknown)} that the model was not given."
        )
    return " ".join(parts)


def _step(step_text: str, sources: tuple[int, ...], uncited: set[int], turn: int) -> str:
    links = []
    for number in sources:
        note = (
            ' <span class="uncited">(not cited in the answer)</span>' if number in uncited else ""
        )
        links.append(
            f'<a class="source-link" href="#src-{turn}-{number}" '
            f'title="Show source {number}">[{number}]</a>{note}'
        )
    linked = f' <span class="step-sources">\u2192 {" ".join(links)}</span>' if links else ""
    return f'<li><span class="step-text">{escape(step_text, quote=False)}</span>{linked}</li>'


def render_reasoning(answer: Answer, path: ReasoningPath, *, turn: int) -> str:
    """The reasoning fold's content: the flag, the outline (``path``, of ``answer``'s
    reasoning), then the whole reasoning."""
    flag = flag_text(path)
    shown = f'<p class="reasoning-flag">\u2691 {escape(flag, quote=False)}</p>' if flag else ""
    uncited = set(path.uncited)
    steps = "".join(_step(s.summary, s.sources, uncited, turn) for s in path.steps)
    outline = f'<ol class="reasoning-steps">{steps}</ol>' if steps else ""
    whole = "".join(
        f"<p>{escape(part.strip(), quote=False)}</p>"
        for part in answer.reasoning.split("\n\n")
        if part.strip()
    )
    return (
        f'<div class="reasoning-path">{shown}{outline}'
        f'<details class="reasoning-whole"><summary>The whole reasoning</summary>{whole}'
        "</details></div>"
    )


def reasoning_message(answer: Answer, *, turn: int, duration: float | None) -> dict[str, Any]:
    """The folded reasoning message of a checked answer (its title carries the flag)."""
    path = answer_path(answer)
    metadata: dict[str, Any] = {
        "title": FLAGGED_TITLE
        if path.uncited
        else UNKNOWN_TITLE
        if path.unknown
        else REASONING_TITLE,
        "status": "done",
    }
    if duration is not None:
        metadata["duration"] = duration
    return {
        "role": "assistant",
        "content": render_reasoning(answer, path, turn=turn),
        "metadata": metadata,
    }
