"""Prompts rendered from the versioned templates in prompts/.

Templates are Jinja2 files shipped in the package (``legalrag.prompts``); each sets
a ``version`` that travels into every answer. Every value a template prints (a
document's text and its title, URL, jurisdiction and date, the question, earlier
questions, a claim) is neutralised on the way out, by the environment itself
(:func:`_printed`), so that no field can close its ``<source>`` block or open a
fake one: whatever a document or a user says stays inside the block the rules call
data, not instructions. A template cannot forget it: there is no filter to apply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Protocol

import jinja2

from legalrag.app.refusal import REFUSAL

# What may open a tag: "<", its HTML entities (named, decimal, hex, with or without the
# ";"), and the full-width and small look-alikes a model may read as "<".
_OPENER = r"(?:<|&lt;?|&#0*60;?|&#x0*3c;?|\uff1c|\ufe64)"
# Between the opener, the slash and the word: whitespace, invisible format characters
# (zero-width space/joiners, word joiner, BOM), or "/" written as an entity.
_GAP = r"[\s\u00ad\u200b-\u200f\u2060\ufeff]*"
_SLASH = r"(?:/|&sol;|&#0*47;?|&#x0*2f;?)?"
_SOURCE_TAG = re.compile(_OPENER + f"({_GAP}{_SLASH}{_GAP})source", re.IGNORECASE)
# str.splitlines()'s line boundaries, which a model's tokenizer may also read as a new line.
_LINE_BREAKS = re.compile(r"[ \t]*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+[ \t]*")


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
    """Defuse ``<source``/``</source`` inside untrusted text (a look-alike angle bracket).

    Case-insensitive, and also where the bracket is an HTML entity (``&lt;/source``) or a
    look-alike, or the tag is split by whitespace or invisible characters
    (``< / SOURCE``): the opener becomes ``\u2039``, the rest is kept as written.
    """
    return _SOURCE_TAG.sub(lambda m: "\u2039" + m.group(1) + m.group(0)[-len("source") :], text)


def oneline(text: str) -> str:
    """``text`` on one line: every run of line breaks (and the spaces around them) is one space.

    For the fields a template lays out one per line (a source's title, URL, jurisdiction,
    date): a line break in one would start a forged line of its own.
    """
    return _LINE_BREAKS.sub(" ", str(text)).strip()


def _printed(value: object) -> str:
    """Every ``{{ ... }}`` of every template, on its way into the prompt: neutralised.

    Jinja calls this (``finalize``) for each printed expression, never for the template's
    own text, so the ``<source>`` blocks a template writes stay real and anything a field
    holds cannot forge one. Undefined values still raise (``StrictUndefined``).
    """
    return neutralize(value if isinstance(value, str) else str(value))


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for a model, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_printed,  # the one neutralising path: every printed value, every template
    )
    env.filters["oneline"] = oneline
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
