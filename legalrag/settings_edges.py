"""The settings of the edges, the chat process and `legalrag eval`, declared apart.

:class:`~legalrag.settings.Settings` inherits these fields: they are read from the
same ``LEGALRAG_*`` variables and TOML keys as every other setting, with the same
precedence; only their declarations live here, beside the core's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

SESSION_SECRET_MIN_CHARS = 32
"""The shortest ``LEGALRAG_SESSION_SECRET`` accepted (``openssl rand -hex 32`` gives 64)."""


def default_chat_concurrency() -> int:
    """Two questions per usable core, at least 4.

    A turn's own work (retrieval, verification) is CPU-bound and short; most of its
    seconds are spent waiting on the model's stream, so two per core keeps the cores busy
    without queueing questions behind a slow model. Usable cores: this process's CPU
    affinity (a container's or taskset's share), not the machine's count.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not every platform has it
        cores = os.cpu_count() or 1
    return max(4, 2 * cores)


class ChatFields(BaseModel):
    """The chat process: listening, login, concurrency, follow-ups, probe, audit."""

    # --- chat --------------------------------------------------------------------
    chat_host: str = Field(
        default="127.0.0.1",
        description="Address `legalrag chat` listens on; 0.0.0.0 without auth gets a warning.",
    )
    chat_port: int = Field(default=7860, ge=1, le=65535)
    auth: SecretStr | None = Field(
        default=None,
        description="Login: a file of user:bcrypt-hash lines, or user:password pairs "
        "(comma-separated, for local use). Unset: no login, 127.0.0.1 only.",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs the login cookie; give every replica the same one. "
        "Unset: a random one per process (logins do not survive another replica).",
    )
    session_max_age_s: int = Field(default=12 * 3600, ge=60, description="Login lifetime.")
    session_dir: Path | None = Field(
        default=None,
        description="Where sign-outs are recorded (the revoked logins); default "
        "<data_dir>/sessions. Replicas must share it.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords for one user name before it is locked."
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="Wrong passwords from one client address before it is locked."
    )
    login_window_s: float = Field(
        default=900.0, gt=0, description="How far back wrong passwords are counted."
    )
    login_lockout_s: float = Field(
        default=60.0, gt=0, description="The first lockout; each further one doubles it."
    )
    login_lockout_max_s: float = Field(
        default=3600.0, gt=0, description="The longest lockout the doubling reaches."
    )
    session_https_only: bool = Field(
        default=False, description="Send the login cookie over HTTPS only (behind TLS)."
    )
    chat_concurrency: int = Field(
        default_factory=default_chat_concurrency,
        ge=1,
        description="Questions answered at once per process (Gradio's queue); default two "
        "per core this process may use, at least 4.",
    )
    chat_update_interval_s: float = Field(
        default=0.075,
        ge=0,
        description="Least time between two streamed updates of an answer (tokens are "
        "gathered in between; each update costs the page ~20 ms); 0: every token.",
    )
    chat_rewrite: Literal["auto", "llm", "offline"] = Field(
        default="auto",
        description="Follow-up rewriting: the model (auto: when an endpoint is set) or offline.",
    )
    chat_rewrite_max_tokens: int = Field(
        default=1024, ge=16, description="Reasoning tokens count against this too."
    )
    chat_history_turns: int = Field(
        default=3, ge=0, description="Earlier questions the follow-up rewriter sees."
    )
    chat_source_max_age_years: int = Field(
        default=5,
        ge=0,
        description="A source dated longer ago than this is marked 'older than N years' "
        "in the chat (0: never).",
    )
    health_query: str = Field(
        default="security deposit", min_length=1, description="The /healthz probe retrieval."
    )
    health_cache_s: float = Field(
        default=5.0,
        ge=0,
        description="How long /healthz answers with its last probe before probing again.",
    )
    audit: bool = Field(default=True, description="Write one audit line per answered question.")
    audit_required: bool = Field(
        default=True,
        description="Withhold an answer whose audit line cannot be written (off: show it, "
        "marked as not audited).",
    )
    audit_log: Path | None = Field(
        default=None, description="The audit log (JSON lines); default <data_dir>/logs/audit.jsonl."
    )
    export_font: Path | None = Field(
        default=None,
        description="A TrueType font for a conversation's PDF export (its -Bold twin beside "
        "it is used for bold); unset: DejaVu Sans where installed (fonts-dejavu-core), else "
        "Helvetica with the characters it lacks replaced.",
    )

    @field_validator("session_secret")
    @classmethod
    def _check_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # A short key can be guessed offline from one cookie; empty means "unset".
        length = len(value.get_secret_value()) if value is not None else 0
        if 0 < length < SESSION_SECRET_MIN_CHARS:
            raise ValueError(
                f"must be at least {SESSION_SECRET_MIN_CHARS} characters (it has {length}); "
                "make one with `openssl rand -hex 32`"
            )
        return value


class EvalFields(BaseModel):
    """The RAGAS judge's endpoint and what `legalrag eval` measures."""

    # --- eval --------------------------------------------------------------------
    judge_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint of the RAGAS judge; unset: RAGAS is skipped.",
    )
    judge_model: str | None = Field(
        default=None, description="Judge model name; unset means the first the endpoint lists."
    )
    judge_api_key: SecretStr | None = None
    judge_timeout_s: float = Field(default=180.0, gt=0, description="Per judge request.")
    judge_retries: int = Field(default=1, ge=0, description="Retries when down or HTTP 5xx.")
    judge_max_tokens: int = Field(
        default=4096, ge=64, description="Per judge reply; a reasoning judge needs room."
    )
    eval_k: int = Field(
        default=10, ge=1, le=200, description="Cut-off of recall@k, precision@k and nDCG@k."
    )
    # LegalBench-RAG's own protocol (Pipitone & Houir Alami, 2024, Table 3): kept as
    # its default so that our span figures line up with the published table.
    eval_span_k: list[int] = Field(
        default=[1, 2, 4, 8, 16, 32, 64],
        min_length=1,
        description="Cut-offs of character-level span precision/recall (LegalBench-RAG).",
    )
    eval_budget_chars: list[int] = Field(
        default=[2_000, 8_000, 32_000],
        min_length=1,
        description="Budget recall cut-offs: gold characters within the first N characters "
        "of the sources `retrieve` hands over.",
    )
    eval_answers: bool = Field(
        default=True, description="Generate and verify answers (off: retrieval metrics only)."
    )
    eval_verifier: bool = Field(
        default=True,
        description="Also plant errors of known kinds into answers built from each question's "
        "sources and report how many the citation verifier catches, per kind, and how many "
        "correct sentences it flags (docs/verification.md).",
    )
    eval_out_dir: Path = Field(
        default=Path("eval-report"), description="Where report.json, report.md, rows go."
    )

    @field_validator("judge_base_url")
    @classmethod
    def _check_judge_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @field_validator("eval_span_k", "eval_budget_chars")
    @classmethod
    def _check_span_k(cls, value: list[int]) -> list[int]:
        if any(k < 1 for k in value):
            raise ValueError("every k must be at least 1")
        return sorted(set(value))
