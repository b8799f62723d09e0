"""The settings of production serving, declared apart: the embeddings endpoint and
the HTTP API (``legalrag serve``).

:class:`~legalrag.settings.Settings` inherits these fields, read from the same
``LEGALRAG_*`` variables, TOML keys and flags as every other setting; the embedding
ones reach the embedder through ``settings.embedding`` (``EmbeddingSettings``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator


class ServingFields(BaseModel):
    """An embeddings endpoint instead of a local model; where the API listens, who may call it."""

    # An OpenAI-compatible /v1/embeddings server (vLLM --runner pooling, TEI, Ollama,
    # llama.cpp) instead of loading the model here (legalrag/embedding_endpoint.py).
    embedding_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible embeddings endpoint (…/v1); unset: load the model here.",
    )
    embedding_api_key: SecretStr | None = Field(default=None, repr=False)
    embedding_served_model: str | None = Field(
        default=None, description="The name the endpoint serves; unset: embedding_model."
    )
    embedding_timeout_s: float = Field(default=30.0, gt=0)
    embedding_retries: int = Field(default=2, ge=0)
    embedding_retry_backoff_s: float = Field(default=0.5, ge=0)
    embedding_max_tokens: int | None = Field(
        default=None, ge=8, description="Tokens one input may hold; unset: the model's own."
    )

    # --- the Chroma server over TLS (sky/chroma.yaml: nginx in front of `chroma run`)
    chroma_ca_file: Path | None = Field(
        default=None,
        description="CA certificate(s), PEM, that an https:// LEGALRAG_CHROMA_URL's "
        "certificate must chain to (a self-signed server's own cert.pem); unset: the "
        "system's CAs.",
    )

    # --- the HTTP API (app/api/) ----------------------------------------------------
    api_host: str = Field(
        default="127.0.0.1",
        description="Address `legalrag serve` listens on; not loopback: LEGALRAG_AUTH needed.",
    )
    api_port: int = Field(
        default=8000, ge=1, le=65535, description="Port `legalrag serve` listens on."
    )
    api_tokens: Path | None = Field(
        default=None,
        description="The API's token hashes (`legalrag auth token USER` adds one), each "
        "good while its user is in LEGALRAG_AUTH; unset: <data_dir>/api_tokens.",
    )
    api_max_history_turns: int = Field(
        default=20, ge=0, description="Most earlier turns a request may carry."
    )

    # --- the firm's own records: matters and saved conversations (legalrag/database.py)
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of matters and saved conversations (postgresql://… for "
        "several replicas); unset: SQLite at <data_dir>/legalrag.db.",
    )

    @field_validator("chroma_ca_file", mode="before")
    @classmethod
    def _empty_ca_file(cls, value: object) -> object:
        return None if value == "" else value  # a YAML's empty env means unset

    @field_validator("chroma_ca_file")
    @classmethod
    def _check_ca_file(cls, value: Path | None) -> Path | None:
        # Checked here, not at the first request: a typo would read as "server down".
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file")
        return value

    @field_validator("embedding_base_url")
    @classmethod
    def _check_embedding_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None
