"""What the answer engine returns, typed to the edges: the checked answer, every
finding of the citation check, and the sources numbered as the model saw them.

The CLI, the chat, the audit log and eval read these attributes; :meth:`Answer.as_dict`
turns it into plain data only where JSON is written (``ask --json``, the audit
line, eval's rows). Each citation carries the claim checks' ``verdict``, ``reason``
and ``source_sentence`` there as it does here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from legalrag.app.citations import Verification
from legalrag.app.retrieval import RetrievedPassage


@dataclass(frozen=True, kw_only=True)
class AnswerSource(RetrievedPassage):
    """A source as the answer numbers it: ``marker`` n is the ``[n]`` the model was shown."""

    marker: int

    @classmethod
    def numbered(cls, passages: Sequence[RetrievedPassage]) -> list[AnswerSource]:
        """The passages as sources [1], [2], … in the order the prompt gives them."""
        return [
            cls(**{f.name: getattr(p, f.name) for f in fields(p)}, marker=number)
            for number, p in enumerate(passages, start=1)
        ]


@dataclass(kw_only=True)
class Answer(Verification):
    """An answer: the checked text and every finding (a :class:`Verification`), and what
    it was made from and how. Everything `legalrag ask --json` prints."""

    question: str
    reasoning: str = ""
    refused: bool = False
    truncated: bool = False
    sources: list[AnswerSource] = field(default_factory=list)
    model: str = ""
    prompt_version: str = ""
    filters: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json, the audit log and eval (sources without vectors)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["citations"] = [self._citation_dict(c) for c in self.citations]
        data["sources"] = [source.as_dict() for source in self.sources]
        return data

    def _citation_dict(self, citation: Any) -> dict[str, Any]:
        """A citation as plain data, with its source's ``page`` and ``pages`` when that
        source has pages (so a citation says where to look: p. 4)."""
        data = asdict(citation)
        source = self.source(citation.source_id)
        if source is not None and source.page:
            data.update(page=source.page, pages=source.pages)
        return data

    def source(self, source_id: str | None) -> AnswerSource | None:
        """The source with this chunk id, if the answer has it."""
        return next((s for s in self.sources if s.id == source_id), None)
