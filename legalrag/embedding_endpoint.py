"""An :class:`~legalrag.embedding.Embedder` served over HTTP: OpenAI's ``/v1/embeddings``.

vLLM (``--runner pooling --trust-remote-code`` for gte-Qwen2-7B-instruct), TEI, Ollama
and llama.cpp all speak it, so a GPU replica embeds for every CPU process (ingest, the
chat, the API, verification) instead of each loading a 7B model on its CPU.

What stays local: the tokenizer (chunking and the context budget count tokens without
a round trip) and the query instruction (the server embeds what it is sent, so the
gte-Qwen2 ``Instruct: … Query:`` prefix is added here, as the local embedder adds it).
Vectors are L2-normalised here whatever the server does, so the index's cosine space
and dot products agree with the local embedder's.

Every failure is one :class:`~legalrag.errors.EmbeddingEndpointError` line (exit 3):
down or too slow (after ``embedding_retries`` retries with doubling backoff), an HTTP
error, or garbage: not JSON (a web page at a wrong URL), the wrong number of vectors,
another dimension than the first answer's, a NaN or a zero vector.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from legalrag.embedding import known_model
from legalrag.errors import EmbeddingEndpointError, EmbeddingModelError

if TYPE_CHECKING:
    from legalrag.settings_groups import EmbeddingSettings

# Statuses worth a retry: the server is busy or restarting; any other 4xx will not change.
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_PROBE_TEXT = "dimension probe"
_HUGE = 1_000_000  # a tokenizer's model_max_length when the model set none


def _local_tokenizer(name: str) -> tuple[Any, int | None]:
    """The model's tokenizer from disk (the bundled copy, a folder or the HF cache) and
    sentence-transformers' max_seq_length when its config is there."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    known = known_model(name)
    if known is not None and known.bundled_path is not None:
        location = str(known.bundled_path)
    elif Path(name).expanduser().is_dir():
        location = str(Path(name).expanduser())
    else:
        location = known.name if known else name
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            location, trust_remote_code=bool(known and known.trust_remote_code)
        )
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(
            f"cannot load the tokenizer of {name!r} (token counts stay local; offline? "
            f"not on disk?): {exc}"
        ) from None
    config = Path(location) / "sentence_bert_config.json"
    seq = json.loads(config.read_text())["max_seq_length"] if config.is_file() else None
    return tokenizer, seq


class EndpointEmbedder:
    """Vectors from an OpenAI-compatible ``/v1/embeddings`` endpoint; tokens counted here."""

    def __init__(self, group: EmbeddingSettings, *, transport: httpx.BaseTransport | None = None):
        if not group.base_url:
            raise EmbeddingModelError("an endpoint embedder needs embedding_base_url")
        known = known_model(group.model)
        self.model_name = known.name if known else group.model
        self.served_model = group.served_model or self.model_name
        self.query_instruction = (
            group.query_instruction
            if group.query_instruction is not None
            else (known.query_instruction if known else "")
        )
        self.batch_size = group.batch_size
        self.retries = group.retries
        self.backoff_s = group.retry_backoff_s
        self.url = group.base_url.rstrip("/") + "/embeddings"
        headers = {}
        if group.api_key is not None and group.api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {group.api_key.get_secret_value()}"
        self._client = httpx.Client(
            timeout=httpx.Timeout(group.timeout_s), headers=headers, transport=transport
        )
        self._tokenizer, seq_length = _local_tokenizer(group.model)
        with_special = len(self._tokenizer("x", add_special_tokens=True)["input_ids"])
        without = len(self._tokenizer("x", add_special_tokens=False)["input_ids"])
        limit = group.max_tokens or seq_length or self._tokenizer.model_max_length
        self.max_tokens = int(min(limit, _HUGE)) - (with_special - without)
        self.dimension = 0  # set by the probe: the first answer's length is the model's
        self.dimension = len(self._embed([_PROBE_TEXT])[0])

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model, special tokens excluded (local tokenizer)."""
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised vectors for passages, ``batch_size`` texts per request."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed(list(texts[start : start + self.batch_size])))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """A normalised vector for a question, the query instruction added here."""
        return self._embed([self.query_instruction + text])[0]

    def health(self) -> str | None:
        """None when the endpoint embeds one short text correctly, else the reason."""
        try:
            self._embed([_PROBE_TEXT], retries=0)
        except EmbeddingEndpointError as exc:
            return str(exc)
        return None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    # --- one request ------------------------------------------------------------------

    def _embed(self, texts: list[str], retries: int | None = None) -> list[list[float]]:
        body = {"model": self.served_model, "input": texts, "encoding_format": "float"}
        response = self._post(body, self.retries if retries is None else retries)
        return self._vectors(response, len(texts))

    def _post(self, body: dict[str, Any], retries: int) -> httpx.Response:
        problem = ""
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TimeoutException:
                problem = f"no answer within {self._client.timeout.read:g} s"
                continue
            except httpx.TransportError as exc:
                problem = f"cannot connect ({type(exc).__name__}: {exc})"
                continue
            if response.status_code in _RETRY_STATUSES:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise self._error(f"HTTP {response.status_code}: {_snippet(response)}")
            return response
        tries = f" after {retries + 1} tries" if retries else ""
        raise self._error(f"{problem}{tries}")

    def _vectors(self, response: httpx.Response, expected: int) -> list[list[float]]:
        try:
            payload = response.json()
            rows = sorted(payload["data"], key=lambda row: row.get("index", 0))
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (ValueError, KeyError, TypeError, AttributeError):
            kind = response.headers.get("content-type", "?").split(";")[0]
            raise self._error(
                f"the answer is not an embeddings response ({kind}: {_snippet(response)}); "
                "is embedding_base_url the server's /v1?"
            ) from None
        if len(vectors) != expected:
            raise self._error(f"{len(vectors)} vectors for {expected} texts")
        normalised = []
        for vector in vectors:
            if self.dimension and len(vector) != self.dimension:
                raise self._error(
                    f"a {len(vector)}-dimensional vector from a {self.dimension}-dimensional model"
                )
            norm = math.sqrt(math.fsum(x * x for x in vector))
            if not math.isfinite(norm) or norm == 0.0:
                raise self._error("a vector that is NaN, infinite or zero")
            normalised.append([x / norm for x in vector])
        return normalised

    def _error(self, problem: str) -> EmbeddingEndpointError:
        return EmbeddingEndpointError(f"embeddings endpoint {self.url}: {problem}")


def _snippet(response: httpx.Response) -> str:
    """The first line of a body, short, for a one-line error."""
    text = " ".join(response.text.split())
    return text[:120] + ("…" if len(text) > 120 else "")
