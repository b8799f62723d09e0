"""The one protocol every answer generator implements, with what it can do.

Callers (the reranker, the support check, the follow-up rewriter) ask a
generator's :class:`Capabilities` rather than its class, so that a new backend is
one new module and a branch in :mod:`legalrag.factory`, never an ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from legalrag.app.generation.events import Completion, Event, GenerationRequest


@dataclass(frozen=True)
class Capabilities:
    """What a generator can do beyond :meth:`Generator.generate`.

    - ``streaming``: the answer arrives in pieces while it is produced;
    - ``complete``: :meth:`Generator.complete` answers any plain prompt (a
      reranking or support judgement, a follow-up rewrite);
    - ``logprobs``: :meth:`Generator.complete` can return the tokens' logprobs;
    - ``remote``: a server answers (it can be down, slow, or misconfigured).
    """

    streaming: bool = False
    complete: bool = False
    logprobs: bool = False
    remote: bool = False


class Generator(Protocol):
    """Something that answers a request, and says what else it can do."""

    model_name: str
    capabilities: Capabilities

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        """Events in order, ending with one :class:`~legalrag.app.generation.Finished`."""
        ...

    def complete(self, prompt: str, *, max_tokens: int, logprobs: int = 0) -> Completion:
        """One whole reply to ``prompt``; only where ``capabilities.complete``."""
        ...
