"""Typed, frozen groups of settings: what each part takes instead of the whole
:class:`~legalrag.settings.Settings`.

Users keep setting the flat names (``LEGALRAG_RETRIEVAL_DENSE``, ``llm_base_url`` in
the TOML file); each group is a view built from them by :meth:`SettingsGroup.of`, so
a part sees only its own settings and a renamed field fails when the group is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar, overload

from pydantic import BaseModel, ConfigDict, SecretStr


class SettingsGroup(BaseModel):
    """A view of some flat settings: field ``f`` reads ``prefix + f`` unless renamed."""

    model_config = ConfigDict(frozen=True)

    prefix: ClassVar[str] = ""
    renamed: ClassVar[dict[str, str]] = {}

    @classmethod
    def of(cls, settings: Any, prefix: str | None = None) -> Self:
        """The group's values from ``settings``; a flat name that does not exist leaves
        the group's default (e.g. the judge has no sampling settings)."""
        prefix = cls.prefix if prefix is None else prefix
        values = {}
        for name in cls.model_fields:
            flat = cls.renamed.get(name, prefix + name)
            if hasattr(settings, flat):
                values[name] = getattr(settings, flat)
        return cls(**values)


class StoreSettings(SettingsGroup):
    """Where the chunk store is and how to reach it."""

    chroma_dir: Path
    chroma_url: str | None
    chroma_auth_token: SecretStr | None
    chroma_ca_file: Path | None = None
    collection: str

    @property
    def location(self) -> str:
        """Where the index lives, for messages."""
        return self.chroma_url or str(self.chroma_dir)


class EmbeddingSettings(SettingsGroup):
    """Which embedding model, and how it runs."""

    prefix: ClassVar[str] = "embedding_"

    model: str
    query_instruction: str | None
    batch_size: int
    device: str
    trust_remote_code: bool | None
    dtype: Literal["auto", "float32", "float16", "bfloat16"]
    base_url: str | None = None
    api_key: SecretStr | None = None
    served_model: str | None = None
    timeout_s: float = 30.0
    retries: int = 2
    retry_backoff_s: float = 0.5
    max_tokens: int | None = None


class RetrievalSettings(SettingsGroup):
    """How sources are found and selected."""

    renamed: ClassVar[dict[str, str]] = {
        "dense": "retrieval_dense",
        "bm25": "retrieval_bm25",
        "candidates": "retrieval_candidates",
    }

    retrieve_k: int
    source_per_document: int
    source_diversity: float
    dense: bool
    bm25: bool
    candidates: int
    rrf_k: int
    jurisdiction_boost: bool
    jurisdiction_boost_weight: float
    document_naming: bool
    document_naming_weight: float
    document_naming_rare_share: float
    document_naming_max: int
    relevance_floor: float
    rerank_candidates: int
    context_max_tokens: int


class EndpointSettings(SettingsGroup):
    """One OpenAI-compatible endpoint: the answering model's (``llm_*``) or the judge's
    (``judge_*``), the same shape for both."""

    base_url: str | None
    model: str | None  # None: the first model the endpoint lists
    api_key: SecretStr | None
    timeout_s: float
    retries: int
    max_tokens: int
    retry_backoff_s: float = 1.0  # doubling; the judge's retries are the SDK's own
    down_recheck_s: float = 30.0  # found down: later calls try once (reachability.py)
    temperature: float | None = None  # None: the server's default (the judge's case)
    top_p: float | None = None


class ChatSettings(SettingsGroup):
    """The chat process: where it listens, how many questions at once, follow-ups."""

    prefix: ClassVar[str] = "chat_"

    host: str
    port: int
    concurrency: int
    rewrite: Literal["auto", "llm", "offline"]
    rewrite_max_tokens: int
    history_turns: int


class EvalSettings(SettingsGroup):
    """What `legalrag eval` measures and where it writes."""

    prefix: ClassVar[str] = "eval_"

    k: int
    span_k: list[int]
    answers: bool
    out_dir: Path


G = TypeVar("G", bound=SettingsGroup)


class GroupView(Generic[G]):
    """A typed group as a read-only attribute of the settings, built at each read (so
    a copy of the settings with other values gives its own)."""

    def __init__(self, group: type[G], prefix: str | None = None) -> None:
        self.group = group
        self.prefix = prefix

    @overload
    def __get__(self, settings: None, owner: type) -> GroupView[G]: ...

    @overload
    def __get__(self, settings: object, owner: type) -> G: ...

    def __get__(self, settings: object | None, owner: type) -> G | GroupView[G]:
        if settings is None:
            return self
        return self.group.of(settings, self.prefix)
