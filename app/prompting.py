"""Prompts rendered from the versioned templates in prompts/.

Templates are Jinja2 files shipped in the package (``legalrag.prompts``); each sets
a ``version`` that travels into every answer. Source text is neutralised so that
a document cannot close its own ``<source>`` block or open a fake one: whatever a
document says stays inside the block the rules call data, not instructions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Protocol

import jinja2

_SOURCE_TAG = re.compile(r"<(\s*/?\s*)source", re.IGNORECASE)

REFUSAL = "The retrieved sources do not address this question."
"""The one sentence that says the sources do not answer: the gate returns it, the prompt
tells the model to write it, and the engine recognises it in an answer."""


class PromptSource(Protocol):
    """What a template shows of a source."""

    title: str
    jurisdiction: str
    created: str
    url: str
    text: str


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready to send, and the template version that made it."""

    text: str
    version: str


def neutralize(text: str) -> str:
    """Defuse ``<source``/``</source`` inside untrusted text (a look-alike angle bracket)."""
    return _SOURCE_TAG.sub(lambda m: "\u2039" + m.group(1) + "source", text)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for a model, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["neutralize"] = neutralize
    # Every template sees the one refusal sentence; it is part of the prompt, so a
    # change to it is a prompt change (the golden files fail until the version is bumped).
    env.globals["refusal"] = REFUSAL
    return env


@cache
def _template_source(name: str) -> str:
    return (resources.files("legalrag.prompts") / name).read_text(encoding="utf-8")


@cache
def load_template(name: str) -> jinja2.Template:
    """A template from prompts/, e.g. ``answer.j2``."""
    return _environment().from_string(_template_source(name))


@cache
def template_version(name: str) -> str:
    """The ``version`` a template declares with ``{% set version = "..." %}``."""
    tree = _environment().parse(_template_source(name))
    for node in tree.find_all(jinja2.nodes.Assign):
        target, value = node.target, node.node
        if (
            isinstance(target, jinja2.nodes.Name)
            and target.name == "version"
            and isinstance(value, jinja2.nodes.Const)
            and isinstance(value.value, str)
        ):
            return value.value
    raise ValueError(f"prompt template {name} declares no version")


def render_answer_prompt(question: str, sources: Sequence[PromptSource]) -> RenderedPrompt:
    """The answer prompt: rules, numbered sources, question, all in one user turn."""
    text = load_template("answer.j2").render(question=question, sources=sources)
    return RenderedPrompt(text=text, version=template_version("answer.j2"))
