"""The one typed settings object for legalrag.

Precedence, highest first: CLI flags (passed to :func:`load_settings`), environment
variables ``LEGALRAG_*``, the TOML file (``--config``, ``LEGALRAG_CONFIG`` or
``./legalrag.toml``), then the defaults below.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from legalrag.errors import SettingsError
from legalrag.settings_edges import ChatFields, EvalFields
from legalrag.settings_groups import (
    ChatSettings,
    EmbeddingSettings,
    EndpointSettings,
    EvalSettings,
    GroupView,
    RetrievalSettings,
    StoreSettings,
)
from legalrag.settings_ingest import ReaderFields, UploadFields
from legalrag.settings_serving import ServingFields

CONFIG_ENV_VAR = "LEGALRAG_CONFIG"
DEFAULT_CONFIG_FILE = Path("legalrag.toml")

# The TOML file is chosen per call of load_settings; pydantic-settings reads the
# file path from the class, so it travels here rather than through a global.
_toml_file: ContextVar[Path | None] = ContextVar("_toml_file", default=None)


def default_data_dir() -> Path:
    """The per-user data folder (e.g. ``~/.local/share/legalrag`` on Linux)."""
    return Path(platformdirs.user_data_dir("legalrag", appauthor=False))


class Settings(BaseSettings, ChatFields, EvalFields, ReaderFields, ServingFields, UploadFields):
    """Every setting legalrag reads, in one place (the chat's and eval's fields are
    declared in :mod:`legalrag.settings_edges`, the document readers' in
    :mod:`legalrag.settings_ingest`)."""

    model_config = SettingsConfigDict(
        env_prefix="LEGALRAG_",
        extra="forbid",
        validate_default=True,
        ignored_types=(GroupView,),
    )

    # --- storage -----------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded index, the BM25 cache and the logs live.",
    )
    chroma_path: Path | None = Field(
        default=None, description="Embedded Chroma folder; default <data_dir>/chroma."
    )
    chroma_url: str | None = Field(
        default=None,
        description="A Chroma server (`chroma run`) to use instead of the embedded index.",
    )
    chroma_auth_token: SecretStr | None = Field(
        default=None, description="Token sent to the Chroma server, if it requires one."
    )
    collection: str = Field(
        default="legal_advice",
        min_length=3,
        max_length=512,
        pattern=r"^[A-Za-z0-9][\w.-]*[A-Za-z0-9]$",
    )
    write_batch_size: int = Field(
        default=256, ge=1, description="Chunks embedded and written to Chroma per batch."
    )

    # --- embedding ---------------------------------------------------------------
    embedding_model: str = Field(
        default="sentence-transformers/all-MiniLM-L6-v2",
        description="sentence-transformers model: the bundled default, a hub name or a local path.",
    )
    embedding_query_instruction: str | None = Field(
        default=None,
        description="Prefix for queries only; unset means the model's recommended one.",
    )
    embedding_batch_size: int = Field(default=32, ge=1)
    embedding_device: str = Field(default="cpu", description="cpu, cuda, cuda:0, mps or auto.")
    embedding_trust_remote_code: bool | None = Field(
        default=None, description="Unset means: as the known model requires."
    )

    # --- chunking ----------------------------------------------------------------
    chunk_size: int = Field(
        default=200, ge=16, description="Chunk size in the embedding model's tokens."
    )
    chunk_overlap: int = Field(default=40, ge=0)
    max_document_chars: int = Field(
        default=2_000_000, ge=1, description="Longer records are skipped as malformed."
    )
    ingest_summaries: bool = Field(
        default=False,
        description="Embed each chunk after a model's short summary of its document "
        "(summary-augmented chunking; one call to llm_base_url per document ingested).",
    )

    # --- sources -----------------------------------------------------------------
    pile_of_law_data_files: str = Field(
        default="hf://datasets/pile-of-law/pile-of-law/data/{split}.{subset}.jsonl.xz",
        description="Where pile-of-law's files are ({split}: train or validation; {subset}: "
        "the subset's file stem, e.g. uscode or courtlisteneropinions.*). A path without "
        "{subset} names r_legaladvice's files only.",
    )

    # --- retrieval ---------------------------------------------------------------
    retrieve_k: int = Field(
        default=16,
        ge=1,
        le=100,
        description="Most sources given per question (a source: one passage, or several "
        "adjacent ones merged); the context budget usually stops first.",
    )
    source_per_document: int = Field(
        default=8, ge=1, description="Most chunks one document may give to the sources."
    )
    source_diversity: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Maximal marginal relevance's weight on novelty when choosing sources "
        "(0: the ranking's order).",
    )
    max_question_chars: int = Field(default=2000, ge=10)
    retrieval_dense: bool = Field(default=True, description="Use the embedding index.")
    retrieval_bm25: bool = Field(default=True, description="Use BM25 over the same chunks.")
    retrieval_candidates: int = Field(
        default=40, ge=1, description="Chunks each stage hands to the fusion."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    jurisdiction_boost: bool = Field(
        default=True,
        description="Fuse a third ranking: candidates from the states the question names.",
    )
    jurisdiction_boost_weight: float = Field(default=0.5, gt=0, le=2)
    document_naming: bool = Field(
        default=True,
        description="Fuse a ranking of the chunks of the documents a question names "
        'by title, file name or party ("Consider Fiverr\'s privacy policy; ...").',
    )
    document_naming_weight: float = Field(default=1.0, gt=0, le=2)
    document_naming_rare_share: float = Field(
        default=0.01,
        gt=0,
        le=1,
        description="A word names a document when at most this share of the documents' "
        "names hold it.",
    )
    document_naming_max: int = Field(
        default=3, ge=1, description="A question naming more documents than this names none."
    )
    relevance_floor: float = Field(
        default=0.35,
        ge=-1.0,
        le=1.0,
        description="Best dense cosine below this: the sources do not address the question.",
    )
    reranker: Literal["none", "cross-encoder", "llm"] = Field(
        default="none", description="Optional stage after fusion."
    )
    reranker_model: str | None = Field(
        default=None, description="The cross-encoder to load (none ships offline)."
    )
    reranker_device: str | None = Field(
        default=None,
        description="Where the cross-encoder runs (cpu, cuda, ...); unset: as the embedder, "
        "cpu for auto.",
    )
    rerank_candidates: int = Field(default=20, ge=1, description="Fused chunks reranked.")
    support_check: Literal["offline", "llm", "nli"] = Field(
        default="offline",
        description="How citations' support is judged: offline score, the model itself, "
        "or an NLI cross-encoder's P(entailment) (support_nli_model).",
    )
    support_nli_model: str | None = Field(
        default=None,
        description="The NLI cross-encoder for support_check = nli (hub name or folder), "
        "e.g. cross-encoder/nli-deberta-v3-base; none ships offline.",
    )
    support_nli_labels: list[str] | None = Field(
        default=None,
        description='Its labels in the order of its logits, e.g. ["contradiction", '
        '"entailment", "neutral"]; unset: the model config\'s id2label.',
    )
    support_nli_device: str | None = Field(
        default=None,
        description="Where the NLI model runs (cpu, cuda, auto); unset: as the embedder.",
    )
    context_max_tokens: int = Field(
        default=3000, ge=100, description="Cap on the source text handed to the model."
    )
    llm_tokenizer: str | None = Field(
        default=None,
        description="The generator's tokenizer (hub name or folder) for the context cap; "
        "unset: tiktoken's cl100k_base.",
    )

    # --- generation (used by the answer engine) ----------------------------------
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."
    )
    llm_model: str | None = Field(
        default=None, description="Model name; unset means the first the endpoint lists."
    )
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="Deadline for one whole model call: the streamed answer and retries included.",
    )
    llm_retries: int = Field(default=2, ge=0, description="Retries when down or HTTP 5xx.")
    llm_retry_backoff_s: float = Field(default=0.5, ge=0, description="Doubling, between retries.")
    llm_down_recheck_s: float = Field(
        default=30.0, ge=0, description="Found down: calls this soon after try once, no retries."
    )
    # DeepSeek-R1's recommended sampling.
    llm_temperature: float = Field(default=0.6, ge=0, le=2)
    llm_top_p: float = Field(default=0.95, gt=0, le=1)
    llm_max_tokens: int = Field(
        default=4096, ge=16, description="Reasoning tokens count against this too."
    )

    # --- output ------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"

    # --- sky -----------------------------------------------------------------------
    # Read by the embedder; here to keep this change in one block. gte-Qwen2-7B-instruct
    # is published in float32 (~30 GB): bfloat16 halves that and runs on tensor cores.
    embedding_dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        default="auto",
        description="Precision the embedding model is loaded in; auto: as published.",
    )
    sky_ingest_yaml: Path = Field(
        default=Path("sky/ingest.yaml"),
        description="The task YAML `legalrag sky ingest` launches once per partition.",
    )
    sky_ingest_job_prefix: str = Field(
        default="legalrag-ingest",
        pattern=r"^[a-z][a-z0-9-]*$",
        description="Managed jobs are named <prefix>-<i>-of-<N>.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """CLI flags (init kwargs) > env > TOML > defaults."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _toml_file.get()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @model_validator(mode="after")
    def _check_stages(self) -> Settings:
        if not (self.retrieval_dense or self.retrieval_bm25):
            raise ValueError("retrieval_dense and retrieval_bm25 cannot both be off")
        if self.reranker == "cross-encoder" and not self.reranker_model:
            raise ValueError("reranker = cross-encoder needs reranker_model")
        if self.reranker == "llm" and not self.llm_base_url:
            raise ValueError("reranker = llm needs llm_base_url")
        if self.support_check == "llm" and not self.llm_base_url:
            raise ValueError("support_check = llm needs llm_base_url")
        if self.support_check == "nli" and not self.support_nli_model:
            raise ValueError("support_check = nli needs support_nli_model")
        labels = [label.strip().lower() for label in self.support_nli_labels or ["entailment"]]
        if "entailment" not in labels or len(set(labels)) != len(labels):
            raise ValueError("support_nli_labels must name 'entailment', each label once")
        if self.ingest_summaries and not self.llm_base_url:
            raise ValueError("ingest_summaries needs llm_base_url (the model that summarises)")
        return self

    @model_validator(mode="after")
    def _check_overlap(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"chunk_size ({self.chunk_size})"
            )
        return self

    @property
    def chroma_dir(self) -> Path:
        """The embedded Chroma folder."""
        return self.chroma_path or self.data_dir / "chroma"

    # --- typed groups (legalrag.settings_groups): what each part takes instead --------
    store = GroupView(StoreSettings)
    embedding = GroupView(EmbeddingSettings)
    retrieval = GroupView(RetrievalSettings)
    llm = GroupView(EndpointSettings, prefix="llm_")
    """The answering model's endpoint (``llm_*``)."""
    judge = GroupView(EndpointSettings, prefix="judge_")
    """The RAGAS judge's endpoint (``judge_*``)."""
    chat = GroupView(ChatSettings)
    eval = GroupView(EvalSettings)

    @property
    def reranker_device_name(self) -> str:
        """The cross-encoder's device: its own setting, else the embedder's (cpu for auto)."""
        if self.reranker_device:
            return self.reranker_device
        return "cpu" if self.embedding_device == "auto" else self.embedding_device

    @property
    def bm25_dir(self) -> Path:
        """Where the BM25 index cache lives."""
        return self.data_dir / "bm25"

    @property
    def logs_dir(self) -> Path:
        """Where run logs (e.g. the records an ingest skipped) are written."""
        return self.data_dir / "logs"

    @property
    def audit_log_path(self) -> Path:
        """Where the chat's audit lines go."""
        return self.audit_log or self.logs_dir / "audit.jsonl"

    def public_dict(self) -> dict[str, Any]:
        """The effective settings with secrets masked, for display."""
        shown: dict[str, Any] = {}
        # The core's fields first, then the chat's and eval's (declared in mixins).
        own = [name for name in type(self).__annotations__ if name in type(self).model_fields]
        for name in dict.fromkeys([*own, *type(self).model_fields]):
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            shown[name] = value
        shown["chroma_dir (derived)"] = str(self.chroma_dir)
        shown["audit_log_path (derived)"] = str(self.audit_log_path)
        return shown


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The TOML file to read: the explicit one, ``$LEGALRAG_CONFIG``, or ``./legalrag.toml``."""
    if explicit is not None:
        if not explicit.is_file():
            raise SettingsError(f"config file not found: {explicit}")
        return explicit
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise SettingsError(f"{CONFIG_ENV_VAR} names a missing file: {path}")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the effective settings; ``overrides`` are CLI flags (None means "not given")."""
    from pydantic import ValidationError

    flags = {key: value for key, value in overrides.items() if value is not None}
    token = _toml_file.set(find_config_file(config_file))
    try:
        return Settings(**flags)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
    finally:
        _toml_file.reset(token)
