"""Answer generators behind one protocol, streaming, with reasoning kept apart.

- :mod:`.events`: what a generator is asked and the typed events it answers with;
- :mod:`.protocol`: the :class:`Generator` protocol and its :class:`Capabilities`;
- :mod:`.reasoning`: ``<think>`` reasoning split from the answer;
- :mod:`.endpoint`: the one OpenAI-compatible client (vLLM), also the judge's way
  to find its model;
- :mod:`.extractive`: the offline answerer, no model.

Which one a run uses is decided in :func:`legalrag.factory.make_generator`.
"""

from legalrag.app.generation.endpoint import (
    OpenAICompatibleGenerator,
    client_options,
    served_models,
)
from legalrag.app.generation.events import (
    AnswerText,
    Completion,
    Event,
    Finished,
    GenerationRequest,
    Reasoning,
)
from legalrag.app.generation.extractive import EXTRACTIVE_NOTE, ExtractiveGenerator
from legalrag.app.generation.protocol import Capabilities, Generator
from legalrag.app.generation.reasoning import ReasoningSplitter
from legalrag.errors import GenerationError

__all__ = [
    "EXTRACTIVE_NOTE",
    "AnswerText",
    "Capabilities",
    "Completion",
    "Event",
    "ExtractiveGenerator",
    "Finished",
    "GenerationError",
    "GenerationRequest",
    "Generator",
    "OpenAICompatibleGenerator",
    "Reasoning",
    "ReasoningSplitter",
    "client_options",
    "served_models",
]
